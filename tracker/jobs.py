"""The jobs ``tracker run`` schedules, each a plain function ``(context, now) -> counts``.

Every job reads the database for what is due, so running one more often than
needed does nothing, and a run missed while the machine slept is made up by the
next one.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from alerts.dispatch import DispatchReport, compose_due
from db.runs import cut_off_before
from tracker.application import Application
from tracker.crawl import crawl
from tracker.docket import sync, sync_due
from tracker.health import check_health
from tracker.news.poll import poll
from tracker.retention import apply_retention


@contextmanager
def _no_lease(name: str):
    yield True


@dataclass
class JobContext:
    app: Application
    stop: threading.Event = field(default_factory=threading.Event)
    lease: Callable[[str], AbstractContextManager[bool]] = _no_lease  # the Daemon gives a real one

    @property
    def config(self):
        return self.app.config

    @property
    def sessions(self):
        return self.app.sessions


def crawl_job(ctx: JobContext, now: datetime) -> dict:
    with ctx.sessions() as s:  # this run is the latest; was the one before it killed part-way?
        cut_off = cut_off_before(s, "crawl")
    result = crawl(ctx.config, ctx.sessions, now=lambda: now, due_only=True, stop=ctx.stop,
                   directory_anyway=cut_off)
    return {"bills": result.checked, "changed": result.changed, "events": len(result.events),
            "errors": len(result.errors)}


def sync_job(ctx: JobContext, now: datetime) -> dict:
    """The docket of each synced session, once ``schedule.sync`` has passed since the last; after the crawl,
    in its own run, so a long sync never holds up the tracked bills."""
    with ctx.sessions() as s:
        due = sync_due(s, ctx.config, now)
    if not due:
        return {"sessions": 0}
    result = sync(ctx.config, ctx.sessions, due, now=lambda: now, stop=ctx.stop)
    if result.errors and not result.documents:
        raise RuntimeError(f"docket sync failed: {result.errors[0]['error']}")
    return {"sessions": len(result.sessions), "documents": result.documents, "new": result.new,
            "changed": result.changed, "details": result.details, "discovered": len(result.discovered),
            "histories": result.histories, "errors": len(result.errors)}


def poll_job(ctx: JobContext, now: datetime) -> dict:
    result = poll(ctx.config, ctx.sessions, now=lambda: now, stop=ctx.stop)
    return {"feeds": result.checked, "changed": result.changed, "events": len(result.events),
            "errors": len(result.errors)}


def _dispatch(ctx: JobContext, now: datetime, kinds) -> dict:
    """Compose under the ``compose`` lease (one worker at a time), then deliver: any number of workers
    may deliver at once, each claiming the messages the others have not (SKIP LOCKED on PostgreSQL)."""
    report = DispatchReport()
    with ctx.lease("compose") as ours:
        if ours:
            compose_due(ctx.app.settings, ctx.sessions, now, kinds=kinds, report=report)
    report.delivery = d = ctx.app.deliver(stop=ctx.stop)
    counts = {"composed": sum(report.composed.values()), **{k.replace("-", "_"): v for k, v in report.composed.items()}}
    if not ours:
        counts["compose"] = "held by another worker"
    if d is not None:
        counts |= {"sent": d.sent, "retried": d.retried, "failed": d.failed, "uncertain": d.uncertain}
        if d.down:
            raise RuntimeError(f"mail not sent, kept queued: {d.down}")
    return counts


def dispatch_job(ctx: JobContext, now: datetime) -> dict:
    return _dispatch(ctx, now, ("staff", "supporters"))


def staff_digest_job(ctx: JobContext, now: datetime) -> dict:
    return _dispatch(ctx, now, ("staff",))


def supporter_digest_job(ctx: JobContext, now: datetime) -> dict:
    return _dispatch(ctx, now, ("supporters",))


def health_job(ctx: JobContext, now: datetime) -> dict:
    events = check_health(ctx.config, ctx.sessions, now)
    return {"failing": sum(e.kind == "source.failing" for e in events),
            "recovered": sum(e.kind == "source.recovered" for e in events)}


def retention_job(ctx: JobContext, now: datetime) -> dict:
    return apply_retention(ctx.config, ctx.sessions, now)


JOBS: dict[str, Callable[[JobContext, datetime], dict]] = {
    "crawl": crawl_job, "sync": sync_job, "poll": poll_job, "health": health_job, "dispatch": dispatch_job,
    "staff-digest": staff_digest_job, "supporter-digest": supporter_digest_job, "retention": retention_job,
}
ONCE_ORDER = ("crawl", "sync", "poll", "health", "dispatch", "retention")  # `tracker run --once`
LEASED = frozenset({"crawl", "sync", "poll", "health", "retention"})  # one worker at a time; dispatch leases its compose
