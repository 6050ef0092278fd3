"""Heartbeats: a row per running worker (``workers``), its ``beat_at`` renewed every ``workers.heartbeat``.

A worker killed on another machine cannot be seen dead by its pid (``db.liveness`` only knows this machine),
so its outbox claims and job leases waited for ``mail.stale_claim`` and ``schedule.lease_ttl``. A worker
that beats tells the others it lives: once it has missed ``MISSED_BEATS`` beats, they take its claims and
leases back. Every time here is the database's (``now()`` on PostgreSQL, ``'now'`` on SQLite), never a
worker's, so machines whose clocks disagree agree on who is silent. A claimant with no row (a worker that
does not beat, an older name) is never called silent: its claims and leases expire as before.

The row is keyed by the worker's process, ``host:pid@place`` (``db.liveness.place``): the claims and leases
of one process name it with a token between pid and place (``host:pid:token@place``), and ``worker_of``
strips the token.
"""

from __future__ import annotations

import logging
import socket
import threading
from datetime import timedelta
from typing import Iterable

from sqlalchemy import delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from db.liveness import place
from db.models import Worker
from db.runs import worker_name

log = logging.getLogger("tracker.heartbeat")
MISSED_BEATS = 3  # a worker silent for this many of its beats is taken for dead
FORGET_AFTER = timedelta(days=1)  # rows of workers silent this long are deleted (their claims expired long ago)


def this_worker() -> str:
    """This process's key: ``host:pid@place`` (``host:pid`` where there is no /proc)."""
    where = place()
    return worker_name() + (f"@{where}" if where else "")


def worker_of(name: str) -> str | None:
    """The key of the worker that wrote a claim or lease holder name ``host:pid:token[@place]``, or None when
    the name is not of that shape."""
    head, sep, where = name.rpartition("@")
    if not sep:
        head = name
    parts = head.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return f"{parts[0]}:{parts[1]}" + (f"@{where}" if sep else "")


def _now(s: Session):
    """The database's clock, as an SQL expression (UTC; SQLite's to the millisecond)."""
    if s.get_bind().dialect.name == "postgresql":
        return func.now()
    return func.strftime("%Y-%m-%d %H:%M:%f", "now")


def _silent_for_more_than(s: Session, seconds):
    """``beat_at`` is more than ``seconds`` (an SQL expression) before the database's clock."""
    if s.get_bind().dialect.name == "postgresql":
        return Worker.beat_at < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, seconds)
    return func.julianday(Worker.beat_at) < func.julianday("now") - seconds / 86400.0


def beat(sessions: sessionmaker[Session], worker: str, every: timedelta, host: str | None = None,
         pid: int | None = None) -> None:
    """Record that ``worker`` lives, at the database's clock (and forget workers silent for a day)."""
    if host is None or pid is None:
        key_host, _, key_pid = worker.partition("@")[0].rpartition(":")
        host, pid = host or key_host or socket.gethostname(), pid if pid is not None else int(key_pid or 0)
    with sessions.begin() as s:
        insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
        now = _now(s)
        stmt = insert(Worker).values(id=worker, host=host, pid=pid, every_s=every.total_seconds(), started_at=now,
                                     beat_at=now)
        s.execute(stmt.on_conflict_do_update(index_elements=[Worker.id],
                                             set_={"beat_at": now, "every_s": every.total_seconds()}))
        s.execute(delete(Worker).where(Worker.id != worker,
                                       _silent_for_more_than(s, literal(FORGET_AFTER.total_seconds()))),
                  execution_options={"synchronize_session": False})


def forget(sessions: sessionmaker[Session], worker: str) -> None:
    """A worker that stops cleanly deletes its row (it holds nothing any more)."""
    with sessions.begin() as s:
        s.execute(delete(Worker).where(Worker.id == worker), execution_options={"synchronize_session": False})


def silent(s: Session, names: Iterable[str]) -> set[str]:
    """The claim or lease holder ``names`` whose worker beats no more: its row's last beat is more than
    ``MISSED_BEATS`` of its own beats ago, by the database's clock. A name without a row is not in it."""
    by_worker: dict[str, list[str]] = {}
    for name in names:
        worker = worker_of(name)
        if worker is not None:
            by_worker.setdefault(worker, []).append(name)
    if not by_worker:
        return set()
    quiet = s.scalars(select(Worker.id).where(Worker.id.in_(list(by_worker)),
                                              _silent_for_more_than(s, Worker.every_s * MISSED_BEATS)))
    return {name for worker in quiet for name in by_worker[worker]}


class Heartbeat:
    """``with Heartbeat(sessions, every):`` -- this process beats every ``every`` while the block runs (in a
    thread; a beat the database misses is tried again at the next), and forgets its row at the end."""

    def __init__(self, sessions: sessionmaker[Session], every: timedelta, worker: str | None = None):
        self.sessions, self.every = sessions, every
        self.worker = worker or this_worker()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _beat(self) -> None:
        try:
            beat(self.sessions, self.worker, self.every)
        except Exception as exc:  # noqa: BLE001 - the database is away: the next beat tries again
            log.warning("heartbeat not recorded: %s", " ".join(str(exc).split())[:300])

    def _run(self) -> None:
        while not self._stop.wait(self.every.total_seconds()):
            self._beat()

    def __enter__(self) -> "Heartbeat":
        self._beat()  # at once: the others know this worker before it claims anything
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            forget(self.sessions, self.worker)
        except Exception:  # noqa: BLE001 - the row is forgotten a day later by the others
            pass
