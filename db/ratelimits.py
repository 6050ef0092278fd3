"""Rate limits that every web worker shares: a row per limited key (``ip:ADDRESS``, ``email:ADDRESS``, ...) with
the times of its recent hits.

``allow`` first reads the key's row: at its limit already, it refuses without writing. Otherwise it is one
transaction that starts with a write (an INSERT that does nothing on conflict), then reads the
row under a lock: ``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the first write has already taken the
database's write lock. So two workers checking one key take turns, and between them allow the limit, not twice it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from db.models import RateLimit

KEY_LENGTH = 400


def allow(sessions: sessionmaker[Session], key: str, limit: int, window_s: float, now: datetime) -> bool:
    """Whether one more hit of ``key`` at ``now`` stays within ``limit`` hits in the last ``window_s`` seconds (a
    sliding window); an allowed hit is counted, a refused one is not."""
    key = key[:KEY_LENGTH]
    at = now.timestamp()
    with sessions() as s:  # a key at its limit is refused by a read, without taking the write lock (a flood of refusals)
        seen = s.scalar(select(RateLimit.hits).where(RateLimit.key == key))
    if seen is not None and sum(h > at - window_s for h in seen) >= limit:
        return False  # hits within the window only leave it by age, so what this read counted is still there
    with sessions.begin() as s:
        insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
        s.execute(insert(RateLimit).values(key=key, hits=[], updated_at=now).on_conflict_do_nothing())
        row = s.execute(select(RateLimit.hits).where(RateLimit.key == key).with_for_update()).one()
        hits = [h for h in (row.hits or []) if h > at - window_s]
        allowed = len(hits) < limit
        if allowed:
            hits.append(at)
        s.execute(RateLimit.__table__.update().where(RateLimit.key == key).values(hits=hits, updated_at=now))
    return allowed


def forget_before(sessions: sessionmaker[Session], before: datetime) -> int:
    """Drop the keys not hit since ``before`` (older than every window): the table keeps only live keys."""
    with sessions.begin() as s:
        return s.execute(delete(RateLimit).where(RateLimit.updated_at < before),
                         execution_options={"synchronize_session": False}).rowcount

