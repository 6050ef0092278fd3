"""bills.archive_matched_at: when the articles already stored were matched against a bill that became tracked
(a new draft, an accepted successor, ``tracker track``); NULL until the next poll does it, so the bills followed
before this revision are matched against the archive once too

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa
import db.types


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bills') as batch:
        batch.add_column(sa.Column('archive_matched_at', db.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bills') as batch:
        batch.drop_column('archive_matched_at')
