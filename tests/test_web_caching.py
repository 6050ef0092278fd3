"""Conditional requests: every cacheable answer of the web app (public ``Cache-Control``) carries an ETag and
honours ``If-None-Match`` the way RFC 9110 says (weak comparison, ``*``, lists). The routes are read from the
app itself, so a new cacheable route is checked without being listed here."""

from __future__ import annotations

import re
import zlib
from datetime import date, datetime, timezone

import pytest
from starlette.routing import Route

from db.models import Article, ArticleBill, Event, Snapshot
from tests.alerts_world import KEY, NOW, add_action, add_bill, add_hearing, config, application
from tests.web_client import caller
from tracker.web.app import create_app
from tracker.web.common import none_match

# What each path parameter of a route is filled with, and the query a route cannot do without.
PATH_VALUES = {"session": "192", "number": "H135", "spelling": "H.135", "bill_id": "ma/192/H135",
               "other_session": "192", "other_number": "H135", "name": "write-your-legislators"}
REQUIRED_QUERY = {"/api/search": "q=facial+recognition"}
# Variants of routes found below whose answers differ (another body, other headers).
VARIANTS = ["/api/bills?format=csv", "/api/events?format=jsonl", "/api/bills/192/H135/actions?format=csv",
            "/api/search?q=hearing&kind=action", "/events.atom?bill=H.135", "/hearings.ics?bill=192/H135",
            "/bills/192/H135?as_of=2022-01-01", "/events?kind=bill.action"]
# At least these are cacheable: the JSON API, the feeds, the archive's pages and the snapshots.
EXPECTED = {"/", "/events", "/bills/{session}/{number}", "/snapshots/{snapshot_id}", "/events.atom", "/hearings.ics",
            "/bills/{bill_id:path}/feed.atom", "/bills/{bill_id:path}/hearings.ics", "/api/bills",
            "/api/bills/{session}/{number}", "/api/bills/{session}/{number}/actions", "/api/events", "/api/articles",
            "/api/search"} | set(VARIANTS)


@pytest.fixture
def site(sessions, monkeypatch):
    monkeypatch.delenv("TRACKER_PUBLIC_URL", raising=False)
    app = create_app(application(config(), sessions, KEY, transport_factory=lambda: None))
    with sessions.begin() as s:
        bill = add_bill(s, "H135")
        add_action(s, bill, "Hearing scheduled for 11/23/2021 in Virtual Hearing", ["hearing-scheduled"],
                   date(2021, 11, 16))
        add_hearing(s, bill, datetime(2021, 11, 23, 15, 0, tzinfo=timezone.utc))
        snap = Snapshot(sha256="0" * 64, url="https://malegislature.gov/Bills/192/H135", status=200,
                        fetched_at=NOW, size=5, body=zlib.compress(b"hello"))
        s.add(snap)
        a = Article(url="https://news.example/1", link="https://news.example/1", title="Facial recognition limits",
                    publisher="WWLP", summary_text="H.135 and facial recognition", first_seen_at=NOW,
                    published_at=NOW)
        s.add(a)
        s.flush()
        s.add(ArticleBill(article_id=a.id, bill_id=bill.id, reason="number", term="H.135", field="summary",
                          kind="number", created_at=NOW))
        s.add(Event(kind="article.matched", at=NOW, bill_id=bill.id, article_id=a.id, summary="H.135 in the news",
                    payload={}, snapshot_id=snap.id))
        values = PATH_VALUES | {"snapshot_id": str(snap.id)}
    return app, caller(app), values


def _routes(routes):
    for route in routes:
        included = getattr(route, "original_router", None)  # how FastAPI 0.16x holds an included router
        if included is not None:
            yield from _routes(included.routes)
        elif isinstance(route, Route):
            yield route


def _urls(app, values: dict) -> list[tuple[str, str]]:
    """(route path, a URL of it) for every GET route of the app, then the variants."""
    out = []
    for route in _routes(app.routes):
        if "GET" not in (route.methods or ()):
            continue
        names = re.findall(r"{(\w+)(?::\w+)?}", route.path)
        missing = [n for n in names if n not in values]
        assert not missing, f"{route.path}: say in PATH_VALUES what to fill {missing} with"
        url = re.sub(r"{(\w+)(?::\w+)?}", lambda m: values[m.group(1)], route.path)
        if route.path in REQUIRED_QUERY:
            url += "?" + REQUIRED_QUERY[route.path]
        out.append((route.path, url))
    return out + [(url, url) for url in VARIANTS]


def test_every_cacheable_route_answers_if_none_match(site):
    app, web, values = site
    cacheable = set()
    for path, url in _urls(app, values):
        first = web("GET", url)
        assert first.status_code < 500, (url, first.text[:200])
        if first.status_code != 200 or "public" not in first.headers.get("cache-control", ""):
            continue
        cacheable.add(path)
        etag = first.headers.get("etag")
        assert etag and re.fullmatch(r'"[^"]+"', etag), f"{url}: cacheable, but its ETag is {etag!r}"
        assert web("GET", url).headers["etag"] == etag, f"{url}: the same body has another ETag"
        for header in (etag, f"W/{etag}", f'"other", {etag}', f'W/"other",W/{etag} , "more"', "*"):
            again = web("GET", url, headers={"If-None-Match": header})
            assert again.status_code == 304, (url, header, again.status_code)
            assert again.content == b"" and again.headers["etag"] == etag, (url, header)
            assert again.headers["cache-control"] == first.headers["cache-control"], (url, header)
        for header in ('"other"', 'W/"other"', f'"{etag.strip(chr(34))}x"', '"", W/""'):
            assert web("GET", url, headers={"If-None-Match": header}).status_code == 200, (url, header)
    assert EXPECTED <= cacheable, f"not cacheable any more: {sorted(EXPECTED - cacheable)}"


def test_each_route_keeps_its_cache_lifetime(site):
    _, web, values = site
    assert web("GET", "/api/bills").headers["cache-control"] == "public, max-age=60"
    assert web("GET", "/bills/192/H135").headers["cache-control"] == "public, max-age=60"
    assert web("GET", "/events.atom").headers["cache-control"] == "public, max-age=300"
    assert web("GET", "/hearings.ics").headers["cache-control"] == "public, max-age=300"
    assert web("GET", f"/snapshots/{values['snapshot_id']}").headers["cache-control"] == "public, max-age=86400"
    for private in ("/signup", "/search?q=facial", "/confirm?token=x"):
        r = web("GET", private)
        assert "public" not in r.headers["cache-control"] and "etag" not in r.headers, private


@pytest.mark.parametrize("header, matches", [
    ('"abc"', True), ('W/"abc"', True), (' "x" ,W/"abc"', True), ("*", True), (' * ', True),
    ('"x,y", "abc"', True),  # a comma inside a tag does not split it
    ('"abc,"', False), ('"ab"', False), ("abc", False), ("", False), (None, False), ('W/"x", "y"', False),
])
def test_if_none_match_uses_the_weak_comparison(header, matches):
    assert none_match(header, '"abc"') is matches
    assert none_match(header, 'W/"abc"') is matches  # weak comparison: the weakness of either tag is ignored
