"""``tracker backup`` and ``tracker restore``: the whole database in one file, and back into an empty database.

A backup holds subscribers' addresses and the letters they wrote, so its file is created with mode 0600 (by
``os.open`` with that mode: it is never readable by others, not even while it is written), under a temporary
name next to PATH, and renamed into place only once it is whole: a backup that fails leaves no half file.

- SQLite: the online backup API (``sqlite3.Connection.backup``) copies the database in one step, inside one
  read transaction: a consistent snapshot while ``tracker run`` and ``tracker serve`` go on writing (WAL lets
  them). Restore copies it back the same way into a new file (also written aside and renamed).
- PostgreSQL: ``pg_dump --format=custom`` (one snapshot of its own: a repeatable-read transaction), written
  into the 0600 file we opened; ``pg_restore --single-transaction`` restores all of it or nothing. The
  client must be of the server's major version or newer: the one in ``/usr/lib/postgresql/N/bin`` of the
  server's version is preferred, then ``pg_dump`` on PATH.

Restore refuses a database that holds any table (even one ``tracker init`` made): a restore never mixes with
or overwrites data. Errors are ``BackupError`` with a message that says what to do.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from tracker.application import child_environment

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
PG_BIN_DIRS = Path("/usr/lib/postgresql")  # Debian's versioned client tools
MODE = 0o600
LIBPQ_ENV = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
             "connect_timeout": "PGCONNECT_TIMEOUT", "application_name": "PGAPPNAME", "options": "PGOPTIONS",
             "target_session_attrs": "PGTARGETSESSIONATTRS"}


class BackupError(Exception):
    """A backup or restore that cannot be done; ``exit_code`` 2 for bad usage, 1 for a failure on the way."""

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Outcome:
    path: Path
    size: int
    backend: str
    tables: int  # tables in the database backed up or restored


# -- writing a private file whole or not at all ---------------------------------------------------------------

def _temp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")


def _create_private(path: Path) -> int:
    """A new file only its owner may read (``O_EXCL``: never an existing file, nor a link planted there)."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), MODE)


def _finish(tmp: Path, path: Path) -> None:
    """Make ``tmp`` durable and give it its name."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _remove_quietly(*paths: Path) -> None:
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def _check_target(path: Path, force: bool) -> None:
    if not path.name:
        raise BackupError("PATH is empty: give the file to write")
    if path.is_dir():
        raise BackupError(f"{path} is a folder: give the file to write, e.g. {path / 'tracker.backup'}")
    if path.exists() and not force:
        raise BackupError(f"{path} exists: give a new name, or --force to replace it")
    if not path.parent.is_dir():
        raise BackupError(f"there is no folder {path.parent} to write {path.name} in")


# -- backup -----------------------------------------------------------------------------------------------------

def backup(engine: Engine, path: str | Path, *, force: bool = False) -> Outcome:
    path = Path(path)
    _check_target(path, force)
    sqlite = engine.url.get_backend_name() == "sqlite"
    tmp = _temp_beside(path)
    try:
        if sqlite:
            tables = _sqlite_backup(engine, tmp)
        else:
            tables = len(_tables(engine))
            if tables:
                _pg_dump(engine, tmp)
        if not tables:
            raise BackupError(f"the database {_shown(engine)} holds no table: nothing to back up")
        _finish(tmp, path)
    except BaseException:
        _remove_quietly(tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm"))
        raise
    return Outcome(path, path.stat().st_size, engine.url.get_backend_name(), tables)


def _sqlite_source(engine: Engine) -> Path:
    db = engine.url.database
    if not db or db == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up: give --db sqlite:///PATH")
    source = Path(db)
    if not source.is_file():
        raise BackupError(f"there is no database file {source}: give the right --db (or TRACKER_DATABASE_URL)")
    return source


def _sqlite_backup(engine: Engine, tmp: Path) -> int:
    """Copy the database into ``tmp``; the number of tables copied."""
    source = _sqlite_source(engine)
    os.close(_create_private(tmp))  # the empty file, 0600, before SQLite writes a byte into it
    try:
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)  # one step: one read transaction, a consistent snapshot; writers go on (WAL)
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
                return dst.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot back up {source}: {exc}", 1) from None


# -- PostgreSQL client tools ------------------------------------------------------------------------------------

def _server_major(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(text("SHOW server_version_num"))) // 10000


def _client_major(binary: str) -> int | None:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return None
    m = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(m.group(1)) if m else None


def pg_tool(name: str, server_major: int) -> str:
    """The ``pg_dump`` / ``pg_restore`` to run against a server of ``server_major``: Debian's of that version,
    else the one on PATH, else the newest other Debian one; it must be of that version or newer."""
    candidates = [PG_BIN_DIRS / str(server_major) / "bin" / name]
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))
    if PG_BIN_DIRS.is_dir():
        others = sorted((p for p in PG_BIN_DIRS.glob(f"*/bin/{name}") if p.parent.parent.name.isdigit()),
                        key=lambda p: -int(p.parent.parent.name))
        candidates += others
    found = []
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            major = _client_major(str(c))
            if major is not None and major >= server_major:
                return str(c)
            found.append(f"{c} (version {major})")
    have = f"; found only {', '.join(found)}, older than the server" if found else ""
    raise BackupError(f"{name} (PostgreSQL {server_major} or newer) is not installed{have}: install the "
                      f"client tools (Debian: apt-get install postgresql-client-{server_major}), or put a "
                      f"{name} of version {server_major} or newer on PATH", 1)


def _libpq(engine: Engine) -> tuple[list[str], dict[str, str]]:
    """Connection options for the client tools, and the environment carrying the password (never argv,
    which other users can read in the process list)."""
    url = engine.url
    args = []
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = {}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    for key, value in url.query.items():  # sslmode=require and the like: libpq reads them from the environment
        if key in LIBPQ_ENV:
            env[LIBPQ_ENV[key]] = value if isinstance(value, str) else value[-1]
    return args, env


def _run(argv: list[str], env: dict[str, str], what: str, **kw) -> None:
    try:
        done = subprocess.run(argv, env=child_environment(**env), stderr=subprocess.PIPE, text=True, **kw)
    except OSError as exc:
        raise BackupError(f"cannot run {argv[0]}: {exc.strerror or exc}", 1) from None
    if done.returncode != 0:
        lines = [ln for ln in (done.stderr or "").splitlines() if ln.strip()]
        raise BackupError(f"{what} failed ({Path(argv[0]).name} exit {done.returncode}): "
                          + ("; ".join(lines[-3:]) or "no message"), 1)


def _pg_dump(engine: Engine, tmp: Path) -> None:
    tool = pg_tool("pg_dump", _server_major(engine))
    args, env = _libpq(engine)
    fd = _create_private(tmp)
    try:
        # into the file we opened with mode 0600 (pg_dump's own --file would be created by the umask)
        _run([tool, "--format=custom", "--no-password", *args, "--dbname", engine.url.database or "postgres"],
             env, f"backing up {_shown(engine)}", stdout=fd)
    finally:
        os.close(fd)


# -- restore ----------------------------------------------------------------------------------------------------

def backup_kind(path: Path) -> str:
    """``sqlite`` or ``postgresql``, by the file's first bytes."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BackupError(f"there is no backup file {path}") from None
    except IsADirectoryError:
        raise BackupError(f"{path} is a folder, not a backup file") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is not a backup of `tracker backup` (neither a SQLite file nor a pg_dump "
                      "custom-format file)")


def restore(engine: Engine, path: str | Path) -> Outcome:
    path = Path(path)
    kind = backup_kind(path)
    backend = engine.url.get_backend_name()
    if kind != backend:
        raise BackupError(f"{path} is a {kind} backup and {_shown(engine)} is {backend}: restore it into a "
                          f"{kind} database (moving between SQLite and PostgreSQL is not done by restore)")
    if backend == "sqlite":
        _sqlite_restore(engine, path)
    else:
        _refuse_non_empty(engine)
        tool = pg_tool("pg_restore", _server_major(engine))
        args, env = _libpq(engine)
        _run([tool, "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges", "--no-password",
              *args, "--dbname", engine.url.database or "postgres", str(path)], env, f"restoring {path}")
    engine.dispose()  # what the engine's pool knew of the file or schema before is gone
    return Outcome(path, path.stat().st_size, backend, len(_tables(engine)))


def _sqlite_restore(engine: Engine, path: Path) -> None:
    db = engine.url.database
    if not db or db == ":memory:":
        raise BackupError("restore into a SQLite file: give --db sqlite:///PATH")
    target = Path(db)
    if target.exists():
        _refuse_non_empty(engine)
    if not target.parent.is_dir():
        raise BackupError(f"there is no folder {target.parent} for {target.name}")
    engine.dispose()  # the check's connections closed: an empty database's -wal and -shm are gone or stale
    _remove_quietly(Path(f"{target}-wal"), Path(f"{target}-shm"))
    tmp = _temp_beside(target)
    try:
        os.close(_create_private(tmp))
        src = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            problem = src.execute("PRAGMA quick_check").fetchone()[0]
            if problem != "ok":
                raise BackupError(f"{path} is damaged ({problem}): nothing restored", 1)
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)
            finally:
                dst.close()
        finally:
            src.close()
        _finish(tmp, target)
    except sqlite3.Error as exc:
        _remove_quietly(tmp)
        raise BackupError(f"cannot restore {path}: {exc}", 1) from None
    except BaseException:
        _remove_quietly(tmp)
        raise


def _tables(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        if engine.url.get_backend_name() == "sqlite":
            return list(conn.scalars(text("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                                          "AND name NOT LIKE 'sqlite_%'")))
        return list(conn.scalars(text(
            "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'")))


def _refuse_non_empty(engine: Engine) -> None:
    tables = _tables(engine)
    if tables:
        shown = ", ".join(sorted(t.removeprefix("public.") for t in tables)[:5])
        raise BackupError(f"the database {_shown(engine)} is not empty ({len(tables)} tables: {shown}"
                          f"{', ...' if len(tables) > 5 else ''}): restore only into an empty database (a new "
                          "SQLite file, or a new PostgreSQL database: createdb NAME), then point --db or "
                          "TRACKER_DATABASE_URL at it")


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)

