"""Typed records that parsers return and the store consumes: bills (``spiders.malegislature_parse``),
news feeds (``spiders.feed_parse``) and the docket's documents (``spiders.docket_parse``).

Parsers are pure: ``parse_*(body, url) -> records``. They never touch the
network or the database, so they are tested on fixtures alone.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit


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
    text: str | None = None  # the API's DocumentText as given (plain text or HTML, maybe empty); the parent normalises it

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
        # what asdict gives (every field is a str, None or a list of str), without its recursive deep
        # copy: asdict was a tenth of the feed child's time (15,000 items: 3.0 of 32 s under cProfile)
        return {"title": self.title, "url": self.url, "guid": self.guid, "summary_html": self.summary_html,
                "summary_text": self.summary_text, "content_html": self.content_html,
                "content_text": self.content_text, "published_at": self.published_at, "author": self.author,
                "publisher": self.publisher, "publisher_url": self.publisher_url,
                "categories": list(self.categories)}


@dataclass
class ParsedFeed:
    format: str                       # "rss" | "atom" | "rdf"
    title: str | None
    link: str | None
    ttl_minutes: int | None = None    # RSS <ttl>
    items: list[FeedItem] = field(default_factory=list)


# ----------------------------------------------------------------- the docket (every document of a session)


def _hashed_url(url: str | None) -> str | None:
    """What of a ``Details`` URL goes into a row's hash: its path and query, not its scheme and host.

    The API names its own host in its links (``http://malegislature.gov/api/...``), a mirror or a
    replica names another: a move to https or to another host says nothing new about the document,
    and must not make every row of a session look changed (each change costs a detail fetch)."""
    if url is None:
        return None
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "") if parts.netloc else url


@dataclass(frozen=True)
class DocumentRow:
    """One row of the document list ``GET /api/GeneralCourts/{gc}/Documents`` (``spiders.docket_parse``).

    ``number`` is the bill number in canonical form ("H1946"; None for a docket-only row),
    ``docket`` the docket number ("HD2304"). At least one of them is set. ``title`` is plain text
    (entities decoded, whitespace folded). ``sponsor_code`` is the lead sponsor's ``Id`` as the API
    gives it: a member code when ``sponsor_type`` is 1, a committee code when it is 2 (3 = public
    request, 4 = special request). ``row_hash`` is the sha256 (hex) of the other fields as JSON with
    sorted keys (``details_url`` by its path only): an unchanged row hashes the same on every fetch,
    and any change of what the row says about the document changes it.
    """

    session: int
    number: str | None
    docket: str | None
    title: str | None
    sponsor: str | None
    sponsor_code: str | None
    sponsor_type: int | None
    details_url: str | None
    docket_book_only: bool
    row_hash: str

    @classmethod
    def of(cls, **fields) -> "DocumentRow":
        """A row from its fields; the hash is computed here, never passed in."""
        hashed = dict(fields, details_url=_hashed_url(fields.get("details_url")))
        canonical = json.dumps(hashed, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return cls(**fields, row_hash=hashlib.sha256(canonical.encode("utf-8")).hexdigest())

    @property
    def id(self) -> str:
        """What the document is fetched by: the bill number, or the docket number until it has one."""
        return self.number or self.docket  # type: ignore[return-value]  # one of them is always set

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DocumentDetail:
    """The document detail ``GET /api/GeneralCourts/{gc}/Documents/{id}`` (``spiders.docket_parse``).

    Sponsors in ``joint_sponsors`` and ``cosponsors`` are ``{"name", "member_code"}`` (the code only
    for a legislative member; ``cosponsors`` are the petitioners, lead sponsor included, as the API
    lists them). ``pinslip`` is plain text on one line; ``text`` (``DocumentText``) is plain text that
    keeps its lines (tags stripped, entities decoded, spaces folded within each line, at most one
    blank line in a row), so that its sections can be told apart.
    """

    session: int
    number: str | None
    docket: str | None
    title: str | None
    sponsor: str | None
    sponsor_code: str | None
    sponsor_type: int | None = None
    joint_sponsors: list[dict] = field(default_factory=list)
    cosponsors: list[dict] = field(default_factory=list)
    pinslip: str | None = None
    text: str | None = None
    legislation_type: str | None = None  # "Bill", "Resolve", "Order", ...

    @property
    def id(self) -> str:
        return self.number or self.docket  # type: ignore[return-value]  # one of them is always set

    def to_dict(self) -> dict:
        return asdict(self)
