"""The page cache (``tracker.web.pagecache``): an unchanged public page is not built again; a new event, the local
midnight and a hearing's start make a stored page old; a page of one visitor is never served to another."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest

from tests.alerts_world import KEY, NOW, add_action, add_bill, add_hearing, application, config
from tests.web_client import caller
from tracker.web import bill_view
from tracker.web.app import create_app
from tracker.web.pagecache import MAX_AGE, Page, PageCache

EASTERN_OFFSET = timedelta(hours=5)  # EST: NOW and the days below are in winter


@pytest.fixture
def site(sessions, monkeypatch):
    monkeypatch.delenv("TRACKER_PUBLIC_URL", raising=False)
    clock = [NOW]
    monkeypatch.setattr(bill_view, "utc_now", lambda: clock[0])
    app = create_app(application(config(), sessions, KEY, transport_factory=lambda: None))
    with sessions.begin() as s:
        bill = add_bill(s, "H135")
        add_action(s, bill, "Referred to the committee on the Judiciary", ["referred"], date(2021, 3, 29))
    builds = []
    real = bill_view.bill_page
    monkeypatch.setattr(bill_view, "bill_page", lambda *a: builds.append(a[1]) or real(*a))
    return app, caller(app), sessions, clock, builds


def test_an_unchanged_bill_page_is_built_once(site):
    app, web, _, _, builds = site
    first = web("GET", "/bills/192/H135")
    assert first.status_code == 200 and len(builds) == 1
    again = web("GET", "/bills/192/H135")
    assert again.status_code == 200 and again.content == first.content and len(builds) == 1
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == first.headers["cache-control"] == "public, max-age=60"
    not_modified = web("GET", "/bills/192/H135", headers={"If-None-Match": first.headers["etag"]})
    assert not_modified.status_code == 304 and not_modified.content == b"" and len(builds) == 1
    assert not_modified.headers["etag"] == first.headers["etag"]
    # another query string is another page
    assert web("GET", "/bills/192/H135?as_of=2021-12-31").status_code == 200 and len(builds) == 2
    assert web("GET", "/bills/192/H135?as_of=2021-12-31").status_code == 200 and len(builds) == 2
    assert app.state.page_cache.hits >= 3


def test_a_new_event_makes_every_stored_page_old(site):
    _, web, sessions, _, builds = site
    assert "Reported favorably" not in web("GET", "/bills/192/H135").text
    home = web("GET", "/").text
    with sessions.begin() as s:
        from db.models import Bill

        bill = s.query(Bill).filter_by(number="H135").one()
        add_action(s, bill, "Reported favorably by committee", ["reported"], date(2021, 11, 30))
    assert "Reported favorably" in web("GET", "/bills/192/H135").text and len(builds) == 2
    assert web("GET", "/").text != home


def test_the_local_midnight_makes_a_stored_page_old(site):
    _, web, _, clock, builds = site
    late = datetime(2026, 12, 1, 23, 59, 40, tzinfo=timezone.utc) + EASTERN_OFFSET  # 23:59:40 in Boston
    clock[0] = late
    web("GET", "/bills/192/H135")
    clock[0] = late + timedelta(seconds=10)
    web("GET", "/bills/192/H135")
    assert len(builds) == 1
    clock[0] = late + timedelta(seconds=25)  # 00:00:05 the next day there, well before MAX_AGE is up
    assert timedelta(seconds=25) < MAX_AGE
    web("GET", "/bills/192/H135")
    assert len(builds) == 2


def test_a_stored_page_is_old_once_its_max_age_is_up(site):
    _, web, _, clock, builds = site
    web("GET", "/bills/192/H135")
    clock[0] = NOW + MAX_AGE - timedelta(seconds=1)
    web("GET", "/bills/192/H135")
    assert len(builds) == 1
    clock[0] = NOW + MAX_AGE
    web("GET", "/bills/192/H135")
    assert len(builds) == 2


def test_a_hearing_is_held_at_its_start_not_at_midnight(site):
    _, web, sessions, clock, builds = site
    starts = NOW + timedelta(seconds=30)  # the same morning in Boston
    with sessions.begin() as s:
        from db.models import Bill

        add_hearing(s, s.query(Bill).filter_by(number="H135").one(), starts)
    assert _hearing_states(web("GET", "/bills/192/H135").text) == ["scheduled"]
    clock[0] = starts - timedelta(seconds=1)
    assert _hearing_states(web("GET", "/bills/192/H135").text) == ["scheduled"] and len(builds) == 1
    clock[0] = starts + timedelta(seconds=1)
    assert _hearing_states(web("GET", "/bills/192/H135").text) == ["held"] and len(builds) == 2


def _hearing_states(html: str) -> list[str]:
    return re.findall(r'<span class="hearing-(\w+)">', html)


def test_pages_of_a_visitor_are_never_stored_nor_served_to_another(site):
    app, web, _, _, _ = site
    one = web("GET", "/signup")
    two = web("GET", "/signup")
    token = re.compile(r'name="csrf" value="([0-9a-f]+)"')
    assert one.headers["set-cookie"] != two.headers["set-cookie"]
    assert token.search(one.text).group(1) != token.search(two.text).group(1)
    for path in ("/signup", "/search?q=facial", "/preferences?token=x", "/act/write-your-legislators",
                 "/bills/192/H135"):
        web("GET", path)
    stored = {key[2] for key in app.state.page_cache._pages}
    assert stored and stored <= {"/", "/bills/192/H135", "/events"}, stored


def test_an_answer_that_sets_a_cookie_or_is_private_is_not_stored(site, monkeypatch):
    app, web, _, _, _ = site
    from tracker.web import pages
    from tracker.web.common import render

    def with_cookie(request, *a, **kw):
        response = render(request, "page.html", cache=True, title="t", message="m")
        response.set_cookie("who", "me")
        return response

    monkeypatch.setattr(pages, "render", with_cookie)
    web("GET", "/bills/192/H135")
    web("GET", "/")
    assert len(app.state.page_cache) == 0


def test_the_store_is_bounded_least_recently_used_first():
    cache = PageCache(clock=lambda: NOW, max_pages=2, max_bytes=1000)
    later = NOW + timedelta(minutes=1)
    page = lambda size: Page(200, b"x" * size, {"etag": '"e"'}, later)  # noqa: E731
    cache.put(("a",), page(10))
    cache.put(("b",), page(10))
    assert cache.get(("a",), NOW) is not None  # a is used: b is the least recent
    cache.put(("c",), page(10))
    assert cache.get(("b",), NOW) is None and cache.get(("a",), NOW) and cache.get(("c",), NOW)
    cache.put(("d",), page(130))  # more than an eighth of the bytes: not kept
    assert cache.get(("d",), NOW) is None
    cache.put(("e",), page(100))
    cache.put(("f",), page(100))
    assert len(cache) == 2 and cache._bytes == 200
    assert cache.get(("e",), later) is None  # expired at ``later``


def test_concurrent_requests_for_a_new_page_build_it_once(site):
    import asyncio

    import httpx

    app, _, _, _, builds = site

    async def many():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            return await asyncio.gather(*(c.get("/bills/192/H135") for _ in range(20)))

    answers = asyncio.run(many())
    assert {r.status_code for r in answers} == {200} and len({r.content for r in answers}) == 1
    assert len(builds) == 1 and app.state.page_cache.builds == 1
