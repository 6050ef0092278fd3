"""``mail.connections``: a delivery run sends over several SMTP connections at once, each a thread with at most one
message in doubt; every message still arrives once, and the send rate holds for all of them together."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from alerts.deliver import deliver
from alerts.dispatch import compose_due, dispatch
from alerts.outbox import counts
from alerts.ratelimit import TokenBucket
from alerts.subscribers import subscribe
from alerts.transport import SmtpTransport, parse_smtp_url
from db.models import OutboxMessage, Subscriber
from tests.alerts_world import KEY, NOW, add_action, add_bill, config, settings_of
from tests.smtp_sink import SmtpSink
from tracker.config import ConfigError, parse_config

SENDER = "alerts@example.org"


@pytest.fixture
def sink():
    with SmtpSink() as server:
        yield server


def _queued(sessions, cfg, n: int) -> None:
    with sessions.begin() as s:
        bill = add_bill(s, "H135")
        for i in range(n):
            subscribe(s, settings_of(cfg), f"supporter{i}@example.org", bills=["H.135"], frequency="immediate",
                      confirmed=True, now=NOW - timedelta(days=1))
        add_action(s, bill, "Reported favorably by the committee", ["reported-favorably"], date(2026, 11, 29))
    compose_due(settings_of(cfg, KEY), sessions, NOW, kinds=("supporters",))


def _smtp(sink):
    return SmtpTransport(parse_smtp_url(sink.url))


def test_four_connections_deliver_every_message_exactly_once(sessions, sink):
    cfg = config("  connections: 4\n")
    assert cfg.mail.connections == 4 and settings_of(cfg).mail.connections == 4
    with sessions.begin() as s:
        bill = add_bill(s, "H135")
        for i in range(40):
            subscribe(s, settings_of(cfg), f"supporter{i}@example.org", bills=["H.135"], frequency="immediate",
                      confirmed=True, now=NOW - timedelta(days=1))
        add_action(s, bill, "Reported favorably by the committee", ["reported-favorably"], date(2026, 11, 29))
    sink.state.data_delay_s = 0.01  # a slow server: the connections overlap
    report = dispatch(settings_of(cfg, KEY), sessions, _smtp(sink), now=NOW, kinds=("supporters",))

    received = Counter(rcpt for rcpt, _ in sink.state.messages)
    assert received == Counter({f"supporter{i}@example.org": 1 for i in range(40)})
    assert report.delivery.sent == 40 and report.delivery.uncertain == 0 and not report.delivery.errors
    assert sink.state.connections == 4  # dispatch took mail.connections from the settings
    with sessions() as s:
        c = counts(s)
        assert c["sent"] == 40 and c["queued"] == 0 and c["sending"] == 0
        assert not list(s.scalars(select(OutboxMessage.claimed_by).where(OutboxMessage.claimed_by.is_not(None))))


def test_connections_dropped_mid_run_lose_nothing_and_resend_only_the_counted_uncertain(sessions, sink):
    cfg = config()
    _queued(sessions, cfg, 30)
    sink.state.drop_on_data = {3, 11, 20}  # three DATAs lose their connection (those messages did not arrive)
    report = deliver(sessions, _smtp(sink), SENDER, now=lambda: NOW, rate=1000, connections=3)
    again = deliver(sessions, _smtp(sink), SENDER, now=lambda: NOW + timedelta(minutes=5), rate=1000, connections=3)

    received = Counter(rcpt for rcpt, _ in sink.state.messages)
    assert set(received) == {f"supporter{i}@example.org" for i in range(30)}  # none lost
    assert max(received.values()) == 1  # and here none twice: the dropped ones had not arrived
    assert report.uncertain == 3 and report.sent + again.sent == 30
    with sessions() as s:
        c = counts(s)
        assert c["sent"] == 30 and c["queued"] == 0 and c["sending"] == 0 and c["uncertain"] == 3


def test_a_connection_that_breaks_for_good_stops_the_run_and_keeps_the_rest_queued(sessions, sink):
    cfg = config()
    _queued(sessions, cfg, 12)
    sink.state.mail_reply = "421 4.3.2 Service not available"  # the server goes away: every connection stops
    report = deliver(sessions, _smtp(sink), SENDER, now=lambda: NOW, rate=1000, connections=3)
    assert report.down and report.sent == 0
    with sessions() as s:
        c = counts(s)
        assert c["queued"] == 12 and c["sending"] == 0 and c["uncertain"] == 0
    sink.state.mail_reply = None
    back = deliver(sessions, _smtp(sink), SENDER, now=lambda: NOW, rate=1000, connections=3)
    assert back.sent == 12
    assert sorted(rcpt for rcpt, _ in sink.state.messages) == sorted(f"supporter{i}@example.org" for i in range(12))


def test_the_rate_holds_for_all_connections_together(sessions, sink):
    cfg = config()
    _queued(sessions, cfg, 30)
    bucket = TokenBucket(20.0)  # a burst of 20, then 20 a second: 30 messages take at least half a second
    started = time.monotonic()
    report = deliver(sessions, _smtp(sink), SENDER, now=lambda: NOW, bucket=bucket, connections=4)
    elapsed = time.monotonic() - started
    assert report.sent == 30 and len(sink.state.messages) == 30
    assert elapsed >= 0.45 and bucket.waited >= 0.45


def test_a_limit_is_kept_with_several_connections(sessions, sink):
    cfg = config()
    _queued(sessions, cfg, 10)
    report = deliver(sessions, _smtp(sink), SENDER, now=lambda: NOW, rate=1000, connections=4, limit=3)
    assert report.sent == 3 and len(sink.state.messages) == 3
    with sessions() as s:
        assert counts(s)["queued"] == 7


@pytest.mark.parametrize("value, fragment", [("0", "greater than or equal to 1"), ("33", "less than or equal to 32"),
                                             ("two", "valid integer"), ("1.5", "valid integer")])
def test_bad_connections_are_refused_with_the_line(value, fragment):
    with pytest.raises(ConfigError) as exc:
        parse_config(f"mail:\n  connections: {value}\n", "cfg.yaml")
    assert str(exc.value).startswith("cfg.yaml:2: mail.connections:") and fragment in str(exc.value)


def test_one_connection_is_the_default():
    assert parse_config("", "cfg.yaml").mail.connections == 1


def test_an_unsubscribe_while_the_run_sends_holds_her_message_back(sessions, sink):
    """The due messages are read a page ahead; a supporter who unsubscribes while the run is sending the messages
    before hers gets nothing (her status is read again when her message is claimed)."""
    cfg = config()
    _queued(sessions, cfg, 3)
    transport = _smtp(sink)
    send = transport.send

    def send_then_unsubscribe(sender, to_addr, message):
        send(sender, to_addr, message)
        if to_addr == "supporter0@example.org":
            with sessions.begin() as s:
                s.execute(Subscriber.__table__.update().where(Subscriber.email == "supporter1@example.org")
                          .values(status="unsubscribed"))

    transport.send = send_then_unsubscribe
    report = deliver(sessions, transport, SENDER, now=lambda: NOW, rate=1000)
    received = {rcpt for rcpt, _ in sink.state.messages}
    assert received == {"supporter0@example.org", "supporter2@example.org"}
    assert report.sent == 2 and report.suppressed == 1


def test_a_failed_attempt_is_recorded_without_holding_the_runs_lock(sessions, sink, monkeypatch):
    """Recording a failed attempt waits for the database's write lock; a connection that holds that lock may be
    waiting for the run's lock (to take the next message of the page). Recording it under the run's lock was a
    deadlock that ended after SQLite's 30 s with "database is locked" (seen in CI with three connections)."""
    import alerts.deliver as deliver_module

    runs, held = [], []
    make_run, record_failure = deliver_module._Run.__init__, deliver_module._failed

    def remember(self, *args, **kwargs):
        make_run(self, *args, **kwargs)
        runs.append(self)

    def failed(*args, **kwargs):
        held.append(runs[-1].lock.locked())  # one connection: nobody else can be holding it
        return record_failure(*args, **kwargs)

    monkeypatch.setattr(deliver_module._Run, "__init__", remember)
    monkeypatch.setattr(deliver_module, "_failed", failed)
    cfg = config()
    _queued(sessions, cfg, 3)
    sink.state.drop_on_data = {2}
    report = deliver(sessions, _smtp(sink), SENDER, now=lambda: NOW, rate=1000, connections=1)
    assert held == [False]
    assert report.uncertain == 1 and report.retried == 1 and report.sent == 3
