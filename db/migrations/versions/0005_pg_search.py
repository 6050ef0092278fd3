"""PostgreSQL full-text search: stored tsvector columns with GIN indexes (SQLite has FTS5 since 0002)

Words are folded like SQLite's ``unicode61 remove_diacritics 2`` tokenizer: lower case,
accents removed (``unaccent``), every run of non-word characters a separator, so
``H.135`` is the two words ``h`` and ``135`` on both backends and a query finds the
same rows on either.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

FOLD = "public.tracker_fold"
UPGRADE = [
    "CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public",
    # unaccent() is only STABLE; a generated column needs IMMUTABLE, which holds for a fixed dictionary
    f"CREATE OR REPLACE FUNCTION {FOLD}(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
    "$$ SELECT regexp_replace(lower(public.unaccent('public.unaccent'::regdictionary, coalesce($1, ''))), "
    "'[^[:alnum:]]+', ' ', 'g') $$",
    "ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', "
    f"{FOLD}(title) || ' ' || {FOLD}(summary_text) || ' ' || {FOLD}(full_text))) STORED",
    "CREATE INDEX ix_articles_search ON articles USING gin (search_vector)",
    "ALTER TABLE bill_actions ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    f"(to_tsvector('simple', {FOLD}(action))) STORED",
    "CREATE INDEX ix_bill_actions_search ON bill_actions USING gin (search_vector)",
]
DOWNGRADE = [
    "DROP INDEX IF EXISTS ix_bill_actions_search",
    "ALTER TABLE bill_actions DROP COLUMN IF EXISTS search_vector",
    "DROP INDEX IF EXISTS ix_articles_search",
    "ALTER TABLE articles DROP COLUMN IF EXISTS search_vector",
    f"DROP FUNCTION IF EXISTS {FOLD}(text)",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWNGRADE:
            op.execute(statement)
