"""``tracker status``: the health of every source, in the contract's shape.

Bills are reported together as the source ``malegislature``; each feed is a
source of its own. The outbox is counted by state (and ``uncertain``: messages
that were in flight when a connection broke, sent again); ``runs`` has the
latest run of each scheduled job, ``digests`` when each kind of message last went
out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Bill, Feed


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _bills_source(s: Session) -> dict | None:
    bills = list(s.scalars(select(Bill).where(Bill.tracked.is_(True)).order_by(Bill.id)))
    if not bills:
        return None
    failing = [b for b in bills if b.error_count]
    successes = [b.last_success_at for b in bills if b.last_success_at]
    next_checks = [b.next_check_at for b in bills if b.next_check_at]
    since = [b.failing_since for b in failing if b.failing_since]
    error = None
    if failing:
        error = f"{failing[0].canonical}: {failing[0].last_error}"
        if len(failing) > 1:
            error += f" (and {len(failing) - 1} more of {len(bills)} bills failing)"
    return {"name": "malegislature", "kind": "bills", "ok": not failing,
            "last_success": _iso(max(successes) if successes else None),
            "failing_since": _iso(min(since) if since else None),
            "next_check_at": _iso(min(next_checks) if next_checks else None),
            "error": error, "failing": [b.canonical for b in failing], "checked": len(bills)}


def status(s: Session) -> dict:
    sources = []
    bills = _bills_source(s)
    if bills:
        sources.append(bills)
    for feed in s.scalars(select(Feed).where(Feed.active.is_(True)).order_by(Feed.id)):
        sources.append({"name": feed.name, "kind": "feed", "ok": not feed.error_count,
                        "last_success": _iso(feed.last_success_at), "failing_since": _iso(feed.failing_since),
                        "next_check_at": _iso(feed.next_check_at), "error": feed.last_error,
                        "url": feed.url, "last_new_item_at": _iso(feed.last_new_item_at)})
    from alerts.outbox import counts, last_sent
    from db.runs import last_runs

    return {"sources": sources, "outbox": counts(s), "runs": last_runs(s), "digests": last_sent(s)}
