"""The JSON API (described at /api/openapi.json): bills, a bill, its actions, events, articles, search, the
docket's documents and one document, the asks' counts.
Every list takes ``limit``/``offset`` and ``format=json|csv|jsonl`` (a download); responses carry an
ETag. Nothing here reads subscriber tables; of the letters, only their counts."""

from __future__ import annotations

import csv
import io
import json
from typing import Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse

from db.articles import list_articles
from db.asks import sent_count
from db.bills import NoSuchBill, bill_timeline, get_bill, list_bills
from db.documents import get_document, list_documents
from db.events import event_log
from db.search import BadQuery, search
from db.successors import list_successors, successor_json
from spiders.billids import parse_bill_id
from tracker.replacement import replaced_by
from tracker.web.common import (any_bill_id, bill_id, cacheable, event_kind, moment, no_such_bill, no_such_document,
                                 resolve_bill, time_limit)

router = APIRouter(prefix="/api", tags=["archive"])
Format = Literal["json", "csv", "jsonl"]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _list(request: Request, rows: list[dict], fmt: str, name: str):
    if fmt == "jsonl":
        body = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows).encode()
        return cacheable(request, body, "application/x-ndjson",
                         headers={"Content-Disposition": f'attachment; filename="{name}.jsonl"'})
    if fmt == "csv":
        buf = io.StringIO()
        columns = sorted({k for r in rows for k in r}) if rows else []
        writer = csv.writer(buf)
        writer.writerow(columns)
        for r in rows:
            writer.writerow([_cell(r.get(c)) for c in columns])
        return cacheable(request, buf.getvalue().encode(), "text/csv; charset=utf-8",
                         headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return cacheable(request, json.dumps(rows, ensure_ascii=False).encode(), "application/json")


@router.get("/bills", summary="Tracked bills")
def bills(request: Request, format: Format = "json", limit: int = Query(100, ge=1, le=500),
          offset: int = Query(0, ge=0, le=1_000_000)):
    with request.app.state.sessions() as s, time_limit(s):
        rows = list_bills(s, limit=limit, offset=offset)
    return _list(request, rows, format, "bills")


@router.get("/bills/{session}/{number}", summary="One bill with its actions, hearings, articles, lineage and "
                                                  "accepted successors")
def bill(request: Request, session: str, number: str):
    """``lineage``: the bills it comes from and leads to (``{"bill", "relation", "direction"}``);
    ``text_versions``: how many versions of its text are stored;
    ``successors``: the bills of a later General Court accepted as this one re-filed (proposed and rejected
    candidates are left to staff); ``replaced_by``: the canonical id of the new draft that took the place of a
    ``replaced`` bill ("Accompanied a new draft, see H5091"), else null."""
    return _bill(request, bill_id(request, session, number).canonical)


def _bill(request: Request, canonical: str, headers: dict | None = None):
    try:
        with request.app.state.sessions() as s, time_limit(s):
            data = get_bill(s, canonical)
            data["replaced_by"] = replaced_by(data)
            data["successors"] = [successor_json(r) for r in list_successors(s, data["id"], ("accepted",))]
    except NoSuchBill:
        raise no_such_bill(parse_bill_id(canonical)) from None
    return cacheable(request, json.dumps(data, ensure_ascii=False).encode(), "application/json", headers=headers)


@router.get("/bills/{spelling}", summary="One bill by a short id (H.135), resolved as the CLI and the pages do",
            responses={300: {"description": "several followed bills of other General Courts have that number: "
                                            '`{"error", "status": 300, "candidates": [{"id", "url"}]}`'},
                       307: {"description": "no followed bill: the configured session's document of the docket"}})
def bill_by_spelling(request: Request, spelling: str = Path(max_length=60)):
    """The bill ``/api/bills/{session}/{number}`` answers with, for the bill a short id names: the configured
    session's bill when it is followed, else the only followed bill of that number in another session. The
    answer says which: ``Content-Location`` (its canonical URL) and ``X-Bill-Resolved`` (``configured``,
    ``other-session`` or ``default``: the configured session's id, followed or not). A document of the docket
    the configured session has and no followed bill: a 307 to ``/api/documents/{session}/{number}``."""
    bid, found = resolve_bill(request, spelling)
    if found.how == "document":
        return RedirectResponse(f"/api/documents/{bid.session}/{bid.number}", 307)
    return _bill(request, bid.canonical, {"Content-Location": f"/api/bills/{bid.session}/{bid.number}",
                                          "X-Bill-Resolved": found.how})


@router.get("/bills/{session}/{number}/actions", summary="A bill's history, with the snapshot of each row")
def actions(request: Request, session: str, number: str, format: Format = "json"):
    bid = bill_id(request, session, number)
    try:
        with request.app.state.sessions() as s, time_limit(s):
            rows = bill_timeline(s, bid.canonical)["actions"]
    except NoSuchBill:
        raise no_such_bill(bid) from None
    return _list(request, rows, format, f"{bid.number}-actions")


@router.get("/events", summary="The event log, newest first")
def events(request: Request, kind: str | None = Query(None, max_length=40, description="one kind of event, such as "
                                                                                     "bill.action or hearing.scheduled"), bill: str | None = Query(None, max_length=60),
           since: str | None = Query(None, max_length=40), format: Format = "json",
           limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000)):
    bid = any_bill_id(request, bill)
    with request.app.state.sessions() as s, time_limit(s):
        rows = event_log(s, event_kind(s, kind), bid and bid.canonical, moment(since, "since"), offset, limit)
    return _list(request, rows, format, "events")


@router.get("/asks", summary="The campaign's letter pages, with how many letters were sent (counts only: never who)")
def asks(request: Request, format: Format = "json"):
    settings = request.app.state.application.settings
    with request.app.state.sessions() as s, time_limit(s):
        rows = []
        for spec in settings.asks:
            sent, supporters = sent_count(s, spec.name)
            rows.append({"name": spec.name, "kind": spec.kind, "bills": list(spec.bills), "page": f"/act/{spec.name}",
                         "sent": sent, "supporters": supporters})
    return _list(request, rows, format, "asks")


@router.get("/articles", summary="Articles kept, newest first, with their sources and bills")
def articles(request: Request, bill: str | None = Query(None, max_length=60),
             since: str | None = Query(None, max_length=40), format: Format = "json",
             limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0, le=10_000)):
    bid = any_bill_id(request, bill)
    with request.app.state.sessions() as s, time_limit(s):
        rows = list_articles(s, bid and bid.canonical, moment(since, "since"), limit, offset)
    return _list(request, rows, format, "articles")


@router.get("/search", summary="Full-text search over articles, bill actions, the docket's documents and the bills' "
                               "texts, newest first")
def search_api(request: Request, q: str = Query(..., max_length=1000), bill: str | None = Query(None, max_length=60),
               since: str | None = Query(None, max_length=40), until: str | None = Query(None, max_length=40),
               kind: Literal["article", "action", "document", "text"] | None = None,
               session: int | None = Query(None, ge=100, le=999, description="a General Court, such as 192"),
               format: Format = "json", limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=450)):
    bid = any_bill_id(request, bill)
    try:
        with request.app.state.sessions() as s, time_limit(s):
            hits = search(s, q, moment(since, "since"), moment(until, "until"), bid and bid.canonical,
                          limit=limit, offset=offset, kind=kind, session=session)
    except BadQuery as exc:
        raise HTTPException(400, str(exc)) from None
    return _list(request, hits, format, "search")


@router.get("/documents", summary="Documents of the synced dockets (bills and dockets), by session and number")
def documents(request: Request,
              q: str | None = Query(None, max_length=1000, description='words and "quoted phrases", all required, '
                                                                       "in the title, pinslip or text"),
              session: int | None = Query(None, ge=100, le=999, description="a General Court, such as 194"),
              sponsor: str | None = Query(None, max_length=200, description="a lead or joint sponsor: any part of "
                                                                            "the name, or the member code"),
              format: Format = "json", limit: int = Query(100, ge=1, le=500),
              offset: int = Query(0, ge=0, le=100_000)):
    try:
        with request.app.state.sessions() as s, time_limit(s):
            rows = list_documents(s, session=session, search=q or None, sponsor=sponsor or None, limit=limit,
                                  offset=offset)
    except BadQuery as exc:
        raise HTTPException(400, str(exc)) from None
    return _list(request, rows, format, "documents")


@router.get("/documents/{session}/{number}", summary="One document of the docket, by bill or docket number")
def document(request: Request, session: str, number: str):
    bid = bill_id(request, session, number)
    with request.app.state.sessions() as s, time_limit(s):
        data = get_document(s, bid.canonical)
    if data is None:
        raise no_such_document(bid)
    return cacheable(request, json.dumps(data, ensure_ascii=False).encode(), "application/json")
