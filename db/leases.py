"""Leases: a row per job saying which worker runs it and until when.

``acquire`` is one conditional statement on both backends (an INSERT that does
nothing on conflict, then an UPDATE that takes the row only if it is free, ours,
or expired), so two workers racing for a job cannot both win. The holder renews
while the job runs; a worker that dies loses its lease when it expires -- or at once,
when it ran on this machine and its process is gone (``kill -9`` then a restart:
``db.liveness``), so a restarted worker does not wait ``lease_ttl`` for itself, or once
it has missed three heartbeats (a worker on another machine: ``db.heartbeat``).
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from db.models import Lease
from db.heartbeat import silent
from db.liveness import is_dead, place
from db.runs import worker_name


def holder_name(token: str) -> str:
    """``host:pid:token@place``: the ``@place`` lets a worker on this machine see that we died."""
    where = place()
    return f"{worker_name()}:{token}" + (f"@{where}" if where else "")


def acquire(sessions: sessionmaker[Session], name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    with sessions.begin() as s:
        insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
        s.execute(insert(Lease).values(name=name, holder="", expires_at=now).on_conflict_do_nothing())
        free = (Lease.holder == holder) | (Lease.holder == "") | (Lease.expires_at <= now)
        current = s.scalar(select(Lease.holder).where(Lease.name == name))
        if current and current != holder and (is_dead(current) or silent(s, [current])):
            free = free | (Lease.holder == current)  # still conditional: of two restarted workers one wins
        won = s.execute(update(Lease).where(Lease.name == name, free)
                        .values(holder=holder, expires_at=now + ttl),
                        execution_options={"synchronize_session": False}).rowcount
    return bool(won)


def release(sessions: sessionmaker[Session], name: str, holder: str) -> None:
    with sessions.begin() as s:
        s.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder),
                  execution_options={"synchronize_session": False})


class Held:
    """``with Held(...) as ok:`` -- the lease, renewed every third of its time while the block runs."""

    def __init__(self, sessions: sessionmaker[Session], name: str, holder: str, clock: Callable[[], datetime],
                 ttl: timedelta):
        self.sessions, self.name, self.holder, self.clock, self.ttl = sessions, name, holder, clock, ttl
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> bool:
        self.ok = acquire(self.sessions, self.name, self.holder, self.clock(), self.ttl)
        if self.ok:
            self._thread = threading.Thread(target=self._renew, name=f"lease-{self.name}", daemon=True)
            self._thread.start()
        return self.ok

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl.total_seconds() / 3):
            try:
                acquire(self.sessions, self.name, self.holder, self.clock(), self.ttl)
            except Exception:  # noqa: BLE001 - a missed renewal is retried; the lease lasts ttl
                pass

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.ok:
            try:
                release(self.sessions, self.name, self.holder)
            except Exception:  # noqa: BLE001 - the lease expires by itself
                pass
