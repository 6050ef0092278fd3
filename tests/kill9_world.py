"""``kill -9`` of a real ``tracker run``, then a restart: the worlds, the processes and the comparisons.

Shared by ``tests/test_kill9.py`` (one kill at a chosen moment per scenario) and ``bench/kill_soak.py``
(many kills at random moments). Each scenario gives a world to crawl, poll or deliver to, a summary of
what the database holds that must be the same with or without the kill, and a way to tell whether the
kill landed in the middle of the job.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import func, insert, select

from db.models import (
    Article,
    ArticleBill,
    ArticleSource,
    Bill,
    BillAction,
    Committee,
    Event,
    Feed,
    Hearing,
    Legislator,
    OutboxMessage,
    Run,
    Subscriber,
    Subscription,
)

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT / "tests" / "data" / "ma-192-history-actions.csv"
CRAWL_BILLS = 40
FEEDS, ITEMS = 8, 10


# -- processes ------------------------------------------------------------------------------------------------


def env_for(db_url: str, smtp_url: str | None = None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TRACKER_DATABASE_URL=db_url, TRACKER_SECRET_KEY="k")
    env.pop("TRACKER_SMTP_URL", None)
    if smtp_url:
        env["TRACKER_SMTP_URL"] = smtp_url
    return env


def start(folder: Path, env: dict, *args: str, log: str = "run.log") -> subprocess.Popen:
    out = open(folder / log, "ab")
    return subprocess.Popen([sys.executable, "-m", "tracker", *args], cwd=folder, env=env, stdout=out,
                            stderr=subprocess.STDOUT)


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def kill9(proc: subprocess.Popen) -> list[int]:
    """SIGKILL the process (never its children: they must notice by themselves); return the children it had."""
    kids = children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    return kids


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


def stop(proc: subprocess.Popen, timeout: float = 30) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError("tracker run did not stop on SIGTERM")


def unfinished(sessions, job: str) -> int:
    """Runs of ``job`` that started and never finished: the kill landed in the middle of one."""
    with sessions() as s:
        return s.scalar(select(func.count()).where(Run.job == job, Run.finished_at.is_(None))) or 0


# -- the crawl ------------------------------------------------------------------------------------------------


def crawl_replica():
    from tracker.replica import Replica

    return Replica.from_csv(CSV, limit=CRAWL_BILLS)


def crawl_config(base_url: str, replica) -> str:
    bills = "\n".join(f"  - id: 192/{n}" for (_, n) in list(replica.bills)[:CRAWL_BILLS])
    return f"""
sources:
  malegislature:
    base_url: {base_url}
    session: 192
    sessions: []  # no docket sync: this world is about the crawl
    delay_s: 0
    concurrency: 2
bills:
{bills}
schedule:
  check: 1h
"""


def stored_bills(sessions) -> int:
    with sessions() as s:
        return s.scalar(select(func.count(Bill.id)).where(Bill.last_success_at.is_not(None))) or 0


def crawl_summary(sessions) -> dict:
    """Everything a crawl stores that must not depend on a kill: bills, their actions, hearings, events."""
    with sessions() as s:
        names = dict(s.execute(select(Bill.id, Bill.canonical)).all())
        bills = {b.canonical: (b.status, b.committee, b.title, b.sponsor, b.history_hash, b.last_success_at is not None,
                               b.error_count) for b in s.scalars(select(Bill))}
        actions = collections.defaultdict(list)
        for a in s.scalars(select(BillAction).order_by(BillAction.bill_id, BillAction.position)):
            actions[names[a.bill_id]].append((a.position, a.occurrence, str(a.date), a.branch, a.action))
        hearings = collections.Counter(names[h.bill_id] for h in s.scalars(select(Hearing)))
        events = collections.Counter((e.kind, names.get(e.bill_id)) for e in s.scalars(select(Event)))
        directory = {"committees": s.scalar(select(func.count()).select_from(Committee)),
                     "legislators": s.scalar(select(func.count()).select_from(Legislator))}
    return {"bills": bills, "actions": dict(actions), "hearings": dict(hearings), "events": dict(events),
            "directory": directory}


def whole_bills(sessions) -> list[str]:
    """Bills whose stored state disagrees with their events (a half-written bill): should be empty."""
    bad = []
    with sessions() as s:
        for bill in s.scalars(select(Bill)):
            actions = s.scalar(select(func.count(BillAction.id)).where(BillAction.bill_id == bill.id))
            action_events = s.scalar(select(func.count(Event.id)).where(Event.bill_id == bill.id,
                                                                        Event.kind == "bill.action"))
            tracked = s.scalar(select(func.count(Event.id)).where(Event.bill_id == bill.id,
                                                                  Event.kind == "bill.tracked"))
            done = bill.last_success_at is not None
            if (done and (actions != action_events or tracked != 1)) or (not done and (actions or action_events)):
                bad.append(bill.canonical)
    return bad


# -- the poll -------------------------------------------------------------------------------------------------


def news_replica():
    from tracker.replica.news_server import NewsReplica

    return NewsReplica.synthetic(FEEDS, ITEMS, seed=8)


def poll_config(news_base: str, replica) -> str:
    feeds = "\n".join(f"  - name: feed{i:02d}\n    url: {news_base}{path}\n    match: all\n    every: 1h"
                      for i, path in enumerate(replica.feeds))
    return f"""
sources:
  malegislature:
    base_url: http://127.0.0.1:9
    session: 192
    sessions: []  # no docket sync: this world is about the poll
  news:
    delay_s: 0
    concurrency: 1
    total_concurrency: 1
bills:
  - id: H.135
    keywords: [library, "school committee"]
  - id: S.47
    keywords: [budget hearing, "road project"]
feeds:
{feeds}
schedule:
  check: 1h
"""


def park_bills(sessions, config_text: str) -> None:
    """The config's bills, tracked and not due for a month: a poll's daemon then starts no crawl."""
    from tracker.config import parse_config
    from tracker.crawl import sync_tracked

    now = datetime.now(timezone.utc)
    with sessions.begin() as s:
        sync_tracked(s, parse_config(config_text, "feeds.yaml"), now)
        s.flush()
        for bill in s.scalars(select(Bill)):
            bill.next_check_at = now + timedelta(days=30)


def stored_feeds(sessions) -> int:
    with sessions() as s:
        return s.scalar(select(func.count(Feed.id)).where(Feed.last_success_at.is_not(None))) or 0


def poll_summary(sessions) -> dict:
    with sessions() as s:
        urls = dict(s.execute(select(Article.id, Article.url)).all())
        bills = dict(s.execute(select(Bill.id, Bill.canonical)).all())
        feeds = dict(s.execute(select(Feed.id, Feed.name)).all())
        links = sorted((urls[a.article_id], bills[a.bill_id], a.reason) for a in s.scalars(select(ArticleBill)))
        sources = sorted((urls[a.article_id], feeds[a.feed_id]) for a in s.scalars(select(ArticleSource)))
        events = collections.Counter((e.kind, urls.get(e.article_id), bills.get(e.bill_id))
                                     for e in s.scalars(select(Event)))
        polled = sorted((f.name, f.last_success_at is not None, f.error_count) for f in s.scalars(select(Feed)))
    return {"articles": sorted(urls.values()), "links": links, "sources": sources, "events": dict(events),
            "feeds": polled}


# -- delivery -------------------------------------------------------------------------------------------------


def deliver_config(messages_per_second: int = 400) -> str:
    """``mail.stale_claim`` is left at its 10 minutes: a restart must not wait for the dead worker's claim."""
    return f"""
sources:
  malegislature:
    base_url: http://127.0.0.1:9
    session: 192
    sessions: []  # no docket sync: this world is about delivery
bills:
  - id: H.135
digests:
  supporters:
    from: "Campaign <alerts@example.org>"
schedule:
  check: 1h
  dispatch: 1s
mail:
  messages_per_second: {messages_per_second}
"""


def queue_alerts(sessions, config_text: str, n: int, bill_due: bool = False) -> set[str]:
    """``n`` immediate supporters of the campaign, one fresh action on H.135, their alerts composed and
    queued; returns the queued Message-IDs. H.135 is due for a crawl only with ``bill_due``."""
    from alerts.dispatch import compose_due
    from tests.alerts_world import add_action, add_bill, settings_of
    from tracker.config import parse_config

    now = datetime.now(timezone.utc)
    with sessions.begin() as s:
        bill = add_bill(s, "H135", next_check_at=None if bill_due else now + timedelta(days=30),
                        tracked_reason="listed in feeds.yaml")
        s.execute(insert(Subscriber), [
            {"email": f"s{i}@example.org", "role": "supporter", "status": "active", "frequency": "immediate",
             "start_event_id": 0, "created_at": now, "source": "import"} for i in range(n)])
        ids = list(s.scalars(select(Subscriber.id)))
        s.execute(insert(Subscription), [{"subscriber_id": i, "topic": "campaign", "active": True, "created_at": now}
                                         for i in ids])
        add_action(s, bill, "Reported favorably by the committee", ["reported-favorably"], now.date(), at=now)
    report = compose_due(settings_of(parse_config(config_text, "feeds.yaml"), b"k"), sessions, now, kinds=("supporters",))
    assert report.composed["alert"] == n, report.composed
    with sessions() as s:
        return set(s.scalars(select(OutboxMessage.message_id)))


def outbox_states(sessions) -> dict[str, int]:
    with sessions() as s:
        return dict(s.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all())


def claimants(sessions) -> list[int]:
    """The pids named by the claims of the messages being sent (``host:pid:token@place``)."""
    with sessions() as s:
        names = s.scalars(select(OutboxMessage.claimed_by).where(OutboxMessage.state == "sending"))
        return [int(name.split(":")[1]) for name in names]


def uncertain_total(sessions) -> int:
    with sessions() as s:
        return s.scalar(select(func.coalesce(func.sum(OutboxMessage.uncertain), 0))) or 0


def received(sink) -> collections.Counter:
    with sink.state.lock:
        return collections.Counter(m["Message-ID"] for _, m in sink.state.messages)


# -- the article pages of a poll --------------------------------------------------------------------------------


def article_config(news_base: str, replica) -> str:
    """``poll_config`` with every feed's article pages fetched for their full text (from loopback), one at a time."""
    text = poll_config(news_base, replica).replace("    match: all\n", "    match: all\n    fetch_article: true\n")
    return text.replace("    total_concurrency: 1\n",
                        "    total_concurrency: 1\n    allow_private_networks: [\"127.0.0.1/32\"]\n")


def article_paths(replica) -> set[str]:
    """The paths of the article pages the feeds link to."""
    from urllib.parse import urlsplit

    return {urlsplit(item.link).path for feed in replica.feeds.values() for item in feed.items}


def pages_served(replica, paths: set[str]) -> collections.Counter:
    """How many times the server was asked for each of ``paths`` (GET or HEAD)."""
    from urllib.parse import urlsplit

    with replica.lock:
        asked = [urlsplit(path).path for _, path, _ in replica.requests]
    return collections.Counter(p for p in asked if p in paths)


def fetched_articles(sessions) -> int:
    with sessions() as s:
        return s.scalar(select(func.count(Article.id)).where(Article.fulltext_fetched_at.is_not(None))) or 0


def half_fetched(sessions, control: dict) -> list[str]:
    """Articles whose full text is half-written (should be empty): one whose page was stored has the text,
    the one attempt and the events (matches on the page's text) of the control poll, all of them; one whose page
    was not has none of it (no attempt, no error, no fetch time; its text and events are still the feed's)."""
    now = article_summary(sessions)
    bad = []
    for url, (text, fetched, attempts, error) in now["texts"].items():
        events = {k: n for k, n in now["events"].items() if k[1] == url}
        expected = {k: n for k, n in control["events"].items() if k[1] == url}
        if fetched:
            whole = (text, fetched, attempts, error) == control["texts"][url] and events == expected
        else:
            whole = attempts == 0 and error is None and all(expected.get(k, 0) >= n for k, n in events.items())
        if not whole:
            bad.append(url)
    return bad


def article_summary(sessions) -> dict:
    """``poll_summary`` and each article's full text as stored."""
    with sessions() as s:
        texts = {a.url: (a.full_text, a.fulltext_fetched_at is not None, a.fulltext_attempts, a.fulltext_error)
                 for a in s.scalars(select(Article))}
    return poll_summary(sessions) | {"texts": texts}


# -- composing --------------------------------------------------------------------------------------------------


def add_supporters(sessions, n: int) -> None:
    """``queue_alerts`` without the composing: ``n`` immediate supporters of the campaign and one fresh action
    on H.135 (not due for a crawl), for ``tracker run``'s dispatch to compose."""
    from tests.alerts_world import add_action, add_bill

    now = datetime.now(timezone.utc)
    with sessions.begin() as s:
        bill = add_bill(s, "H135", next_check_at=now + timedelta(days=30), tracked_reason="listed in feeds.yaml")
        s.execute(insert(Subscriber), [
            {"email": f"s{i}@example.org", "role": "supporter", "status": "active", "frequency": "immediate",
             "start_event_id": 0, "created_at": now, "source": "import"} for i in range(n)])
        ids = list(s.scalars(select(Subscriber.id)))
        s.execute(insert(Subscription), [{"subscriber_id": i, "topic": "campaign", "active": True, "created_at": now}
                                         for i in ids])
        add_action(s, bill, "Reported favorably by the committee", ["reported-favorably"], now.date(), at=now)


def outbox_count(sessions) -> int:
    with sessions() as s:
        return s.scalar(select(func.count(OutboxMessage.id))) or 0


def half_composed(sessions) -> list[int]:
    """Outbox rows without their body or their ledger rows, and ledger rows without their message (a
    half-written compose): should be empty."""
    from db.models import Delivery

    with sessions() as s:
        ledger = dict(s.execute(select(Delivery.message_id, func.count()).group_by(Delivery.message_id)).all())
        rows = s.execute(select(OutboxMessage.id, OutboxMessage.events, OutboxMessage.body)).all()
    bad = [mid for mid, events, body in rows if not body or ledger.pop(mid, 0) != events or events < 1]
    return bad + [mid if mid is not None else -1 for mid in ledger]


def event_census(sessions) -> collections.Counter:
    with sessions() as s:
        return collections.Counter(s.scalars(select(Event.kind)))


# -- another machine --------------------------------------------------------------------------------------------


def can_start_elsewhere() -> bool:
    """Can this test runner start a process in namespaces of its own (``unshare``: root, or user namespaces)?"""
    try:
        done = subprocess.run(["unshare", "--uts", "--pid", "--fork", "--mount-proc", "true"], capture_output=True,
                              timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def start_elsewhere(folder: Path, env: dict, host: str, *args: str, log: str = "elsewhere.log") -> subprocess.Popen:
    """``tracker ARGS`` as if on another machine: its own host name and pid namespace (it is pid 1 there), so
    its claims name a host and a pid that mean nothing here. Shares the network, the files and the database."""
    out = open(folder / log, "ab")
    return subprocess.Popen(["unshare", "--uts", "--pid", "--fork", "--mount-proc", "sh", "-c",
                             'hostname "$0" && py="$1" && shift && exec "$py" -m tracker "$@"', host, sys.executable, *args],
                            cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
