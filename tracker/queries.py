"""Read functions behind ``tracker bills``, ``tracker bill`` and ``tracker events``.

They return plain dicts in the stable JSON shapes of DESIGN.md.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Article, ArticleBill, Bill, BillAction, Event, Hearing
from spiders.billids import BillId, JURISDICTION
from tracker.store import hearing_payload


class NoSuchBill(LookupError):
    pass


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value else None


def bill_summary(bill: Bill) -> dict:
    return {
        "id": bill.canonical,
        "jurisdiction": JURISDICTION,
        "session": bill.session,
        "number": bill.number,
        "title": bill.title,
        "sponsor": bill.sponsor,
        "committee": bill.committee,
        "status": bill.status,
        "url": bill.url,
        "tracked": bill.tracked,
        "petitioners": len(bill.petitioners or []),
        "last_checked_at": _iso(bill.last_checked_at),
        "next_check_at": _iso(bill.next_check_at),
        "error": bill.last_error,
    }


def list_bills(s: Session, include_untracked: bool = False) -> list[dict]:
    query = select(Bill).order_by(Bill.session, Bill.number)
    if not include_untracked:
        query = query.where(Bill.tracked.is_(True))
    return [bill_summary(b) for b in s.scalars(query)]


def get_bill(s: Session, bid: BillId) -> dict:
    bill = s.scalar(select(Bill).where(Bill.canonical == bid.canonical))
    if bill is None:
        raise NoSuchBill(f"{bid.canonical} is not in the database; track it in feeds.yaml and run tracker crawl")
    out = bill_summary(bill)
    out["actions"] = [
        {"date": _iso(a.date), "branch": a.branch, "action": a.action, "kinds": list(a.kinds)}
        for a in s.scalars(
            select(BillAction).where(BillAction.bill_id == bill.id, BillAction.removed_at.is_(None))
            .order_by(BillAction.position)
        )
    ]
    out["hearings"] = [hearing_payload(h) for h in s.scalars(
        select(Hearing).where(Hearing.bill_id == bill.id).order_by(Hearing.starts_at, Hearing.id))]
    out["articles"] = [
        {"url": a.url, "title": a.title, "published_at": _iso(a.published_at), "source": a.publisher,
         "reason": reason}
        for a, reason in s.execute(
            select(Article, ArticleBill.reason).join(ArticleBill, ArticleBill.article_id == Article.id)
            .where(ArticleBill.bill_id == bill.id)
            .order_by(Article.published_at.desc().nulls_last(), Article.id.desc()))
    ]
    return out


def list_events(
    s: Session,
    since: datetime | None = None,
    bill: BillId | None = None,
    kinds: list[str] | None = None,
    limit: int | None = None,
) -> list[dict]:
    query = select(Event, Bill.canonical).outerjoin(Bill, Event.bill_id == Bill.id).order_by(Event.id)
    if since is not None:
        query = query.where(Event.at >= since)
    if bill is not None:
        query = query.where(Bill.canonical == bill.canonical)
    if kinds:
        query = query.where(Event.kind.in_(kinds))
    if limit is not None:
        # the newest N, still listed oldest first
        inner = query.order_by(None).with_only_columns(Event.id).order_by(Event.id.desc()).limit(limit).subquery()
        rows = list(s.execute(query.where(Event.id.in_(select(inner.c.id)))))
    else:
        rows = list(s.execute(query))
    return [event_json(ev, canonical) for ev, canonical in rows]


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
