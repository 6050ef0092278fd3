"""What the Atom documents themselves say, beyond what feedparser shows (it fills in defaults): the exact ids
readers de-duplicate by, RFC 3339 times in UTC to the second, the media type of every link, plain text (never
``html``) in every text construct. A writer that drops any of these (feedgen 1.0.0 drops all but ``href`` of an
entry's link and writes ``+00:00`` times with microseconds: bench/atom_feedgen.py) changes the feeds readers
hold. Runs on both backends."""

from __future__ import annotations

import re
from datetime import date, timedelta
from xml.etree import ElementTree as ET

import pytest

from db.models import Article, Event
from tests.alerts_world import KEY, NOW, add_action, add_bill, application, config
from tests.web_client import caller
from tracker.web.app import create_app

A = "{http://www.w3.org/2005/Atom}"
RFC3339_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture
def web(sessions, monkeypatch):
    monkeypatch.delenv("TRACKER_PUBLIC_URL", raising=False)
    return caller(create_app(application(config(), sessions, KEY)))


@pytest.fixture
def events(sessions):
    """An action, a news match and a source failure, recorded with microseconds as ``now()`` records them."""
    with sessions.begin() as s:
        h135 = add_bill(s, "H135")
        action = add_action(s, h135, "Referred to the committee on The Judiciary", ["referral"], date(2021, 3, 29),
                            at=NOW - timedelta(hours=5, microseconds=-417_263))
        article = Article(url="https://news.example/story", link="https://news.example/story/?a=1&b=2",
                          title="Story", publisher="News", summary_text="", published_at=NOW - timedelta(days=1),
                          first_seen_at=NOW, fetch_article=False, fulltext_attempts=0)
        s.add(article)
        s.flush()
        news = Event(kind="article.matched", at=NOW - timedelta(hours=1, microseconds=-999_999),
                     occurred_at=article.published_at, bill_id=h135.id, article_id=article.id,
                     summary="H.135 in the news: Story", payload={"url": article.url, "title": article.title})
        failing = Event(kind="source.failing", at=NOW + timedelta(microseconds=1), summary="News (feed): HTTP 503",
                        payload={})
        s.add_all([news, failing])
        s.flush()
        return {"action": action.id, "news": news.id, "failing": failing.id}


def _document(web, url: str) -> ET.Element:
    r = web("GET", url)
    assert r.status_code == 200, r.text
    return ET.fromstring(r.content)


@pytest.mark.parametrize("url, feed_id, self_href", [
    ("/events.atom", "tag:127.0.0.1,2021:events", "http://test/events.atom"),
    ("/bills/192/H135/feed.atom", "tag:127.0.0.1,2021:bills/ma/192/H135", "http://test/bills/192/H135/feed.atom"),
])
def test_ids_times_links_and_text_types_as_written(web, events, url, feed_id, self_href):
    feed = _document(web, url)
    assert feed.findtext(A + "id") == feed_id
    links = [(ln.get("rel"), ln.get("type"), ln.get("href")) for ln in feed.findall(A + "link")]
    assert links[0] == ("self", "application/atom+xml", self_href)
    assert all(rel and kind for rel, kind, _ in links)
    for tag in ("title", "subtitle"):
        assert feed.find(A + tag).get("type", "text") == "text"  # no type is text too (RFC 4287 3.1.1)
    times = [feed.findtext(A + "updated")]
    entries = feed.findall(A + "entry")
    assert entries
    for entry in entries:
        for tag in ("title", "summary", "content"):
            assert entry.find(A + tag).get("type", "text") == "text", tag
        for link in entry.findall(A + "link"):
            # no rel is alternate (RFC 4287 4.2.7.2); a missing type has no default
            assert (link.get("rel", "alternate"), link.get("type")) == ("alternate", "text/html")
        times += [entry.findtext(A + "updated"), entry.findtext(A + "published")]
    assert all(RFC3339_Z.fullmatch(t) for t in times), times


def test_entry_ids_are_the_event_ids_under_the_day_they_were_recorded(web, events):
    entries = {e.findtext(A + "id"): e for e in _document(web, "/events.atom").findall(A + "entry")}
    assert set(entries) == {f"tag:127.0.0.1,2026-11-30:events/{events[k]}" for k in ("action", "news", "failing")}
    news = entries[f"tag:127.0.0.1,2026-11-30:events/{events['news']}"]
    # to the second, the microseconds cut (not rounded): 14:00:00.999999 is 14:00:00
    assert news.findtext(A + "updated") == "2026-11-30T14:00:00Z"
    assert news.findtext(A + "published") == "2026-11-29T15:00:00Z"
    assert news.find(A + "link").get("href") == "https://news.example/story/?a=1&b=2"
    failing = entries[f"tag:127.0.0.1,2026-11-30:events/{events['failing']}"]
    assert failing.find(A + "link") is None  # no bill, no article: nothing to link
