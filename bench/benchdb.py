"""The database a benchmark runs on: a SQLite file (the default) or a fresh database on a server.

Shared by ``crawl_bench.py``, ``feed_bench.py`` and ``send_bench.py`` (each imports it as
``benchdb``: ``python bench/X.py`` puts ``bench/`` first on ``sys.path``). Only the standard library
is imported at module level; SQLAlchemy is imported inside the functions that need it, so that
``send_bench.py``'s orchestrating parent can import this module and stay small.

With a server URL (``--db-url postgresql+psycopg://USER@HOST:PORT/postgres``) the database named in
the URL is only the maintenance database to connect to: an AUTOCOMMIT engine on it runs
``CREATE DATABASE "bench_<kind>_<UTC time>_<pid>"``, the benchmark runs ``db.migrate.upgrade`` on the
new database, and ``DROP DATABASE ... WITH (FORCE)`` removes it at the end unless it is kept.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

PREFIX = "bench_"


def is_server_url(url: str) -> bool:
    """True for a database server's URL (postgresql://...), False for SQLite."""
    return not url.split(":", 1)[0].split("+", 1)[0].lower() == "sqlite"


def redact(url: str) -> str:
    """The URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _admin(server_url: str):
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    parsed = make_url(server_url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # as db.engine.make_engine does
    return create_engine(parsed, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def create_database(server_url: str, kind: str) -> tuple[str, str]:
    """Create a fresh, empty database ``bench_<kind>_<UTC time>_<pid>`` on the server of
    ``server_url``; return (its URL, its name)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    name = f"{PREFIX}{kind}_{time.strftime('%Y%m%d_%H%M%S', time.gmtime())}_{os.getpid()}"
    admin = _admin(server_url)
    try:
        quoted = admin.dialect.identifier_preparer.quote(name)
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        admin.dispose()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    return url, name


def drop_database(server_url: str, name: str) -> None:
    """``DROP DATABASE IF EXISTS`` (``WITH (FORCE)`` on PostgreSQL, which ends leftover sessions).
    Only ever drops a database whose name starts with ``bench_``."""
    from sqlalchemy import text

    if not name.startswith(PREFIX):
        raise ValueError(f"refusing to drop {name!r}: not a benchmark database ({PREFIX}...)")
    admin = _admin(server_url)
    try:
        quoted = admin.dialect.identifier_preparer.quote(name)
        force = " WITH (FORCE)" if admin.dialect.name == "postgresql" else ""
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {quoted}{force}"))
    finally:
        admin.dispose()


def describe(engine) -> dict:
    """The backend of an engine: name, server (or library) version, driver, where."""
    from sqlalchemy import text

    url = engine.url
    info = {"backend": engine.dialect.name, "driver": engine.dialect.driver}
    if engine.dialect.name == "sqlite":
        info.update(version=sqlite3.sqlite_version, where=url.database, label=f"SQLite {sqlite3.sqlite_version}")
        return info
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            version = conn.execute(text("SHOW server_version")).scalar_one()
            settings = {k: conn.execute(text(f"SHOW {k}")).scalar_one()
                        for k in ("shared_buffers", "synchronous_commit", "fsync", "full_page_writes",
                                  "max_connections")}
            info["settings"] = settings
        else:
            version = ".".join(map(str, engine.dialect.server_version_info or ()))
    driver_version = ""
    try:
        from importlib.metadata import version as pkg_version

        driver_version = " " + pkg_version(engine.dialect.driver)
    except Exception:  # only a label
        pass
    pretty = {"postgresql": "PostgreSQL"}.get(engine.dialect.name, engine.dialect.name)
    where = f"{url.host or 'localhost'}:{url.port or ''}".rstrip(":")
    info.update(version=version, where=f"{where}/{url.database}",
                label=f"{pretty} {version} (server at {where}, {engine.dialect.driver}{driver_version})")
    return info


def settings_note(info: dict) -> str:
    """"; server settings k=v, ..." for a server, "" for SQLite."""
    settings = info.get("settings")
    return "; server settings " + ", ".join(f"{k}={v}" for k, v in settings.items()) if settings else ""


def size_bytes(engine, sqlite_path: Path | None = None) -> int:
    """The database's size: the SQLite file and its WAL, or ``pg_database_size`` on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        path = Path(sqlite_path or engine.url.database)
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    if engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with engine.connect() as conn:
            return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
    return 0


def _proc_cpu_s(pid: int) -> float | None:
    """utime + stime of a local process from /proc/PID/stat, or None when it is gone or not local."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_cpu(engine) -> dict[int, float]:
    """PostgreSQL only, server on this machine: {pid: CPU s so far} of every server backend connected
    to this engine's database (pg_stat_activity), read from /proc. Empty for SQLite or a remote server."""
    if engine.dialect.name != "postgresql" or (engine.url.host or "localhost") not in ("localhost", "127.0.0.1", "::1"):
        return {}
    from sqlalchemy import text

    with engine.connect() as conn:
        pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).scalars()
        out = {}
        for pid in pids:
            cpu = _proc_cpu_s(pid)
            if cpu is not None:
                out[pid] = cpu
    return out


def backend_cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU s the backends used between two ``backend_cpu`` readings. A lower bound: a backend that
    both started and ended between the readings is not seen."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


class SqlCounter:
    """Counts the SQL statements (an executemany is one) and commits an engine runs between enter and
    exit, with SQLAlchemy's ``before_cursor_execute`` and ``commit`` engine events, and the pings of
    ``pool_pre_ping`` (one more round trip at every connection checkout, which no event reports)."""

    def __init__(self, engine):
        self.engine = engine
        self.statements = self.executemany = self.commits = self.pings = 0

    def _execute(self, conn, cursor, statement, parameters, context, executemany):
        self.statements += 1
        self.executemany += bool(executemany)

    def _commit(self, conn):
        self.commits += 1

    def __enter__(self) -> "SqlCounter":
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._execute)
        event.listen(self.engine, "commit", self._commit)
        dialect = self.engine.dialect
        real_ping = dialect.do_ping

        def do_ping(dbapi_connection):
            self.pings += 1
            return real_ping(dbapi_connection)

        dialect.do_ping = do_ping  # an instance attribute, removed again on exit
        return self

    def __exit__(self, *exc) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._execute)
        event.remove(self.engine, "commit", self._commit)
        self.engine.dialect.__dict__.pop("do_ping", None)


class BenchDatabase:
    """The database of one benchmark run, as a context manager.

    - ``server_url`` given: a fresh database on that server (``create_database``), dropped on exit
      unless ``keep``;
    - else ``path`` given: that SQLite file (it must not exist yet), kept;
    - else a SQLite file in a new temporary directory, removed on exit unless ``keep``.
    """

    def __init__(self, kind: str, *, path: Path | None = None, server_url: str | None = None, keep: bool = False):
        self.kind, self.server_url, self.keep = kind, server_url, keep
        self.path = path.resolve() if path is not None else None
        self.tmpdir: Path | None = None
        self.name: str | None = None
        self.url = ""

    @property
    def is_sqlite(self) -> bool:
        return self.server_url is None

    def __enter__(self) -> "BenchDatabase":
        if self.server_url is not None:
            self.url, self.name = create_database(self.server_url, self.kind)
        else:
            if self.path is None:
                self.tmpdir = Path(tempfile.mkdtemp(prefix=f"{self.kind}-bench-"))
                self.path = self.tmpdir / "bench.sqlite"
            self.url = f"sqlite:///{self.path}"
        return self

    def where(self) -> str:
        return str(self.path) if self.is_sqlite else redact(self.url)

    def __exit__(self, *exc) -> None:
        if self.server_url is not None and self.name:
            if self.keep:
                print(f"kept the database {redact(self.url)}")
            else:
                try:
                    drop_database(self.server_url, self.name)
                except Exception as err:  # say so, without hiding the benchmark's own error
                    print(f"could not drop the database {self.name}: {err}")
        elif self.tmpdir is not None:
            if self.keep:
                print(f"kept the database {self.path}")
            else:
                shutil.rmtree(self.tmpdir, ignore_errors=True)
