"""Which events each recipient gets, and when a digest is due.

The ledger (``deliveries``) says what a recipient has had; selection is "the
events that concern them, newer than their start, not in the ledger, and not
older than the backfill cap". Candidates are read once per dispatch: an event
recorded before ``now - cap`` cannot pass the cap (nothing happens after it is
recorded), so the candidate window is bounded however long the log grows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from db.models import Bill, BillAction, Event
from db.successors import accepted_pairs
from spiders.actions import referenced_bill

BACKFILL = {"immediate": timedelta(days=2), "daily": timedelta(days=4), "weekly": timedelta(days=14)}
BILL_KINDS = ("bill.tracked", "bill.action", "bill.status", "bill.title", "bill.sponsors",
              "hearing.scheduled", "hearing.rescheduled", "hearing.canceled")
SUPPORTER_KINDS = BILL_KINDS + ("article.matched", "bill.successor", "bill.text")
# what supporters hear of the successor search: the bill was re-filed (they follow the new number), or it was not;
# candidates, proposals and staff's rejections are staff matters
SUPPORTER_SUCCESSOR_STATES = frozenset({"accepted", "not-refiled"})
STAFF_KINDS = SUPPORTER_KINDS + ("article.new", "source.failing", "source.recovered", "bill.discovered")
URGENT_ACTIONS = frozenset({"engrossed", "enacted", "signed", "vetoed"})
URGENT_STATUSES = frozenset({"enacted", "signed", "vetoed", "law"})
HEARING_SOON = timedelta(hours=48)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def event_time(ev: Event, tz: ZoneInfo) -> datetime:
    """When it happened by the source (the action's date, the article's time), else when we saw it."""
    if ev.occurred_at is not None:
        return ev.occurred_at
    if ev.occurred_on is not None:
        return datetime.combine(ev.occurred_on, time(), tz)
    return ev.at


def is_urgent(ev: Event, now: datetime) -> bool:
    """Urgent news goes out at once whatever the frequency: a hearing within 48 hours, or the
    bill engrossed, enacted, signed or vetoed."""
    p = ev.payload or {}
    if ev.kind in ("hearing.scheduled", "hearing.rescheduled") and p.get("starts_at"):
        starts = datetime.fromisoformat(p["starts_at"])
        return now <= starts <= now + HEARING_SOON
    if ev.kind == "bill.action":
        return bool(URGENT_ACTIONS.intersection(p.get("kinds") or []))
    if ev.kind == "bill.status":
        return p.get("status") in URGENT_STATUSES and p.get("status") != p.get("previous_status")
    return False


def candidates(s: Session, now: datetime, kinds=STAFF_KINDS, window: timedelta = BACKFILL["weekly"]) -> list[Event]:
    return list(s.scalars(select(Event).where(Event.at >= now - window, Event.kind.in_(kinds)).order_by(Event.id)))


def bill_families(s: Session) -> dict[int, set[int]]:
    """bills.id -> itself and every bill that took over from it (new drafts, study orders, the accepted
    successor in the next General Court), transitively, so a supporter of H.135 hears about H.5091, the new
    draft that replaced it, and about H.1728, which re-filed it in the 193rd."""
    by_canonical = {c: i for c, i in s.execute(select(Bill.canonical, Bill.id))}
    children: dict[int, set[int]] = {}
    rows = s.execute(select(Event.bill_id, Event.payload).where(Event.kind == "bill.tracked"))
    for bill_id, payload in rows:
        parent = by_canonical.get(((payload or {}).get("discovered_from") or {}).get("bill") or "")
        if parent is not None and bill_id is not None:
            children.setdefault(parent, set()).add(bill_id)
    # a new draft that took over from several bills (H.4359 "of H1728 and S927") was followed from one of them,
    # whichever the crawl stored first: every bill whose own history hands over to it is its parent too
    for bill_id, session, action in s.execute(
            select(BillAction.bill_id, Bill.session, BillAction.action).join(Bill, Bill.id == BillAction.bill_id)
            .where(BillAction.removed_at.is_(None), or_(*[BillAction.action.ilike(f"%{w}%")
                                                          for w in ("accompanied", "substitut", "reported by")]))):
        handed = referenced_bill(action or "")
        child = by_canonical.get(f"ma/{session}/{handed[1]}") if handed else None
        if child is not None and child != bill_id:
            children.setdefault(bill_id, set()).add(child)
    for bill, successor in accepted_pairs(s):
        if bill in by_canonical and successor in by_canonical:
            children.setdefault(by_canonical[bill], set()).add(by_canonical[successor])
    families: dict[int, set[int]] = {}
    for bill_id in by_canonical.values():
        seen, todo = {bill_id}, [bill_id]
        while todo:
            for child in children.get(todo.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        families[bill_id] = seen
    return families


def text_changed(ev: Event) -> bool:
    """A ``bill.text`` event that says what changed: a later version, or a new draft against its bill."""
    p = ev.payload or {}
    return bool(p.get("previous_version") or p.get("compared_with"))


@dataclass(frozen=True)
class Interest:
    """What one recipient follows: ``bill_ids`` None means the whole campaign; never the ``excluded`` bills
    (for supporters: those the campaign only watches)."""

    bill_ids: frozenset[int] | None
    kinds: frozenset[str]
    excluded: frozenset[int] = frozenset()
    staff: bool = False

    def concerns(self, ev: Event) -> bool:
        if ev.kind not in self.kinds:
            return False
        if (ev.kind == "bill.successor" and not self.staff
                and (ev.payload or {}).get("state") not in SUPPORTER_SUCCESSOR_STATES):
            return False
        if ev.kind == "bill.text" and not self.staff and not text_changed(ev):
            return False  # a bill's first text on file is no news to a supporter; what a new text changed is
        if ev.bill_id is None:
            return ev.kind.startswith(("article.new", "source.", "bill.discovered"))
        if ev.bill_id in self.excluded:
            return False
        return self.bill_ids is None or ev.bill_id in self.bill_ids


def pending(events: list[Event], interest: Interest, start_event_id: int, delivered: set[int],
            cap: timedelta, now: datetime, tz: ZoneInfo) -> list[Event]:
    cutoff = now - cap
    return [ev for ev in events
            if ev.id > start_event_id and ev.id not in delivered and interest.concerns(ev)
            and event_time(ev, tz) >= cutoff]


def fold_first_sightings(events: list[Event], successors: frozenset[int] = frozenset()) -> tuple[list[Event],
                                                                                              list[Event]]:
    """(shown, covered): a bill tracked for the first time appears once, as ``bill.tracked``; the
    history recorded in the same crawl is covered by it (in the ledger, not in the email). A bill followed
    as an accepted successor (``successors``, bill ids) was announced by its ``bill.successor`` event: its
    first sighting is covered, and its recipients hear of it once; the news of that first crawl is not (a
    hearing scheduled this week must reach them; its older history is kept out by the backfill cap)."""
    tracked = {(ev.bill_id, ev.at) for ev in events if ev.kind == "bill.tracked" and ev.bill_id not in successors}
    shown, covered = [], []
    for ev in events:
        if ev.kind != "bill.tracked" and ev.kind in BILL_KINDS and (ev.bill_id, ev.at) in tracked:
            covered.append(ev)
        elif ev.kind == "bill.tracked" and ev.bill_id in successors:
            covered.append(ev)
        else:
            shown.append(ev)
    return shown, covered


def local_now(now: datetime, tz: ZoneInfo) -> datetime:
    return now.astimezone(tz)


def daily_period(now: datetime, tz: ZoneInfo, at: time) -> str | None:
    """The local date whose daily digest is due now, or None before the day's ``at`` hour."""
    local = local_now(now, tz)
    return local.date().isoformat() if local.time() >= at else None


def weekly_period(now: datetime, tz: ZoneInfo, at: time, weekday: str) -> str | None:
    """The first day (``weekday``) of the week whose weekly digest is due now, or None before it starts."""
    local = local_now(now, tz)
    back = (local.weekday() - WEEKDAYS.index(weekday)) % 7
    start = local.date() - timedelta(days=back)
    if back == 0 and local.time() < at:
        start -= timedelta(days=7)
    return f"week-of-{start.isoformat()}"
