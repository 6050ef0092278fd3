"""``poll()``: one pass over the feeds that are due.

Feeds are fetched by the feed spider in a child process (the same fetch
engine as the bills); the observations are stored in batches, one transaction per batch
(``tracker.news.batch``), and a batch that fails is stored again feed by feed, each feed whole or not at all.
Then, for feeds with ``fetch_article: true``, the new articles' pages are
fetched for their full text and matched again.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import SingletonThreadPool, StaticPool

from db.checks import throttled_until
from db.lineage import handovers
from db.models import Article, Bill, Feed
from db.successors import accepted_pairs
from spiders.observations import ArticleTarget, FeedTarget
from spiders.billids import parse_bill_id
from tracker.child import run_spider
from tracker.config import Config
from tracker.crawl import sync_tracked
from spiders.matching import BillMatcher
from tracker.news.archive import match_archive
from tracker.news.batch import BatchWriter
from tracker.news.store import FeedOutcome, FeedWriter, StoryIndex, bill_index
from tracker.news.anchors import refetched_key
from tracker.results import RunResult

log = logging.getLogger("tracker.poll")
FULLTEXT_BATCH = 200
# observations stored in one transaction: at most this many feeds, or about this many items
FEED_BATCH = 100
ITEM_BATCH = 5000
# nor longer than this after the first of them arrived, when the feeds come slowly: what was fetched
# is stored soon (a poll killed midway keeps it), not when a hundred more feeds have answered
BATCH_WAIT_S = 0.5


@dataclass
class PollResult(RunResult):
    articles_fetched: int = 0  # article pages fetched for their full text after the poll


class UnknownFeed(ValueError):
    pass


class _StoryIndexAhead:
    """The story index read in a thread while the feed child starts (a second or so of imports before the
    first feed arrives), ready when the first batch with items needs it. Read as of the poll's start.
    In the calling thread instead when the engine's connections are per thread (SQLite in memory)."""

    def __init__(self, sessions: sessionmaker[Session], at: datetime):
        self._index: StoryIndex | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        bind = sessions.kw.get("bind")
        if isinstance(getattr(bind, "pool", None), (SingletonThreadPool, StaticPool)):
            self._build(sessions, at)
        else:
            self._thread = threading.Thread(target=self._build, args=(sessions, at), name="story-index",
                                            daemon=True)
            self._thread.start()

    def _build(self, sessions, at) -> None:
        try:
            with sessions() as s:
                self._index = StoryIndex(s, at)
        except BaseException as exc:  # raised again in the poll's thread, by get()
            self._error = exc

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def get(self) -> StoryIndex:
        self.wait()
        if self._error is not None:
            raise self._error
        return self._index


def sync_feeds(s: Session, config: Config, now: datetime) -> None:
    """Make the feeds table agree with feeds.yaml (a feed whose URL changed starts afresh)."""
    wanted = {f.name: f for f in config.feeds}
    rows = {f.name: f for f in s.scalars(select(Feed))}
    for name, cfg in wanted.items():
        url = config.feed_url(cfg)
        row = rows.get(name)
        if row is None:
            s.add(Feed(name=name, url=url, query=cfg.google_news, active=True, error_count=0, created_at=now,
                       next_check_at=now))
        else:
            row.active = True
            if row.url != url:
                row.url, row.query, row.content_hash = url, cfg.google_news, None
                row.start_afresh(now)
    for name, row in rows.items():
        if name not in wanted:
            row.active = False


def _settings(config: Config) -> dict:
    news = config.sources.news
    return {"delay_s": news.delay_s, "concurrency": news.concurrency, "total_concurrency": news.total_concurrency,
            "timeout_s": news.timeout_s, "user_agent": news.user_agent, "max_bytes": news.max_bytes,
            "allow_private_networks": list(news.allow_private_networks)}


def inherited_keywords(s: Session, config: Config) -> dict[str, list[str]]:
    """feeds.yaml's keywords by bill, carried along the lineage: a new draft or study order that took over a
    bill, and a re-filed bill (an accepted successor), match articles by the keywords of the bill they come
    from, through chains (H.135 -> H.1728 -> H.4359), unless feeds.yaml gives them keywords of their own."""
    keywords = config.keywords_by_bill()
    edges = [(parent, child) for parent, child, _ in handovers(s)] + accepted_pairs(s)
    changed = True
    while changed:  # a fixed point: the edges are few (one per followed bill at most), the chains short
        changed = False
        for parent, child in edges:
            if parent in keywords and child not in keywords:
                keywords[child] = keywords[parent]
                changed = True
    return keywords


def matcher_for(s: Session, config: Config, keywords: dict[str, list[str]] | None = None) -> BillMatcher:
    keywords = inherited_keywords(s, config) if keywords is None else keywords
    bills = [(parse_bill_id(c), keywords.get(c, [])) for c in s.scalars(
        select(Bill.canonical).where(Bill.tracked.is_(True)).order_by(Bill.id))]
    return BillMatcher(bills)


def poll(
    config: Config,
    sessions: sessionmaker[Session],
    feeds: list[str] | None = None,
    all_feeds: bool = False,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    on_outcome: Callable[[FeedOutcome], None] | None = None,
    stop: threading.Event | None = None,
) -> PollResult:
    """One pass over the due feeds (or ``feeds``, or ``all_feeds``). ``stop`` ends it early: each feed
    stored so far is whole; the others stay due."""
    started = time.monotonic()
    result = PollResult()
    cfg_by_name = {f.name: f for f in config.feeds}
    if feeds:
        unknown = [f for f in feeds if f not in cfg_by_name]
        if unknown:
            raise UnknownFeed(f"no feed named {', '.join(map(repr, unknown))} in feeds.yaml; "
                              f"known: {', '.join(cfg_by_name) or 'none'}")
    at = now()
    with sessions.begin() as s:
        sync_tracked(s, config, at)  # bills listed in feeds.yaml match articles even before their first crawl
        sync_feeds(s, config, at)
        s.flush()
        query = select(Feed).where(Feed.active.is_(True)).order_by(Feed.id)
        if feeds:
            query = query.where(Feed.name.in_(feeds))
        elif not all_feeds:
            query = query.where((Feed.next_check_at.is_(None)) | (Feed.next_check_at <= at))
        jobs = [FeedTarget(feed_id=f.id, name=f.name, url=f.url, etag=f.etag, last_modified=f.last_modified,
                           content_hash=f.content_hash) for f in s.scalars(query)]
        keywords = inherited_keywords(s, config)
        matcher = matcher_for(s, config, keywords)
        bills = bill_index(s)
    # the bills tracked since the last poll meet the articles stored before them (once; dated by the article)
    result.events.extend(match_archive(sessions, keywords, at))
    if not jobs:  # no feed due: the pages a killed poll left untried are fetched all the same (retries of
        if stop is None or not stop.is_set():  # failed ones keep to their feeds' schedule)
            result.articles_fetched = _fetch_full_text(config, sessions, matcher, bills, now, result, untried=True)
        return result

    pending = {j.feed_id: j for j in jobs}
    throttled: list[int] = []  # feeds whose site said 429 (or 503 with Retry-After)
    stories = None
    ahead = _StoryIndexAhead(sessions, now())
    batch: list[dict] = []  # observations read and not stored yet
    batch_items = 0

    def store_batch():
        nonlocal stories, batch_items
        if not batch:
            return
        if stories is None and any(o.get("items") for o in batch):  # only a feed with items needs it
            stories = ahead.get()
        for outcome in _store_batch(sessions, config, cfg_by_name, batch, now(), matcher, bills, stories):
            result.collect(outcome, on_outcome)
        batch.clear()
        batch_items = 0

    for obs in run_spider("feeds", _settings(config), [j.to_dict() for j in jobs],
                          config.sources.news.poll_timeout_s, stop):
        if stop is not None and stop.is_set():
            break
        if obs.get("type") == "child-error":
            store_batch()
            for job in pending.values():
                err = {"source": job.name, "url": job.url, "error": obs["error"]}
                result.collect(_failure(sessions, job.feed_id, err, None, now(), config), on_outcome)
            pending.clear()
            continue
        pending.pop(obs["feed_id"], None)
        if obs["status"] == "error":  # in its own transaction, in the order the feeds came
            store_batch()
            result.collect(_store_feed(sessions, config, cfg_by_name, obs, now(), matcher, bills, stories),
                           on_outcome)
            if obs.get("throttled"):
                throttled.append(obs["feed_id"])
            continue
        if not batch:
            batch_started = time.monotonic()
        batch.append(obs)
        batch_items += len(obs.get("items") or ())
        if (len(batch) >= FEED_BATCH or batch_items >= ITEM_BATCH
                or time.monotonic() - batch_started >= BATCH_WAIT_S):
            store_batch()
    store_batch()  # also after a stop: the feeds read so far are stored whole
    ahead.wait()  # unused when no feed had items: its session is closed before the poll returns
    for feed_id in throttled:  # after the loop: a sibling stored later must not undo the hold
        _hold_host(sessions, feed_id)

    if stop is None or not stop.is_set():
        result.articles_fetched = _fetch_full_text(config, sessions, matcher, bills, now, result)
    fields = {"job": "poll", "feeds": result.checked, "changed": result.changed, "events": len(result.events),
              "errors": len(result.errors), "articles_fetched": result.articles_fetched,
              "duration_s": round(time.monotonic() - started, 1)}
    log.info("job=%(job)s feeds=%(feeds)d changed=%(changed)d events=%(events)d errors=%(errors)d "
             "articles_fetched=%(articles_fetched)d duration_s=%(duration_s).1f", fields, extra=fields)
    return result


def _next_check(config: Config, cfg, obs: dict, at: datetime) -> datetime:
    interval = config.feed_interval(cfg)
    if obs.get("ttl_minutes"):
        interval = max(interval, timedelta(minutes=obs["ttl_minutes"]))
    if obs.get("max_age_s"):
        interval = max(interval, timedelta(seconds=obs["max_age_s"]))
    return at + interval


def _store_feed(sessions, config, cfg_by_name, obs, at, matcher, bills, stories) -> FeedOutcome:
    if obs["status"] == "error" and obs.get("throttled"):
        return _throttled(sessions, obs, at)
    if obs["status"] == "error":
        return _failure(sessions, obs["feed_id"], obs["error"], obs.get("retry_after_s"), at, config)
    try:
        with sessions.begin() as s:
            feed = s.get(Feed, obs["feed_id"])
            cfg = cfg_by_name[feed.name]
            if obs["status"] == "unchanged":
                outcome = FeedOutcome(feed.name)
            else:
                outcome = FeedWriter(s, at, matcher, bills, stories, config.sources.google_news.base_url).apply(feed, cfg, obs)
                feed.content_hash = obs.get("content_hash")
                feed.title = obs.get("title") or feed.title
            feed.checked_ok(at, _next_check(config, cfg, obs, at), etag=obs.get("etag"),
                            last_modified=obs.get("last_modified"))
            s.flush()
        if stories is not None:
            stories.settle()
        return outcome
    except Exception as exc:  # one feed's bad data must not stop the others
        if stories is not None:
            stories.undo()  # its articles were rolled back: no later article may join their clusters
        fields = {"feed": obs.get("name")}
        log.exception("feed=%(feed)s storing failed", fields, extra=fields)
        err = {"source": obs.get("name"), "url": obs.get("url"), "error": f"{type(exc).__name__}: {exc}"}
        return _failure(sessions, obs["feed_id"], err, None, at, config)


def _store_batch(sessions, config, cfg_by_name, batch, at, matcher, bills, stories) -> list[FeedOutcome]:
    """The feeds of ``batch`` (fetched, changed or not) in one transaction; if it fails, each feed in its
    own (``_store_feed``), so one feed's bad data costs that feed only."""
    try:
        with sessions.begin() as s:
            writer = BatchWriter(s, at, matcher, bills, stories, config.sources.google_news.base_url)
            return writer.store(batch, cfg_by_name, config, _next_check)
    except Exception:
        if stories is not None:
            stories.undo()
        if len(batch) > 1:
            log.warning("job=poll batch of %d feeds failed; storing them one by one", len(batch), exc_info=True,
                        extra={"job": "poll"})
        return [_store_feed(sessions, config, cfg_by_name, obs, at, matcher, bills, stories) for obs in batch]


def _failure(sessions, feed_id: int, err: dict, retry_after_s: int | None, at: datetime, config: Config) -> FeedOutcome:
    with sessions.begin() as s:
        feed = s.get(Feed, feed_id)
        feed.failed(at, err["url"], err["error"], timedelta(seconds=retry_after_s) if retry_after_s else None)
        return FeedOutcome(feed.name, error=err)


def _throttled(sessions, obs: dict, at: datetime) -> FeedOutcome:
    """The site said 429 (or 503 with Retry-After): the site's state, not this feed's failure, as
    for the bills. The feed waits as long as the site asked (at least ``THROTTLE_MIN_WAIT``), its
    failure count stays as it was, and the poll reports the error."""
    retry_after = obs.get("retry_after_s")
    with sessions.begin() as s:
        feed = s.get(Feed, obs["feed_id"])
        feed.postponed(throttled_until(at, timedelta(seconds=retry_after) if retry_after else None), asked_at=at)
        return FeedOutcome(feed.name, error=obs["error"])


def _hold_host(sessions, feed_id: int) -> int:
    """A site throttled one feed (429, or 503 with Retry-After): its other feeds (many Google News
    searches share one host) wait as long, without counting it as their failure."""
    with sessions.begin() as s:
        throttled = s.get(Feed, feed_id)
        host = _host(throttled.url)
        held = 0
        for feed in s.scalars(select(Feed).where(Feed.active.is_(True), Feed.id != feed_id)):
            if _host(feed.url) == host and feed.postponed(throttled.next_check_at):
                held += 1
    if held:
        fields = {"job": "poll", "host": host, "until": throttled.next_check_at.isoformat(), "other_feeds_held": held}
        log.warning("job=%(job)s throttled host=%(host)s until=%(until)s other_feeds_held=%(other_feeds_held)d",
                    fields, extra=fields)
    return held


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{(parts.hostname or '').lower()}:{parts.port or ''}"


def _fetch_full_text(config, sessions, matcher, bills, now, result: PollResult, untried: bool = False) -> int:
    """Fetch the pages of the articles still without their text (``untried``: only those never tried), each
    stored with its text, its matches and its events in one transaction."""
    tries = 1 if untried else config.sources.news.fulltext_attempts
    with sessions() as s:
        rows = s.execute(select(Article.id, Article.link).where(
            Article.fetch_article.is_(True), Article.fulltext_fetched_at.is_(None),
            Article.fulltext_attempts < tries).order_by(Article.id)
            .limit(FULLTEXT_BATCH)).all()
    if not rows:
        return 0
    fetched = 0
    jobs = [ArticleTarget(article_id=aid, url=link).to_dict() for aid, link in rows]
    for obs in run_spider("articles", _settings(config), jobs, config.sources.news.poll_timeout_s):
        if obs.get("type") != "article":
            continue
        with sessions.begin() as s:
            article = s.get(Article, obs["article_id"])
            article.fulltext_attempts = (article.fulltext_attempts or 0) + 1
            if obs["status"] != "ok":
                article.fulltext_error = f"{obs.get('final_url') or obs['url']}: {obs['error']}"
                if obs.get("refused"):  # a non-public address: asking again would be refused again
                    article.fulltext_attempts = config.sources.news.fulltext_attempts
                result.errors.append({"source": "article", "url": obs["url"], "error": obs["error"]})
                continue
            fetched += 1
            article.full_text = obs.get("text") or None
            article.fulltext_fetched_at = now()
            article.fulltext_error = None
            final = refetched_key(article.url, obs.get("canonical_url") or obs["final_url"])
            if final != article.url and s.scalar(select(Article.id).where(Article.url == final)) is None:
                article.url = final  # a redirect (Google News) or <link rel=canonical> told the real address
            if article.full_text:
                matches = matcher.match(article.title, article.summary_text, article.full_text, article.published_at)
                result.events.extend(FeedWriter(s, now(), matcher, bills, None).link_bills(article, matches))
    return fetched
