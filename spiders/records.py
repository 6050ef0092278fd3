"""Typed records that parsers return and the store consumes: bills (``spiders.malegislature_parse``)
and news feeds (``spiders.feed_parse``).

Parsers are pure: ``parse_*(body, url) -> records``. They never touch the
network or the database, so they are tested on fixtures alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


class ParseError(ValueError):
    """A body could not be read as the page or document it should be.

    ``layout_changed`` is set when the page parsed as HTML/JSON but the part we
    need (the history table, the title bar) is missing: that must never be
    taken as "the bill has no actions any more".
    """

    def __init__(self, message: str, url: str = "", layout_changed: bool = False):
        super().__init__(message)
        self.url = url
        self.layout_changed = layout_changed


class BillNotFound(ParseError):
    """The site answered with its "Oh My Cod!" error page (HTTP 500) or an API 'not found'."""


@dataclass(frozen=True)
class HistoryAction:
    """One row of a bill's history, as the legislature lists it.

    ``date`` is the local (America/New_York) calendar date ``YYYY-MM-DD`` or
    None when the row has no date. ``timestamp`` is the full local time
    ``YYYY-MM-DDTHH:MM:SS`` when the source gives one (the API does, the HTML
    table does not); it is informative only and never used to tell rows apart.
    ``action`` is plain text: tags stripped, entities decoded, whitespace folded.
    """

    date: str | None
    branch: str
    action: str
    timestamp: str | None = None

    def identity(self) -> tuple[str | None, str, str]:
        return (self.date, self.branch, self.action)


@dataclass(frozen=True)
class Sponsor:
    name: str
    member_code: str | None = None  # e.g. "DMR1"; None for a non-legislator presenter


@dataclass
class BillDetail:
    """What the document detail (API) or the bill page header (HTML) says."""

    number: str  # "H135"
    session: int  # 192
    title: str | None
    sponsor: Sponsor | None
    petitioners: list[Sponsor] = field(default_factory=list)  # includes the primary sponsor
    pinslip: str | None = None
    docket: str | None = None  # "HD3228"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class BillPage:
    """A parsed HTML bill page: its header and the first page of its history."""

    detail: BillDetail
    history: list[HistoryAction]
    history_pages: int = 1  # how many BillHistory pages there are (1 when no pagination)


@dataclass(frozen=True)
class Hearing:
    """A hearing parsed from a history action such as
    "Hearing scheduled for 11/23/2021 from 10:00 AM-02:00 PM in Virtual Hearing".

    Times are local ISO ``YYYY-MM-DDTHH:MM:SS`` (no offset; the store adds it).
    """

    starts_at: str | None  # None for "Hearing canceled – new hearing TBD"
    ends_at: str | None
    location: str | None
    status: str  # "scheduled" | "rescheduled" | "canceled"


# ----------------------------------------------------------------- news feeds


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
