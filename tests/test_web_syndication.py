"""The public feeds: Atom for the event log and each bill, iCalendar for hearings; driven in process through
httpx, read back with feedparser, a strict XML parser and icalendar. Runs on both backends."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import feedparser
import httpx
import icalendar
import pytest

from db.models import Article, Event, Hearing
from tests.alerts_world import KEY, NOW, add_action, add_bill, add_hearing, config, settings_of, application
from tests.web_client import caller
from tracker.web.app import create_app

ATOM = "{http://www.w3.org/2005/Atom}"
BOSTON = ZoneInfo("America/New_York")
NASTY = 'An Act <script>alert("x")</script> & regulate\x01 face\x0b surveillance'


@pytest.fixture
def web(sessions, monkeypatch):
    monkeypatch.delenv("TRACKER_PUBLIC_URL", raising=False)
    app = create_app(application(config(), sessions, KEY))
    return caller(app)


@pytest.fixture
def world(sessions):
    """H.135 (a title full of markup), S.47, actions, hearings and a news match."""
    with sessions.begin() as s:
        h135 = add_bill(s, "H135", title=NASTY)
        s47 = add_bill(s, "S47")
        add_action(s, h135, "Referred to the committee on The Judiciary", ["referral"], date(2021, 3, 29),
                   at=NOW - timedelta(hours=5))
        add_action(s, s47, "Referred to the committee on The Judiciary", ["referral"], date(2021, 3, 29),
                   at=NOW - timedelta(hours=4))
        # 10:00 in Boston in October (EDT, -04:00): 14:00 UTC
        add_hearing(s, h135, datetime(2021, 10, 5, 14, 0, tzinfo=timezone.utc), at=NOW - timedelta(hours=3),
                    location="Gardner Auditorium")
        # 13:00 in Boston in January (EST, -05:00): 18:00 UTC; then canceled
        add_hearing(s, s47, datetime(2022, 1, 11, 18, 0, tzinfo=timezone.utc), at=NOW - timedelta(hours=3))
        s.flush()
        canceled = s.query(Hearing).filter(Hearing.bill_id == s47.id).one()
        canceled.status = "canceled"
        s.add(Hearing(bill_id=s47.id, starts_at=None, ends_at=None, location=None, status="scheduled",
                      updated_at=NOW))  # no start time: not in the calendar
        article = Article(url="https://www.wwlp.com/news/face-surveillance-bill", link="https://www.wwlp.com/news/face-surveillance-bill/?a=1&b=2",
                          title="Lawmakers weigh <b>face</b> surveillance & H.135", publisher="WWLP",
                          summary_text="", published_at=NOW - timedelta(days=1), first_seen_at=NOW,
                          fetch_article=False, fulltext_attempts=0)
        s.add(article)
        s.flush()
        s.add(Event(kind="article.matched", at=NOW - timedelta(hours=1), occurred_at=article.published_at,
                    bill_id=h135.id, article_id=article.id,
                    summary=f'H.135 in the news: {article.title} (number "H.135" in title)',
                    payload={"bill": "ma/192/H135", "reason": 'number "H.135" in title', "term": "H.135",
                             "where": "title", "kind": "number", "url": article.url, "title": article.title}))
        s.add(Event(kind="source.failing", at=NOW, occurred_at=NOW - timedelta(hours=7),
                    summary="WWLP (feed): HTTP 503", payload={"kind": "feed", "problem": "HTTP 503"}))
    return {"h135": "ma/192/H135", "s47": "ma/192/S47"}


def _atom(r: httpx.Response):
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/atom+xml")
    assert ET.fromstring(r.content).tag == ATOM + "feed"  # well-formed for a strict XML parser too
    feed = feedparser.parse(r.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def test_the_event_log_feed_is_valid_atom_with_everything_escaped(web, world):
    r = web("GET", "/events.atom")
    feed = _atom(r)
    assert len(feed.entries) == 6
    assert feed.feed.title == "Regulate face surveillance: every event"
    assert feed.feed.id.startswith("tag:") and feed.feed.updated == "2026-11-30T15:00:00Z"
    assert [link.href for link in feed.feed.links if link.rel == "self"] == ["http://test/events.atom"]
    # newest first
    kinds = [e.tags[0].term for e in feed.entries]
    assert kinds == ["source.failing", "article.matched", "hearing.scheduled", "hearing.scheduled", "bill.action",
                     "bill.action"]
    # markup in text is escaped, control characters are gone
    assert b"<script>" not in r.content and b"&lt;script&gt;" in r.content
    assert b"\x01" not in r.content and b"\x0b" not in r.content
    news = feed.entries[1]
    assert news.title == 'H.135 in the news: Lawmakers weigh <b>face</b> surveillance & H.135 (number "H.135" in title)'
    assert news.title_detail.type == "text/plain"
    assert news.link == "https://www.wwlp.com/news/face-surveillance-bill/?a=1&b=2"  # the article as its feed gave it, not the bill
    assert news.published == "2026-11-29T15:00:00Z" and news.updated == "2026-11-30T14:00:00Z"
    referral = feed.entries[-1]
    assert referral.link == "https://malegislature.gov/Bills/192/H135"
    assert referral.published == "2021-03-29T04:00:00Z"  # the action's date, midnight in Boston
    assert referral.content[0].type == "text/plain"
    assert 'An Act <script>alert("x")</script> & regulate face surveillance' in referral.content[0].value
    assert referral.summary == "H135 (Joint): Referred to the committee on The Judiciary"
    # every entry has a tag: id built from the event id, unique and the same on the next request
    ids = [e.id for e in feed.entries]
    assert len(set(ids)) == 6 and all(i.startswith("tag:127.0.0.1,2026-11-30:events/") for i in ids)
    assert [e.id for e in _atom(web("GET", "/events.atom")).entries] == ids


def test_no_subscriber_data_in_the_event_log(web, sessions, world):
    from alerts.subscribers import subscribe

    with sessions.begin() as s:
        subscribe(s, settings_of(config()), "jane.secret@example.org", bills=["H.135"], name="Jane Secret", now=NOW)
    body = web("GET", "/events.atom").text
    assert "jane" not in body.lower() and "secret" not in body.lower()


def test_the_log_feed_holds_the_newest_100(web, sessions, world):
    with sessions.begin() as s:
        for i in range(120):
            s.add(Event(kind="source.recovered", at=NOW + timedelta(minutes=i), summary=f"feed {i} works again",
                        payload={}))
    feed = _atom(web("GET", "/events.atom"))
    assert len(feed.entries) == 100
    assert feed.entries[0].title == "feed 119 works again" and feed.entries[-1].title == "feed 20 works again"


@pytest.mark.parametrize("url", ["/bills/192/H135/feed.atom", "/bills/ma/192/H135/feed.atom",
                                 "/events.atom?bill=H.135", "/events.atom?bill=ma/192/H135",
                                 "/events.atom?bill=h135"])
def test_a_bill_feed_in_any_spelling(web, world, url):
    feed = _atom(web("GET", url))
    assert [e.tags[0].term for e in feed.entries] == ["article.matched", "hearing.scheduled", "bill.action"]
    assert feed.feed.title == 'H.135 (192nd General Court): An Act <script>alert("x")</script> & regulate face ' \
                              'surveillance'
    assert [link.href for link in feed.feed.links if link.rel == "self"] == ["http://test/bills/192/H135/feed.atom"]
    assert feed.feed.id.endswith(":bills/ma/192/H135")


def test_every_bill_feed_spelling_gives_the_same_body(web, world):
    bodies = {web("GET", u).content for u in ("/bills/192/H135/feed.atom", "/events.atom?bill=H 135",
                                              "/bills/ma/192/h135/feed.atom")}
    assert len(bodies) == 1


def test_a_bill_with_no_events_is_still_a_valid_feed(web, sessions, world):
    with sessions.begin() as s:
        add_bill(s, "H1728", session=193)
    feed = _atom(web("GET", "/bills/193/H1728/feed.atom"))
    assert feed.entries == [] and feed.feed.updated == "2026-10-31T15:00:00Z"  # when the bill was added


@pytest.mark.parametrize("url, status, words", [
    ("/bills/192/H999/feed.atom", 404, "ma/192/H999"),
    ("/bills/ma/193/S47/feed.atom", 404, "ma/193/S47"),
    ("/events.atom?bill=H.999", 404, "ma/192/H999"),
    ("/hearings.ics?bill=ma/192/H999", 404, "ma/192/H999"),
    ("/bills/192/X99/feed.atom", 400, "not a bill number"),
    ("/bills/1/H135/feed.atom", 400, "General Court number"),
    ("/bills/ny/192/H135/feed.atom", 400, "jurisdiction"),
    ("/bills/a/b/c/d/feed.atom", 400, "not a bill id"),
    ("/events.atom?bill=<script>", 400, "not a bill number"),
    ("/events.atom?bill=", 400, "bad bill id"),
    ("/hearings.ics?bill=zzz", 400, "not a bill number"),
    ("/bills/192/Q1/hearings.ics", 400, "not a bill number"),
])
def test_unknown_and_malformed_bills_are_a_clear_4xx(web, world, url, status, words):
    r = web("GET", url)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/plain")
    assert words in r.text and r.text.count("\n") == 1 and "Traceback" not in r.text


def test_etag_and_304(web, sessions, world):
    for url in ("/events.atom", "/bills/192/H135/feed.atom", "/hearings.ics"):
        first = web("GET", url)
        etag = first.headers["etag"]
        assert etag.startswith('"') and first.headers["cache-control"] == "public, max-age=300"
        assert web("GET", url).headers["etag"] == etag  # the body is the same, so is its hash
        again = web("GET", url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag and again.headers["cache-control"] == "public, max-age=300"
        assert web("GET", url, headers={"If-None-Match": f'"other", W/{etag}'}).status_code == 304
        assert web("GET", url, headers={"If-None-Match": '"other"'}).status_code == 200
        assert web("HEAD", url).headers["etag"] == etag
    before = web("GET", "/events.atom").headers["etag"]
    with sessions.begin() as s:
        s.add(Event(kind="source.recovered", at=NOW + timedelta(hours=1), summary="WWLP works again", payload={}))
    after = web("GET", "/events.atom", headers={"If-None-Match": before})
    assert after.status_code == 200 and after.headers["etag"] != before


def _calendar(r: httpx.Response) -> icalendar.Calendar:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(r.content)


def test_the_hearings_calendar(web, world):
    r = web("GET", "/hearings.ics")
    cal = _calendar(r)
    events = cal.walk("VEVENT")
    assert len(events) == 2  # the hearing with no start time is left out
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["America/New_York"]
    h135, s47 = events
    assert str(h135["SUMMARY"]) == 'Hearing: H.135 An Act <script>alert("x")</script> & regulate face surveillance'
    start = h135.decoded("DTSTART")
    assert start.tzinfo is not None and str(start.tzinfo) == "America/New_York"
    assert h135["DTSTART"].params["TZID"] == "America/New_York"
    assert (start.hour, start.minute, start.utcoffset()) == (10, 0, timedelta(hours=-4))
    end = h135.decoded("DTEND")
    assert (end.hour, str(end.tzinfo)) == (12, "America/New_York")
    assert str(h135["LOCATION"]) == "Gardner Auditorium"
    assert str(h135["URL"]) == "https://malegislature.gov/Bills/192/H135"
    assert "Committee: The Judiciary" in str(h135["DESCRIPTION"])
    assert str(h135["STATUS"]) == "CONFIRMED"
    assert b"\x01" not in r.content
    s_start = s47.decoded("DTSTART")
    assert (s_start.hour, s_start.utcoffset()) == (13, timedelta(hours=-5))  # January: EST
    assert str(s47["STATUS"]) == "CANCELLED"
    assert str(s47["SUMMARY"]).startswith("Hearing: S.47 An Act to regulate face surveillance")
    # UIDs are unique and the same on every request
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == 2
    assert [str(e["UID"]) for e in _calendar(web("GET", "/hearings.ics")).walk("VEVENT")] == uids


def test_a_rescheduled_hearing_keeps_its_uid(web, sessions, world):
    before = {str(e["SUMMARY"])[:14]: str(e["UID"]) for e in _calendar(web("GET", "/hearings.ics")).walk("VEVENT")}
    with sessions.begin() as s:
        h = s.query(Hearing).filter(Hearing.location == "Gardner Auditorium").one()
        h.starts_at, h.ends_at = h.starts_at + timedelta(days=7), h.ends_at + timedelta(days=7)
        h.status, h.updated_at = "rescheduled", NOW + timedelta(hours=1)
    after = _calendar(web("GET", "/hearings.ics")).walk("VEVENT")
    moved = next(e for e in after if str(e["SUMMARY"]).startswith("Hearing: H.135"))
    assert str(moved["UID"]) == before["Hearing: H.135"]
    assert moved.decoded("DTSTART").date() == date(2021, 10, 12) and str(moved["STATUS"]) == "CONFIRMED"


@pytest.mark.parametrize("url", ["/hearings.ics?bill=ma/192/S47", "/hearings.ics?bill=S.47",
                                 "/bills/192/S47/hearings.ics"])
def test_the_calendar_of_one_bill(web, world, url):
    events = _calendar(web("GET", url)).walk("VEVENT")
    assert [str(e["SUMMARY"])[:14] for e in events] == ["Hearing: S.47 "]


def test_an_empty_calendar_is_valid(web, sessions):
    cal = _calendar(web("GET", "/hearings.ics"))
    assert cal.walk("VEVENT") == [] and str(cal["VERSION"]) == "2.0"
    assert _atom(web("GET", "/events.atom")).entries == []
