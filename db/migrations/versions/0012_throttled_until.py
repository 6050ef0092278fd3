"""throttled_until on bills and feeds: when the site last asked us to wait, until when (``tracker status``
says a source is throttled, not ok, while it waits)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10
"""
from alembic import op
import sqlalchemy as sa
import db.types


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('bills', 'feeds'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('throttled_until', db.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in ('feeds', 'bills'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('throttled_until')
