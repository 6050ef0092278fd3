"""articles.fingerprint: each article's story fingerprint stored with it, so that a poll's story index reads it
instead of fingerprinting every article of the last week again (2 s of a 5.6 s poll at 50,000 articles).
Existing rows stay NULL: the index computes theirs from the text, as before (no UPDATE here: on SQLite each
would run the full-text trigger; they leave the 7-day window soon).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('articles', sa.Column('fingerprint', sa.Text(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite >= 3.35 drops a column in place; batch mode would rebuild the table without its FTS triggers
        op.execute('ALTER TABLE articles DROP COLUMN fingerprint')
    else:
        op.drop_column('articles', 'fingerprint')
