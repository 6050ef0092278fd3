"""Article pages are fetched for full text only from public addresses (spiders.public_only)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import Article
from spiders.public_only import parse_networks, refusal
from tracker.config import ConfigError, parse_config
from tracker.news.poll import poll
from tracker.replica.news_model import GoogleResult
from tests.test_poll import CONFIG

QUERY = '"face surveillance" Massachusetts'


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://localhost:8080/x", "http://10.0.0.7/admin", "http://192.168.1.1/",
    "http://172.16.5.4/", "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/",
    "http://0.0.0.0/", "http://[::1]/", "http://[fc00::1]/", "http://[fe80::1]/", "http://[::ffff:10.0.0.1]/",
    "http://2130706433/", "http://0x7f.1/", "http://017700000001/", "http://224.0.0.1/",
])
def test_private_loopback_link_local_and_odd_forms_are_refused(url):
    reason = refusal(url, [])
    assert reason is not None and "not a public address" in reason and "allow_private_networks" in reason


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://93.184.216.34/", "gopher://93.184.216.34/",
                                 "http:///nohost"])
def test_other_schemes_and_hostless_urls_are_refused(url):
    assert refusal(url, []) is not None


def test_public_addresses_pass_and_only_the_allowed_private_network_does():
    assert refusal("https://93.184.216.34/news/story", []) is None
    assert refusal("http://[2606:4700::1111]/", []) is None
    allowed = parse_networks(["127.0.0.1/32"])
    assert refusal("http://127.0.0.1:8000/a", allowed) is None
    assert refusal("http://127.0.0.2:8000/a", allowed) is not None
    assert refusal("http://10.1.2.3/", allowed) is not None


def test_a_bad_network_in_the_config_is_refused_with_its_key():
    with pytest.raises(ConfigError) as exc:
        parse_config("sources:\n  news:\n    allow_private_networks: ['10.0.0.0/33']\n", "feeds.yaml")
    assert "allow_private_networks" in str(exc.value) and "10.0.0.0/33" in str(exc.value)


def _poll(sessions, news, news_server, allow: str):
    # Nothing listens at 127.0.0.2:9: had a request been made, the error would say the connection
    # was refused, not that the address is not public (the tests talk to 127.0.0.1 only).
    hostile = {"internal": "http://127.0.0.2:9/admin/", "metadata": "http://169.254.169.254/latest/meta-data/",
               "lan": "http://10.0.0.7/intranet/"}
    results = list(news.google_lookup(QUERY))
    for i, (name, url) in enumerate(hostile.items()):
        results.append(GoogleResult(title=f"Face surveillance {name} story - Somewhere", url=url,
                                    published=results[0].published, publisher="Somewhere",
                                    publisher_url="https://example.org"))
    news.set_google_results(QUERY, results)
    text = CONFIG.format(base=news_server.base_url).replace(
        'allow_private_networks: ["127.0.0.1/32"]', f"allow_private_networks: {allow}")
    config = parse_config(text, "test")
    result = poll(config, sessions)
    with sessions() as s:
        rows = {a.title: a for a in s.scalars(select(Article))}
    return result, rows, config


def test_a_feed_linking_inside_our_network_is_refused_and_nothing_reaches_it(sessions, news, news_server):
    result, rows, config = _poll(sessions, news, news_server, '["127.0.0.1/32"]')
    for name, host in (("internal", "127.0.0.2"), ("metadata", "169.254.169.254"), ("lan", "10.0.0.7")):
        article = rows[f"Face surveillance {name} story"]
        assert article.full_text is None and article.fulltext_fetched_at is None
        # refused at the redirect from the replica's /rss/articles/ (127.0.0.1, allowed), before a request
        assert f"{host} is {host}, not a public address" in article.fulltext_error
        assert article.fulltext_attempts == config.sources.news.fulltext_attempts  # not asked again
    fetched = [a for a in rows.values() if a.fetch_article and a.fulltext_fetched_at is not None]
    assert fetched and all(a.full_text for a in fetched)  # the replica's own pages (127.0.0.1, allowed)
    refused = [e for e in result.errors if e["source"] == "article" and "not a public address" in e["error"]]
    assert len(refused) == 3
    again = poll(config, sessions, all_feeds=True)
    assert not [e for e in again.errors if e["source"] == "article"]  # refused once, not every poll


def test_without_an_allowance_even_loopback_is_refused(sessions, news, news_server):
    result, rows, _ = _poll(sessions, news, news_server, "[]")
    from_google = [a for a in rows.values() if a.fetch_article]
    assert len(from_google) >= 4
    for article in from_google:
        assert article.fulltext_fetched_at is None and "not a public address" in article.fulltext_error
    assert any("127.0.0.1 is 127.0.0.1" in a.fulltext_error for a in from_google)
    assert not any("/rss/articles/" in path for _, path, _ in news.requests)  # the feed was read, no article
