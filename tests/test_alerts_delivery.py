"""Delivery through a real SMTP server on loopback: once, never lost, faults survived."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from alerts.deliver import deliver
from alerts.dispatch import dispatch
from alerts.outbox import counts
from alerts.subscribers import subscribe
from alerts.transport import MaildirTransport, SmtpTransport, parse_smtp_url, BadSmtpUrl
from db.models import OutboxMessage, Subscriber
from tests.alerts_world import KEY, NOW, add_action, add_bill, config, settings_of
from tests.smtp_sink import SmtpSink, free_port


@pytest.fixture
def sink():
    with SmtpSink() as server:
        yield server


def _supporters(sessions, cfg, n: int, frequency: str = "immediate"):
    with sessions.begin() as s:
        bill = add_bill(s, "H135")
        for i in range(n):
            subscribe(s, settings_of(cfg), f"supporter{i}@example.org", bills=["H.135"], frequency=frequency, confirmed=True,
                      now=NOW - timedelta(days=1))
        add_action(s, bill, "Reported favorably by the committee", ["reported-favorably"], date(2026, 11, 29))


def _smtp(sink):
    return SmtpTransport(parse_smtp_url(sink.url))


def test_ten_alerts_with_a_connection_dropped_after_the_third_arrive_exactly_once(sessions, sink):
    cfg = config()
    _supporters(sessions, cfg, 10)
    sink.state.drop_on_data = {4}  # the 4th DATA loses its connection before the server takes it
    first = dispatch(settings_of(cfg, KEY), sessions, _smtp(sink), now=NOW, kinds=("supporters",))
    again = dispatch(settings_of(cfg, KEY), sessions, _smtp(sink), now=NOW + timedelta(minutes=5), kinds=("supporters",))

    received = [rcpt for rcpt, _ in sink.state.messages]
    assert sorted(received) == sorted(f"supporter{i}@example.org" for i in range(10))  # all ten, none twice
    assert first.delivery.uncertain == 1 and first.delivery.sent == 10
    assert sum(again.composed.values()) == 0 and again.delivery.sent == 0
    with sessions() as s:
        c = counts(s)
        assert c["sent"] == 10 and c["queued"] == 0 and c["uncertain"] == 1
        in_doubt = s.scalar(select(OutboxMessage).where(OutboxMessage.uncertain == 1))
        assert in_doubt.attempts == 2 and in_doubt.state == "sent"


def test_a_page_sends_what_the_shared_rate_allows_and_leaves_the_rest_for_the_next_run(sessions, sink):
    from alerts.dispatch import compose_due
    from alerts.ratelimit import TokenBucket

    cfg = config()
    _supporters(sessions, cfg, 3)
    compose_due(settings_of(cfg, KEY), sessions, NOW, kinds=("supporters",))
    with sessions() as s:
        ids = sorted(s.scalars(select(OutboxMessage.id)))
    assert len(ids) == 3
    shared = TokenBucket(0.5, burst=1)  # one message now, the next in two seconds: other requests are sending
    page = deliver(sessions, _smtp(sink), "alerts@example.org", now=lambda: NOW, only_ids=ids, bucket=shared,
                   max_wait=0.1)
    assert page.sent == 1 and page.paced == 2 and len(sink.state.messages) == 1
    with sessions() as s:
        rows = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [r.state for r in rows] == ["sent", "queued", "queued"]
        assert all(r.claimed_by is None and r.attempts == 0 for r in rows[1:])  # given back untried
    later = deliver(sessions, _smtp(sink), "alerts@example.org", now=lambda: NOW, rate=1000)  # tracker run's dispatch
    assert later.sent == 2
    assert sorted(rcpt for rcpt, _ in sink.state.messages) == [f"supporter{i}@example.org" for i in range(3)]


def test_a_server_that_is_down_keeps_everything_queued_until_it_is_back(sessions):
    cfg = config()
    _supporters(sessions, cfg, 3)
    port = free_port()
    down = dispatch(settings_of(cfg, KEY), sessions, SmtpTransport(parse_smtp_url(f"smtp://127.0.0.1:{port}")), now=NOW,
                    kinds=("supporters",))
    assert down.delivery.down and "cannot connect" in down.delivery.down and down.delivery.sent == 0
    with sessions() as s:
        assert counts(s)["queued"] == 3
        assert set(s.scalars(select(OutboxMessage.attempts))) == {0}  # a dead server burns no attempts
    with SmtpSink(port) as sink:
        back = dispatch(settings_of(cfg, KEY), sessions, _smtp(sink), now=NOW + timedelta(minutes=5), kinds=("supporters",))
        assert back.delivery.sent == 3 and len(sink.state.messages) == 3
    assert sum(back.composed.values()) == 0  # composed once, in the first run


def test_a_temporary_refusal_backs_off_then_delivers(sessions, sink):
    cfg = config()
    _supporters(sessions, cfg, 2)
    sink.state.data_reply = "451 4.3.0 Try again later"
    first = dispatch(settings_of(cfg, KEY), sessions, _smtp(sink), now=NOW, kinds=("supporters",))
    assert first.delivery.retried == 2 and first.delivery.sent == 0
    sink.state.data_reply = None
    soon = deliver(sessions, _smtp(sink), "alerts@example.org", now=lambda: NOW + timedelta(minutes=1))
    assert soon.sent == 0  # still backing off
    later = deliver(sessions, _smtp(sink), "alerts@example.org", now=lambda: NOW + timedelta(minutes=6))
    assert later.sent == 2 and len(sink.state.messages) == 2


def test_no_such_user_bounces_the_subscriber_and_suppresses_their_mail(sessions, sink):
    cfg = config()
    _supporters(sessions, cfg, 2)
    sink.state.reject["supporter0@example.org"] = "550 5.1.1 No such user here"
    report = dispatch(settings_of(cfg, KEY), sessions, _smtp(sink), now=NOW, kinds=("supporters",))
    assert report.delivery.bounced == 1 and report.delivery.sent == 1
    with sessions.begin() as s:
        sub = s.scalar(select(Subscriber).where(Subscriber.email == "supporter0@example.org"))
        assert sub.status == "bounced" and "No such user" in sub.last_error
        add_action(s, add_bill(s, "S47"), "Reported favorably", ["reported-favorably"], date(2026, 11, 30))
    # a bounced address is not written to again, even for news it would follow
    later = dispatch(settings_of(cfg, KEY), sessions, _smtp(sink), now=NOW + timedelta(hours=1), kinds=("supporters",))
    assert [r for r, _ in sink.state.messages].count("supporter0@example.org") == 0
    assert later.delivery.failed == 0


def test_a_crash_mid_send_resends_only_the_message_in_flight_and_counts_it(sessions, sink):
    cfg = config()
    _supporters(sessions, cfg, 4)
    from alerts.dispatch import compose_due

    compose_due(settings_of(cfg, KEY), sessions, NOW, kinds=("supporters",))
    # the process died after claiming message 2 (state "sending"), having sent message 1
    deliver(sessions, _smtp(sink), "alerts@example.org", now=lambda: NOW, limit=1)
    with sessions.begin() as s:
        second = s.scalars(select(OutboxMessage).where(OutboxMessage.state == "queued").order_by(OutboxMessage.id)).first()
        second.state, second.claimed_at = "sending", NOW
    too_soon = deliver(sessions, _smtp(sink), "alerts@example.org", now=lambda: NOW + timedelta(minutes=1))
    assert too_soon.recovered == 0 and too_soon.sent == 2  # the claim may still be live: left alone
    after = deliver(sessions, _smtp(sink), "alerts@example.org", now=lambda: NOW + timedelta(minutes=11))
    assert after.recovered == 1 and after.sent == 1
    assert len(sink.state.messages) == 4
    with sessions() as s:
        assert counts(s)["uncertain"] == 1 and counts(s)["sent"] == 4


def test_without_an_smtp_url_mail_lands_in_a_maildir(sessions, tmp_path):
    cfg = config()
    _supporters(sessions, cfg, 2)
    box = tmp_path / "outbox"
    report = dispatch(settings_of(cfg, KEY), sessions, MaildirTransport(box), now=NOW, kinds=("supporters",))
    assert report.delivery.sent == 2
    files = list((box / "new").iterdir())
    assert len(files) == 2 and all(b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in f.read_bytes()
                                   for f in files)


def test_smtp_urls_are_checked():
    st = parse_smtp_url("smtp://user%40x:p%3Ass@mail.example.org:587?starttls=true")
    assert (st.host, st.port, st.username, st.password, st.starttls, st.implicit_tls) == \
        ("mail.example.org", 587, "user@x", "p:ss", True, False)
    assert parse_smtp_url("smtps://relay.example.org").port == 465
    with pytest.raises(BadSmtpUrl, match="expected smtp://"):
        parse_smtp_url("http://mail.example.org")
    with pytest.raises(BadSmtpUrl, match="unknown option 'tls'"):
        parse_smtp_url("smtp://mail.example.org?tls=1")


def test_the_ledger_sends_an_event_that_committed_late_with_a_lower_id(sessions, sink):
    """PostgreSQL ids are not in commit order: an event with a lower id can appear after a higher one
    was already sent. A watermark would skip it; the ledger does not."""
    from db.models import Event

    cfg = config()
    with sessions.begin() as s:
        bill = add_bill(s, "H135")
        subscribe(s, settings_of(cfg), "jane@example.org", bills=["H.135"], frequency="immediate", confirmed=True, now=NOW)
        reserved = add_action(s, bill, "id reserved by a transaction still open", ["other"], date(2026, 11, 29))
        add_action(s, bill, "Hearing scheduled", ["hearing-scheduled"], date(2026, 11, 30))
        s.delete(reserved)  # its id is lower than the event that is sent first
    dispatch(settings_of(cfg, KEY), sessions, _smtp(sink), now=NOW, kinds=("supporters",))
    with sessions.begin() as s:
        s.add(Event(id=reserved.id, kind="bill.action", at=NOW, occurred_on=date(2026, 11, 30), bill_id=bill.id,
                    summary="late", payload={"date": "2026-11-30", "branch": "House", "action": "Committed late",
                                             "kinds": ["other"]}))
    dispatch(settings_of(cfg, KEY), sessions, _smtp(sink), now=NOW + timedelta(minutes=5), kinds=("supporters",))
    bodies = [m.get_body(("plain",)).get_content() for _, m in sink.state.messages]
    assert len(bodies) == 2 and "Committed late" in bodies[1] and "Committed late" not in bodies[0]
    assert "Hearing scheduled" in bodies[0] and "Hearing scheduled" not in bodies[1]


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_tls_and_login_are_spoken(sessions, tmp_path, tls):
    from tests.smtp_sink import self_signed_context

    cfg = config()
    _supporters(sessions, cfg, 3)
    with SmtpSink(tls=tls, context=self_signed_context(tmp_path)) as server:
        report = dispatch(settings_of(cfg, KEY), sessions, _smtp(server), now=NOW, kinds=("supporters",))
        assert report.delivery.sent == 3 and len(server.state.messages) == 3
        assert server.state.connections == 1 + (tls == "starttls")  # one connection for the batch (EHLO twice)


def test_a_wrong_password_keeps_the_mail_queued(sessions, tmp_path):
    from tests.smtp_sink import self_signed_context

    cfg = config()
    _supporters(sessions, cfg, 1)
    with SmtpSink(tls="starttls", context=self_signed_context(tmp_path)) as server:
        bad = SmtpTransport(parse_smtp_url(server.url.replace("s3cret", "wrong") + "&timeout=3"))
        report = dispatch(settings_of(cfg, KEY), sessions, bad, now=NOW, kinds=("supporters",))
        assert server.state.messages == []
    assert report.delivery.down and report.delivery.sent == 0
    with sessions() as s:
        assert counts(s)["queued"] == 1


def test_a_message_the_server_refuses_for_good_fails_without_bouncing(sessions, sink):
    cfg = config()
    _supporters(sessions, cfg, 1)
    sink.state.data_reply = "554 5.7.1 Message rejected as spam"
    report = dispatch(settings_of(cfg, KEY), sessions, _smtp(sink), now=NOW, kinds=("supporters",))
    assert report.delivery.failed == 1 and report.delivery.bounced == 0
    assert "554 5.7.1 Message rejected as spam" in report.delivery.errors[0]["error"]
    with sessions() as s:
        assert s.scalar(select(Subscriber.status)) == "active" and counts(s)["failed"] == 1


def test_threads_of_one_process_writing_to_one_maildir_lose_no_message(tmp_path):
    """The sign-up page delivers each confirmation from its own thread: many at once all land."""
    import sys
    import threading
    failures = []

    def write(n: int):
        box = MaildirTransport(tmp_path / "outbox")
        for k in range(400):
            try:
                box.send("alerts@example.org", f"fan{n}-{k}@example.org", b"Subject: hello\r\n\r\nConfirm.\r\n")
            except Exception as exc:  # noqa: BLE001 - any failure is the finding
                failures.append(repr(exc))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(16)]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns often, as under a load of requests
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(switch)
    assert failures == []
    assert len(list((tmp_path / "outbox" / "new").iterdir())) == 16 * 400
