"""The edges of the bills' lineage, as the database holds them: new drafts and study orders that took over a
followed bill (its ``bill.tracked`` event says which bill it was found from), accepted successors across
sessions, and the docket number a bill was filed under."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Bill, Document, Event, Successor

# the crawl's reasons for following a bill found from another (spiders.actions.referenced_bill)
HANDOVER_RELATIONS = {"new-draft": "new-draft", "study-order": "study-order", "accompanied": "new-draft"}


def handovers(s: Session) -> list[tuple[str, str, str]]:
    """(from, to, relation) for each bill the crawl followed because another handed over to it."""
    names = dict(s.execute(select(Bill.id, Bill.canonical)).all())
    edges = []
    for bill_id, payload in s.execute(select(Event.bill_id, Event.payload).where(Event.kind == "bill.tracked")):
        found = (payload or {}).get("discovered_from") or {}
        parent, child = found.get("bill"), names.get(bill_id)
        if parent and child and parent != child:
            edges.append((parent, child, HANDOVER_RELATIONS.get(found.get("reason"), "new-draft")))
    return edges


def edges(s: Session) -> list[tuple[str, str, str]]:
    """Every edge (from, to, relation): ``new-draft``/``study-order`` (same session), ``successor`` (the next
    session, accepted), ``docket`` (the docket number to the bill number)."""
    out = list(dict.fromkeys(handovers(s)))
    out += [(b, c, "successor") for b, c in s.execute(
        select(Successor.bill, Successor.candidate).where(Successor.state == "accepted").order_by(Successor.id))]
    for session, docket, canonical in s.execute(select(Document.session, Document.docket, Document.canonical)
                                                .where(Document.docket.is_not(None), Document.number.is_not(None))):
        out.append((f"ma/{session}/{docket}", canonical, "docket"))
    return out
