"""The poll stores the feeds in batches (tracker.news.batch): the same records as feed by feed, and a
feed whose rows fail inside a batch costs that feed only."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

import tracker.news.batch as batch_mod
import tracker.news.store as store_mod
from db.engine import make_engine, session_factory
from db.migrate import upgrade
from db.models import Article, ArticleSource, Event, Feed
from tracker.config import parse_config
from tracker.news.clusters import decode, encode, fingerprint, similarity
from tracker.news.poll import poll
from tracker.news.store import StoryIndex, stored_fingerprint
from tests.test_poll import CONFIG, SEED

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
TABLES = {
    "articles": "id, url, link, title, publisher, author, summary_html, summary_text, full_text, published_at, "
                "first_seen_at, cluster_id, fetch_article, fulltext_fetched_at, fulltext_attempts, fulltext_error, "
                "fingerprint",
    "article_sources": "id, article_id, feed_id, entry_url, guid, publisher, seen_at, snapshot_id",
    "article_bills": "id, article_id, bill_id, reason, term, field, kind, created_at",
    "clusters": "id, title, created_at",
    "events": "id, kind, at, occurred_at, bill_id, article_id, summary, payload, snapshot_id",
    "snapshots": "id, sha256, url, status, size",
    "feeds": "id, name, title, etag, content_hash, last_checked_at, last_success_at, next_check_at, error_count, "
             "last_error, last_new_item_at",
}


@pytest.fixture
def config(news_server):
    return parse_config(CONFIG.format(base=news_server.base_url), "test")


@pytest.fixture
def one_at_a_time(news_server):
    """One request at a time: the feeds come back in the same order in every poll, so two polls' ids agree."""
    text_ = CONFIG.format(base=news_server.base_url).replace("concurrency: 8,", "concurrency: 1, total_concurrency: 1,")
    return parse_config(text_, "test")


@pytest.fixture
def second_sessions(backend, tmp_path, pg_template):
    """Another fresh database on the same backend."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'second.sqlite'}"
    else:
        if pg_template is None:
            pytest.skip("no PostgreSQL")
        admin, template = pg_template
        name = f"t_{uuid.uuid4().hex[:16]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        url = make_url(os.environ["TRACKER_TEST_POSTGRES_URL"]).set(database=name).render_as_string(
            hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()
    if backend != "sqlite":
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _dump(sessions) -> dict:
    with sessions() as s:
        return {t: [tuple(r) for r in s.execute(text(f"SELECT {cols} FROM {t} ORDER BY id"))]
                for t, cols in TABLES.items()}


def _feed_by_feed(monkeypatch):
    """Every batch fails before it writes: the poll stores each feed on its own, as before batches."""
    def fail(self, *a, **kw):
        raise RuntimeError("batch refused by the test")
    monkeypatch.setattr(batch_mod.BatchWriter, "store", fail)


def test_batches_write_the_same_records_as_feed_by_feed(sessions, second_sessions, one_at_a_time, news,
                                                        monkeypatch):
    config = one_at_a_time
    batched = poll(config, sessions, now=lambda: NOW)
    with monkeypatch.context() as m:
        _feed_by_feed(m)
        alone = poll(config, second_sessions, now=lambda: NOW)
    assert batched.errors == alone.errors == []
    assert [(e.id, e.kind, e.summary) for e in batched.events] == [(e.id, e.kind, e.summary) for e in alone.events]
    first = _dump(sessions)
    assert first["articles"] and first["article_bills"] and first["events"]
    assert first == _dump(second_sessions)
    # a second cycle with a new item and a new feed carrying a stored article: still the same
    news.touch("/wwlp/feed/")
    batched = poll(config, sessions, all_feeds=True, now=lambda: NOW)
    with monkeypatch.context() as m:
        _feed_by_feed(m)
        alone = poll(config, second_sessions, all_feeds=True, now=lambda: NOW)
    assert [(e.id, e.kind, e.summary) for e in batched.events] == [(e.id, e.kind, e.summary) for e in alone.events]
    assert _dump(sessions) == _dump(second_sessions)


def test_a_feed_failing_inside_a_batch_does_not_lose_the_others(sessions, config, monkeypatch):
    real = store_mod.fingerprint

    def broken(title, summary):
        if title == SEED:
            raise ValueError("this item cannot be stored")
        return real(title, summary)

    monkeypatch.setattr(store_mod, "fingerprint", broken)
    monkeypatch.setattr(batch_mod, "fingerprint", broken)
    result = poll(config, sessions, now=lambda: NOW)
    failed = {e["source"] for e in result.errors}
    assert failed  # the feeds that carry the seed story
    assert all("this item cannot be stored" in e["error"] for e in result.errors)
    assert result.checked == len(config.feeds)
    with sessions() as s:
        feeds = {f.name: f for f in s.scalars(select(Feed))}
        stored = {name for (name,) in s.execute(select(Feed.name).join(ArticleSource,
                                                                       ArticleSource.feed_id == Feed.id))}
        assert SEED not in set(s.scalars(select(Article.title)))
        events = s.scalars(select(Event)).all()
    ok = set(feeds) - failed
    assert ok and stored == {n for n in ok if n in stored} and stored  # the others kept their articles
    for name in failed:
        assert feeds[name].error_count == 1 and "this item cannot be stored" in feeds[name].last_error
        assert feeds[name].etag is None  # nothing of a failed feed was written: it is fetched whole again
    for name in ok:
        assert feeds[name].error_count == 0 and feeds[name].last_success_at == NOW
    assert len(events) == len(result.events)


def test_a_feed_item_as_a_dict_is_what_asdict_gives():
    from dataclasses import asdict, fields

    from spiders.records import FeedItem

    item = FeedItem(title="t", url="u", guid="g", summary_html="<p>s</p>", summary_text="s", content_html="<p>c</p>",
                    content_text="c", published_at="2024-01-01T00:00:00+00:00", author="a", publisher="p",
                    publisher_url="pu", categories=["x", "y"])
    assert item.to_dict() == asdict(item)
    assert set(item.to_dict()) == {f.name for f in fields(FeedItem)}  # a new field must be added to to_dict
    assert item.to_dict()["categories"] is not item.categories


def test_articles_carry_the_fingerprint_the_index_would_compute(sessions, config):
    poll(config, sessions, now=lambda: NOW)
    with sessions() as s:
        rows = s.execute(select(Article.title, Article.summary_text, Article.fingerprint)).all()
        assert rows and all(fp is not None for *_, fp in rows)
        for title, summary, fp in rows:
            assert decode(fp) == fingerprint(title, summary or "")
        stored = StoryIndex(s, NOW)
    with sessions.begin() as s:  # articles stored before migration 0017: the index computes theirs
        s.execute(text("UPDATE articles SET fingerprint = NULL"))
    with sessions() as s:
        computed = StoryIndex(s, NOW)
    assert stored.prints == computed.prints and stored.by_shingle == computed.by_shingle


def test_the_stored_fingerprint_is_of_the_stored_summary():
    title, lead = "Senate passes the climate bill", "BOSTON (SHNS) - The Senate voted 38-2 on Thursday to pass a bill"
    fp = fingerprint(title, lead)
    assert decode(stored_fingerprint(fp, title, lead, lead)) == fp
    # no summary: summary_text holds the content's start, and a later poll's index fingerprints that
    assert decode(stored_fingerprint(fingerprint(title, ""), title, "", lead)) == fp
    assert decode(encode(frozenset())) == frozenset()


def test_a_failed_first_batch_keeps_the_stored_articles_in_the_index(sessions, config):
    poll(config, sessions, now=lambda: NOW)
    with sessions() as s:
        index = StoryIndex(s, NOW)
    before = dict(index.prints)
    assert before
    index.undo()  # what _store_batch does when the first batch of the next poll fails
    assert index.prints == before


def _same_story_as_written_first(index: StoryIndex, fp) -> int | None:
    """StoryIndex.same_story as it was first written (a loop over the postings, ``similarity``)."""
    counts: dict = {}
    for sh in fp:
        posting = index.by_shingle.get(sh, ())
        if len(posting) > store_mod.COMMON_SHINGLE:
            continue
        for aid in posting:
            counts[aid] = counts.get(aid, 0) + 1
    best, best_score = None, 0.0
    for aid, shared in counts.items():
        if shared < 2:
            continue
        other, cluster_id = index.prints[aid]
        score = similarity(fp, other)
        if score >= store_mod.SAME_STORY and score > best_score and cluster_id is not None:
            best, best_score = cluster_id, score
    return best


def test_same_story_finds_what_the_plain_loop_finds(sessions, config):
    poll(config, sessions, now=lambda: NOW)
    with sessions() as s:
        index = StoryIndex(s, NOW)
    prints = [fp for fp, _ in index.prints.values()]
    # each stored fingerprint, its halves (shorter excerpts), and pairs mixed (two stories in one)
    probes = prints + [frozenset(sorted(fp)[: len(fp) // 2]) for fp in prints]
    probes += [a | b for a, b in zip(prints, prints[1:])] + [frozenset({"state house"}), frozenset()]
    found = [index.same_story(fp) for fp in probes]
    assert found == [_same_story_as_written_first(index, fp) for fp in probes]
    assert sum(c is not None for c in found) > len(prints)  # the probes do find stories
