"""A real HTTP server on 127.0.0.1 that serves a :class:`NewsReplica`.

Routes:

* every feed at its path (``/wwlp/feed/``; the query string is ignored, so
  ``/masslive/arc/outboundfeeds/rss/?outputType=xml`` works), with ``ETag`` and
  ``Last-Modified`` and 304 answers to ``If-None-Match`` / ``If-Modified-Since``,
  ``Cache-Control: max-age=N`` when the feed has ``cache_max_age``, and the format's
  Content-Type (``application/rss+xml``, ``application/atom+xml``, ``application/rdf+xml``,
  ``; charset=UTF-8``);
* article pages at their paths (HTML with ``<link rel="canonical">``); an item link without an
  article page gets a page generated from the item;
* ``/rss/search?q=...&hl=en-US&gl=US&ceid=US:en``: Google News search RSS for the configured
  results (an unknown query gives an empty channel; no ``q`` gives 400);
* ``/rss/articles/<id>``: 302 to the publisher URL carried in the id (404 if it holds none).

A path without its trailing slash is answered 301 to the slashed path, as WordPress does.
Unknown paths give 404. Fault switches: see :class:`NewsReplica`. HTTP/1.1 keep-alive,
``Content-Length`` always set, no request logging to stderr. Rendered bodies are cached per feed
(and article) version, so steady-state serving only looks up bytes.

    python -m tracker.replica.news_server [--port N] [--synthetic FEEDS ITEMS]
"""

from __future__ import annotations

import email.utils
import gzip as gzip_mod
import hashlib
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tracker.replica import news_pages as pages
from tracker.replica import wire
from tracker.replica.loopback import LoopbackServer
from tracker.replica.news_model import (
    GoogleResult,
    NewsArticle,
    NewsFeed,
    NewsItem,
    NewsReplica,
    decode_article_id,
)

__all__ = ["NewsServer", "NewsReplica", "NewsFeed", "NewsItem", "NewsArticle", "GoogleResult", "CONTENT_TYPES"]

CONTENT_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "rdf": "application/rdf+xml",
}
HTML = "text/html; charset=UTF-8"
GOOGLE_CTYPE = "application/xml; charset=utf-8"
_REASONS = {
    200: "OK", 301: "Moved Permanently", 302: "Found", 304: "Not Modified", 400: "Bad Request",
    401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 410: "Gone", 429: "Too Many Requests",
    500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}
_GN_ARTICLE = re.compile(r"^/rss/articles/([A-Za-z0-9_\-=]+)/?$")
_GZ = "-gzip"


class _Body:
    """A cached rendering: bytes, Content-Type, strong ETag, and (lazily) its gzip form."""

    __slots__ = ("ctype", "data", "etag", "_gz")

    def __init__(self, ctype: str, data: bytes, etag: bool = True, version: int = 0):
        self.ctype = ctype
        self.data = data
        # the version is part of the tag: every change moves it, even one that restores old bytes
        self.etag = f'"{version}-{hashlib.sha1(data).hexdigest()[:20]}"' if etag else None
        self._gz: bytes | None = None

    def gzipped(self) -> bytes:
        if self._gz is None:
            self._gz = gzip_mod.compress(self.data, compresslevel=6, mtime=0)
        return self._gz


class _Answer:
    __slots__ = ("status", "body", "modified", "headers", "max_age", "gzip_ok")

    def __init__(self, status: int, body: _Body | None = None, modified: float | None = None,
                 headers: dict | None = None, max_age: int | None = None, gzip_ok: bool = False):
        self.status = status
        self.body = body
        self.modified = modified
        self.headers = headers or {}
        self.max_age = max_age
        self.gzip_ok = gzip_ok


_WALL = _Body(HTML, pages.bot_wall_html().encode("utf-8"), etag=False)
_ERRORS: dict[int, _Body] = {}


def _error(status: int) -> _Body:
    body = _ERRORS.get(status)
    if body is None:
        body = _Body(HTML, pages.error_html(status, _REASONS.get(status, "Error")).encode("utf-8"), etag=False)
        _ERRORS[status] = body
    return body


def _strip_tag(tag: str) -> str:
    tag = tag.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    if tag.endswith(_GZ + '"'):
        tag = tag[: -len(_GZ) - 1] + '"'
    return tag


class _Site:
    """Maps a request to an :class:`_Answer`, using per-feed caches of rendered bodies."""

    def __init__(self, replica: NewsReplica, base_url: str):
        self.replica = replica
        self.base = base_url
        self._google_cache: dict = {}

    def handle(self, path: str, query: str, full: str) -> _Answer:
        r = self.replica
        if path in r.status:
            status = int(r.status[path])
            extra = {}
            if path in r.retry_after:
                extra["Retry-After"] = str(r.retry_after[path])
            return _Answer(status, _error(status), headers=extra)
        if path in r.redirect_loop:
            mode = r.redirect_loop[path]
            if mode == "pair":
                looped = "loop=1" in query.split("&")
                target = path if looped else f"{path}?loop=1"
            else:
                target = full
            return _Answer(302, _error(302), headers={"Location": self.base + target})
        if path in r.html_instead:
            return _Answer(200, _WALL, gzip_ok=path in r.gzip)
        gz = path in r.gzip

        feed = r.feeds.get(path)
        if feed is not None:
            return self._feed(feed, path, gz)
        article = r.articles.get(path)
        if article is not None:
            body = article.cache.get(self.base)
            if body is None:
                body = _Body(HTML, pages.article_html(article, self.base).encode("utf-8"), version=article.version)
                article.cache[self.base] = body
            return _Answer(200, body, article.modified, gzip_ok=gz)
        if path == "/rss/search":
            return self._google(path, query, gz)
        m = _GN_ARTICLE.match(path)
        if m:
            try:
                url = decode_article_id(m.group(1))
            except ValueError:
                return _Answer(404, _error(404))
            return _Answer(302, _error(302), headers={"Location": url})
        hit = r.item_for_link(path)
        if hit is not None:
            f, item = hit
            key = ("item-page", item.guid, self.base)
            body = f.cache.get(key)
            if body is None:
                body = _Body(
                    HTML, pages.article_html(pages.item_article(f, item), self.base).encode("utf-8"), version=f.version
                )
                f.cache[key] = body
            return _Answer(200, body, f.modified, gzip_ok=gz)
        if not path.endswith("/") and (path + "/" in r.feeds or path + "/" in r.articles):
            target = path + "/" + (f"?{query}" if query else "")
            return _Answer(301, _error(301), headers={"Location": self.base + target})
        return _Answer(404, _error(404))

    def _feed(self, feed: NewsFeed, path: str, gz: bool) -> _Answer:
        r = self.replica
        flags = (
            path in r.malformed,
            path in r.wrong_charset,
            path in r.no_charset,
            path in r.huge,
            path in r.future_dates,
            path in r.no_dates,
        )
        key = (flags, self.base)
        body = feed.cache.get(key)
        if body is None:
            malformed, wrong_charset, no_charset, huge, future_dates, no_dates = flags
            data = pages.feed_bytes(
                feed,
                self.base,
                malformed=malformed,
                wrong_charset=wrong_charset,
                no_charset=no_charset,
                huge=huge,
                future_dates=future_dates,
                no_dates=no_dates,
                huge_bytes=r.HUGE_BYTES,
            )
            ctype = CONTENT_TYPES[feed.format] + ("" if no_charset else "; charset=UTF-8")
            body = _Body(ctype, data, version=feed.version)
            feed.cache[key] = body
        return _Answer(200, body, feed.modified, max_age=feed.cache_max_age, gzip_ok=gz)

    def _google(self, path: str, query: str, gz: bool) -> _Answer:
        r = self.replica
        params = parse_qs(query, keep_blank_values=True)
        q = (params.get("q") or [""])[0]
        if not q.strip():
            return _Answer(400, _error(400))
        hl = (params.get("hl") or ["en-US"])[0]
        gl = (params.get("gl") or ["US"])[0]
        ceid = (params.get("ceid") or ["US:en"])[0]
        results = tuple(r.google_lookup(q))
        flags = (path in r.malformed, path in r.wrong_charset, path in r.no_charset)
        key = (q, hl, gl, ceid, results, flags)
        body = self._google_cache.get(key)
        if body is None:
            text = pages.google_search_text(q, list(results), self.base, hl=hl, gl=gl, ceid=ceid)
            ctype = GOOGLE_CTYPE
            if flags[2]:
                text = text.replace(' encoding="UTF-8"', "", 1)
                ctype = "application/xml"
            if flags[1]:
                text = text.replace("<description>Google News", "<description>Google News" + pages.CHARSET_PROBE, 1)
                data = text.encode("cp1252", errors="xmlcharrefreplace")
            else:
                data = text.encode("utf-8")
            if flags[0]:
                data = pages.truncate(data)
            body = _Body(ctype, data, etag=False)
            if len(self._google_cache) > 256:
                self._google_cache.clear()
            self._google_cache[key] = body
        return _Answer(200, body, None, gzip_ok=gz)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120  # an idle keep-alive connection is closed after this

    def log_message(self, format, *args):  # noqa: A002 - quiet: no per-request logging
        pass

    def do_GET(self):
        self._serve(head=False)

    def do_HEAD(self):
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        server = self.server
        replica = server.replica
        headers = self.headers
        replica.log_request(self.command, self.path, dict(headers.items()))
        split = urlsplit(self.path)
        path = split.path
        delay = replica.delay_s.get(path) if replica.delay_s else None
        if delay:
            time.sleep(delay)
        fault = replica.wire.take(path)
        if fault is not None:
            wire.pause(fault)
            if fault.kind in wire.REPLACING:
                wire.replace(self, fault, server.site.base + self.path, _error(500).data,
                             "application/rss+xml; charset=UTF-8")
                return
        try:
            with replica.lock:
                ans = server.site.handle(path, split.query, self.path)
                etags = replica.etags
        except Exception as exc:  # keep the server alive and quiet; tests can inspect replica.errors
            replica.errors.append(f"{self.command} {self.path}: {exc!r}")
            ans, etags = _Answer(500, _Body("text/plain; charset=utf-8", b"replica error", etag=False)), False

        body = ans.body
        status = ans.status
        out = [
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
            f"Date: {self.date_time_string()}",
            f"Server: {self.server_version}",
        ]
        if body is not None:
            out.append(f"Content-Type: {body.ctype}")
        for k, v in ans.headers.items():
            out.append(f"{k}: {v}")
        if status == 200 and ans.max_age is not None:
            out.append(f"Cache-Control: max-age={int(ans.max_age)}")
        use_gzip = False
        if status == 200 and ans.gzip_ok:
            out.append("Vary: Accept-Encoding")
            use_gzip = _accepts_gzip(headers.get("Accept-Encoding"))
        not_modified = False
        if status == 200 and etags and body is not None and body.etag is not None:
            etag = body.etag[:-1] + _GZ + '"' if use_gzip else body.etag
            out.append(f"ETag: {etag}")
            if ans.modified is not None:
                out.append(f"Last-Modified: {email.utils.formatdate(ans.modified, usegmt=True)}")
            not_modified = self._not_modified(body.etag, ans.modified)
        payload = b""
        if not_modified:
            out[0] = "HTTP/1.1 304 Not Modified"
            out.append("Content-Length: 0")
        else:
            if body is not None:
                payload = body.gzipped() if use_gzip else body.data
            if use_gzip:
                out.append("Content-Encoding: gzip")
            out.append(f"Content-Length: {len(payload)}")
        if self.close_connection:
            out.append("Connection: close")
        if fault is not None and fault.kind in wire.SPOILING and not head and not not_modified:
            wire.spoil(self, fault, out, payload)
            return
        data = ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")
        if not head and not not_modified:
            data += payload
        try:
            self.wfile.write(data)
        except OSError:
            self.close_connection = True

    def _not_modified(self, etag: str, modified: float | None) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip() for t in inm.split(",") if t.strip()]
            return "*" in tags or any(_strip_tag(t) == etag for t in tags)
        ims = self.headers.get("If-Modified-Since")
        if ims and modified is not None:
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                return False
            return int(modified) <= since
        return False


def _accepts_gzip(value: str | None) -> bool:
    if not value:
        return False
    for part in value.lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "x-gzip", "*"):
            q = params.strip()
            if q.startswith("q="):
                try:
                    return float(q[2:]) > 0
                except ValueError:
                    return True
            return True
    return False


class NewsServer(LoopbackServer):
    """Serve ``replica`` on 127.0.0.1 from a daemon thread.

    >>> with NewsServer(NewsReplica.bundled()) as srv:
    ...     srv.base_url  # "http://127.0.0.1:PORT"; feeds at srv.base_url + "/wwlp/feed/"
    """

    handler = _Handler
    thread_name = "news-replica"

    def __init__(self, replica: NewsReplica | None = None, host: str = "127.0.0.1", port: int = 0):
        super().__init__(replica if replica is not None else NewsReplica.bundled(), host, port)

    def make_site(self, base_url: str) -> "_Site":
        return _Site(self.replica, base_url)

    # the request log lives on the replica; these are shortcuts
    @property
    def requests(self) -> list[tuple[str, str, dict]]:
        return self.replica.requests

    def request_count(self) -> int:
        return self.replica.request_count()

    def url(self, path: str) -> str:
        """``base_url + path`` (the server must be started)."""
        if self.base_url is None:
            raise RuntimeError("NewsServer is not started")
        return self.base_url + path

    def __enter__(self) -> "NewsServer":
        self.start()
        return self


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m tracker.replica.news_server", description="Serve the news replica.")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    ap.add_argument("--synthetic", nargs=2, type=int, metavar=("FEEDS", "ITEMS"),
                    help="serve synthetic feeds instead of the bundled ones")
    args = ap.parse_args(argv)
    replica = NewsReplica.synthetic(*args.synthetic) if args.synthetic else NewsReplica.bundled()
    replica.log_limit = 10_000
    server = NewsServer(replica, port=args.port)
    base = server.start()
    print(base, flush=True)
    for path in list(replica.feeds)[:20]:
        print(f"  {base}{path}", file=sys.stderr)
    print(f"serving {len(replica)} feeds; Ctrl-C to stop", file=sys.stderr, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
