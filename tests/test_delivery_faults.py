"""Every delivery fault against one invariant, checked after the faulty run and after the recovery:

each due message is either sent exactly once (by Message-ID at the SMTP server), or queued for a
later attempt and not received at all; a message received twice is one the sender could not know
about (its connection broke after DATA) and is counted in ``uncertain``; nothing is left ``sending``.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from alerts.deliver import deliver
from alerts.dispatch import dispatch
from alerts.subscribers import subscribe
from alerts.transport import SmtpTransport, parse_smtp_url
from db.models import OutboxMessage, Subscriber
from tests.alerts_world import KEY, NOW, add_action, add_bill, config, settings_of
from tests.smtp_sink import SmtpSink, free_port

N = 12
LATER = NOW + timedelta(hours=7)  # past every backoff of the first attempts


class BusyServer:
    """Answers every connection with ``421 busy`` and hangs up (an overloaded relay's greeting)."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.sendall(b"421 4.3.2 Too busy, try later\r\n")
            conn.close()

    def close(self):
        self.sock.close()


def _world(sessions, cfg):
    with sessions.begin() as s:
        bill = add_bill(s, "H135")
        for i in range(N):
            subscribe(s, settings_of(cfg), f"supporter{i}@example.org", bills=["H.135"], frequency="immediate", confirmed=True,
                      now=NOW - timedelta(days=1))
        add_action(s, bill, "Reported favorably by the committee", ["reported-favorably"], date(2026, 11, 29))


def check_invariant(sessions, sink: SmtpSink, final: bool) -> dict:
    """The invariant; returns the outbox by state. ``final``: after the recovery, nothing may wait."""
    received = Counter(m["Message-ID"] for _, m in sink.state.messages)
    with sessions() as s:
        rows = s.execute(select(OutboxMessage.message_id, OutboxMessage.state, OutboxMessage.uncertain,
                                OutboxMessage.next_attempt_at, Subscriber.status)
                         .join(Subscriber, Subscriber.id == OutboxMessage.subscriber_id)
                         .where(OutboxMessage.kind == "alert")).all()
    assert len(rows) == N  # every due message was composed, once
    by_state = Counter(r.state for r in rows)
    for r in rows:
        got = received[r.message_id]
        assert r.state in ("sent", "queued", "suppressed", "failed"), r
        if r.state == "sent":
            assert got == 1 or (got == 2 and r.uncertain >= 1), (r, got)
        elif r.state == "queued":
            assert got == 0 or r.uncertain >= 1, (r, got)
            assert not final, f"{r.message_id} still queued after the recovery"
        else:  # suppressed (the address bounced) or failed for good: never received
            assert got == 0 or r.uncertain >= 1, (r, got)
    assert set(received) <= {r.message_id for r in rows}
    return dict(by_state)


def _smtp(url):
    return SmtpTransport(parse_smtp_url(url))


SCENARIOS = ["421 at MAIL FROM", "421 greeting", "451 on DATA", "550 for one address",
             "dropped after DATA (5th)", "dropped after DATA (every 3rd)", "server down"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_delivery_fault_loses_nothing_and_sends_nothing_twice_uncounted(scenario, sessions):
    cfg = config()
    _world(sessions, cfg)
    port = free_port()
    busy = None
    with SmtpSink(port) as sink:
        url = sink.url
        state = sink.state
        if scenario == "421 at MAIL FROM":
            state.mail_reply = "421 4.3.2 Service not available, closing channel"
        elif scenario == "451 on DATA":
            state.data_reply = "451 4.3.0 Try again later"
        elif scenario == "550 for one address":
            state.reject["supporter3@example.org"] = "550 5.1.1 No such user here"
        elif scenario == "dropped after DATA (5th)":
            state.drop_on_data = {5}
        elif scenario == "dropped after DATA (every 3rd)":
            state.drop_on_data = {3, 6, 9, 12, 15}
        elif scenario == "421 greeting":
            busy = BusyServer()
            url = f"smtp://127.0.0.1:{busy.port}"
        elif scenario == "server down":
            url = f"smtp://127.0.0.1:{free_port()}"

        first = dispatch(settings_of(cfg, KEY), sessions, _smtp(url), now=NOW, kinds=("supporters",))
        drops, data_seen = set(state.drop_on_data), state.data_count
        with sessions() as s:
            attempts_during = Counter(s.scalars(select(OutboxMessage.attempts)))
        during = check_invariant(sessions, sink, final=False)

        state.mail_reply = state.data_reply = None
        state.drop_on_data = set()
        if busy is not None:
            busy.close()
        recovery = deliver(sessions, _smtp(sink.url), "alerts@example.org", now=lambda: LATER)
        after = check_invariant(sessions, sink, final=True)

    delivered = Counter(rcpt for rcpt, _ in sink.state.messages)
    bounced = 1 if scenario == "550 for one address" else 0
    assert after.get("sent", 0) == N - bounced and after.get("suppressed", 0) + after.get("failed", 0) == bounced
    assert first.delivery.sent + recovery.sent == N - bounced
    twice = sum(1 for n in delivered.values() if n > 1)
    assert twice <= first.delivery.uncertain + recovery.uncertain  # every duplicate is counted
    if scenario.startswith("dropped"):  # each DATA left without a reply is counted, and was sent again
        assert first.delivery.uncertain == sum(1 for d in drops if d <= data_seen) >= 1
    if scenario in ("server down", "421 greeting", "421 at MAIL FROM"):
        # the server, not the message: the run stopped at once, no message lost an attempt
        assert during == {"queued": N} and first.delivery.down and first.delivery.retried == 0
        assert attempts_during == {0: N}  # right after the faulty run, before the recovery
    if scenario == "451 on DATA":
        assert attempts_during == {1: N}
    if scenario == "451 on DATA":  # the message, for now: each backs off
        assert during == {"queued": N} and first.delivery.retried == N and first.delivery.sent == 0
