"""What real sites do to a crawler, served by the replicas (``tracker.replica.wire``).

Every scenario: the faulty source fails alone with its URL and a reason, backs off, nothing of
its answer is stored, the other sources go on; once the fault is gone the next check stores
the source whole, each change once.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from db.models import Article, ArticleSource, Bill, BillAction, Event, Feed
from spiders.billids import parse_bill_id
from tracker.crawl import crawl
from tracker.news.poll import poll
from tracker.replica.wire import Fault
from tests.test_crawl import make_config
from tests.test_poll import CONFIG as NEWS_CONFIG

from tracker.config import parse_config

H135 = ("/api/GeneralCourts/192/Documents/H135", "/Bills/192/H135")


@pytest.fixture(params=["sqlite"])
def backend(request) -> str:
    """SQLite only: these faults are the spiders' to survive, and what reaches the database is the
    same failed observation whatever the backend; the crawl and poll tests run the storing on both."""
    return request.param

# fault, words the bill's error must contain
BILL_FAULTS = {
    "503 run": (Fault("status", status=503), "HTTP 503"),
    "500": (Fault("status", status=500), "HTTP 500"),
    "oh my cod": (Fault("cod"), "Oh My Cod"),
    "dropped connection": (Fault("drop"), "closed the connection"),
    "truncated body": (Fault("truncate"), "cut short"),
    "broken chunked body": (Fault("chunked"), "cut short"),
    "compression bomb": (Fault("bomb"), "DOWNLOAD_MAXSIZE"),
    "redirect loop": (Fault("redirect"), "redirect"),
    "anti-bot page": (Fault("html"), "not a bill page"),
    "slow past the timeout": (Fault("slow", seconds=2.5), "timed out"),
}


def _state(sessions, canonical):
    """Everything stored about one bill: its actions, its events by kind, and its bookkeeping."""
    with sessions() as s:
        bill = s.scalar(select(Bill).where(Bill.canonical == canonical))
        if bill is None:
            return None
        actions = [(a.date, a.branch, a.action) for a in s.scalars(
            select(BillAction).where(BillAction.bill_id == bill.id).order_by(BillAction.position))]
        events = dict(s.execute(select(Event.kind, func.count()).where(Event.bill_id == bill.id)
                                .group_by(Event.kind)).all())
        return {"actions": actions, "events": events, "hash": bill.content_hash, "title": bill.title,
                "errors": bill.error_count, "next": bill.next_check_at, "checked": bill.last_checked_at,
                "last_error": bill.last_error}


def _arm(replica, fault, times=None):
    for prefix in H135:
        replica.wire.arm(prefix, fault, times)


@pytest.mark.parametrize("name", list(BILL_FAULTS))
def test_a_bill_source_fault_fails_that_bill_alone_and_stores_none_of_it(name, sessions, replica_server, replica):
    fault, words = BILL_FAULTS[name]
    config = make_config(replica_server.base_url, timeout_s=1)
    _arm(replica, fault)
    result = crawl(config, sessions)

    assert [e["bill"] for e in result.errors] == ["ma/192/H135"]
    err = result.errors[0]
    assert "/192/H135" in err["url"] and words.lower() in err["error"].lower(), err
    assert any(f["bill"] == "ma/192/H135" for f in result.fallbacks)  # the API failed first, then the page
    h135 = _state(sessions, "ma/192/H135")
    assert h135["actions"] == [] and h135["events"] == {} and h135["hash"] is None
    assert h135["errors"] == 1 and h135["next"] - h135["checked"] == timedelta(minutes=5)
    assert words.lower() in h135["last_error"].lower()
    s47 = _state(sessions, "ma/192/S47")
    assert len(s47["actions"]) == 13 and s47["errors"] == 0
    assert replica.errors == []

    replica.wire.clear()
    again = crawl(config, sessions, bills=[parse_bill_id("H.135", 192)])
    assert again.errors == []
    h135 = _state(sessions, "ma/192/H135")
    assert len(h135["actions"]) == 12 and h135["errors"] == 0 and h135["last_error"] is None
    assert h135["events"]["bill.action"] == 12


@pytest.mark.parametrize("name", ["truncated body", "dropped connection", "compression bomb", "broken chunked body"])
def test_a_fault_after_the_site_moved_leaves_the_stored_bill_as_it_was(name, sessions, replica_server, replica):
    config = make_config(replica_server.base_url, timeout_s=1)
    crawl(config, sessions)
    before = _state(sessions, "ma/192/H135")
    replica.add_action(192, "H135", "2023-06-01", "House", "Reporting date extended to Friday, June 30, 2023")
    _arm(replica, BILL_FAULTS[name][0])
    result = crawl(config, sessions)
    assert [e["bill"] for e in result.errors] == ["ma/192/H135"]
    after = _state(sessions, "ma/192/H135")
    assert {k: after[k] for k in ("actions", "events", "hash", "title")} == \
           {k: before[k] for k in ("actions", "events", "hash", "title")}
    replica.wire.clear()
    crawl(config, sessions, bills=[parse_bill_id("H.135", 192)])
    moved = _state(sessions, "ma/192/H135")
    assert moved["actions"][:-1] == before["actions"] and "Reporting date extended" in moved["actions"][-1][2]
    assert moved["events"]["bill.action"] == before["events"]["bill.action"] + 1


def test_a_short_run_of_503s_is_retried_within_the_crawl(sessions, replica_server, replica):
    _arm(replica, Fault("status", status=503), times=2)
    result = crawl(make_config(replica_server.base_url), sessions)
    assert result.errors == [] and result.fallbacks == []
    assert len(_state(sessions, "ma/192/H135")["actions"]) == 12
    assert replica.wire.served.count(("/api/GeneralCourts/192/Documents/H135/DocumentHistoryActions", "status")) == 2


def test_failures_back_off_doubling_and_a_success_resets(sessions, replica_server, replica):
    config = make_config(replica_server.base_url)
    _arm(replica, Fault("status", status=500))
    t0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    waits = []
    for i in range(3):
        at = t0 + timedelta(hours=i)
        crawl(config, sessions, bills=[parse_bill_id("H.135", 192)], now=lambda at=at: at)
        state = _state(sessions, "ma/192/H135")
        waits.append(state["next"] - at)
    assert waits == [timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=20)]
    replica.wire.clear()
    crawl(config, sessions, bills=[parse_bill_id("H.135", 192)], now=lambda: t0 + timedelta(hours=4))
    assert _state(sessions, "ma/192/H135")["errors"] == 0


@pytest.mark.parametrize("status", [429, 503])
def test_a_throttle_stops_the_crawl_and_every_unfinished_bill_waits_as_asked(status, sessions, replica_server,
                                                                            replica):
    config = make_config(replica_server.base_url, concurrency=1)
    _arm(replica, Fault("status", status=status, retry_after="7200"))
    started = datetime.now(timezone.utc)
    result = crawl(config, sessions)

    assert result.throttled is not None and result.throttled["retry_after_s"] == 7200
    assert len(result.errors) == 1 and "throttling" in result.errors[0]["error"]
    assert "Retry-After 7200" in result.errors[0]["error"]
    # once the site said stop, nothing more was asked of it: no retry, no fallback page, and no
    # other bill except the one request that concurrency 1 may already have had in flight
    paths = [p for _, p, _ in replica.requests]
    assert sum("/H135" in p for p in paths) == 1
    assert sum("S47" in p for p in paths) <= 1
    h135 = _state(sessions, "ma/192/H135")
    assert h135["errors"] == 0 and h135["actions"] == []  # the site's state is not the bill's fault
    assert h135["checked"] >= started and h135["last_error"] is None  # asked, and told to wait
    assert h135["next"] >= started + timedelta(seconds=7200)
    s47 = _state(sessions, "ma/192/S47")
    finished = len(s47["actions"]) == 13
    assert s47["actions"] == [] or finished  # whole or nothing
    assert result.throttled["postponed"] == (1 if finished else 2)
    if not finished:
        assert s47["errors"] == 0 and s47["next"] >= started + timedelta(seconds=7200)
    assert crawl(config, sessions, due_only=True).checked == 0  # not due before the site said


def test_a_throttle_without_retry_after_still_waits_five_minutes(sessions, replica_server, replica):
    config = make_config(replica_server.base_url, concurrency=1)
    _arm(replica, Fault("status", status=429))
    started = datetime.now(timezone.utc)
    result = crawl(config, sessions)
    assert result.throttled["retry_after_s"] == 0
    assert _state(sessions, "ma/192/S47")["next"] >= started + timedelta(seconds=300)


def test_the_body_decides_not_the_content_type(sessions, replica_server, replica):
    replica.wire.arm("/api/", Fault("ctype", ctype="text/html; charset=utf-8"))
    result = crawl(make_config(replica_server.base_url), sessions)
    assert result.errors == [] and result.fallbacks == []
    assert len(_state(sessions, "ma/192/H135")["actions"]) == 12
    assert any(kind == "ctype" for _, kind in replica.wire.served)


# -- feeds ----------------------------------------------------------------------------------------------

WWLP = "/wwlp/feed/"

FEED_FAULTS = {
    "503 run": (Fault("status", status=503), "HTTP 503"),
    "500": (Fault("status", status=500), "HTTP 500"),
    "dropped connection": (Fault("drop"), "closed the connection"),
    "truncated body": (Fault("truncate"), "cut short"),
    "broken chunked body": (Fault("chunked"), "cut short"),
    "compression bomb": (Fault("bomb"), "DOWNLOAD_MAXSIZE"),
    "redirect loop": (Fault("redirect"), "redirect"),
    "HTML instead of a feed": (Fault("html"), "HTML"),
    "slow past the timeout": (Fault("slow", seconds=2.5), "timed out"),
}


def _news_config(news_server):
    return parse_config(NEWS_CONFIG.format(base=news_server.base_url).replace("timeout_s: 5", "timeout_s: 1"),
                        "test")


def _feed(sessions, name):
    with sessions() as s:
        feed = s.scalar(select(Feed).where(Feed.name == name))
        n = s.scalar(select(func.count(ArticleSource.id)).where(ArticleSource.feed_id == feed.id))
        return feed, n


@pytest.mark.parametrize("name", list(FEED_FAULTS))
def test_a_feed_fault_fails_that_feed_alone_and_stores_none_of_it(name, sessions, news_server, news):
    fault, words = FEED_FAULTS[name]
    config = _news_config(news_server)
    news.wire.arm(WWLP, fault)
    result = poll(config, sessions)

    errors = [e for e in result.errors if e["source"] == "WWLP"]
    assert len(errors) == 1 and WWLP in errors[0]["url"] and words.lower() in errors[0]["error"].lower(), errors
    assert {e["source"] for e in result.errors} == {"WWLP"}
    feed, linked = _feed(sessions, "WWLP")
    assert linked == 0 and feed.error_count == 1 and feed.next_check_at > feed.last_checked_at
    assert feed.content_hash is None
    assert _feed(sessions, "MassLive")[1] > 0
    assert news.errors == []

    news.wire.clear()
    again = poll(config, sessions, feeds=["WWLP"])
    assert again.errors == []
    feed, linked = _feed(sessions, "WWLP")
    assert linked > 0 and feed.error_count == 0
    with sessions() as s:  # each article once, whatever the failed attempt did
        urls = s.scalars(select(Article.url)).all()
        assert len(urls) == len(set(urls))


def test_a_feed_throttle_waits_as_long_as_retry_after_says(sessions, news_server, news):
    config = _news_config(news_server)
    news.wire.arm(WWLP, Fault("status", status=429, retry_after="86400"))
    result = poll(config, sessions)
    assert [e["source"] for e in result.errors] == ["WWLP"]
    feed, _ = _feed(sessions, "WWLP")
    assert feed.next_check_at - feed.last_checked_at >= timedelta(days=1)
    assert _feed(sessions, "MassLive")[1] > 0  # another site is not throttled by WWLP's answer


def test_a_feed_throttle_without_retry_after_waits_five_minutes_each_time_like_the_bills(sessions, news_server,
                                                                                         news):
    config = _news_config(news_server)
    news.wire.arm(WWLP, Fault("status", status=429))
    t0 = datetime.now(timezone.utc)
    for at in (t0, t0 + timedelta(minutes=10)):  # a throttle is not a failure: no backoff builds up
        result = poll(config, sessions, feeds=["WWLP"], now=lambda at=at: at)
        assert [e["source"] for e in result.errors] == ["WWLP"]
        feed, _ = _feed(sessions, "WWLP")
        assert feed.error_count == 0 and feed.failing_since is None and feed.last_error is None
        assert feed.last_checked_at == at and feed.next_check_at == at + timedelta(minutes=5)


def test_a_throttle_holds_every_feed_of_that_host_and_no_other(sessions, news_server, news):
    from tracker.replica.news_model import NewsReplica
    from tracker.replica.news_server import NewsServer

    with NewsServer(NewsReplica.bundled()) as other:  # another port: another site to the poll
        text = NEWS_CONFIG.format(base=news_server.base_url) + (
            f"  - name: WWLP elsewhere\n    url: {other.base_url}/wwlp/feed/\n")
        config = parse_config(text, "test")
        news.wire.arm(WWLP, Fault("status", status=429, retry_after="7200"))
        started = datetime.now(timezone.utc)
        result = poll(config, sessions)
    assert [e["source"] for e in result.errors] == ["WWLP"]
    with sessions() as s:
        feeds = {f.name: f for f in s.scalars(select(Feed))}
    # the feed that drew the 429 is not blamed either, as a throttled bill is not
    assert feeds["WWLP"].error_count == 0 and feeds["WWLP"].failing_since is None
    assert feeds["WWLP"].next_check_at >= started + timedelta(seconds=7200)
    same_host = [f for name, f in feeds.items() if name not in ("WWLP", "WWLP elsewhere")]
    assert len(same_host) >= 4
    for feed in same_host:  # stored in this poll, but not asked again before the site said
        assert feed.error_count == 0 and feed.next_check_at >= started + timedelta(seconds=7200), feed.name
    assert feeds["WWLP elsewhere"].next_check_at < started + timedelta(seconds=7200)
    assert _feed(sessions, "WWLP elsewhere")[1] > 0


def test_a_feed_under_a_wrong_content_type_is_still_read(sessions, news_server, news):
    news.wire.arm(WWLP, Fault("ctype", ctype="text/html; charset=UTF-8"))
    result = poll(_news_config(news_server), sessions)
    assert result.errors == []
    assert _feed(sessions, "WWLP")[1] > 0


@pytest.mark.parametrize("kind", ["drop", "truncate", "bomb", "slow"])
def test_an_article_page_fault_keeps_the_article_without_full_text_and_tries_again(kind, sessions, news_server,
                                                                                  news):
    config = _news_config(news_server)
    news.wire.arm("/wwlp/news/", Fault(kind, seconds=2.5))
    poll(config, sessions)
    with sessions() as s:
        hit = [a for a in s.scalars(select(Article).where(Article.fetch_article.is_(True)))
               if "/wwlp/news/" in (a.fulltext_error or "")]
        assert hit, "no article page was fetched from the faulty site"
        assert all(a.fulltext_attempts == 1 and a.fulltext_fetched_at is None for a in hit), [(a.title, a.fulltext_attempts, a.fulltext_fetched_at, bool(a.full_text)) for a in hit]
        ids = [a.id for a in hit]
    news.wire.clear()
    poll(config, sessions, feeds=["WWLP"])  # the fetch after any poll picks up what is still missing
    with sessions() as s:
        again = [s.get(Article, i) for i in ids]
        assert all(a.full_text and a.fulltext_error is None and a.fulltext_attempts == 2 for a in again)
