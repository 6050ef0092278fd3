"""Feeds on several hosts: the per-site limit (``sources.news.concurrency``) and the total
(``total_concurrency``) both hold, and no host waits on another's slot. Counted at the servers."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tracker.config import parse_config
from tracker.news.poll import poll

HOSTS = ["127.0.1.1", "127.0.1.2", "127.0.1.3"]
FEEDS_PER_HOST = 6
ANSWER_S = 0.3

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Host {host}</title><link>http://{host}/</link><description>d</description>
<item><title>Town news {path}</title><link>http://{host}{path}story/</link><guid>{host}{path}</guid>
<pubDate>Mon, 02 Dec 2024 10:00:00 GMT</pubDate><description>Nothing about bills.</description></item>
</channel></rss>"""


class Counter:
    """Requests in progress, per address and in all, and the most seen at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.now: dict[str, int] = {}
        self.most: dict[str, int] = {}
        self.total = self.most_total = 0
        self.served = 0

    def enter(self, host: str) -> None:
        with self.lock:
            self.now[host] = self.now.get(host, 0) + 1
            self.most[host] = max(self.most.get(host, 0), self.now[host])
            self.total += 1
            self.most_total = max(self.most_total, self.total)

    def leave(self, host: str) -> None:
        with self.lock:
            self.now[host] -= 1
            self.total -= 1
            self.served += 1


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def do_GET(self):
        host = self.server.server_address[0]
        counter: Counter = self.server.counter
        counter.enter(host)
        try:
            time.sleep(ANSWER_S)
        finally:
            # before answering: once the answer is out the client may send its next request, which
            # must not find this one still counted
            counter.leave(host)
        body = RSS.format(host=host, path=self.path).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def farm():
    counter = Counter()
    servers = []
    try:
        for host in HOSTS:
            srv = ThreadingHTTPServer((host, 0), _Handler)
            srv.daemon_threads = True
            srv.counter = counter
            threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
            servers.append(srv)
    except OSError as exc:  # pragma: no cover - 127/8 is loopback on Linux
        pytest.skip(f"cannot listen on {HOSTS}: {exc}")
    yield counter, [f"http://{s.server_address[0]}:{s.server_address[1]}" for s in servers]
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def test_many_hosts_honour_both_limits_and_do_not_wait_on_each_other(sessions, farm):
    counter, bases = farm
    # the feeds of a host are listed together: with requests handed out in that order, the first host's
    # six feeds would take the total's five places and the others would wait behind its limit of two
    feeds = "\n".join(f"  - {{name: h{h}-f{i}, url: '{base}/f{i}/', match: bills}}"
                      for h, base in enumerate(bases) for i in range(FEEDS_PER_HOST))
    config = parse_config(f"""
sources:
  malegislature: {{session: 192}}
  news: {{delay_s: 0, concurrency: 2, total_concurrency: 5, timeout_s: 10, allow_private_networks: ["127.0.0.0/8"]}}
bills:
  - id: H.135
feeds:
{feeds}
""", "test")
    result = poll(config, sessions, all_feeds=True)
    assert result.errors == []
    assert result.checked == len(HOSTS) * FEEDS_PER_HOST
    assert counter.served == len(HOSTS) * FEEDS_PER_HOST
    assert max(counter.most.values()) <= 2, counter.most  # the per-site limit, per address
    assert counter.most_total <= 5  # the total
    # the hosts ran side by side: more requests at once than one host's limit allows
    assert counter.most_total >= 4, (counter.most_total, counter.most)
    assert set(counter.most) == set(HOSTS)
