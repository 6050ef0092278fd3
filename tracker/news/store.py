"""Storing a polled feed: articles kept, deduplicated by canonical URL, linked to
bills with their reason, grouped into story clusters, and their events.

The caller owns the transaction: one feed's observation is written whole or
not at all.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import chain

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from db.models import Article, ArticleBill, ArticleSource, Bill, Cluster, Event, Feed
from tracker.news.anchors import anchored_urls
from tracker.news.clusters import MIN_FOR_CONTAINMENT, SAME_STORY, decode, encode, fingerprint
from spiders.matching import BillMatcher, keyword_hits
from spiders.urls import canonical_url, decode_google_news_url, is_google_news_url, is_web_url
from spiders.billids import dotted
from spiders.observations import decode_snapshot_body
from db.snapshots import store_snapshot

CLUSTER_WINDOW = timedelta(days=7)
# A shingle carried by more recent articles than this is ignored when looking for the same
# story: it says nothing, and scanning its postings made clustering quadratic.
COMMON_SHINGLE = 50
GOOGLE_NEWS = "https://news.google.com"
FUTURE_SLACK = timedelta(hours=12)


@dataclass
class FeedOutcome:
    feed: str
    changed: bool = False
    events: list[Event] = field(default_factory=list)
    error: dict | None = None
    kept: int = 0
    skipped: int = 0


class StoryIndex:
    """Recent articles' fingerprints, to put syndicated copies of one story in one cluster.

    Built once per poll; an inverted index from shingle to articles keeps the
    comparison to the few articles that share words with the new one.
    """

    def __init__(self, s: Session, now: datetime):
        self.prints: dict[int, tuple[frozenset[str], int | None]] = {}
        self.by_shingle: dict[str, set[int]] = {}
        # articles added since the last settle(): their transaction is not committed yet, and their ids
        # (or their clusters') may be placeholders until their batch is written (tracker.news.batch.Ref).
        # settle() puts the ids in once it is; undo() takes them out when it was rolled back, so that no
        # later article joins a cluster that does not exist
        self.pending: list = []
        since = now - CLUSTER_WINDOW
        # the stored fingerprint; the text only for an article stored before there was one (migration 0017)
        missing = Article.fingerprint.is_(None)
        rows = s.execute(select(Article.id, Article.fingerprint, case((missing, Article.title)),
                                case((missing, Article.summary_text)), Article.cluster_id)
                         .where(Article.first_seen_at >= since))
        # add()'s work, inlined (50,000 articles of 50 shingles each in a busy week); not pending: they are
        # committed, a failed batch must not take them out
        prints, by_shingle = self.prints, self.by_shingle
        posting_of = by_shingle.get
        for aid, stored, title, summary, cluster_id in rows:
            fp = decode(stored) if stored is not None else fingerprint(title, summary or "")
            prints[aid] = (fp, cluster_id)
            for sh in fp:
                posting = posting_of(sh)
                if posting is None:
                    by_shingle[sh] = {aid}
                else:
                    posting.add(aid)

    def add(self, article_id, fp: frozenset[str], cluster_id) -> None:
        self.prints[article_id] = (fp, cluster_id)
        for sh in fp:
            self.by_shingle.setdefault(sh, set()).add(article_id)
        self.pending.append(article_id)

    def settle(self) -> None:
        """The batch is written: its articles and clusters are known by their ids from now on."""
        for key in self.pending:
            fp, cluster = self.prints.pop(key)
            aid = getattr(key, "id", key)
            self.prints[aid] = (fp, getattr(cluster, "id", cluster))
            if not isinstance(key, int):
                for sh in fp:
                    posting = self.by_shingle[sh]
                    posting.discard(key)
                    posting.add(aid)
        self.pending.clear()

    def undo(self) -> None:
        """The batch was rolled back: forget what it added."""
        for key in self.pending:
            fp, _ = self.prints.pop(key)
            for sh in fp:
                self.by_shingle[sh].discard(key)
        self.pending.clear()

    def same_story(self, fp: frozenset[str]) -> int | None:
        """The cluster of the most similar recent article (``similarity(fp, its fingerprint) >= SAME_STORY``,
        the first of equals in the order the articles are met), among those sharing at least two of its
        shingles; None if there is none."""
        by_shingle = self.by_shingle
        postings = []
        for sh in fp:
            posting = by_shingle.get(sh)
            # a shingle carried by too many articles ("the state house") cannot tell stories apart
            if posting and len(posting) <= COMMON_SHINGLE:
                postings.append(posting)
        counts = Counter(chain.from_iterable(postings))  # in the order met, as a loop over the postings
        best, best_score = None, 0.0
        prints, size = self.prints, len(fp)
        for aid, shared in counts.items():
            if shared < 2:
                continue
            other, cluster_id = prints[aid]
            if cluster_id is None:
                continue
            # similarity(fp, other), inline (called about 20 times per new article); neither is empty here
            smaller = min(size, len(other))
            common = len(fp & other)
            score = common / len(fp | other) if smaller < MIN_FOR_CONTAINMENT else common / smaller
            if score >= SAME_STORY and score > best_score:
                best, best_score = cluster_id, score
        return best


def stored_fingerprint(fp: frozenset[str], title: str, summary: str, summary_text: str) -> str:
    """What ``articles.fingerprint`` holds: the fingerprint of the stored title and summary_text, the one the
    index of a later poll compares with (``fp`` is of the item's summary, which summary_text is unless the
    summary was empty and summary_text took the content's start)."""
    return encode(fp if summary_text == summary else fingerprint(title, summary_text or ""))


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def article_url(item: dict, google_base: str | None = None) -> tuple[str, str] | None:
    """(canonical, link) of an item; Google News links (news.google.com, or the configured
    ``sources.google_news.base_url``) are decoded to the publisher's URL when they carry it."""
    link = item.get("url") or (item.get("guid") if str(item.get("guid") or "").startswith("http") else None)
    if not link or not is_web_url(link):  # javascript:, data: and the like are never kept
        return None
    google_link = link
    if google_base and link.startswith(google_base.rstrip("/") + "/rss/articles/"):
        google_link = GOOGLE_NEWS + link[len(google_base.rstrip("/")):]  # a mirror or the replica
    if is_google_news_url(google_link):
        decoded = decode_google_news_url(google_link)
        if decoded:
            return canonical_url(decoded), decoded
    return canonical_url(link), link


class FeedWriter:
    def __init__(self, s: Session, now: datetime, matcher: BillMatcher, bill_ids: dict[str, int],
                 stories: StoryIndex | None, google_base: str | None = None):
        self.google_base = google_base
        self.s = s
        self.now = now
        self.matcher = matcher
        self.bill_ids = bill_ids  # canonical -> bills.id
        self.stories = stories

    def _event(self, kind: str, summary: str, payload: dict, article: Article, bill_id: int | None = None,
               snapshot_id: int | None = None, occurred_at: datetime | None = None) -> Event:
        ev = Event(kind=kind, at=self.now, occurred_at=occurred_at or article.published_at, bill_id=bill_id,
                   article_id=article.id,
                   summary=summary, payload=payload, snapshot_id=snapshot_id)
        self.s.add(ev)
        return ev

    def apply(self, feed: Feed, cfg, obs: dict) -> FeedOutcome:
        """Store the items of a changed feed; ``cfg`` is the feed's feeds.yaml entry."""
        out = FeedOutcome(feed.name, changed=False)
        snapshot = _LazySnapshot(self.s, obs.get("snapshot"))  # stored only if an item is kept
        seen_urls: set[str] = set()
        items = obs.get("items", [])
        keyed = anchored_urls(items, [article_url(item, self.google_base) for item in items], self._stored_keys)
        for item, urls in zip(items, keyed):
            if urls is None or urls[0] in seen_urls:
                out.skipped += 1
                continue
            seen_urls.add(urls[0])
            events = self._item(feed, cfg, item, urls, snapshot)
            if events is None:
                out.skipped += 1
                continue
            out.kept += 1
            out.events.extend(events)
        out.changed = bool(out.events)
        if out.events:
            feed.last_new_item_at = self.now
        return out

    def _stored_keys(self, keys) -> set[str]:
        return set(self.s.scalars(select(Article.url).where(Article.url.in_(sorted(keys)))))

    def _item(self, feed: Feed, cfg, item: dict, urls: tuple[str, str], snapshot: "_LazySnapshot"):
        canonical, link = urls
        title = item.get("title") or link
        published = _parse_time(item.get("published_at"))
        if published and published > self.now + FUTURE_SLACK:
            published = self.now  # a date in the future is a publisher's mistake: use when we saw it
        summary = item.get("summary_text") or ""
        content = item.get("content_text")
        matches = self.matcher.match(title, summary, content, published)
        if cfg.match == "bills" and not matches:
            return None
        if cfg.match == "keywords" and not matches and not keyword_hits(title, summary, content, keywords=cfg.keywords):
            return None

        events: list[Event] = []
        snapshot_id = snapshot.id()
        article = self.s.scalar(select(Article).where(Article.url == canonical))
        publisher = item.get("publisher") or feed.title or feed.name
        if article is None:
            article = Article(url=canonical, link=link, title=title, publisher=publisher, author=item.get("author"),
                              summary_html=item.get("summary_html") or item.get("content_html"),
                              summary_text=summary or (content or "")[:1000], full_text=content,
                              published_at=published, first_seen_at=self.now,
                              fetch_article=bool(cfg.fetch_article), fulltext_attempts=0)
            fp = fingerprint(title, summary)
            article.fingerprint = stored_fingerprint(fp, title, summary, article.summary_text)
            self.s.add(article)
            self.s.flush()
            cluster_id = self.stories.same_story(fp)
            if cluster_id is None:
                cluster = Cluster(title=title, created_at=self.now)
                self.s.add(cluster)
                self.s.flush()
                cluster_id = cluster.id
            article.cluster_id = cluster_id
            self.stories.add(article.id, fp, cluster_id)
            when = published.date().isoformat() if published else "undated"
            events.append(self._event("article.new", f"{title} ({publisher}, {when})", {
                "url": canonical, "title": title, "published_at": published.isoformat() if published else None,
                "source": publisher, "feed": feed.name, "cluster": cluster_id}, article, snapshot_id=snapshot_id))
        elif cfg.fetch_article and not article.fetch_article:
            article.fetch_article = True

        has_source = self.s.scalar(select(ArticleSource.id).where(ArticleSource.article_id == article.id,
                                                                  ArticleSource.feed_id == feed.id))
        if has_source is None:
            self.s.add(ArticleSource(article_id=article.id, feed_id=feed.id, entry_url=item.get("url"),
                                     guid=item.get("guid"), publisher=publisher, seen_at=self.now,
                                     snapshot_id=snapshot_id))
        events.extend(self.link_bills(article, matches, snapshot_id))
        return events

    def link_bills(self, article: Article, matches, snapshot_id: int | None = None,
                   occurred_at: datetime | None = None) -> list[Event]:
        """ArticleBill rows and ``article.matched`` events for the matches not linked yet (dated ``occurred_at``,
        else the article's publication)."""
        events = []
        for m in matches:
            bill_id = self.bill_ids.get(m.bill)
            if bill_id is None:
                continue
            exists = self.s.scalar(select(ArticleBill.id).where(ArticleBill.article_id == article.id,
                                                                ArticleBill.bill_id == bill_id))
            if exists is not None:
                continue
            what = "number" if m.reason == "number" else "keyword"
            reason = f'{what} "{m.term}" in {m.where.replace("_", " ")}'
            self.s.add(ArticleBill(article_id=article.id, bill_id=bill_id, reason=reason, term=m.term,
                                   field=m.where, kind=m.reason, created_at=self.now))
            number = dotted(m.bill.rsplit("/", 1)[1])
            events.append(self._event("article.matched", f"{number} in the news: {article.title} ({reason})", {
                "bill": m.bill, "reason": reason, "term": m.term, "where": m.where, "kind": m.reason,
                "url": article.url, "title": article.title}, article, bill_id=bill_id, snapshot_id=snapshot_id,
                occurred_at=occurred_at))
        if events:
            self.s.flush()
        return events


class _LazySnapshot:
    """The feed body, written to the snapshots table the first time an item kept needs it."""

    def __init__(self, s: Session, snap: dict | None):
        self.s, self.snap, self._id = s, snap, None

    def id(self) -> int | None:
        if self._id is None and self.snap:
            self._id = store_snapshot(self.s, decode_snapshot_body(self.snap), self.snap)
        return self._id


def bill_index(s: Session) -> dict[str, int]:
    return dict(s.execute(select(Bill.canonical, Bill.id).where(Bill.tracked.is_(True))).all())
