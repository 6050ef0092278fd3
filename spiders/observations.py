"""What the crawl child is asked to fetch (targets: a bill, a feed, an article page, with what the
parent already knows of it) and what the bill spider reports (observations).

Observations cross a process boundary as JSON lines, so they are plain dicts;
a bill's are built here in one place and ``tracker.crawl`` reads them back (the
feed and article spiders build their few keys in their callbacks, and
``tracker.news.poll`` reads them). The parent imports this module, so it imports
nothing of Scrapy (what reads a Scrapy response, such as ``snapshot_of``, lives
in ``spiders.fetching``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Iterable

from spiders.records import BillDetail, HistoryAction


@dataclass
class BillTarget:
    """A bill to crawl (not a scheduler job: those are ``tracker.jobs``)."""

    canonical: str
    session: int
    number: str
    history_hash: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    need_detail: bool = True
    discovered_from: dict | None = None
    # the HTML text page (asked for only when DocumentText is empty): due by ``text_every``, or at once when the
    # history has more text-changing actions than ``text_actions`` (their number when it was last asked for)
    text_due: bool = True
    text_actions: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FeedTarget:
    """A feed to poll, with the validators and body hash of its last fetch."""

    feed_id: int
    name: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ArticleTarget:
    """An article page to fetch for its full text."""

    article_id: int
    url: str

    def to_dict(self) -> dict:
        return asdict(self)


def history_hash(history: Iterable[HistoryAction]) -> str:
    """Hash of the parsed history (date, branch, action): stable across modes and per-request tokens."""
    h = hashlib.sha256()
    for a in history:
        h.update(json.dumps(a.identity(), ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


@dataclass
class Observation:
    target: BillTarget
    url: str
    mode: str
    fallback: str | None = None
    history: list[HistoryAction] | None = None
    history_hash: str | None = None
    detail: BillDetail | None = None
    snapshots: list[dict] = field(default_factory=list)
    etag: str | None = None
    last_modified: str | None = None
    # HTML path scratch state
    html_rows: list[HistoryAction] = field(default_factory=list)
    html_pages: int = 1
    pending_detail: BillDetail | None = None
    # the text page when it was asked for: {"url", "text" (plain text) or None, "error", "actions"}
    text_page: dict | None = None

    @classmethod
    def start(cls, target: BillTarget, url: str, mode: str) -> "Observation":
        return cls(target=target, url=url, mode=mode)

    def reset_for_fallback(self, reason: str) -> None:
        self.fallback = reason
        self.mode = "html"
        self.history = None
        self.history_hash = None
        self.detail = None
        self.snapshots = []
        self.etag = self.last_modified = None
        self.html_rows, self.html_pages, self.pending_detail = [], 1, None
        self.text_page = None

    def add_snapshot(self, snap: dict | None) -> None:
        if snap:
            self.snapshots.append(snap)

    def set_history(self, history: list[HistoryAction], snap: dict | None) -> None:
        self.history = history
        self.history_hash = history_hash(history)
        self.add_snapshot(snap)

    def set_detail(self, detail: BillDetail, snap: dict | None) -> None:
        self.detail = detail
        self.add_snapshot(snap)

    def _base(self, status: str) -> dict:
        return {
            "type": "bill",
            "status": status,
            "bill": self.target.canonical,
            "session": self.target.session,
            "number": self.target.number,
            "url": self.url,
            "mode": self.mode,
            "fallback": self.fallback,
            "discovered_from": self.target.discovered_from,
            "etag": self.etag,
            "last_modified": self.last_modified,
        }

    def unchanged(self) -> dict:
        return self._base("unchanged") | {"history_hash": self.history_hash or self.target.history_hash}

    def detail_only(self) -> dict:
        return self._base("detail") | {
            "history_hash": self.target.history_hash,
            "detail": self.detail.to_dict() if self.detail else None,
            "snapshots": self.snapshots,
            "text_page": self.text_page,
        }

    def done(self) -> dict:
        return self._base("ok") | {
            "history_hash": self.history_hash,
            "history": [[a.date, a.branch, a.action, a.timestamp] for a in self.history or []],
            "detail": self.detail.to_dict() if self.detail else None,
            "snapshots": self.snapshots,
            "text_page": self.text_page,
        }

    def failed(self, url: str, error: str) -> dict:
        return self._base("error") | {"error": {"source": "malegislature", "url": url, "error": error}}


def decode_history(rows: list[list]) -> list[HistoryAction]:
    return [HistoryAction(date=r[0], branch=r[1], action=r[2], timestamp=r[3]) for r in rows]


def decode_snapshot_body(snap: dict) -> bytes:
    return base64.b64decode(snap["body_b64"])
