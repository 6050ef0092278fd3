"""``tracker serve`` under load: the real server in a subprocess, 100 concurrent keep-alive connections.

A short version of bench/load_bench.py that CI can afford: a few seconds of bill pages, searches and
sign-up forms with no 5xx and no connection error; then bursts of concurrent sign-ups, where those
beyond the limits get 429 (not an error) and every accepted one is in the database exactly once.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from db.models import Article, ArticleBill, BillAction, OutboxMessage, Subscriber
from tests.alerts_world import CONFIG, NOW, add_action, add_bill

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 100
GET_SECONDS = 3.0
PATHS = ["/bills/192/H135", "/bills/192/S47", "/bills/192/H135?as_of=2022-01-01", "/search?q=facial+recognition",
         "/search?q=hearing&kind=action", "/search?q=face+surveillance&bill=H.135&since=2022-01-01", "/signup"]


def _fill(sessions) -> None:
    with sessions.begin() as s:
        for number in ("H135", "S47"):
            bill = add_bill(s, number)
            for i, text in enumerate(("Referred to the committee on the Judiciary",
                                      "Hearing scheduled for 10/13/2021 from 01:00 PM-05:00 PM in Virtual Hearing",
                                      "Reporting date extended to Thursday March 31, 2022")):
                on = date(2021, 3, 29) + timedelta(days=90 * i)
                s.add(BillAction(bill_id=bill.id, position=i, occurrence=0, date=on, branch="Joint", action=text,
                                 kinds=["other"], first_seen_at=NOW))
                add_action(s, bill, text, ["other"], on)
            for i in range(20):
                seen = NOW - timedelta(days=30 * i)
                article = Article(url=f"https://news.example/{number}/{i}", link=f"https://news.example/{number}/{i}",
                                  title=f"Facial recognition: {number} and face surveillance, part {i}",
                                  publisher="WBUR", summary_text="Lawmakers heard testimony on facial recognition.",
                                  published_at=seen, first_seen_at=seen, fetch_article=False, fulltext_attempts=0)
                s.add(article)
                s.flush()
                s.add(ArticleBill(article_id=article.id, bill_id=bill.id, reason=f'number "{number}" in title',
                                  term=number, field="title", kind="number", created_at=seen))


@pytest.fixture
def server(db_url, sessions, tmp_path):
    """``tracker serve`` on a free port, in tmp_path (its maildir is tmp_path/var/outbox)."""
    _fill(sessions)
    (tmp_path / "feeds.yaml").write_text(CONFIG)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "TRACKER_SMTP_URL"}
    env.update(PYTHONPATH=str(ROOT), TRACKER_SECRET_KEY="load-test-key")
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "tracker", "--config", "feeds.yaml", "--db", db_url, "serve",
                             "--port", str(port)], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(base + "/", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
        time.sleep(0.1)
    yield base
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()
    text = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in text, text


def _client(base: str) -> httpx.AsyncClient:
    # uvicorn closes a kept-alive connection after 5 s without a request; httpx's default expiry is also 5 s,
    # so a client starved of CPU (2 shared cores) could send on a connection the server is closing. A client
    # must expect that (RFC 9112, 9.3.1) and keep idle connections for less than the server does.
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS, keepalive_expiry=1.0)
    return httpx.AsyncClient(base_url=base, limits=limits, timeout=30)


async def _hammer(base: str, seconds: float) -> tuple[Counter, list[str]]:
    statuses, errors = Counter(), []
    stop = time.monotonic() + seconds

    async def worker(k: int, client: httpx.AsyncClient):
        n = k
        while time.monotonic() < stop:
            path = PATHS[n % len(PATHS)]
            n += 1
            try:
                statuses[(path.split("?")[0], (await client.get(path)).status_code)] += 1
            except httpx.HTTPError as exc:
                errors.append(f"{path}: {exc!r}")

    async with _client(base) as client:
        await asyncio.gather(*(worker(k, client) for k in range(CONNECTIONS)))
    return statuses, errors


async def _signups(base: str, posts: list[tuple[str, str | None]]) -> list[tuple[str, int | str]]:
    """POST every (email, X-Forwarded-For or None) at once over CONNECTIONS connections."""
    async with _client(base) as client:
        form = await client.get("/signup")
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text).group(1)

        async def post(email: str, forwarded: str | None):
            headers = {"X-Forwarded-For": forwarded} if forwarded else {}
            try:
                r = await client.post("/signup", headers=headers,
                                      data={"csrf": csrf, "email": email, "frequency": "daily", "bill": "campaign"})
                return email, r.status_code
            except httpx.HTTPError as exc:
                return email, repr(exc)

        return await asyncio.gather(*(post(e, f) for e, f in posts))


def test_serve_under_100_connections_answers_every_request_and_stores_each_signup_once(server, sessions, tmp_path):
    """One server per backend for both phases (starting ``tracker serve`` is most of this test's time)."""
    # Bill pages, searches and the form: every answer a 200, no connection error.
    statuses, errors = asyncio.run(_hammer(server, GET_SECONDS))
    assert errors == []
    assert {code for (_, code) in statuses} == {200}, statuses
    by_path = Counter(path for path, _ in statuses.elements())
    assert set(by_path) == {"/bills/192/H135", "/bills/192/S47", "/search", "/signup"}
    assert sum(by_path.values()) >= CONNECTIONS  # every connection got answers

    # One client address: 5 sign-ups an hour pass, the other 95 are refused with 429.
    one_address = asyncio.run(_signups(server, [(f"direct{i}@example.org", None) for i in range(CONNECTIONS)]))
    assert Counter(code for _, code in one_address) == {200: 5, 429: CONNECTIONS - 5}

    # Through the proxy (a new client address each): every address posted 4 times at once; 3 a day pass.
    posts = [(f"fan{i}@example.org", f"198.51.{i}.{k + 1}") for i in range(20) for k in range(4)]
    outcome = asyncio.run(_signups(server, posts))
    per_address = {}
    for email, code in outcome:
        per_address.setdefault(email, Counter())[code] += 1
    assert all(c == {200: 3, 429: 1} for c in per_address.values()), per_address

    accepted = {e for e, code in one_address if code == 200} | set(per_address)
    with sessions() as s:
        rows = Counter(s.scalars(select(Subscriber.email).where(Subscriber.role == "supporter")))
        confirmations = Counter(s.scalars(select(Subscriber.email).join(
            OutboxMessage, OutboxMessage.subscriber_id == Subscriber.id).where(OutboxMessage.kind == "confirm")))
        sent = s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state == "sent"))
    assert rows == Counter(accepted)  # each accepted address once, no refused one
    assert confirmations == Counter(accepted)  # one confirmation each, the repeats sent none
    assert sent == len(accepted)
    assert len(list((tmp_path / "var" / "outbox" / "new").iterdir())) == len(accepted)  # in the maildir
