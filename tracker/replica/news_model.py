"""The news replica's mutable in-memory model: feeds, article pages and Google News search results.

A :class:`NewsReplica` holds

* feeds keyed by their URL path (``/wwlp/feed/``), each a :class:`NewsFeed` in one of three
  formats (``rss`` in a WordPress, Arc XP or plain flavour; ``atom``; ``rdf`` = RSS 1.0);
* article pages keyed by path (:class:`NewsArticle`); an item link that has no article page
  of its own is served as a small page generated from the item;
* Google News search results keyed by query (:class:`GoogleResult`), served as
  ``/rss/search?q=...`` with ``/rss/articles/<id>`` redirects;
* per-path fault switches the server obeys, and a log of every request.

Links (item ``link``/``guid``, article ``canonical``, feed ``site_url``, Google result ``url`` and
``publisher_url``) may be absolute, or paths starting with ``/``: a path is served as
``{server base URL}{path}`` so a crawler can follow it to this server.

Change the model through the mutators (``add_item``, ``update_item``, ``remove_item``,
``add_article``, ``touch``...): every change bumps the feed's ``version`` and moves its
``modified`` time forward, so ETag and Last-Modified move and cached renderings are dropped.
Editing ``feed.items`` in place needs a ``touch(path)`` afterwards.
"""

from __future__ import annotations

import base64
import html
import json
import random
import threading
import time
from dataclasses import dataclass, field, fields as dc_fields
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import Iterable
from urllib.parse import urlsplit

from tracker.replica.loopback import RequestLog
from tracker.replica.wire import WireFaults

FORMATS = ("rss", "atom", "rdf")
RSS_FLAVORS = ("wordpress", "arc", "plain")
UTC = timezone.utc

# Google News "old-style" article ids: protobuf-ish bytes around the publisher URL, base64url.
_GN_PREFIX = b"\x08\x13\x22"
_GN_SUFFIX = b"\xd2\x01\x00"


def encode_article_id(url: str) -> str:
    """The base64url id (no padding) of an old-style Google News link for ``url``.

    Bytes: ``08 13 22``, the URL's length (a protobuf varint: one byte below 128), the URL
    (UTF-8), then ``d2 01 00``. The result starts with ``CBMi`` like the real ids.
    """
    raw = url.encode("utf-8")
    n = len(raw)
    length = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            length.append(byte | 0x80)
        else:
            length.append(byte)
            break
    data = _GN_PREFIX + bytes(length) + raw + _GN_SUFFIX
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def decode_article_id(article_id: str) -> str:
    """The publisher URL inside an id made by :func:`encode_article_id`; ValueError if it is not one."""
    text = article_id.strip()
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not base64url: {article_id!r}") from exc
    if not data.startswith(_GN_PREFIX):
        raise ValueError(f"not an old-style Google News article id: {article_id!r}")
    pos, n, shift = len(_GN_PREFIX), 0, 0
    while True:
        if pos >= len(data):
            raise ValueError(f"truncated article id: {article_id!r}")
        byte = data[pos]
        pos += 1
        n |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    raw = data[pos : pos + n]
    if len(raw) != n:
        raise ValueError(f"truncated article id: {article_id!r}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"article id does not hold a UTF-8 URL: {article_id!r}") from exc


def normalize_query(query: str) -> str:
    """Whitespace collapsed and case folded: how search queries are matched to results."""
    return " ".join(query.split()).casefold()


def _now_s() -> float:
    return float(int(time.time()))


def parse_datetime(value: str | datetime | None) -> datetime | None:
    """ISO 8601 text (``Z`` or an offset; a naive value is taken as UTC) or a datetime -> aware datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    else:
        dt = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt


def link_path(link: str) -> str | None:
    """The path of a base-relative link (``/wwlp/news/x/?a=b`` -> ``/wwlp/news/x/``); None for absolute URLs."""
    if not link.startswith("/") or link.startswith("//"):
        return None
    return urlsplit(link).path


# --------------------------------------------------------------------------- records


@dataclass
class NewsItem:
    guid: str  # WordPress: "/wwlp/?p=123" (isPermaLink="false"); Arc: the article URL
    title: str
    link: str  # a base-relative path or an absolute URL
    published: datetime | None = None  # aware; None = the item carries no date
    author: str | None = None
    categories: list[str] = field(default_factory=list)
    summary_html: str | None = None  # RSS description / Atom summary
    content_html: str | None = None  # content:encoded / Atom content
    updated: datetime | None = None  # Atom <updated>; defaults to ``published``

    def __post_init__(self) -> None:
        # tests write dates as ISO text; the pages need aware datetimes
        self.published = parse_datetime(self.published)
        self.updated = parse_datetime(self.updated)

    @classmethod
    def from_dict(cls, d: dict) -> "NewsItem":
        return cls(
            guid=d["guid"],
            title=d["title"],
            link=d["link"],
            published=parse_datetime(d.get("published")),
            author=d.get("author"),
            categories=list(d.get("categories", [])),
            summary_html=d.get("summary_html"),
            content_html=d.get("content_html"),
            updated=parse_datetime(d.get("updated")),
        )


_ITEM_FIELDS = {f.name for f in dc_fields(NewsItem)}


@dataclass
class NewsFeed:
    path: str  # "/wwlp/feed/"
    format: str  # "rss" | "atom" | "rdf"
    title: str
    site_url: str  # the site's home page: a base-relative path ("/wwlp/") or an absolute URL
    items: list[NewsItem] = field(default_factory=list)  # newest first, as feeds list them
    ttl_minutes: int | None = None  # RSS <ttl>
    cache_max_age: int | None = None  # Cache-Control: max-age=N on the feed's responses
    description: str = ""
    language: str = "en-US"
    flavor: str = "wordpress"  # rss only: "wordpress" | "arc" | "plain"
    max_items: int | None = None  # render only the newest N (older ones "fall off" the feed)
    # bookkeeping: bumped on every change so cached renderings are dropped
    version: int = 0
    modified: float = field(default_factory=_now_s)
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"feed format must be one of {FORMATS}, not {self.format!r}")
        if self.format == "rss" and self.flavor not in RSS_FLAVORS:
            raise ValueError(f"rss flavor must be one of {RSS_FLAVORS}, not {self.flavor!r}")
        if not self.path.startswith("/"):
            raise ValueError(f"feed path must start with '/': {self.path!r}")

    def touch(self) -> None:
        self.version += 1
        self.cache.clear()
        # Last-Modified has one-second resolution: make every change move it forward.
        self.modified = max(_now_s(), self.modified + 1.0)

    def index_of(self, guid: str) -> int:
        for i, item in enumerate(self.items):
            if item.guid == guid:
                return i
        raise KeyError(f"no item {guid!r} in feed {self.path}")

    def item(self, guid: str) -> NewsItem:
        return self.items[self.index_of(guid)]

    def visible_items(self) -> list[NewsItem]:
        return self.items if self.max_items is None else self.items[: self.max_items]

    @classmethod
    def from_dict(cls, d: dict) -> "NewsFeed":
        return cls(
            path=d["path"],
            format=d["format"],
            title=d["title"],
            site_url=d["site_url"],
            items=[NewsItem.from_dict(i) for i in d.get("items", [])],
            ttl_minutes=d.get("ttl_minutes"),
            cache_max_age=d.get("cache_max_age"),
            description=d.get("description", ""),
            language=d.get("language", "en-US"),
            flavor=d.get("flavor", "wordpress"),
            max_items=d.get("max_items"),
        )


@dataclass
class NewsArticle:
    path: str  # "/wwlp/news/state-politics/<slug>/"
    title: str
    published: datetime | None
    paragraphs: list[str]  # plain text, one per <p>
    canonical: str | None = None  # path or URL for <link rel="canonical">; default: the page's own URL
    author: str | None = None
    site_name: str | None = None
    version: int = 0
    modified: float = field(default_factory=_now_s)
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    def touch(self) -> None:
        self.version += 1
        self.cache.clear()
        self.modified = max(_now_s(), self.modified + 1.0)

    @classmethod
    def from_dict(cls, d: dict) -> "NewsArticle":
        return cls(
            path=d["path"],
            title=d["title"],
            published=parse_datetime(d.get("published")),
            paragraphs=list(d.get("paragraphs", [])),
            canonical=d.get("canonical"),
            author=d.get("author"),
            site_name=d.get("site_name"),
        )


_ARTICLE_FIELDS = {"title", "published", "paragraphs", "canonical", "author", "site_name"}


@dataclass(frozen=True)
class GoogleResult:
    title: str  # the headline with the " - Publisher" suffix, as Google News prints it
    url: str  # the publisher's article: a base-relative path or an absolute URL
    published: datetime | None
    publisher: str  # <source> text
    publisher_url: str  # <source url="..."> (path or URL)
    description_html: str | None = None  # default: Google's '<a href=...>title</a>&nbsp;&nbsp;<font>publisher</font>'

    @classmethod
    def from_dict(cls, d: dict) -> "GoogleResult":
        return cls(
            title=d["title"],
            url=d["url"],
            published=parse_datetime(d.get("published")),
            publisher=d["publisher"],
            publisher_url=d["publisher_url"],
            description_html=d.get("description_html"),
        )


# --------------------------------------------------------------------------- the replica


class NewsReplica(RequestLog):
    """Feeds, articles, Google News results, fault switches and a request log.

    Fault switches are keyed by URL path (no query), e.g. ``"/wwlp/feed/"``; ``"/rss/search"``
    covers the Google News search. They apply to any path the server answers:

    * ``status[path] = 403|429|500...`` answer that status (``retry_after[path]`` adds ``Retry-After``);
    * ``redirect_loop[path] = "self" | "pair"``: 302 to the same URL, or to ``path?loop=1`` which 302s back;
    * ``html_instead``: a 200 "Just a moment..." anti-bot HTML page instead of the content;
    * ``delay_s[path] = seconds``: wait before answering;
    * ``gzip``: ``Content-Encoding: gzip`` when the request's ``Accept-Encoding`` allows it.

    Feed body variants (feeds and the Google search, sets of paths):

    * ``malformed``: the XML cut off half way (mid-tag);
    * ``wrong_charset``: Windows-1252 ("Latin-1") bytes under a UTF-8 declaration and header, with é/’ in the text;
    * ``no_charset``: no charset in Content-Type and no encoding in the XML declaration (bytes stay UTF-8);
    * ``huge``: padded with filler items to more than 2 MB (the real items come first);
    * ``future_dates``: every item dated in 2099; ``no_dates``: items carry no date elements.
    """

    HUGE_BYTES = 2 * 1024 * 1024

    def __init__(
        self,
        feeds: Iterable[NewsFeed] = (),
        articles: Iterable[NewsArticle] = (),
        google_results: dict[str, list[GoogleResult]] | None = None,
    ):
        self.lock = threading.RLock()
        self.feeds: dict[str, NewsFeed] = {}
        self.articles: dict[str, NewsArticle] = {}
        self.google_results: dict[str, list[GoogleResult]] = dict(google_results or {})
        self.requests: list[tuple[str, str, dict]] = []  # (method, path with query, headers), oldest first
        self.log_limit: int | None = None  # keep only about the last N entries (a long-running server)
        self._request_total = 0
        self.errors: list[str] = []  # unexpected server-side exceptions (should stay empty)
        self.etags: bool = True  # ETag/Last-Modified + 304 answers on feeds and articles
        self.wire = WireFaults()  # faults on the wire, by path prefix (tracker.replica.wire)
        # fault switches, keyed by URL path
        self.status: dict[str, int] = {}
        self.retry_after: dict[str, int | str] = {}
        self.redirect_loop: dict[str, str] = {}  # "self" | "pair"
        self.html_instead: set[str] = set()
        self.delay_s: dict[str, float] = {}
        self.gzip: set[str] = set()
        # feed body variants
        self.malformed: set[str] = set()
        self.wrong_charset: set[str] = set()
        self.no_charset: set[str] = set()
        self.huge: set[str] = set()
        self.future_dates: set[str] = set()
        self.no_dates: set[str] = set()
        self._generation = 0  # bumped on any item/link change; the link index follows it
        self._links: dict[str, tuple[str, str]] = {}
        self._links_generation = -1
        self._touch_serial = 0
        for f in feeds:
            self.add_feed(f)
        for a in articles:
            self.add_article(a)

    # ------------------------------------------------------------------ lookup

    def feed(self, path: str) -> NewsFeed:
        f = self.feeds.get(path)
        if f is None:
            raise KeyError(f"no feed {path!r} in the news replica")
        return f

    def __len__(self) -> int:
        return len(self.feeds)

    def item_count(self) -> int:
        with self.lock:
            return sum(len(f.items) for f in self.feeds.values())

    def google_lookup(self, query: str) -> list[GoogleResult]:
        """Results for ``query``: an exact key, else one equal after :func:`normalize_query`; else []."""
        hit = self.google_results.get(query)
        if hit is not None:
            return hit
        norm = normalize_query(query)
        for key, results in self.google_results.items():
            if normalize_query(key) == norm:
                return results
        return []

    def item_for_link(self, path: str) -> tuple[NewsFeed, NewsItem] | None:
        """The (feed, item) whose base-relative link has this path, if any."""
        with self.lock:
            if self._links_generation != self._generation:
                links: dict[str, tuple[str, str]] = {}
                for f in self.feeds.values():
                    for it in f.items:
                        p = link_path(it.link)
                        if p is not None and p not in links:
                            links[p] = (f.path, it.guid)
                self._links = links
                self._links_generation = self._generation
            hit = self._links.get(path)
            if hit is None:
                return None
            f = self.feeds.get(hit[0])
            if f is None:
                return None
            try:
                return f, f.item(hit[1])
            except KeyError:
                return None

    # ------------------------------------------------------------------ mutators

    def add_feed(self, feed: NewsFeed) -> NewsFeed:
        with self.lock:
            self.feeds[feed.path] = feed
            self._generation += 1
        return feed

    def remove_feed(self, path: str) -> NewsFeed:
        with self.lock:
            f = self.feeds.pop(path)
            self._generation += 1
            return f

    def touch(self, path: str) -> None:
        """Mark a feed (or an article) changed after editing it in place."""
        with self.lock:
            if path in self.feeds:
                self.feeds[path].touch()
                self._generation += 1
            elif path in self.articles:
                self.articles[path].touch()
            else:
                raise KeyError(f"no feed or article {path!r} in the news replica")

    def add_item(self, path: str, item: NewsItem, position: int = 0) -> NewsItem:
        """Insert ``item`` into feed ``path`` (at the top by default: the newest item)."""
        with self.lock:
            f = self.feed(path)
            if any(i.guid == item.guid for i in f.items):
                raise ValueError(f"feed {path} already has an item {item.guid!r}")
            f.items.insert(position, item)
            f.touch()
            self._generation += 1
        return item

    def update_item(self, path: str, guid: str, **changes) -> NewsItem:
        """Change fields of an item (title, link, published, summary_html, ...)."""
        bad = set(changes) - _ITEM_FIELDS
        if bad:
            raise AttributeError(f"NewsItem has no field(s) {sorted(bad)}")
        with self.lock:
            f = self.feed(path)
            item = f.item(guid)
            for k, v in changes.items():
                if k in ("published", "updated"):
                    v = parse_datetime(v)
                setattr(item, k, v)
            f.touch()
            self._generation += 1
            return item

    def remove_item(self, path: str, guid: str) -> NewsItem:
        with self.lock:
            f = self.feed(path)
            item = f.items.pop(f.index_of(guid))
            f.touch()
            self._generation += 1
            return item

    def add_article(
        self,
        article: NewsArticle | str,
        title: str | None = None,
        published: datetime | str | None = None,
        paragraphs: Iterable[str] = (),
        *,
        canonical: str | None = None,
        author: str | None = None,
        site_name: str | None = None,
    ) -> NewsArticle:
        """Add (or replace) an article page: a :class:`NewsArticle`, or its path plus fields."""
        if not isinstance(article, NewsArticle):
            if title is None:
                raise TypeError("add_article(path, title, ...) needs a title")
            article = NewsArticle(
                path=article,
                title=title,
                published=parse_datetime(published),
                paragraphs=list(paragraphs),
                canonical=canonical,
                author=author,
                site_name=site_name,
            )
        if not article.path.startswith("/"):
            raise ValueError(f"article path must start with '/': {article.path!r}")
        with self.lock:
            old = self.articles.get(article.path)
            if old is not None:
                article.version = old.version + 1
                article.modified = max(_now_s(), old.modified + 1.0)
            self.articles[article.path] = article
        return article

    def update_article(self, path: str, **changes) -> NewsArticle:
        bad = set(changes) - _ARTICLE_FIELDS
        if bad:
            raise AttributeError(f"NewsArticle has no field(s) {sorted(bad)}")
        with self.lock:
            a = self.articles[path]
            for k, v in changes.items():
                setattr(a, k, parse_datetime(v) if k == "published" else v)
            a.touch()
            return a

    def remove_article(self, path: str) -> NewsArticle:
        with self.lock:
            return self.articles.pop(path)

    def set_google_results(self, query: str, results: Iterable[GoogleResult]) -> None:
        with self.lock:
            self.google_results[query] = list(results)

    def touch_fraction(self, fraction: float, seed: int = 0) -> list[str]:
        """Add one new item at the top of ``round(fraction * feeds)`` feeds picked with ``seed``.

        Returns the touched feed paths (in the order picked). Each call makes new guids.
        """
        with self.lock:
            paths = list(self.feeds)
            k = max(0, min(len(paths), round(fraction * len(paths))))
            chosen = random.Random(seed).sample(paths, k)
            now = datetime.fromtimestamp(_now_s(), UTC)
            for p in chosen:
                self._touch_serial += 1
                n = self._touch_serial
                f = self.feeds[p]
                site = link_path(f.site_url) or "/"
                self.add_item(
                    p,
                    NewsItem(
                        guid=f"{site}?p=touch-{n}",
                        title=f"Replica update {n}: new item in {f.title}",
                        link=f"{site.rstrip('/')}/news/replica-update-{n}/",
                        published=now,
                        author="Replica Desk",
                        categories=["Updates"],
                        summary_html=f"<p>Replica test item {n}, added by touch_fraction.</p>",
                        content_html=f"<p>Replica test item {n}, added by touch_fraction.</p>",
                    ),
                )
            return chosen

    # ------------------------------------------------------------------ constructors

    @staticmethod
    def bundled_data() -> dict:
        text = resources.files("tracker.replica").joinpath("data/news.json").read_text(encoding="utf-8")
        return json.loads(text)

    @classmethod
    def bundled(cls) -> "NewsReplica":
        """The feeds, articles and Google News results of ``data/news.json``.

        An item without ``content_html`` gets its article page's paragraphs; one without
        ``summary_html`` gets its first paragraph plus a WordPress-style `` [&#8230;]``.
        """
        data = cls.bundled_data()
        articles = [NewsArticle.from_dict(a) for a in data.get("articles", [])]
        by_path = {a.path: a for a in articles}
        feeds = []
        for fd in data.get("feeds", []):
            feed = NewsFeed.from_dict(fd)
            for item in feed.items:
                art = by_path.get(link_path(item.link) or "")
                if art is None:
                    continue
                paras = [f"<p>{html.escape(p, quote=False)}</p>" for p in art.paragraphs]
                if item.content_html is None:
                    item.content_html = "\n".join(paras)
                if item.summary_html is None and art.paragraphs:
                    item.summary_html = f"<p>{html.escape(art.paragraphs[0], quote=False)} [&#8230;]</p>"
            feeds.append(feed)
        google = {
            g["query"]: [GoogleResult.from_dict(r) for r in g.get("results", [])] for g in data.get("google", [])
        }
        return cls(feeds, articles, google)

    @classmethod
    def synthetic(cls, n_feeds: int, items_per_feed: int, seed: int = 0) -> "NewsReplica":
        """``n_feeds`` deterministic feeds of ``items_per_feed`` items each, formats rss/atom/rdf in turn.

        Feed ``i`` lives at ``/synth/NNNN/feed/`` (rss), ``/synth/NNNN/feed/atom/`` (atom) or
        ``/synth/NNNN/rdf/`` (rdf). Items are fictional; about one in five names a bill
        (``H.1234``/``S.56``). The same arguments always give the same feeds and items.
        """
        rng = random.Random(seed)
        epoch = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
        feeds = []
        for i in range(n_feeds):
            fmt = FORMATS[i % 3]
            site = f"/synth/{i:04d}/"
            path = {"rss": f"{site}feed/", "atom": f"{site}feed/atom/", "rdf": f"{site}rdf/"}[fmt]
            town = rng.choice(_TOWNS)
            start = epoch - timedelta(minutes=rng.randrange(0, 60 * 24 * 30))
            items = []
            when = start
            for j in range(items_per_feed):
                when = when - timedelta(minutes=rng.randrange(20, 600))
                topic = rng.choice(_TOPICS)
                verb = rng.choice(_VERBS)
                bill = ""
                if rng.random() < 0.2:
                    bill = f" ({rng.choice('HS')}.{rng.randrange(1, 5000)})"
                title = f"{town} {topic} {verb}{bill}"
                slug = "-".join(f"{town} {topic} {verb}".lower().split())
                serial = 100000 + i * 1000 + j
                summary = (
                    f"<p>Synthetic replica story {i}-{j} about the {topic} in {town}{bill}. "
                    f"Written by the replica for tests.</p>"
                )
                items.append(
                    NewsItem(
                        guid=f"{site}?p={serial}",
                        title=title,
                        link=f"{site}news/{slug}-{serial}/",
                        published=when,
                        author=rng.choice(_AUTHORS),
                        categories=[rng.choice(_SECTIONS)],
                        summary_html=summary,
                        content_html=summary + f"<p>A second paragraph for story {i}-{j}; it says nothing real.</p>",
                    )
                )
            feeds.append(
                NewsFeed(
                    path=path,
                    format=fmt,
                    title=f"{town} Replica News {i:04d}",
                    site_url=site,
                    items=items,
                    ttl_minutes=60 if fmt == "rss" else None,
                    cache_max_age=300 if i % 2 else None,
                    description=f"Synthetic replica feed {i} for benchmarks",
                    flavor="arc" if i % 6 == 3 else "wordpress",
                )
            )
        return cls(feeds)


_TOWNS = [
    "Springfield", "Worcester", "Lowell", "Brockton", "Quincy", "Lynn", "New Bedford", "Fall River",
    "Newton", "Somerville", "Lawrence", "Framingham", "Haverhill", "Waltham", "Malden", "Pittsfield",
    "Holyoke", "Chicopee", "Northampton", "Amherst", "Westfield", "Salem", "Taunton", "Revere",
]
_TOPICS = [
    "school committee", "select board", "road project", "library", "budget hearing", "zoning board",
    "water main", "farmers market", "transit stop", "housing plan", "police station", "park renovation",
]
_VERBS = [
    "meets this week", "delays vote", "approves plan", "seeks comment", "opens to the public",
    "faces questions", "sets new hours", "gets state grant", "closes for repairs", "reviews proposal",
]
_AUTHORS = ["Replica Desk", "Staff Writer A", "Staff Writer B", "Wire Copy"]
_SECTIONS = ["Local News", "State Politics", "Education", "Business", "Community"]
