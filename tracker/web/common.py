"""What every route of the web app shares: templates, bill ids from paths, dates from queries,
a time limit on queries, ETags, and errors that are always a 4xx with a clear message."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from contextlib import contextmanager
from datetime import date, datetime, timezone

import jinja2
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import text
from sqlalchemy.orm import Session

from spiders.billids import BadBillId, BillId, parse_bill_id
from spiders.urls import web_link

TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(os.path.dirname(__file__), "templates")),
                               autoescape=True, undefined=jinja2.StrictUndefined)
TEMPLATES.filters["web_link"] = web_link  # a link from a source is shown only when it is http(s)
QUERY_SECONDS = 5.0  # every database query of a request stops after this
MAX_PAGE = 200


def render(request: Request, template: str, status: int = 200, cache: bool = False, **ctx) -> HTMLResponse:
    config = request.app.state.config
    html = TEMPLATES.get_template(template).render(campaign=config.campaign, request_path=request.url.path, **ctx)
    headers = {"Cache-Control": "public, max-age=60"} if cache else {"Cache-Control": "no-store"}
    return HTMLResponse(html, status_code=status, headers=headers)


def bill_id(request: Request, session: int | str, number: str) -> BillId:
    try:
        return parse_bill_id(f"{session}/{number}", request.app.state.config.sources.malegislature.session)
    except BadBillId as exc:
        raise HTTPException(400, str(exc)) from None


def any_bill_id(request: Request, text_id: str | None) -> BillId | None:
    if not text_id:
        return None
    try:
        return parse_bill_id(text_id, request.app.state.config.sources.malegislature.session)
    except BadBillId as exc:
        raise HTTPException(400, f"bill {text_id!r}: {exc}") from None


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


def with_etag(request: Request, body: bytes, media_type: str, extra: dict | None = None) -> Response:
    """A cacheable response: an ETag of the body, and 304 when the client has it already."""
    tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": tag, "Cache-Control": "public, max-age=60"} | (extra or {})
    if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def page_args(page: int, per_page: int = 50) -> tuple[int, int]:
    page = max(1, min(page, 10_000))
    return (page - 1) * per_page, per_page
