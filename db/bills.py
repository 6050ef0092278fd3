"""Reading bills: the list, one bill with its actions, hearings and articles (``tracker bills``, ``tracker bill``,
the API and the archive's pages), and the rows the archive's timeline and chart are drawn from.

Plain functions over a Session returning the stable JSON shapes of DESIGN.md. A bill is named by its canonical
id (``ma/192/H135``); parsing the other spellings is the caller's business.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.lineage import lineage_of
from db.models import Article, ArticleBill, Bill, BillAction, Document, Event, Hearing
from db.payloads import hearing_payload
from db.texts import version_count


class NoSuchBill(LookupError):
    pass


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value else None


def bill_summary(bill: Bill) -> dict:
    return {
        "id": bill.canonical,
        "jurisdiction": bill.canonical.split("/", 1)[0],
        "session": bill.session,
        "number": bill.number,
        "title": bill.title,
        "sponsor": bill.sponsor,
        "committee": bill.committee,
        "status": bill.status,
        "url": bill.url,
        "tracked": bill.tracked,
        "position": bill.position if bill.tracked else None,
        "docket": bill.docket,
        "petitioners": len(bill.petitioners or []),
        "last_checked_at": _iso(bill.last_checked_at),
        "next_check_at": _iso(bill.next_check_at),
        "error": bill.last_error,
    }


def list_bills(s: Session, include_untracked: bool = False, limit: int | None = None, offset: int = 0) -> list[dict]:
    """Bills by session and number; ``limit``/``offset`` page in SQL."""
    query = select(Bill).order_by(Bill.session, Bill.number)
    if not include_untracked:
        query = query.where(Bill.tracked.is_(True))
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [bill_summary(b) for b in s.scalars(query)]


def find_bill(s: Session, canonical: str) -> Bill | None:
    """The bill known as ``canonical``, or whose docket number it is (``ma/194/SD503`` finds S.1053 once the
    docket has its bill number: the docket number stays an alias)."""
    bill = s.scalar(select(Bill).where(Bill.canonical == canonical))
    if bill is None:
        session, _, number = canonical.rpartition("/")
        if number.upper().startswith(("HD", "SD")) and session.rpartition("/")[2].isdigit():
            bill = s.scalar(select(Bill).where(Bill.session == int(session.rpartition("/")[2]),
                                               Bill.docket == number, Bill.canonical != canonical))
    return bill


def _bill(s: Session, canonical: str) -> Bill:
    bill = find_bill(s, canonical)
    if bill is None:
        raise NoSuchBill(f"{canonical} is not in the database; track it in feeds.yaml and run tracker crawl")
    return bill


def get_bill(s: Session, canonical: str) -> dict:
    """``tracker bill``'s JSON: the bill, its current actions, its hearings, the articles about it, its direct
    lineage (``db.lineage.lineage_of``) and how many versions of its text are stored (``text_versions``)."""
    bill = _bill(s, canonical)
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
        {"url": a.url, "link": a.link or a.url, "title": a.title, "published_at": _iso(a.published_at), "source": a.publisher,
         "reason": reason}
        for a, reason in s.execute(
            select(Article, ArticleBill.reason).join(ArticleBill, ArticleBill.article_id == Article.id)
            .where(ArticleBill.bill_id == bill.id)
            .order_by(Article.published_at.desc().nulls_last(), Article.id.desc()))
    ]
    out["lineage"] = lineage_of(s, bill.canonical)
    out["text_versions"] = version_count(s, bill.id)
    return out


def bill_timeline(s: Session, canonical: str) -> dict:
    """``get_bill`` with every action ever listed (its snapshot, first sighting, whether it was removed since)
    and the bill's events, oldest first."""
    data = get_bill(s, canonical)
    bill = _bill(s, canonical)
    data["actions"] = [{"date": _iso(a.date), "branch": a.branch, "action": a.action,
                        "kinds": list(a.kinds), "snapshot": a.snapshot_id, "first_seen_at": a.first_seen_at.isoformat(),
                        "removed": a.removed_at is not None} for a in _actions(s, bill.id, with_removed=True)]
    data["events"] = [{"id": e.id, "kind": e.kind, "at": e.at.isoformat(), "summary": e.summary,
                       "snapshot": e.snapshot_id}
                      for e in s.scalars(select(Event).where(Event.bill_id == bill.id).order_by(Event.id))]
    return data


def bill_actions(s: Session, canonical: str, until: date | None = None, with_removed: bool = False) -> list[BillAction]:
    """The bill's history rows in the legislature's order: those still listed (and, ``with_removed``, those
    stricken since); ``until``: only those dated up to that day."""
    return _actions(s, _bill(s, canonical).id, until, with_removed)


def _actions(s: Session, bill_pk: int, until: date | None = None, with_removed: bool = False) -> list[BillAction]:
    query = select(BillAction).where(BillAction.bill_id == bill_pk).order_by(BillAction.position)
    if not with_removed:
        query = query.where(BillAction.removed_at.is_(None))
    if until is not None:
        query = query.where(BillAction.date.is_not(None), BillAction.date <= until)
    return list(s.scalars(query))


def article_times(s: Session, canonical: str) -> list[datetime]:
    """When each article linked to the bill was published (else first seen)."""
    bill = _bill(s, canonical)
    return [p or f for p, f in s.execute(
        select(Article.published_at, Article.first_seen_at).join(ArticleBill, ArticleBill.article_id == Article.id)
        .where(ArticleBill.bill_id == bill.id))]


def pages_of(s: Session, canonicals: set[str]) -> dict[str, str]:
    """Which of these ids the archive has a page for: ``bill`` (a bill it holds: its timeline) or ``document``
    (a document of a synced docket); ids it knows neither way are left out."""
    if not canonicals:
        return {}
    out = {c: "document" for c in s.scalars(select(Document.canonical).where(Document.canonical.in_(canonicals)))}
    return out | {c: "bill" for c in s.scalars(select(Bill.canonical).where(Bill.canonical.in_(canonicals)))}
