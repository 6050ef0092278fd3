"""Read functions behind the archive's pages and API: a bill's timeline, its status as of a date,
coverage per week, and the event log. Plain functions on a Session, like ``tracker.queries``."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Article, ArticleBill, Bill, BillAction, Event
from spiders.actions import current_committee, stage
from spiders.records import HistoryAction
from spiders.billids import BillId
from tracker.queries import NoSuchBill, get_bill
from spiders.billids import session_ended

MILESTONE_KINDS = {"hearing-scheduled": "hearing", "reported-favorably": "reported", "ought-to-pass": "reported",
                   "new-draft": "new draft", "study-order": "study order", "engrossed": "engrossed",
                   "enacted": "enacted", "signed": "signed", "vetoed": "vetoed"}


def bill_row(s: Session, bid: BillId) -> Bill:
    bill = s.scalar(select(Bill).where(Bill.canonical == bid.canonical))
    if bill is None:
        raise NoSuchBill(f"{bid.canonical} is not followed here")
    return bill


def timeline(s: Session, bid: BillId) -> dict:
    """The bill (``tracker bill``'s JSON) with each action's snapshot and first sighting, and its events."""
    data = get_bill(s, bid)
    bill = bill_row(s, bid)
    rows = list(s.scalars(select(BillAction).where(BillAction.bill_id == bill.id).order_by(BillAction.position)))
    data["actions"] = [{"date": a.date.isoformat() if a.date else None, "branch": a.branch, "action": a.action,
                        "kinds": list(a.kinds), "snapshot": a.snapshot_id, "first_seen_at": a.first_seen_at.isoformat(),
                        "removed": a.removed_at is not None} for a in rows]
    data["events"] = [{"id": e.id, "kind": e.kind, "at": e.at.isoformat(), "summary": e.summary,
                       "snapshot": e.snapshot_id}
                      for e in s.scalars(select(Event).where(Event.bill_id == bill.id).order_by(Event.id))]
    return data


def status_as_of(s: Session, bid: BillId, when: date) -> dict:
    """What the bill's status was at the end of ``when``, from the actions dated up to then."""
    bill = bill_row(s, bid)
    rows = [a for a in s.scalars(select(BillAction).where(BillAction.bill_id == bill.id, BillAction.removed_at.is_(None))
                                 .order_by(BillAction.position)) if a.date is not None and a.date <= when]
    history = [HistoryAction(a.date.isoformat(), a.branch, a.action) for a in rows]
    return {"as_of": when.isoformat(), "status": stage(history, session_ended(bill.session, when)) if history else None,
            "committee": current_committee(history) if history else None,
            "latest_action": ({"date": rows[-1].date.isoformat(), "action": rows[-1].action} if rows else None),
            "actions": len(rows)}


def coverage_by_week(s: Session, bid: BillId) -> dict:
    """Articles linked to the bill per ISO week (Monday), and the bill's milestones, for the chart."""
    bill = bill_row(s, bid)
    published = [p or f for p, f in s.execute(
        select(Article.published_at, Article.first_seen_at).join(ArticleBill, ArticleBill.article_id == Article.id)
        .where(ArticleBill.bill_id == bill.id))]
    weeks = Counter((p.astimezone(timezone.utc).date() - timedelta(days=p.astimezone(timezone.utc).weekday()))
                    for p in published if p)
    milestones = []
    for a in s.scalars(select(BillAction).where(BillAction.bill_id == bill.id, BillAction.date.is_not(None))
                       .order_by(BillAction.position)):
        label = next((MILESTONE_KINDS[k] for k in a.kinds if k in MILESTONE_KINDS), None)
        if label:
            milestones.append({"date": a.date.isoformat(), "label": label, "action": a.action})
    return {"weeks": sorted((w.isoformat(), n) for w, n in weeks.items()), "milestones": milestones}


def chart_svg_data(cov: dict, width: int = 720, height: int = 180) -> dict | None:
    """Positions for a server-rendered SVG: a bar per week with coverage, a line per milestone."""
    days = [date.fromisoformat(w) for w, _ in cov["weeks"]] + [date.fromisoformat(m["date"]) for m in cov["milestones"]]
    if not days:
        return None
    start, end = min(days) - timedelta(days=7), max(days) + timedelta(days=7)
    span = max(1, (end - start).days)
    top = max([n for _, n in cov["weeks"]] or [1])
    plot_h = height - 40

    def x(d: date) -> float:
        return round(30 + (d - start).days / span * (width - 40), 1)

    bars = [{"x": x(date.fromisoformat(w)), "w": max(2.0, round(7 / span * (width - 40), 1)), "n": n,
             "h": round(n / top * plot_h, 1), "y": round(10 + plot_h - n / top * plot_h, 1), "week": w}
            for w, n in cov["weeks"]]
    marks = [{"x": x(date.fromisoformat(m["date"])), "label": m["label"], "date": m["date"]} for m in cov["milestones"]]
    return {"width": width, "height": height, "bars": bars, "marks": marks, "top": top,
            "start": start.isoformat(), "end": end.isoformat(), "baseline": 10 + plot_h}


def event_log(s: Session, kind: str | None, bill: BillId | None, since: datetime | None, offset: int,
              limit: int) -> list[dict]:
    query = select(Event, Bill.canonical).outerjoin(Bill, Bill.id == Event.bill_id).order_by(Event.id.desc())
    if kind:
        query = query.where(Event.kind == kind)
    if bill:
        query = query.where(Bill.canonical == bill.canonical)
    if since:
        query = query.where(Event.at >= since)
    return [{"id": e.id, "kind": e.kind, "at": e.at.isoformat(),
             "occurred_at": (e.occurred_at.isoformat() if e.occurred_at else
                             e.occurred_on.isoformat() if e.occurred_on else None),
             "bill": canonical, "article": e.article_id, "summary": e.summary, "payload": e.payload,
             "snapshot": e.snapshot_id}
            for e, canonical in s.execute(query.offset(offset).limit(limit))]


def event_kinds(s: Session) -> list[str]:
    return list(s.scalars(select(Event.kind).group_by(Event.kind).order_by(Event.kind)))


def count_events(s: Session) -> int:
    return s.scalar(select(func.count(Event.id))) or 0
