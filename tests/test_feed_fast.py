"""The lxml fast path must read feeds exactly as the feedparser path does, and decline what it is unsure of."""

from __future__ import annotations

import dataclasses
import urllib.request
from urllib.parse import quote_plus

import pytest

from spiders.feed_fast import fast_parse
from spiders.feed_parse import parse_feed


def _bodies():
    from tracker.replica.news_model import NewsReplica
    from tracker.replica.news_server import NewsServer

    out = []
    for replica in (NewsReplica.bundled(), NewsReplica.synthetic(12, 20, seed=3)):
        with NewsServer(replica) as srv:
            for variant in (None, "wrong_charset", "no_charset", "no_dates", "future_dates"):
                for path in list(replica.feeds):
                    if variant:
                        getattr(replica, variant).add(path)
                    out.append((f"{variant}:{path}", srv.base_url + path,
                                urllib.request.urlopen(srv.base_url + path).read()))
                    if variant:
                        getattr(replica, variant).discard(path)
            for query in replica.google_results:
                u = f"{srv.base_url}/rss/search?q={quote_plus(query)}&hl=en-US&gl=US&ceid=US:en"
                out.append(("google", u, urllib.request.urlopen(u).read()))
    return out


def test_fast_and_feedparser_paths_agree_on_every_replica_feed():
    bodies = _bodies()
    assert len(bodies) > 80
    for name, url, body in bodies:
        fast, slow = parse_feed(body, url), parse_feed(body, url, fast=False)
        assert dataclasses.asdict(fast) == dataclasses.asdict(slow), name


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


@pytest.mark.parametrize("body", [
    # XHTML content: feedparser serialises it; the fast path declines
    '<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry><title>A</title>'
    '<link href="https://example.org/a"/><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
    '<p>x</p></div></content></entry></feed>',
    # a date it cannot read
    '<rss version="2.0"><channel><title>T</title><item><title>A</title><link>https://example.org/a</link>'
    '<pubDate>sometime last week</pubDate></item></channel></rss>',
    # markup where text was expected
    '<rss version="2.0"><channel><title>T</title><item><title>A <b>bold</b></title>'
    '<link>https://example.org/a</link></item></channel></rss>',
    # not well-formed
    '<rss version="2.0"><channel><title>T</title><item><title>A & B</title></item></channel></rss>',
])
def test_the_fast_path_declines_what_it_is_unsure_of_and_parse_feed_still_reads_it(body):
    assert fast_parse(_utf8(body), "https://example.org/feed") is None
    feed = parse_feed(_utf8(body), "https://example.org/feed")
    assert feed.items and feed.items[0].title.startswith("A")


def test_fast_path_reads_the_common_shapes():
    rss = ('<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>WWLP</title>'
           '<link>https://www.wwlp.com</link><ttl>15</ttl><item><title>Face surveillance bill heard</title>'
           '<link>/news/a/</link><dc:creator>Test Writer</dc:creator><category>State Politics</category>'
           '<pubDate>Fri, 11 Dec 2020 17:15:00 -0500</pubDate><description>&lt;p&gt;Test text.&lt;/p&gt;</description>'
           '<guid isPermaLink="false">https://www.wwlp.com/?p=1</guid></item></channel></rss>')
    feed = fast_parse(_utf8(rss), "https://www.wwlp.com/feed/")
    assert feed is not None and feed.format == "rss" and feed.ttl_minutes == 15
    item = feed.items[0]
    assert (item.title, item.url, item.author, item.categories) == (
        "Face surveillance bill heard", "https://www.wwlp.com/news/a/", "Test Writer", ["State Politics"])
    assert item.published_at == "2020-12-11T22:15:00+00:00"
    assert item.summary_text == "Test text."
