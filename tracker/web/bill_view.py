"""What the bill page shows, read in one session: the bill's timeline, its lineage, the bill that replaced it,
its hearings as they stand, the coverage chart; with ``as_of``, all of it as it stood at the end of that day
(actions, events, articles and milestones after it left out, the status and the badge of that day)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.bills import bill_timeline, pages_of
from db.lineage import chain, steps
from db.models import Bill
from db.texts import find_version, versions
from spiders.billids import BillId
from tracker.replacement import replaced_by
from tracker.text_writer import replaced_bill
from tracker.readable import hearing_state
from tracker.web import archive
from tracker.web.billrefs import numbers_in, page_url
from tracker.web.chart import chart_svg_data

HEARING_KINDS = {"hearing-scheduled", "hearing-rescheduled", "hearing-canceled"}


def _eastern_day(iso: str | None) -> date | None:
    return datetime.fromisoformat(iso).astimezone(archive.EASTERN).date() if iso else None


def bill_page(s: Session, bid: BillId, when: date | None, now: datetime) -> dict:
    """The context of ``bill.html`` (``db.bills.NoSuchBill`` when the bill is unknown)."""
    data = bill_timeline(s, bid.canonical)
    lineage = steps(chain(s, data["id"])) if data["lineage"] else []
    past = archive.status_as_of(s, bid, when) if when else None
    if when is not None:
        _cut(data, when)
        now = datetime.combine(when + timedelta(days=1), time(0), archive.EASTERN)
    status = past["status"] if past else data["status"]
    successor = replaced_by(data | {"status": status}, data["actions"] if past else None)
    pages = pages_of(s, numbers_in([a["action"] for a in data["actions"]], data["session"]) | {successor or ""})
    for h in data["hearings"]:
        h["state"] = hearing_state(h, now)
    return {"bill": data, "past": past, "bill_status": status, "pages": pages, "lineage": lineage if len(lineage) > 1 else [],
            "replaced_by": successor and {"id": successor, "number": successor.rsplit("/", 1)[1],
                                          "url": page_url(successor, pages)},
            "chart": chart_svg_data(archive.coverage_by_week(s, bid, when)),
            "texts": _texts(s, data, when, successor)}


def _texts(s: Session, data: dict, when: date | None, successor: str | None) -> dict:
    """The bill's stored versions (as of ``when``: those seen by then), each with the link to what changed from
    the one before; the redline against the bill it is a new draft of, and against the new draft that replaced
    it, when both texts are on file."""
    bill = s.scalar(select(Bill).where(Bill.canonical == data["id"]))
    shown = [v for v in versions(s, bill.id) if when is None or _eastern_day(v.seen_at.isoformat()) <= when]
    path = f"/bills/{data['session']}/{data['number']}"
    rows = [{"version": v.version, "seen_at": v.seen_at, "words": v.words, "size": v.size, "source": v.source,
             "compare": f"{path}@{v.version}/compare/{data['session']}/{data['number']}@{v.version - 1}"
             if v.version > 1 else None} for v in shown]
    out = {"versions": rows, "draft_of": None, "draft": None}
    older = replaced_bill(s, bill)
    if rows and older and find_version(s, older):
        out["draft_of"] = {"number": older.rsplit("/", 1)[1], "url": f"{path}/compare/{older.split('/', 1)[1]}"}
    if rows and successor and find_version(s, successor):
        newer = successor.split("/", 1)[1]
        out["draft"] = {"number": successor.rsplit("/", 1)[1],
                        "url": f"/bills/{newer}/compare/{data['session']}/{data['number']}"}
    return out


def _cut(data: dict, when: date) -> None:
    """Leave out of ``data`` what happened after ``when``: actions dated later (and undated ones), events
    recorded later, articles published later, and the hearings when no action by then had set one."""
    data["actions"] = [a for a in data["actions"] if a["date"] and date.fromisoformat(a["date"]) <= when]
    data["events"] = [e for e in data["events"] if _eastern_day(e["at"]) <= when]
    data["articles"] = [a for a in data["articles"] if a["published_at"] and _eastern_day(a["published_at"]) <= when]
    if not any(HEARING_KINDS & set(a["kinds"]) for a in data["actions"]):
        data["hearings"] = []


def next_change(data: dict, now: datetime) -> datetime | None:
    """When the page of ``data`` (a ``bill_page`` bill, not cut to a past day) changes by the clock alone: the
    start of its next hearing that is not canceled (it becomes ``held``); None when nothing is ahead."""
    starts = [datetime.fromisoformat(h["starts_at"]) for h in data["hearings"]
              if h.get("starts_at") and h.get("status") != "canceled"]
    ahead = [t for t in starts if t > now]
    return min(ahead) if ahead else None


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
