"""Public, read-only feeds: Atom 1.0 (RFC 4287) for the event log and for each bill, and an
iCalendar (RFC 5545) feed of hearings.

| URL | what |
|---|---|
| ``/events.atom`` | the newest 100 events of every kind |
| ``/bills/192/H135/feed.atom``, ``/bills/ma/192/H135/feed.atom`` | the newest 100 events of one bill |
| ``/events.atom?bill=ID`` | the same, ``ID`` in any accepted spelling (``H.135``: the session from the configuration) |
| ``/hearings.ics`` | every hearing with a start time; canceled ones carry ``STATUS:CANCELLED`` |
| ``/hearings.ics?bill=ID``, ``/bills/192/H135/hearings.ics`` | one bill's hearings |

Every answer carries a strong ``ETag`` (a hash of the body) and ``Cache-Control: public,
max-age=300``; a matching ``If-None-Match`` gets ``304 Not Modified`` (``tracker.web.common.cacheable``,
shared by every cacheable route). A bill id that does not
parse is a 400, a bill the database does not hold a 404, each with one line of plain text.

Events carry no subscriber data, so nothing here can show any. The XML is built with
``xml.etree`` (never by pasting strings), after removing the characters XML 1.0 cannot carry. feedgen was
weighed for it and not taken (issue 21): its 1.0.0 drops the ``rel`` and ``type`` of an entry's link and writes
times as ``+00:00`` with microseconds, for no gain in speed or code (``bench/atom_bench.py``).

The handlers find the session factory and the configuration on ``request.app.state``. The path
routes take the bill with a ``path`` converter, so ``ma/192/H135`` works in the path; a one-segment
spelling (``/bills/H.135/feed.atom``) is taken by the archive page route ``/bills/{session}/{number}``,
which is registered first: use ``?bill=`` for those.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import quote, urlsplit
from xml.etree import ElementTree as ET

import icalendar
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy.orm import Session

from db.bills import find_bill
from db.events import feed_entries
from db.hearings import scheduled_hearings
from alerts.wording import kind_words
from db.models import Bill, Event
from spiders.billids import STATE_HOUSE_TZ, BadBillId, dotted, ordinal
from spiders.urls import is_web_url
from tracker.application import AmbiguousBillId
from tracker.web.common import cacheable, moment_words

router = APIRouter()

ATOM = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
ICS_TYPE = "text/calendar; charset=utf-8"
CACHE_CONTROL = "public, max-age=300"
FEED_LIMIT = 100
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
FEED_TAG_DATE = "2021"  # the date part of the feeds' own tag: ids; fixed so they never change

# XML 1.0 allows tab, newline, carriage return and everything from U+0020 except surrogates, U+FFFE, U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SPACES = re.compile(r"\s+")


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


# -- helpers ---------------------------------------------------------------------------------------------------


def clean_text(value: object) -> str:
    """Text XML and iCalendar can carry: no control characters, ``\\r\\n`` as ``\\n``."""
    text = "" if value is None else str(value)
    return _NOT_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def clean_line(value: object) -> str:
    """One line: control characters removed, runs of whitespace (newlines too) made one space."""
    return _SPACES.sub(" ", clean_text(value)).strip()


def _rfc3339(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(dt: datetime) -> str:
    return moment_words(dt)  # the pages' words: Nov 23, 2021, 10:00 AM EST


def _base_url(request: Request) -> str:
    """Where links point: ``TRACKER_PUBLIC_URL`` (the address behind the reverse proxy), else the request's."""
    return (request.app.state.public_url_given or str(request.base_url)).rstrip("/")


def _authority(request: Request) -> str:
    """The host in tag: URIs and UIDs: from ``TRACKER_PUBLIC_URL``, never from the request's Host header, so
    ids stay the same whatever name the server is reached by."""
    host = urlsplit(request.app.state.public_url).hostname
    return (host or "localhost").lower()


def _bill_path(bill: Bill) -> str:
    return f"/bills/{bill.session}/{quote(bill.number)}"


def _one_line(status: int, message: str) -> PlainTextResponse:
    return PlainTextResponse(clean_line(message) + "\n", status_code=status,
                             headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"})


def _cached(request: Request, body: bytes, media_type: str) -> Response:
    return cacheable(request, body, media_type, cache_control=CACHE_CONTROL,
                     headers={"X-Content-Type-Options": "nosniff"})


def _find_bill(request: Request, s: Session, text: str) -> Bill:
    """The bill ``text`` names, by the rule of the CLI and the pages (``Application.resolve_bill``)."""
    try:
        bid, _ = request.app.state.application.resolved_bill_id(s, text)
    except BadBillId as exc:
        raise _Refused(400, f"bad bill id: {exc}") from None
    except AmbiguousBillId as exc:
        raise _Refused(300, str(exc)) from None
    bill = find_bill(s, bid.canonical)
    if bill is None:
        raise _Refused(404, f"unknown bill: {bid.canonical} is not followed here")
    return bill


# -- Atom ------------------------------------------------------------------------------------------------------


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: clean_text(v) for k, v in attrs.items()})
    if text is not None:
        el.text = clean_text(text)
    return el


def _published(ev: Event) -> datetime:
    """When the thing happened (the action's date, the article's publication), else when it was recorded."""
    if ev.occurred_at is not None:
        return ev.occurred_at
    if ev.occurred_on is not None:
        return datetime.combine(ev.occurred_on, time(0), STATE_HOUSE_TZ)
    return ev.at


def _entry_link(ev: Event, bill: Bill | None, article_url: str | None) -> str | None:
    payload = ev.payload or {}
    if ev.kind.startswith("article."):
        url = article_url or payload.get("url")  # the page the feed gave; the canonical URL is the key
        if is_web_url(url):  # never a javascript: link from a feed into a reader
            return str(url).strip()
    return bill.url if bill is not None and bill.url else None


def _entry_text(ev: Event, bill: Bill | None, link: str | None) -> str:
    payload = ev.payload if isinstance(ev.payload, dict) else {}
    lines = [clean_line(ev.summary)]
    if bill is not None:
        lines.append(f"Bill: {dotted(bill.number)} ({bill.canonical})" + (f", {clean_line(bill.title)}" if bill.title else ""))
    if ev.kind.startswith("hearing."):
        for label, key in (("Starts", "starts_at"), ("Ends", "ends_at")):
            try:
                when = datetime.fromisoformat(payload[key]) if payload.get(key) else None
            except (TypeError, ValueError):
                when = None
            if when is not None and when.tzinfo is not None:
                lines.append(f"{label}: {_local(when)}")
        if payload.get("location"):
            lines.append(f"Where: {clean_line(payload['location'])}")
        if payload.get("status"):
            lines.append(f"Status: {clean_line(payload['status'])}")
    elif ev.kind == "bill.action" and payload.get("action"):
        lines.append(f"Action ({clean_line(payload.get('branch') or '?')}, {payload.get('date') or 'undated'}): "
                     f"{clean_line(payload['action'])}")
    elif ev.kind.startswith("article.") and payload.get("title"):
        lines.append(f"Article: {clean_line(payload['title'])}")
        if payload.get("reason"):
            lines.append(f"Why: {clean_line(payload['reason'])}")
    if link:
        lines.append(f"Link: {link}")
    lines.append(f"What: {kind_words(ev.kind)}, recorded {_local(ev.at)}")
    return "\n".join(lines)


def atom_feed(base: str, authority: str, *, feed_id: str, title: str, subtitle: str, self_path: str,
              alternate: str | None, author: str, rows, fallback_updated: datetime) -> bytes:
    """An Atom 1.0 document for these (event, bill, article link) rows, newest first."""
    feed = ET.Element("feed", {"xmlns": ATOM})  # unprefixed names in the Atom namespace
    _sub(feed, "id", feed_id)
    _sub(feed, "title", title, type="text")
    _sub(feed, "subtitle", subtitle, type="text")
    newest = max((ev.at for ev, _, _ in rows), default=fallback_updated)
    _sub(feed, "updated", _rfc3339(newest))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=base + self_path)
    if alternate:
        _sub(feed, "link", rel="alternate", type="text/html", href=alternate)
    _sub(_sub(feed, "author"), "name", author)
    _sub(feed, "generator", "ma-bill-tracker")
    for ev, bill, article_url in rows:
        entry = _sub(feed, "entry")
        _sub(entry, "id", f"tag:{authority},{ev.at.astimezone(timezone.utc).date().isoformat()}:events/{ev.id}")
        _sub(entry, "title", clean_line(ev.summary) or kind_words(ev.kind), type="text")
        _sub(entry, "updated", _rfc3339(ev.at))
        _sub(entry, "published", _rfc3339(_published(ev)))
        link = _entry_link(ev, bill, article_url)
        if link:
            _sub(entry, "link", rel="alternate", type="text/html", href=link)
        _sub(entry, "category", term=ev.kind)
        _sub(entry, "summary", clean_line(ev.summary), type="text")
        _sub(entry, "content", _entry_text(ev, bill, link), type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _events_feed(request: Request) -> bytes:
    config = request.app.state.config
    with request.app.state.sessions() as s:
        rows = feed_entries(s, None, FEED_LIMIT)
        return atom_feed(_base_url(request), _authority(request), feed_id=f"tag:{_authority(request)},{FEED_TAG_DATE}:events",
                         title=f"{config.campaign.name}: every event",
                         subtitle="Bill actions, hearings, status changes and news, as the tracker records them",
                         self_path="/events.atom", alternate=_base_url(request) + "/", author=config.campaign.name,
                         rows=rows, fallback_updated=EPOCH)


def _bill_feed(request: Request, bill_text: str) -> bytes:
    config = request.app.state.config
    with request.app.state.sessions() as s:
        bill = _find_bill(request, s, bill_text)
        rows = feed_entries(s, bill.canonical, FEED_LIMIT)
        title = f"{dotted(bill.number)} ({ordinal(bill.session)} General Court)"
        if bill.title:
            title += f": {clean_line(bill.title)}"
        return atom_feed(_base_url(request), _authority(request),
                         feed_id=f"tag:{_authority(request)},{FEED_TAG_DATE}:bills/{bill.canonical}",
                         title=title, subtitle=f"Every recorded change to {dotted(bill.number)}, and the news about it",
                         self_path=_bill_path(bill) + "/feed.atom", alternate=bill.url, author=config.campaign.name,
                         rows=rows, fallback_updated=bill.created_at or EPOCH)


@router.api_route("/events.atom", methods=["GET", "HEAD"], include_in_schema=False)
def events_atom(request: Request, bill: str | None = None) -> Response:
    try:
        body = _events_feed(request) if bill is None else _bill_feed(request, bill)
    except _Refused as exc:
        return _one_line(exc.status, str(exc))
    return _cached(request, body, ATOM_TYPE)


@router.api_route("/bills/{bill_id:path}/feed.atom", methods=["GET", "HEAD"], include_in_schema=False)
def bill_atom(request: Request, bill_id: str) -> Response:
    try:
        body = _bill_feed(request, bill_id)
    except _Refused as exc:
        return _one_line(exc.status, str(exc))
    return _cached(request, body, ATOM_TYPE)


# -- iCalendar -------------------------------------------------------------------------------------------------


def hearings_calendar(rows, authority: str, name: str) -> bytes:
    """A VCALENDAR of these (hearing, bill) rows, times in America/New_York with its VTIMEZONE."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//ma-bill-tracker//hearings//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", clean_line(name))
    cal.add("x-wr-timezone", "America/New_York")
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    years = []
    for hearing, bill in rows:
        starts = hearing.starts_at.astimezone(STATE_HOUSE_TZ)
        years.append(starts.year)
        number = dotted(bill.number)
        ev = icalendar.Event()
        ev.add("uid", f"hearing-{hearing.id}-{bill.canonical.replace('/', '-')}@{authority}")
        # with no METHOD, DTSTAMP is when the information was last revised (RFC 5545 3.8.7.2)
        ev.add("dtstamp", hearing.updated_at.astimezone(timezone.utc))
        ev.add("last-modified", hearing.updated_at.astimezone(timezone.utc))
        ev.add("dtstart", starts)
        if hearing.ends_at is not None and hearing.ends_at > hearing.starts_at:
            ev.add("dtend", hearing.ends_at.astimezone(STATE_HOUSE_TZ))
        canceled = hearing.status == "canceled"
        summary = f"Hearing: {number}" + (f" {clean_line(bill.title)}" if bill.title else "")
        ev.add("summary", summary + (" (canceled)" if canceled else ""))
        ev.add("status", "CANCELLED" if canceled else "CONFIRMED")
        if hearing.location:
            ev.add("location", clean_line(hearing.location))
        if bill.url:
            ev.add("url", bill.url)
        lines = [f"{number} ({bill.canonical})" + (f": {clean_line(bill.title)}" if bill.title else "")]
        if bill.committee:
            lines.append(f"Committee: {clean_line(bill.committee)}")
        lines.append(f"Hearing {hearing.status}" + (f", {clean_line(hearing.location)}" if hearing.location else ""))
        if bill.url:
            lines.append(bill.url)
        ev.add("description", "\n".join(lines))
        ev.add("class", "PUBLIC")
        cal.add_component(ev)
    if years:
        cal.add_missing_timezones(first_date=date(min(years) - 1, 1, 1), last_date=date(max(years) + 2, 1, 1))
    return cal.to_ical()


def _hearings(request: Request, bill_text: str | None) -> bytes:
    config = request.app.state.config
    with request.app.state.sessions() as s:
        name = f"{config.campaign.name}: hearings"
        canonical = None
        if bill_text is not None:
            bill = _find_bill(request, s, bill_text)
            canonical, name = bill.canonical, f"Hearings on {dotted(bill.number)}"
        return hearings_calendar(scheduled_hearings(s, canonical), _authority(request), name)


@router.api_route("/hearings.ics", methods=["GET", "HEAD"], include_in_schema=False)
def hearings_ics(request: Request, bill: str | None = None) -> Response:
    try:
        body = _hearings(request, bill)
    except _Refused as exc:
        return _one_line(exc.status, str(exc))
    return _cached(request, body, ICS_TYPE)


@router.api_route("/bills/{bill_id:path}/hearings.ics", methods=["GET", "HEAD"], include_in_schema=False)
def bill_hearings_ics(request: Request, bill_id: str) -> Response:
    return hearings_ics(request, bill_id)
