"""``tracker run``: every job once, a controllable clock across a restart and a sleep, jobs that raise or
hang, and SIGTERM in the middle of a crawl."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.base import BaseScheduler
from click.testing import CliRunner
from sqlalchemy import func, select

from alerts.transport import MaildirTransport
from db.engine import make_engine, session_factory
from db.migrate import upgrade
from db.models import Bill, BillAction, Event, OutboxMessage, Run
from tracker import jobs as jobs_module
from tracker.cli import main
from tracker.config import parse_config
from tracker.jobs import ONCE_ORDER
from tracker.scheduler import Daemon
from tests.alerts_world import application

BOSTON = ZoneInfo("America/New_York")
ROOT = Path(__file__).resolve().parent.parent


def _config_text(base_url: str, extra: str = "") -> str:
    return f"""
sources:
  malegislature:
    base_url: {base_url}
    session: 192
    delay_s: 0
    concurrency: 4
    timeout_s: 5
bills:
  - id: H.135
  - id: S.47
digests:
  staff:
    to: [staff@example.org]
    at: "00:00"
{extra}"""


def test_run_once_performs_every_job_against_the_replica(tmp_path, monkeypatch, replica_server, db_url):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRACKER_DATABASE_URL", db_url)
    monkeypatch.delenv("TRACKER_SMTP_URL", raising=False)
    (tmp_path / "feeds.yaml").write_text(_config_text(replica_server.base_url))
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    result = runner.invoke(main, ["run", "--once"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    status = json.loads(runner.invoke(main, ["status", "--format", "json"]).output)
    assert sorted(r["job"] for r in status["runs"]) == sorted(ONCE_ORDER)
    assert all(r["ok"] for r in status["runs"])
    crawl = next(r for r in status["runs"] if r["job"] == "crawl")
    assert crawl["counts"]["bills"] == 4 and crawl["counts"]["events"] > 0  # with the drafts they led to
    assert status["digests"].get("staff-daily")  # the staff digest went out, to the maildir
    assert len(list((tmp_path / "var" / "outbox" / "new").iterdir())) == 1
    again = runner.invoke(main, ["run", "--once"], catch_exceptions=False)  # nothing is due: nothing is done
    assert again.exit_code == 0
    with session_factory(make_engine(db_url))() as s:
        crawls = list(s.scalars(select(Run).where(Run.job == "crawl").order_by(Run.id)))
        assert crawls[-1].counts["bills"] == 0  # not due for 6 hours
    assert len(list((tmp_path / "var" / "outbox" / "new").iterdir())) == 1


# -- a controllable clock -------------------------------------------------------------------------------------


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class SteppedScheduler(BaseScheduler):
    """APScheduler's own job processing, driven one step at a time by the test instead of a thread."""

    def wakeup(self):
        pass

    def shutdown(self, wait=True):
        super().shutdown(wait)

    def step(self):
        self._process_jobs()


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(datetime(2026, 11, 30, 5, 0, tzinfo=BOSTON).astimezone(timezone.utc))

    class FakeDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return clock.now.astimezone(tz) if tz else clock.now.replace(tzinfo=None)

    import apscheduler.executors.base
    import apscheduler.schedulers.base

    monkeypatch.setattr(apscheduler.schedulers.base, "datetime", FakeDatetime)
    monkeypatch.setattr(apscheduler.executors.base, "datetime", FakeDatetime)
    return clock


def test_the_daily_digest_goes_out_once_a_day_across_a_restart_and_a_sleep(sessions, tmp_path, clock):
    config = parse_config("""
sources:
  malegislature:
    sessions: []  # no docket to sync: this test is about the digest's schedule
digests:
  staff:
    to: [staff@example.org]
    at: "07:00"
    send_empty: true
""", "test")
    box = tmp_path / "outbox"

    def start():
        daemon = Daemon(application(config, sessions, b"k", transport_factory=lambda: MaildirTransport(box)), clock=clock)
        scheduler = daemon.build(SteppedScheduler, executors={"default": DebugExecutor()})
        scheduler.start()
        return scheduler

    def advance(scheduler, until, step=timedelta(minutes=5)):
        while clock.now < until:
            clock.now += step
            scheduler.step()

    def local(day, hour, minute=0):
        return datetime(2026, 11, day, hour, minute, tzinfo=BOSTON).astimezone(timezone.utc)

    scheduler = start()
    advance(scheduler, local(30, 8))
    clock.now = local(30, 11)  # the laptop slept three hours
    scheduler.step()
    advance(scheduler, local(30, 13))
    scheduler.shutdown(wait=False)  # a restart
    scheduler = start()
    advance(scheduler, local(30, 23, 55), step=timedelta(minutes=15))
    advance(scheduler, datetime(2026, 12, 1, 9, 0, tzinfo=BOSTON).astimezone(timezone.utc),
            step=timedelta(minutes=15))
    scheduler.shutdown(wait=False)

    with sessions() as s:
        digests = list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "staff-daily")
                                 .order_by(OutboxMessage.id)))
        assert [d.period for d in digests] == ["2026-11-30", "2026-12-01"]
        assert all(d.state == "sent" for d in digests)
        first = digests[0].created_at.astimezone(BOSTON)
        assert (first.hour, first.minute) == (7, 0)
        dispatches = [r.started_at for r in s.scalars(select(Run).where(Run.job == "dispatch"))]
        asleep = [t for t in dispatches if local(30, 8) < t < local(30, 11)]
        at_wake = [t for t in dispatches if t == local(30, 11)]
        assert asleep == [] and len(at_wake) == 1  # what was missed runs once, not 36 times
        assert all(r.ok for r in s.scalars(select(Run)))
    assert len(list((box / "new").iterdir())) == 2


# -- jobs that fail -------------------------------------------------------------------------------------------


def test_a_job_that_raises_is_recorded_and_retried_and_the_daemon_goes_on(sessions, tmp_path, monkeypatch, clock):
    config = parse_config("", "test")

    def explode(ctx, now):
        raise RuntimeError("spider exploded")

    monkeypatch.setitem(jobs_module.JOBS, "crawl", explode)
    daemon = Daemon(application(config, sessions, transport_factory=lambda: MaildirTransport(tmp_path / "box")), clock=clock)
    scheduler = daemon.build(SteppedScheduler, executors={"default": DebugExecutor()})
    scheduler.start()
    assert daemon.run_job("crawl") is False
    assert scheduler.get_job("retry-crawl") is not None  # retried with a backoff
    assert daemon.run_job("dispatch") is True
    with sessions() as s:
        runs = {r.job: r for r in s.scalars(select(Run))}
        assert runs["crawl"].ok is False and runs["crawl"].error == "RuntimeError: spider exploded"
        assert runs["crawl"].finished_at is not None and runs["dispatch"].ok is True
    scheduler.shutdown(wait=False)


def test_a_hung_spider_is_killed_and_the_daemon_goes_on(sessions, tmp_path, replica_server, replica):
    replica.delay_s = 30
    config = parse_config(_config_text(replica_server.base_url), "test").with_overrides(crawl_timeout_s=2,
                                                                                         timeout_s=60)
    daemon = Daemon(application(config, sessions, transport_factory=lambda: MaildirTransport(tmp_path / "box")))
    started = time.monotonic()
    assert daemon.run_job("crawl") is True  # the job ran; the bills it could not check are failures
    assert time.monotonic() - started < 20
    assert daemon.run_job("health") is True
    with sessions() as s:
        run = s.scalar(select(Run).where(Run.job == "crawl"))
        assert run.counts["errors"] == 2
        assert all("timed out after 2s" in (b.last_error or "") for b in s.scalars(select(Bill)))


def test_a_database_that_is_down_fails_the_job_and_the_run_is_recorded_when_it_is_back(tmp_path, clock):
    db = tmp_path / "t.sqlite"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    sessions = session_factory(engine)
    config = parse_config("", "test")
    daemon = Daemon(application(config, sessions, transport_factory=lambda: MaildirTransport(tmp_path / "box")), clock=clock)
    engine.dispose()
    db.rename(tmp_path / "moved.sqlite")
    (tmp_path / "t.sqlite").mkdir()  # the path is now a folder: every connection fails
    assert daemon.run_job("health") is False
    assert len(daemon.unrecorded) == 1
    (tmp_path / "t.sqlite").rmdir()
    (tmp_path / "moved.sqlite").rename(db)
    assert daemon.run_job("health") is True
    with sessions() as s:
        runs = list(s.scalars(select(Run).order_by(Run.id)))
        assert [(r.job, r.ok) for r in runs] == [("health", False), ("health", True)]
        assert "database unavailable" in runs[0].error


# -- SIGTERM --------------------------------------------------------------------------------------------------


def test_sigterm_during_a_crawl_stops_cleanly_and_leaves_every_bill_whole(tmp_path):
    from tracker.replica import Replica, ReplicaServer

    replica = Replica.from_csv(ROOT / "tests" / "data" / "ma-192-history-actions.csv", limit=40)
    replica.delay_s = 0.15
    numbers = [n for (_, n) in list(replica.bills)[:40]]
    with ReplicaServer(replica) as server:
        bills = "\n".join(f"  - id: 192/{n}" for n in numbers)
        (tmp_path / "feeds.yaml").write_text(f"""
sources:
  malegislature:
    base_url: {server.base_url}
    session: 192
    delay_s: 0
    concurrency: 2
bills:
{bills}
""")
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        env.pop("TRACKER_SMTP_URL", None)
        db = f"sqlite:///{tmp_path / 'tracker.sqlite'}"
        subprocess.run([sys.executable, "-m", "tracker", "--db", db, "init"], cwd=tmp_path, env=env,
                       check=True, capture_output=True)
        proc = subprocess.Popen([sys.executable, "-m", "tracker", "--db", db, "run"], cwd=tmp_path, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        engine = make_engine(db)
        sessions = session_factory(engine)
        deadline = time.monotonic() + 60
        stored = 0
        while time.monotonic() < deadline and stored < 3:
            time.sleep(0.2)
            with sessions() as s:
                stored = s.scalar(select(func.count(Bill.id)).where(Bill.last_success_at.is_not(None))) or 0
        assert stored >= 3, proc.stderr.read1().decode() if proc.poll() is not None else "crawl did not start"
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("tracker run did not stop within 30 s of SIGTERM")
        assert proc.returncode == 0, err.decode()[-2000:]
        assert "stopping after the running jobs" in err.decode()
    with sessions() as s:
        done = list(s.scalars(select(Bill).where(Bill.last_success_at.is_not(None))))
        assert 3 <= len(done) < 40  # stopped part-way
        for bill in done:  # every stored bill is whole: its history and its events agree
            actions = s.scalar(select(func.count(BillAction.id)).where(BillAction.bill_id == bill.id))
            events = s.scalar(select(func.count(Event.id)).where(Event.bill_id == bill.id,
                                                                 Event.kind == "bill.action"))
            tracked = s.scalar(select(func.count(Event.id)).where(Event.bill_id == bill.id,
                                                                  Event.kind == "bill.tracked"))
            assert actions == events and actions > 0 and tracked == 1
        untouched = s.scalars(select(Bill).where(Bill.last_success_at.is_(None)))
        for bill in untouched:  # not reached: no state, no events, still due, not marked failing
            assert bill.error_count == 0 and s.scalar(select(func.count(Event.id)).where(
                Event.bill_id == bill.id)) == 0
        crawl = s.scalar(select(Run).where(Run.job == "crawl"))
        assert crawl.finished_at is not None and crawl.counts.get("stopped") is True
    engine.dispose()
