"""The health of the sources for the staff digest: failing sources, and feeds silent for longer than usual."""

from __future__ import annotations

from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import ArticleSource, Feed
from tracker.status import status

SILENT_FACTOR = 3  # silent for three times its usual gap between new items...
SILENT_AT_LEAST = timedelta(days=1)  # ...and at least a day
RECENT_ITEMS = 20


def _usual_gap(s: Session, feed_id: int) -> timedelta | None:
    seen = list(s.scalars(select(ArticleSource.seen_at).where(ArticleSource.feed_id == feed_id)
                          .order_by(ArticleSource.seen_at.desc()).limit(RECENT_ITEMS)))
    gaps = [a - b for a, b in zip(seen, seen[1:]) if a > b]
    return median(gaps) if len(gaps) >= 3 else None


def problems(s: Session, now: datetime) -> list[dict]:
    """``[{"source", "kind", "problem", "since"}]``: what staff should know about the sources."""
    out = []
    for src in status(s)["sources"]:
        if not src["ok"]:
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
