"""``kill -9`` of a real ``tracker run`` in the middle of a crawl, a poll and a delivery batch, then a restart.

After the restart the database holds exactly what a run without the kill stores (the same bills, actions,
hearings, articles, links and events: nothing partial, lost or doubled), the Scrapy child of the killed
process does not fetch on for nobody, the restart is not held up by the dead process's leases, and of the
mail only the one message in flight at the kill may arrive twice, counted in ``uncertain`` -- sent again at
once, not after ``mail.stale_claim`` (10 minutes): its claim names the dead process.
"""

from __future__ import annotations

import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from db.engine import make_engine, session_factory
from db.models import Article
from db.migrate import upgrade
from tests import kill9_world as w
from tests.smtp_sink import SmtpSink
from tracker.config import parse_config
from tests.alerts_world import application

SKIPPED = "skipped=held-by-another-worker"


def _restart_once(folder, env, timeout: float = 60) -> tuple[float, str]:
    """``tracker run --once`` right after the kill; returns how long it took and its log."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "tracker", "run", "--once"], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=timeout)
    (folder / "restart.log").write_text(done.stderr)
    assert done.returncode == 0, done.stderr[-3000:]
    return time.monotonic() - started, done.stderr


def _assert_child_died(kids: list[int], replica) -> None:
    """The killed daemon's Scrapy child exits by itself and fetches nothing more."""
    assert kids, "the kill did not land during a crawl: no child process"
    w.wait_for(lambda: not any(w.alive(k) for k in kids), 5, "the orphaned Scrapy child to exit")
    served = replica.request_count()
    time.sleep(0.5)
    assert replica.request_count() == served  # no orphan fetching on


# -- a crawl --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crawl_world(tmp_path_factory):
    """The replica of 40 bills, and what a crawl without a kill stores from it (the control)."""
    from tracker.crawl import crawl
    from tracker.replica import ReplicaServer

    replica = w.crawl_replica()
    with ReplicaServer(replica) as server:
        text = w.crawl_config(server.base_url, replica)
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('control') / 'control.sqlite'}")
        upgrade(engine)
        sessions = session_factory(engine)
        crawl(parse_config(text, "feeds.yaml"), sessions)
        control = w.crawl_summary(sessions)
        engine.dispose()
        yield replica, text, control


def test_kill9_mid_crawl_then_restart_stores_what_an_unbroken_crawl_stores(crawl_world, db_url, engine, sessions,
                                                                           tmp_path):
    replica, text, control = crawl_world
    (tmp_path / "feeds.yaml").write_text(text)
    env = w.env_for(db_url)
    replica.delay_s = 0.1  # slow enough that the kill lands with some bills stored and most not
    try:
        proc = w.start(tmp_path, env, "run")
        w.wait_for(lambda: w.stored_bills(sessions) >= 3 or proc.poll() is not None, 60, "three bills stored")
        kids = w.kill9(proc)
        stored = w.stored_bills(sessions)
        assert 3 <= stored < w.CRAWL_BILLS, f"the kill did not land mid-crawl ({stored} bills stored)"
        _assert_child_died(kids, replica)
    finally:
        replica.delay_s = 0
    assert w.whole_bills(sessions) == []  # every bill stored before the kill is whole
    assert w.unfinished(sessions, "crawl") == 1

    took, log = _restart_once(tmp_path, env)
    assert SKIPPED not in log  # the dead process's crawl lease (lease_ttl 2 minutes) did not hold it up
    assert took < 60
    assert w.whole_bills(sessions) == []
    assert w.crawl_summary(sessions) == control


# -- a poll ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def poll_world(tmp_path_factory):
    from tracker.news.poll import poll
    from tracker.replica.news_server import NewsServer

    replica = w.news_replica()
    with NewsServer(replica) as server:
        text = w.poll_config(server.base_url, replica)
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('control') / 'control.sqlite'}")
        upgrade(engine)
        sessions = session_factory(engine)
        w.park_bills(sessions, text)
        result = poll(parse_config(text, "feeds.yaml"), sessions)
        assert result.checked == w.FEEDS and not result.errors
        control = w.poll_summary(sessions)
        assert control["links"] and len(control["articles"]) == w.FEEDS * w.ITEMS
        engine.dispose()
        yield replica, text, control


def test_kill9_mid_poll_then_restart_stores_what_an_unbroken_poll_stores(poll_world, db_url, engine, sessions,
                                                                         tmp_path):
    replica, text, control = poll_world
    (tmp_path / "feeds.yaml").write_text(text)
    w.park_bills(sessions, text)
    env = w.env_for(db_url)
    replica.delay_s = {path: 0.4 for path in replica.feeds}
    try:
        proc = w.start(tmp_path, env, "run")
        w.wait_for(lambda: w.stored_feeds(sessions) >= 2 or proc.poll() is not None, 60, "two feeds stored")
        kids = w.kill9(proc)
        stored = w.stored_feeds(sessions)
        assert 2 <= stored < w.FEEDS, f"the kill did not land mid-poll ({stored} feeds stored)"
        _assert_child_died(kids, replica)
    finally:
        replica.delay_s = {}
    assert w.unfinished(sessions, "poll") == 1

    _, log = _restart_once(tmp_path, env)
    assert SKIPPED not in log
    assert w.poll_summary(sessions) == control


# -- the article pages of a poll --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def article_world(tmp_path_factory):
    """Feeds whose every article page is fetched for its full text, and what a poll without a kill stores."""
    from tracker.news.poll import poll
    from tracker.replica.news_server import NewsServer

    replica = w.news_replica()
    with NewsServer(replica) as server:
        text = w.article_config(server.base_url, replica)
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('control') / 'control.sqlite'}")
        upgrade(engine)
        sessions = session_factory(engine)
        w.park_bills(sessions, text)
        result = poll(parse_config(text, "feeds.yaml"), sessions)
        assert result.checked == w.FEEDS and not result.errors
        control = w.article_summary(sessions)
        assert result.articles_fetched == len(w.article_paths(replica)) == w.FEEDS * w.ITEMS
        assert all(full_text for full_text, *_ in control["texts"].values())
        engine.dispose()
        yield replica, text, control


def test_kill9_mid_article_fetch_then_restart_stores_every_article_with_its_text(article_world, db_url, engine,
                                                                                 sessions, tmp_path):
    replica, text, control = article_world
    (tmp_path / "feeds.yaml").write_text(text)
    w.park_bills(sessions, text)
    env = w.env_for(db_url)
    pages = w.article_paths(replica)
    served = w.pages_served(replica, pages)  # the control's fetches
    replica.delay_s = {path: 0.3 for path in pages}  # one page at a time: 24 s for the 80
    try:
        proc = w.start(tmp_path, env, "run")
        w.wait_for(lambda: w.fetched_articles(sessions) >= 3 or proc.poll() is not None, 90,
                   "three article pages stored")
        kids = w.kill9(proc)
        fetched = w.fetched_articles(sessions)
        assert 3 <= fetched < len(pages), f"the kill did not land mid-fetch ({fetched} pages stored)"
        _assert_child_died(kids, replica)
        before_kill = w.pages_served(replica, pages) - served
    finally:
        replica.delay_s = {}
    # what the server saw: the killed run asked for some of the pages, not all, each once
    assert fetched <= len(before_kill) < len(pages) and max(before_kill.values()) == 1
    assert w.stored_feeds(sessions) == w.FEEDS  # the feeds were stored whole before their pages were fetched
    assert w.half_fetched(sessions, control) == []  # no article stored without its text, its matches or its events
    assert w.unfinished(sessions, "poll") == 1
    with sessions() as s:
        stored = {urlsplit(link).path for link in s.scalars(
            select(Article.link).where(Article.fulltext_fetched_at.is_not(None)))}
    assert stored <= set(before_kill)

    _, log = _restart_once(tmp_path, env)  # no feed is due: the restart fetches the pages left untried
    assert SKIPPED not in log
    after_kill = w.pages_served(replica, pages) - served - before_kill
    assert set(before_kill) | set(after_kill) == pages  # every page was fetched ...
    assert not stored & set(after_kill)  # ... and none stored before the kill was fetched again
    assert max(after_kill.values()) == 1
    assert w.half_fetched(sessions, control) == []
    assert w.article_summary(sessions) == control
    print(f"article fetch: killed with {fetched} of {len(pages)} pages stored, {len(before_kill)} asked; "
          f"the restart fetched {len(after_kill)}")


# -- composing ------------------------------------------------------------------------------------------------

SUPPORTERS = 1500  # 3 pages of alerts (alerts.dispatch.PAGE), a second to compose: the kill lands after the first


def test_kill9_mid_compose_then_restart_sends_every_alert_exactly_once(db_url, engine, sessions, tmp_path):
    from alerts.dispatch import PAGE
    from db.models import Delivery, OutboxMessage

    text = w.deliver_config(messages_per_second=4000) + "  connections: 4\n"
    (tmp_path / "feeds.yaml").write_text(text)
    w.add_supporters(sessions, SUPPORTERS)
    events = w.event_census(sessions)
    with SmtpSink() as sink:
        env = w.env_for(db_url, sink.url)
        proc = w.start(tmp_path, env, "run")
        w.wait_for(lambda: w.outbox_count(sessions) > 0 or proc.poll() is not None, 60,
                   "the first page of alerts composed", every=0.01)
        w.kill9(proc)
        composed = w.outbox_count(sessions)
        assert 0 < composed < SUPPORTERS, f"the kill did not land mid-compose ({composed} composed)"
        assert composed % PAGE == 0  # whole pages: each message with its ledger rows, in one commit a page
        assert w.half_composed(sessions) == []
        assert w.outbox_states(sessions) == {"queued": composed} and not sink.state.messages  # nothing sent yet
        assert w.unfinished(sessions, "dispatch") == 1
        assert w.event_census(sessions) == events

        started = time.monotonic()
        restarted = w.start(tmp_path, env, "run", log="restart.log")
        try:
            w.wait_for(lambda: w.outbox_states(sessions) == {"sent": SUPPORTERS}, 120, "every alert sent")
            took = time.monotonic() - started
        finally:
            assert w.stop(restarted) == 0
        time.sleep(0.2)  # a duplicate would have had time to arrive
        got = w.received(sink)
    with sessions() as s:
        queued = set(s.scalars(select(OutboxMessage.message_id)))
        per_subscriber = set(s.execute(select(func.count()).select_from(OutboxMessage)
                                       .group_by(OutboxMessage.subscriber_id)).scalars())
        ledger = s.scalar(select(func.count()).select_from(Delivery))
    assert set(got) == queued and len(queued) == SUPPORTERS  # every alert, composed once ...
    assert max(got.values()) == 1  # ... and sent once
    assert per_subscriber == {1} and ledger == SUPPORTERS
    assert w.uncertain_total(sessions) == 0  # nothing was in flight at the kill
    assert w.half_composed(sessions) == [] and w.event_census(sessions) == events
    restart_log = (tmp_path / "restart.log").read_text()
    assert "held by another worker" not in restart_log  # the dead process's compose lease did not hold it up ...
    assert took < 100, took  # ... for schedule.lease_ttl (2 minutes)
    print(f"compose: killed with {composed} of {SUPPORTERS} alerts composed; all sent once {took:.1f}s after the restart")


# -- a delivery batch -----------------------------------------------------------------------------------------

MESSAGES = 150


def test_kill9_mid_delivery_then_restart_sends_everything_once_but_the_one_in_flight(db_url, engine, sessions,
                                                                                     tmp_path):
    text = w.deliver_config()
    (tmp_path / "feeds.yaml").write_text(text)
    queued = w.queue_alerts(sessions, text, MESSAGES)
    with SmtpSink() as sink:
        sink.state.data_delay_s = 0.005
        env = w.env_for(db_url, sink.url)
        proc = w.start(tmp_path, env, "run")
        w.wait_for(lambda: len(sink.state.messages) >= 30 or proc.poll() is not None, 60, "30 messages sent")
        w.kill9(proc)
        at_kill = w.outbox_states(sessions)
        assert at_kill.get("queued", 0) > 0, f"the kill did not land mid-batch: {at_kill}"
        assert at_kill.get("sending", 0) == 1, at_kill  # one message in doubt, claimed by the dead process
        assert w.claimants(sessions) == [proc.pid]
        assert w.unfinished(sessions, "dispatch") == 1

        started = time.monotonic()
        restarted = w.start(tmp_path, env, "run", log="restart.log")
        try:
            w.wait_for(lambda: w.outbox_states(sessions) == {"sent": MESSAGES}, 60, "every message sent")
            took = time.monotonic() - started
        finally:
            assert w.stop(restarted) == 0
        time.sleep(0.2)  # a duplicate would have had time to arrive
        got = w.received(sink)
    twice = [mid for mid, n in got.items() if n > 1]
    assert set(got) == queued  # every message, and no other
    assert len(twice) <= 1 and max(got.values()) <= 2
    assert len(twice) <= w.uncertain_total(sessions) == 1  # the one in flight at the kill, counted
    assert took < 30  # mail.stale_claim is 10 minutes: the in-flight message did not wait for it


# -- the leases of a dead worker ------------------------------------------------------------------------------


def test_a_lease_of_a_dead_worker_on_this_machine_is_taken_at_once_a_live_or_remote_one_is_not(sessions):
    from datetime import datetime, timedelta, timezone

    from db.leases import acquire, holder_name

    name_of = [sys.executable, "-c", "from db.leases import holder_name; print(holder_name('t'))"]
    now, ttl = datetime.now(timezone.utc), timedelta(hours=1)
    dead = subprocess.run(name_of, capture_output=True, text=True, check=True, cwd=w.ROOT).stdout.strip()
    assert "@" in dead
    live = subprocess.Popen([sys.executable, "-c", "import sys, time; from db.leases import holder_name; "
                             "print(holder_name('t'), flush=True); time.sleep(30)"],
                            stdout=subprocess.PIPE, text=True, cwd=w.ROOT)
    try:
        alive = live.stdout.readline().strip()
        ours = holder_name("ours")
        assert acquire(sessions, "job:crawl", dead, now, ttl)
        assert acquire(sessions, "job:crawl", ours, now, ttl)  # its holder is gone: ours now, at once
        assert acquire(sessions, "job:poll", alive, now, ttl)
        assert not acquire(sessions, "job:poll", ours, now, ttl)  # its holder lives: it waits for the lease
        host, pid, rest = dead.rsplit(":", 2)
        elsewhere = f"{host}:{pid}:{rest.split('@')[0]}@0123456789ab.1.1"  # another boot or pid namespace
        for name, holder in (("job:health", elsewhere), ("job:retention", f"{host}:{pid}:old-format")):
            assert acquire(sessions, name, holder, now, ttl)
            assert not acquire(sessions, name, ours, now, ttl)  # cannot tell it is dead: expiry only
        assert acquire(sessions, "job:health", ours, now + ttl, ttl)
    finally:
        live.kill()
        live.wait()


# -- a crawl cut off between its last bill and the directory ----------------------------------------------------


def test_a_crawl_cut_off_after_its_last_bill_gets_its_directory_at_the_restart(sessions, replica, replica_server,
                                                                               tmp_path):
    """Found by bench/kill_soak.py: killed after storing every bill but before the directory, the restart had
    no bill due, so no crawl fetched the committees and legislators until the bills were due again (6 h)."""
    from sqlalchemy import func, select

    from alerts.transport import MaildirTransport
    from db.models import Committee, Legislator, Run
    from tracker.scheduler import Daemon

    config = parse_config(f"""
sources:
  malegislature:
    base_url: {replica_server.base_url}
    session: 192
    delay_s: 0
bills:
  - id: H.135
  - id: S.47
""", "feeds.yaml")
    daemon = Daemon(application(config, sessions, b"k", transport_factory=lambda: MaildirTransport(tmp_path / "box")))
    replica.directory_errors.add(next(iter(replica.committees)))  # the directory is not stored ...
    assert daemon.run_job("crawl")
    with sessions.begin() as s:  # ... and the run never finished: the state a kill -9 there leaves
        run = s.scalar(select(Run).where(Run.job == "crawl"))
        assert run.counts["bills"] >= 2 and s.scalar(select(func.count()).select_from(Committee)) == 0
        run.finished_at = run.ok = run.counts = None
    replica.directory_errors.clear()
    assert daemon.run_job("crawl")
    with sessions() as s:
        latest = s.scalars(select(Run).where(Run.job == "crawl").order_by(Run.id.desc())).first()
        assert latest.counts["bills"] == 0  # no bill was due ...
        assert s.scalar(select(func.count()).select_from(Committee)) > 0  # ... and the directory came all the same
        assert s.scalar(select(func.count()).select_from(Legislator)) > 0
    served = replica.request_count()
    assert daemon.run_job("crawl")  # the run before this one finished: nothing is fetched
    assert replica.request_count() == served
