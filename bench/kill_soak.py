#!/usr/bin/env python3
"""Soak test of ``kill -9``: kill a real ``tracker run`` at a random moment, restart it, check, N times.

Three scenarios, each against a fresh database per run (the worlds of ``tests/kill9_world.py``):

- ``crawl``: 40 bills of the MAPLE history on the malegislature replica (0.1 s a request);
  ``tracker run`` is killed, then ``tracker run --once`` finishes; the bills, actions, hearings,
  directory and events are compared with a control crawl of the same replica without a kill.
- ``poll``: 8 synthetic feeds of 10 items on the news replica (0.4 s a feed, one at a time);
  killed, ``tracker run --once``; articles, their feed sources, bill links and events are compared
  with a control poll.
- ``deliver``: 150 queued alerts to an aiosmtpd sink (5 ms a DATA); killed, then ``tracker run``
  runs until every message is ``sent``; Message-IDs at the sink are compared with the outbox.
  ``mail.stale_claim`` is its default 10 minutes: the message in flight at the kill is claimed by
  the dead process (``outbox.claimed_by``), and the restart must send it again at once.

The kill lands uniformly at random in ``[0.3 s, WINDOW]`` after the process starts (a kill before
the job started is still a kill and a restart, but not "mid-job"; ``mid-job`` counts the runs whose
``runs`` row was left unfinished). For each scenario it prints: runs, kills that landed mid-job,
lost (rows or events of the control missing after the restart; messages never received), duplicated
(rows or events stored twice; messages received twice), re-sent-and-counted (messages received
twice that the outbox counts in ``uncertain``), orphans (Scrapy children still alive 5 s after
their parent was killed), held-up restarts (the restart skipped a job as held by another worker;
for ``deliver``: it took over 30 s to send everything, i.e. waited for the dead worker's claim).
The goal is zero lost, zero duplicated except re-sent-and-counted, zero orphans, zero held up.

    .venv/bin/python bench/kill_soak.py                       # 20 runs of each scenario on SQLite
    .venv/bin/python bench/kill_soak.py --runs 10 --scenario crawl --scenario deliver
    .venv/bin/python bench/kill_soak.py --runs 10 --db-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

With ``--db-url`` (a PostgreSQL server where the user may create databases) each run gets a fresh
database ``kill_soak_<pid>_<n>``, dropped afterwards. This is a hand-run script, not a test.
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from db.engine import make_engine, session_factory  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from tests import kill9_world as w  # noqa: E402
from tracker.config import parse_config  # noqa: E402

SKIPPED = "skipped=held-by-another-worker"
WINDOWS = {"crawl": 9.0, "poll": 6.0, "deliver": 4.0}
MESSAGES = 150
DELIVER_HELD_UP_S = 30  # 150 messages take about 2 s; waiting for mail.stale_claim would take 10 min


@dataclass
class Tally:
    runs: int = 0
    mid_job: int = 0
    lost: int = 0
    duplicated: int = 0
    resent_counted: int = 0
    orphans: int = 0
    held_up: int = 0
    failures: list[str] = field(default_factory=list)


class Databases:
    """A fresh database per run: SQLite files in the work folder, or databases on a PostgreSQL server."""

    def __init__(self, admin_url: str | None, folder: Path):
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT") if admin_url else None
        self.admin_url, self.folder, self.n = admin_url, folder, 0

    @contextmanager
    def fresh(self):
        self.n += 1
        if self.admin is None:
            url = f"sqlite:///{self.folder / f'run{self.n}.sqlite'}"
        else:
            name = f"kill_soak_{os.getpid()}_{self.n}"
            with self.admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)
        engine = make_engine(url)
        upgrade(engine)
        try:
            yield url, session_factory(engine)
        finally:
            engine.dispose()
            if self.admin is not None:
                with self.admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _facts(summary: dict) -> collections.Counter:
    """Every stored row or event of a summary as one countable fact."""
    facts = collections.Counter()
    for key, value in summary.items():
        if isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, int) and not isinstance(v, bool):
                    facts[(key, k)] += v  # events and hearings are counts already
                elif isinstance(v, list):
                    facts.update((key, k, repr(x)) for x in v)
                else:
                    facts[(key, k, repr(v))] += 1
        elif isinstance(value, list):
            facts.update((key, repr(x)) for x in value)
        else:
            facts[(key, repr(value))] += 1
    return facts


def _compare(tally: Tally, control: dict, got: dict, label: str) -> None:
    want, have = _facts(control), _facts(got)
    lost, extra = sum((want - have).values()), sum((have - want).values())
    tally.lost += lost
    tally.duplicated += extra
    if lost or extra:
        tally.failures.append(f"{label}: lost {lost}, extra {extra}: {sorted((want - have).items())[:3]} / "
                              f"{sorted((have - want).items())[:3]}")


def _orphans(kids: list[int]) -> int:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(w.alive(k) for k in kids):
        time.sleep(0.05)
    left = [k for k in kids if w.alive(k)]
    for k in left:  # ours to end: children of the process this script started
        os.kill(k, 9)
    return len(left)


def _once(folder: Path, env: dict) -> str:
    done = subprocess.run([sys.executable, "-m", "tracker", "run", "--once"], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)
    return done.stderr


def _kill_at_random(folder: Path, env: dict, window: float, rng: random.Random) -> list[int]:
    proc = w.start(folder, env, "run")
    time.sleep(rng.uniform(0.3, window))
    return w.kill9(proc)


def soak_crawl(runs: int, dbs: Databases, work: Path, rng: random.Random) -> Tally:
    from tracker.crawl import crawl
    from tracker.replica import ReplicaServer

    tally = Tally()
    replica = w.crawl_replica()
    with ReplicaServer(replica) as server:
        config = w.crawl_config(server.base_url, replica)
        with dbs.fresh() as (_, sessions):
            crawl(parse_config(config, "feeds.yaml"), sessions)
            control = w.crawl_summary(sessions)
        for i in range(runs):
            folder = work / f"crawl{i}"
            folder.mkdir()
            (folder / "feeds.yaml").write_text(config)
            with dbs.fresh() as (url, sessions):
                env = w.env_for(url)
                replica.delay_s = 0.1
                kids = _kill_at_random(folder, env, WINDOWS["crawl"], rng)
                tally.mid_job += w.unfinished(sessions, "crawl") > 0
                tally.orphans += _orphans(kids)
                replica.delay_s = 0
                half = w.whole_bills(sessions)
                if half:
                    tally.failures.append(f"crawl run {i}: half-written bills after the kill: {half}")
                log = _once(folder, env)
                tally.held_up += SKIPPED in log
                _compare(tally, control, w.crawl_summary(sessions), f"crawl run {i}")
            tally.runs += 1
            print(f"  crawl run {i}: done", flush=True)
    return tally


def soak_poll(runs: int, dbs: Databases, work: Path, rng: random.Random) -> Tally:
    from tracker.news.poll import poll
    from tracker.replica.news_server import NewsServer

    tally = Tally()
    replica = w.news_replica()
    with NewsServer(replica) as server:
        config = w.poll_config(server.base_url, replica)
        with dbs.fresh() as (_, sessions):
            w.park_bills(sessions, config)
            poll(parse_config(config, "feeds.yaml"), sessions)
            control = w.poll_summary(sessions)
        for i in range(runs):
            folder = work / f"poll{i}"
            folder.mkdir()
            (folder / "feeds.yaml").write_text(config)
            with dbs.fresh() as (url, sessions):
                w.park_bills(sessions, config)
                env = w.env_for(url)
                replica.delay_s = {path: 0.4 for path in replica.feeds}
                kids = _kill_at_random(folder, env, WINDOWS["poll"], rng)
                tally.mid_job += w.unfinished(sessions, "poll") > 0
                tally.orphans += _orphans(kids)
                replica.delay_s = {}
                log = _once(folder, env)
                tally.held_up += SKIPPED in log
                _compare(tally, control, w.poll_summary(sessions), f"poll run {i}")
            tally.runs += 1
            print(f"  poll run {i}: done", flush=True)
    return tally


def soak_deliver(runs: int, dbs: Databases, work: Path, rng: random.Random) -> Tally:
    from tests.smtp_sink import SmtpSink

    tally = Tally()
    config = w.deliver_config()
    for i in range(runs):
        folder = work / f"deliver{i}"
        folder.mkdir()
        (folder / "feeds.yaml").write_text(config)
        with dbs.fresh() as (url, sessions), SmtpSink() as sink:
            queued = w.queue_alerts(sessions, config, MESSAGES)
            sink.state.data_delay_s = 0.005
            env = w.env_for(url, sink.url)
            _kill_at_random(folder, env, WINDOWS["deliver"], rng)
            tally.mid_job += w.unfinished(sessions, "dispatch") > 0
            started, took = time.monotonic(), None
            restarted = w.start(folder, env, "run", log="restart.log")
            try:
                w.wait_for(lambda: w.outbox_states(sessions) == {"sent": MESSAGES}, 60, "every message sent", 0.2)
                took = time.monotonic() - started
            except AssertionError as exc:
                tally.failures.append(f"deliver run {i}: {exc}: {w.outbox_states(sessions)}")
            finally:
                w.stop(restarted)
            tally.held_up += took is None or took > DELIVER_HELD_UP_S
            time.sleep(0.3)
            got = w.received(sink)
            twice = sum(n - 1 for n in got.values() if n > 1)
            counted = min(twice, w.uncertain_total(sessions))
            tally.lost += len(queued - set(got))
            tally.resent_counted += counted
            tally.duplicated += twice - counted
            if queued - set(got) or twice - counted or set(got) - queued:
                tally.failures.append(f"deliver run {i}: lost {len(queued - set(got))}, twice {twice}, "
                                      f"counted {counted}, unknown {len(set(got) - queued)}")
        tally.runs += 1
        sent_in = f", everything sent {took:.1f} s after the restart" if took is not None else ""
        print(f"  deliver run {i}: done{sent_in}", flush=True)
    return tally


SCENARIOS = {"crawl": soak_crawl, "poll": soak_poll, "deliver": soak_deliver}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20, help="kill-and-restart cycles per scenario (default 20)")
    ap.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="default: all three")
    ap.add_argument("--db-url", help="a PostgreSQL server (admin URL) to create a database per run on; "
                                     "default SQLite files")
    ap.add_argument("--seed", type=int, default=None, help="seed of the kill moments (default random)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (logs of every run)")
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="kill-soak-"))
    dbs = Databases(args.db_url, work)
    backend = "postgresql" if args.db_url else "sqlite"
    print(f"kill -9 soak: {args.runs} runs per scenario on {backend}, seed {seed}, work folder {work}")
    results = {}
    started = time.monotonic()
    try:
        for name in args.scenario or list(SCENARIOS):
            t = time.monotonic()
            results[name] = SCENARIOS[name](args.runs, dbs, work, rng)
            print(f"{name}: {time.monotonic() - t:.0f} s", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n{'scenario':10} {'runs':>5} {'mid-job':>8} {'lost':>5} {'dup':>5} {'re-sent+counted':>16} "
          f"{'orphans':>8} {'held-up':>8}   ({backend}, {time.monotonic() - started:.0f} s)")
    bad = 0
    for name, t in results.items():
        print(f"{name:10} {t.runs:>5} {t.mid_job:>8} {t.lost:>5} {t.duplicated:>5} {t.resent_counted:>16} "
              f"{t.orphans:>8} {t.held_up:>8}")
        for f in t.failures:
            print(f"    {f}")
        bad += t.lost + t.duplicated + t.orphans + t.held_up + len(t.failures)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
