"""Storing the crawl child's observations in batches (``tracker.crawl``).

The child's observations are read in a thread of their own (:func:`batched`), so the child never
waits on a full pipe while the parent writes, and whatever has arrived when the parent is ready is
stored together (:func:`store_batch`):

- the unchanged bills (the site answered 304, or the same history) in one UPDATE executemany: their
  check times, validators and URL, nothing else;
- the bills that moved, one after the other in ONE transaction (the bills of the batch read with one
  query, their fetched responses stored with ``db.snapshots.store_snapshots``). When any of them fails, that transaction is rolled back and every bill of the batch is
  stored again in its own transaction (:func:`store_one`, what the crawl always did), so one bad bill
  is reported with its URL and the others are stored as if it were not there;
- a failed fetch as a failure of its bill, in its own transaction.

Every record is the one a bill-by-bill store writes: the same rows and events, in the same order.
"""

from __future__ import annotations

import logging
import queue
import threading
from datetime import datetime, timedelta
from typing import Iterable, Iterator

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from db.bills import find_bill
from db.models import Bill
from db.snapshots import store_snapshots
from spiders.billids import parse_bill_id
from spiders.observations import decode_snapshot_body
from tracker.bill_writer import HANDOVER, BillOutcome, BillWriter, ensure_bill

log = logging.getLogger("tracker.crawl")

BATCH_MAX = 200  # observations stored together at most
_END = object()


def batched(observations: Iterable[dict], stop: threading.Event | None, halt: threading.Event,
            most: int = BATCH_MAX) -> Iterator[list[dict]]:
    """The observations, read in a thread of their own, as lists of whatever has arrived (at most ``most``,
    at least one). ``halt`` is the child's stop: set here when ``stop`` is set or the caller ends early
    (its watchdog then kills the child, which ends the reading thread)."""
    arrived: queue.SimpleQueue = queue.SimpleQueue()

    def pump():
        try:
            for obs in observations:
                arrived.put(obs)
        except BaseException as exc:  # handed to the caller's thread, raised there
            arrived.put(exc)
        finally:
            arrived.put(_END)

    reader = threading.Thread(target=pump, name="crawl-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = _get(arrived, stop, halt)
            if item is _END:
                return
            batch = []
            while True:
                if isinstance(item, BaseException):
                    raise item
                batch.append(item)
                if len(batch) >= most:
                    break
                try:
                    item = arrived.get_nowait()
                except queue.Empty:
                    break
                if item is _END:
                    yield batch
                    return
            yield batch
    finally:
        if reader.is_alive():
            halt.set()  # ended early (stop, or an exception here): the child is killed, not left fetching


def _get(arrived: queue.SimpleQueue, stop: threading.Event | None, halt: threading.Event):
    while True:
        try:
            return arrived.get(timeout=0.2)
        except queue.Empty:
            if stop is not None and stop.is_set():
                halt.set()


def store_batch(sessions: sessionmaker[Session], batch: list[dict], at: datetime, crawl_every: timedelta,
                detail_every: timedelta) -> list[BillOutcome]:
    """The outcomes of ``batch`` (bill observations), in its order, stored as the module says."""
    outcomes: dict[int, BillOutcome] = {}
    unchanged = [i for i, obs in enumerate(batch) if obs["status"] == "unchanged"]
    moved = [i for i, obs in enumerate(batch) if obs["status"] not in ("unchanged", "error")]
    for i, obs in enumerate(batch):
        if obs["status"] == "error":
            outcomes[i] = record_failure(sessions, obs["bill"], obs, at)
    if unchanged:
        done = _store_unchanged(sessions, [batch[i] for i in unchanged], at, crawl_every)
        for i in unchanged:
            if batch[i]["bill"] in done:
                outcomes[i] = BillOutcome(batch[i]["bill"])
            else:  # not a tracked bill any more: the bill-by-bill path tracks it again, as it always did
                moved.append(i)
        moved.sort()
    if moved:
        stored = _store_together(sessions, [batch[i] for i in moved], at, crawl_every, detail_every)
        if stored is None:
            stored = [store_one(sessions, batch[i], at, crawl_every, detail_every) for i in moved]
        outcomes.update(zip(moved, stored))
    return [outcomes[i] for i in range(len(batch))]


def _store_unchanged(sessions: sessionmaker[Session], batch: list[dict], at: datetime,
                     crawl_every: timedelta) -> set[str]:
    """One UPDATE executemany for the unchanged bills that are tracked (what ``Bill.checked_ok`` and
    ``BillWriter.unchanged`` set); the canonical ids it covered."""
    with sessions.begin() as s:
        tracked = set(s.scalars(select(Bill.canonical).where(
            Bill.canonical.in_([obs["bill"] for obs in batch]), Bill.tracked.is_(True))))
        rows = [{"b_canonical": obs["bill"], "b_etag": obs.get("etag"), "b_last_modified": obs.get("last_modified"),
                 "b_url": obs.get("url") or None} for obs in batch if obs["bill"] in tracked]
        if rows:
            table = Bill.__table__
            s.connection().execute(
                update(table).where(table.c.canonical == bindparam("b_canonical")).values(
                    last_checked_at=at, last_success_at=at, error_count=0, failing_since=None, last_error=None,
                    throttled_until=None, etag=bindparam("b_etag"), last_modified=bindparam("b_last_modified"),
                    next_check_at=at + crawl_every, url=func.coalesce(bindparam("b_url"), table.c.url)),
                rows)
    return tracked


def _store_together(sessions: sessionmaker[Session], batch: list[dict], at: datetime, crawl_every: timedelta,
                    detail_every: timedelta) -> list[BillOutcome] | None:
    """The bills that moved, in one transaction; None when one of them failed (nothing of the batch is kept)."""
    if len(batch) == 1:
        return None  # the bill-by-bill path is the same transaction, and reports a failure itself
    try:
        with sessions.begin() as s:
            known = {b.canonical: b for b in s.scalars(select(Bill).where(
                Bill.canonical.in_([obs["bill"] for obs in batch])))}
            snaps = [snap for obs in batch for snap in obs.get("snapshots") or []]
            ids = store_snapshots(s, [(decode_snapshot_body(snap), snap) for snap in snaps])
            snapshot_ids = {id(snap): i for snap, i in zip(snaps, ids)}
            outcomes = [_apply(s, obs, at, crawl_every, detail_every, known, snapshot_ids) for obs in batch]
            s.flush()
        return outcomes
    except Exception as exc:  # stored again bill by bill: the bad one is reported, the others kept
        log.info("a batch of %d bills failed (%s: %s); storing them one by one", len(batch), type(exc).__name__, exc)
        return None


def store_one(sessions: sessionmaker[Session], obs: dict, at: datetime, crawl_every: timedelta,
              detail_every: timedelta) -> BillOutcome:
    """One bill observation in its own transaction; a failure is recorded on the bill."""
    canonical = obs["bill"]
    if obs["status"] == "error":
        return record_failure(sessions, canonical, obs, at)
    try:
        with sessions.begin() as s:
            outcome = _apply(s, obs, at, crawl_every, detail_every, {})
            s.flush()
            return outcome
    except Exception as exc:  # one bill's bad data must not stop the others
        log.exception("bill=%s storing failed", canonical, extra={"bill": canonical})
        err = {"source": "malegislature", "url": obs.get("url"), "error": f"{type(exc).__name__}: {exc}"}
        return record_failure(sessions, canonical, {"error": err, "url": obs.get("url")}, at)


def _apply(s: Session, obs: dict, at: datetime, crawl_every: timedelta, detail_every: timedelta,
           known: dict[str, Bill], snapshot_ids: dict[int, int] | None = None) -> BillOutcome:
    canonical = obs["bill"]
    reason, position = None, "support"
    if obs.get("discovered_from"):  # a new draft or study order takes over the position of its bill
        found = obs["discovered_from"]
        reason = f"{HANDOVER[found['reason']]} {found['bill']}"
        origin = find_bill(s, found["bill"])
        position = origin.position if origin is not None and origin.position else position
    bill = known.get(canonical)
    if bill is None or not bill.tracked:  # read in the batch's one query, or found (and tracked) here
        bill = ensure_bill(s, parse_bill_id(canonical), at, reason, position)
    writer = BillWriter(s, at, crawl_every, detail_every, snapshot_ids)
    return writer.unchanged(bill, obs) if obs["status"] == "unchanged" else writer.apply(bill, obs)


def record_failure(sessions: sessionmaker[Session], canonical: str, obs: dict, at: datetime) -> BillOutcome:
    err = dict(obs["error"])
    err["bill"] = canonical
    with sessions.begin() as s:
        bill = find_bill(s, canonical)
        if bill is not None:  # a discovered bill that failed on first sight is not tracked until it works
            bill.failed(at, err["url"], err["error"])
    return BillOutcome(canonical, error=err)
