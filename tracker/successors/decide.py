"""Deciding a successor: accepted (automatically or by staff) or rejected (by staff), each decision one
``bill.successor`` event on the bill.

Accepting follows the successor with the bill's position (unless feeds.yaml already lists it); the bill's
supporters follow it from then on (``alerts.selection.bill_families`` reads the accepted pairs), and its
keywords carry over to the news. Rejecting an accepted successor stops following it, unless feeds.yaml
lists it or staff followed it themselves before; a rejected candidate is never proposed again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.bills import find_bill
from db.documents import find_document
from db.models import Bill, Event, Successor
from db.successors import find
from spiders.billids import BadBillId, dotted, ordinal, parse_bill_id
from tracker.config import Config
from tracker.following import STAFF_REASON, CannotFollow, track, untrack
from tracker.successors import rank
from tracker.successors.filed import bill_filed, docket_of, similar_lists


class CannotDecide(ValueError):
    """The decision cannot be carried out; the message says why."""


def _reason(row: Successor) -> str:
    ev = row.evidence or {}
    if ev.get("pinslip_reference"):
        return f"its pinslip names {dotted(row.bill)}"
    parts = []
    if ev.get("text"):  # None when a text is not on file
        parts.append(f"text {round(ev['text'] * 100)}% alike")
    if ev.get("shared_sponsors"):
        parts.append("filed by " + ", ".join(ev["shared_sponsors"]))
    if ev.get("similar_api"):
        parts.append("listed as similar by the legislature")
    if ev.get("title") and ev["title"] >= 0.8:
        parts.append("a similar title")
    return "; ".join(parts) or "chosen by staff"


def successor_event(s: Session, bill: Bill, row: Successor, at: datetime, note: str | None = None) -> Event:
    """The ``bill.successor`` event for the row's present state."""
    old, new = dotted(row.bill), dotted(row.candidate)
    doc = find_document(s, row.candidate)
    court = f"the {ordinal(row.session)} General Court"
    if row.state == "accepted":
        summary = f"{old} was re-filed as {new} in {court} ({note or _reason(row)}); now following {new}"
    elif row.state == "proposed":
        summary = f"{new} in {court} may be {old} re-filed (score {row.score:.2f}: {_reason(row)}); accept or reject it"
    else:
        summary = f"{new} is not {old} re-filed ({note or 'rejected by staff'})"
    return Event(kind="bill.successor", at=at, bill_id=bill.id, summary=summary,
                 payload={"bill": row.bill, "number": old, "candidate": row.candidate, "candidate_number": new,
                          "session": row.session, "title": doc.title if doc is not None else None,
                          "sponsor": doc.sponsor if doc is not None else None, "state": row.state,
                          "score": row.score, "evidence": row.evidence, "decided_by": row.decided_by,
                          "reason": _reason(row)})


def accept(s: Session, config: Config, bill: Bill, row: Successor, by: str, at: datetime) -> Bill:
    """Accept ``row`` as ``bill``'s successor and follow it; returns the followed successor."""
    for other in s.scalars(select(Successor).where(Successor.bill == row.bill, Successor.id != row.id,
                                                   Successor.state.in_(("proposed", "accepted")))):
        other.state = "candidate"  # one successor per bill
    row.state, row.decided_by, row.decided_at = "accepted", by, at
    position = bill.position or "support"
    successor = find_bill(s, row.candidate)
    try:
        successor, _ = track(s, config, parse_bill_id(row.candidate), position, at)
    except CannotFollow:  # feeds.yaml lists it with another position: that one stands
        successor = find_bill(s, row.candidate)
    if successor is not None and successor.tracked_reason in (None, STAFF_REASON):
        successor.tracked_reason = f"re-filed from {dotted(row.bill)} ({ordinal(bill.session)} General Court)"
    s.add(successor_event(s, bill, row, at))
    return successor


def reject(s: Session, config: Config, bill: Bill, row: Successor, at: datetime) -> None:
    was_accepted = row.state == "accepted"
    row.state, row.decided_by, row.decided_at = "rejected", "staff", at
    if was_accepted:
        successor = find_bill(s, row.candidate)
        if successor is not None and (successor.tracked_reason or "").startswith("re-filed from"):
            try:
                untrack(s, config, parse_bill_id(row.candidate))
            except CannotFollow:
                pass  # feeds.yaml lists it: it stays followed
    s.add(successor_event(s, bill, row, at))


def decide(s: Session, config: Config, bill_id: str, candidate_id: str, verdict: str, at: datetime,
           docket: rank.Docket | None = None) -> Successor:
    """Staff's decision on ``candidate_id`` as the successor of ``bill_id`` (``accept`` or ``reject``).
    A document the search did not list can be accepted too: its evidence is measured then."""
    try:
        bill_key, candidate_key = parse_bill_id(bill_id).canonical, parse_bill_id(candidate_id).canonical
    except BadBillId as exc:
        raise CannotDecide(str(exc)) from None
    bill = find_bill(s, bill_key)
    if bill is None or not bill.tracked:
        raise CannotDecide(f"{bill_key} is not a followed bill")
    doc = find_document(s, candidate_key)
    if doc is None:
        raise CannotDecide(f"{candidate_key} is not in a synced docket: run tracker sync --session "
                           f"{candidate_key.split('/')[1]} first")
    candidate_key = doc.canonical  # a docket number names its bill
    if doc.session != bill.session + 1:
        raise CannotDecide(f"{candidate_key} is in the {ordinal(doc.session)} General Court; a successor of "
                           f"{dotted(bill_key)} is filed in the {ordinal(bill.session + 1)}")
    row = find(s, bill_key, candidate_key)
    if row is None:
        if verdict == "reject":
            row = Successor(bill=bill_key, candidate=candidate_key, session=doc.session, rank=99, score=0.0,
                            evidence={"pinslip_reference": False, "text": 0.0, "shared_sponsors": [],
                                      "similar_api": False, "title": 0.0}, state="candidate", found_at=at)
        else:
            row = _measured(s, bill, doc, at, docket)
        s.add(row)
        s.flush()
    if verdict == "accept":
        if row.state == "accepted" and row.decided_by == "staff":
            return row
        accept(s, config, bill, row, "staff", at)
    elif verdict == "reject":
        if row.state == "rejected":
            return row
        reject(s, config, bill, row, at)
    else:
        raise CannotDecide(f"decision {verdict!r}: accept or reject")
    return row


def _measured(s: Session, bill: Bill, doc, at: datetime, docket: rank.Docket | None) -> Successor:
    docket = docket or docket_of(s, doc.session)
    similar = similar_lists(s)
    ranked = docket.measure(bill_filed(s, bill, similar), doc.canonical, similar)
    return Successor(bill=bill.canonical, candidate=doc.canonical, session=doc.session, rank=99, score=ranked.score,
                     evidence=ranked.evidence, state="candidate", found_at=at)
