"""The sign-up form: double opt-in from the web, CSRF, rate limits, bad input shown back escaped."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import select

from alerts.dispatch import queue_confirmation
from alerts.subscribers import subscribe
from alerts.transport import MaildirTransport
from db.models import Legislator, OutboxMessage, Subscriber, Subscription
from tests.alerts_world import KEY, NOW, add_bill, config, application, live_session
from tests.test_alerts import _mail
from tracker.web.app import create_app


LIVE = live_session()  # the sitting General Court: its bills are offered; the 192nd's died long ago


@pytest.fixture
def client(sessions, tmp_path):
    with sessions.begin() as s:
        add_bill(s, "H135", session=LIVE)
        add_bill(s, "S47", session=LIVE)
        for code, branch, district in (("DMR1", "House", "Twenty-Fourth Middlesex"),
                                       ("JBE0", "Senate", "Middlesex and Worcester")):
            s.add(Legislator(session=192, member_code=code, name=code, branch=branch, district=district,
                             fetched_at=NOW))
    app = create_app(application(config(), sessions, KEY, transport_factory=lambda: MaildirTransport(tmp_path / "outbox")))
    loop = asyncio.new_event_loop()
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 5555)),
                          base_url="http://test")

    def call(method, url, **kw):
        return loop.run_until_complete(c.request(method, url, **kw))

    call.app = app
    yield call
    loop.run_until_complete(c.aclose())
    loop.close()


def _form(client) -> str:
    page = client("GET", "/signup")
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)


def _post(client, csrf, **fields):
    data = {"csrf": csrf, "email": "jane@example.org", "frequency": "weekly"} | fields
    return client("POST", "/signup", data=data)


def test_the_form_offers_the_bills_districts_and_the_legislatures_lookup(client):
    page = client("GET", "/signup")
    assert f"ma/{LIVE}/H135" in page.text and f"ma/{LIVE}/S47" in page.text
    assert "Twenty-Fourth Middlesex</option>" in page.text
    assert "Middlesex and Worcester</option>" in page.text
    assert "https://malegislature.gov/Search/FindMyLegislator" in page.text
    assert "httponly" in page.headers["set-cookie"].lower() and "samesite=strict" in page.headers["set-cookie"].lower()


def test_signing_up_sends_a_confirmation_and_nothing_is_active_until_it_is_opened(client, sessions, tmp_path):
    csrf = _form(client)
    r = client("POST", "/signup", data={"csrf": csrf, "email": "Jane@Example.org", "name": "Jane",
                                        "bill": [f"ma/{LIVE}/H135"], "frequency": "weekly",
                                        "house_district": "Twenty-Fourth Middlesex"})
    assert r.status_code == 200 and "Check your email" in r.text and "jane@example.org" in r.text
    [mail] = _mail(tmp_path)
    assert mail["Subject"].startswith("Please confirm") and mail["To"] == "Jane <jane@example.org>"
    with sessions() as s:
        sub = s.scalar(select(Subscriber))
        assert (sub.status, sub.frequency, sub.house_district, sub.source) == \
            ("pending", "weekly", "Twenty-Fourth Middlesex", "web")
        assert list(s.scalars(select(Subscription.topic))) == [f"bill:ma/{LIVE}/H135"]
    link = re.search(r"http://127\.0\.0\.1:8000(/confirm\?token=\S+)", mail.get_body(("plain",)).get_content())
    landing = client("GET", link.group(1))
    assert landing.status_code == 200 and "You are subscribed" in landing.text and "/preferences?token=" in landing.text


def test_a_post_without_the_sites_csrf_field_is_refused(client, sessions):
    client("GET", "/signup")
    r = _post(client, "0" * 64)
    assert r.status_code == 403 and "did not come from this site" in r.text
    r2 = client("POST", "/signup", data={"email": "jane@example.org"})  # the cookie alone is not enough
    assert r2.status_code == 403
    with sessions() as s:
        assert s.scalar(select(Subscriber.id)) is None


def test_bad_input_is_shown_back_escaped_with_the_reason(client, sessions, monkeypatch):
    from tracker.web import signup

    monkeypatch.setattr(signup, "PER_IP", (100, 3600.0))  # every attempt counts against the limits
    monkeypatch.setattr(signup, "PER_ADDRESS", (100, 3600.0))
    csrf = _form(client)
    r = _post(client, csrf, email="<script>alert(1)</script>")
    assert r.status_code == 400 and "not a valid email address" in r.text
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;" in r.text
    r = _post(client, csrf, name="Jane\r\nBcc: victim@example.org")
    assert r.status_code == 400 and "line break" in r.text
    r = _post(client, csrf, bill=["ma/192/H999"])
    assert r.status_code == 400 and "not a bill this campaign follows" in r.text
    r = _post(client, csrf, frequency="hourly")
    assert r.status_code == 400 and "Choose how often" in r.text
    r = _post(client, csrf, house_district="Atlantis")
    assert r.status_code == 400 and "is not a House district" in r.text
    with sessions() as s:
        assert s.scalar(select(Subscriber.id)) is None


def test_sign_ups_are_rate_limited_per_network_and_per_address(client, tmp_path):
    csrf = _form(client)
    statuses = [_post(client, csrf, email=f"p{i}@example.org").status_code for i in range(6)]
    assert statuses == [200] * 5 + [429]
    assert len(_mail(tmp_path)) == 5


def test_the_same_address_cannot_be_flooded(client, tmp_path, monkeypatch):
    from tracker.web import signup

    monkeypatch.setattr(signup, "PER_IP", (100, 3600.0))
    csrf = _form(client)
    statuses = [_post(client, csrf).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert len(_mail(tmp_path)) == 1  # and at most one confirmation email a day anyway


def test_a_sign_up_delivers_with_the_configured_stale_claim(sessions, tmp_path):
    """The sign-up sends its confirmation through the one delivery wiring: a message another machine's worker
    claimed longer ago than ``mail.stale_claim`` (here 1 minute, not the default 10) is taken back and sent."""
    cfg = config()
    cfg = cfg.model_copy(update={"mail": cfg.mail.model_copy(update={"stale_claim": timedelta(minutes=1)})})
    app = application(cfg, sessions, KEY, transport_factory=lambda: MaildirTransport(tmp_path / "outbox"))
    with sessions.begin() as s:
        add_bill(s, "H135")
        add_bill(s, "S47")
        stuck = subscribe(s, app.settings, "stuck@example.org", now=NOW).subscriber
        row = queue_confirmation(s, app.settings, stuck, NOW)
        row.state, row.claimed_by = "sending", "elsewhere:4242:abcd@another-machine"
        row.claimed_at = datetime.now(timezone.utc) - timedelta(minutes=5)
    loop = asyncio.new_event_loop()
    web = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(app), client=("203.0.113.8", 5555)),
                            base_url="http://test")
    try:
        page = loop.run_until_complete(web.get("/signup"))
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
        r = loop.run_until_complete(web.post("/signup", data={"csrf": csrf, "email": "jane@example.org",
                                                                "frequency": "weekly"}))
    finally:
        loop.run_until_complete(web.aclose())
        loop.close()
    assert r.status_code == 200 and "Check your email" in r.text
    with sessions() as s:
        again = s.get(OutboxMessage, row.id)
        assert (again.state, again.uncertain) == ("queued", 1)  # taken back, counted; with 10 minutes: still stuck
    assert [m["To"] for m in _mail(tmp_path)] == ["jane@example.org"]  # the sign-up sends its own mail only


def test_a_csrf_field_with_non_ascii_characters_is_refused_not_an_error(client, sessions):
    # the constant-time comparison of two str raised TypeError on non-ASCII (a 500 page)
    client("GET", "/signup")
    r = _post(client, "\u00e9" * 64)
    assert r.status_code == 403 and "did not come from this site" in r.text
    with sessions() as s:
        assert s.scalar(select(Subscriber.id)) is None
