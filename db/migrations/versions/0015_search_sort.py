"""search on PostgreSQL: an index on the articles' sort key (newest first), and a longer list of common lexemes
in the statistics of ``search_vector``

The search lists articles by ``COALESCE(published_at, first_seen_at) DESC, id DESC``. Without an index on that
key, PostgreSQL answers a broad query (a word in most articles) by scanning the whole table and sorting: 1.3 s at
1,000,000 articles. With it, the planner walks the index newest first and stops after the page (about 3 ms).
With the default statistics target (100), a word outside the ~1,000 most common lexemes is estimated at
thousands of rows, so the planner would walk the index for rare words too and read far more than a bitmap scan;
a target of 1000 keeps the estimate of rare words low, and the planner picks the bitmap scan for them.

SQLite is unchanged: its search takes the page of ids from the FTS5 table first (db/search.py) and is not helped
by this index without a different statement.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

PG_UP = [
    "CREATE INDEX ix_articles_sort ON articles ((COALESCE(published_at, first_seen_at)) DESC, id DESC)",
    "ALTER TABLE articles ALTER COLUMN search_vector SET STATISTICS 1000",
    "ANALYZE articles",
]
PG_DOWN = [
    "ALTER TABLE articles ALTER COLUMN search_vector SET STATISTICS -1",
    "DROP INDEX IF EXISTS ix_articles_sort",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_UP:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_DOWN:
            op.execute(statement)
