"""The health of the sources, read from the database: every source's state (``tracker status``), the
problems staff should know of (the staff digest), and the failures still open in the event log.

Bills are reported together as the source ``malegislature``; each active feed is a source of its own.
A source is "open" (failing) while its latest health event is ``source.failing``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from statistics import median
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import ArticleSource, Bill, Event, Feed

HEALTH_KINDS = ("source.failing", "source.recovered")
SILENT_FACTOR = 3  # silent for three times its usual gap between new items...
SILENT_AT_LEAST = timedelta(days=1)  # ...and at least a day
RECENT_ITEMS = 20


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _state(failing: bool, throttled_until: datetime | None, fetched: bool, now: datetime) -> str:
    """One source's ``state``: ``failing`` (errors, whatever else), ``throttled`` (the site asked us to wait and
    that time has not passed), ``never-fetched`` (no success yet, no failure yet), else ``ok``."""
    if failing:
        return "failing"
    if throttled_until is not None and throttled_until > now:
        return "throttled"
    return "ok" if fetched else "never-fetched"


def _throttle(rows, now: datetime) -> datetime | None:
    """The latest wait the site asked of these rows that is still running (None when none is)."""
    waits = [r.throttled_until for r in rows if r.throttled_until is not None and r.throttled_until > now]
    return max(waits) if waits else None


def _never_fetched_bills() -> dict:
    return {"name": "malegislature", "kind": "bills", "state": "never-fetched", "ok": False, "last_success": None,
            "failing_since": None, "next_check_at": None, "throttled_until": None, "error": None, "failing": [],
            "checked": 0}


def _bills_source(s: Session, now: datetime) -> dict | None:
    bills = list(s.scalars(select(Bill).where(Bill.tracked.is_(True)).order_by(Bill.id)))
    if not bills:
        return None
    failing = [b for b in bills if b.error_count]
    successes = [b.last_success_at for b in bills if b.last_success_at]
    next_checks = [b.next_check_at for b in bills if b.next_check_at]
    since = [b.failing_since for b in failing if b.failing_since]
    throttled = _throttle(bills, now)
    error = None
    if failing:
        error = f"{failing[0].canonical}: {failing[0].last_error}"
        if len(failing) > 1:
            error += f" (and {len(failing) - 1} more of {len(bills)} bills failing)"
    return {"name": "malegislature", "kind": "bills", "state": _state(bool(failing), throttled, bool(successes), now),
            "ok": not failing and bool(successes),
            "last_success": _iso(max(successes) if successes else None),
            "failing_since": _iso(min(since) if since else None),
            "next_check_at": _iso(min(next_checks) if next_checks else None),
            "throttled_until": _iso(throttled),
            "error": error, "failing": [b.canonical for b in failing], "checked": len(bills)}


def source_states(s: Session, now: datetime | None = None, bills_configured: bool = False,
                  feeds_configured: Iterable[str] = ()) -> list[dict]:
    """Each source as ``tracker status`` shows it: ``{"name", "kind", "state", "ok", "last_success",
    "failing_since", "next_check_at", "throttled_until", "error", ...}``.

    ``state`` is ``ok``, ``failing``, ``throttled`` or ``never-fetched`` (see ``_state``). ``ok`` means what it
    always meant, no failure, and also that something was fetched: a source throttled or never run before its
    first success is not ok; one throttled after a success still is (its data is as fresh as that success).
    ``bills_configured`` / ``feeds_configured``: sources feeds.yaml lists that no crawl or poll has written yet
    are shown as ``never-fetched``."""
    now = now or datetime.now(timezone.utc)
    sources = []
    bills = _bills_source(s, now)
    if bills:
        sources.append(bills)
    elif bills_configured:
        sources.append(_never_fetched_bills())
    feeds = list(s.scalars(select(Feed).where(Feed.active.is_(True)).order_by(Feed.id)))
    for feed in feeds:
        throttled = _throttle([feed], now)
        fetched = feed.last_success_at is not None
        sources.append({"name": feed.name, "kind": "feed",
                        "state": _state(bool(feed.error_count), throttled, fetched, now),
                        "ok": not feed.error_count and fetched,
                        "last_success": _iso(feed.last_success_at), "failing_since": _iso(feed.failing_since),
                        "next_check_at": _iso(feed.next_check_at), "throttled_until": _iso(throttled),
                        "error": feed.last_error, "url": feed.url, "last_new_item_at": _iso(feed.last_new_item_at)})
    known = {f.name for f in feeds}
    for name in feeds_configured:
        if name not in known:
            sources.append({"name": name, "kind": "feed", "state": "never-fetched", "ok": False, "last_success": None,
                            "failing_since": None, "next_check_at": None, "throttled_until": None, "error": None,
                            "url": None, "last_new_item_at": None})
    return sources


def _usual_gap(s: Session, feed_id: int) -> timedelta | None:
    seen = list(s.scalars(select(ArticleSource.seen_at).where(ArticleSource.feed_id == feed_id)
                          .order_by(ArticleSource.seen_at.desc()).limit(RECENT_ITEMS)))
    gaps = [a - b for a, b in zip(seen, seen[1:]) if a > b]
    return median(gaps) if len(gaps) >= 3 else None


def source_problems(s: Session, now: datetime) -> list[dict]:
    """``[{"source", "kind", "problem", "since"}]``: sources in error, and feeds silent for longer than usual."""
    out = []
    for src in source_states(s, now):
        if src["state"] == "failing":  # waiting as the site asked, or not run yet, is nobody's failure
            out.append({"source": src["name"], "kind": src["kind"], "problem": f"failing: {src['error']}",
                        "since": src["failing_since"]})
    for feed in s.scalars(select(Feed).where(Feed.active.is_(True), Feed.error_count == 0,
                                            Feed.last_new_item_at.is_not(None))):
        gap = _usual_gap(s, feed.id)
        silent = now - feed.last_new_item_at
        if gap is not None and silent > max(SILENT_AT_LEAST, gap * SILENT_FACTOR):
            out.append({"source": feed.name, "kind": "feed", "since": feed.last_new_item_at.isoformat(),
                        "problem": f"no new item for {silent.days} days (usually one every "
                                   f"{max(1, round(gap.total_seconds() / 3600))} hours)"})
    return out


def open_failures(s: Session) -> dict[str, Event]:
    """source name -> its ``source.failing`` event, for sources not recovered since."""
    latest: dict[str, Event] = {}
    for ev in s.scalars(select(Event).where(Event.kind.in_(HEALTH_KINDS)).order_by(Event.id)):
        latest[(ev.payload or {}).get("source", "")] = ev
    return {name: ev for name, ev in latest.items() if ev.kind == "source.failing"}


def failing_since(ev: Event, now: datetime) -> datetime:
    """When the trouble of a ``source.failing`` event began (``now`` when it does not say)."""
    text = (ev.payload or {}).get("since")
    return datetime.fromisoformat(text) if text else now


def long_failures(s: Session, now: datetime, longer_than: timedelta = timedelta(days=1)) -> list[Event]:
    """Open ``source.failing`` events whose trouble began more than ``longer_than`` ago (for staff alerts)."""
    return [ev for ev in open_failures(s).values() if now - failing_since(ev, now) > longer_than]
