"""Several `tracker run` workers against one PostgreSQL: every message delivered once, every job run once,
and a worker killed mid-batch loses its claims and leases to the other (at once: both run on this machine, so
the other sees the dead one's claim is dead; ``mail.stale_claim`` is left at 10 minutes)."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.models import Event, OutboxMessage, Run
from tests.kill9_world import queue_alerts
from tests.smtp_sink import SmtpSink
from tracker.config import parse_config
from tests.alerts_world import application

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = 500


@pytest.fixture(params=["postgresql"])
def backend(request) -> str:
    """Workers sharing a database is what PostgreSQL is for: these tests run on it only."""
    return request.param


def _config(base_url: str, rate: int) -> str:
    return f"""
sources:
  malegislature:
    base_url: {base_url}
    session: 192
    delay_s: 0
    concurrency: 4
bills:
  - id: H.135
  - id: S.47
digests:
  supporters:
    from: "Campaign <alerts@example.org>"
schedule:
  check: 1s
  dispatch: 1s
  health: 1h
  lease_ttl: 3s
mail:
  messages_per_second: {rate}
"""


def _worker(tmp_path: Path, db_url: str, smtp_url: str, name: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TRACKER_DATABASE_URL=db_url, TRACKER_SMTP_URL=smtp_url,
               TRACKER_SECRET_KEY="k")
    log = open(tmp_path / f"{name}.log", "wb")
    return subprocess.Popen([sys.executable, "-m", "tracker", "run"], cwd=tmp_path, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(*procs: subprocess.Popen) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()


def _received(sink) -> collections.Counter:
    return collections.Counter(m["Message-ID"] for _, m in list(sink.state.messages))


def test_two_workers_deliver_every_message_once_and_crawl_once(tmp_path, sessions, db_url, replica_server):
    text = _config(replica_server.base_url, rate=500)
    (tmp_path / "feeds.yaml").write_text(text)
    queued = queue_alerts(sessions, text, MESSAGES, bill_due=True)
    with SmtpSink() as sink:
        a, b = _worker(tmp_path, db_url, sink.url, "a"), _worker(tmp_path, db_url, sink.url, "b")
        try:
            _wait_for(lambda: queued <= set(_received(sink)), 120, "the 500 queued messages")
            _wait_for(lambda: _crawled(sessions) >= 4, 60, "the crawl")
            time.sleep(2)  # a duplicate would have had time to arrive
        finally:
            _stop(a, b)
    got = _received(sink)
    # every queued message, and the alerts the crawl's news led to, each exactly once
    assert queued <= set(got) and set(got.values()) == {1}
    with sessions() as s:
        assert s.scalar(select(func.count()).where(OutboxMessage.state == "sent")) == len(got)
        workers = {r.worker for r in s.scalars(select(Run).where(Run.job == "dispatch"))}
        assert len(workers) == 2  # both delivered
        crawls = [r.counts for r in s.scalars(select(Run).where(Run.job == "crawl", Run.ok.is_(True)))]
        assert sum(c["bills"] for c in crawls) == 4  # H.135, S.47 and the two bills they led to: each once
        assert s.scalar(select(func.count()).where(Event.kind == "bill.tracked")) == 4


def _crawled(sessions) -> int:
    with sessions() as s:
        return sum((r.counts or {}).get("bills", 0)
                   for r in s.scalars(select(Run).where(Run.job == "crawl", Run.ok.is_(True))))


def test_a_worker_killed_mid_batch_leaves_nothing_undelivered(tmp_path, sessions, db_url, replica_server):
    text = _config(replica_server.base_url, rate=40)
    (tmp_path / "feeds.yaml").write_text(text)
    queued = queue_alerts(sessions, text, MESSAGES, bill_due=True)
    with SmtpSink() as sink:
        a, b = _worker(tmp_path, db_url, sink.url, "a"), _worker(tmp_path, db_url, sink.url, "b")
        try:
            _wait_for(lambda: len(sink.state.messages) >= 100, 60, "the first 100 messages")
            a.send_signal(signal.SIGKILL)
            a.wait(timeout=10)
            _wait_for(lambda: queued <= set(_received(sink)), 120, "every queued message after the kill")

            def settled():
                with sessions() as s:
                    return s.scalar(select(func.count()).where(OutboxMessage.state != "sent")) == 0

            _wait_for(settled, 60, "every message marked sent")
        finally:
            _stop(a, b)
    got = _received(sink)
    twice = [mid for mid, n in got.items() if n > 1]
    assert queued <= set(got) and len(twice) <= 1 and max(got.values()) <= 2
    with sessions() as s:
        uncertain = s.scalar(select(func.sum(OutboxMessage.uncertain)))
        assert len(twice) <= uncertain <= 1  # the one in flight at the kill, counted
        assert s.scalar(select(func.count()).where(OutboxMessage.state != "sent")) == 0


def test_a_database_restart_mid_job_fails_that_run_and_the_next_one_works(sessions, db_url, engine, tmp_path,
                                                                           monkeypatch):
    """The server drops every connection in the middle of a job (as a restart does): that run fails and
    writes nothing, the worker goes on, the next run reconnects."""
    from sqlalchemy import text

    from alerts.transport import MaildirTransport
    from db.models import Bill
    from tracker import jobs as jobs_module
    from tracker.scheduler import Daemon

    def half_written(ctx, now):
        with ctx.sessions.begin() as s:
            s.add(Bill(canonical="ma/192/H1", session=192, number="H1", tracked=True, error_count=0, created_at=now))
            s.flush()
            with engine.connect() as admin:  # another connection kills this one, like a restart
                admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
                admin.commit()
            s.execute(text("SELECT 1"))
        return {}

    monkeypatch.setitem(jobs_module.JOBS, "health", half_written)
    daemon = Daemon(application(parse_config("", "test"), sessions, transport_factory=lambda: MaildirTransport(tmp_path / "box")))
    assert daemon.run_job("health") is False
    monkeypatch.setitem(jobs_module.JOBS, "health", lambda ctx, now: {"ok": 1})
    assert daemon.run_job("health") is True
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Bill)) == 0  # nothing partial stayed
        runs = [(r.ok, r.error) for r in s.scalars(select(Run).where(Run.job == "health").order_by(Run.id))]
    assert runs[-1] == (True, None)
    assert runs[0][0] is False and "terminat" in (runs[0][1] or "").lower()
