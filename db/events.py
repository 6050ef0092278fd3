"""Reading the event log: ``tracker events`` (oldest first), the archive's log and the API (newest first, paged),
and the rows of the Atom feeds. Plain functions over a Session; a bill is named by its canonical id."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Article, Bill, Event

def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value else None


def event_json(ev: Event, canonical: str | None) -> dict:
    return {
        "id": ev.id,
        "kind": ev.kind,
        "at": _iso(ev.at),
        "occurred_at": _iso(ev.occurred_at) or _iso(ev.occurred_on),
        "bill": canonical,
        "article": ev.article_id,
        "summary": ev.summary,
        "payload": ev.payload,
        "snapshot": ev.snapshot_id,
    }


def list_events(
    s: Session,
    since: datetime | None = None,
    bill: str | None = None,
    kinds: list[str] | None = None,
    limit: int | None = None,
) -> list[dict]:
    """Events oldest first; ``limit``: only the newest N (still oldest first)."""
    query = select(Event, Bill.canonical).outerjoin(Bill, Event.bill_id == Bill.id).order_by(Event.id)
    if since is not None:
        query = query.where(Event.at >= since)
    if bill is not None:
        query = query.where(Bill.canonical == bill)
    if kinds:
        query = query.where(Event.kind.in_(kinds))
    if limit is not None:
        # the newest N, still listed oldest first
        inner = query.order_by(None).with_only_columns(Event.id).order_by(Event.id.desc()).limit(limit).subquery()
        rows = list(s.execute(query.where(Event.id.in_(select(inner.c.id)))))
    else:
        rows = list(s.execute(query))
    return [event_json(ev, canonical) for ev, canonical in rows]


def event_log(s: Session, kind: str | None = None, bill: str | None = None, since: datetime | None = None,
              offset: int = 0, limit: int = 100) -> list[dict]:
    """Events newest first, filtered, then paged."""
    query = select(Event, Bill.canonical).outerjoin(Bill, Bill.id == Event.bill_id).order_by(Event.id.desc())
    if kind:
        query = query.where(Event.kind == kind)
    if bill:
        query = query.where(Bill.canonical == bill)
    if since:
        query = query.where(Event.at >= since)
    return [event_json(e, canonical) for e, canonical in s.execute(query.offset(offset).limit(limit))]


# every kind of event the tracker records (DESIGN.md, "Events"): what `tracker events --kind`, /events and
# /api/events accept, so a misspelt kind is refused instead of matching nothing
EVENT_KINDS = ("bill.tracked", "bill.action", "bill.status", "bill.title", "bill.sponsors", "bill.discovered",
               "bill.successor", "bill.text", "hearing.scheduled", "hearing.rescheduled", "hearing.canceled",
               "article.new", "article.matched", "source.failing", "source.recovered", "ask.sent")


def event_kinds(s: Session) -> list[str]:
    """The kinds the log holds now, sorted."""
    return list(s.scalars(select(Event.kind).group_by(Event.kind).order_by(Event.kind)))


def known_kinds(s: Session) -> list[str]:
    """Every kind a filter may name: those the tracker records and any other the log holds, sorted."""
    return sorted(set(EVENT_KINDS) | set(event_kinds(s)))


def feed_entries(s: Session, bill: str | None = None, limit: int = 100) -> list[tuple[Event, Bill | None, str | None]]:
    """The newest ``limit`` events (of one bill), newest first, each with its bill and its article's link (as the feed gave it)."""
    query = (select(Event, Bill, func.coalesce(Article.link, Article.url)).outerjoin(Bill, Event.bill_id == Bill.id)
             .outerjoin(Article, Event.article_id == Article.id)
             .order_by(Event.at.desc(), Event.id.desc()).limit(limit))
    if bill is not None:
        query = query.where(Bill.canonical == bill)
    return [tuple(row) for row in s.execute(query)]
