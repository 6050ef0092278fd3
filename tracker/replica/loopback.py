"""What both replicas share: a quiet threaded HTTP server on 127.0.0.1 that a
test starts and stops, and a request log the tests read."""

from __future__ import annotations

import socket
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class RequestLog:
    """Mixed into a replica model: every request served, oldest first.

    The model provides ``lock``, ``requests`` (list of (method, path, headers)),
    ``log_limit`` (keep only about the last N entries: a long-running demo server)
    and ``_request_total``; ``request_count()`` counts every request, ``path_count(path)``
    the requests for one path.
    """

    lock: threading.RLock
    requests: list[tuple[str, str, dict]]
    log_limit: int | None
    _request_total: int
    _path_counts: Counter | None = None  # created on the first request

    def log_request(self, method: str, path: str, headers: dict) -> None:
        with self.lock:
            self.requests.append((method, path, headers))
            self._request_total += 1
            if self._path_counts is None:
                self._path_counts = Counter()
            self._path_counts[_count_key(path)] += 1
            if self.log_limit is not None and len(self.requests) > self.log_limit * 2:
                del self.requests[: len(self.requests) - self.log_limit]

    def request_count(self) -> int:
        """How many requests were served (all of them, even when ``log_limit`` trimmed the log)."""
        with self.lock:
            return self._request_total

    def path_count(self, path: str) -> int:
        """How many requests asked for ``path`` (the query string ignored, case-insensitive, a
        trailing slash ignored), even when ``log_limit`` trimmed the log."""
        with self.lock:
            return (self._path_counts or Counter())[_count_key(path)]

    def path_counts(self) -> dict[str, int]:
        """Requests per path (lower-cased, without query string or trailing slash)."""
        with self.lock:
            return dict(self._path_counts or {})


def _count_key(path: str) -> str:
    return urlsplit(path).path.rstrip("/").lower() or "/"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, addr, handler: type[BaseHTTPRequestHandler], replica):
        self.replica = replica
        self.site = None
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(addr, handler)

    def process_request(self, request, client_address):
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Cut keep-alive connections so stop() does not wait for idle clients."""
        with self._conns_lock:
            conns = list(self._conns)
        for sock in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return
        self.replica.errors.append(f"{client_address}: {exc!r}")


class LoopbackServer:
    """Serve a replica from a daemon thread. Subclasses name their ``handler``
    class and build their site (the router) in ``make_site(base_url)``."""

    handler: type[BaseHTTPRequestHandler]
    thread_name = "replica"

    def __init__(self, replica, host: str = "127.0.0.1", port: int = 0):
        self.replica = replica
        self.host = host
        self.port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url: str | None = None

    def make_site(self, base_url: str):
        raise NotImplementedError

    def start(self) -> str:
        """Start serving; returns the base URL ``http://127.0.0.1:PORT``."""
        if self._server is not None:
            return self.base_url  # type: ignore[return-value]
        server = _Server((self.host, self.port), self.handler, self.replica)
        host, port = server.server_address[:2]
        self.port = port
        self.base_url = f"http://{host}:{port}"
        server.site = self.make_site(self.base_url)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"{self.thread_name}-{port}", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
