"""The feed spider in its child process against the news replica on 127.0.0.1, into SQLite."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from db.models import Article, ArticleSource, Event, Feed
from tracker.config import parse_config
from tracker.news.poll import poll
from tracker.status import status
from db.articles import list_articles
from db.bills import get_bill
from db.search import search

SEED = "ACLU urges lawmakers to 'stand firm' on facial recognition"

CONFIG = """
sources:
  malegislature: {{session: 192}}
  google_news: {{base_url: "{base}"}}
  news: {{delay_s: 0, concurrency: 8, timeout_s: 5, allow_private_networks: ["127.0.0.1/32"]}}
bills:
  - id: H.135
    keywords: ["face surveillance", "facial recognition"]
  - id: S.47
    keywords: ["face surveillance", "facial recognition"]
feeds:
  - name: WWLP
    url: {base}/wwlp/feed/
  - name: MassLive
    url: {base}/masslive/arc/outboundfeeds/rss/
  - name: CommonWealth Beacon
    url: {base}/beacon/feed/atom/
  - name: ACLUM press
    url: {base}/aclum/rdf/
  - name: Google News
    google_news: '"face surveillance" Massachusetts'
    fetch_article: true
"""


@pytest.fixture
def config(news_server):
    return parse_config(CONFIG.format(base=news_server.base_url), "test")


def articles(sessions, **kw):
    with sessions() as s:
        return list_articles(s, **kw)


def test_seed_article_lands_linked_to_the_bills_with_its_reason(sessions, config):
    result = poll(config, sessions)
    assert result.errors == []
    seed = [a for a in articles(sessions) if a["title"] == SEED]
    assert len(seed) == 1
    bills = {b["id"]: b["reason"] for b in seed[0]["bills"]}
    assert set(bills) == {"ma/192/H135", "ma/192/S47"}
    assert bills["ma/192/H135"] == 'keyword "facial recognition" in title'
    assert seed[0]["published_at"].startswith("2020-12-11")
    # the canonical URL is the publisher's page, not the Google News redirect that also carried it
    assert seed[0]["url"].endswith("/wwlp/news/state-politics/aclu-urges-lawmakers-to-stand-firm-on-facial-recognition")
    assert "/rss/articles/" not in seed[0]["url"]
    # unrelated local news is not kept from a feed that matches bills
    assert not [a for a in articles(sessions) if "Rain expected" in a["title"]]
    with sessions() as s:
        h135 = get_bill(s, "ma/192/H135")
        assert SEED in [a["title"] for a in h135["articles"]]
        kinds = {e.kind for e in s.scalars(select(Event))}
        assert {"article.new", "article.matched"} <= kinds


def test_the_same_story_from_two_feeds_is_one_article_with_two_sources(sessions, config):
    poll(config, sessions)
    seed = [a for a in articles(sessions) if a["title"] == SEED]
    assert len(seed) == 1
    feeds = sorted(src["feed"] for src in seed[0]["sources"])
    assert feeds == ["Google News", "WWLP"]


def test_syndicated_copy_is_grouped_into_one_story(sessions, config):
    poll(config, sessions)
    with sessions() as s:
        rows = s.execute(select(Article.title, Article.cluster_id, Article.publisher)
                         .where(Article.title.ilike("%bond bill%"))).all()
    by_outlet = {r.publisher: r.cluster_id for r in rows}
    wwlp = next(r for r in rows if r.title.startswith("Facial recognition, gun law rewrite"))
    masslive = next(r for r in rows if r.title.startswith("House adds facial recognition limits"))
    assert wwlp.cluster_id == masslive.cluster_id, by_outlet
    seed_cluster = next(a for a in articles(sessions) if a["title"] == SEED)
    with sessions() as s:
        assert s.get(Article, seed_cluster["id"]).cluster_id != wwlp.cluster_id


def test_a_second_poll_gets_304_and_writes_nothing(sessions, config, news):
    poll(config, sessions)
    with sessions() as s:
        before = (s.scalar(select(func.count(Event.id))), s.scalar(select(func.count(Article.id))))
    n = news.request_count()
    again = poll(config, sessions, all_feeds=True)
    assert again.errors == [] and again.events == [] and again.changed == 0
    with sessions() as s:
        assert (s.scalar(select(func.count(Event.id))), s.scalar(select(func.count(Article.id)))) == before
    recent = news.requests[-(news.request_count() - n):]
    conditional = [path for _, path, h in recent if "If-None-Match" in h]
    # the four feeds send ETags and answer 304; the Google News search sends none, and its
    # unchanged body is recognised by its hash and not parsed again
    assert len(conditional) == 4 and not any(p.startswith("/rss/search") for p in conditional)
    with sessions() as s:
        google = s.scalar(select(Feed).where(Feed.name == "Google News"))
        assert google.etag is None and google.content_hash is not None


def test_nothing_is_polled_before_it_is_due(sessions, config, news):
    poll(config, sessions)
    n = news.request_count()
    result = poll(config, sessions)
    assert result.checked == 0 and news.request_count() == n


def test_a_new_item_gives_article_events(sessions, config, news):
    from tracker.replica.news_model import NewsItem

    poll(config, sessions)
    news.add_item("/wwlp/feed/", NewsItem(
        guid="test-new-1", title="Lawmakers hear testimony on H.135 face surveillance limits",
        link="/wwlp/news/state-politics/test-hearing-on-h135/", published="2021-11-23T20:00:00Z",
        author="Test Writer", categories=["State Politics"],
        summary_html="<p>Test text: a hearing on the bill.</p>", content_html=None))
    result = poll(config, sessions, feeds=["WWLP"])
    kinds = sorted(e.kind for e in result.events)
    assert kinds == ["article.matched", "article.matched", "article.new"]
    matched = {e.payload["bill"]: e.payload["reason"] for e in result.events if e.kind == "article.matched"}
    assert matched["ma/192/H135"] == 'number "H.135" in title'


def test_number_mentions_match_within_the_session_only(sessions, config):
    poll(config, sessions)
    rdf = [a for a in articles(sessions) if a["title"] == "Senate Bill 47 sent to a study order"]
    assert rdf and {b["id"] for b in rdf[0]["bills"]} >= {"ma/192/S47"}
    assert any('number "Senate Bill 47"' in b["reason"] for b in rdf[0]["bills"])


def test_a_bad_feed_fails_alone_with_its_reason(sessions, config, news):
    news.html_instead.add("/masslive/arc/outboundfeeds/rss/")
    news.malformed.add("/beacon/feed/atom/")
    result = poll(config, sessions)
    failed = {e["source"]: e["error"] for e in result.errors}
    assert set(failed) == {"MassLive", "CommonWealth Beacon"}
    assert "HTML" in failed["MassLive"]
    assert [a for a in articles(sessions) if a["title"] == SEED]
    with sessions() as s:
        masslive = s.scalar(select(Feed).where(Feed.name == "MassLive"))
        assert masslive.error_count == 1 and masslive.failing_since is not None
        assert masslive.next_check_at > masslive.last_checked_at
        assert s.scalar(select(func.count(ArticleSource.id)).join(Feed).where(Feed.name == "MassLive")) == 0


@pytest.mark.parametrize("fault", ["status403", "redirect_loop", "status429"])
def test_http_faults_mark_the_feed_failing(sessions, config, news, fault):
    path = "/wwlp/feed/"
    if fault == "status403":
        news.status[path] = 403
    elif fault == "status429":
        news.status[path] = 429
        news.retry_after[path] = 7200
    else:
        news.redirect_loop[path] = "self"
    result = poll(config, sessions)
    errors = [e for e in result.errors if e["source"] == "WWLP"]
    assert len(errors) == 1
    with sessions() as s:
        feed = s.scalar(select(Feed).where(Feed.name == "WWLP"))
        wait = (feed.next_check_at - feed.last_checked_at).total_seconds()
    with sessions() as s:
        [wwlp] = [src for src in status(s, config)["sources"] if src["name"] == "WWLP"]
    if fault == "status429":
        assert "429" in errors[0]["error"] and wait >= 7200
        # tracker status: told to wait, before any success: throttled, not ok
        assert (wwlp["state"], wwlp["ok"], wwlp["last_success"]) == ("throttled", False, None)
        assert wwlp["throttled_until"] == feed.next_check_at.isoformat()
    else:
        assert (wwlp["state"], wwlp["ok"], wwlp["throttled_until"]) == ("failing", False, None)
    if fault == "status403":
        assert "403" in errors[0]["error"]
    elif fault == "redirect_loop":
        assert "redirect" in errors[0]["error"].lower()


def test_full_text_is_fetched_through_the_google_news_redirect(sessions, config):
    result = poll(config, sessions)
    assert result.articles_fetched >= 1
    with sessions() as s:
        seed = s.scalar(select(Article).where(Article.title == SEED))
        assert seed.full_text and len(seed.full_text) > 200
        assert seed.fulltext_fetched_at is not None


def test_search_finds_articles_and_actions_with_snippets(sessions, config):
    poll(config, sessions)
    with sessions() as s:
        hits = search(s, '"facial recognition"')
        assert hits and all(h["type"] == "article" for h in hits)
        assert any("[" in h["snippet"] and "]" in h["snippet"] for h in hits)
        dates = [h["published_at"] for h in hits]
        assert dates == sorted(dates, reverse=True)
        for nasty in ['"unbalanced', "NEAR(", "a OR AND", "'; DROP TABLE articles; --", "x" * 900]:
            assert isinstance(search(s, nasty), list)  # never an FTS5 syntax error
        assert search(s, "facial recognition", bill="ma/192/H5091") == []
        actions = [h for h in search(s, "study order") if h["type"] == "action"]
        assert actions == [] or all(h["bill"] for h in actions)
        from db.search import BadQuery

        for bad in ["*", "   ", "x" * 1001]:
            with pytest.raises(BadQuery):
                search(s, bad)


def _items(sessions, feed_name):
    with sessions() as s:
        return list(s.scalars(select(Article).join(ArticleSource).join(Feed).where(Feed.name == feed_name)))


def test_a_2mb_feed_is_read(sessions, config, news):
    news.huge.add("/wwlp/feed/")
    result = poll(config, sessions, feeds=["WWLP"])
    assert result.errors == []
    assert SEED in [a.title for a in _items(sessions, "WWLP")]


def test_a_wrong_charset_still_gives_readable_text(sessions, news, news_server):
    text = CONFIG.format(base=news_server.base_url).replace("  - name: WWLP\n    url:",
                                                             "  - name: WWLP\n    match: all\n    url:")
    config = parse_config(text, "test")
    news.wrong_charset.add("/wwlp/feed/")
    result = poll(config, sessions, feeds=["WWLP"])
    assert result.errors == []
    titles = [a.title for a in _items(sessions, "WWLP")]
    assert "Holyoke café reopens on High Street after renovation" in titles
    assert not any("Ã" in t or "\ufffd" in t for t in titles)


def test_items_with_future_or_no_dates(sessions, config, news):
    news.future_dates.add("/wwlp/feed/")
    news.no_dates.add("/aclum/rdf/")
    before = datetime.now(timezone.utc)
    poll(config, sessions, feeds=["WWLP", "ACLUM press"])
    for article in _items(sessions, "WWLP"):
        assert article.published_at is not None and article.published_at <= datetime.now(timezone.utc)
        assert article.published_at >= before - timedelta(seconds=5)  # clamped to when it was seen
    undated = _items(sessions, "ACLUM press")
    assert undated and all(a.published_at is None for a in undated)


def test_feed_html_is_sanitised_before_it_is_stored(sessions, config, news):
    from tracker.replica.news_model import NewsItem

    news.add_item("/wwlp/feed/", NewsItem(
        guid="xss-1", title="<b>Face surveillance</b> bill <script>alert(1)</script>",
        link="/wwlp/news/state-politics/xss-test/", published="2021-11-24T12:00:00Z",
        summary_html='<p onclick="steal()">Test text about face surveillance.<script>alert(2)</script>'
                     '<img src="https://pixel.wp.com/g.gif?x=1" width="1" height="1">'
                     '<a href="javascript:alert(3)">x</a><style>p{}</style></p>'))
    poll(config, sessions, feeds=["WWLP"])
    with sessions() as s:
        a = s.scalar(select(Article).where(Article.link.like("%xss-test%")))
    assert a is not None
    for bad in ("<script", "onclick", "javascript:", "pixel.wp.com", "<style", "alert(2)"):
        assert bad not in (a.summary_html or "")
        assert bad not in a.summary_text
    assert "<" not in a.title and "script" not in a.title.lower()
    assert "Test text about face surveillance." in a.summary_text


def test_a_failing_feed_shows_in_status(sessions, config, news, db_url, tmp_path):
    import json
    import subprocess
    import sys

    news.status["/wwlp/feed/"] = 403
    poll(config, sessions)
    out = subprocess.run([sys.executable, "-m", "tracker.cli", "--db", db_url, "status", "--format", "json"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    wwlp = next(src for src in data["sources"] if src["name"] == "WWLP")
    assert wwlp["kind"] == "feed" and wwlp["ok"] is False and wwlp["failing_since"]
    assert "403" in wwlp["error"]
    beacon = next(src for src in data["sources"] if src["name"] == "CommonWealth Beacon")
    assert beacon["ok"] is True and beacon["last_success"]
    bills = next(src for src in data["sources"] if src["name"] == "malegislature")
    assert bills["kind"] == "bills" and bills["last_success"] is None  # listed, never crawled here
    assert {"queued", "sent", "failed", "suppressed"} <= set(data["outbox"])  # the contract's keys, and more


def test_search_covers_bill_actions_and_articles_newest_first(sessions, config, replica_server):
    from tracker.crawl import crawl

    crawl(config.with_overrides(base_url=replica_server.base_url, delay_s=0, concurrency=4), sessions)
    poll(config, sessions)
    with sessions() as s:
        hits = search(s, '"study order"')
        actions = [h for h in hits if h["type"] == "action"]
        assert {h["bill"] for h in actions} >= {"ma/192/S47"}
        s47 = next(h for h in actions if h["bill"] == "ma/192/S47")
        assert s47["date"] == "2022-07-28" and "[study order]" in s47["snippet"].lower() or \
            "[study]" in s47["snippet"].lower()
        assert any(h["type"] == "article" and h["title"] == "Senate Bill 47 sent to a study order" for h in hits)
        keys = [h.get("published_at") or h.get("date") for h in hits]
        assert [k[:10] for k in keys] == sorted((k[:10] for k in keys), reverse=True)
        only_s47 = search(s, "concurred", bill="ma/192/S47")
        assert only_s47 and all(h["bill"] == "ma/192/S47" for h in only_s47)
        july = search(s, "concurred", since=datetime(2022, 7, 1, tzinfo=timezone.utc),
                      until=datetime(2022, 7, 31, tzinfo=timezone.utc))
        assert july and all("2022-07-01" <= h["date"] <= "2022-07-31" for h in july)


def test_cache_control_and_ttl_stretch_the_schedule(sessions, news_server):
    text = CONFIG.format(base=news_server.base_url)
    text = text.replace("  - name: WWLP\n    url:", "  - name: WWLP\n    every: 1m\n    url:")
    text = text.replace("  - name: MassLive\n    url:", "  - name: MassLive\n    every: 1m\n    url:")
    text = text.replace("  - name: ACLUM press\n    url:", "  - name: ACLUM press\n    every: 1m\n    url:")
    poll(parse_config(text, "test"), sessions)
    with sessions() as s:
        wait = {f.name: (f.next_check_at - f.last_checked_at).total_seconds() for f in s.scalars(select(Feed))}
    assert wait["WWLP"] == 600  # Cache-Control: max-age=600
    assert wait["MassLive"] == 15 * 60  # <ttl>15</ttl> beats max-age=300
    assert wait["ACLUM press"] == 60  # nothing said: the feed's own interval
    assert wait["Google News"] == 30 * 60  # schedule.poll


def test_tracking_parameters_do_not_make_a_new_article(sessions, config):
    poll(config, sessions)
    with sessions() as s:
        masslive = s.scalar(select(Article).where(Article.title.like("House adds facial recognition%")))
        assert "utm_" in masslive.link and "utm_" not in masslive.url


def test_full_text_links_bills_the_summary_did_not_mention(sessions, news_server, news):
    from tracker.replica.news_model import NewsItem

    text = CONFIG.format(base=news_server.base_url).replace(
        "  - name: WWLP\n    url:", "  - name: WWLP\n    match: all\n    fetch_article: true\n    url:")
    config = parse_config(text, "test")
    news.add_article("/wwlp/news/state-politics/test-full-text-only/", "Lawmakers return to Beacon Hill",
                     "2021-11-24T15:00:00Z", ["A test paragraph about the week ahead at the State House.",
                                              "Among the bills up for a hearing is H.135, test text only.",
                                              "More test text so the page has a body worth extracting."])
    news.add_item("/wwlp/feed/", NewsItem(guid="ft-1", title="Lawmakers return to Beacon Hill",
                                          link="/wwlp/news/state-politics/test-full-text-only/",
                                          published="2021-11-24T15:00:00Z",
                                          summary_html="<p>Test text: the week ahead.</p>"))
    result = poll(config, sessions, feeds=["WWLP"])
    matched = [e for e in result.events if e.kind == "article.matched" and e.payload["title"].startswith("Lawmakers")]
    assert [(e.payload["bill"], e.payload["where"]) for e in matched] == [("ma/192/H135", "full_text")]


def test_a_feed_that_keeps_nothing_stores_no_snapshot(sessions, config):
    from db.models import Snapshot

    nothing_tracked = config.model_copy(update={"bills": []})
    result = poll(nothing_tracked, sessions, feeds=["MassLive"])
    assert result.errors == [] and result.events == []
    with sessions() as s:
        assert s.scalar(select(func.count(Snapshot.id))) == 0
    poll(config, sessions, feeds=["WWLP"])  # the seed story is kept: its feed body is its provenance
    with sessions() as s:
        assert s.scalar(select(func.count(Snapshot.id))) == 1
        seed = s.scalar(select(ArticleSource).join(Article).where(Article.title == SEED))
        assert seed.snapshot_id is not None
