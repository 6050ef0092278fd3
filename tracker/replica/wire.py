"""Faults on the wire, shared by both replicas: what real sites do to a crawler.

A test arms a fault for the URL paths that start with a prefix, for a number of
requests or for good::

    replica.wire.arm("/api/GeneralCourts/192/Documents/H135", Fault("truncate"))
    replica.wire.arm("/wwlp/feed/", Fault("status", status=503), times=2)  # a run of two 503s

Kinds that replace the answer:

* ``status``: that HTTP status with a small HTML error page (``retry_after`` adds ``Retry-After``);
* ``cod``: HTTP 500 with the site's "Oh My Cod!" page;
* ``drop``: the connection is closed before any byte of an answer;
* ``redirect``: 302 to the same URL, for ever (a redirect loop);
* ``bomb``: 200 with ``Content-Encoding: gzip``: 64 KB on the wire that expand to ``size`` bytes;
* ``html``: 200 ``text/html``, an anti-bot "Just a moment..." page;
* ``slow``: wait ``seconds``, then answer as usual (past the client's timeout, a hung site).

Kinds that spoil the real answer:

* ``truncate``: ``Content-Length`` of the whole body, half of it sent, the connection closed;
* ``chunked``: ``Transfer-Encoding: chunked``, the first chunk, then a broken chunk header and the end;
* ``ctype``: the real body under another ``Content-Type`` (``ctype``).
"""

from __future__ import annotations

import gzip
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache

REPLACING = {"status", "cod", "drop", "redirect", "bomb", "html"}
SPOILING = {"truncate", "chunked", "ctype"}
KINDS = REPLACING | SPOILING | {"slow"}

_WALL = (b"<!DOCTYPE html><html><head><title>Just a moment...</title></head>"
         b"<body><p>Checking your browser before accessing the site.</p></body></html>")


@dataclass(frozen=True)
class Fault:
    kind: str
    status: int = 503
    retry_after: str | None = None
    ctype: str = "text/html; charset=utf-8"
    seconds: float = 0.0
    size: int = 64 * 1024 * 1024

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown wire fault {self.kind!r}; one of {', '.join(sorted(KINDS))}")


@dataclass
class _Rule:
    prefix: str
    fault: Fault
    left: int | None  # None: every request


@dataclass
class WireFaults:
    """The armed faults of one replica, and the ones served (``served``: (path, kind), oldest first)."""

    rules: list[_Rule] = field(default_factory=list)
    served: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def arm(self, prefix: str, fault: Fault, times: int | None = None) -> None:
        with self._lock:
            self.rules.append(_Rule(prefix, fault, times))

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def take(self, path: str) -> Fault | None:
        """The fault for this request, if one is armed for its path (the first armed wins)."""
        if not self.rules:
            return None
        with self._lock:
            for rule in self.rules:
                if path.startswith(rule.prefix) and (rule.left is None or rule.left > 0):
                    if rule.left is not None:
                        rule.left -= 1
                    self.served.append((path, rule.fault.kind))
                    return rule.fault
        return None


@lru_cache(maxsize=4)
def _bomb(size: int) -> bytes:
    return gzip.compress(b"\0" * size, compresslevel=9, mtime=0)


def _head(status: int, reason: str, lines: list[str]) -> bytes:
    return ("\r\n".join([f"HTTP/1.1 {status} {reason}", *lines]) + "\r\n\r\n").encode("latin-1")


def replace(handler, fault: Fault, url: str, cod_page: bytes, ctype: str) -> None:
    """Answer with a replacing fault. ``url`` is the request's absolute URL, ``cod_page`` the site's
    error page, ``ctype`` the Content-Type the real answer would have had (a bomb keeps it)."""
    kind = fault.kind
    handler.close_connection = True
    if kind == "drop":
        return
    if kind == "status":
        body = f"<html><body><h1>{fault.status}</h1></body></html>".encode()
        lines = ["Content-Type: text/html; charset=utf-8", f"Content-Length: {len(body)}"]
        if fault.retry_after is not None:
            lines.append(f"Retry-After: {fault.retry_after}")
        data = _head(fault.status, "Error", lines + ["Connection: close"]) + body
    elif kind == "cod":
        data = _head(500, "Internal Server Error", ["Content-Type: text/html; charset=utf-8",
                                                   f"Content-Length: {len(cod_page)}", "Connection: close"]) + cod_page
    elif kind == "redirect":
        data = _head(302, "Found", [f"Location: {url}", "Content-Length: 0", "Connection: close"])
    elif kind == "bomb":
        body = _bomb(fault.size)
        data = _head(200, "OK", [f"Content-Type: {ctype}", "Content-Encoding: gzip",
                                 f"Content-Length: {len(body)}", "Connection: close"]) + body
    else:  # html
        data = _head(200, "OK", ["Content-Type: text/html; charset=utf-8", f"Content-Length: {len(_WALL)}",
                                 "Connection: close"]) + _WALL
    _write(handler, data)


def spoil(handler, fault: Fault, head_lines: list[str], payload: bytes) -> None:
    """Send the real answer (status line and headers ``head_lines``, body ``payload``) spoilt."""
    handler.close_connection = True
    lines = [h for h in head_lines if not h.lower().startswith(("content-length:", "connection:"))]
    if fault.kind == "ctype":
        lines = [f"Content-Type: {fault.ctype}" if h.lower().startswith("content-type:") else h for h in lines]
        data = ("\r\n".join(lines + [f"Content-Length: {len(payload)}", "Connection: close"]) + "\r\n\r\n").encode(
            "latin-1") + payload
    elif fault.kind == "truncate":
        data = ("\r\n".join(lines + [f"Content-Length: {len(payload)}", "Connection: close"]) + "\r\n\r\n").encode(
            "latin-1") + payload[: max(1, len(payload) // 2)]
    else:  # chunked
        first = payload[: max(1, len(payload) // 2)]
        data = ("\r\n".join(lines + ["Transfer-Encoding: chunked", "Connection: close"]) + "\r\n\r\n").encode(
            "latin-1") + f"{len(first):x}\r\n".encode() + first + b"\r\nnot-a-chunk-size\r\n"
    _write(handler, data)


def pause(fault: Fault) -> None:
    if fault.kind == "slow":
        time.sleep(fault.seconds)


def _write(handler, data: bytes) -> None:
    try:
        handler.wfile.write(data)
        handler.wfile.flush()
    except OSError:
        pass
