"""``tracker run``: the long-running process, on APScheduler 3.

Jobs (``tracker/jobs.py``) are plain functions that read the database for what is
due, so the schedule here only says how often to look. Every job is ``coalesce``d
(a laptop that slept runs a missed job once, not ten times), ``max_instances=1``,
and has a misfire grace time (a run missed by less than ``schedule.misfire_grace``
still happens). Each run is recorded in ``runs`` and logged on one line; a run
that fails is retried with a backoff and the daemon goes on. SIGTERM or Ctrl-C
sets the stop flag: a crawl or a poll kills its child (the bills and feeds stored
so far are whole), a delivery stops between two messages, and the process exits.
"""

from __future__ import annotations

import logging
import secrets
import signal
import threading
import time
from datetime import datetime, time as clock_time, timedelta
from typing import Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError

from db.checks import backoff
from db.heartbeat import Heartbeat
from db.leases import Held, holder_name
from db.runs import finish_run, start_run
from tracker.application import Application
from tracker.jobs import JOBS, LEASED, ONCE_ORDER, JobContext
from tracker.logs import RESERVED

log = logging.getLogger("tracker.run")
RETRY_START = timedelta(minutes=1)
RETRY_CAP = timedelta(minutes=30)


def _fields(counts: dict | None) -> str:
    return " ".join(f"{k}={v}" for k, v in (counts or {}).items())


def _extra(fields: dict) -> dict:
    """A job's counts as the line's fields; a count named like a LogRecord attribute is left to the text."""
    return {k: v for k, v in fields.items() if k not in RESERVED}


class Daemon:
    """Runs the jobs of one ``Application`` on schedule (``clock``: the application's unless given)."""

    def __init__(self, app: Application, clock: Callable[[], datetime] | None = None):
        self.clock = clock or app.clock
        self.ctx = ctx = JobContext(app)
        self.holder = holder_name(secrets.token_hex(4))
        self.lease_ttl = ctx.config.schedule.lease_ttl
        ctx.lease = self.lease
        self.scheduler: BaseScheduler | None = None
        self.failures: dict[str, int] = {}
        self.unrecorded: list[tuple] = []  # runs that ended while the database was unreachable
        self._lock = threading.Lock()

    # -- one run --------------------------------------------------------------------------------------------

    def lease(self, name: str) -> Held:
        return Held(self.ctx.sessions, name, self.holder, self.clock, self.lease_ttl)

    def run_job(self, name: str) -> bool:
        """Run one job now and record it; never raises (the daemon must live). A job another worker
        is running is skipped (that is not a failure)."""
        if self.ctx.stop.is_set():
            return False
        if name not in LEASED:
            return self._run(name)
        try:
            with self.lease(f"job:{name}") as ours:
                if not ours:
                    fields = {"job": name, "skipped": "held-by-another-worker"}
                    log.info("job=%(job)s skipped=%(skipped)s", fields, extra=fields)
                    return True
                return self._run(name)
        except SQLAlchemyError as exc:
            return self._ended(name, None, self.clock(), time.monotonic(), False, None,
                               f"database unavailable: {_short(exc)}")

    def _run(self, name: str) -> bool:
        started_at, started = self.clock(), time.monotonic()
        run_id = None
        try:
            self._flush_unrecorded()
            run_id = start_run(self.ctx.sessions, name, started_at)
        except SQLAlchemyError as exc:
            return self._ended(name, None, started_at, started, False, None, f"database unavailable: {_short(exc)}")
        try:
            counts, ok, error = JOBS[name](self.ctx, started_at), True, None
        except Exception as exc:  # noqa: BLE001 - a job's failure is recorded, never fatal
            log.debug("job=%s failed", name, exc_info=True, extra={"job": name})
            counts, ok, error = None, False, f"{type(exc).__name__}: {_short(exc)}"
        if self.ctx.stop.is_set() and ok:
            counts = (counts or {}) | {"stopped": True}
        return self._ended(name, run_id, started_at, started, ok, counts, error)

    def _ended(self, name, run_id, started_at, started, ok, counts, error) -> bool:
        duration = time.monotonic() - started
        record = (run_id, name, started_at, self.clock(), ok, (counts or {}) | {"duration_s": round(duration, 1)},
                  error)
        try:
            finish_run(self.ctx.sessions, *record)
        except SQLAlchemyError:
            with self._lock:
                self.unrecorded.append(record)
        if ok:
            self.failures.pop(name, None)
            log.info("job=%s %s duration_s=%.1f", name, _fields(counts), duration,
                     extra=_extra({"job": name, **(counts or {}), "duration_s": round(duration, 1)}))
        else:
            n = self.failures[name] = self.failures.get(name, 0) + 1
            fields = {"job": name, "ok": False, "error": error, "duration_s": round(duration, 1), "failures": n}
            log.warning("job=%(job)s ok=false error=%(error)r duration_s=%(duration_s).1f failures=%(failures)d",
                        fields, extra=fields)
            self._retry(name, n)
        return ok

    def _flush_unrecorded(self) -> None:
        with self._lock:
            pending, self.unrecorded = self.unrecorded, []
        for i, record in enumerate(pending):
            try:
                finish_run(self.ctx.sessions, *record)
            except SQLAlchemyError:
                with self._lock:
                    self.unrecorded = pending[i:] + self.unrecorded
                raise

    def _retry(self, name: str, failures: int) -> None:
        if self.scheduler is None or not self.scheduler.running or self.ctx.stop.is_set():
            return
        delay = backoff(failures, RETRY_START, RETRY_CAP)
        self.scheduler.add_job(self.run_job, "date", args=[name], id=f"retry-{name}", replace_existing=True,
                               run_date=self.clock() + delay, name=f"retry {name}")

    # -- the schedule ---------------------------------------------------------------------------------------

    def triggers(self) -> dict[str, object]:
        cfg = self.ctx.config
        tz = cfg.tz
        sched = cfg.schedule

        start = self.clock()

        def every(interval: timedelta) -> IntervalTrigger:
            return IntervalTrigger(seconds=interval.total_seconds(), timezone=tz, start_date=start)

        def daily(at: clock_time) -> CronTrigger:
            return CronTrigger(hour=at.hour, minute=at.minute, timezone=tz)

        out = {"crawl": every(sched.check), "sync": every(sched.check), "poll": every(sched.check), "health": every(sched.health),
               "dispatch": every(sched.dispatch), "supporter-digest": daily(cfg.digests.supporters.at),
               "retention": CronTrigger.from_crontab(sched.retention, timezone=tz)}
        if cfg.digests.staff.to:
            out["staff-digest"] = daily(cfg.digests.staff.at)
        return out

    def build(self, scheduler_cls: type[BaseScheduler] = BlockingScheduler, **options) -> BaseScheduler:
        grace = int(self.ctx.config.schedule.misfire_grace.total_seconds())
        scheduler = scheduler_cls(
            executors=options.pop("executors", {"default": ThreadPoolExecutor(2)}),
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace},
            timezone=self.ctx.config.tz, **options)
        for name, trigger in self.triggers().items():
            scheduler.add_job(self.run_job, trigger, args=[name], id=name, name=name)
        self.scheduler = scheduler
        return scheduler

    # -- entry points ---------------------------------------------------------------------------------------

    def heartbeat(self) -> Heartbeat:
        """This worker's heartbeat (``workers.heartbeat``): while it beats, no other worker takes its claims."""
        return Heartbeat(self.ctx.sessions, self.ctx.config.workers.heartbeat)

    def run_once(self) -> bool:
        """Every job once, in order: crawl, poll, health, dispatch, retention."""
        with self.heartbeat():
            return all([self.run_job(name) for name in ONCE_ORDER])

    def serve(self) -> None:
        """Run until SIGTERM or SIGINT; the jobs due at start run at once."""
        scheduler = self.build()
        for job in scheduler.get_jobs():
            if job.id in ("crawl", "poll", "health", "dispatch"):
                job.modify(next_run_time=self.clock())

        stopper = threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, name="shutdown")

        def stop(signum, _frame):
            if self.ctx.stop.is_set():
                return
            log.warning("signal %s: stopping after the running jobs", signal.Signals(signum).name)
            self.ctx.stop.set()  # children are killed, deliveries stop between two messages
            stopper.start()  # not in the handler: shutting down waits for the running jobs

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log.info("tracker run: jobs %s", " ".join(f"{j.id}@{j.trigger}" for j in scheduler.get_jobs()))
        with self.heartbeat():
            scheduler.start()  # returns once shut down
            if stopper.ident is not None:
                stopper.join()
        log.info("tracker run: stopped")


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:500]
