"""The ``runs`` table: one row per job run, written when it starts and when it ends.

A run whose worker died stays with ``ok`` NULL and no ``finished_at``: ``tracker
status`` shows it as unfinished rather than pretending it succeeded.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Run


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def start_run(sessions: sessionmaker[Session], job: str, at: datetime) -> int:
    with sessions.begin() as s:
        run = Run(job=job, started_at=at, worker=worker_name())
        s.add(run)
        s.flush()
        return run.id


def finish_run(sessions: sessionmaker[Session], run_id: int | None, job: str, started: datetime, at: datetime,
               ok: bool, counts: dict | None, error: str | None) -> None:
    """Close the run row (or write a whole one, when the start could not be recorded)."""
    with sessions.begin() as s:
        run = s.get(Run, run_id) if run_id is not None else None
        if run is None:
            run = Run(job=job, started_at=started, worker=worker_name())
            s.add(run)
        run.finished_at, run.ok, run.counts, run.error = at, ok, counts, (error or None) and error[:4000]


def cut_off_before(s: Session, job: str) -> bool:
    """Did the run of ``job`` before the latest one never finish (its worker was killed mid-run)?"""
    ids = list(s.scalars(select(Run.id).where(Run.job == job).order_by(Run.id.desc()).limit(2)))
    if len(ids) < 2:
        return False
    return s.scalar(select(Run.finished_at).where(Run.id == ids[1])) is None


def last_runs(s: Session) -> list[dict]:
    """The latest run of each job, newest first."""
    latest = (select(Run.job, func.max(Run.id).label("id")).group_by(Run.job)).subquery()
    rows = s.scalars(select(Run).join(latest, Run.id == latest.c.id).order_by(Run.started_at.desc()))
    return [{"job": r.job, "started_at": r.started_at.isoformat(),
             "finished_at": r.finished_at.isoformat() if r.finished_at else None, "ok": r.ok,
             "counts": r.counts or {}, "error": r.error, "worker": r.worker} for r in rows]
