"""Alembic driven from code, so ``tracker init`` and the tests share one path."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FTS_PREFIXES = ("articles_fts", "bill_actions_fts", "documents_fts", "bill_text_chunks_fts")
PG_SEARCH = {"search_vector", "ix_articles_search", "ix_bill_actions_search", "ix_documents_search",
             "ix_bill_text_chunks_search", "ix_articles_sort"}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Leave the full-text machinery (raw SQL in the migrations: SQLite's FTS5 tables, PostgreSQL's
    tsvector columns and their indexes) out of model comparisons."""
    if type_ == "table" and name and name.startswith(FTS_PREFIXES):
        return False
    return not (type_ in ("column", "index") and name in PG_SEARCH)


def alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
