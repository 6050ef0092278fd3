"""The web routes every email links to, driven in process through httpx."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from alerts.subscribers import subscribe
from alerts.tokens import make_token
from db.models import OutboxMessage, Subscriber, Subscription
from tests.alerts_world import KEY, config, settings_of, application
from tests.web_client import caller
from tracker.web.app import create_app


@pytest.fixture
def web(sessions):
    app = create_app(application(config(), sessions, KEY))
    return caller(app)


@pytest.fixture
def jane(sessions):
    now = datetime.now(timezone.utc)
    with sessions.begin() as s:
        sub = subscribe(s, settings_of(config()), "jane@example.org", bills=["H.135", "S.47"], now=now).subscriber
        return sub.id


def _status(sessions, sid):
    with sessions() as s:
        return s.get(Subscriber, sid).status


def test_confirm_link_activates_once_and_stays_valid(web, sessions, jane):
    token = make_token(KEY, "confirm", jane)
    first = web("GET", f"/confirm?token={token}")
    assert first.status_code == 200 and "You are subscribed" in first.text and "H.135, S.47" in first.text
    assert _status(sessions, jane) == "active"
    assert web("GET", f"/confirm?token={token}").status_code == 200  # idempotent
    assert _status(sessions, jane) == "active"


@pytest.mark.parametrize("token", ["", "garbage", "eyJwIjoiY29uZmlybSJ9.c2lnbmF0dXJl", "a" * 5000])
def test_forged_or_broken_tokens_are_refused_clearly(web, sessions, jane, token):
    r = web("GET", f"/confirm?token={token}")
    assert r.status_code == 400 and "This link does not work" in r.text
    assert _status(sessions, jane) == "pending"


def test_a_token_signed_with_another_key_is_refused(web, sessions, jane):
    r = web("GET", f"/confirm?token={make_token(b'attacker', 'confirm', jane)}")
    assert r.status_code == 400 and "not one we sent" in r.text


def test_an_unsubscribe_token_cannot_confirm(web, sessions, jane):
    r = web("GET", f"/confirm?token={make_token(KEY, 'unsubscribe', jane)}")
    assert r.status_code == 400 and _status(sessions, jane) == "pending"


def test_one_click_unsubscribe_is_a_post_and_a_get_only_asks(web, sessions, jane):
    token = make_token(KEY, "unsubscribe", jane)
    page = web("GET", f"/unsubscribe?token={token}")
    assert page.status_code == 200 and "<form method=\"post\"" in page.text
    assert _status(sessions, jane) == "pending"  # a link scanner opening the URL unsubscribes no one
    r = web("POST", f"/unsubscribe?token={token}", content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and "no more alerts" in r.text
    assert _status(sessions, jane) == "unsubscribed"
    assert web("POST", f"/unsubscribe?token={token}").status_code == 200  # idempotent


def test_unsubscribing_suppresses_what_was_queued(web, sessions, jane):
    from alerts.dispatch import queue_confirmation

    now = datetime.now(timezone.utc)
    with sessions.begin() as s:
        queue_confirmation(s, settings_of(config(), KEY), s.get(Subscriber, jane), now)
    web("POST", f"/unsubscribe?token={make_token(KEY, 'unsubscribe', jane)}")
    with sessions() as s:
        assert [m.state for m in s.scalars(select(OutboxMessage))] == ["suppressed"]


def test_preferences_change_the_frequency_and_stop_one_topic(web, sessions, jane):
    token = make_token(KEY, "preferences", jane)
    page = web("GET", f"/preferences?token={token}")
    assert page.status_code == 200 and "H.135" in page.text and "S.47" in page.text
    saved = web("POST", "/preferences", content=f"token={token}&frequency=weekly&bill=ma/192/H135&bill=ma/192/S47".encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert saved.status_code == 200 and "Saved: you will get weekly alerts about H.135 and S.47" in saved.text
    bad = web("POST", "/preferences", content=f"token={token}&frequency=hourly".encode())
    assert bad.status_code == 400 and "Choose how often" in bad.text
    with sessions() as s:
        assert s.get(Subscriber, jane).frequency == "weekly"
    stop = web("POST", f"/unsubscribe?token={make_token(KEY, 'unsubscribe', jane, t='bill:ma/192/H135')}")
    assert stop.status_code == 200 and "You still follow S.47" in stop.text
    with sessions() as s:
        assert [t.topic for t in s.scalars(select(Subscription).where(Subscription.active.is_(True)))] == \
            ["bill:ma/192/S47"]
    forged = web("POST", "/preferences", content=b"token=forged.token&frequency=daily")
    assert forged.status_code == 400


def test_pages_escape_what_they_show(web, sessions):
    with sessions.begin() as s:
        sub = Subscriber(email="x@example.org", role="supporter", status="pending", frequency="daily",
                         start_event_id=0, created_at=datetime.now(timezone.utc))
        s.add(sub)
        s.flush()
        s.add(Subscription(subscriber_id=sub.id, topic="bill:<img src=x onerror=alert(1)>", active=True,
                           created_at=datetime.now(timezone.utc)))
        sid = sub.id
    page = web("GET", f"/preferences?token={make_token(KEY, 'preferences', sid)}")
    assert "<img src=x" not in page.text and "&lt;img src=x" in page.text
