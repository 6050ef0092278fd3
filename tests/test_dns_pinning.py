"""The article fetch connects to the address its check approved, not to a second look-up's (DNS rebinding).

The crawl child runs with ``tests/data/rebinding_dns`` on its PYTHONPATH: a DNS the test controls, giving
one answer to the first look-up of a name and another to the next. Only loopback can be reached here, so
127.0.0.2 plays the public address (``allow_private_networks: ["127.0.0.2/32"]``) while 127.0.0.1 stays
private; a server on 127.0.0.2 serves the article, one on 127.0.0.1 (same port) records any connection.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from db.models import Article
from spiders.pinned_dns import PinnedResolver
from tracker.child import run_spider
from tracker.config import parse_config
from tracker.news.poll import poll

DNS_DIR = Path(__file__).parent / "data" / "rebinding_dns"
PUBLIC, PRIVATE = "127.0.0.2", "127.0.0.1"
STORY = "<p>Face surveillance: the PUBLIC ARTICLE body, served from the address that was checked.</p>"
ARTICLE = ("<html><head><title>Face surveillance story</title></head><body><article><h1>Face surveillance "
           "story</h1>" + STORY * 12 + "</article></body></html>").encode()
SECRET = b"<html><body><article><p>SECRET INTERNAL PAGE</p></article></body></html>"


class Server(ThreadingHTTPServer):
    """Serves ``routes`` (path -> (status, headers, body)) and records every connection and request."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], routes: dict, tls: ssl.SSLContext | None = None):
        self.routes, self.connections, self.requests = routes, [], []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append((self.path, self.headers.get("Host")))
                status, headers, body = server.routes.get(self.path, (404, {}, b"not here"))
                self.send_response(status)
                for name, value in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(address, Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)

    def verify_request(self, request, client_address):
        self.connections.append(client_address)
        return True

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


def free_port_on_both() -> int:
    """A port free on 127.0.0.2 and on 127.0.0.1, so one URL can lead to either."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind((PUBLIC, 0))
            port = a.getsockname()[1]
        with socket.socket() as b:
            try:
                b.bind((PRIVATE, port))
            except OSError:
                continue
        return port
    raise RuntimeError("no port free on both 127.0.0.1 and 127.0.0.2")


@pytest.fixture
def dns(monkeypatch, tmp_path):
    """``dns({"name": [first, second]})``: what the crawl child's look-ups answer; returns the log reader."""
    log = tmp_path / "dns.log"

    def answer(table: dict[str, list[str]]):
        monkeypatch.setenv("TRACKER_TEST_DNS", json.dumps(table))
        monkeypatch.setenv("TRACKER_TEST_DNS_LOG", str(log))
        path = [str(DNS_DIR)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(path))
        return lambda: log.read_text().split("\n")[:-1] if log.exists() else []

    return answer


def fetch(*urls: str, allow=(f"{PUBLIC}/32",)) -> list[dict]:
    settings = {"delay_s": 0, "concurrency": 2, "timeout_s": 10, "allow_private_networks": list(allow)}
    jobs = [{"article_id": i, "url": url} for i, url in enumerate(urls, 1)]
    out = [o for o in run_spider("articles", settings, jobs, timeout_s=90) if o["type"] != "child-error" or
           pytest.fail(o["error"])]
    return sorted(out, key=lambda o: o["article_id"])


def test_127_0_0_2_is_bindable_and_only_it_is_declared_public():
    with socket.socket() as s:
        s.bind((PUBLIC, 0))  # Linux: all of 127/8 is loopback


def test_a_name_rebinding_to_loopback_is_fetched_from_the_checked_address(dns):
    port = free_port_on_both()
    log = dns({"rebind.test": [PUBLIC, PRIVATE]})
    with Server((PUBLIC, port), {"/story": (200, {}, ARTICLE)}) as public, \
            Server((PRIVATE, port), {"/story": (200, {}, SECRET)}) as private:
        [seen] = fetch(f"http://rebind.test:{port}/story")
    assert seen["status"] == "ok", seen
    assert "PUBLIC ARTICLE" in seen["text"] and "SECRET" not in seen["text"]
    assert private.connections == [] and private.requests == []
    assert public.requests == [("/story", f"rebind.test:{port}")]  # the name, not the address, as Host
    # the check's look-up was the only one: the connection used its answer, nobody asked again
    assert log() == [f"rebind.test {PUBLIC}"]


def test_without_the_pin_the_second_answer_would_have_been_used(dns):
    """The DNS really does rebind: two look-ups in a row give 127.0.0.2, then 127.0.0.1."""
    log = dns({"rebind.test": [PUBLIC, PRIVATE]})
    code = "import socket; print(socket.gethostbyname('rebind.test'), socket.getaddrinfo('rebind.test', 80)[0][4][0])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [PUBLIC, PRIVATE] and log() == [f"rebind.test {PUBLIC}", f"rebind.test {PRIVATE}"]


def test_every_redirect_is_checked_and_pinned_again(dns):
    port = free_port_on_both()
    log = dns({"start.test": [PUBLIC], "rebind.test": [PUBLIC, PRIVATE], "private.test": [PRIVATE]})
    routes = {"/to-rebind": (302, {"Location": f"http://rebind.test:{port}/story"}, b""),
              "/to-private": (302, {"Location": f"http://private.test:{port}/story"}, b""),
              "/story": (200, {}, ARTICLE)}
    with Server((PUBLIC, port), routes) as public, Server((PRIVATE, port), {"/story": (200, {}, SECRET)}) as private:
        rebound, refused = fetch(f"http://start.test:{port}/to-rebind", f"http://start.test:{port}/to-private")
    assert rebound["status"] == "ok" and "PUBLIC ARTICLE" in rebound["text"], rebound
    assert rebound["final_url"] == f"http://rebind.test:{port}/story"
    assert refused["status"] == "error" and refused["refused"] is True, refused
    assert refused["error"] == (f"refused http://private.test:{port}/story: private.test is {PRIVATE}, not a public "
                                "address (allow its network in sources.news.allow_private_networks)")
    assert private.connections == []
    assert sorted(path for path, _ in public.requests) == ["/story", "/to-private", "/to-rebind"]
    assert log().count(f"rebind.test {PUBLIC}") == 1 and f"rebind.test {PRIVATE}" not in log()


def test_an_honest_name_still_fetches_whatever_its_spelling(dns):
    port = free_port_on_both()
    dns({"honest.test": [PUBLIC]})
    with Server((PUBLIC, port), {"/a": (200, {}, ARTICLE), "/b": (200, {}, ARTICLE)}) as public, \
            Server((PRIVATE, port), {}) as private:
        a, b = fetch(f"http://honest.test:{port}/a", f"http://Honest.TEST:{port}/b")
    assert a["status"] == "ok" and b["status"] == "ok", (a, b)
    assert len(public.requests) == 2 and private.connections == []


def _tls_context(tmp_path: Path, seen_names: list) -> ssl.SSLContext:
    """A self-signed certificate for rebind.test; records the server name (SNI) each client sends."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rebind.test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("rebind.test")]), critical=False)
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    context.sni_callback = lambda sock, server_name, ctx: seen_names.append(server_name)
    return context


def test_https_keeps_the_name_as_sni_and_host_while_connecting_to_the_checked_address(dns, tmp_path):
    port = free_port_on_both()
    log = dns({"rebind.test": [PUBLIC, PRIVATE]})
    names: list = []
    with Server((PUBLIC, port), {"/story": (200, {}, ARTICLE)}, tls=_tls_context(tmp_path, names)) as public, \
            Server((PRIVATE, port), {"/story": (200, {}, SECRET)}) as private:
        [seen] = fetch(f"https://rebind.test:{port}/story")
    assert seen["status"] == "ok" and "PUBLIC ARTICLE" in seen["text"], seen
    assert names == ["rebind.test"]
    assert public.requests == [("/story", f"rebind.test:{port}")]
    assert private.connections == [] and log() == [f"rebind.test {PUBLIC}"]


class _Receiver:
    def __init__(self):
        self.addresses, self.done = [], False

    def resolutionBegan(self, resolution):
        pass

    def addressResolved(self, address):
        self.addresses.append((address.host, address.port))

    def resolutionComplete(self):
        self.done = True


def test_the_resolver_answers_only_what_was_pinned():
    resolver = PinnedResolver(reactor=None)
    resolver.pin("news.example", ["93.184.216.34", "2606:4700::1111"])
    got = _Receiver()
    resolver.resolveHostName(got, "NEWS.example", 443)
    assert got.done and got.addresses == [("93.184.216.34", 443), ("2606:4700::1111", 443)]
    unchecked = _Receiver()
    resolver.resolveHostName(unchecked, "other.example", 80)
    assert unchecked.done and unchecked.addresses == []  # a name nobody checked does not resolve


def test_without_the_pinning_resolver_the_check_refuses_rather_than_fetch_unpinned():
    """Were the article child started without ``spiders.pinned_dns`` as the reactor's resolver, the
    connection would look the name up again: the middleware refuses every request instead."""
    code = ("from spiders.public_only import RefusedAddress, _pinning_resolver\n"
            "try:\n    _pinning_resolver('http://news.example/a')\n"
            "except RefusedAddress as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("refused http://news.example/a: the checked address cannot be pinned"), out


FEED_CONFIG = """
sources:
  malegislature: {{session: 192}}
  news: {{delay_s: 0, concurrency: 2, timeout_s: 5, allow_private_networks: ["127.0.0.2/32"]}}
bills:
  - id: H.135
    keywords: ["face surveillance"]
feeds:
  - name: Rebinding
    url: http://127.0.0.2:{port}/feed.xml
    fetch_article: true
"""


def test_a_poll_stores_the_article_from_the_checked_address(sessions, dns):
    port = free_port_on_both()
    dns({"rebind.test": [PUBLIC, PRIVATE]})
    feed = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Rebinding</title>
<link>http://127.0.0.2:{port}/</link><description>d</description>
<item><title>Face surveillance story</title><link>http://rebind.test:{port}/story</link>
<pubDate>{dt.datetime.now(dt.timezone.utc):%a, %d %b %Y %H:%M:%S +0000}</pubDate>
<description>Face surveillance in Massachusetts</description></item></channel></rss>""".encode()
    routes = {"/feed.xml": (200, {"Content-Type": "application/rss+xml"}, feed), "/story": (200, {}, ARTICLE)}
    with Server((PUBLIC, port), routes), Server((PRIVATE, port), {"/story": (200, {}, SECRET)}) as private:
        result = poll(parse_config(FEED_CONFIG.format(port=port), "test"), sessions)
    assert [e for e in result.errors if e["source"] == "article"] == []
    with sessions() as s:
        [article] = s.scalars(select(Article)).all()
    assert article.fulltext_error is None and "PUBLIC ARTICLE" in article.full_text
    assert "SECRET" not in article.full_text and private.connections == []
