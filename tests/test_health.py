"""Health events, staff alerts for long failures, retention, and JSON logs."""

from __future__ import annotations

import json
import zlib
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import select

from alerts.dispatch import dispatch
from alerts.transport import MaildirTransport
from db.checks import throttled_until
from db.models import Bill, Event, Feed, OutboxMessage, Snapshot
from tests.alerts_world import KEY, NOW, add_bill, config, settings_of
from tracker.health import check_health
from tracker.retention import apply_retention
from tracker.status import status


def _fail(sessions, since, error="https://malegislature.gov/api/...: HTTP 503"):
    with sessions.begin() as s:
        for b in s.scalars(select(Bill)):
            b.error_count, b.failing_since, b.last_error = 3, since, error


def _recover(sessions):
    with sessions.begin() as s:
        for b in s.scalars(select(Bill)):
            b.error_count, b.failing_since, b.last_error, b.last_success_at = 0, None, None, NOW


def test_a_source_failing_long_enough_gets_one_failing_event_then_one_recovered(sessions):
    cfg = config()
    with sessions.begin() as s:
        add_bill(s, "H135")
    _fail(sessions, NOW - timedelta(hours=2))
    assert check_health(cfg, sessions, NOW) == []  # two hours: not yet (failing_after 6h)
    _fail(sessions, NOW - timedelta(hours=7))
    [failing] = check_health(cfg, sessions, NOW)
    assert failing.kind == "source.failing" and failing.payload["source"] == "malegislature"
    assert "HTTP 503" in failing.summary
    assert check_health(cfg, sessions, NOW + timedelta(minutes=15)) == []  # once, not every check
    _recover(sessions)
    [recovered] = check_health(cfg, sessions, NOW + timedelta(hours=1))
    assert recovered.kind == "source.recovered" and recovered.payload["source"] == "malegislature"
    assert check_health(cfg, sessions, NOW + timedelta(hours=2)) == []


def _sources(sessions, cfg, now):
    with sessions() as s:
        return {src["name"]: src for src in status(s, cfg, now)["sources"]}


def test_each_source_has_a_state_and_a_throttle_before_any_success_is_not_ok(sessions):
    cfg = config("feeds:\n  - name: WWLP\n    url: https://www.wwlp.com/feed/\n")
    # listed in feeds.yaml, never crawled nor polled: never-fetched, not ok
    never = _sources(sessions, cfg, NOW)
    assert {n: (src["state"], src["ok"]) for n, src in never.items()} == \
        {"malegislature": ("never-fetched", False), "WWLP": ("never-fetched", False)}
    with sessions.begin() as s:
        add_bill(s, "H135")
        s.add(Feed(name="WWLP", url="https://www.wwlp.com/feed/", active=True, error_count=0, created_at=NOW))
    assert _sources(sessions, cfg, NOW)["malegislature"]["state"] == "never-fetched"
    # the site answers 429, Retry-After 3600, before anything was fetched
    until = throttled_until(NOW, timedelta(hours=1))
    with sessions.begin() as s:
        for row in [*s.scalars(select(Bill)), *s.scalars(select(Feed))]:
            row.postponed(until, asked_at=NOW)
    src = _sources(sessions, cfg, NOW)
    for name in ("malegislature", "WWLP"):
        assert (src[name]["state"], src[name]["ok"], src[name]["error"], src[name]["last_success"]) == \
            ("throttled", False, None, None)
        assert src[name]["throttled_until"] == until.isoformat()
    assert check_health(cfg, sessions, NOW + timedelta(minutes=59)) == []  # waiting as asked is no failure
    # the hour passes with no check yet: not throttled any more, still nothing fetched
    later = _sources(sessions, cfg, NOW + timedelta(hours=1, minutes=1))["malegislature"]
    assert (later["state"], later["ok"], later["throttled_until"]) == ("never-fetched", False, None)
    # a check succeeds: ok; then a throttle after a success leaves ok true (nothing failed, the data is there)
    at = NOW + timedelta(hours=2)
    with sessions.begin() as s:
        for b in s.scalars(select(Bill)):
            b.checked_ok(at, at + timedelta(hours=1), etag=None, last_modified=None)
    fine = _sources(sessions, cfg, at)["malegislature"]
    assert (fine["state"], fine["ok"], fine["throttled_until"]) == ("ok", True, None)
    with sessions.begin() as s:
        for b in s.scalars(select(Bill)):
            b.postponed(at + timedelta(hours=3), asked_at=at)
    again = _sources(sessions, cfg, at)["malegislature"]
    assert (again["state"], again["ok"]) == ("throttled", True)
    # a failure says failing, throttled or not
    _fail(sessions, at - timedelta(hours=1))
    failing = _sources(sessions, cfg, at)["malegislature"]
    assert (failing["state"], failing["ok"]) == ("failing", False)


def test_staff_hear_at_once_of_a_source_failing_for_more_than_a_day(sessions, tmp_path):
    cfg = config()
    with sessions.begin() as s:
        add_bill(s, "H135")
    _fail(sessions, NOW - timedelta(hours=30))
    check_health(cfg, sessions, NOW)
    early = (NOW + timedelta(days=1)).replace(hour=9)  # 04:00 in Boston: no digest due, the alert goes anyway
    report = dispatch(settings_of(cfg, KEY), sessions, MaildirTransport(tmp_path / "box"), now=early, kinds=("staff",))
    assert report.composed["staff-alert"] == 1
    again = dispatch(settings_of(cfg, KEY), sessions, MaildirTransport(tmp_path / "box"), now=early + timedelta(hours=1),
                     kinds=("staff",))
    assert "staff-alert" not in again.composed  # once per failure
    with sessions() as s:
        alert = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "staff-alert"))
        assert alert.subject == "Regulate face surveillance: malegislature has been failing for 48 hours"
        body = zlib.decompress(alert.body).decode()
        assert "HTTP 503" in body


def test_the_staff_digest_says_a_source_recovered(sessions, tmp_path):
    cfg = config()
    with sessions.begin() as s:
        add_bill(s, "H135")
    _fail(sessions, NOW - timedelta(hours=8))
    check_health(cfg, sessions, NOW - timedelta(hours=1))
    _recover(sessions)
    check_health(cfg, sessions, NOW - timedelta(minutes=30))
    dispatch(settings_of(cfg, KEY), sessions, MaildirTransport(tmp_path / "box"), now=NOW, kinds=("staff",))
    with sessions() as s:
        digest = s.scalar(select(OutboxMessage).where(OutboxMessage.kind == "staff-daily"))
        body = zlib.decompress(digest.body).decode()
    assert "malegislature (bills): failing" in body and "malegislature works again" in body


def test_retention_drops_only_what_nothing_points_to(sessions):
    cfg = config()
    with sessions.begin() as s:
        old = Snapshot(sha256="a" * 64, url="u", status=200, fetched_at=NOW - timedelta(days=40), size=1, body=b"x")
        kept = Snapshot(sha256="b" * 64, url="u", status=200, fetched_at=NOW - timedelta(days=40), size=1, body=b"y")
        young = Snapshot(sha256="c" * 64, url="u", status=200, fetched_at=NOW - timedelta(days=1), size=1, body=b"z")
        s.add_all([old, kept, young])
        s.flush()
        s.add(Event(kind="bill.tracked", at=NOW, summary="x", payload={}, snapshot_id=kept.id))
        sub_id = _subscriber(s)
        for days, state in ((40, "sent"), (5, "sent"), (40, "failed")):
            s.add(OutboxMessage(subscriber_id=sub_id, kind="alert", period=f"{days}-{state}", state=state,
                                to_addr="a@example.org", subject="s", message_id="m", body=b"body", events=0,
                                attempts=1, uncertain=0, next_attempt_at=NOW, created_at=NOW - timedelta(days=days),
                                sent_at=NOW - timedelta(days=days) if state == "sent" else None))
    counts = apply_retention(cfg, sessions, NOW)
    assert counts == {"snapshots_deleted": 1, "bodies_dropped": 1}
    with sessions() as s:
        assert sorted(x.sha256[0] for x in s.scalars(select(Snapshot))) == ["b", "c"]
        bodies = {m.period: m.body for m in s.scalars(select(OutboxMessage))}
        assert bodies == {"40-sent": None, "5-sent": b"body", "40-failed": b"body"}
        assert s.scalar(select(Event.id)) is not None  # events are never deleted


def _subscriber(s) -> int:
    from db.models import Subscriber

    sub = Subscriber(email="a@example.org", role="supporter", status="active", frequency="daily",
                     start_event_id=0, created_at=NOW)
    s.add(sub)
    s.flush()
    return sub.id


def test_json_logs_carry_the_job_fields(tmp_path, monkeypatch):
    from tracker.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "feeds.yaml").write_text("sources: {malegislature: {sessions: []}}\n"
                                         "digests:\n  staff:\n    to: [staff@example.org]\n")
    runner = CliRunner()
    runner.invoke(main, ["init"])
    result = runner.invoke(main, ["--log-format", "json", "run", "--once"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    jobs = {rec["job"]: rec for rec in lines if rec.get("logger") == "tracker.run" and "job" in rec}
    assert set(jobs) == {"crawl", "sync", "poll", "health", "dispatch", "retention"}  # sync: nothing to sync, ok
    assert isinstance(jobs["retention"]["duration_s"], float) and jobs["health"]["failing"] == 0
