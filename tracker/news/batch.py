"""Storing many polled feeds in one transaction, with a few bulk statements.

``store_batch`` writes what ``FeedWriter`` writes feed by feed (the same articles, sources, clusters, bill
links, snapshots and events, in the same order, so with the same ids), but for a batch of feeds at once:
one SELECT for the feeds, one for the articles already stored under the batch's URLs, one for their
sources and one for their bill links, then one INSERT ... executemany per table (snapshots, clusters,
articles, sources, bill links, events), and the feeds' UPDATEs grouped by the ORM. An article's cluster is
known before it is written, so each article is written once (the FTS triggers run once per article, not
twice as with an INSERT and then an UPDATE of ``cluster_id``).

The caller owns the transaction. When it fails, the caller undoes what the batch added to the
``StoryIndex`` (``StoryIndex.undo``) and stores the feeds one by one, so one feed's bad row costs its
own feed only.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from db.models import Article, ArticleBill, ArticleSource, Cluster, Event, Feed, Snapshot
from db import snapshots
from spiders.billids import dotted
from spiders.matching import keyword_hits
from spiders.observations import decode_snapshot_body
from tracker.news.anchors import anchored_urls
from tracker.news.clusters import fingerprint
from tracker.news.store import FUTURE_SLACK, FeedOutcome, StoryIndex, _parse_time, article_url, stored_fingerprint

CHUNK = 500  # values in one IN (...) list


class Ref:
    """The id of a row this batch writes, known once it is inserted."""

    __slots__ = ("id",)

    def __init__(self):
        self.id: int | None = None


def _id(value) -> int | None:
    return value.id if isinstance(value, Ref) else value


@dataclass
class _Article:
    """An article as the batch sees it: stored before the batch (``id`` an int) or written by it (a Ref)."""

    id: int | Ref
    url: str
    title: str
    published_at: datetime | None
    fetch_article: bool
    row: dict | None = None  # the row to insert, for an article of this batch
    feeds: set[int] = field(default_factory=set)  # feeds with a source row for it
    bills: set[int] = field(default_factory=set)  # bills linked to it


class BatchWriter:
    def __init__(self, s: Session, now: datetime, matcher, bill_ids: dict[str, int], stories: StoryIndex | None,
                 google_base: str | None = None):
        self.s, self.now, self.matcher, self.bill_ids = s, now, matcher, bill_ids
        self.stories, self.google_base = stories, google_base
        self.snapshots: list[dict] = []  # rows to insert, with "_ref"
        self.snapshot_by_digest: dict[str, int | Ref] = {}
        self.clusters: list[tuple[Ref, dict]] = []
        self.articles: list[_Article] = []  # new ones, in order
        self.sources: list[dict] = []
        self.links: list[dict] = []
        self.events: list[Event] = []
        self.event_refs: list[tuple[Event, int | Ref, int | Ref | None, int | Ref | None]] = []
        self.fetch_flags: list[int] = []  # stored articles whose fetch_article turns true

    # ------------------------------------------------------------------ planning (no SQL but the lookups)

    def store(self, observations: list[dict], cfg_by_name: dict, config, next_check) -> list[FeedOutcome]:
        """Store ``observations`` (status ok or unchanged); the outcomes in their order."""
        ids = [o["feed_id"] for o in observations]
        feeds = {f.id: f for f in self.s.scalars(select(Feed).where(Feed.id.in_(ids)))}
        plans = []
        for obs in observations:
            feed = feeds[obs["feed_id"]]
            cfg = cfg_by_name[feed.name]
            kept = self._kept(cfg, obs) if obs["status"] != "unchanged" else []
            plans.append((obs, feed, cfg, kept))
        known = self._stored_articles({urls[0] for *_, kept in plans for _, urls, _ in kept})
        outcomes = []
        for obs, feed, cfg, kept in plans:
            if obs["status"] == "unchanged":
                outcomes.append(FeedOutcome(feed.name))
            else:
                outcomes.append(self._feed(feed, cfg, obs, kept, known))
                feed.content_hash = obs.get("content_hash")
                feed.title = obs.get("title") or feed.title
            feed.checked_ok(self.now, next_check(config, cfg, obs, self.now), etag=obs.get("etag"),
                            last_modified=obs.get("last_modified"))
        self._write()
        return outcomes

    def _kept(self, cfg, obs: dict) -> list[tuple[dict, tuple[str, str], list]]:
        """The items a feed keeps, with their URLs and matches (``FeedWriter.apply``'s filter)."""
        kept, seen = [], set()
        skipped = 0
        items = obs.get("items", [])
        keyed = anchored_urls(items, [article_url(item, self.google_base) for item in items], self._stored_keys)
        for item, urls in zip(items, keyed):
            if urls is None or urls[0] in seen:
                skipped += 1
                continue
            seen.add(urls[0])
            title = item.get("title") or urls[1]
            published = _parse_time(item.get("published_at"))
            if published and published > self.now + FUTURE_SLACK:
                published = self.now
            summary = item.get("summary_text") or ""
            content = item.get("content_text")
            matches = self.matcher.match(title, summary, content, published)
            if cfg.match == "bills" and not matches:
                skipped += 1
                continue
            if cfg.match == "keywords" and not matches and not keyword_hits(title, summary, content,
                                                                           keywords=cfg.keywords):
                skipped += 1
                continue
            kept.append((item | {"_title": title, "_published": published}, urls, matches))
        obs["_skipped"] = skipped
        return kept

    def _stored_keys(self, keys) -> set[str]:
        return set(self._stored_articles(set(keys)))

    def _stored_articles(self, urls: set[str]) -> dict[str, _Article]:
        known: dict[str, _Article] = {}
        urls_l = sorted(urls)
        for i in range(0, len(urls_l), CHUNK):
            for aid, url, title, published, fetch in self.s.execute(
                    select(Article.id, Article.url, Article.title, Article.published_at, Article.fetch_article)
                    .where(Article.url.in_(urls_l[i:i + CHUNK]))):
                known[url] = _Article(aid, url, title, published, bool(fetch))
        by_id = {a.id: a for a in known.values()}
        ids = sorted(by_id)
        for i in range(0, len(ids), CHUNK):
            part = ids[i:i + CHUNK]
            for aid, feed_id in self.s.execute(select(ArticleSource.article_id, ArticleSource.feed_id)
                                               .where(ArticleSource.article_id.in_(part))):
                by_id[aid].feeds.add(feed_id)
            for aid, bill_id in self.s.execute(select(ArticleBill.article_id, ArticleBill.bill_id)
                                               .where(ArticleBill.article_id.in_(part))):
                by_id[aid].bills.add(bill_id)
        return known

    def _snapshot(self, snap: dict | None) -> int | Ref | None:
        if not snap:
            return None
        body = decode_snapshot_body(snap)
        digest = hashlib.sha256(body).hexdigest()
        if digest not in self.snapshot_by_digest:
            existing = self.s.scalar(select(Snapshot.id).where(Snapshot.sha256 == digest))
            if existing is not None:
                self.snapshot_by_digest[digest] = existing
            else:
                ref = Ref()
                self.snapshots.append({
                    "_ref": ref, "sha256": digest, "url": snap["url"], "status": snap["status"],
                    "content_type": snap.get("content_type"), "etag": snap.get("etag"),
                    "last_modified": snap.get("last_modified"),
                    "fetched_at": datetime.fromisoformat(snap["fetched_at"]), "size": len(body),
                    "body": zlib.compress(body, snapshots.LEVEL)})
                self.snapshot_by_digest[digest] = ref
        return self.snapshot_by_digest[digest]

    def _feed(self, feed: Feed, cfg, obs: dict, kept, known: dict[str, _Article]) -> FeedOutcome:
        out = FeedOutcome(feed.name, changed=False, skipped=obs.pop("_skipped", 0))
        snapshot_id: int | Ref | None = None
        for n, (item, (canonical, link), matches) in enumerate(kept):
            if n == 0:
                snapshot_id = self._snapshot(obs.get("snapshot"))  # stored only if an item is kept
            title, published = item["_title"], item["_published"]
            summary = item.get("summary_text") or ""
            content = item.get("content_text")
            publisher = item.get("publisher") or feed.title or feed.name
            article = known.get(canonical)
            events: list = []
            if article is None:
                fp = fingerprint(title, summary)
                cluster = self.stories.same_story(fp)
                if cluster is None:
                    cluster = Ref()
                    self.clusters.append((cluster, {"title": title, "created_at": self.now}))
                ref = Ref()
                summary_text = summary or (content or "")[:1000]
                article = _Article(ref, canonical, title, published, bool(cfg.fetch_article), row={
                    "url": canonical, "link": link, "title": title, "publisher": publisher,
                    "author": item.get("author"),
                    "summary_html": item.get("summary_html") or item.get("content_html"),
                    "summary_text": summary_text, "full_text": content,
                    "fingerprint": stored_fingerprint(fp, title, summary, summary_text),
                    "published_at": published, "first_seen_at": self.now, "cluster_id": cluster,
                    "fetch_article": bool(cfg.fetch_article), "fulltext_attempts": 0})
                known[canonical] = article
                self.articles.append(article)
                self.stories.add(ref, fp, cluster)
                when = published.date().isoformat() if published else "undated"
                events.append(self._event("article.new", f"{title} ({publisher}, {when})", {
                    "url": canonical, "title": title,
                    "published_at": published.isoformat() if published else None,
                    "source": publisher, "feed": feed.name, "cluster": cluster}, article, snapshot_id))
            elif cfg.fetch_article and not article.fetch_article:
                article.fetch_article = True
                if article.row is not None:
                    article.row["fetch_article"] = True
                else:
                    self.fetch_flags.append(article.id)
            if feed.id not in article.feeds:
                article.feeds.add(feed.id)
                self.sources.append({"article_id": article.id, "feed_id": feed.id, "entry_url": item.get("url"),
                                     "guid": item.get("guid"), "publisher": publisher, "seen_at": self.now,
                                     "snapshot_id": snapshot_id})
            for m in matches:
                bill_id = self.bill_ids.get(m.bill)
                if bill_id is None or bill_id in article.bills:
                    continue
                article.bills.add(bill_id)
                what = "number" if m.reason == "number" else "keyword"
                reason = f'{what} "{m.term}" in {m.where.replace("_", " ")}'
                self.links.append({"article_id": article.id, "bill_id": bill_id, "reason": reason, "term": m.term,
                                   "field": m.where, "kind": m.reason, "created_at": self.now})
                number = dotted(m.bill.rsplit("/", 1)[1])
                events.append(self._event(
                    "article.matched", f"{number} in the news: {article.title} ({reason})", {
                        "bill": m.bill, "reason": reason, "term": m.term, "where": m.where, "kind": m.reason,
                        "url": article.url, "title": article.title}, article, snapshot_id, bill_id))
            out.kept += 1
            out.events.extend(events)
        out.changed = bool(out.events)
        if out.events:
            feed.last_new_item_at = self.now
        return out

    def _event(self, kind, summary, payload, article: _Article, snapshot_id, bill_id=None) -> Event:
        ev = Event(kind=kind, at=self.now, occurred_at=article.published_at, bill_id=bill_id, summary=summary,
                   payload=payload)
        self.event_refs.append((ev, article.id, snapshot_id, payload.get("cluster") if kind == "article.new" else None))
        self.events.append(ev)
        return ev

    # ------------------------------------------------------------------ writing

    def _insert(self, table, rows: list[dict]) -> list[int]:
        """INSERT the rows (a few multi-row statements); their ids, in the rows' order."""
        if not rows:
            return []
        conn = self.s.connection()
        if conn.dialect.name != "sqlite":
            stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            return [r[0] for r in conn.execute(stmt, rows)]
        # SQLAlchemy cannot tell which row SQLite's RETURNING gives first, so it asks for ids in the rows'
        # order one INSERT per row (50,000 statements for 50,000 articles). But SQLite inserts the rows of
        # one INSERT in order, each with the next rowid (max + 1) unless the table's rowids reached their
        # limit: ascending ids are in the rows' order. Checked: anything else fails the batch, whose feeds
        # are then stored one by one
        ids = sorted(r[0] for r in conn.execute(insert(table).returning(table.c.id), rows))
        if len(ids) != len(rows) or ids[-1] - ids[0] != len(rows) - 1:
            raise RuntimeError(f"{table.name}: rowids not assigned in order; storing feed by feed")
        return ids

    def _write(self) -> None:
        for row, id_ in zip(self.snapshots, self._insert(
                Snapshot.__table__, [{k: v for k, v in r.items() if k != "_ref"} for r in self.snapshots])):
            row["_ref"].id = id_
        for (ref, _), id_ in zip(self.clusters, self._insert(Cluster.__table__, [r for _, r in self.clusters])):
            ref.id = id_
        rows = [a.row | {"cluster_id": _id(a.row["cluster_id"])} for a in self.articles]
        for a, id_ in zip(self.articles, self._insert(Article.__table__, rows)):
            a.id.id = id_
        if self.fetch_flags:
            self.s.connection().execute(update(Article.__table__).where(Article.__table__.c.id.in_(self.fetch_flags))
                                        .values(fetch_article=True))
        self._insert(ArticleSource.__table__, [r | {"article_id": _id(r["article_id"]),
                                                   "snapshot_id": _id(r["snapshot_id"])} for r in self.sources])
        self._insert(ArticleBill.__table__, [r | {"article_id": _id(r["article_id"])} for r in self.links])
        for ev, article_id, snapshot_id, cluster in self.event_refs:
            ev.article_id, ev.snapshot_id = _id(article_id), _id(snapshot_id)
            if cluster is not None:
                ev.payload = ev.payload | {"cluster": _id(cluster)}
        columns = ("kind", "at", "occurred_at", "occurred_on", "bill_id", "article_id", "summary", "payload",
                   "snapshot_id")
        ids = self._insert(Event.__table__, [{c: getattr(ev, c) for c in columns} for ev in self.events])
        for ev, id_ in zip(self.events, ids):
            ev.id = id_
        if self.stories is not None:
            self.stories.settle()
