"""The archive's HTML pages: home, a bill's timeline with its coverage and chart, search, the event log, the
docket's search and a page per document. They work without JavaScript; the chart is server-rendered SVG."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from markupsafe import Markup, escape

from db.bills import NoSuchBill, list_bills
from db.documents import docket_sessions, document_page, list_documents
from db.events import event_kinds, event_log
from db.search import KINDS, BadQuery, search
from db.snapshots import read_snapshot
from tracker.web import bill_view, billrefs
from tracker.web.pagecache import cached
from tracker.web.common import (any_bill_id, bill_id, cacheable, day, event_kind, moment, no_such_bill, no_such_document,
                                 page_args, render, resolve_bill, time_limit)

router = APIRouter(include_in_schema=False)
_MARK = re.compile(r"\[([^\[\]]*)\]")
SNAPSHOT_CACHE = "public, max-age=86400"  # a snapshot never changes


def highlight(snippet: str | None) -> Markup:
    """``[word]`` markers of a snippet as <mark>, everything else escaped."""
    if not snippet:
        return Markup("")
    out, last = [], 0
    for m in _MARK.finditer(snippet):
        out.append(escape(snippet[last:m.start()]))
        out.append(Markup("<mark>") + escape(m.group(1)) + Markup("</mark>"))
        last = m.end()
    out.append(escape(snippet[last:]))
    return Markup("").join(out)


@router.get("/")
def home(request: Request):
    def build():
        with request.app.state.sessions() as s, time_limit(s):
            bills = list_bills(s)
            recent = event_log(s, limit=12)
        return render(request, "home.html", cache=True, bills=bills, changes=grouped_changes(recent))

    return cached(request, build)


_BILL_PREFIX = re.compile(r"^[HS]\.?\d+(?: \([^)]*\))?: ")  # "H.135 (Joint, Mar 29, 2021): " before an action


def grouped_changes(events: list[dict]) -> list[dict]:
    """The latest events (newest first) by bill (``{"bill", "events"}``), the bill with the newest change first:
    the bill is named once above its changes and not again in each summary; an event's kind is named only when
    it differs from the one above it (five actions in a row read "action" once)."""
    groups: dict[str | None, dict] = {}
    for e in events:
        run = groups.setdefault(e["bill"], {"bill": e["bill"], "events": []})["events"]
        summary = _BILL_PREFIX.sub("", e["summary"] or "") if e["bill"] else e["summary"]
        run.append(e | {"summary": summary, "show_kind": not run or run[-1]["kind"] != e["kind"]})
    return list(groups.values())


@router.get("/bills/{session}/{number}")
def bill_page(request: Request, session: str, number: str, as_of: str | None = None):
    bid = bill_id(request, session, number)
    when = day(as_of, "as_of")
    holds: dict = {}

    def build():
        now = bill_view.utc_now()
        try:
            with request.app.state.sessions() as s, time_limit(s):
                view = bill_view.bill_page(s, bid, when, now)
        except NoSuchBill:
            raise no_such_bill(bid) from None
        data = view["bill"]
        if data["id"] != f"ma/{session}/{number}":
            return RedirectResponse(f"/bills/{data['session']}/{data['number']}", 308)
        holds["until"] = None if when else bill_view.next_change(data, now)
        return render(request, "bill.html", cache=True, as_of=when.isoformat() if when else "",
                      linked=billrefs.linked, **view)

    return cached(request, build, lambda: holds.get("until"))


@router.get("/bills/{spelling}")
def bill_by_spelling(request: Request, spelling: str):
    """``/bills/H.135`` and friends lead to the canonical page of the bill the id names (``resolve_bill``):
    the configured session's (308), another session's only followed bill of that number (307: it may change
    once another is followed), or the configured session's document of the docket (307, to its page); several
    followed bills of that number get a page listing them (300, ``errors``)."""
    bid, found = resolve_bill(request, spelling)
    if found.how == "document":
        return RedirectResponse(f"/documents/{bid.session}/{bid.number}", 307)
    return RedirectResponse(f"/bills/{bid.session}/{bid.number}", 307 if found.moved else 308)


@router.get("/search")
def search_page(request: Request, q: str = "", bill: str = "", since: str = "", until: str = "", kind: str = "",
                source: str = "", session: str = "", page: int = 1):
    offset, per_page = page_args(page, 25)
    results, error = [], None
    bid = any_bill_id(request, bill)
    start, end = moment(since, "since"), moment(until, "until")
    if kind and kind not in KINDS:
        raise HTTPException(400, f"kind={kind[:20]!r}: choose article, action, document or text")
    gc = docket_session(session)
    if q:
        try:
            with request.app.state.sessions() as s, time_limit(s):
                hits = search(s, q, start, end, bid and bid.canonical, limit=per_page + 1, offset=offset,
                              kind=kind or None, source=source or None, session=gc)
        except BadQuery as exc:
            return render(request, "search.html", status=400, q=q, filters=request.query_params, results=[],
                          error=str(exc), page=page, more=False, highlight=highlight, prev_url="", next_url="")
        results, more = hits[:per_page], len(hits) > per_page
    else:
        more = False
    return render(request, "search.html", q=q, filters=request.query_params, results=results, error=error,
                  page=page, more=more, highlight=highlight, prev_url=_page_url(request, page - 1),
                  next_url=_page_url(request, page + 1))


def _page_url(request: Request, page: int) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"] + [("page", str(page))]
    return "?" + urlencode(params)


def docket_session(value: str) -> int | None:
    """The ``session`` filter of the docket: empty, or a General Court's number such as 194."""
    value = value.strip()
    if not value:
        return None
    if not re.fullmatch(r"[1-9][0-9]{2}", value):
        raise HTTPException(400, f"session={value[:20]!r} is not a General Court: write its number, such as 194")
    return int(value)


@router.get("/docket")
def docket_page(request: Request, q: str = "", session: str = "", sponsor: str = "", page: int = 1):
    """Every document of the synced dockets: words and "quoted phrases" (all required) in the title, pinslip
    or text, a session, a sponsor; 50 a page."""
    offset, per_page = page_args(page, 50)
    gc = docket_session(session)
    error = None
    with request.app.state.sessions() as s, time_limit(s):
        sessions = docket_sessions(s)
        try:
            rows = list_documents(s, session=gc, search=q or None, sponsor=sponsor or None, limit=per_page + 1,
                                  offset=offset)
        except BadQuery as exc:
            rows, error = [], str(exc)
    return render(request, "docket.html", status=400 if error else 200, cache=not error, documents=rows[:per_page],
                  more=len(rows) > per_page, page=page, error=error, q=q, session=gc, sponsor=sponsor,
                  sessions=sessions, prev_url=_page_url(request, page - 1), next_url=_page_url(request, page + 1))


@router.get("/documents/{session}/{number}")
def document(request: Request, session: str, number: str):
    """One document of the docket, by its bill number or its docket number (any spelling of either); a
    docket number that has become a bill's leads to the bill number's page."""
    bid = bill_id(request, session, number)
    with request.app.state.sessions() as s, time_limit(s):
        data = document_page(s, bid.canonical)
    if data is None:
        raise no_such_document(bid)
    if data["id"] != f"ma/{session}/{number}":
        return RedirectResponse(f"/documents/{data['session']}/{data['id'].rsplit('/', 1)[1]}", 308)
    return render(request, "document.html", cache=True, doc=data)


@router.get("/events")
def events_page(request: Request, kind: str = "", bill: str = "", since: str = "", page: int = 1):
    def build():
        offset, per_page = page_args(page, 50)
        bid = any_bill_id(request, bill)
        with request.app.state.sessions() as s, time_limit(s):
            rows = event_log(s, event_kind(s, kind), bid and bid.canonical, moment(since, "since"), offset,
                             per_page + 1)
            kinds = event_kinds(s)
        return render(request, "events.html", cache=True, events=rows[:per_page], more=len(rows) > per_page,
                      page=page, kinds=kinds, filters=request.query_params, prev_url=_page_url(request, page - 1),
                      next_url=_page_url(request, page + 1))

    return cached(request, build)


@router.get("/snapshots/{snapshot_id}")
def snapshot(request: Request, snapshot_id: int):
    """The raw response an event came from, as it was fetched (served as text, never as a page)."""
    with request.app.state.sessions() as s:
        snap = read_snapshot(s, snapshot_id)
    if snap is None:
        raise HTTPException(404, f"no snapshot {snapshot_id}")
    headers = {"X-Source-URL": snap.url, "X-Fetched-At": snap.fetched_at.isoformat(),
               "Content-Disposition": f'inline; filename="snapshot-{snap.id}.txt"',
               "X-Content-Type-Options": "nosniff"}
    return cacheable(request, snap.body, "text/plain; charset=utf-8", cache_control=SNAPSHOT_CACHE, headers=headers)
