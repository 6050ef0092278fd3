"""``crawl()``: check tracked bills now.

The parent selects the bills, starts ``spiders.crawl_child`` (Scrapy in its own
process, killed past ``crawl_timeout_s``), reads its observations as they
stream in (in a thread of their own: the child never waits on a full pipe), and stores them in
batches (``tracker.crawl_store``: the unchanged bills in one statement, the moved ones in one
transaction, bill by bill again when one of them fails). The child never
touches the database, so a killed child leaves nothing half-written.

Then, in API mode, the directory (committees and legislators) of the crawled
bills' General Courts is refreshed when it is missing or older than
``directory_every`` and the API answered for at least one bill in this crawl
(when every bill failed or fell back to the HTML pages, the API is down: the
directory stays due and is tried at the next crawl).
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from db.checks import throttled_until
from db.models import Bill
from spiders.observations import BillTarget
from spiders.billids import BillId
from tracker.child import run_spider
from tracker.config import Config
from tracker.directory import DirectoryResult, due_sessions, refresh_directory, tracked_sessions
from tracker.results import RunResult
from tracker.bill_writer import BillOutcome, new_bill
from tracker.crawl_store import batched, record_failure, store_batch

log = logging.getLogger("tracker.crawl")

CONFIG_REASON = "listed in feeds.yaml"


@dataclass
class CrawlResult(RunResult):
    fallbacks: list[dict] = field(default_factory=list)  # bills read from HTML because the API failed
    directory: DirectoryResult | None = None  # the directory refresh, when one was due and attempted
    throttled: dict | None = None  # the site asked us to stop: {"url", "error", "retry_after_s", "postponed"}


class UnknownBill(ValueError):
    """``--bill`` named a bill that is not tracked."""


def sync_tracked(session: Session, config: Config, now: datetime) -> None:
    """Make the bills table agree with feeds.yaml: listed bills tracked, unlisted config bills not."""
    wanted = {b.canonical: b for b in config.tracked_bill_ids()}
    positions = config.positions()
    known = set(session.scalars(select(Bill.canonical)))
    missing = [bid for canonical, bid in wanted.items() if canonical not in known]
    if missing:  # the crawl and the poll both run this at start: of two inserts of one bill, one does nothing
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        rows = [{c.key: getattr(b, c.key) for c in Bill.__table__.columns if c.key != "id"}
                | {"next_check_at": None}  # never checked: due for whichever job's clock, however close behind
                for b in (new_bill(bid, now, CONFIG_REASON, positions[bid.canonical]) for bid in missing)]
        session.execute(insert(Bill).values(rows).on_conflict_do_nothing(index_elements=["canonical"]))
    existing = {b.canonical: b for b in session.scalars(select(Bill))}  # one query, not one per bill
    for canonical, bid in wanted.items():
        bill = existing[canonical]
        if not bill.tracked:
            bill.tracked, bill.tracked_reason = True, CONFIG_REASON
            bill.archive_matched_at = None  # the articles stored while it was not followed: matched at the next poll
        bill.position = positions[canonical]  # feeds.yaml says what the campaign's position is
    for bill in existing.values():
        if bill.tracked and bill.tracked_reason == CONFIG_REASON and bill.canonical not in wanted:
            bill.tracked = False


def _jobs(session: Session, config: Config, now: datetime, only: list[BillId] | None,
          due_only: bool = False) -> list[BillTarget]:
    query = select(Bill).where(Bill.tracked.is_(True)).order_by(Bill.id)
    if due_only:
        query = query.where((Bill.next_check_at.is_(None)) | (Bill.next_check_at <= now))
    if only:
        query = select(Bill).where(Bill.canonical.in_([b.canonical for b in only])).order_by(Bill.id)
    detail_every = config.sources.malegislature.detail_every
    text_every = config.sources.malegislature.text_every
    jobs = []
    for bill in session.scalars(query):
        need_detail = bill.detail_checked_at is None or now - bill.detail_checked_at >= detail_every
        text_due = bill.text_checked_at is None or now - bill.text_checked_at >= text_every
        jobs.append(BillTarget(canonical=bill.canonical, session=bill.session, number=bill.number,
                               history_hash=bill.history_hash, etag=bill.etag, last_modified=bill.last_modified,
                               need_detail=need_detail, text_due=text_due, text_actions=bill.text_actions))
    return jobs


def run_child(config: Config, jobs: list[BillTarget], known: Iterable[str],
              stop: threading.Event | None = None) -> Iterable[dict]:
    src = config.sources.malegislature
    settings = {
        "base_url": src.base_url, "mode": src.mode, "delay_s": src.delay_s, "concurrency": src.concurrency,
        "timeout_s": src.timeout_s, "user_agent": src.user_agent,
    }
    return run_spider("malegislature", settings, [j.to_dict() for j in jobs], src.crawl_timeout_s, stop,
                      known=sorted(known))


def crawl(
    config: Config,
    sessions: sessionmaker[Session],
    bills: list[BillId] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    on_outcome: Callable[[BillOutcome], None] | None = None,
    due_only: bool = False,
    stop: threading.Event | None = None,
    directory_anyway: bool = False,
) -> CrawlResult:
    """Check the tracked bills (or ``bills``, or with ``due_only`` those whose ``next_check_at`` has
    come) now; store every change as events. ``stop`` ends the crawl early: the bills stored so far
    are whole, the others keep their state and stay due. ``directory_anyway``: the previous crawl
    was cut off (``kill -9``) perhaps after its last bill and before the directory, so refresh the
    directory when it is due even if no bill is."""
    started = time.monotonic()
    result = CrawlResult()
    crawl_every = config.schedule.crawl
    detail_every = config.sources.malegislature.detail_every
    with sessions.begin() as s:
        sync_tracked(s, config, now())
        if bills:
            tracked = set(s.scalars(select(Bill.canonical).where(Bill.tracked.is_(True))))
            missing = [b.canonical for b in bills if b.canonical not in tracked]
            if missing:
                raise UnknownBill(f"not tracked: {', '.join(missing)}; add it to the bills: list of feeds.yaml")
        jobs = _jobs(s, config, now(), bills, due_only)
        known = set(s.scalars(select(Bill.canonical).where(Bill.tracked.is_(True))))
    if not jobs:
        if directory_anyway and not bills and config.sources.malegislature.mode == "api":
            with sessions() as s:
                general_courts = set(tracked_sessions(s, config))
            result.directory = _refresh_directory_if_due(config, sessions, general_courts, now, on_outcome)
            if result.directory is not None:
                result.errors.extend(result.directory.errors)
        return result
    pending = {j.canonical for j in jobs}
    asked: set[str] = set()  # the bills whose request the site answered with the throttle
    api_answered = False  # did the API answer for at least one bill (no fallback)?

    halt = threading.Event()  # the child's stop: set by ``stop``, or when this loop ends early
    with closing(_batched(run_child(config, jobs, known, halt), stop, halt)) as batches:
        for batch in batches:
            if stop is not None and stop.is_set():
                break
            todo: list[dict] = []
            for obs in batch:
                if obs.get("type") == "child-error":
                    _store_all(sessions, todo, result, now(), crawl_every, detail_every, on_outcome)
                    todo = []
                    for canonical in sorted(pending):
                        err = {"source": "malegislature", "url": canonical, "error": obs["error"]}
                        outcome = _record_failure(sessions, canonical, {"error": err, "url": None}, now())
                        result.collect(outcome, on_outcome)
                    pending.clear()
                    continue
                if obs.get("type") == "throttled":
                    result.throttled = {k: obs[k] for k in ("url", "error", "retry_after_s")}
                    asked.add(obs["bill"])
                    continue
                pending.discard(obs["bill"])
                if obs.get("status") != "error" and obs.get("mode") == "api" and not obs.get("fallback"):
                    api_answered = True
                todo.append(obs)
            _store_all(sessions, todo, result, now(), crawl_every, detail_every, on_outcome)
    if result.throttled is not None:
        _postpone(sessions, result, pending, asked, now())
    if api_answered and config.sources.malegislature.mode == "api":
        result.directory = _refresh_directory_if_due(config, sessions, {j.session for j in jobs}, now, on_outcome)
        if result.directory is not None:
            result.errors.extend(result.directory.errors)
    fields = {"job": "crawl", "bills": result.checked, "changed": result.changed, "events": len(result.events),
              "errors": len(result.errors), "duration_s": round(time.monotonic() - started, 1)}
    log.info("job=%(job)s bills=%(bills)d changed=%(changed)d events=%(events)d errors=%(errors)d "
             "duration_s=%(duration_s).1f", fields, extra=fields)
    return result


def _postpone(sessions: sessionmaker[Session], result: CrawlResult, pending: set[str], asked: set[str],
              at: datetime) -> None:
    """The site throttled us: every bill this crawl did not finish waits as long as the site asked
    (at least ``THROTTLE_MIN_WAIT``). No bill is blamed; the crawl reports one error."""
    until = throttled_until(at, timedelta(seconds=int(result.throttled["retry_after_s"] or 0)))
    wait = int((until - at).total_seconds())
    with sessions.begin() as s:
        for bill in s.scalars(select(Bill).where(Bill.canonical.in_(sorted(pending)))):
            bill.postponed(until, asked_at=at if bill.canonical in asked else None)
    result.throttled["postponed"] = len(pending)
    result.errors.append({"source": "malegislature", "url": result.throttled["url"],
                          "error": f"{result.throttled['error']}; crawl stopped, {len(pending)} bills wait "
                                   f"{wait} s"})
    fields = {"job": "crawl", "url": result.throttled["url"], "retry_after_s": result.throttled["retry_after_s"],
              "postponed": len(pending)}
    log.warning("job=%(job)s throttled url=%(url)s retry_after_s=%(retry_after_s)s postponed=%(postponed)d", fields,
                extra=fields)


def _refresh_directory_if_due(config: Config, sessions: sessionmaker[Session], general_courts: set[int],
                              now: Callable[[], datetime], on_outcome) -> DirectoryResult | None:
    """Refresh the directory of the General Courts whose stored one is missing or stale (no request otherwise)."""
    with sessions() as s:
        due = due_sessions(s, config, general_courts, now())
    if not due:
        return None
    return refresh_directory(config, sessions, due, now=now(), on_outcome=on_outcome)


def _store_all(sessions: sessionmaker[Session], todo: list[dict], result: CrawlResult, at: datetime,
               crawl_every, detail_every, on_outcome) -> None:
    if not todo:
        return
    for obs, outcome in zip(todo, _store(sessions, todo, at, crawl_every, detail_every)):
        if obs.get("fallback"):
            result.fallbacks.append({"bill": obs["bill"], "reason": obs["fallback"]})
        result.collect(outcome, on_outcome)


# the batch store (tracker.crawl_store); module names, so that a benchmark can time them
_store = store_batch
_record_failure = record_failure
_batched = batched
