"""outbox claimed_by: which worker claimed the message being sent

A worker killed mid-send left its claim to wait for ``mail.stale_claim``; with the claimant's
name (``db.liveness``) a restarted worker on the same machine sees it is dead and sends
the message again at once.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:20:30.666731
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('claimed_by')
