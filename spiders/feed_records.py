"""Records for news feeds: what ``spiders.feed_parse.parse_feed`` returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


class FeedError(ValueError):
    """A body that is not a readable feed (HTML page, broken XML, no items and no channel...).

    The message is one line that says what was wrong, e.g.
    "not a feed: got an HTML page (title 'Just a moment...')".
    """


@dataclass
class FeedItem:
    title: str                        # plain text; for Google News the " - Publisher" suffix is stripped
    url: str | None                   # the entry's link as given (Google News: the news.google.com redirect)
    guid: str | None = None
    summary_html: str | None = None   # sanitised HTML (no scripts, styles, handlers, tracking pixels)
    summary_text: str = ""            # plain text of the summary
    content_html: str | None = None   # sanitised content:encoded / atom:content, when present
    content_text: str | None = None
    published_at: str | None = None   # ISO 8601 in UTC with offset ("2020-12-11T22:15:00+00:00"); None when absent/unparseable
    author: str | None = None
    publisher: str | None = None      # Google News <source> text ("WWLP"), else None
    publisher_url: str | None = None  # Google News <source url="...">
    categories: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ParsedFeed:
    format: str                       # "rss" | "atom" | "rdf"
    title: str | None
    link: str | None
    ttl_minutes: int | None = None    # RSS <ttl>
    items: list[FeedItem] = field(default_factory=list)
