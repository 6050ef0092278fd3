"""What every route of the web app shares: templates, bill ids from paths, dates from queries,
a time limit on queries, ETags, and errors that are always a 4xx with a clear message."""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import time
from contextlib import contextmanager
from datetime import date, datetime, timezone

import jinja2
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import text
from markupsafe import Markup
from sqlalchemy.orm import Session

from alerts.wording import STATUS_WORDS, kind_words
from db.events import known_kinds
from db.shortids import Resolution
from spiders.billids import BadBillId, BillId, dotted, ordinal, session_years
from spiders.urls import web_link
from tracker.readable import EASTERN, instant, day_words, moment_words  # noqa: F401 (pages import them from here)

# a page that sends what it just queued (a confirmation, letters) waits at most this long for the send rate, in all;
# what the rate cannot take by then waits in the outbox for the next delivery (``tracker run``'s dispatch)
MAIL_WAIT_S = 1.0

TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(os.path.dirname(__file__), "templates")),
                               autoescape=True, undefined=jinja2.StrictUndefined)
TEMPLATES.filters["web_link"] = web_link  # a link from a source is shown only when it is http(s)
TEMPLATES.filters["dotted"] = dotted  # H1946 -> H.1946, as the legislature prints it
TEMPLATES.filters["ordinal"] = ordinal  # 194 -> 194th
TEMPLATES.filters["session_years"] = lambda n: "–".join(map(str, session_years(n)))  # 194 -> 2025–2026
def _time_tag(value, words) -> Markup:
    v = instant(value)
    return Markup('<time datetime="{}">{}</time>').format(v.isoformat(), words(v)) if v else Markup("")


TEMPLATES.filters["day"] = lambda v: _time_tag(v, day_words)  # <time datetime="2021-11-23">Nov 23, 2021</time>
TEMPLATES.filters["when"] = lambda v: _time_tag(v, moment_words)  # ... Nov 23, 2021, 10:00 AM EST
TEMPLATES.filters["kind_words"] = kind_words  # bill.action -> action
TEMPLATES.filters["status_words"] = lambda st: STATUS_WORDS.get(st or "", st or "not yet checked")
QUERY_SECONDS = 5.0  # every database query of a request stops after this
PAGE_CACHE = "public, max-age=60"


def render(request: Request, template: str, status: int = 200, cache: bool = False, **ctx) -> Response:
    """A page from a template; ``cache``: the same for everyone, so public, with an ETag (see ``cacheable``)."""
    config = request.app.state.config
    html = TEMPLATES.get_template(template).render(campaign=config.campaign, request_path=request.url.path, **ctx)
    if cache:
        return cacheable(request, html.encode("utf-8"), "text/html; charset=utf-8", cache_control=PAGE_CACHE,
                         status=status)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def bill_id(request: Request, session: int | str, number: str) -> BillId:
    try:
        return request.app.state.application.bill_id(f"{session}/{number}")
    except BadBillId as exc:
        raise HTTPException(400, str(exc)) from None


def no_such_bill(bid: BillId) -> HTTPException:
    """The public 404 of a bill page or the API for a bill the database does not hold: in plain words (the
    command line's message tells an operator what to run; a visitor cannot run anything)."""
    return HTTPException(404, f"{dotted(bid.number)} of the {ordinal(bid.session)} General Court is not one of the "
                              f"bills this site follows, so it has no page here.")


def no_such_document(bid: BillId) -> HTTPException:
    """The 404 of a document page or the API for an id the docket does not have."""
    return HTTPException(404, f"{bid.canonical} is not in the docket: no document of the {ordinal(bid.session)} "
                              f"General Court has that bill or docket number (or its docket is not synced yet)")


def any_bill_id(request: Request, text_id: str | None) -> BillId | None:
    """A bill id typed by a person (a query's ``bill=``, a one-segment path): ``resolve_bill``'s rule, so
    ``H.135`` is another session's followed bill when the configured session has none (AmbiguousBillId when
    several are: ``errors`` lists them); a 400 when it does not parse."""
    return resolve_bill(request, text_id)[0] if text_id else None


def resolve_bill(request: Request, text_id: str) -> tuple[BillId, Resolution]:
    """``any_bill_id`` with the resolution (how the id was chosen)."""
    try:
        with request.app.state.sessions() as s, time_limit(s):
            return request.app.state.application.resolved_bill_id(s, text_id)
    except BadBillId as exc:
        raise HTTPException(400, f"bill {text_id!r}: {exc}") from None


def event_kind(s: Session, kind: str | None) -> str | None:
    """The ``kind`` filter of the event log: empty, or one of the kinds the tracker records (a 400 naming them)."""
    if not kind:
        return None
    allowed = known_kinds(s)
    if kind not in allowed:
        raise HTTPException(400, f"kind={kind[:40]!r} is not a kind of event; the kinds are {', '.join(allowed)}")
    return kind


def day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip()[:10]) if len(value.strip()) <= 10 else \
            datetime.fromisoformat(value.strip()).date()
    except ValueError:
        raise HTTPException(400, f"{name}={value[:40]!r} is not a date: write YYYY-MM-DD") from None


def moment(value: str | None, name: str) -> datetime | None:
    d = day(value, name)
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc) if d else None


@contextmanager
def time_limit(s: Session, seconds: float = QUERY_SECONDS):
    """Stop any query of this session that runs longer than ``seconds`` (a 503, not a hung worker)."""
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        s.execute(text(f"SET LOCAL statement_timeout = {int(seconds * 1000)}"))
        yield
        return
    raw = s.connection().connection.dbapi_connection
    deadline = time.monotonic() + seconds
    raw.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 20000)
    try:
        yield
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            raise HTTPException(503, f"the query took longer than {seconds:g} s; narrow it down") from None
        raise
    finally:
        raw.set_progress_handler(None, 0)


# If-None-Match (RFC 9110 13.1.2): "*", or a comma-separated list of entity tags, each "opaque" or W/"opaque".
# A quoted tag may itself hold a comma, so members are read as tokens, not split on commas.
_IF_NONE_MATCH = re.compile(r'(?:W/)?"([^"]*)"|(\*)')
API_CACHE = "public, max-age=60"


def etag_of(body: bytes) -> str:
    """The strong entity tag of a body: a hash of its bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def none_match(header: str | None, etag: str) -> bool:
    """Does an ``If-None-Match`` header name ``etag``? The weak comparison of RFC 9110 8.8.3.2 (``W/"x"``
    matches ``"x"``), ``*`` matches any current representation, and any tag of a list may match."""
    if not header:
        return False
    opaque = etag.removeprefix("W/")
    for m in _IF_NONE_MATCH.finditer(header):
        if m.group(2) or f'"{m.group(1)}"' == opaque:
            return True
    return False


def cacheable(request: Request, body: bytes, media_type: str, *, cache_control: str = API_CACHE,
              headers: dict | None = None, status: int = 200) -> Response:
    """A cacheable response: an ETag of the body, and 304 Not Modified (no body, the same ETag and
    Cache-Control) when the request's ``If-None-Match`` names it. Every cacheable route answers through this."""
    tag = etag_of(body)
    headers = {"ETag": tag, "Cache-Control": cache_control} | (headers or {})
    if status == 200 and request.method in ("GET", "HEAD") and none_match(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return Response(body, status_code=status, media_type=media_type, headers=headers)


def page_args(page: int, per_page: int = 50) -> tuple[int, int]:
    page = max(1, min(page, 10_000))
    return (page - 1) * per_page, per_page
