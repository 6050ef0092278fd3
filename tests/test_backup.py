"""``tracker backup`` and ``tracker restore`` as a user runs them, on both backends: a backup taken while the
database is being written restores, into an empty database, every row that was there when it began and no half
of any transaction; the file is private (0600, whatever the umask); a failed backup leaves no file; restore
refuses a database that is not empty."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import make_url

from alerts.dispatch import queue_confirmation
from alerts.subscribers import subscribe
from db.engine import make_engine, session_factory
from db.models import Event, OutboxMessage, Subscriber
from tests.alerts_world import NOW, config, settings_of
from tests.conftest import PG_ENV
from tests.test_cli import FEEDS
from tracker import backup as backups

ROOT = Path(__file__).resolve().parent.parent


def tracker(args, cwd, umask: int | None = None):
    return subprocess.run([sys.executable, "-m", "tracker.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                                                          os.environ.get("PYTHONPATH")]))})


@pytest.fixture
def workdir(tmp_path, replica_server, db_url):
    (tmp_path / "feeds.yaml").write_text(FEEDS.format(base=replica_server.base_url, extra=""))
    assert tracker(["--db", db_url, "init"], tmp_path).returncode == 0
    return tmp_path


@pytest.fixture
def empty_db(backend, tmp_path):
    """The URL of a second database, empty: a new SQLite file, or a new PostgreSQL database."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'tracker.sqlite'}"
        return
    admin = create_engine(os.environ[PG_ENV], isolation_level="AUTOCOMMIT")
    name = f"restored_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(os.environ[PG_ENV]).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _rows(url: str) -> dict[str, set[int]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {"subscribers": set(conn.scalars(select(Subscriber.id))),
                    "outbox": set(conn.scalars(select(OutboxMessage.id))),
                    "events": set(conn.scalars(select(Event.id)))}
    finally:
        engine.dispose()


class Writer(threading.Thread):
    """Writes as the sign-up page does, over and over: a supporter, her subscription and her confirmation email
    (an outbox row), with an event, all in one transaction; keeps the ids of each committed transaction."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.engine = make_engine(url)
        if self.engine.url.get_backend_name() == "sqlite":
            # what it commits stays in the WAL (as the newest commits of a busy database do): a backup that copied
            # the database file alone would miss them
            event.listen(self.engine, "connect", lambda conn, _: conn.execute("PRAGMA wal_autocheckpoint=0"))
        self.sessions = session_factory(self.engine)
        self.settings = settings_of(config())
        self.done: list[tuple[int, int, int]] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self):
        i = 0
        try:
            while not self.stop.is_set():
                with self.sessions.begin() as s:
                    sub = subscribe(s, self.settings, f"writer{i}@example.org", now=NOW).subscriber
                    msg = queue_confirmation(s, self.settings, sub, NOW)
                    ev = Event(kind="source.recovered", at=NOW, occurred_at=NOW, summary=f"written {i}",
                               payload={"source": f"writer{i}"})
                    s.add(ev)
                    s.flush()
                    ids = (sub.id, msg.id, ev.id)
                self.done.append(ids)
                i += 1
        except BaseException as exc:  # the test says so
            self.error = exc
        finally:
            self.engine.dispose()

    def wait_for(self, n: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while len(self.done) < n and self.error is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.error is None and len(self.done) >= n, self.error


def test_a_backup_taken_while_the_database_is_written_restores_every_row_it_began_with(workdir, db_url, empty_db):
    crawled = tracker(["--db", db_url, "crawl"], workdir)
    assert crawled.returncode == 0, crawled.stderr
    writer = Writer(db_url)
    writer.start()
    try:
        writer.wait_for(20)
        began = _rows(db_url)  # what the database held when the backup began
        started = len(writer.done)
        made = tracker(["--db", db_url, "backup", "tracker.backup"], workdir, umask=0)  # even with umask 0
        during = len(writer.done) - started
        writer.wait_for(len(writer.done) + 10)
    finally:
        writer.stop.set()
        writer.join(60)
    assert made.returncode == 0, made.stderr
    assert "mode 0600" in made.stdout
    assert writer.error is None and during > 0  # the writer went on while the backup was taken
    after = _rows(db_url)
    path = workdir / "tracker.backup"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in workdir.iterdir() if p.name.startswith(".")) == []  # no temporary file left

    done = tracker(["--db", empty_db, "restore", str(path)], workdir)
    assert done.returncode == 0, done.stderr
    restored = _rows(empty_db)
    for table in ("subscribers", "outbox", "events"):
        assert began[table] <= restored[table] <= after[table], table  # all it began with; nothing invented
        assert len(began[table]) > 0
    # one snapshot: each of the writer's transactions is there whole or not at all
    for sub_id, msg_id, ev_id in writer.done:
        assert (sub_id in restored["subscribers"]) == (msg_id in restored["outbox"]) == (ev_id in restored["events"])
    assert len(restored["subscribers"]) < len(after["subscribers"])  # what came after the snapshot is not there
    print({t: (len(began[t]), len(restored[t]), len(after[t])) for t in began}, "writes during the backup:", during)

    # the restored database works: the commands read it, at the latest revision
    status = tracker(["--db", empty_db, "status", "--format", "json"], workdir)
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["outbox"]["queued"] == len(restored["outbox"])
    assert {src["name"] for src in report["sources"]} == {"malegislature"}
    events = tracker(["--db", empty_db, "events", "--format", "json"], workdir)
    assert events.returncode == 0, events.stderr
    assert len(json.loads(events.stdout)) == len(restored["events"])
    listed = tracker(["--db", empty_db, "subscribers", "list", "--format", "json"], workdir)
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == len(restored["subscribers"])

    # restore refuses a database that holds anything: the one just restored, and the original
    for target in (empty_db, db_url):
        again = tracker(["--db", target, "restore", str(path)], workdir)
        assert again.returncode == 2 and "is not empty" in again.stderr and "restore only into an empty" in again.stderr
    assert _rows(db_url) == after


def test_a_backup_never_overwrites_unless_told_and_a_backup_of_the_other_kind_is_refused(workdir, db_url, backend,
                                                                                       empty_db):
    path = workdir / "tracker.backup"
    path.write_text("an older file")
    refused = tracker(["--db", db_url, "backup", str(path)], workdir)
    assert refused.returncode == 2 and "exists" in refused.stderr and path.read_text() == "an older file"
    assert tracker(["--db", db_url, "backup", "--force", str(path)], workdir).returncode == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert backups.backup_kind(path) == backend
    other = workdir / "other.backup"
    other.write_bytes((b"PGDMP" if backend == "sqlite" else b"SQLite format 3\x00") + b"\0" * 100)
    wrong = tracker(["--db", empty_db, "restore", str(other)], workdir)
    assert wrong.returncode == 2 and "backup" in wrong.stderr and "moving between SQLite and PostgreSQL" in wrong.stderr
    missing = tracker(["--db", f"sqlite:///{workdir / 'nowhere' / 'tracker.sqlite'}", "backup", "x.backup"], workdir)
    assert missing.returncode == 2 and "there is no database file" in missing.stderr
    assert not (workdir / "nowhere").exists() and not (workdir / "x.backup").exists()
    junk = workdir / "junk.backup"
    junk.write_text("not a backup")
    bad = tracker(["--db", empty_db, "restore", str(junk)], workdir)
    assert bad.returncode == 2 and "is not a backup of `tracker backup`" in bad.stderr


def test_a_failed_sqlite_backup_leaves_no_file(tmp_path):
    source = tmp_path / "tracker.sqlite"
    source.write_bytes(b"this is not a database, it only has the name of one" * 100)
    engine = make_engine(f"sqlite:///{source}")
    with pytest.raises(backups.BackupError) as failed:
        backups.backup(engine, tmp_path / "out.backup")
    engine.dispose()
    assert failed.value.exit_code == 1 and "not a database" in str(failed.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tracker.sqlite"]


@pytest.fixture
def pg_only(backend):
    if backend != "postgresql":
        pytest.skip("pg_dump and pg_restore are PostgreSQL's")


def _fake_pg_bin(tmp_path, body: str) -> Path:
    """A Debian-like /usr/lib/postgresql whose pg_dump is a script (a pg_dump that dies half-way cannot be
    had otherwise)."""
    bins = tmp_path / "pgbins" / "99" / "bin"
    bins.mkdir(parents=True)
    tool = bins / "pg_dump"
    tool.write_text("#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'pg_dump (PostgreSQL) 99.0'; exit 0; fi\n" + body)
    tool.chmod(0o755)
    return tmp_path / "pgbins"


def test_a_pg_dump_that_dies_half_way_leaves_no_file(pg_only, engine, tmp_path, monkeypatch):
    monkeypatch.setattr(backups, "PG_BIN_DIRS", _fake_pg_bin(tmp_path, "printf 'PGDMP half'\necho 'pg_dump: error: "
                                                                       "connection lost' >&2\nexit 1\n"))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))  # no other pg_dump than the fake
    with pytest.raises(backups.BackupError) as failed:
        backups.backup(engine, tmp_path / "out.backup")
    assert failed.value.exit_code == 1 and "connection lost" in str(failed.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pgbins"]


def test_without_pg_dump_the_error_says_what_to_install(pg_only, engine, tmp_path, monkeypatch):
    monkeypatch.setattr(backups, "PG_BIN_DIRS", tmp_path / "none")
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump on it
    with pytest.raises(backups.BackupError) as failed:
        backups.backup(engine, tmp_path / "out.backup")
    message = str(failed.value)
    assert "pg_dump (PostgreSQL 15 or newer) is not installed" in message
    assert "apt-get install postgresql-client-" in message
    assert not (tmp_path / "out.backup").exists()


def test_a_backup_killed_half_way_leaves_no_file_at_path_and_its_part_was_never_readable(pg_only, engine, db_url,
                                                                                          tmp_path):
    """``kill -9`` of the backing-up process while pg_dump writes: what was written is under a temporary name, mode
    0600 from the start, and PATH does not exist."""
    pid_file = tmp_path / "pg_dump.pid"
    bins = _fake_pg_bin(tmp_path, f"printf 'PGDMP part of a dump'\necho $$ > {pid_file}\nexec /bin/sleep 30\n")
    out = tmp_path / "backups"
    out.mkdir()
    script = ("import sys; from db.engine import make_engine; from tracker import backup as b; "
              f"b.PG_BIN_DIRS = __import__('pathlib').Path({str(bins)!r}); "
              f"b.backup(make_engine({db_url!r}), {str(out / 'tracker.backup')!r})")
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, preexec_fn=lambda: os.umask(0),
                            env={**os.environ, "PATH": str(tmp_path / "nothing"), "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(p.stat().st_size for p in out.iterdir()):
            time.sleep(0.05)
        [part] = list(out.iterdir())
        assert part.name.startswith(".tracker.backup.") and stat.S_IMODE(part.stat().st_mode) == 0o600
    finally:
        proc.kill()
        proc.wait()
        if pid_file.exists():  # the orphaned pg_dump
            os.kill(int(pid_file.read_text()), 9)
    assert not (out / "tracker.backup").exists()
