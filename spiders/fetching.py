"""Small pieces shared by the spiders."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

# Statuses the callbacks handle themselves. Redirects are left out on purpose:
# Scrapy follows them (up to REDIRECT_MAX_TIMES) only when they are not listed.
HANDLED_STATUSES = [304] + list(range(400, 600))


def header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def snapshot_of(role: str, response: Response) -> dict:
    """The response as a snapshot the parent stores (``decode_snapshot_body`` in spiders.observations
    reads the body back)."""
    return {
        "role": role,
        "url": response.url,
        "status": response.status,
        "content_type": header(response, "Content-Type"),
        "etag": header(response, "ETag"),
        "last_modified": header(response, "Last-Modified"),
        "fetched_at": datetime.now(timezone.utc).isoformat(),
        "body_b64": base64.b64encode(response.body).decode("ascii"),
    }


YEAR_S = 366 * 86400
_DELTA_SECONDS = re.compile(r"[0-9]{1,12}")


def delta_seconds(value: str) -> int | None:
    """A delta-seconds header value (``Retry-After``, ``max-age``): ASCII digits (``str.isdigit`` also
    takes "²", which ``int`` refuses), at most a year; anything else is None, as if it were absent."""
    value = value.strip()
    if not _DELTA_SECONDS.fullmatch(value) or int(value) > YEAR_S:
        return None
    return int(value)


def retry_after_seconds(response: Response) -> int | None:
    """``Retry-After`` in seconds (ASCII delta-seconds or an HTTP date), at most a year; None when
    absent, unreadable or absurd."""
    value = (header(response, "Retry-After") or "").strip()
    if not value:
        return None
    if _DELTA_SECONDS.fullmatch(value):
        return delta_seconds(value)
    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = max(0, int((when - datetime.now(timezone.utc)).total_seconds()))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return seconds if seconds <= YEAR_S else None


def is_throttle(response: Response) -> bool:
    """The site asks us to slow down: 429, or 503 with a Retry-After (a maintenance window)."""
    return response.status == 429 or (response.status == 503 and header(response, "Retry-After") is not None)


# What Twisted's failures mean, in words an operator can act on.
_NETWORK_WORDS = {
    "ConnectionDone": "the site closed the connection before answering",
    "ConnectionLost": "the connection was lost before the answer was complete",
    "ResponseNeverReceived": "the site closed the connection before answering",
    "ResponseDataLossError": "the answer was cut short (connection closed mid-body)",
    "ResponseFailed": "the answer was cut short or garbled",
    "DownloadTimeoutError": "timed out",
    "TimeoutError": "timed out",
    "TCPTimedOutError": "timed out connecting",
    "ConnectionRefusedError": "connection refused",
    "DNSLookupError": "the host name did not resolve",
}


def _causes(exc: BaseException | None, depth: int = 0) -> list[str]:
    """Names of an exception, what it wraps (``__cause__``) and Twisted's nested ``reasons``."""
    if exc is None or depth > 4:
        return []
    names = [type(exc).__name__]
    for reason in getattr(exc, "reasons", None) or []:
        names += _causes(getattr(reason, "value", None), depth + 1)
    return names + _causes(exc.__cause__ or exc.__context__, depth + 1)


def describe_failure(failure) -> str:
    """``Kind: what it means (cause)`` for a download failure: Scrapy and Twisted wrap the real causes."""
    kind = failure.type.__name__
    names = _causes(failure.value)
    message = failure.getErrorMessage() or ""
    names += [n for n in _NETWORK_WORDS if n in message]  # causes only named in the message
    for name in names:
        if name in _NETWORK_WORDS:
            words = _NETWORK_WORDS[name]
            return f"{kind}: {words}" if name == kind else f"{kind}: {words} ({name})"
    return f"{kind}: {message or kind}"


class PoliteRetry(RetryMiddleware):
    """Scrapy's retry, except an answer that says when to come back (``Retry-After``): retrying it
    at once is what the site asked us not to do; the spider reads it and waits."""

    def process_response(self, request, response, *args, **kwargs):
        if response.headers.get("Retry-After") is not None:
            return response
        return super().process_response(request, response, *args, **kwargs)


class NotSentThrottled(IgnoreRequest):
    """A request dropped before it was sent: an earlier answer of this crawl asked us to slow down."""


class StopAfterThrottle:
    """Once an answer says to slow down (:func:`is_throttle`), nothing more is sent in this crawl.

    The spider stops itself when its callback sees the throttle (``CloseSpider``), but by then the
    downloader has already sent the next requests to the slots the answers freed: at concurrency 16,
    a dozen more requests to a site that just asked for none. This sees the answer as it arrives and
    drops every later request with :class:`NotSentThrottled` (its errback gets that failure)."""

    def __init__(self):
        self.stopped = False

    def process_request(self, request, *args, **kwargs):
        if self.stopped:
            raise NotSentThrottled(f"not sent, the site is throttling this crawl: {request.url}")
        return None

    def process_response(self, request, response, *args, **kwargs):
        if is_throttle(response):
            self.stopped = True
        return response
