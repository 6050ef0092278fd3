"""A story on the archive's pages opens the page the feed gave, as the email does: the canonical URL is the
key that deduplicates (scheme forced to https, trailing slash and tracking parameters dropped), and some
sites answer it with an error or another page."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from db.models import Article, ArticleBill
from tests.alerts_world import KEY, NOW, add_bill, application, config
from tests.web_client import caller
from tracker.web.app import create_app

GIVEN = "http://www.wwlp.com/news/state-politics/face-surveillance-hearing/?utm_source=rss&x=1"
CANONICAL = "https://www.wwlp.com/news/state-politics/face-surveillance-hearing"


@pytest.fixture
def web(sessions):
    with sessions.begin() as s:
        bill = add_bill(s, "H135", title="An Act to regulate face surveillance")
        a = Article(url=CANONICAL, link=GIVEN, title="Face surveillance hearing draws a crowd", publisher="WWLP",
                    summary_text="Testimony on H.135 and face surveillance", first_seen_at=NOW,
                    published_at=datetime(2021, 11, 24, tzinfo=timezone.utc))
        s.add(a)
        s.flush()
        s.add(ArticleBill(article_id=a.id, bill_id=bill.id, reason='number "H.135" in summary', term="H.135",
                          field="summary", kind="number", created_at=NOW))
    return caller(create_app(application(config(), sessions, KEY, transport_factory=lambda: None)))


def _hrefs(html: str) -> list[str]:
    import re
    from html import unescape

    return [unescape(h) for h in re.findall(r'href="([^"]+)"', html)]


def test_the_bill_page_links_the_story_as_the_feed_gave_it(web):
    hrefs = _hrefs(web("GET", "/bills/192/H135").text)
    assert GIVEN in hrefs and CANONICAL not in hrefs


def test_search_results_link_the_story_as_the_feed_gave_it(web):
    hrefs = _hrefs(web("GET", "/search?q=crowd").text)
    assert GIVEN in hrefs and CANONICAL not in hrefs


def test_the_api_gives_both_the_key_and_the_link(web):
    [article] = json.loads(web("GET", "/api/articles").text)
    assert (article["url"], article["link"]) == (CANONICAL, GIVEN)
    bill = json.loads(web("GET", "/api/bills/192/H135").text)
    assert [(a["url"], a["link"]) for a in bill["articles"]] == [(CANONICAL, GIVEN)]


def test_the_atom_feed_links_the_story_as_the_feed_gave_it(web, sessions):
    from db.models import Event

    with sessions.begin() as s:
        article = s.query(Article).one()
        s.add(Event(kind="article.matched", at=NOW, article_id=article.id, summary="H.135 in the news",
                    payload={"url": CANONICAL, "title": article.title}))
    feed = web("GET", "/events.atom").text
    assert 'href="http://www.wwlp.com/news/state-politics/face-surveillance-hearing/?utm_source=rss&amp;x=1"' in feed
