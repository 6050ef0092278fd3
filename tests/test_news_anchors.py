"""Items of one page told apart by their #fragment (issue 22): a live blog's updates are one article each, while
tracking anchors and ``#comments`` links still fold into the page's one article. Both store paths: the batch
writer and the feed-by-feed writer it falls back to."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

import tracker.news.batch as batch_mod
from db.models import Article, ArticleSource
from tracker.config import parse_config
from tracker.news.anchors import anchored_urls, refetched_key
from tracker.news.poll import poll
from tracker.replica.news_model import NewsFeed, NewsItem

LIVE = "/live/2026/12/04/state-house-live-budget-debate/"
CONFIG = """
sources:
  malegislature: {{session: 192}}
  news: {{delay_s: 0, concurrency: 2, timeout_s: 5, allow_private_networks: ["127.0.0.1/32"]}}
bills:
  - id: H.135
feeds:
  - name: Live
    url: {base}/live/feed/
    match: all
  - name: Tracked
    url: {base}/tracked/feed/
    match: all
"""
T0 = datetime(2026, 12, 4, 14, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["batch", "feed by feed"])
def path(request, monkeypatch):
    if request.param == "feed by feed":
        def fail(self, *a, **kw):
            raise RuntimeError("the batch is refused: the feed-by-feed writer stores it")
        monkeypatch.setattr(batch_mod.BatchWriter, "store", fail)
    return request.param


@pytest.fixture
def world(news, news_server):
    updates = [NewsItem(guid=f"live-{n}", title=f"Update {n}: the House takes up amendment {100 + n}",
                        link=f"{LIVE}#update-{n}", published=T0 + timedelta(minutes=10 * n),
                        summary_html=f"<p>Amendment {100 + n} is on the floor.</p>") for n in range(6, 0, -1)]
    news.add_feed(NewsFeed(path="/live/feed/", format="rss", title="Live", site_url="/live/", items=updates))
    page = "/tracked/2026/12/04/senate-passes-the-bond-bill/"
    tracked = [NewsItem(guid="t-1", title="Senate passes the bond bill", link=f"{page}#xtor=RSS-1", published=T0),
               NewsItem(guid="t-2", title="Senate passes the bond bill", link=f"{page}#comments", published=T0),
               NewsItem(guid="t-3", title="Senate passes the bond bill", link=page, published=T0),
               NewsItem(guid="t-4", title="Court date set in records case", link="/tracked/2026/12/03/court/#main",
                        published=T0 - timedelta(days=1))]
    news.add_feed(NewsFeed(path="/tracked/feed/", format="rss", title="Tracked", site_url="/tracked/", items=tracked))
    return parse_config(CONFIG.format(base=news_server.base_url), "test")


def _articles(sessions, part: str) -> dict[str, str]:
    with sessions() as s:
        return {a.url: a.title for a in s.scalars(select(Article).where(Article.url.contains(part)))}


def test_a_live_blog_keeps_one_article_per_anchored_update(sessions, world, news, path):
    result = poll(world, sessions, all_feeds=True)
    assert result.errors == []
    live = _articles(sessions, "state-house-live-budget-debate")
    assert len(live) == 6, live
    assert {url.rpartition("#")[2] for url in live} == {f"update-{n}" for n in range(1, 7)}
    assert live[next(u for u in live if u.endswith("#update-3"))] == "Update 3: the House takes up amendment 103"


def test_tracking_fragments_still_fold_into_the_page(sessions, world, path):
    poll(world, sessions, all_feeds=True)
    bond = _articles(sessions, "senate-passes-the-bond-bill")
    assert len(bond) == 1 and next(iter(bond)).endswith("/tracked/2026/12/04/senate-passes-the-bond-bill")
    assert "#" not in next(iter(_articles(sessions, "/court")))  # a lone anchored item keeps no fragment


def test_an_update_left_alone_in_the_feed_keeps_its_article(sessions, world, news, path):
    poll(world, sessions, all_feeds=True, now=lambda: T0 + timedelta(hours=1))
    with sessions() as s:
        before = s.scalar(select(Article.id).where(Article.url.endswith("#update-6")))
    feed = news.feed("/live/feed/")
    feed.items[:] = [feed.items[0]]  # the older updates fell off the feed: update 6 is listed alone
    feed.items[0].title += " (corrected)"
    news.touch("/live/feed/")
    poll(world, sessions, all_feeds=True, now=lambda: T0 + timedelta(hours=2))
    live = _articles(sessions, "state-house-live-budget-debate")
    assert len(live) == 6  # no seventh article keyed by the bare page
    with sessions() as s:
        assert s.scalar(select(Article.id).where(Article.url.endswith("#update-6"))) == before
        sources = s.scalars(select(ArticleSource.article_id).where(ArticleSource.article_id == before)).all()
        assert len(sources) >= 1


def test_the_rule_on_its_own():
    items = [{"title": "A"}, {"title": "B"}, {"title": "B"}, {"title": "B"}, {"title": "C"}]
    urls = [("https://x.org/live", "https://x.org/live#a"), ("https://x.org/live", "https://x.org/live#b"),
            ("https://x.org/p", "https://x.org/p#comments"), ("https://x.org/p", "https://x.org/p#respond"),
            ("https://x.org/q", "https://x.org/q#q")]
    keyed = anchored_urls(items, urls, stored=lambda keys: {"https://x.org/q#q"} & set(keys))
    assert [k for k, _ in keyed] == ["https://x.org/live#a", "https://x.org/live#b", "https://x.org/p",
                                     "https://x.org/p", "https://x.org/q#q"]
    assert refetched_key("https://x.org/live#a", "http://www.x.org/live/") == "https://x.org/live#a"
    assert refetched_key("https://x.org/p", "https://x.org/p2?utm_source=a") == "https://x.org/p2"
