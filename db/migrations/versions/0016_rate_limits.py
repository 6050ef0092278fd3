"""rate_limits: the sign-up and letter limits (per client address, per email address) in the database, so that the
workers of ``tracker serve --workers N`` enforce them together instead of each allowing the limit

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa
import db.types


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rate_limits',
        sa.Column('key', sa.String(length=400), nullable=False),
        sa.Column('hits', sa.JSON(), nullable=False),
        sa.Column('updated_at', db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_index(op.f('ix_rate_limits_updated_at'), 'rate_limits', ['updated_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_rate_limits_updated_at'), table_name='rate_limits')
    op.drop_table('rate_limits')
