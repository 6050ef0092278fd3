"""Fuzzing the parsers of untrusted input: only the documented errors come out, and what comes out is sane.

Each target is a plain ``check_*`` function that takes one input, calls the code, lets the documented
error through (returning it), and asserts on the result otherwise; any other exception is a failure.
The hypothesis tests below feed it arbitrary and structured inputs at a modest, derandomised budget
(``TRACKER_FUZZ_EXAMPLES``, default 200 per test); ``bench/fuzz_long.py`` runs the same tests far
longer with random seeds (``TRACKER_FUZZ_RANDOM=1``) and the same checks under atheris.

Documented errors, from each module's docstrings:

* ``spiders.malegislature_parse``: ``ParseError`` (``BillNotFound`` is one) carrying the URL;
* ``spiders.billids``: ``BadBillId``;
* ``spiders.feed_parse.parse_feed``: ``FeedError``; ``spiders.sanitize`` and ``spiders.urls``
  never raise;
* ``tracker.config.parse_config``: ``ConfigError``, whose message names the file;
* ``db.search``: ``BadQuery``; "no query is a syntax error" on either database.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date, datetime, timezone
from urllib.parse import urlsplit

import lxml.html
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from spiders.billtext_parse import normalise_text, parse_text_page
from spiders.feed_parse import parse_feed
from spiders.malegislature_parse import (
    parse_api_document,
    parse_api_history,
    parse_html_bill_page,
    parse_html_history_page,
    parse_html_petitioners,
)
from spiders.records import BillDetail, BillPage, FeedError, ParseError, ParsedFeed
from spiders.billids import BadBillId, BillId, parse_bill_id
from tracker.config import Config, ConfigError, parse_config
from db.search import BadQuery, fts_query, search
from spiders.sanitize import html_to_text, sanitize_with_text
from spiders.urls import canonical_url, decode_google_news_url

# feedparser warns about its own updated_parsed fallback, which parse_feed reads on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:To avoid breaking existing software:DeprecationWarning")

EXAMPLES = int(os.environ.get("TRACKER_FUZZ_EXAMPLES", "200"))
RANDOM = os.environ.get("TRACKER_FUZZ_RANDOM") == "1"  # bench/fuzz_long.py: a fresh seed per run
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None, print_blob=RANDOM,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])

BASE = "https://malegislature.gov"
HISTORY_URL = f"{BASE}/api/GeneralCourts/192/Documents/H135/DocumentHistoryActions"
DOC_URL = f"{BASE}/api/GeneralCourts/192/Documents/H135"
PAGE_URL = f"{BASE}/Bills/192/H135"
FEED_URL = "https://example.org/feed/"
CONFIG_PATH = "fuzz/feeds.yaml"


# --------------------------------------------------------------------------- checks


def _iso_day(value: str | None) -> None:
    if value is not None:
        assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value), value
        date.fromisoformat(value)


def _history(rows) -> None:
    for row in rows:
        _iso_day(row.date)
        if row.timestamp is not None:
            assert row.timestamp.startswith(row.date) and datetime.fromisoformat(row.timestamp)
        assert isinstance(row.branch, str) and isinstance(row.action, str)
        assert row.action == " ".join(row.action.split())


def _parse_error(exc: ParseError, url: str) -> ParseError:
    assert exc.url == url and str(exc)
    return exc


def check_api_history(body: bytes):
    try:
        rows = parse_api_history(body, HISTORY_URL)
    except ParseError as exc:
        return _parse_error(exc, HISTORY_URL)
    _history(rows)
    return rows


def check_api_document(body: bytes):
    try:
        detail = parse_api_document(body, DOC_URL)
    except ParseError as exc:
        return _parse_error(exc, DOC_URL)
    assert isinstance(detail, BillDetail) and isinstance(detail.session, int) and not isinstance(detail.session, bool)
    assert isinstance(detail.number, str) and detail.number
    for field in (detail.title, detail.pinslip, detail.docket):
        assert field is None or isinstance(field, str)
    for person in detail.petitioners + ([detail.sponsor] if detail.sponsor else []):
        assert isinstance(person.name, str) and person.name
    return detail


def check_html_bill_page(body: bytes):
    try:
        page = parse_html_bill_page(body, PAGE_URL)
    except ParseError as exc:
        return _parse_error(exc, PAGE_URL)
    assert isinstance(page, BillPage) and isinstance(page.detail.session, int) and page.detail.number
    assert 1 <= page.history_pages <= 10_000
    _history(page.history)
    return page


def check_html_history_page(body: bytes):
    try:
        rows, pages = parse_html_history_page(body, PAGE_URL + "/BillHistory?pageNumber=2")
    except ParseError as exc:
        return _parse_error(exc, PAGE_URL + "/BillHistory?pageNumber=2")
    assert 1 <= pages <= 10_000
    _history(rows)
    return rows


def check_html_petitioners(body: bytes):
    try:
        people = parse_html_petitioners(body, PAGE_URL + "/Cosponsor")
    except ParseError as exc:
        return _parse_error(exc, PAGE_URL + "/Cosponsor")
    assert all(p.name and p.name == " ".join(p.name.split()) for p in people)
    return people


def check_bill_id(text: str, default_session: int | None = 192):
    try:
        bid = parse_bill_id(text, default_session)
    except BadBillId as exc:
        return exc
    assert re.fullmatch(r"ma/[0-9]+/(H|S|HD|SD|HRes|SRes)[0-9]+", bid.canonical), bid
    assert parse_bill_id(bid.canonical) == bid and parse_bill_id(bid.dotted, bid.session) == bid
    return bid


_ALLOWED_ATTRS = {"a": {"href"}, "img": {"src", "alt"}}
_ALLOWED_TAGS = {"p", "br", "a", "em", "strong", "ul", "ol", "li", "blockquote", "img", "h1", "h2", "h3", "h4",
                 "h5", "h6", "div"}


def _safe_html(html: str | None, base: str | None) -> None:
    """What the sanitiser promises, checked on the output as a browser-like parser reads it again."""
    if not html:
        return
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    for el in root.iter():
        if not isinstance(el.tag, str):
            raise AssertionError(f"comment or PI left in {html!r}")
        assert el.tag in _ALLOWED_TAGS, (el.tag, html)
        assert set(el.attrib) <= _ALLOWED_ATTRS.get(el.tag, set()), (el.tag, dict(el.attrib), html)
        for attr, schemes in (("href", ("http", "https", "mailto")), ("src", ("http", "https"))):
            value = el.get(attr)
            if value is None:
                continue
            scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", re.sub(r"[\x00-\x20\x7f]+", "", value))
            if base and base.startswith(("http://", "https://")):  # a relative base leaves links relative
                assert scheme and scheme.group(1).lower() in schemes, (attr, value, html)
            else:
                assert scheme is None or scheme.group(1).lower() in schemes, (attr, value, html)


def check_sanitize(html: str, base: str | None = FEED_URL):
    safe, text = sanitize_with_text(html, base)
    assert isinstance(safe, str) and isinstance(text, str)
    _safe_html(safe, base)
    assert isinstance(html_to_text(html), str)
    return safe


def check_feed(body: bytes, content_type: str | None = None):
    try:
        feed = parse_feed(body, FEED_URL, content_type)
    except FeedError as exc:
        assert str(exc) and "\n" not in str(exc)
        return exc
    assert isinstance(feed, ParsedFeed) and feed.format in ("rss", "atom", "rdf")
    assert feed.ttl_minutes is None or 0 <= feed.ttl_minutes <= 525_600
    for item in feed.items:
        assert item.title or item.url
        assert item.title == " ".join(item.title.split())
        if item.published_at is not None:
            when = datetime.fromisoformat(item.published_at)
            assert when.utcoffset() is not None and when.utcoffset().total_seconds() == 0, item.published_at
        _safe_html(item.summary_html, FEED_URL)
        _safe_html(item.content_html, FEED_URL)
        if item.url is not None:
            check_url(item.url)
    return feed


def check_url(url: str):
    key = canonical_url(url)
    assert isinstance(key, str)
    assert canonical_url(key) == key, (url, key, canonical_url(key))
    if key.startswith("https://") and key != url.strip():
        parts = urlsplit(key)
        assert not parts.fragment and not any(p.lower().startswith("utm_") for p in parts.query.split("&"))
    decoded = decode_google_news_url(url)
    assert decoded is None or re.match(r"https?://", decoded)
    return key


def check_config(text: str):
    try:
        config = parse_config(text, CONFIG_PATH)
    except ConfigError as exc:
        lines = str(exc).split("\n")
        assert all(line.startswith(CONFIG_PATH) for line in lines), str(exc)
        return exc
    assert isinstance(config, Config)
    config.tracked_bill_ids()
    for feed in config.feeds:
        config.feed_interval(feed), config.feed_url(feed)
    return config


def check_query(query: str):
    try:
        expr = fts_query(query)
    except BadQuery as exc:
        return exc
    assert re.fullmatch(r'"[^"]+"(?: "[^"]+")*', expr), expr
    return expr


def check_search(sessions, query: str, bill: str | None = None):
    with sessions() as s:
        try:
            hits = search(s, query, bill=bill)
        except BadQuery as exc:
            return exc
    assert isinstance(hits, list) and len(hits) <= 50
    assert all(h["type"] in ("article", "action") for h in hits)
    return hits


# --------------------------------------------------------------------------- strategies

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
json_values = st.recursive(json_scalars, lambda kids: st.lists(kids, max_size=4)
                           | st.dictionaries(st.text(max_size=8), kids, max_size=4), max_leaves=12)
any_text = st.text(max_size=200)
odd_dates = st.one_of(
    st.dates().map(date.isoformat),
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,7})?)?\Z"),
    any_text,
)


def _json(value) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


history_rows = st.fixed_dictionaries(
    {}, optional={"Date": odd_dates | json_values, "Branch": any_text | json_values,
                  "Action": any_text | json_values, "IsStricken": json_values})
documents = st.fixed_dictionaries({}, optional={
    "BillNumber": st.sampled_from(["H135", "S47", "HD3228", ""]) | json_values,
    "DocketNumber": st.sampled_from(["HD3228", None]) | json_values,
    "GeneralCourtNumber": st.sampled_from([192, "192", 193.0]) | json_values,
    "Title": any_text | json_values, "Pinslip": any_text | json_values,
    "PrimarySponsor": st.fixed_dictionaries({}, optional={"Name": any_text | json_values, "Id": json_values,
                                                          "Type": json_values}) | json_values,
    "Cosponsors": st.lists(st.fixed_dictionaries({}, optional={"Name": any_text | json_values,
                                                               "Id": json_values}), max_size=3) | json_values,
})

html_text = st.one_of(any_text, st.sampled_from(["&amp;", "&nbsp;", "<b>x</b>", "<td>", "</table>", "\x00",
                                                 "Oh My Cod!", "²", "١٢", "<!--", "<![CDATA["]))
html_dates = st.one_of(st.dates().map(lambda d: f"{d.month}/{d.day}/{d.year}"),
                       st.from_regex(r"\A[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}\Z"), html_text)
pagination = st.lists(st.one_of(st.integers(0, 20).map(str), st.text(alphabet="0123456789²", max_size=30),
                                html_text), max_size=4)


@st.composite
def bill_pages(draw) -> bytes:
    rows = "".join(f"<tr><td>{draw(html_dates)}</td><td>{draw(html_text)}</td><td>{draw(html_text)}</td></tr>"
                   for _ in range(draw(st.integers(0, 4))))
    lis = "".join(f'<li><a onclick="getBillHistory({draw(html_text)})">{p}</a></li>' for p in draw(pagination))
    h1 = draw(st.sampled_from(["Bill H.135", "Bill S.47", "Docket HD.3228", "H135", ""]) | html_text)
    sub = draw(st.sampled_from(["192nd (Current)", "193rd", ""]) | html_text)
    head = "" if draw(st.booleans()) else (f'<div class="followable"><h1>{h1}<span class="subTitle">{sub}</span>'
                                          "</h1></div>")
    return (f"<html><head><title>{draw(html_text)}</title></head><body><div id='contentContainer'><div><div>"
            f"{head}<h2>{draw(html_text)}</h2><p id='pinslip'>{draw(html_text)}</p><dl><dt>Sponsor:</dt>"
            f"<dd><a href='/Legislators/Profile/{draw(html_text)}'>{draw(html_text)}</a></dd></dl></div></div></div>"
            f"<div id='BillHistory-tabpanel'><table><thead><tr><th>Date</th><th>Branch</th><th>Action</th></tr>"
            f"</thead><tbody>{rows}</tbody></table><ul class='pagination pagination-sm'>{lis}</ul></div>"
            "</body></html>").encode("utf-8", "surrogatepass")


@st.composite
def petitioner_pages(draw) -> bytes:
    rows = "".join(f"<tr><td><a href='/Legislators/Profile/{draw(html_text)}'>{draw(html_text)}</a>*</td>"
                   f"<td>{draw(html_text)}</td></tr>" for _ in range(draw(st.integers(0, 4))))
    return f"<div id='Cosponsor-tabpanel'><table><tbody>{rows}</tbody></table></div>".encode("utf-8", "surrogatepass")


def _variants(bid: BillId) -> list[str]:
    m = re.fullmatch(r"([A-Za-z]+)([0-9]+)", bid.number)
    prefix, num = m.groups()
    return [bid.canonical, f"{bid.session}/{bid.number}", f"{prefix}.{num}", f"{prefix} {num}",
            f"{prefix.lower()}.{num}", f"{prefix.upper()}{num}", f" {prefix}. {num} ", f"MA/{bid.session}/{bid.number}",
            f"{bid.session}/{prefix} {num}"]


bill_ids = st.builds(BillId, st.integers(100, 999),
                     st.builds("{}{}".format, st.sampled_from(["H", "S", "HD", "SD", "HRes", "SRes"]),
                               st.integers(0, 99999)))

html_snippets = st.lists(st.one_of(
    any_text,
    st.sampled_from(["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<a href='javascript:alert(1)'>x</a>",
                     "<a href=' jav&#x09;ascript:alert(1)'>x</a>", "<a href='//evil.example/x'>x</a>",
                     "<svg><script>1</script></svg>", "<style>p{}</style>", "<iframe src=x></iframe>",
                     "<img src='data:image/png;base64,AA'>", "<img width=1 height=1 src='http://x.org/p.gif'>",
                     "<p onclick='x()' style='color:red'>p</p>", "<math><mi xlink:href='javascript:1'>x</mi></math>",
                     "<a href='mailto:x@example.org'>m</a>", "<!-- c -->", "<![CDATA[x]]>", "<noscript><p>x</p>",
                     "<div><table><tr><td>cell</td></tr></table></div>", "<base href='javascript:1'>", "&lt;script&gt;",
                     "<a href=\"http://x.org/?a=1&b=2\">q</a>", "<b><i>x</b></i>", "</p>", "<br/>", "<?php x ?>"]),
), max_size=8).map("".join)

urls = st.one_of(
    any_text,
    st.builds("{}://{}{}{}{}".format, st.sampled_from(["http", "https", "HTTP", "javascript", "ftp", ""]),
              st.sampled_from(["www.example.org", "amp.example.org", "www.www.x.org", "amp.www.x.org", "EXAMPLE.org.",
                               "[::1]", "[x", "x.org:80", "x.org:99999", "u:p@x.org", "news.google.com",
                               "www.google.com", "x-org.cdn.ampproject.org"]),
              st.sampled_from(["", "/", "/a/", "/a/amp", "/a/amp/amp", "/a.amp.html", "/a.amp.amp.html",
                               "/amp/s/www.x.org/a", "/rss/articles/CBMiK2h0dHBzOi8vd3d3LmV4YW1wbGUub3JnL2Evc3Rvcnk",
                               "//", "/%7E"]),
              st.sampled_from(["", "?utm_source=x&b=2&a=1", "?amp=1", "?outputType=amp", "?a=%20&a=+", "?&&"]),
              st.sampled_from(["", "#frag", "#"])),
)

feed_text = st.one_of(any_text, html_snippets, st.sampled_from(["", " ", "&", "&amp;", "]]>", "<b>bold</b>"]))
feed_dates = st.one_of(
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S %z")),
    st.sampled_from(["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "Mon, 31 Feb 2022 10:00:00 GMT",
                     "2022-13-01", "yesterday", "Fri, 01 Jan 99999 00:00:00 +0000", "2022-07-01T08:00:00+99:00"]),
    any_text,
)


def _escape(text: str, mode: str) -> str:
    if mode == "raw":
        return text
    if mode == "cdata":
        return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def feeds(draw) -> tuple[bytes, str | None]:
    kind = draw(st.sampled_from(["rss", "atom", "rdf"]))
    mode = st.sampled_from(["escaped", "escaped", "cdata", "raw"])
    items = []
    for _ in range(draw(st.integers(0, 4))):
        t, link, d, summary = draw(feed_text), draw(urls), draw(feed_dates), draw(feed_text)
        t, summary = _escape(t, draw(mode)), _escape(summary, draw(mode))
        link, d = _escape(link, "escaped"), _escape(d, "escaped")
        if kind == "rss":
            items.append(f"<item><title>{t}</title><link>{link}</link><pubDate>{d}</pubDate>"
                         f"<description>{summary}</description><guid>{_escape(draw(any_text), 'escaped')}</guid>"
                         f"<source url='{_escape(draw(urls), 'escaped')}'>{_escape(draw(any_text), 'escaped')}</source>"
                         f"<category>{_escape(draw(any_text), 'escaped')}</category></item>")
        elif kind == "atom":
            items.append(f"<entry><title type='{draw(st.sampled_from(['text', 'html']))}'>{t}</title>"
                         f"<link href=\"{link.replace(chr(34), '&quot;')}\"/><updated>{d}</updated>"
                         f"<summary type='html'>{summary}</summary><id>{_escape(draw(any_text), 'escaped')}</id></entry>")
        else:
            items.append(f"<item rdf:about='x'><title>{t}</title><link>{link}</link><dc:date>{d}</dc:date>"
                         f"<description>{summary}</description></item>")
    ttl = _escape(draw(st.text(alphabet="0123456789²-. ", max_size=12)), "escaped")
    if kind == "rss":
        doc = f"<rss version='2.0'><channel><title>T</title><ttl>{ttl}</ttl>{''.join(items)}</channel></rss>"
    elif kind == "atom":
        doc = f"<feed xmlns='http://www.w3.org/2005/Atom'><title>T</title>{''.join(items)}</feed>"
    else:
        doc = ("<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#' xmlns='http://purl.org/rss/1.0/' "
               "xmlns:dc='http://purl.org/dc/elements/1.1/'><channel rdf:about='x'><title>T</title></channel>"
               f"{''.join(items)}</rdf:RDF>")
    if draw(st.booleans()):
        doc = doc[: draw(st.integers(0, len(doc)))]  # cut off in transit
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "cp1252", "latin-1", "utf-8-sig"]))
    declared = draw(st.sampled_from([None, encoding, "utf-8", "iso-8859-1", "bogus-charset"]))
    if declared:
        doc = f"<?xml version='1.0' encoding='{declared}'?>" + doc
    body = doc.encode(encoding, "replace" if encoding != "utf-16" else "surrogatepass")
    content_type = draw(st.sampled_from([None, "application/rss+xml", f"text/xml; charset={encoding}",
                                         "text/html; charset=bogus"]))
    return body, content_type


config_keys = st.sampled_from(["timezone", "sources", "malegislature", "session", "base_url", "mode", "bills", "id",
                               "keywords", "feeds", "name", "url", "every", "google_news", "match", "schedule", "crawl",
                               "poll", "retention", "digests", "staff", "at", "to", "supporters", "from", "weekly_day",
                               "mail", "stale_claim", "max_attempts", "campaign", "concurrency", "delay_s"])
config_values = st.recursive(
    json_scalars | st.sampled_from(["H135", "ma/192/S47", "30m", "0s", "99999999999999999999d", "07:00", "25:61",
                                    "America/New_York", "Mars/Olympus", "..", "/etc", "https://x.org/f", "*/5 * * * *",
                                    "61 * * * *", "monday", "api", "1e400", ".inf", "²"]),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(config_keys, kids, max_size=4), max_leaves=16)
config_docs = st.dictionaries(config_keys, config_values, max_size=6)

query_text = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(['"', "'", "NEAR(", ")", "*", "^", "-", "+", "OR", "AND", "NOT", ":", "\x00", "{", "}",
                              "h.135", "facial", "recognition", "café", "ZOË", "_", "ǅ", "\u0301", "١٢", "ﬁ", "ß",
                              "\ud800", " ", "  ", "\t", "title:", "a" * 300]), max_size=12).map(" ".join),
    st.text(min_size=990, max_size=1010),
)


# --------------------------------------------------------------------------- tests: malegislature


@FUZZ
@given(st.binary(max_size=2000) | json_values.map(_json) | st.lists(history_rows, max_size=6).map(_json))
@example(b"[" * 100_000 + b"]" * 100_000)
@example(_json([{"Date": "2021-02-30", "Branch": "House", "Action": "x"}]))
def test_api_history_gives_rows_or_a_parse_error(body):
    check_api_history(body)


@FUZZ
@given(st.binary(max_size=2000) | json_values.map(_json) | documents.map(_json))
@example(b'{"BillNumber": "H135", "GeneralCourtNumber": 1e999}')
@example(b'{"BillNumber": "H135", "Title": 5}')
def test_api_document_gives_a_detail_or_a_parse_error(body):
    check_api_document(body)


@FUZZ
@given(st.binary(max_size=3000) | bill_pages())
def test_html_bill_page_gives_a_page_or_a_parse_error(body):
    check_html_bill_page(body)


@FUZZ
@given(st.binary(max_size=3000) | bill_pages())
@example(b"<table><tr><td>1/2/2021</td><td>House</td><td>x</td></tr></table><ul class='pagination-sm'><li>\xc2\xb2</li></ul>")
def test_html_history_page_gives_rows_or_a_parse_error(body):
    check_html_history_page(body)


@FUZZ
@given(st.binary(max_size=2000) | petitioner_pages() | bill_pages())
def test_html_petitioners_gives_people_or_a_parse_error(body):
    check_html_petitioners(body)


# --------------------------------------------------------------------------- tests: bill texts

TEXT_FLAGS = {"html", "wrong-encoding", "mojibake-repaired", "empty", "no-sections", "large"}
text_pieces = st.sampled_from(["SECTION 1.", "SECTION 2A:", "Section 220.", "Be it enacted by the ", "<p>", "</p>",
                               "<br>", "&amp;", "&#x2019;", "\u2019", "\u00e2\u20ac\u2122", "\u00c3\u00a9", "\r\n",
                               "\n", " ", "\u00a0", "PETITION OF:", "In the One General Court", "Whereas,"])
bill_texts = st.lists(text_pieces | st.text(max_size=30), max_size=30).map("".join)


def _check_text(check) -> None:
    assert set(check.flags) <= TEXT_FLAGS and ("empty" in check.flags) == (check.text == "")
    for line in check.text.split("\n") if check.text else ():
        assert line and line == " ".join(line.split())


@FUZZ
@given(bill_texts | st.binary(max_size=2000), st.none() | st.sampled_from(["utf-8", "windows-1252", "latin-1", "x"]))
def test_any_text_normalises_to_one_line_a_paragraph_with_known_flags(value, charset):
    _check_text(normalise_text(value, charset))


@FUZZ
@given(bill_texts.map(lambda t: f"<html><body><div class=WordSection1><p>{t}</p></div></body></html>") | st.binary(
    max_size=3000) | bill_pages())
def test_any_text_page_gives_a_text_or_a_parse_error(body):
    try:
        check = parse_text_page(body, "http://x/Bills/192/H135.Html")
    except ParseError:
        return
    _check_text(check)


# --------------------------------------------------------------------------- tests: bill ids


@FUZZ
@given(st.text(max_size=40) | st.from_regex(r"\A\s*(ma/)?([0-9]{3}/)?[HhSs](D|d|Res|RES)?[\s.]*[0-9]{1,6}\s*\Z"),
       st.none() | st.integers(100, 999))
def test_bill_id_text_gives_an_id_or_bad_bill_id(text, session):
    check_bill_id(text, session)


@FUZZ
@given(bill_ids)
def test_every_spelling_of_a_bill_id_parses_back_to_it(bid):
    for spelling in _variants(bid):
        assert parse_bill_id(spelling, bid.session) == bid, spelling
    assert parse_bill_id(str(bid)) == bid


# --------------------------------------------------------------------------- tests: feeds, HTML, URLs


@FUZZ
@given(st.binary(max_size=3000), st.none() | st.sampled_from(["text/xml; charset=utf-16", "application/rss+xml"]))
def test_any_bytes_give_a_feed_or_a_feed_error(body, content_type):
    check_feed(body, content_type)


@FUZZ
@given(feeds())
@example((b"<rss><channel><title>t</title><ttl>\xc2\xb2</ttl><item><title>a</title></item></channel></rss>", None))
def test_feed_skeletons_give_sane_items_or_a_feed_error(doc):
    check_feed(*doc)


@FUZZ
@given(html_snippets | st.text(max_size=300), st.none() | st.sampled_from([FEED_URL, "javascript:alert(1)//", "x"]))
def test_sanitised_html_has_no_script_handler_or_bad_link(html, base):
    check_sanitize(html, base)


@FUZZ
@given(urls)
@example("https://x.org/a/amp/amp")
@example("https://amp.www.x.org/a")
def test_canonical_url_never_raises_and_is_stable(url):
    check_url(url)


# --------------------------------------------------------------------------- tests: configuration


@FUZZ
@given(st.text(max_size=300) | config_docs.map(lambda d: yaml.safe_dump(d, allow_unicode=True)))
@example("bills: &a [*a]\n")
@example("schedule:\n  crawl: 99999999999999999999d\n")
def test_config_text_gives_a_config_or_a_config_error_naming_the_file(text):
    check_config(text)


# --------------------------------------------------------------------------- tests: search


@FUZZ
@given(query_text)
def test_query_text_gives_quoted_terms_or_bad_query(query):
    check_query(query)


CORPUS = [("Lawmakers weigh limits on facial recognition", "The bill H.135 would regulate face surveillance."),
          ("Café owners and police: reconnaissance faciale", "Zoë's café, the ﬁrst; Straße \"quoted\" NEAR(x)."),
          ("Senate Bill 47 sent to a study order", "S.47 joins a study order: *all* -of- them ^1.")]


def fill_corpus(sessions) -> None:
    """Three articles and two bill actions (also used by bench/fuzz_long.py)."""
    from db.models import Article, Bill, BillAction

    at = datetime(2022, 7, 1, tzinfo=timezone.utc)
    with sessions.begin() as s:
        for i, (title, summary) in enumerate(CORPUS):
            s.add(Article(url=f"https://example.org/{i}", link=f"https://example.org/{i}", title=title,
                          summary_text=summary, published_at=at, first_seen_at=at))
        bill = Bill(canonical="ma/192/H135", session=192, number="H135", tracked=True, error_count=0, created_at=at)
        s.add(bill)
        s.flush()
        for n, action in enumerate(["Hearing scheduled for 11/23/2021 in Virtual Hearing", "Senate concurred"]):
            s.add(BillAction(bill_id=bill.id, position=n, occurrence=0, date=date(2021, 11, 16 + n), branch="Joint",
                             action=action, kinds=["other"], first_seen_at=at))


@pytest.fixture
def corpus(sessions):
    fill_corpus(sessions)
    return sessions


@FUZZ
@given(query=query_text, bill=st.none() | st.just("ma/192/H135"))
@example(query='"facial recognition"', bill=None)
@example(query="\x00 NEAR( \"", bill=None)
def test_search_gives_results_or_bad_query_never_a_database_error(corpus, query, bill):
    check_search(corpus, query, bill)


def test_search_still_finds_what_it_should(corpus):
    """The fuzzed search must be searching something: the corpus answers known queries."""
    with corpus() as s:
        assert [h["url"] for h in search(s, '"facial recognition"')] == ["https://example.org/0"]
        assert {h["type"] for h in search(s, "concurred")} == {"action"}
        assert [h["url"] for h in search(s, "straße")] == ["https://example.org/1"]
