"""Heartbeats (``db.heartbeat``): a worker that stops beating -- killed on another machine, where its pid means
nothing -- has its outbox claims and job leases taken back after three missed beats, by the database's clock,
not after ``mail.stale_claim`` (10 minutes) and ``schedule.lease_ttl`` (2 minutes); while it beats nothing of
it is taken, and a claimant that never beat still waits for those bounds."""

from __future__ import annotations

import signal
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text, update

from alerts.deliver import recover_stale
from db.heartbeat import MISSED_BEATS, Heartbeat, beat, silent, this_worker, worker_of
from db.leases import acquire, holder_name
from db.models import Lease, OutboxMessage, Run, Worker
from tests import kill9_world as w
from tests.smtp_sink import SmtpSink
from tracker.config import ConfigError, parse_config

FAR = "far-away:1:deliver@0123456789ab.4026531836.77"  # another machine's worker: pid 1 of its own namespace
NO_BEAT = "old-box:2:deliver@0123456789ab.4026531836.78"  # another machine's worker that never beats
HOUR = timedelta(hours=1)


def _db_now(s) -> datetime:
    if s.get_bind().dialect.name == "postgresql":
        return s.scalar(text("SELECT now()"))
    return datetime.fromisoformat(s.scalar(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"))).replace(
        tzinfo=timezone.utc)


def test_the_setting_defaults_to_20_seconds_and_refuses_less_than_one():
    assert parse_config("", "feeds.yaml").workers.heartbeat == timedelta(seconds=20)
    assert parse_config("workers:\n  heartbeat: 1s\n", "feeds.yaml").workers.heartbeat == timedelta(seconds=1)
    with pytest.raises(ConfigError, match="workers.heartbeat"):
        parse_config("workers:\n  heartbeat: 0s\n", "feeds.yaml")


def test_a_claim_or_lease_names_its_worker():
    assert worker_of(FAR) == "far-away:1@0123456789ab.4026531836.77"
    assert worker_of("host:12:old-format") == "host:12"  # a name from before @place
    assert worker_of("nonsense") is None and worker_of("a:b:c") is None
    assert worker_of(holder_name("t")) == this_worker()  # a lease or claim of this process names its row


def test_a_beat_is_the_database_clock_and_silence_is_three_of_the_workers_own_beats(sessions):
    every = timedelta(seconds=0.5)
    beat(sessions, worker_of(FAR), every)
    with sessions() as s:
        row = s.get(Worker, worker_of(FAR))
        assert (row.host, row.pid, row.every_s) == ("far-away", 1, 0.5)
        assert abs(row.beat_at - _db_now(s)) < timedelta(seconds=2)
        assert silent(s, [FAR, NO_BEAT]) == set()  # it beats; the other has no row: never silent
    time.sleep(MISSED_BEATS * every.total_seconds() + 0.3)
    with sessions() as s:
        assert silent(s, [FAR, NO_BEAT]) == {FAR}
    beat(sessions, worker_of(FAR), every)  # it beats again: alive
    with sessions() as s:
        assert silent(s, [FAR]) == set()


def test_heartbeat_renews_while_it_runs_and_forgets_its_row_at_the_end(sessions):
    with Heartbeat(sessions, timedelta(seconds=0.3)) as hb:
        with sessions() as s:
            first = s.get(Worker, hb.worker).beat_at
        time.sleep(1.0)
        with sessions() as s:
            assert s.get(Worker, hb.worker).beat_at >= first + timedelta(seconds=0.5)
            assert silent(s, [holder_name("x")]) == set()
    with sessions() as s:
        assert s.get(Worker, hb.worker) is None


def _claim(sessions, claimant: str, n: int, at: datetime) -> list[int]:
    with sessions.begin() as s:
        ids = list(s.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id).limit(n)))
        s.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                  .values(state="sending", claimed_by=claimant, claimed_at=at))
    return ids


def test_claims_and_leases_of_a_silent_worker_are_taken_back_those_of_a_beating_or_unknown_one_wait(sessions):
    """Both backends, by the functions themselves (several machines share only PostgreSQL: the whole story
    with a real worker on another machine is the test below)."""
    w.queue_alerts(sessions, w.deliver_config(), 4)
    now = datetime.now(timezone.utc)
    every = timedelta(seconds=0.5)
    beat(sessions, worker_of(FAR), every)
    far_claims = _claim(sessions, FAR, 2, now)
    with sessions.begin() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.state == "queued")
                  .values(state="sending", claimed_by=NO_BEAT, claimed_at=now))
    ours = holder_name("ours")
    assert acquire(sessions, "job:poll", FAR, now, HOUR) and acquire(sessions, "job:crawl", NO_BEAT, now, HOUR)

    with sessions.begin() as s:  # it beats: nothing is taken
        assert recover_stale(s, now, timedelta(minutes=10)) == 0
    assert not acquire(sessions, "job:poll", ours, now, HOUR)

    time.sleep(MISSED_BEATS * every.total_seconds() + 0.3)  # three beats missed
    with sessions.begin() as s:
        assert recover_stale(s, now, timedelta(minutes=10)) == 2
    with sessions() as s:
        rows = {r.id: r for r in s.scalars(select(OutboxMessage))}
    assert {i for i, r in rows.items() if r.state == "queued"} == set(far_claims)
    assert all(rows[i].uncertain == 1 and rows[i].claimed_by is None for i in far_claims)
    assert acquire(sessions, "job:poll", ours, now, HOUR)
    # no heartbeat known: stale_claim and lease_ttl stay the bound
    assert {r.claimed_by for r in rows.values() if r.state == "sending"} == {NO_BEAT}
    assert not acquire(sessions, "job:crawl", ours, now, HOUR)
    with sessions.begin() as s:
        assert recover_stale(s, now + timedelta(minutes=10), timedelta(minutes=10)) == 2
    assert acquire(sessions, "job:crawl", ours, now + HOUR, HOUR)


# -- a worker on another machine, killed ----------------------------------------------------------------------

MESSAGES = 400


@pytest.fixture
def postgresql_only(backend):
    if backend == "sqlite":
        pytest.skip("several machines share only PostgreSQL: the cross-machine test runs on PostgreSQL only")


def _config(news_base: str, feed_path: str) -> str:
    """The delivery world, one slow feed (its fetch waits up to 2 minutes), and a heartbeat of one second."""
    text_ = w.deliver_config(messages_per_second=400).replace("schedule:\n  check: 1h\n", "schedule:\n  check: 1s\n")
    text_ = text_.replace("    sessions: []  # no docket sync: this world is about delivery\n",
                          "    sessions: []\n  news:\n    delay_s: 0\n    timeout_s: 120\n")
    return text_ + f"""
  connections: 1
feeds:
  - name: slow
    url: {news_base}{feed_path}
    match: all
    every: 1h
workers:
  heartbeat: 1s
"""


def test_a_worker_killed_on_another_machine_loses_its_claims_and_lease_after_three_missed_beats(
        postgresql_only, db_url, engine, sessions, tmp_path):
    from tracker.replica.news_server import NewsServer

    if not w.can_start_elsewhere():
        pytest.skip("unshare cannot give a process a host name and pid namespace of its own here")
    replica = w.news_replica()
    feed = next(iter(replica.feeds))
    queued = w.queue_alerts(sessions, w.deliver_config(), MESSAGES)
    with NewsServer(replica) as news, SmtpSink() as sink:
        text_ = _config(news.base_url, feed)
        assert parse_config(text_, "feeds.yaml").workers.heartbeat == timedelta(seconds=1)
        (tmp_path / "feeds.yaml").write_text(text_)
        env = w.env_for(db_url, sink.url)
        replica.delay_s = {feed: 60}  # the far worker's poll holds job:poll, waiting for the feed
        sink.state.data_delay_s = 0.1  # and it sends ten messages a second

        far = w.start_elsewhere(tmp_path, env, "far-away", "run")
        local = None
        try:
            def far_holds_all() -> bool:
                with sessions() as s:
                    lease = s.scalar(select(Lease.holder).where(Lease.name == "job:poll"))
                    claims = s.scalar(select(func.count()).select_from(OutboxMessage).where(
                        OutboxMessage.claimed_by.like("far-away:%")))
                    row = s.scalar(select(Worker).where(Worker.host == "far-away"))
                return bool(lease and lease.startswith("far-away:") and claims and row is not None)

            w.wait_for(lambda: far_holds_all() or far.poll() is not None, 60, "the far worker to claim and lease")
            with sessions() as s:
                far_worker = s.scalar(select(Worker).where(Worker.host == "far-away"))
            assert far_worker.every_s == 1.0 and far_worker.pid == 1  # pid 1: of its own namespace, not ours

            local = w.start(tmp_path, env, "run", log="local.log")
            w.wait_for(lambda: "job=poll skipped=held-by-another-worker" in (tmp_path / "local.log").read_text()
                       or local.poll() is not None, 60, "the local worker to find the poll leased")
            time.sleep(1 + 2 * MISSED_BEATS)  # both run, the far one beating: nothing of it is taken
            with sessions() as s:
                lease = s.scalar(select(Lease.holder).where(Lease.name == "job:poll"))
                polls = s.scalar(select(func.count()).select_from(Run).where(Run.job == "poll"))
                local_workers = s.scalar(select(func.count()).select_from(Worker).where(Worker.host != "far-away"))
            assert lease.startswith("far-away:") and polls == 1  # the far one's poll only
            assert w.uncertain_total(sessions) == 0  # no claim of it sent again
            assert local_workers == 1 and local.poll() is None
            sent_both = len(sink.state.messages)

            kids = w.children(far.pid)
            assert len(kids) == 1
            killed_at = time.monotonic()
            w.kill9(_Proc(kids[0]))  # the far machine's worker dies: no pid here will ever tell
            far.wait(timeout=10)
            replica.delay_s = {}
            sink.state.data_delay_s = 0.002
            in_flight = [m for m in _sending(sessions) if m.claimed_by.startswith("far-away:")]
            assert len(in_flight) <= 1

            def far_claims_back() -> bool:
                with sessions() as s:
                    return not s.scalar(select(func.count()).select_from(OutboxMessage).where(
                        OutboxMessage.claimed_by.like("far-away:%")))

            def poll_by_local() -> bool:
                with sessions() as s:
                    return bool(s.scalar(select(func.count()).select_from(Run).where(
                        Run.job == "poll", ~Run.worker.like("far-away:%"))))  # it holds job:poll now

            claims_back = lease_back = None
            while claims_back is None or lease_back is None:
                took = time.monotonic() - killed_at
                assert took < 90, f"not taken back 90 s after the kill: claims {claims_back}, lease {lease_back}"
                if claims_back is None and far_claims_back():
                    claims_back = took
                if lease_back is None and poll_by_local():
                    lease_back = took
                time.sleep(0.05)
            w.wait_for(lambda: w.outbox_states(sessions) == {"sent": MESSAGES}, 120, "every message sent")
            all_sent = time.monotonic() - killed_at
            w.wait_for(lambda: w.stored_feeds(sessions) == 1, 60, "the local worker's poll to store the feed")
        finally:
            if far.poll() is None:  # the test failed before the kill: the far worker (unshare's child) too
                for pid in w.children(far.pid):
                    _Proc(pid).send_signal(signal.SIGKILL)
                far.kill()
                far.wait()
            stopped = w.stop(local) if local is not None else None
        assert stopped == 0  # the local worker stopped cleanly on SIGTERM
        time.sleep(0.2)
        got = w.received(sink)
    with sessions() as s:
        last_beat = s.scalar(select(Worker.beat_at).where(Worker.host == "far-away"))
        local_poll = s.scalar(select(Run.started_at).where(Run.job == "poll", ~Run.worker.like("far-away:%"))
                              .order_by(Run.id))
        resent = list(s.scalars(select(OutboxMessage).where(OutboxMessage.uncertain > 0)))
    # taken back after three missed beats (by the database's clock) ...
    assert local_poll - last_beat >= timedelta(seconds=MISSED_BEATS)
    assert all(m.sent_at - last_beat >= timedelta(seconds=MISSED_BEATS) for m in resent)
    # ... long before mail.stale_claim (10 minutes) and schedule.lease_ttl (2 minutes)
    assert claims_back < 30 and lease_back < 30, (claims_back, lease_back)
    # every message arrived; only the one in flight at the kill may have arrived twice, counted
    assert set(got) == queued and max(got.values()) <= 2
    assert [m.message_id for m in resent] == [m.message_id for m in in_flight]
    assert sum(n > 1 for n in got.values()) <= len(resent) <= 1
    print(f"far worker killed after {sent_both} messages; claims back {claims_back:.1f}s, lease back "
          f"{lease_back:.1f}s, all {MESSAGES} sent {all_sent:.1f}s after the kill")


class _Proc:
    """``kill9`` for a pid this test did not start itself (the far worker, child of ``unshare``)."""

    def __init__(self, pid: int):
        self.pid = pid

    def send_signal(self, sig) -> None:
        import os  # lazy: only here

        os.kill(self.pid, sig)

    def wait(self, timeout=None) -> None:
        w.wait_for(lambda: not w.alive(self.pid), timeout or 10, "the far worker to die")


def _sending(sessions) -> list[OutboxMessage]:
    with sessions() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.state == "sending")))
