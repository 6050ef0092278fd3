"""Reading the docket: one document by any of its ids, and the documents of the synced sessions
(``tracker docket``, the web's docket search and document pages, the export)."""

from __future__ import annotations

from datetime import datetime

import re

from sqlalchemy import Text, exists, func, or_, select, text
from sqlalchemy.orm import Session

from db.models import Bill, BillAction, Document, DocumentAction, WatchMatch
from db.search import _like_part, query_terms

MAX_DOCUMENTS = 1000
_WORD = re.compile(r"\w+", re.UNICODE)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def find_document(s: Session, canonical: str) -> Document | None:
    """The document known as ``canonical`` (``ma/194/S1053``), or whose docket number it is (``ma/194/SD503``)."""
    doc = s.scalar(select(Document).where(Document.canonical == canonical))
    if doc is None:
        head, _, number = canonical.rpartition("/")
        session = head.rpartition("/")[2]
        if session.isdigit():
            doc = s.scalar(select(Document).where(Document.session == int(session), Document.docket == number))
    return doc


def document_summary(doc: Document, bill: Bill | None = None) -> dict:
    """The row of ``tracker docket``: ``{"id", "session", "number", "docket", "title", "sponsor", "tracked",
    "position"}``."""
    tracked = bool(bill is not None and bill.tracked)
    return {"id": doc.canonical, "session": doc.session, "number": doc.number, "docket": doc.docket,
            "title": doc.title, "sponsor": doc.sponsor, "tracked": tracked,
            "position": bill.position if tracked else None}


def document_json(doc: Document, bill: Bill | None = None) -> dict:
    """Everything the docket knows of one document (its page, the API)."""
    return document_summary(doc, bill) | {
        "joint_sponsors": doc.joint_sponsors or [], "cosponsors": doc.cosponsors or [], "pinslip": doc.pinslip,
        "text": doc.text, "legislation_type": doc.legislation_type, "docket_book_only": doc.docket_book_only,
        "first_seen_at": _iso(doc.first_seen_at), "last_seen_at": _iso(doc.last_seen_at),
        "removed_at": _iso(doc.removed_at), "detail_error": doc.detail_error}


def followed_bills(s: Session, canonicals: list[str]) -> dict[str, Bill]:
    """canonical id -> the bill row, for the documents that are also bills we know."""
    if not canonicals:
        return {}
    return {b.canonical: b for b in s.scalars(select(Bill).where(Bill.canonical.in_(canonicals)))}


def _full_text_ids(s: Session, terms: list[str], any_term: bool) -> str:
    """SQL selecting the ids of the documents whose title, pinslip or text hold the terms (every term, or any
    with ``any_term``); each term a phrase. Binds ``:t0``... on the session's parameters via the caller."""
    if s.get_bind().dialect.name == "postgresql":
        parts = [f"phraseto_tsquery('simple', public.tracker_fold(:t{i}))" for i in range(len(terms))]
        joined = (" || " if any_term else " && ").join(parts)
        return f"SELECT id FROM documents WHERE search_vector @@ ({joined})"
    return "SELECT rowid FROM documents_fts WHERE documents_fts MATCH :match"


def _fts5(terms: list[str], any_term: bool) -> str:
    return (" OR " if any_term else " ").join('"' + " ".join(_WORD.findall(t)) + '"' for t in terms)


def _filtered(query, sessions: list[int] | None, sponsors: list[str] | None, committees: list[str] | None):
    if sessions:
        query = query.where(Document.session.in_(sessions))
    sponsors = [n for n in (name.replace("\x00", "").strip() for name in sponsors or ()) if n]
    if sponsors:  # (PostgreSQL text cannot hold NUL: no name has one, so none is compared)
        query = query.where(or_(*[cond for name in sponsors for cond in (
            Document.sponsor.ilike(_like_part(name), escape="\\"), Document.sponsor_code == name.upper(),
            Document.joint_sponsors.cast(Text).ilike(_like_part(name), escape="\\"))]))
    if committees:
        query = query.where(or_(*[Document.pinslip.ilike(_like_part(c), escape="\\") for c in committees]))
    return query


def matching_documents(s: Session, *, terms: list[str] = (), any_term: bool = True, sessions: list[int] | None = None,
                       sponsors: list[str] | None = None, committees: list[str] | None = None,
                       exclude_ids: set[int] | None = None, not_matched_by: str | None = None,
                       limit: int | None = None, offset: int = 0, columns: tuple | None = None) -> list:
    """Documents (not removed from their list) matching a watch or a docket search, through the full-text
    index, never by reading every document: ``terms`` (phrases; any of them, or all without ``any_term``) in
    the title, pinslip or text, ``sponsors`` (name or member code, lead or joint), ``committees`` (named in the
    pinslip), in ``sessions``; ``not_matched_by``: only those the watch of that name has not matched yet (its
    ``watch_matches``, asked in SQL, so that the documents a watch knows are never loaded). Newest session
    first, then by number (chamber, then in numeric order: H.9 before H.10), the documents with a docket
    number only last, by docket number. Every filter is in SQL before ``limit``/``offset``. Document objects,
    or with ``columns`` (``Document`` attributes) rows of only those columns: a broad watch reads thousands of
    documents, and building each as an ORM object (its JSON columns decoded) costs several times the query."""
    query = select(*(columns or (Document,))).where(Document.removed_at.is_(None))
    terms = [t for t in terms if _WORD.search(t)]
    params: dict = {}
    if terms:
        if s.get_bind().dialect.name == "postgresql":
            params = {f"t{i}": t for i, t in enumerate(terms)}
        else:
            params = {"match": _fts5(terms, any_term)}
        query = query.where(Document.id.in_(text(_full_text_ids(s, terms, any_term)).bindparams(**params)))
    query = _filtered(query, sessions, sponsors, committees)
    if not_matched_by is not None:
        query = query.where(~exists().where(WatchMatch.watch == not_matched_by, WatchMatch.document_id == Document.id))
    query = query.order_by(Document.session.desc(), *_by_number(Document.number), *_by_number(Document.docket),
                           Document.id)
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    found = list(s.execute(query) if columns else s.scalars(query))
    return [d for d in found if d.id not in exclude_ids] if exclude_ids else found


def _by_number(column) -> tuple:
    """Sort keys of a bill or docket number in the legislature's order, the same on both databases: rows
    without one last (PostgreSQL would put NULLs first in a DESC order and last in an ASC one, SQLite the
    reverse), then the chamber's letters, then the number as a number (``H9`` before ``H10``)."""
    return column.is_(None), func.substr(column, 1, 1), func.length(column), column


def list_documents(s: Session, *, session: int | None = None, search: str | None = None, sponsor: str | None = None,
                   limit: int = 100, offset: int = 0) -> list[dict]:
    """``tracker docket``, the web's docket search and ``/api/documents``: documents of the synced dockets,
    each with whether and how we follow it. ``search`` is words and "quoted phrases", all required (BadQuery
    when it has none); ``sponsor`` a lead or joint sponsor's name (any part, any case) or member code. Filtered,
    then paged, in SQL; at most ``MAX_DOCUMENTS`` a page."""
    terms = query_terms(search) if search else []
    docs = matching_documents(s, terms=terms, any_term=False, sessions=[session] if session else None,
                              sponsors=[sponsor] if sponsor else None, limit=max(1, min(limit, MAX_DOCUMENTS)),
                              offset=max(0, offset))
    bills = followed_bills(s, [d.canonical for d in docs])
    return [document_summary(d, bills.get(d.canonical)) for d in docs]


def docket_sessions(s: Session) -> list[int]:
    """The General Courts the docket holds documents of, newest first (the docket search's choice)."""
    return list(s.scalars(select(Document.session).distinct().order_by(Document.session.desc())))


def get_document(s: Session, canonical: str) -> dict | None:
    """``/api/documents/{session}/{id}``: the ``document_json`` of the document known as ``canonical`` or whose
    docket number it is; None when the docket has no such document."""
    doc = find_document(s, canonical)
    return None if doc is None else document_json(doc, _bill_of(s, doc))


def _bill_of(s: Session, doc: Document) -> Bill | None:
    return s.scalar(select(Bill).where(Bill.canonical == doc.canonical))


def document_page(s: Session, canonical: str) -> dict | None:
    """A document's page: ``document_json`` with ``bill`` (the bill row that shares its id, followed or once
    followed: ``{"id", "session", "number", "status", "committee", "tracked", "position"}``; None when it is no
    bill we know) and ``actions`` (its history in the legislature's order: ``[{"date", "branch", "action",
    "kinds"}]``, as the crawl keeps it for a bill we follow or followed, else as the history sweep last read it,
    with no kinds: ``actions_swept``) and ``history_checked_at`` (when the sweep last read it; None if never). None for a document
    the docket does not have (by canonical id or docket alias)."""
    doc = find_document(s, canonical)
    if doc is None:
        return None
    bill = _bill_of(s, doc)
    out = document_json(doc, bill)
    out["bill"] = None if bill is None else {
        "id": bill.canonical, "session": bill.session, "number": bill.number, "status": bill.status,
        "committee": bill.committee, "tracked": bill.tracked, "position": bill.position if bill.tracked else None}
    out["actions"] = [] if bill is None else [
        {"date": _iso(a.date), "branch": a.branch, "action": a.action, "kinds": list(a.kinds or [])}
        for a in s.scalars(select(BillAction).where(BillAction.bill_id == bill.id, BillAction.removed_at.is_(None))
                           .order_by(BillAction.position))]
    out["actions_swept"] = not out["actions"]
    if not out["actions"]:
        out["actions"] = [{"date": _iso(a.date), "branch": a.branch, "action": a.action, "kinds": []}
                          for a in s.scalars(select(DocumentAction).where(DocumentAction.document_id == doc.id)
                                             .order_by(DocumentAction.position))]
    out["history_checked_at"] = _iso(doc.history_checked_at)
    return out
