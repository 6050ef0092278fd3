"""The sign-up and letter rate limits live in the database (``db.ratelimits``): several web workers on one database
enforce them together, never each its own limit."""

from __future__ import annotations

import asyncio
import re
import threading
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from alerts.transport import MaildirTransport
from db import ratelimits
from db.engine import make_engine, session_factory
from db.models import RateLimit, Subscriber
from tests.alerts_world import KEY, NOW, add_bill, application, config, live_session
from tracker.web.app import create_app


@pytest.fixture
def second(db_url, engine):
    """Another engine on the same database: what a second worker process has."""
    other = make_engine(db_url)
    yield session_factory(other)
    other.dispose()


class Visitor:
    """One browser (its CSRF cookie) on one app, from one client address."""

    def __init__(self, app, client: str):
        self.loop = asyncio.new_event_loop()
        self.c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(client, 5555)), base_url="http://t")
        page = self("GET", "/signup")
        self.csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)

    def __call__(self, method, url, **kw):
        return self.loop.run_until_complete(self.c.request(method, url, **kw))

    def sign_up(self, email: str) -> int:
        return self("POST", "/signup", data={"csrf": self.csrf, "email": email, "frequency": "weekly"}).status_code

    def close(self):
        self.loop.run_until_complete(self.c.aclose())
        self.loop.close()


def test_two_workers_enforce_the_sign_up_limits_together(sessions, second, tmp_path):
    with sessions.begin() as s:
        add_bill(s, "H135", session=live_session())
    outbox = tmp_path / "outbox"
    apps = [create_app(application(config(), factory, KEY, transport_factory=lambda: MaildirTransport(outbox)))
            for factory in (sessions, second)]
    one, two = Visitor(apps[0], "203.0.113.7"), Visitor(apps[1], "203.0.113.7")
    try:
        # 5 sign-ups an hour per client address: alternating between the workers, the 6th is refused by either
        statuses = [(one if i % 2 else two).sign_up(f"p{i}@example.org") for i in range(8)]
        assert statuses == [200] * 5 + [429] * 3
        # 3 a day per email address, from other client addresses, each worker in turn
        others = [Visitor(apps[i % 2], f"198.51.100.{i}") for i in range(5)]
        assert [v.sign_up("same@example.org") for v in others] == [200, 200, 200, 429, 429]
        for v in others:
            v.close()
    finally:
        one.close()
        two.close()
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Subscriber)) == 6


def test_concurrent_hits_from_two_workers_never_pass_the_limit(sessions, second):
    results: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(12)

    def hit(factory):
        start.wait()
        ok = ratelimits.allow(factory, "ip:203.0.113.9", 5, 3600.0, NOW)
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=hit, args=((sessions, second)[i % 2],)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [False] * 7 + [True] * 5
    with sessions() as s:
        assert len(s.get(RateLimit, "ip:203.0.113.9").hits) == 5


def test_the_window_slides_and_old_keys_are_forgotten(sessions):
    assert [ratelimits.allow(sessions, "email:a@example.org", 2, 60.0, NOW + timedelta(seconds=i))
            for i in (0, 10, 20)] == [True, True, False]
    assert ratelimits.allow(sessions, "email:a@example.org", 2, 60.0, NOW + timedelta(seconds=61))  # the first left
    assert not ratelimits.allow(sessions, "email:a@example.org", 2, 60.0, NOW + timedelta(seconds=65))
    assert ratelimits.allow(sessions, "email:b@example.org", 2, 60.0, NOW + timedelta(days=3))
    assert ratelimits.forget_before(sessions, NOW + timedelta(days=1)) == 1
    with sessions() as s:
        assert s.scalars(select(RateLimit.key)).all() == ["email:b@example.org"]
    long_key = "email:" + "x" * 600
    assert ratelimits.allow(sessions, long_key, 1, 60.0, NOW) and not ratelimits.allow(sessions, long_key, 1, 60.0, NOW)
