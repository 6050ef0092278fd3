"""leases: one worker at a time runs each scheduled job

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 19:24:38.841836
"""
from alembic import op
import sqlalchemy as sa
import db.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('leases',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('expires_at', db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('leases')
