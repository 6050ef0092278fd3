"""Filters before pages: ``kind=`` and ``source=`` (search) are applied in SQL before LIMIT/OFFSET, so a filtered
page is full when there are enough matches, and the next page goes on where it stopped. Both backends."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from db.models import Article, Bill, BillAction
from tests.alerts_world import KEY, NOW, add_bill, config, application
from tests.web_client import caller
from tracker.web.app import create_app

START = datetime(2021, 1, 4, 12, 0, tzinfo=timezone.utc)
WBUR, WWLP, ACTIONS = 60, 60, 150  # matching "surveillance": articles of two outlets, and bill actions


@pytest.fixture
def web(sessions):
    """Articles and actions interleaved in time: a day's action, then an article every other day from WBUR
    and every other day from WWLP, so any page of the unfiltered results mixes the kinds."""
    with sessions.begin() as s:
        bill = add_bill(s, "H135")
        for i in range(ACTIONS):
            s.add(BillAction(bill_id=bill.id, position=i, occurrence=0, date=(START + timedelta(days=i)).date(),
                             branch="House", action=f"Surveillance action {i}", kinds=["other"], first_seen_at=NOW))
        for i in range(WBUR + WWLP):
            outlet = "WBUR News" if i % 2 == 0 else "WWLP"
            published = START + timedelta(days=i, hours=6)
            s.add(Article(url=f"https://news.example/{i}", link=f"https://news.example/{i}",
                          title=f"Surveillance story {i}", publisher=outlet, summary_text="on face surveillance",
                          published_at=published, first_seen_at=NOW, fetch_article=False, fulltext_attempts=0))
        for number in ("H2", "H1", "S3"):
            add_bill(s, number)
    return caller(create_app(application(config(), sessions, KEY, transport_factory=lambda: None)))


def _key(hit: dict) -> str:
    return hit["url"] if hit["type"] == "article" else f"{hit['bill']} {hit['action']}"


def _api(web, **params) -> list[dict]:
    r = web("GET", "/api/search", params={"q": "surveillance"} | params)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("kind, total", [("article", WBUR + WWLP), ("action", ACTIONS)])
def test_an_api_search_filtered_by_kind_gives_full_pages(web, kind, total):
    first, second = _api(web, kind=kind, limit=50), _api(web, kind=kind, limit=50, offset=50)
    assert len(first) == 50 and len(second) == 50
    assert {h["type"] for h in first + second} == {kind}
    assert not {_key(h) for h in first} & {_key(h) for h in second}
    rest = _api(web, kind=kind, limit=50, offset=100)
    assert len(rest) == total - 100 and len({_key(h) for h in first + second + rest}) == total
    when = [h.get("published_at") or h["date"] for h in first + second + rest]
    assert when == sorted(when, reverse=True)  # newest first, across the pages


def test_unfiltered_api_pages_are_slices_of_the_whole_list(web):
    everything = _api(web, limit=500)
    assert len(everything) == WBUR + WWLP + ACTIONS
    for offset in (0, 50, 100, 230):
        assert _api(web, limit=50, offset=offset) == everything[offset:offset + 50], offset
    assert {h["type"] for h in everything[:50]} == {"article", "action"}  # the kinds are mixed


def _page(web, **params) -> tuple[list[str], bool]:
    r = web("GET", "/search", params={"q": "surveillance"} | params)
    assert r.status_code == 200, r.text
    results = r.text.split('<ul id="results">', 1)[1].split("</ul>", 1)[0]
    found = re.findall(r'<a href="(https://news\.example/\d+|/bills/192/H135)">', results)
    return found, "Next</a>" in r.text


def test_the_search_page_filtered_by_kind_or_outlet_gives_full_pages(web):
    seen = []
    for page in (1, 2, 3):
        found, more = _page(web, kind="article", source="wbur", page=page)
        expected = 25 if page < 3 else WBUR - 50
        assert len(found) == expected and all(u.startswith("https://news.example/") for u in found), page
        assert more is (page < 3)
        seen += found
    assert len(set(seen)) == WBUR and all(int(u.rsplit("/", 1)[1]) % 2 == 0 for u in seen)  # WBUR's, all of them
    only_outlet, _ = _page(web, source="WBUR")  # an outlet means articles
    assert len(only_outlet) == 25 and all(u.startswith("https://news.example/") for u in only_outlet)
    actions, more = _page(web, kind="action", page=2)
    assert len(actions) == 25 and set(actions) == {"/bills/192/H135"} and more
    assert _page(web, kind="action", source="WBUR") == ([], False)


def test_a_source_is_matched_literally(web):
    assert _page(web, source="W_UR")[0] == [] and _page(web, source="%")[0] == []


def test_bills_and_articles_page_in_sql(web):
    bills = web("GET", "/api/bills").json()
    assert [b["id"] for b in bills] == ["ma/192/H1", "ma/192/H135", "ma/192/H2", "ma/192/S3"]
    assert web("GET", "/api/bills", params={"limit": 2, "offset": 1}).json() == bills[1:3]
    everything = web("GET", "/api/articles", params={"limit": 500}).json()
    assert len(everything) == WBUR + WWLP
    page = web("GET", "/api/articles", params={"limit": 50, "offset": 100}).json()
    assert page == everything[100:150] and len(page) == 20


def test_undated_actions_come_last_on_both_databases(web, sessions):
    with sessions.begin() as s:
        bill_id = s.scalar(select(Bill.id).where(Bill.canonical == "ma/192/H135"))
        s.add(BillAction(bill_id=bill_id, position=ACTIONS, occurrence=0, date=None, branch="House",
                         action="Surveillance action undated", kinds=["other"], first_seen_at=NOW))
    actions = _api(web, kind="action", limit=500)
    assert [h["date"] for h in actions] == [(date(2021, 1, 4) + timedelta(days=i)).isoformat()
                                            for i in reversed(range(ACTIONS))] + [None]
    assert _api(web, limit=500)[-1]["action"] == "Surveillance action undated"
    assert _api(web, kind="action", limit=1, offset=ACTIONS)[0]["date"] is None
