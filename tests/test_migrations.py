from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect

from db.engine import make_engine
from db.migrate import current_revision, downgrade, head_revision, include_object, upgrade
from db.models import Base
from tracker.cli import main


def test_init_creates_the_tables_and_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'sub' / 't.sqlite'}"
    runner = CliRunner()
    first = runner.invoke(main, ["--db", url, "init"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(main, ["--db", url, "init"])
    assert second.exit_code == 0 and "already up to date" in second.output
    engine = make_engine(url)
    names = set(inspect(engine).get_table_names())
    assert {"bills", "bill_actions", "hearings", "snapshots", "events", "feeds", "articles", "article_sources",
            "article_bills", "clusters", "articles_fts", "bill_actions_fts", "committees", "legislators",
            "subscribers", "subscriptions", "outbox", "deliveries", "runs", "leases"} <= names
    assert current_revision(engine) == head_revision(engine)


def test_models_match_the_migrations(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": include_object})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_downgrade_one_step_and_upgrade_again(engine):
    def outbox_indexes():
        return {ix["name"] for ix in inspect(engine).get_indexes("outbox")}
    def article_triggers():
        with engine.connect() as conn:
            return set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                            "AND tbl_name = 'articles'").scalars())
    sqlite = engine.dialect.name == "sqlite"
    triggers = article_triggers() if sqlite else set()
    assert "workers" in inspect(engine).get_table_names()
    downgrade(engine, "-1")
    assert "workers" not in inspect(engine).get_table_names()
    assert "fingerprint" in _columns(engine, "articles")
    downgrade(engine, "-1")
    assert "fingerprint" not in _columns(engine, "articles")
    if sqlite:  # the column is dropped in place: the full-text triggers stay
        assert triggers and article_triggers() == triggers
    assert "rate_limits" in inspect(engine).get_table_names()
    downgrade(engine, "-1")
    assert "rate_limits" not in inspect(engine).get_table_names()
    assert {"ask_responses", "ask_letters", "failing_addresses"} <= set(inspect(engine).get_table_names())
    assert "ix_outbox_to_sent" in outbox_indexes()
    sort_index = engine.dialect.name == "postgresql"  # 0015 is for PostgreSQL's planner only
    assert ("ix_articles_sort" in {ix["name"] for ix in inspect(engine).get_indexes("articles")}) == sort_index
    downgrade(engine, "-1")
    assert "ix_articles_sort" not in {ix["name"] for ix in inspect(engine).get_indexes("articles")}
    downgrade(engine, "-1")
    assert {"ask_responses", "ask_letters", "failing_addresses"}.isdisjoint(inspect(engine).get_table_names())
    assert "ix_outbox_to_sent" not in outbox_indexes()
    assert "bill_text_versions" in inspect(engine).get_table_names() and "text_checked_at" in _columns(engine, "bills")
    downgrade(engine, "-1")
    assert {"bill_text_blobs", "bill_text_versions", "bill_text_chunks", "bill_text_chunks_fts"}.isdisjoint(
        inspect(engine).get_table_names()) and "text_empty_since" not in _columns(engine, "bills")
    assert "throttled_until" in _columns(engine, "bills") and "throttled_until" in _columns(engine, "feeds")
    downgrade(engine, "-1")
    assert "throttled_until" not in _columns(engine, "bills") and "throttled_until" not in _columns(engine, "feeds")
    assert "successors" in inspect(engine).get_table_names() and "archive_matched_at" in _columns(engine, "bills")
    downgrade(engine, "-1")
    assert "archive_matched_at" not in _columns(engine, "bills") and "successors" in inspect(engine).get_table_names()
    downgrade(engine, "-1")
    assert {"successors", "similar_lists"}.isdisjoint(inspect(engine).get_table_names())
    assert "position" in _columns(engine, "bills") and "documents" in inspect(engine).get_table_names()
    downgrade(engine, "-1")
    assert "position" not in _columns(engine, "bills") and "documents" not in inspect(engine).get_table_names()
    assert "documents_fts" not in inspect(engine).get_table_names()
    assert "claimed_by" in _columns(engine, "outbox")
    downgrade(engine, "-1")
    assert "claimed_by" not in _columns(engine, "outbox") and "claimed_at" in _columns(engine, "outbox")
    assert "ix_outbox_state_id" in outbox_indexes()  # batch mode rebuilt the table (SQLite) with its indexes
    downgrade(engine, "-1")
    assert "ix_outbox_state_id" not in outbox_indexes() and "ix_outbox_state_next" in outbox_indexes()
    downgrade(engine, "-1")
    names = inspect(engine).get_table_names()
    assert "leases" not in names and "runs" in names
    upgrade(engine)
    assert "leases" in inspect(engine).get_table_names() and "ix_outbox_state_id" in outbox_indexes()
    assert "claimed_by" in _columns(engine, "outbox") and "position" in _columns(engine, "bills")
    assert "successors" in inspect(engine).get_table_names() and "archive_matched_at" in _columns(engine, "bills")
    assert "throttled_until" in _columns(engine, "feeds") and "bill_text_versions" in inspect(engine).get_table_names()
    assert "fingerprint" in _columns(engine, "articles") and "workers" in inspect(engine).get_table_names()


def _columns(engine, table):
    return {c["name"] for c in inspect(engine).get_columns(table)}


def test_downgrade_each_revision_in_turn(engine):
    postgres = engine.dialect.name == "postgresql"
    assert ("search_vector" in _columns(engine, "articles")) == postgres
    downgrade(engine, "0004")
    assert "leases" not in inspect(engine).get_table_names() and "search_vector" not in _columns(engine, "articles")
    downgrade(engine, "0003")
    assert "runs" not in inspect(engine).get_table_names()
    downgrade(engine, "0002")
    names = inspect(engine).get_table_names()
    assert "outbox" not in names and "subscribers" not in names and "articles" in names
    downgrade(engine, "0001")
    names = inspect(engine).get_table_names()
    assert "articles" not in names and "articles_fts" not in names and "bills" in names
    upgrade(engine)
    names = set(inspect(engine).get_table_names())
    assert {"articles", "outbox", "deliveries", "committees", "runs", "leases"} <= names
    assert ("articles_fts" in names) == (not postgres)
    assert ("search_vector" in _columns(engine, "bill_actions")) == postgres


def test_downgrade_and_upgrade_again(engine):
    downgrade(engine, "base")
    assert "bills" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert "events" in inspect(engine).get_table_names()


def test_commands_refuse_an_uninitialised_database(tmp_path):
    result = CliRunner().invoke(main, ["--db", f"sqlite:///{tmp_path / 'x.sqlite'}", "bills"])
    assert result.exit_code == 2
    assert "run `tracker init`" in result.output


def test_bad_database_url_is_usage_error():
    result = CliRunner().invoke(main, ["--db", "not a url", "init"])
    assert result.exit_code == 2 and "not a database URL" in result.output


def test_an_unreachable_database_server_is_one_line_naming_it(tmp_path):
    result = CliRunner().invoke(main, ["--db", "postgresql://tracker:s3cret@127.0.0.1:1/tracker", "init"])
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith("tracker: cannot reach the database at 127.0.0.1:1: ") and "refused" in line
    assert "s3cret" not in line


def test_an_unsupported_database_is_a_usage_error():
    result = CliRunner().invoke(main, ["--db", "mysql://u@db.example.org/tracker", "bills"])
    assert result.exit_code == 2 and "mysql is not supported" in result.output
