"""The numbers README promises, each pinned by what it does: change one (the daily backfill cap from 4 days to 40,
the crawl's backoff from doubling to constant, a rate limit's window) and a test here fails.

Each test drives the real path (a dispatch, a crawl against the replica, a poll against the news replica, a
delivery to an SMTP server that answers 451, the sign-up and ask pages over ASGI) with the defaults of
``feeds.yaml``, and looks just inside and just outside each bound.

| README says                                            | test                                                     |
| backfill cap 2 / 4 / 14 days (immediate/daily/weekly)  | test_the_backfill_cap_of_each_frequency               |
| bills back off 5 min doubling, capped at 12 h          | test_a_failing_bill_backs_off_doubling_to_twelve_hours  |
| feeds back off 5 min doubling to 12 h                  | test_a_failing_feed_backs_off_doubling_to_twelve_hours  |
| mail: 5 min doubling to 6 h, mail.max_attempts 8       | test_mail_retries_* (two)                               |
| schedule.failing_after 6h; staff alert after a day     | test_failing_after_*, test_staff_are_alerted_*          |
| mail.stale_claim 10m                                   | test_a_remote_claim_is_taken_back_after_stale_claim     |
| sign-ups: 5 an hour per client, 3 a day per address    | test_sign_up_limits_*                                   |
| visitors' letters: 20 an hour per client, 5 a day/addr | test_visitor_letter_limits_*                            |
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from sqlalchemy import select, update

from alerts.deliver import deliver_outbox
from alerts.dispatch import dispatch, queue_confirmation
from alerts.subscribers import subscribe
from alerts.transport import MaildirTransport, SmtpTransport, parse_smtp_url
from db.models import Bill, Delivery, Event, Feed, OutboxMessage
from spiders.billids import parse_bill_id
from tests.alerts_world import KEY, NOW, add_bill, application, config, live_session, settings_of
from tests.smtp_sink import SmtpSink
from tracker.config import parse_config
from tracker.crawl import crawl
from tracker.health import check_health
from tracker.web.app import create_app

MIN, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


# -- the backfill cap -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("frequency, cap", [("immediate", 2 * DAY), ("daily", 4 * DAY), ("weekly", 14 * DAY)])
def test_the_backfill_cap_of_each_frequency(frequency, cap, sessions, tmp_path):
    """A supporter gets an event that happened (by the source's date) just inside her frequency's cap, and not one
    just outside it, both recorded now (a first crawl of an old history)."""
    cfg = config()
    with sessions.begin() as s:
        subscribe(s, settings_of(cfg), "jane@example.org", frequency=frequency, confirmed=True, now=NOW - DAY)
        bill = add_bill(s, "H135")
        for words, age in (("Inside the cap", cap - HOUR), ("Outside the cap", cap + HOUR)):
            happened = NOW - age
            s.add(Event(kind="bill.action", at=NOW, occurred_at=happened, occurred_on=happened.date(), bill_id=bill.id,
                        summary=f"H135 (Joint): {words}",
                        payload={"date": happened.date().isoformat(), "branch": "Joint", "action": words,
                                 "kinds": ["other"]}))
    # NOW is a Monday, 10:00 in Boston: past 07:00, the weekly day; every frequency is due
    dispatch(settings_of(cfg, KEY), sessions, MaildirTransport(tmp_path / "box"), now=NOW, kinds=("supporters",))
    with sessions() as s:
        [msg] = s.scalars(select(OutboxMessage)).all()
        shown = s.scalars(select(Event.summary).join(Delivery, Delivery.event_id == Event.id)
                          .where(Delivery.message_id == msg.id)).all()
    assert shown == ["H135 (Joint): Inside the cap"], (frequency, shown)


# -- backoff of bills and feeds ---------------------------------------------------------------------------------

def _bill_wait(sessions, at: datetime) -> tuple[timedelta, int]:
    with sessions() as s:
        bill = s.scalar(select(Bill).where(Bill.canonical == "ma/192/H135"))
        return bill.next_check_at - at, bill.error_count


def _set_errors(sessions, model, where, n: int) -> None:
    with sessions.begin() as s:
        s.execute(update(model).where(where).values(error_count=n))


def test_a_failing_bill_backs_off_doubling_to_twelve_hours(sessions, replica_server, replica):
    from tests.test_crawl import make_config
    from tracker.replica.wire import Fault

    config_ = make_config(replica_server.base_url)
    for prefix in ("/api/GeneralCourts/192/Documents/H135", "/Bills/192/H135"):
        replica.wire.arm(prefix, Fault("status", status=500))
    t0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    h135 = [parse_bill_id("H.135", 192)]

    def fail_once(at):
        result = crawl(config_, sessions, bills=h135, now=lambda: at)
        assert [e["bill"] for e in result.errors] == ["ma/192/H135"]
        return _bill_wait(sessions, at)

    waits = [fail_once(t0 + i * HOUR) for i in range(3)]
    assert waits == [(5 * MIN, 1), (10 * MIN, 2), (20 * MIN, 3)]
    # seven failures in a row already: the eighth waits 640 minutes, the ninth the cap (not 1,280 minutes)
    _set_errors(sessions, Bill, Bill.canonical == "ma/192/H135", 7)
    assert fail_once(t0 + 4 * HOUR) == (640 * MIN, 8)
    assert fail_once(t0 + 5 * HOUR) == (12 * HOUR, 9)
    assert fail_once(t0 + 6 * HOUR) == (12 * HOUR, 10)


def test_a_failing_feed_backs_off_doubling_to_twelve_hours(sessions, news_server, news):
    from tests.test_poll import CONFIG as NEWS_CONFIG
    from tracker.news.poll import poll
    from tracker.replica.wire import Fault

    config_ = parse_config(NEWS_CONFIG.format(base=news_server.base_url), "test")
    news.wire.arm("/wwlp/feed/", Fault("status", status=500))
    t0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)

    def fail_once(at):
        result = poll(config_, sessions, feeds=["WWLP"], now=lambda: at)
        assert [e["source"] for e in result.errors] == ["WWLP"]
        with sessions() as s:
            feed = s.scalar(select(Feed).where(Feed.name == "WWLP"))
            return feed.next_check_at - at, feed.error_count

    assert [fail_once(t0 + i * HOUR) for i in range(3)] == [(5 * MIN, 1), (10 * MIN, 2), (20 * MIN, 3)]
    _set_errors(sessions, Feed, Feed.name == "WWLP", 8)
    assert fail_once(t0 + 4 * HOUR) == (12 * HOUR, 9)


# -- mail retries -----------------------------------------------------------------------------------------------

@pytest.fixture
def sink():
    with SmtpSink() as server:
        yield server


def _queued_confirmation(sessions, cfg):
    with sessions.begin() as s:
        sub = subscribe(s, settings_of(cfg), "jane@example.org", now=NOW).subscriber
        return queue_confirmation(s, settings_of(cfg), sub, NOW).id


def _retry_until_settled(sessions, cfg, sink, message_id) -> tuple[list[timedelta], str]:
    """Deliver at each moment the message is due again until it is settled: the waits between its attempts."""
    transport = SmtpTransport(parse_smtp_url(f"smtp://127.0.0.1:{sink.port}"))
    at, waits = NOW, []
    for _ in range(60):
        deliver_outbox(settings_of(cfg), sessions, transport, now=lambda: at)
        with sessions() as s:
            row = s.get(OutboxMessage, message_id)
            if row.state != "queued":
                return waits, row.state
            assert row.next_attempt_at > at  # not due again before the wait is over
            waits.append(row.next_attempt_at - at)
            at = row.next_attempt_at
    raise AssertionError("never settled")


def test_mail_retries_back_off_doubling_and_give_up_after_max_attempts(sessions, sink):
    """The defaults: 8 tries (a 451 each), 5 minutes between the first two, doubling."""
    sink.state.data_reply = "451 4.3.0 try again later"
    cfg = config()
    waits, state = _retry_until_settled(sessions, cfg, sink, _queued_confirmation(sessions, cfg))
    assert waits == [5 * MIN, 10 * MIN, 20 * MIN, 40 * MIN, 80 * MIN, 160 * MIN, 320 * MIN]
    assert state == "failed"
    with sessions() as s:
        assert s.scalar(select(OutboxMessage.attempts)) == 8


def test_mail_retries_wait_at_most_six_hours(sessions, sink):
    """With more tries than the default, the wait stops doubling at 6 hours (640 minutes would come next)."""
    sink.state.data_reply = "451 4.3.0 try again later"
    base = config()
    cfg = base.model_copy(update={"mail": base.mail.model_copy(update={"max_attempts": 10})})
    waits, state = _retry_until_settled(sessions, cfg, sink, _queued_confirmation(sessions, cfg))
    assert waits[6:] == [320 * MIN, 6 * HOUR, 6 * HOUR] and state == "failed"


# -- a remote worker's stale claim ------------------------------------------------------------------------------

def test_a_remote_claim_is_taken_back_after_stale_claim(sessions, sink):
    """A message claimed by a worker on another machine (its death cannot be seen from here) is sent again once
    claimed ``mail.stale_claim`` (10 minutes) ago, and not a second before."""
    cfg = config()
    message_id = _queued_confirmation(sessions, cfg)
    with sessions.begin() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                  .values(state="sending", claimed_at=NOW, claimed_by="elsewhere:4242:abcd@another-machine"))
    transport = SmtpTransport(parse_smtp_url(f"smtp://127.0.0.1:{sink.port}"))
    early = deliver_outbox(settings_of(cfg), sessions, transport, now=lambda: NOW + 10 * MIN - timedelta(seconds=1))
    assert early.recovered == 0 and sink.state.messages == []
    later = deliver_outbox(settings_of(cfg), sessions, transport, now=lambda: NOW + 10 * MIN + timedelta(seconds=1))
    assert later.recovered == 1 and [rcpt for rcpt, _ in sink.state.messages] == ["jane@example.org"]


# -- source health ----------------------------------------------------------------------------------------------

def _failing_since(sessions, since):
    with sessions.begin() as s:
        for b in s.scalars(select(Bill)):
            b.error_count, b.failing_since, b.last_error = 3, since, "https://malegislature.gov/api/...: HTTP 503"


def test_failing_after_a_source_failing_just_under_six_hours_has_no_event_just_over_has_one(sessions):
    cfg = config()
    with sessions.begin() as s:
        add_bill(s, "H135")
    _failing_since(sessions, NOW - 6 * HOUR + MIN)
    assert check_health(cfg, sessions, NOW) == []
    [failing] = check_health(cfg, sessions, NOW + 2 * MIN)
    assert failing.kind == "source.failing"


def test_staff_are_alerted_once_a_source_has_failed_for_more_than_a_day(sessions, tmp_path):
    cfg = config()
    with sessions.begin() as s:
        add_bill(s, "H135")
    _failing_since(sessions, NOW - DAY + MIN)
    check_health(cfg, sessions, NOW)
    early = dispatch(settings_of(cfg, KEY), sessions, MaildirTransport(tmp_path / "box"), now=NOW, kinds=("staff",))
    assert "staff-alert" not in early.composed
    late = dispatch(settings_of(cfg, KEY), sessions, MaildirTransport(tmp_path / "box"), now=NOW + 2 * MIN,
                    kinds=("staff",))
    assert late.composed["staff-alert"] == 1


def test_a_failure_the_staff_digest_told_of_still_gets_its_alert_a_day_in(sessions, tmp_path):
    """The digest of the morning holds the ``source.failing`` event (its ledger row); the alert a day after the
    failure began is sent all the same (it used to break the ledger's key and fail every dispatch)."""
    cfg = config()
    with sessions.begin() as s:
        add_bill(s, "H135")
    _failing_since(sessions, NOW - 7 * HOUR)
    check_health(cfg, sessions, NOW)
    box = MaildirTransport(tmp_path / "box")
    assert dispatch(settings_of(cfg, KEY), sessions, box, now=NOW, kinds=("staff",)).composed["staff-daily"] == 1
    later = dispatch(settings_of(cfg, KEY), sessions, box, now=NOW + 18 * HOUR, kinds=("staff",))
    assert later.composed["staff-alert"] == 1 and later.errors == []
    with sessions() as s:
        kinds = s.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert kinds == ["staff-daily", "staff-alert"]


# -- the web's rate limits --------------------------------------------------------------------------------------

class _Web:
    """The web app over ASGI from one client address, its rate limits read at a clock the test moves."""

    def __init__(self, app):
        self.loop = asyncio.new_event_loop()
        self.c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 5555)),
                                   base_url="http://test")
        self.at = datetime.now(timezone.utc)
        app.state.rate_limits.clock = lambda: self.at

    def __call__(self, method, url, **kw):
        return self.loop.run_until_complete(self.c.request(method, url, **kw))

    def close(self):
        self.loop.run_until_complete(self.c.aclose())
        self.loop.close()


@pytest.fixture
def signup_web(sessions, tmp_path):
    with sessions.begin() as s:
        add_bill(s, "H135", session=live_session())
    web = _Web(create_app(application(config(), sessions, KEY,
                                      transport_factory=lambda: MaildirTransport(tmp_path / "outbox"))))
    page = web("GET", "/signup")
    web.csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    yield web
    web.close()


def _sign_up(web, email):
    return web("POST", "/signup", data={"csrf": web.csrf, "email": email, "frequency": "weekly"}).status_code


def test_sign_up_limits_five_an_hour_per_client_address(signup_web):
    t0 = signup_web.at
    assert [_sign_up(signup_web, f"p{i}@example.org") for i in range(5)] == [200] * 5
    signup_web.at = t0 + HOUR - MIN
    assert _sign_up(signup_web, "p5@example.org") == 429
    signup_web.at = t0 + HOUR + MIN
    assert _sign_up(signup_web, "p6@example.org") == 200


def test_sign_up_limits_three_a_day_per_email_address(signup_web):
    t0 = signup_web.at
    for i in range(3):  # an hour and more apart: the client's limit is not what counts
        signup_web.at = t0 + i * 2 * HOUR
        assert _sign_up(signup_web, "jane@example.org") == 200
    signup_web.at = t0 + DAY - MIN
    assert _sign_up(signup_web, "jane@example.org") == 429
    signup_web.at = t0 + 4 * HOUR + DAY + MIN  # a day after the third
    assert _sign_up(signup_web, "jane@example.org") == 200


@pytest.fixture
def act_web(sessions, tmp_path):
    from tests import asks_world as w

    w.build(sessions)
    web = _Web(create_app(application(w.cfg(), sessions, KEY, public_url="http://127.0.0.1:8000",
                                      transport_factory=lambda: MaildirTransport(tmp_path / "outbox"))))
    page = web("GET", f"/act/write-your-legislators?house_district={w.HOUSE}&senate_district={w.SENATE}")
    web.form = w.form_of(page.text) | {"first_name": "Vic", "last_name": "Visitor"}
    yield web
    web.close()


def _write(web, email):
    return web("POST", "/act/write-your-legislators", data=web.form | {"email": email}).status_code


def test_visitor_letter_limits_twenty_an_hour_per_client_address(act_web):
    t0 = act_web.at
    assert [_write(act_web, f"v{i}@example.org") for i in range(20)] == [200] * 20
    act_web.at = t0 + HOUR - MIN
    assert _write(act_web, "v20@example.org") == 429
    act_web.at = t0 + HOUR + MIN
    assert _write(act_web, "v21@example.org") == 200


def test_visitor_letter_limits_five_a_day_per_email_address(act_web):
    t0 = act_web.at
    for i in range(5):
        act_web.at = t0 + i * 2 * HOUR
        assert _write(act_web, "vic@example.org") == 200
    act_web.at = t0 + DAY - MIN
    assert _write(act_web, "vic@example.org") == 429
    act_web.at = t0 + 8 * HOUR + DAY + MIN  # a day after the fifth
    assert _write(act_web, "vic@example.org") == 200
