"""Rendered public pages, kept in this process's memory so that an unchanged page is not built again.

Only pages that are the same for every visitor go through here (the routes that answer with a public
``Cache-Control`` and an ETag: a bill page, the home page, the event log); a page that carries anything of its
visitor (a CSRF token, a signed link, a cookie) never does, and an answer that sets a cookie or is not public is
never stored whatever route gave it.

A stored page is found again by:

- the database's last event id (``max(events.id)``, one indexed look-up per request): events are never updated or
  deleted, and whatever changes a bill's page records an event, so a new event makes every stored page old;
- the local date in America/New_York (what a page says of "today" changes at midnight there);
- the request's full path and query string.

And a stored page is dropped once it is ``MAX_AGE`` seconds old (what the public ``Cache-Control`` lets any proxy
keep it anyway), or at the moment its own content changes by the clock: a bill page says until when it holds
(``valid_until``: the start of its next hearing, when the hearing becomes ``held``). The store is bounded: at most
``MAX_PAGES`` pages and ``MAX_BYTES`` bytes, the least recently used dropped first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import func, select

from db.models import Event
from tracker.readable import EASTERN
from tracker.web.common import none_match

MAX_PAGES = 2000
MAX_BYTES = 64 * 1024 * 1024
MAX_AGE = timedelta(seconds=60)
_KEPT_HEADERS = ("etag", "cache-control", "content-type")


@dataclass
class Page:
    status: int
    body: bytes
    headers: dict[str, str]
    expires: datetime


class PageCache:
    """An LRU of rendered pages (thread-safe: the page routes run in worker threads)."""

    def __init__(self, clock: Callable[[], datetime], max_pages: int = MAX_PAGES, max_bytes: int = MAX_BYTES):
        self.clock = clock
        self.max_pages, self.max_bytes = max_pages, max_bytes
        self._pages: OrderedDict[tuple, Page] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._building: dict[tuple, threading.Lock] = {}
        self.hits = self.misses = self.builds = 0

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, key: tuple, now: datetime) -> Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None and page.expires <= now:
                self._drop(key)
                page = None
            if page is None:
                self.misses += 1
                return None
            self._pages.move_to_end(key)
            self.hits += 1
            return page

    def builder(self, key: tuple) -> threading.Lock:
        """The lock that whoever builds ``key``'s page holds: the requests of a page that is not stored yet wait
        for the one building it (a hundred visitors of a new page cost one build, not a hundred)."""
        with self._lock:
            return self._building.setdefault(key, threading.Lock())

    def built(self, key: tuple) -> None:
        with self._lock:
            self._building.pop(key, None)

    def put(self, key: tuple, page: Page) -> None:
        if len(page.body) > self.max_bytes // 8:
            return  # one page never takes the store
        with self._lock:
            if key in self._pages:
                self._drop(key)
            self._pages[key] = page
            self._bytes += len(page.body)
            while len(self._pages) > self.max_pages or self._bytes > self.max_bytes:
                self._drop(next(iter(self._pages)))

    def _drop(self, key: tuple) -> None:
        self._bytes -= len(self._pages.pop(key).body)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0


_LAST_EVENT = select(func.max(Event.id))


def last_event_id(sessions) -> int:
    """One indexed look-up on a pooled connection (no ORM session: it is most of a stored page's cost)."""
    with sessions.kw["bind"].connect() as conn:
        return conn.execute(_LAST_EVENT).scalar() or 0


def page_key(request: Request, now: datetime) -> tuple:
    """The database's last event id, the local date and the full path and query."""
    scope = request.scope
    path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    query = scope.get("query_string", b"").decode("latin-1")
    return (last_event_id(request.app.state.sessions), now.astimezone(EASTERN).date().isoformat(), path, query)


def cached(request: Request, build: Callable[[], Response], valid_until: Callable[[], datetime | None] | None = None
           ) -> Response:
    """The stored page of this request if it is still good, else ``build()``'s answer, stored when it is a public
    200 that sets no cookie. ``valid_until`` (called after ``build``) may say when the built page stops being true
    by the clock alone. ``If-None-Match`` is answered from the stored ETag (a 304) without rebuilding."""
    cache: PageCache | None = getattr(request.app.state, "page_cache", None)
    if cache is None or request.method not in ("GET", "HEAD"):
        return build()
    now = cache.clock()
    key = page_key(request, now)
    page = cache.get(key, now)
    if page is None:
        with cache.builder(key):
            page = cache.get(key, now)  # built by another request while this one waited
            if page is None:
                try:
                    return _build(cache, key, now, build, valid_until)
                finally:
                    cache.built(key)
    if none_match(request.headers.get("if-none-match"), page.headers["etag"]):
        return Response(status_code=304, headers={k: v for k, v in page.headers.items() if k != "content-type"})
    return Response(page.body, status_code=page.status, headers=page.headers)


def _build(cache: PageCache, key: tuple, now: datetime, build, valid_until) -> Response:
    response = build()
    cache.builds += 1
    if storable(response):
        expires = now + MAX_AGE
        until = valid_until() if valid_until is not None else None
        if until is not None:
            expires = min(expires, until)
        headers = {k: v for k, v in response.headers.items() if k in _KEPT_HEADERS}
        cache.put(key, Page(response.status_code, bytes(response.body), headers, expires))
    return response


def storable(response: Response) -> bool:
    headers = response.headers
    return (response.status_code == 200 and "public" in headers.get("cache-control", "") and "etag" in headers
            and "set-cookie" not in headers and "vary" not in headers and isinstance(getattr(response, "body", None),
                                                                                   (bytes, bytearray)))
