"""Apply one bill observation to the database: diff against the stored state,
write the new state and its events in the caller's transaction.

Rows of a history are told apart by (date, branch, action, occurrence), where
occurrence counts identical rows before it: a second "Senate concurred" on
the same day is a new action, never mistaken for the first.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.bills import find_bill
from db.models import Bill, BillAction, Event, Hearing
from db.payloads import action_payload, hearing_payload
from db.snapshots import store_snapshot
from spiders.actions import classify, current_committee, parse_hearing, stage
from spiders.observations import decode_history, decode_snapshot_body
from spiders.records import HistoryAction
from spiders.billids import STATE_HOUSE_TZ, BillId, dotted, ordinal, session_ended
from tracker.text_writer import observe_text



@dataclass
class BillOutcome:
    bill: str
    changed: bool = False
    events: list[Event] = field(default_factory=list)
    error: dict | None = None


def keyed(history: list[HistoryAction]) -> list[tuple[tuple, HistoryAction]]:
    seen: dict[tuple, int] = {}
    out = []
    for a in history:
        ident = a.identity()
        n = seen.get(ident, 0)
        seen[ident] = n + 1
        out.append((ident + (n,), a))
    return out


def _local_dt(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text).replace(tzinfo=STATE_HOUSE_TZ)


def new_bill(bid: BillId, now: datetime, reason: str | None, position: str | None = "support") -> Bill:
    return Bill(canonical=bid.canonical, session=bid.session, number=bid.number, tracked=True,
                tracked_reason=reason, position=position, error_count=0, created_at=now, next_check_at=now)


def ensure_bill(session: Session, bid: BillId, now: datetime, reason: str | None = None,
                position: str | None = "support") -> Bill:
    """The bill, tracked (with ``position`` if it was not followed yet)."""
    bill = find_bill(session, bid.canonical)
    if bill is None:
        bill = new_bill(bid, now, reason, position)
        session.add(bill)
        session.flush()
    elif not bill.tracked:
        bill.tracked = True
        bill.tracked_reason = reason or bill.tracked_reason
        bill.archive_matched_at = None  # followed again: the articles stored meanwhile are matched at the next poll
        bill.position = bill.position or position
    return bill


class BillWriter:
    """Writes one observation of one bill; the caller owns the transaction."""

    def __init__(self, session: Session, now: datetime, crawl_every: timedelta, detail_every: timedelta,
                 snapshot_ids: dict[int, int] | None = None):
        self.s = session
        self.now = now
        self.crawl_every = crawl_every
        self.detail_every = detail_every
        # the snapshots of the observation already stored (``db.snapshots.store_snapshots`` for a batch),
        # by ``id()`` of their dict in the observation
        self.snapshot_ids = snapshot_ids or {}

    def _snapshot(self, snap: dict) -> int:
        stored = self.snapshot_ids.get(id(snap))
        return stored if stored is not None else store_snapshot(self.s, decode_snapshot_body(snap), snap)

    # -- events ---------------------------------------------------------------

    def _event(self, bill: Bill, kind: str, summary: str, payload: dict, snapshot_id: int | None,
               occurred_on: date | None = None) -> Event:
        ev = Event(kind=kind, at=self.now, occurred_on=occurred_on, bill_id=bill.id, summary=summary,
                   payload=payload, snapshot_id=snapshot_id)
        self.s.add(ev)
        return ev

    # -- outcomes -------------------------------------------------------------

    def _succeeded(self, bill: Bill, obs: dict) -> None:
        bill.checked_ok(self.now, self.now + self.crawl_every, etag=obs.get("etag"),
                        last_modified=obs.get("last_modified"))
        bill.url = obs.get("url") or bill.url

    def unchanged(self, bill: Bill, obs: dict) -> BillOutcome:
        self._succeeded(bill, obs)
        return BillOutcome(bill.canonical)

    def apply(self, bill: Bill, obs: dict) -> BillOutcome:
        """Diff a full observation ("ok": history and detail; "detail": detail only)."""
        with self.s.no_autoflush:  # one flush for the new actions (their ids), the rest at commit
            return self._apply(bill, obs)

    def _apply(self, bill: Bill, obs: dict) -> BillOutcome:
        outcome = BillOutcome(bill.canonical)
        first = bill.content_hash is None
        snaps = {s["role"]: self._snapshot(s) for s in obs.get("snapshots", [])}
        history_snap = snaps.get("history") or snaps.get("page")
        detail_snap = snaps.get("detail") or snaps.get("petitioners") or snaps.get("page")

        old_state = (bill.title, bill.status, bill.committee, bill.sponsor, len(bill.petitioners or []))
        if obs.get("detail"):
            self._apply_detail(bill, obs["detail"])
            bill.detail_checked_at = self.now

        latest: BillAction | None = None
        if obs["status"] == "ok":
            history = decode_history(obs["history"])
            stored = self._active_actions(bill)
            if stored and not history:
                # A page that lost its table looks like "no actions": refuse to believe it.
                raise EmptyHistory(f"{obs['url']}: the history came back empty but {len(stored)} actions are stored")
            new_actions, latest = self._diff_actions(bill, stored, history, history_snap)
            today = self.now.astimezone(STATE_HOUSE_TZ).date()
            bill.status = stage(history, session_ended(bill.session, today))
            bill.committee = current_committee(history)
            bill.history_hash = obs["history_hash"]
        else:
            new_actions = []

        if first:
            outcome.events.append(self._tracked_event(bill, obs, history_snap or detail_snap, latest))
        else:
            outcome.events.extend(self._state_events(bill, old_state, history_snap, detail_snap))
        hearings = _HearingLedger(self.s, bill)
        for row in new_actions:
            outcome.events.extend(self._action_events(bill, row, hearings))
        outcome.events.extend(observe_text(self.s, bill, obs, self.now, snaps))

        bill.content_hash = self._content_hash(bill)
        self._succeeded(bill, obs)
        outcome.changed = bool(outcome.events)
        return outcome

    # -- pieces -------------------------------------------------------------

    def _apply_detail(self, bill: Bill, detail: dict) -> None:
        if detail.get("title"):
            bill.title = detail["title"]
        sponsor = detail.get("sponsor")
        if sponsor:
            bill.sponsor = sponsor["name"]
            bill.sponsor_code = sponsor.get("member_code")
        if detail.get("petitioners"):
            bill.petitioners = [{"name": p["name"], "member_code": p.get("member_code")} for p in detail["petitioners"]]
        bill.pinslip = detail.get("pinslip") or bill.pinslip
        bill.docket = detail.get("docket") or bill.docket

    def _active_actions(self, bill: Bill) -> list[BillAction]:
        return list(
            self.s.scalars(
                select(BillAction)
                .where(BillAction.bill_id == bill.id, BillAction.removed_at.is_(None))
                .order_by(BillAction.position)
            )
        )

    def _diff_actions(self, bill: Bill, stored: list[BillAction], history: list[HistoryAction],
                      snapshot_id: int | None) -> tuple[list[BillAction], BillAction | None]:
        """(rows added, the row now last in the history)."""
        by_key = {(r.date.isoformat() if r.date else None, r.branch, r.action, r.occurrence): r for r in stored}
        added: list[BillAction] = []
        row = None
        for position, (key, a) in enumerate(keyed(history)):
            row = by_key.pop(key, None)
            if row is not None:
                if row.position != position:
                    row.position = position
                continue
            row = BillAction(
                bill_id=bill.id,
                position=position,
                occurrence=key[3],
                date=date.fromisoformat(a.date) if a.date else None,
                timestamp=a.timestamp,
                branch=a.branch,
                action=a.action,
                kinds=classify(a.action),
                snapshot_id=snapshot_id,
                first_seen_at=self.now,
            )
            self.s.add(row)
            added.append(row)
        for gone in by_key.values():  # no longer listed, e.g. stricken: kept, marked
            gone.removed_at = self.now
        if added:
            self.s.flush()
        return added, row

    def _action_events(self, bill: Bill, row: BillAction, hearings: "_HearingLedger") -> list[Event]:
        payload = action_payload(row)
        when = row.date.strftime("%-m/%-d/%Y") if row.date else "undated"
        events = [self._event(bill, "bill.action", f"{dotted(bill.number)} ({row.branch}, {when}): {row.action}",
                              payload, row.snapshot_id, row.date)]
        hearing = parse_hearing(row.action)
        if hearing:
            events.append(self._hearing_event(bill, row, hearing, hearings))
        return events

    def _hearing_event(self, bill: Bill, row: BillAction, h, hearings: "_HearingLedger") -> Event:
        latest = hearings.latest()
        starts, ends = _local_dt(h.starts_at), _local_dt(h.ends_at)
        if h.status == "scheduled" or latest is None:
            hearing = Hearing(bill_id=bill.id, action_id=row.id, starts_at=starts, ends_at=ends,
                              location=h.location, status=h.status, updated_at=self.now)
            self.s.add(hearing)
            hearings.added(hearing)
        else:
            hearing = latest
            hearing.action_id = row.id
            hearing.status = h.status
            hearing.updated_at = self.now
            if h.status != "canceled":
                hearing.starts_at, hearing.ends_at, hearing.location = starts, ends, h.location
        payload = hearing_payload(hearing)
        kind = {"scheduled": "hearing.scheduled", "rescheduled": "hearing.rescheduled",
                "canceled": "hearing.canceled"}[h.status]
        if h.status == "canceled":
            summary = f"Hearing on {dotted(bill.number)} canceled"
        else:
            at = hearing.starts_at.astimezone(STATE_HOUSE_TZ).strftime("%a %-m/%-d/%Y %-I:%M %p") if hearing.starts_at else "?"
            summary = f"Hearing on {dotted(bill.number)} {h.status}: {at}, {hearing.location or 'place not given'}"
        return self._event(bill, kind, summary, payload, row.snapshot_id, row.date)

    def _tracked_event(self, bill: Bill, obs: dict, snapshot_id: int | None, latest: BillAction | None) -> Event:
        found = obs.get("discovered_from")
        reason = bill.tracked_reason or "listed in feeds.yaml"
        if found:
            reason = f"{HANDOVER[found['reason']]} {dotted(found['bill'])} ({found['action']})"
            bill.tracked_reason = reason
        latest_payload = action_payload(latest) if latest else None
        summary = f"Now following {dotted(bill.number)} ({ordinal(bill.session)} General Court)"
        if bill.title:
            summary += f": {bill.title}"
        summary += f"; status {bill.status}"
        if latest:
            summary += f"; latest action: {latest.action}"
        payload = {"status": bill.status, "committee": bill.committee, "title": bill.title, "reason": reason,
                   "discovered_from": found, "latest_action": latest_payload}
        return self._event(bill, "bill.tracked", summary, payload, snapshot_id)

    def _state_events(self, bill: Bill, old: tuple, history_snap: int | None, detail_snap: int | None) -> list[Event]:
        old_title, old_status, old_committee, old_sponsor, old_count = old
        events = []
        if bill.status != old_status or bill.committee != old_committee:
            parts = []
            if bill.status != old_status:
                parts.append(f"stage {old_status} → {bill.status}")
            if bill.committee != old_committee:
                parts.append(f"committee {old_committee or 'none'} → {bill.committee or 'none'}")
            events.append(self._event(bill, "bill.status", f"{dotted(bill.number)}: " + "; ".join(parts), {
                "status": bill.status, "previous_status": old_status,
                "committee": bill.committee, "previous_committee": old_committee}, history_snap))
        if old_title and bill.title != old_title:
            events.append(self._event(bill, "bill.title", f"{dotted(bill.number)} retitled: {bill.title}",
                                      {"title": bill.title, "previous_title": old_title}, detail_snap))
        count = len(bill.petitioners or [])
        if (old_count and count != old_count) or (old_sponsor and bill.sponsor != old_sponsor):
            summary = f"{dotted(bill.number)}: {count} petitioners (was {old_count})"
            if old_sponsor and bill.sponsor != old_sponsor:
                summary = f"{dotted(bill.number)}: sponsor now {bill.sponsor} (was {old_sponsor})"
            events.append(self._event(bill, "bill.sponsors", summary, {
                "sponsor": bill.sponsor, "previous_sponsor": old_sponsor,
                "petitioners": count, "previous_petitioners": old_count}, detail_snap))
        return events

    def _content_hash(self, bill: Bill) -> str:
        record = [bill.history_hash, bill.title, bill.sponsor, bill.petitioners, bill.pinslip, bill.docket]
        return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()


class _HearingLedger:
    """The bill's latest hearing, read from the database at most once per observation."""

    def __init__(self, session: Session, bill: Bill):
        self.s, self.bill, self._latest, self._loaded = session, bill, None, False

    def latest(self) -> Hearing | None:
        if not self._loaded:
            self._latest = self.s.scalar(
                select(Hearing).where(Hearing.bill_id == self.bill.id).order_by(Hearing.id.desc()).limit(1))
            self._loaded = True
        return self._latest

    def added(self, hearing: Hearing) -> None:
        self._latest, self._loaded = hearing, True


HANDOVER = {"new-draft": "new draft of", "study-order": "study order covering", "accompanied": "took over"}


class EmptyHistory(Exception):
    """The source returned no history for a bill we know has one: a layout change, not a deletion."""
