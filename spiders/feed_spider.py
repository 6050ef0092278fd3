"""The feed spider: one Scrapy spider for every news feed.

Per feed: conditional GET (ETag / Last-Modified), a body hash so an unchanged
body is not parsed again, then ``spiders.feed_parse.parse_feed``. It yields
one observation per feed and never touches the database.
"""

from __future__ import annotations

import hashlib

import scrapy
from scrapy.http import Response

from spiders.feed_parse import parse_feed
from spiders.fetching import (HANDLED_STATUSES, delta_seconds, describe_failure, header, is_throttle,
                               retry_after_seconds, snapshot_of)
from spiders.observations import FeedTarget
from spiders.records import FeedError

FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"


def caching_hints(response: Response) -> dict:
    """Retry-After (seconds) and Cache-Control max-age, when the server gives them (a year at most)."""
    hints: dict = {"retry_after_s": None, "max_age_s": None}
    hints["retry_after_s"] = retry_after_seconds(response)
    cache = header(response, "Cache-Control") or ""
    for part in cache.split(","):
        key, _, value = part.strip().partition("=")
        if key.lower() == "max-age" and delta_seconds(value) is not None:
            hints["max_age_s"] = delta_seconds(value)
    return hints


class FeedSpider(scrapy.Spider):
    name = "feeds"

    def __init__(self, targets: list[FeedTarget], **kwargs):
        super().__init__(**kwargs)
        self.targets = targets

    async def start(self):
        for target in self.targets:
            headers = {"Accept": FEED_ACCEPT}
            if target.etag:
                headers["If-None-Match"] = target.etag
            if target.last_modified:
                headers["If-Modified-Since"] = target.last_modified
            yield scrapy.Request(target.url, callback=self.parse_response, errback=self.network_error, headers=headers,
                                 cb_kwargs={"target": target},
                                 meta={"handle_httpstatus_list": HANDLED_STATUSES, "target": target},
                                 dont_filter=True)

    def _base(self, target: FeedTarget, status: str) -> dict:
        return {"type": "feed", "status": status, "feed_id": target.feed_id, "name": target.name, "url": target.url}

    def network_error(self, failure):
        target: FeedTarget = failure.request.meta["target"]
        yield self._base(target, "error") | {"error": {"source": target.name, "url": target.url,
                                                    "error": describe_failure(failure)},
                                          "retry_after_s": None}

    def parse_response(self, response: Response, target: FeedTarget):
        hints = caching_hints(response)
        base = self._base(target, "ok") | hints | {"etag": header(response, "ETag"),
                                                 "last_modified": header(response, "Last-Modified")}
        if response.status == 304:
            yield base | {"status": "unchanged", "etag": target.etag, "last_modified": target.last_modified}
            return
        if response.status >= 300:
            error = f"HTTP {response.status}"
            if response.status in (301, 302, 303, 307, 308):
                error += " (too many redirects)"
            yield base | {"status": "error", "throttled": is_throttle(response),
                          "error": {"source": target.name, "url": response.url, "error": error}}
            return
        digest = hashlib.sha256(response.body).hexdigest()
        if digest == target.content_hash:
            yield base | {"status": "unchanged", "content_hash": digest}
            return
        try:
            feed = parse_feed(response.body, response.url, header(response, "Content-Type"))
        except FeedError as exc:
            yield base | {"status": "error", "error": {"source": target.name, "url": response.url, "error": str(exc)}}
            return
        yield base | {
            "content_hash": digest,
            "format": feed.format,
            "title": feed.title,
            "ttl_minutes": feed.ttl_minutes,
            "items": [item.to_dict() for item in feed.items],
            "snapshot": snapshot_of("feed", response),
        }
