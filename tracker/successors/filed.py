"""What the successor search reads of a followed bill and of a synced docket."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Bill, Document, SimilarList
from tracker.successors import rank


def similar_lists(s: Session) -> dict[str, frozenset[str]]:
    return {c: frozenset(named or ()) for c, named in s.execute(select(SimilarList.canonical, SimilarList.similar))}


def _document_filed(doc: Document, similar: frozenset[str] = frozenset()) -> rank.Filed:
    sponsors = [(doc.sponsor_code, doc.sponsor)] if doc.sponsor else []
    sponsors += [(j.get("member_code"), j.get("name")) for j in doc.joint_sponsors or [] if j.get("name")]
    return rank.Filed(doc.canonical, doc.title, sponsors, doc.text, doc.pinslip, similar)


def bill_filed(s: Session, bill: Bill, similar: dict[str, frozenset[str]]) -> rank.Filed:
    """What is known of a followed bill: its own row, and its document if its session's docket was synced."""
    doc = s.scalar(select(Document).where(Document.canonical == bill.canonical))
    filed = _document_filed(doc) if doc is not None else rank.Filed(bill.canonical)
    filed.title = bill.title or filed.title
    if bill.sponsor and not any(name == bill.sponsor for _, name in filed.sponsors):
        filed.sponsors.insert(0, (bill.sponsor_code, bill.sponsor))
    filed.pinslip = filed.pinslip or bill.pinslip
    filed.similar = similar.get(bill.canonical, frozenset())
    return filed


def docket_of(s: Session, session: int) -> rank.Docket:
    docs = s.scalars(select(Document).where(Document.session == session, Document.removed_at.is_(None))
                     .order_by(Document.id))
    return rank.Docket([_document_filed(d) for d in docs])
