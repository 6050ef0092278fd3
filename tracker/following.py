"""Which bills the campaign follows, and with what position: ``tracker track`` and ``tracker untrack``.

Bills listed in feeds.yaml are followed with the position written there; staff follow others (a bill a
watch discovered, a successor) with a position of their own choice, and stop following them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from db.bills import find_bill
from db.documents import find_document
from db.models import Bill
from spiders.billids import BillId, parse_bill_id
from tracker.bill_writer import ensure_bill
from tracker.config import Config

STAFF_REASON = "followed by staff"
POSITIONS = ("support", "oppose", "watch")


class CannotFollow(ValueError):
    """The request cannot be carried out; the message says why and what to do instead."""


def _numbered(s: Session, bid: BillId) -> BillId:
    """A docket that has its bill number by now is followed under the bill number."""
    doc = find_document(s, bid.canonical)
    return parse_bill_id(doc.canonical) if doc is not None and doc.canonical != bid.canonical else bid


def track(s: Session, config: Config, bid: BillId, position: str, now: datetime) -> tuple[Bill, bool]:
    """Follow ``bid`` with ``position``; returns the bill and whether anything changed."""
    if position not in POSITIONS:
        raise CannotFollow(f"position {position!r}: choose support, oppose or watch")
    bid = _numbered(s, bid)
    listed = config.positions().get(bid.canonical)
    if listed is not None and listed != position:
        raise CannotFollow(f"{bid.canonical} is listed in feeds.yaml with position {listed}: change it there")
    bill = find_bill(s, bid.canonical)
    if bill is not None and bill.tracked and bill.position == position:
        return bill, False
    bill = ensure_bill(s, bid, now, bill.tracked_reason if bill is not None and bill.tracked else STAFF_REASON,
                       position)
    bill.position = position
    doc = find_document(s, bid.canonical)
    if doc is not None:  # what the docket knows, until the first crawl tells more
        bill.docket = bill.docket or doc.docket
        bill.title = bill.title or doc.title
    return bill, True


def untrack(s: Session, config: Config, bid: BillId) -> Bill:
    """Stop following ``bid``: no more crawls, no more alerts; its history stays in the archive."""
    bid = _numbered(s, bid)
    if bid.canonical in config.positions():
        raise CannotFollow(f"{bid.canonical} is listed in feeds.yaml: remove it there to stop following it")
    bill = find_bill(s, bid.canonical)
    if bill is None or not bill.tracked:
        raise CannotFollow(f"{bid.canonical} is not followed")
    bill.tracked, bill.position = False, None
    return bill
