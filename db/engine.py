"""Engines and sessions. SQLite by default (WAL, foreign keys on); any SQLAlchemy URL works."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker



class BadDatabaseUrl(ValueError):
    pass


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise BadDatabaseUrl(f"{url!r} is not a database URL: expected e.g. sqlite:///var/tracker.sqlite "
                             "or postgresql+psycopg://user:pass@host:5432/tracker") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise BadDatabaseUrl(f"{parsed.render_as_string(hide_password=True)}: {parsed.get_backend_name()} is not "
                             "supported; use sqlite:///PATH or postgresql+psycopg://user:pass@host:5432/DB")
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # pragma: no cover - exercised by every test
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, the driver we install
    try:
        return create_engine(parsed, pool_pre_ping=True)
    except ImportError as exc:
        raise BadDatabaseUrl(f"{parsed.render_as_string(hide_password=True)}: its driver is not installed "
                             f"({exc.name or exc})") from None


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names; None for another system, an in-memory database, a ``file:`` URI or a URL
    that does not parse (``make_engine`` says what is wrong with it)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:" \
            or parsed.query.get("uri") or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def connect_error(engine: Engine, exc: Exception) -> str:
    """One line naming the server and the reason it could not be reached."""
    url = engine.url
    where = url.database if url.get_backend_name() == "sqlite" else f"{url.host or 'localhost'}:{url.port or 5432}"
    reason = " ".join(str(getattr(exc, "orig", exc) or exc).split())
    return f"cannot reach the database at {where}: {reason[:300]}"


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
