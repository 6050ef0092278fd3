"""outbox claim index: delivery walks queued rows by id, one claim at a time

Without (state, id) each claim sorted every queued row: sending 10,000 was quadratic.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:28:43.521489
"""
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_state_id', ['state', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_state_id')
