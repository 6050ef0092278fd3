#!/usr/bin/env python3
"""Benchmark of the news poll against the news replica on loopback.

N synthetic feeds of M items (``NewsReplica.synthetic``) served by ``NewsServer`` on 127.0.0.1,
polled with ``tracker.news.poll.poll(config, sessions, all_feeds=True)`` exactly as ``tracker poll``
does it (feed spider in the child process, one transaction per feed in the parent), politeness off:

0. nothing is warmed: a fresh database, the replica's rendering caches empty, a new child per cycle;
1. first cycle: every feed is new, every body is parsed;
2. steady state: ``touch_fraction(0.10)`` adds one item to 10% of the feeds, poll again
   (90% of the feeds answer 304 to the conditional GET);
3. unchanged cycle: nothing moved, every feed answers 304.

Then, in the same run and against the same server, two plain baselines in a subprocess: a sequential
``feedparser.parse(url)`` loop (feedparser fetches each URL itself), and urllib + ``feedparser.parse(bytes)``;
and a parser measurement on the same bodies: ``spiders.feed_parse.parse_feed`` as the child runs it, its
feedparser path split into feedparser and our sanitiser, and the lxml fast path (the code's own
``spiders.feed_fast`` when it has one, else ``fast_parse_feed`` below, which exists only in this file).
This is a benchmark, not a test; see bench/FEEDS.md for what each figure means.

    .venv/bin/python bench/feed_bench.py                      # 1,000 feeds x 50 items, match: bills
    .venv/bin/python bench/feed_bench.py --match all          # every item stored: the worst case
    .venv/bin/python bench/feed_bench.py --feeds 200 --db-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import email.utils
import io
import json
import os
import platform
import pstats
import re
import resource
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urljoin

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/feed_bench.py` from anywhere, also without the editable install
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchdb
import benchdb  # noqa: E402

# Aims from the issue.
AIM_STEADY_S = 5.0
AIM_ALL_CHANGED_S = 15.0
# issue 20 (1,000 WordPress feeds x 50 items on 50 hosts): match keywords / bills, and match all
AIMS_BY_MATCH = {"keywords": (3.0, 10.0), "bills": (3.0, 10.0), "all": (4.0, 15.0)}
TOUCH_FRACTION = 0.10
TOUCH_SEED = 1
BILLS_YAML = """bills:
  - id: 192/H135
    keywords: ["face surveillance", "facial recognition"]
  - id: 192/S47
"""


# --------------------------------------------------------------------------- figures


@dataclass
class PhaseFigures:
    name: str
    checked: int = 0  # PollResult.checked: feeds with an outcome
    changed: int = 0  # PollResult.changed: feeds whose storing wrote events
    wall_s: float = 0.0  # the poll() call
    requests: int = 0  # requests the replica served during the phase
    status: dict = field(default_factory=dict)  # child observations by status: ok (parsed) / unchanged / error
    bytes_parsed: int = 0  # feed bytes the child parsed (from the observations' snapshots)
    events: int = 0
    event_kinds: dict = field(default_factory=dict)
    errors: int = 0
    articles_new: int = 0  # rows added to articles
    sources_new: int = 0  # rows added to article_sources
    snapshots_new: int = 0  # rows added to snapshots (one per parsed feed body)
    clusters_new: int = 0  # rows added to clusters (story clusters)
    # where the parent's wall time went (time.perf_counter around functions of tracker.news.poll)
    prepare_s: float = 0.0  # poll() start -> the child is started (sync_tracked, sync_feeds, job list, matcher)
    child_startup_s: float = 0.0  # child started -> first observation received
    wait_child_s: float = 0.0  # after the first observation: parent blocked reading the child's pipe
    store_s: float = 0.0  # parent in tracker.news.poll._store_feed (one transaction per feed, commit included)
    apply_s: float = 0.0  # of which FeedWriter.apply (snapshot, articles, sources, clusters, matches)
    story_index_s: float = 0.0  # building StoryIndex (every article of the last 7 days, fingerprinted)
    after_s: float = 0.0  # after the child's last observation: _fetch_full_text and the rest
    # CPU seconds in the phase
    child_cpu_s: float = 0.0  # the feed child (Scrapy: fetch + parse + sanitise + JSON)
    parent_main_cpu_s: float = 0.0  # the parent's main thread (JSON decoding, storing)
    parent_other_cpu_s: float = 0.0  # the parent's other threads: the replica server
    server_cpu_s: float | None = None  # PostgreSQL: the server backends of the bench database (None: SQLite)
    others_cpu_s: float = 0.0  # every other process on the machine (from /proc/stat), the DB server's not: noise
    iowait_s: float = 0.0
    child_peak_rss_mb: float = 0.0  # the feed child's own peak RSS (VmHWM, sampled every 50 ms)
    sql_statements: int = 0  # SQL statements the parent ran in the phase (an executemany is one)
    sql_executemany: int = 0  # of which executemany
    sql_commits: int = 0
    sql_pings: int = 0  # pool_pre_ping round trips (one per connection checkout)
    db_bytes: int = 0
    check: str = ""
    profiles: list = field(default_factory=list)
    profile_summary: dict = field(default_factory=dict)

    @property
    def feeds_per_s(self) -> float:
        return self.checked / self.wall_s if self.wall_s else 0.0


_REAL_POPEN = subprocess.Popen


class PollProbe:
    """Times pieces of ``tracker.news.poll.poll`` by wrapping module functions (no source edits)."""

    def __init__(self, child_profile: Path | None = None):
        import tracker.news.poll as poll_mod
        import tracker.news.store as store_mod

        self.mod = poll_mod
        self.writer = getattr(store_mod, "FeedWriter", None)
        self.orig = {name: getattr(poll_mod, name, None)
                     for name in ("run_spider", "_store_feed", "_store_batch", "StoryIndex")}
        self.orig_apply = getattr(self.writer, "apply", None) if self.writer else None
        self.child_profile = child_profile
        self.reset()

    def reset(self):
        self.t_child = None
        self.t_first = None
        self.t_end = None
        self.wait = 0.0
        self.store = 0.0
        self.apply = 0.0
        self.story_index = 0.0
        self.status: Counter = Counter()
        self.bytes_parsed = 0
        self.child_hwm_kb = 0
        self.child_pid = None

    def __enter__(self):
        probe = self

        def timed(name, fn):
            def wrapper(*args, **kwargs):
                t = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    setattr(probe, name, getattr(probe, name) + time.perf_counter() - t)
            return wrapper

        def run_spider(spider, *args, **kwargs):
            gen = iter(probe.orig["run_spider"](spider, *args, **kwargs))
            if spider != "feeds":
                yield from gen
                return
            probe.t_child = time.perf_counter()
            while True:
                t = time.perf_counter()
                try:
                    obs = next(gen)
                except StopIteration:
                    now = time.perf_counter()
                    probe.wait += now - t
                    probe.t_end = now
                    return
                now = time.perf_counter()
                if probe.t_first is None:
                    probe.t_first = now
                else:
                    probe.wait += now - t
                probe.status[obs.get("status") or obs.get("type") or "?"] += 1
                snap = obs.get("snapshot")
                if snap and snap.get("body_b64"):
                    probe.bytes_parsed += len(snap["body_b64"]) * 3 // 4
                yield obs

        # Patched only where present, so the probe survives refactorings of tracker.news.poll.
        if self.orig["run_spider"] is not None:
            self.mod.run_spider = run_spider
        if self.orig["_store_batch"] is not None:  # the feeds stored in batches (its fallback calls _store_feed)
            self.mod._store_batch = timed("store", self.orig["_store_batch"])
        elif self.orig["_store_feed"] is not None:
            self.mod._store_feed = timed("store", self.orig["_store_feed"])
        if self.orig_apply is not None:
            self.writer.apply = timed("apply", self.orig_apply)
        if self.orig["StoryIndex"] is not None:
            self.mod.StoryIndex = timed("story_index", self.orig["StoryIndex"])
        subprocess.Popen = self._popen
        return self

    def __exit__(self, *exc):
        for name, fn in self.orig.items():
            if fn is not None:
                setattr(self.mod, name, fn)
        if self.orig_apply is not None:
            self.writer.apply = self.orig_apply
        subprocess.Popen = _REAL_POPEN

    def _popen(self, args, *a, **kw):
        """Stand-in for subprocess.Popen: records the feed child's pid (and, with --profile,
        runs it under ``python -m cProfile -o ...``)."""
        is_child = isinstance(args, (list, tuple)) and "spiders.crawl_child" in args
        if is_child and self.child_profile is not None and self.child_pid is None:
            args = [args[0], "-m", "cProfile", "-o", str(self.child_profile)] + list(args[1:])
        proc = _REAL_POPEN(args, *a, **kw)
        if is_child and self.child_pid is None:
            self.child_pid = proc.pid
            threading.Thread(target=_sample_hwm, args=(proc.pid, self), name="child-rss", daemon=True).start()
        return proc


def _sample_hwm(pid: int, holder) -> None:
    """Sample a child's VmHWM (its own peak RSS) every 50 ms until it exits.

    RUSAGE_CHILDREN cannot give this: a child's ru_maxrss starts from the parent's RSS at fork time."""
    path = f"/proc/{pid}/status"
    while True:
        try:
            with open(path) as fh:
                hwm = next((int(line.split()[1]) for line in fh if line.startswith("VmHWM:")), None)
        except (OSError, ValueError):
            return
        if hwm is None:  # a zombie: its memory is gone
            return
        holder.child_hwm_kb = max(holder.child_hwm_kb, hwm)
        time.sleep(0.05)


def _cpu(who) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def _proc_stat() -> dict[str, float]:
    """Machine-wide CPU seconds from /proc/stat (all cores): busy, iowait, steal."""
    try:
        with open("/proc/stat") as fh:
            f = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return {"busy": 0.0, "iowait": 0.0, "steal": 0.0}
    hz = os.sysconf("SC_CLK_TCK")
    user, nice, system, _idle, iowait, irq, softirq, steal = (f + [0] * 8)[:8]
    return {"busy": (user + nice + system + irq + softirq + steal) / hz, "iowait": iowait / hz, "steal": steal / hz}


class CpuWindow:
    """CPU used by this process, its children, the database server's backends (PostgreSQL on this
    machine, when an engine is given) and every other process between enter and exit."""

    def __init__(self, engine=None):
        self.engine = engine if engine is not None and engine.dialect.name != "sqlite" else None
        self.server = None

    def __enter__(self):
        self.server0 = benchdb.backend_cpu(self.engine) if self.engine is not None else {}
        self.child0, self.self0 = _cpu(resource.RUSAGE_CHILDREN), _cpu(resource.RUSAGE_SELF)
        self.main0 = _cpu(resource.RUSAGE_THREAD)
        self.stat0 = _proc_stat()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.t0
        self.child = _cpu(resource.RUSAGE_CHILDREN) - self.child0
        self.self_ = _cpu(resource.RUSAGE_SELF) - self.self0
        self.main = _cpu(resource.RUSAGE_THREAD) - self.main0
        stat = _proc_stat()
        if self.engine is not None:
            self.server = benchdb.backend_cpu_delta(self.server0, benchdb.backend_cpu(self.engine))
        self.others = max(0.0, stat["busy"] - self.stat0["busy"] - self.child - self.self_ - (self.server or 0.0))
        self.iowait = stat["iowait"] - self.stat0["iowait"]


def _rss_now_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _counts(sessions) -> dict[str, int]:
    from sqlalchemy import text

    with sessions() as s:
        return {t: s.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("articles", "article_sources", "snapshots", "clusters", "article_bills")}


# --------------------------------------------------------------------------- profiles

# (label, file suffix, function name): cumulative times pulled out of the profiles for the summary.
CHILD_FUNCS = [
    ("parse_feed (all of the parse)", "spiders/feed_parse.py", "parse_feed"),
    ("  feed_fast.fast_parse (the code's lxml path, if any)", "spiders/feed_fast.py", "fast_parse"),
    ("  feedparser.parse", "feedparser/api.py", "parse"),
    ("  sanitize_with_text (our sanitiser)", "spiders/sanitize.py", "sanitize_with_text"),
    ("  html_to_text (titles)", "spiders/sanitize.py", "html_to_text"),
    ("  _item (entry -> FeedItem)", "spiders/feed_parse.py", "_item"),
    ("snapshot_of (base64 of the body)", "spiders/fetching.py", "snapshot_of"),
    ("FeedItem.to_dict (dataclasses.asdict)", "spiders/records.py", "to_dict"),
    ("JsonLinesPipeline.process_item (json.dumps + write, waits on a full pipe)", "spiders/crawl_child.py",
     "process_item"),
    ("hashlib sha256 of the body", "~", "<built-in method _hashlib.openssl_sha256>"),
]
PARENT_FUNCS = [
    ("run_spider: json.loads of the child's lines", "json/__init__.py", "loads"),
    ("_store_feed (one transaction per feed)", "tracker/news/poll.py", "_store_feed"),
    ("_store_batch (one transaction per batch of feeds)", "tracker/news/poll.py", "_store_batch"),
    ("  BatchWriter.store", "tracker/news/batch.py", "store"),
    ("    BatchWriter._kept (URLs, matching)", "tracker/news/batch.py", "_kept"),
    ("    BatchWriter._feed (planning the rows)", "tracker/news/batch.py", "_feed"),
    ("    BatchWriter._write (the INSERTs)", "tracker/news/batch.py", "_write"),
    ("  FeedWriter.apply", "tracker/news/store.py", "apply"),
    ("    store_snapshot (sha256, zlib, INSERT)", "db/snapshots.py", "store_snapshot"),
    ("    FeedWriter._item (per kept item)", "tracker/news/store.py", "_item"),
    ("    BillMatcher.match", "spiders/matching.py", "match"),
    ("    StoryIndex.same_story", "tracker/news/store.py", "same_story"),
    ("  Session.flush", "sqlalchemy/orm/session.py", "flush"),
    ("  Session.commit", "sqlalchemy/orm/session.py", "commit"),
    ("  sqlite3 Cursor.execute", "~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
    ("  sqlite3 Connection.commit", "~", "<method 'commit' of 'sqlite3.Connection' objects>"),
    ("  psycopg Cursor.execute", "psycopg/cursor.py", "execute"),
    ("  psycopg Cursor.executemany", "psycopg/cursor.py", "executemany"),
    ("  psycopg Connection.commit", "psycopg/connection.py", "commit"),
]


def profile_summary(path: str, funcs) -> dict[str, dict]:
    stats = pstats.Stats(path)
    total = stats.total_tt
    out = {"total_s": total}
    for label, suffix, name in funcs:
        cum, calls = 0.0, 0
        for (filename, _line, func), (cc, nc, _tt, ct, _callers) in stats.stats.items():
            if func == name and (filename == suffix or filename.replace("\\", "/").endswith(suffix)) and ct > cum:
                cum, calls = ct, nc  # the busiest function of that name in that file
        out[label] = {"cum_s": cum, "calls": calls}
    return out


def _print_summary(what: str, summary: dict) -> None:
    print(f"    where the {what}'s time goes (cProfile cumulative, total {summary['total_s']:.2f} s):")
    for label, v in summary.items():
        if label == "total_s" or not v["calls"]:
            continue
        print(f"      {label:<58} {v['cum_s']:7.2f} s  {v['calls']:>8} calls")


def _print_profile(what: str, stats: pstats.Stats, n: int = 15) -> None:
    for key, title in (("tottime", "own time"), ("cumulative", "cumulative time")):
        out = io.StringIO()
        stats.stream = out
        stats.sort_stats(key).print_stats(n)
        lines = out.getvalue().splitlines()
        start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
        print(f"    profile of the {what}, top {n} by {title}:")
        print("\n".join("      " + line for line in lines[start:] if line.strip()))


# --------------------------------------------------------------------------- phases


def run_phase(name, config, sessions, server, engine, profile_dir=None) -> PhaseFigures:
    from tracker.news.poll import poll

    fig = PhaseFigures(name)
    before = _counts(sessions)
    requests_before = server.request_count()
    profiler = cProfile.Profile() if profile_dir else None
    tag = "phase" + name.split()[1]
    child_prof = Path(profile_dir) / f"{tag}-child.prof" if profile_dir else None
    with PollProbe(child_prof) as probe, CpuWindow(engine) as cpu:
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        with benchdb.SqlCounter(engine) as sql:
            result = poll(config, sessions, all_feeds=True)
        if profiler:
            profiler.disable()
        fig.wall_s = time.perf_counter() - t0
    fig.requests = server.request_count() - requests_before
    fig.child_cpu_s, fig.parent_main_cpu_s = cpu.child, cpu.main
    fig.parent_other_cpu_s = max(0.0, cpu.self_ - cpu.main)
    fig.others_cpu_s, fig.iowait_s, fig.server_cpu_s = cpu.others, cpu.iowait, cpu.server
    fig.checked, fig.changed = result.checked, result.changed
    fig.events, fig.errors = len(result.events), len(result.errors)
    fig.event_kinds = dict(Counter(e.kind for e in result.events).most_common())
    fig.status, fig.bytes_parsed = dict(probe.status), probe.bytes_parsed
    if probe.t_child is not None:
        fig.prepare_s = probe.t_child - t0
        fig.child_startup_s = (probe.t_first or probe.t_end or time.perf_counter()) - probe.t_child
        fig.after_s = t0 + fig.wall_s - (probe.t_end or t0 + fig.wall_s)
    fig.wait_child_s, fig.store_s, fig.apply_s = probe.wait, probe.store, probe.apply
    fig.story_index_s = probe.story_index
    time.sleep(0.1)  # let the sampler see the child gone
    fig.child_peak_rss_mb = probe.child_hwm_kb / 1024
    after = _counts(sessions)
    fig.articles_new = after["articles"] - before["articles"]
    fig.sources_new = after["article_sources"] - before["article_sources"]
    fig.snapshots_new = after["snapshots"] - before["snapshots"]
    fig.clusters_new = after["clusters"] - before["clusters"]
    fig.db_bytes = benchdb.size_bytes(engine)
    fig.sql_statements, fig.sql_executemany, fig.sql_commits = sql.statements, sql.executemany, sql.commits
    fig.sql_pings = sql.pings
    for err in result.errors[:5]:
        print(f"    error: {err.get('source')} {err.get('url')}: {err.get('error')}", file=sys.stderr)
    if profiler:
        out = Path(profile_dir) / f"{tag}-parent.prof"
        profiler.dump_stats(out)
        fig.profiles.append((f"parent's main thread ({out})", str(out)))
        fig.profile_summary["parent"] = profile_summary(str(out), PARENT_FUNCS)
        if child_prof and child_prof.exists():
            fig.profiles.append((f"feed child ({child_prof})", str(child_prof)))
            fig.profile_summary["child"] = profile_summary(str(child_prof), CHILD_FUNCS)
    return fig


def print_phase(fig: PhaseFigures) -> None:
    st = fig.status
    print(f"  {fig.name}: {fig.checked} feeds in {fig.wall_s:.2f} s = {fig.feeds_per_s:.0f} feeds/s; "
          f"{fig.requests} HTTP requests; child said {st.get('ok', 0)} parsed / {st.get('unchanged', 0)} unchanged / "
          f"{st.get('error', 0)} error ({fig.bytes_parsed / 1e6:.1f} MB parsed); {fig.events} events; "
          f"{fig.articles_new} articles stored in {fig.clusters_new} new clusters; {fig.errors} errors")
    print(f"    wall: prepare {fig.prepare_s:.2f} s, child start-up {fig.child_startup_s:.2f} s, "
          f"waiting on child {fig.wait_child_s:.2f} s, storing {fig.store_s:.2f} s "
          f"(FeedWriter.apply {fig.apply_s:.2f} s), building StoryIndex {fig.story_index_s:.2f} s, "
          f"after the child {fig.after_s:.2f} s")
    print(f"    cpu: feed child {fig.child_cpu_s:.2f} s, parent main thread {fig.parent_main_cpu_s:.2f} s, "
          f"replica server threads {fig.parent_other_cpu_s:.2f} s"
          + (f", database server backends {fig.server_cpu_s:.2f} s" if fig.server_cpu_s is not None else "")
          + f"; child peak RSS {fig.child_peak_rss_mb:.0f} MB; "
          f"db {fig.db_bytes / 1e6:.1f} MB")
    print(f"    SQL: {fig.sql_statements} statements ({fig.sql_executemany} executemany), {fig.sql_commits} commits, {fig.sql_pings} pre-pings; "
          f"{fig.sql_statements / max(1, fig.checked):.1f} statements per feed")
    print(f"    machine: other processes used {fig.others_cpu_s:.2f} CPU s, I/O wait {fig.iowait_s:.2f} s"
          + ("  <- a busy machine: figures are pessimistic" if fig.others_cpu_s > 0.1 * fig.wall_s else ""))
    if fig.event_kinds:
        print("    events by kind: " + ", ".join(f"{k} {v}" for k, v in fig.event_kinds.items()))
    print(f"    check: {fig.check}")
    for what, summary in fig.profile_summary.items():
        _print_summary({"parent": "parent's main thread", "child": "feed child"}[what], summary)
    for what, path in fig.profiles:
        _print_profile(what, pstats.Stats(path))


# --------------------------------------------------------------------------- plain baselines

PLAIN_LOOP_MODES = {
    "url": "sequential feedparser.parse(url): feedparser fetches each feed itself",
    "bytes": "sequential urllib fetch, then feedparser.parse(bytes)",
}


def plain_loop_worker(mode: str) -> int:
    """Run in a subprocess: the plain loop over the URLs given on stdin; figures as JSON on stdout."""
    import urllib.request

    import feedparser

    urls = json.load(sys.stdin)
    fetch_s = parse_s = 0.0
    entries = bozo = failures = 0
    t0 = time.perf_counter()
    for url in urls:
        if mode == "url":
            d = feedparser.parse(url)
            if d.get("status") != 200:
                failures += 1
        else:
            t = time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=30) as resp:
                    body = resp.read()
            except OSError:
                failures += 1
                continue
            t2 = time.perf_counter()
            d = feedparser.parse(body)
            fetch_s += t2 - t
            parse_s += time.perf_counter() - t2
        entries += len(d.entries)
        bozo += bool(d.get("bozo"))
    wall = time.perf_counter() - t0
    hwm = 0
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    json.dump({"mode": mode, "feeds": len(urls), "wall_s": wall, "fetch_s": fetch_s, "parse_s": parse_s,
               "entries": entries, "bozo": bozo, "failures": failures,
               "cpu_s": _cpu(resource.RUSAGE_SELF), "peak_rss_mb": hwm / 1024}, sys.stdout)
    return 0


def plain_loop(mode: str, urls: list[str], server) -> dict:
    req0 = server.request_count()
    with CpuWindow() as cpu:
        proc = _REAL_POPEN([sys.executable, str(Path(__file__).resolve()), "--plain-loop-worker", mode],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(ROOT))
        out, err = proc.communicate(json.dumps(urls).encode())
    if proc.returncode != 0:
        raise RuntimeError(f"plain loop ({mode}) failed: {err.decode(errors='replace')[-2000:]}")
    fig = json.loads(out)
    fig.update({"what": PLAIN_LOOP_MODES[mode], "requests": server.request_count() - req0,
                "feeds_per_s": fig["feeds"] / fig["wall_s"] if fig["wall_s"] else 0.0,
                "process_cpu_s": cpu.child, "replica_cpu_s": cpu.self_ - cpu.main, "others_cpu_s": cpu.others,
                "process_wall_s": cpu.wall})
    return fig


def print_plain(fig: dict) -> None:
    extra = (f" (fetch {fig['fetch_s']:.2f} s = {fig['fetch_s'] / fig['feeds'] * 1000:.1f} ms/feed, "
             f"feedparser.parse {fig['parse_s']:.2f} s = {fig['parse_s'] / fig['feeds'] * 1000:.1f} ms/feed)"
             if fig["mode"] == "bytes" else "")
    print(f"  {fig['what']}: {fig['feeds']} feeds in {fig['wall_s']:.2f} s = {fig['feeds_per_s']:.0f} feeds/s{extra}; "
          f"{fig['entries']} entries, {fig['bozo']} bozo, {fig['failures']} failed; {fig['requests']} requests")
    print(f"    cpu: loop process {fig['process_cpu_s']:.2f} s (incl. interpreter start-up; process wall "
          f"{fig['process_wall_s']:.2f} s), replica server threads {fig['replica_cpu_s']:.2f} s; "
          f"peak RSS {fig['peak_rss_mb']:.0f} MB; other processes {fig['others_cpu_s']:.2f} CPU s"
          + ("  <- busy machine" if fig["others_cpu_s"] > 0.1 * fig["wall_s"] else ""))


# --------------------------------------------------------------------------- a fast path (measurement only)

_NS_ATOM = "http://www.w3.org/2005/Atom"
_NS_RSS10 = "http://purl.org/rss/1.0/"
_NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_NS_DC = "http://purl.org/dc/elements/1.1/"
_NS_CONTENT = "http://purl.org/rss/1.0/modules/content/"
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_ENTITY_LIKE = re.compile(r"&#?\w+;")


class Unsupported(Exception):
    """Something the fast path does not read the way feedparser does: use feedparser for this feed."""


_LXML_PARSER = None


def _lxml_parser():
    global _LXML_PARSER
    if _LXML_PARSER is None:
        import lxml.etree

        # No DTDs, no entities, no network: a document that needs any of it goes to feedparser.
        _LXML_PARSER = lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                                            remove_comments=True, remove_pis=True, recover=False)
    return _LXML_PARSER


def _text(el) -> str:
    if el is None:
        return ""
    if len(el):  # child elements inside a text construct (xhtml, stray markup): feedparser's business
        raise Unsupported(f"markup inside <{el.tag}>")
    return (el.text or "").strip()


def _plain_fast(value: str, html: bool) -> str:
    import spiders.feed_parse as fp  # its module globals, so parser_bench's timing wrappers see the calls

    if not value:
        return ""
    if html or fp._TAG_LIKE.search(value) or _ENTITY_LIKE.search(value):
        return " ".join(fp.html_to_text(value).split())
    return " ".join(value.split())


def _rich_fast(value: str, kind: str, base: str | None) -> tuple[str | None, str]:
    import html as html_lib

    import spiders.feed_parse as fp

    if value is None or not value.strip():
        return None, ""
    if "html" not in kind:
        text = "\n".join(line for line in (" ".join(x.split()) for x in value.splitlines()) if line)
        return html_lib.escape(text, quote=False), text
    return fp.sanitize_with_text(value, base_url=base or None)


def _date(value: str, rfc822: bool) -> str | None:
    if not value:
        return None
    try:
        if rfc822:
            dt = email.utils.parsedate_to_datetime(value)
        else:
            dt = datetime.fromisoformat(value)
    except (TypeError, ValueError, IndexError):
        raise Unsupported(f"date {value!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def _atom_kind(el) -> str:
    kind = (el.get("type") or "text").lower()
    if kind in ("text", "text/plain"):
        return "text/plain"
    if kind in ("html", "text/html"):
        return "text/html"
    raise Unsupported(f"atom type {kind!r}")  # xhtml, base64 modes...


def fast_parse_feed(body: bytes, url: str, content_type: str | None = None):
    """``parse_feed`` for ordinary RSS 2.0 / Atom 1.0 / RSS 1.0 with lxml.etree instead of feedparser.

    Returns a ``ParsedFeed`` with the same records ``parse_feed`` gives, or None when this path
    cannot read the feed the way feedparser does (not well-formed XML, entities, Atom 0.3, xhtml
    content, odd dates, several authors, ...): the caller then uses ``parse_feed``. The sanitiser
    (``sanitize_with_text``) and the decoding rules are parse_feed's own.
    """
    import lxml.etree

    from spiders.feed_parse import _decode, _for_feedparser, _root_element
    from spiders.records import ParsedFeed

    if not body or not body.strip():
        return None
    text = _decode(body, content_type).lstrip("\ufeff")
    root_name = _root_element(text)
    if root_name not in ("rss", "feed", "rdf"):
        return None
    data = _for_feedparser(text)[0]
    try:
        root = lxml.etree.fromstring(data, _lxml_parser(), base_url=url)
        if root.tag == "rss":
            if root.get("version") not in ("2.0", "0.92", "0.91"):
                return None
            channel = root.find("channel")
            if channel is None:
                return None
            items = [_rss_item(e, url, "rss") for e in channel.iterfind("item")]
            title = _plain_fast(_text(channel.find("title")), False)
            link = _text(channel.find("link"))
            ttl_raw = _text(channel.find("ttl"))
            fmt, ttl = "rss", (int(ttl_raw) if ttl_raw.isdigit() else None)
        elif root.tag == f"{{{_NS_ATOM}}}feed":
            items = [_atom_entry(e, url) for e in root.iterfind(f"{{{_NS_ATOM}}}entry")]
            t = root.find(f"{{{_NS_ATOM}}}title")
            title = _plain_fast(_text(t), t is not None and _atom_kind(t) == "text/html")
            link = _atom_link(root)
            fmt, ttl = "atom", None
        elif root.tag == f"{{{_NS_RDF}}}RDF":
            channel = root.find(f"{{{_NS_RSS10}}}channel")
            if channel is None:
                return None
            items = [_rss_item(e, url, "rdf") for e in root.iterfind(f"{{{_NS_RSS10}}}item")]
            title = _plain_fast(_text(channel.find(f"{{{_NS_RSS10}}}title")), False)
            link = _text(channel.find(f"{{{_NS_RSS10}}}link"))
            fmt, ttl = "rdf", None
        else:
            return None
    except (lxml.etree.XMLSyntaxError, Unsupported, ValueError):
        return None
    return ParsedFeed(format=fmt, title=title or None, link=urljoin(url, link) if link and url else (link or None),
                      ttl_minutes=ttl, items=[i for i in items if i is not None])


def _rss_item(e, url: str, fmt: str):
    from spiders.records import FeedItem

    ns = "" if fmt == "rss" else f"{{{_NS_RSS10}}}"
    allowed = {f"{ns}title", f"{ns}link", f"{ns}description", f"{ns}guid", f"{ns}pubDate", f"{ns}category",
               f"{ns}comments", f"{{{_NS_DC}}}creator", f"{{{_NS_DC}}}date", f"{{{_NS_DC}}}subject",
               f"{{{_NS_CONTENT}}}encoded", "source", "{http://purl.org/rss/1.0/modules/slash/}comments",
               "{http://wellformedweb.org/CommentAPI/}commentRss"}
    fields: dict[str, list] = {}
    for child in e:
        if child.tag not in allowed:
            raise Unsupported(f"<{child.tag}> in an item")
        if child.get(_XML_BASE) is not None:
            raise Unsupported("xml:base")
        fields.setdefault(child.tag, []).append(child)
    for tag, els in fields.items():
        if len(els) > 1 and not tag.endswith(("category", "subject")):
            raise Unsupported(f"{len(els)} <{tag}> in an item")

    def one(tag):
        els = fields.get(tag)
        return els[0] if els else None

    base = e.base or url
    title = _plain_fast(_text(one(f"{ns}title")), False)
    link = _text(one(f"{ns}link")) or None
    guid_el = one(f"{ns}guid")
    guid = _text(guid_el) or None
    if fmt == "rdf":
        guid = (e.get(f"{{{_NS_RDF}}}about") or "").strip() or guid
    if link is None and guid and guid_el is not None and guid_el.get("isPermaLink", "true").lower() != "false":
        link = guid
    if link and url:
        link = urljoin(base, link)
        link = urljoin(url, link)
    if not title and not link:
        return None
    desc, content = one(f"{ns}description"), one(f"{{{_NS_CONTENT}}}encoded")
    if desc is not None and content is not None and list(e).index(content) < list(e).index(desc):
        raise Unsupported("content:encoded before description")  # feedparser's summary/content juggling
    summary_src = desc if desc is not None else content
    summary_html, summary_text = _rich_fast(_text(summary_src) if summary_src is not None else None, "text/html", base)
    content_html = content_text = None
    if content is not None:
        content_html, content_text = _rich_fast(_text(content), "text/html", base)
        if content_html is None:
            content_text = None
    categories = []
    for el in fields.get(f"{ns}category", []) + fields.get(f"{{{_NS_DC}}}subject", []):
        term = " ".join(_text(el).split())
        if term and term not in categories:
            categories.append(term)
    published = _date(_text(one(f"{ns}pubDate")), True) if one(f"{ns}pubDate") is not None else None
    if published is None and one(f"{{{_NS_DC}}}date") is not None:
        published = _date(_text(one(f"{{{_NS_DC}}}date")), False)
    publisher = publisher_url = None
    source = one("source")
    if fmt == "rss" and source is not None:
        publisher = " ".join(_text(source).split()) or None
        publisher_url = (source.get("url") or "").strip() or None
        if publisher and title.endswith(" - " + publisher) and len(title) > len(publisher) + 3:
            title = title[: -len(" - " + publisher)].rstrip()
    author = _plain_fast(_text(one(f"{{{_NS_DC}}}creator")), False) or None
    return FeedItem(title=title, url=link, guid=guid, summary_html=summary_html, summary_text=summary_text,
                    content_html=content_html, content_text=content_text, published_at=published, author=author,
                    publisher=publisher, publisher_url=publisher_url, categories=categories)


def _atom_link(el) -> str | None:
    alternates = []
    for link in el.iterfind(f"{{{_NS_ATOM}}}link"):
        rel = link.get("rel") or "alternate"
        kind = (link.get("type") or "text/html").lower()
        if rel == "alternate" and kind in ("text/html", "application/xhtml+xml", "html"):
            alternates.append((link.get("href") or "").strip())
    if len(alternates) > 1:
        raise Unsupported("several alternate links")
    return alternates[0] if alternates else None


def _atom_entry(e, url: str):
    from spiders.records import FeedItem

    a = f"{{{_NS_ATOM}}}"
    allowed = {f"{a}{t}" for t in ("title", "link", "id", "updated", "published", "category", "summary", "content",
                                   "author")}
    fields: dict[str, list] = {}
    for child in e:
        if child.tag not in allowed:
            raise Unsupported(f"<{child.tag}> in an entry")
        fields.setdefault(child.tag, []).append(child)
    for tag, els in fields.items():
        if len(els) > 1 and tag not in (f"{a}category", f"{a}link"):
            raise Unsupported(f"{len(els)} <{tag}> in an entry")

    def one(tag):
        els = fields.get(a + tag)
        return els[0] if els else None

    t = one("title")
    title = _plain_fast(_text(t), t is not None and _atom_kind(t) == "text/html") if t is not None else ""
    link = _atom_link(e)
    if link:
        link = urljoin(e.base or url, link)
        link = urljoin(url, link)
    if not title and not link:
        return None
    summary, content = one("summary"), one("content")
    if summary is not None and content is not None and list(e).index(content) < list(e).index(summary):
        raise Unsupported("content before summary")
    if content is not None and content.get("src"):
        raise Unsupported("out-of-line content")
    summary_src = summary if summary is not None else content
    if summary_src is not None:
        summary_html, summary_text = _rich_fast(_text(summary_src), _atom_kind(summary_src), summary_src.base or url)
    else:
        summary_html, summary_text = None, ""
    content_html = content_text = None
    if content is not None:
        content_html, content_text = _rich_fast(_text(content), _atom_kind(content), content.base or url)
        if content_html is None:
            content_text = None
    categories = []
    for el in fields.get(f"{a}category", []):
        term = " ".join((el.get("term") or el.get("label") or "").split())
        if term and term not in categories:
            categories.append(term)
    published = _date(_text(one("published")), False) if one("published") is not None else None
    if published is None and one("updated") is not None:
        published = _date(_text(one("updated")), False)
    author = None
    author_el = one("author")
    if author_el is not None:
        parts = {child.tag for child in author_el}
        if parts - {f"{a}name"}:
            raise Unsupported("author with more than a name")
        author = _plain_fast(_text(author_el.find(f"{a}name")), False) or None
    guid = _text(one("id")) or None
    return FeedItem(title=title, url=link, guid=guid, summary_html=summary_html, summary_text=summary_text,
                    content_html=content_html, content_text=content_text, published_at=published, author=author,
                    publisher=None, publisher_url=None, categories=categories)


def _same(a, b) -> bool:
    return asdict(a) == asdict(b)


def _first_difference(a, b) -> str:
    da, db = asdict(a), asdict(b)
    for k in da:
        if k != "items" and da[k] != db[k]:
            return f"{k}: fast {da[k]!r} vs parse_feed {db[k]!r}"
    if len(da["items"]) != len(db["items"]):
        return f"{len(da['items'])} items vs {len(db['items'])}"
    for i, (x, y) in enumerate(zip(da["items"], db["items"])):
        for k in x:
            if x[k] != y[k]:
                return f"item {i} {k}: fast {x[k]!r} vs parse_feed {y[k]!r}"
    return "?"


def code_fast_path():
    """``(fast, slow)`` parsers to compare: the code's own lxml path (``spiders.feed_fast``, used by
    ``parse_feed`` since 583f6e1) against ``parse_feed(fast=False)``; for older code, this file's
    ``fast_parse_feed`` against ``parse_feed``. ``fast`` returns None when it leaves the feed to feedparser."""
    import inspect

    import spiders.feed_parse as fp

    if "fast" in inspect.signature(fp.parse_feed).parameters:
        from spiders.feed_fast import fast_parse

        def fast(body, url, ctype):
            if not body or not body.strip():
                return None
            return fast_parse(fp._for_feedparser(fp._decode(body, ctype).lstrip("\ufeff"))[0], url)

        return "code", fast, (lambda b, u, c: fp.parse_feed(b, u, c, fast=False))
    return "bench", fast_parse_feed, (lambda b, u, c: fp.parse_feed(b, u, c))


def parser_bench(bodies: list[tuple[str, bytes, str | None]], repeat: int = 2) -> dict:
    """ms per feed of parse_feed as the child runs it, of its feedparser path (split into feedparser and
    our sanitiser), of feedparser.parse alone, and of the lxml fast path; and whether the fast path
    gives the same records as the feedparser path."""
    import feedparser
    import lxml.etree

    import spiders.feed_parse as fp

    n = len(bodies)
    whose, fast_fn, slow_fn = code_fast_path()

    def best(fn) -> float:
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            for url, body, ctype in bodies:
                fn(url, body, ctype)
            times.append(time.perf_counter() - t)
        return min(times) / n * 1000

    def sanitiser_ms(fn) -> float:
        """One pass of ``fn`` with the sanitiser and html_to_text timed (both paths call them through
        the module globals of spiders.feed_text, or of spiders.feed_parse before feed_text existed)."""
        try:
            import spiders.feed_text as calls
        except ImportError:
            calls = fp
        spent = [0.0]

        def timing(f):
            def wrapper(*a, **kw):
                t = time.perf_counter()
                try:
                    return f(*a, **kw)
                finally:
                    spent[0] += time.perf_counter() - t
            return wrapper

        orig_s, orig_h = calls.sanitize_with_text, calls.html_to_text
        calls.sanitize_with_text, calls.html_to_text = timing(orig_s), timing(orig_h)
        try:
            for u, b, c in bodies:
                fn(u, b, c)
        finally:
            calls.sanitize_with_text, calls.html_to_text = orig_s, orig_h
        return spent[0] / n * 1000

    out: dict = {"feeds": n, "bytes": sum(len(b) for _, b, _ in bodies), "fast_path": whose}
    out["parse_feed_ms"] = best(lambda u, b, c: fp.parse_feed(b, u, c))  # what the child runs
    out["parse_feed_sanitiser_ms"] = sanitiser_ms(lambda u, b, c: fp.parse_feed(b, u, c))
    out["feedparser_path_ms"] = best(lambda u, b, c: slow_fn(b, u, c))
    out["feedparser_path_sanitiser_ms"] = sanitiser_ms(lambda u, b, c: slow_fn(b, u, c))
    out["feedparser_as_parse_feed_calls_it_ms"] = best(lambda u, b, c: feedparser.parse(
        io.BytesIO(fp._for_feedparser(fp._decode(b, c))[0]),
        response_headers={"content-type": "application/xml; charset=utf-8", "content-location": u},
        resolve_relative_uris=False, sanitize_html=False))
    out["feedparser_default_ms"] = best(lambda u, b, c: feedparser.parse(b))
    out["fast_path_ms"] = best(lambda u, b, c: fast_fn(b, u, c))
    out["fast_path_sanitiser_ms"] = sanitiser_ms(lambda u, b, c: fast_fn(b, u, c))
    out["lxml_fromstring_only_ms"] = best(lambda u, b, c: lxml.etree.fromstring(b, _lxml_parser()))
    same = differ = fallback = 0
    diffs = []
    for u, b, c in bodies:
        fast = fast_fn(b, u, c)
        if fast is None:
            fallback += 1
            continue
        slow = slow_fn(b, u, c)
        if _same(fast, slow):
            same += 1
        else:
            differ += 1
            if len(diffs) < 5:
                diffs.append(f"{u}: {_first_difference(fast, slow)}")
    out.update({"same": same, "differ": differ, "fallback": fallback, "differences": diffs})
    out["feedparser_path_other_ms"] = (out["feedparser_path_ms"] - out["feedparser_as_parse_feed_calls_it_ms"]
                                       - out["feedparser_path_sanitiser_ms"])
    return out


def bundled_agreement() -> dict:
    """The fast path on the bundled replica's feeds (real-world shapes: WordPress, Arc, Atom, RDF,
    Google News) and on their broken variants: each must give the feedparser path's records or fall back."""
    from spiders.records import FeedError
    from tracker.replica import news_pages as pages
    from tracker.replica.news_model import NewsReplica

    _whose, fast_fn, slow_fn = code_fast_path()
    replica = NewsReplica.bundled()
    base = "http://127.0.0.1:9"
    variants = {"plain": {}, "no_charset": {"no_charset": True}, "wrong_charset": {"wrong_charset": True},
                "malformed": {"malformed": True}, "no_dates": {"no_dates": True},
                "future_dates": {"future_dates": True}}
    cases = []
    for feed in replica.feeds.values():
        for vname, kw in variants.items():
            ctype = "application/xml" if kw.get("no_charset") else "application/xml; charset=UTF-8"
            cases.append((f"{feed.path} [{vname}]", pages.feed_bytes(feed, base, **kw), base + feed.path, ctype))
    google = pages.google_search_text("face surveillance", replica.google_lookup("face surveillance"), base)
    cases.append(("google search", google.encode(), base + "/rss/search", "application/xml; charset=utf-8"))
    res = Counter()
    diffs = []
    for name, body, url, ctype in cases:
        fast = fast_fn(body, url, ctype)
        try:
            slow = slow_fn(body, url, ctype)
        except FeedError:
            slow = None
        if fast is None:
            res["fallback"] += 1
        elif slow is not None and _same(fast, slow):
            res["same"] += 1
        else:
            res["differ"] += 1
            if len(diffs) < 5:
                diffs.append(f"{name}: " + (_first_difference(fast, slow) if slow else
                                            "the feedparser path refused it, the fast path read it"))
    return {"feeds": len(replica.feeds), "variants": list(variants), "cases": len(cases), **res, "differences": diffs}


# --------------------------------------------------------------------------- machine


def machine_info() -> dict:
    import feedparser
    import lxml.etree
    import scrapy
    import sqlalchemy
    import twisted

    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = round(int(line.split()[1]) / 1024 / 1024, 1)
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    import tracker

    code = Path(tracker.__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(code), "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":(exclude)bench"], capture_output=True, text=True, timeout=10).stdout.strip()
        revision = (rev + (" + uncommitted changes" if dirty else "")) if rev else "not a git checkout"
    except (OSError, subprocess.SubprocessError):
        revision = "unknown"
    return {
        "code": str(code),
        "revision": os.environ.get("BENCH_REVISION") or revision,
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gb": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "scrapy": scrapy.__version__,
        "twisted": twisted.__version__,
        "sqlalchemy": sqlalchemy.__version__,
        "sqlite": sqlite3.sqlite_version,
        "feedparser": feedparser.__version__,
        "lxml": ".".join(map(str, lxml.etree.LXML_VERSION)),
        "libxml2": ".".join(map(str, lxml.etree.LIBXML_VERSION)),
    }


def machine_load() -> str:
    """/proc/loadavg's three load averages (1, 5, 15 min): other work on the machine."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


# --------------------------------------------------------------------------- main


def build_config_text(urls: list[str], match: str, total: int, site: int, keywords: list[str] | None = None) -> str:
    lines = [
        "sources:",
        "  news:",
        "    delay_s: 0",
        f"    concurrency: {site}",
        f"    total_concurrency: {total}",
        "    timeout_s: 60",
        "    poll_timeout_s: 86400",  # the child is killed past this, even while the parent is still storing
    ]
    lines += BILLS_YAML.rstrip("\n").splitlines()
    lines.append("feeds:")
    for i, url in enumerate(urls, start=1):
        lines += [f"  - name: feed-{i:04d}", f"    url: {url}", "    every: 1m", f"    match: {match}"]
        if keywords:
            lines.append(f"    keywords: {json.dumps(keywords)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--feeds", type=int, default=1000, help="feeds to poll (default 1000)")
    ap.add_argument("--items", type=int, default=50, help="items per feed (default 50)")
    ap.add_argument("--match", choices=("all", "bills", "keywords"), default="bills",
                    help="every feed's match: setting (default bills; all stores every item: the worst case)")
    ap.add_argument("--total-concurrency", type=int, default=32, help="sources.news.total_concurrency (default 32)")
    ap.add_argument("--site-concurrency", type=int,
                    help="sources.news.concurrency (per site). Every feed is on 127.0.0.1, one site, so it "
                         "defaults to the total concurrency (at most 64, the config's limit)")
    ap.add_argument("--hosts", type=int, default=1,
                    help="spread the feeds over this many loopback addresses, 127.0.1.1 ... 127.0.1.N, one replica "
                         "server each (default 1: every feed on 127.0.0.1, as before); each address is a site "
                         "for the per-site limit")
    ap.add_argument("--shape", choices=("mixed", "wordpress", "real"), default="mixed",
                    help="mixed (default): rss / atom / rdf in turn, as NewsReplica.synthetic makes them; "
                         "wordpress: every feed a WordPress RSS 2.0 feed; real: about 150 feeds of the shapes, "
                         "sizes and markup of real ones (bench/realshapes.py; --feeds and --items are ignored)")
    ap.add_argument("--keywords", default=None,
                    help="comma-separated keywords given to every feed (match: keywords keeps the items that "
                         "carry one). Default with --match keywords: \"budget hearing\" (about 1 item in 12)")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--db", type=Path, help="SQLite file to create (must not exist; default a temp file)")
    where.add_argument("--db-url", metavar="URL",
                       help="a database server instead of SQLite, e.g. postgresql+psycopg://USER@HOST:PORT/postgres: "
                            "a fresh database bench_feed_<time>_<pid> is created there (AUTOCOMMIT), migrated, "
                            "and dropped at the end unless --keep-db")
    ap.add_argument("--keep-db", action="store_true",
                    help="keep the database afterwards (the --db-url database, or the temporary SQLite file)")
    ap.add_argument("--skip-plain-loop", action="store_true", help="do not run the plain feedparser baselines")
    ap.add_argument("--skip-unchanged", action="store_true", help="do not run phase 3 (the all-304 cycle)")
    ap.add_argument("--parse-sample", type=int, default=150,
                    help="feeds for the parser measurement (parse_feed vs feedparser vs the fast path); 0 skips it")
    ap.add_argument("--profile", type=Path, metavar="DIR",
                    help="cProfile each phase (the parent's main thread and the feed child); write "
                         "DIR/phaseN-parent.prof and DIR/phaseN-child.prof and print the top functions")
    ap.add_argument("--json", type=Path, metavar="PATH", help="also write every figure as JSON")
    ap.add_argument("--plain-loop-worker", choices=tuple(PLAIN_LOOP_MODES), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.plain_loop_worker:
        return plain_loop_worker(args.plain_loop_worker)
    if args.feeds < 1 or args.items < 1:
        ap.error("--feeds and --items must be at least 1")
    if args.hosts < 1 or args.hosts > 254:
        ap.error("--hosts must be between 1 and 254")
    # one site: the per-site limit would throttle everything, so it defaults to the total; many sites:
    # the config's default per-site limit (2), and the total limit binds
    site = args.site_concurrency or (min(args.total_concurrency, 64) if args.hosts == 1 else 2)
    if args.keywords is None and args.match == "keywords":
        args.keywords = "budget hearing"
    args.keyword_list = [k.strip() for k in (args.keywords or "").split(",") if k.strip()]
    if args.db is not None and any(Path(f"{args.db}{s}").exists() for s in ("", "-wal", "-shm")):
        ap.error(f"--db {args.db} exists; the first cycle needs a fresh database: remove it or pick another path")
    if args.db_url is not None and not benchdb.is_server_url(args.db_url):
        ap.error("--db-url takes a server URL (postgresql+psycopg://...); give a SQLite file with --db PATH")
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)

    from db.engine import make_engine

    machine = machine_info()
    with benchdb.BenchDatabase("feed", path=args.db, server_url=args.db_url, keep=args.keep_db) as bdb:
        engine = make_engine(bdb.url)
        machine["database"] = benchdb.describe(engine)
        print(f"feed bench {datetime.now(timezone.utc):%Y-%m-%d %H:%M}Z: {args.feeds} feeds x {args.items} items, "
              f"match {args.match}, total concurrency {args.total_concurrency}, per-site concurrency {site} "
              f"({'all feeds are on 127.0.0.1: one site' if args.hosts == 1 else f'{args.hosts} sites, 127.0.1.1-127.0.1.{args.hosts}'}), "
              f"shape {args.shape}, keywords {args.keyword_list or 'none'}, backend {machine['database']['backend']}")
        print(f"machine: {machine['cpu']}, {machine['cores']} cores ({machine['usable_cores']} usable), "
              f"{machine['memory_gb']} GB; Python {machine['python']}, Scrapy {machine['scrapy']}, "
              f"Twisted {machine['twisted']}, SQLAlchemy {machine['sqlalchemy']}, "
              f"database {machine['database']['label']}, "
              f"feedparser {machine['feedparser']}, lxml {machine['lxml']} (libxml2 {machine['libxml2']}); "
              f"load average {machine_load()}")
        print(f"code: {machine['code']} at {machine['revision']}")
        return run(args, site, machine, bdb, engine)


def run(args, site, machine, bdb, engine) -> int:
    from db.engine import session_factory
    from db.migrate import upgrade
    from tracker.config import parse_config
    from tracker.replica.news_model import NewsReplica
    from tracker.replica.news_server import NewsServer

    try:
        t = time.perf_counter()
        if args.shape == "real":
            import realshapes

            replica = realshapes.varied_replica(seed=0)
            args.feeds, args.items = len(replica.feeds), round(replica.item_count() / len(replica.feeds))
        else:
            replica = NewsReplica.synthetic(args.feeds, args.items, seed=0)
        if args.shape == "wordpress":
            for f in replica.feeds.values():
                f.format, f.flavor, f.ttl_minutes = "rss", "wordpress", 60
        replica.log_limit = 1000  # the request log is the replica's, not ours: keep it small
        paths = list(replica.feeds)
        rss_replica = _rss_now_mb()
        formats = Counter(f.format for f in replica.feeds.values())
        print(f"replica: {len(paths)} feeds ({', '.join(f'{v} {k}' for k, v in formats.items())}), "
              f"{replica.item_count()} items, built in {time.perf_counter() - t:.1f} s; parent RSS now "
              f"{rss_replica:.0f} MB")

        t = time.perf_counter()
        upgrade(engine)
        sessions = session_factory(engine)
        print(f"database: {bdb.where()} (upgraded in {time.perf_counter() - t:.1f} s)"
              + benchdb.settings_note(machine["database"]))

        with contextlib.ExitStack() as servers:
            if args.hosts == 1:
                hosts = [servers.enter_context(NewsServer(replica))]
            else:
                hosts = [servers.enter_context(NewsServer(replica, host=f"127.0.1.{k}")) for k in range(1, args.hosts + 1)]
            server = hosts[0]  # the request counts are the replica's, whichever server answered
            # in blocks (feeds 1-20 on the first address, ...), as a feeds.yaml that lists a site's feeds
            # together: the worst case for a host waiting on another's slot
            urls = [hosts[i * len(hosts) // len(paths)].base_url + p for i, p in enumerate(paths)]
            config = parse_config(build_config_text(urls, args.match, args.total_concurrency, site, args.keyword_list),
                                  "bench feeds.yaml")
            print(f"config: {len(config.feeds)} feeds, bills {', '.join(b.id for b in config.bills)}; "
                  f"replica at {server.base_url}")
            print("Phase 0: nothing warmed (fresh database, empty replica rendering caches, a new child per "
                  "cycle)\n")
            phases: list[PhaseFigures] = []
            n_items = replica.item_count()

            # Phase 1: every feed is new.
            fig = run_phase("Phase 1 all changed", config, sessions, server, engine, args.profile)
            problems = []
            if fig.errors:
                problems.append(f"{fig.errors} errors")
            if fig.checked != args.feeds:
                problems.append(f"{fig.checked} feeds checked, expected {args.feeds}")
            if fig.status.get("ok", 0) != args.feeds:
                problems.append(f"{fig.status.get('ok', 0)} feeds parsed, expected {args.feeds}")
            if args.match == "all" and fig.articles_new != n_items:
                problems.append(f"{fig.articles_new} articles stored, expected {n_items}")
            fig.check = "ok" if not problems else "; ".join(problems)
            print_phase(fig)
            phases.append(fig)

            # Phase 2: steady state, 10% of the feeds have one new item.
            touched = replica.touch_fraction(TOUCH_FRACTION, seed=TOUCH_SEED)
            fig = run_phase(f"Phase 2 steady state, {len(touched)} feeds changed", config, sessions, server, engine,
                            args.profile)
            problems = []
            if fig.errors:
                problems.append(f"{fig.errors} errors")
            if fig.status.get("ok", 0) != len(touched) or fig.status.get("unchanged", 0) != args.feeds - len(touched):
                problems.append(f"{fig.status.get('ok', 0)} parsed / {fig.status.get('unchanged', 0)} unchanged, "
                                f"expected {len(touched)} / {args.feeds - len(touched)}")
            if fig.requests != args.feeds:
                problems.append(f"{fig.requests} requests, expected one per feed")
            if args.match == "all" and fig.articles_new != len(touched):
                problems.append(f"{fig.articles_new} articles stored, expected {len(touched)}")
            fig.check = "ok" if not problems else "; ".join(problems)
            print_phase(fig)
            phases.append(fig)

            # Phase 3: nothing moved.
            if not args.skip_unchanged:
                fig = run_phase("Phase 3 unchanged", config, sessions, server, engine, args.profile)
                problems = []
                if fig.errors:
                    problems.append(f"{fig.errors} errors")
                if fig.events:
                    problems.append(f"{fig.events} events, expected 0")
                if fig.status.get("unchanged", 0) != args.feeds:
                    problems.append(f"{fig.status.get('unchanged', 0)} unchanged, expected {args.feeds}")
                fig.check = "ok" if not problems else "; ".join(problems)
                print_phase(fig)
                phases.append(fig)
            if replica.errors:
                print(f"  replica server errors: {replica.errors[:3]}", file=sys.stderr)

            memory = {"parent_max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "parent_rss_after_replica_mb": rss_replica,
                      "feed_child_peak_rss_mb": max(p.child_peak_rss_mb for p in phases)}

            plain = []
            if not args.skip_plain_loop:
                print(f"\nPlain baselines: the same {len(urls)} URLs, one at a time, in a subprocess "
                      f"(every body fetched and parsed: compare with phase 1)")
                for mode in PLAIN_LOOP_MODES:
                    fig_p = plain_loop(mode, urls, server)
                    print_plain(fig_p)
                    plain.append(fig_p)

            parser = agreement = None
            if args.parse_sample > 0:
                k = min(args.parse_sample, len(urls))
                step = len(urls) / k
                sample = [urls[int(i * step)] for i in range(k)]
                import urllib.request

                bodies = []
                for u in sample:
                    with urllib.request.urlopen(u, timeout=30) as resp:
                        bodies.append((u, resp.read(), resp.headers.get("Content-Type")))
                avg_kb = sum(len(b) for _, b, _ in bodies) / k / 1e3
                print(f"\nParser measurement on {k} of the same bodies ({avg_kb:.0f} "
                      f"kB each on average), in this process, best of 2 passes:")
                with CpuWindow() as cpu:
                    parser = parser_bench(bodies)
                parser["others_cpu_s"] = cpu.others
                print_parser(parser)
                agreement = bundled_agreement()
                print(f"  fast path on the bundled replica's {agreement['feeds']} feeds x {len(agreement['variants'])} "
                      f"variants + the Google News search: {agreement.get('same', 0)} same as the feedparser path, "
                      f"{agreement.get('fallback', 0)} left to feedparser, {agreement.get('differ', 0)} differ")
                for d in agreement["differences"]:
                    print(f"    differs: {d}")

        report(args, site, machine, phases, memory, plain, parser)
        if args.json:
            args.json.write_text(json.dumps({
                "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "args": {"feeds": args.feeds, "items": args.items, "match": args.match,
                         "total_concurrency": args.total_concurrency, "site_concurrency": site,
                         "hosts": args.hosts, "shape": args.shape, "keywords": args.keyword_list,
                         "backend": machine["database"]["backend"]},
                "machine": machine,
                "phases": [{**asdict(p), "feeds_per_s": p.feeds_per_s} for p in phases],
                "memory": memory, "plain_loops": plain, "parser": parser, "fast_path_agreement": agreement,
            }, indent=2, default=str))
        ok = all(p.check.startswith("ok") for p in phases)
        return 0 if ok else 1
    finally:
        engine.dispose()


def print_parser(p: dict) -> None:
    fp_ms = p["feedparser_as_parse_feed_calls_it_ms"]
    whose = {"code": "the code's own (spiders.feed_fast, used by parse_feed)",
             "bench": "this file's fast_parse_feed (measurement only: the code has none)"}[p["fast_path"]]
    print(f"  parse_feed as the child runs it               {p['parse_feed_ms']:6.2f} ms/feed "
          f"(sanitiser + html_to_text {p['parse_feed_sanitiser_ms']:.2f})")
    print(f"  the feedparser path                           {p['feedparser_path_ms']:6.2f} ms/feed")
    print(f"    of which feedparser.parse                   {fp_ms:6.2f} ms/feed "
          f"({fp_ms / p['feedparser_path_ms']:.0%})")
    print(f"    of which our sanitiser + html_to_text       {p['feedparser_path_sanitiser_ms']:6.2f} ms/feed "
          f"({p['feedparser_path_sanitiser_ms'] / p['feedparser_path_ms']:.0%})")
    print(f"    the rest (decode, _item, dates, urljoin)    {p['feedparser_path_other_ms']:6.2f} ms/feed")
    print(f"  feedparser.parse(bytes), defaults (its own sanitiser) {p['feedparser_default_ms']:6.2f} ms/feed")
    print(f"  lxml fast path, {whose}:")
    print(f"                                                {p['fast_path_ms']:6.2f} ms/feed "
          f"(sanitiser + html_to_text {p['fast_path_sanitiser_ms']:.2f}; "
          f"{p['feedparser_path_ms'] / p['fast_path_ms']:.1f}x faster than the feedparser path)")
    print(f"  lxml.etree.fromstring alone                   {p['lxml_fromstring_only_ms']:6.2f} ms/feed")
    print(f"  fast path vs the feedparser path on these feeds: {p['same']} same records, {p['fallback']} left to "
          f"feedparser, {p['differ']} differ; other processes used {p['others_cpu_s']:.1f} CPU s meanwhile")
    for d in p["differences"]:
        print(f"    differs: {d}")


def report(args, site, machine, phases, memory, plain, parser) -> None:
    print(f"\n## Results: {args.feeds} feeds x {args.items} items, match {args.match}, total concurrency "
          f"{args.total_concurrency}, per-site {site}, {args.hosts} host(s), shape {args.shape}, "
          f"{machine['database']['label']}\n")
    print("| phase | feeds | wall s | feeds/s | HTTP requests | parsed / 304 or same | events | articles stored "
          "| errors | waiting on child s | parent storing s | child CPU s | parent CPU s | DB server CPU s "
          "| other processes' CPU s | SQL statements / commits | check |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for p in phases:
        print(f"| {p.name} | {p.checked} | {p.wall_s:.1f} | {p.feeds_per_s:.0f} | {p.requests} | "
              f"{p.status.get('ok', 0)} / {p.status.get('unchanged', 0)} | {p.events} | {p.articles_new} | "
              f"{p.errors} | "
              f"{p.wait_child_s:.1f} | {p.store_s:.1f} | {p.child_cpu_s:.1f} | {p.parent_main_cpu_s:.1f} | "
              f"{'%.1f' % p.server_cpu_s if p.server_cpu_s is not None else 'in-process'} | "
              f"{p.others_cpu_s:.1f} | {p.sql_statements} / {p.sql_commits} | {p.check.split(' (')[0]} |")
    if plain:
        print("\n| plain baseline (same run, same server) | wall s | feeds/s | phase 1 / this | phase 2 / this |")
        print("|---|---:|---:|---:|---:|")
        for b in plain:
            print(f"| {b['what']} | {b['wall_s']:.1f} | {b['feeds_per_s']:.0f} | "
                  f"{phases[0].wall_s / b['wall_s']:.2f} | {phases[1].wall_s / b['wall_s']:.2f} |")
    print(f"\n| memory | MB |\n|---|---:|\n| parent max RSS (includes the replica and its server) | "
          f"{memory['parent_max_rss_mb']:.0f} |\n| parent RSS after building the replica | "
          f"{memory['parent_rss_after_replica_mb']:.0f} |\n| feed child's own peak RSS (VmHWM) | "
          f"{memory['feed_child_peak_rss_mb']:.0f} |"
          + "".join(f"\n| plain loop ({b['mode']}) process peak RSS | {b['peak_rss_mb']:.0f} |" for b in plain))
    print(f"\nmachine: {machine['cpu']}, {machine['cores']} cores, Python {machine['python']}, "
          f"Scrapy {machine['scrapy']}, SQLAlchemy {machine['sqlalchemy']}, feedparser {machine['feedparser']}, "
          f"database {machine['database']['label']}; load average at the end {machine_load()}; "
          f"code at {machine['revision']}")
    first, steady = phases[0], phases[1]
    if args.shape == "real":  # the aim for real-world feeds: twice as fast as urllib + feedparser
        loop = next((b for b in plain if b["mode"] == "bytes"), None)
        if loop:
            print(f"aim real-world shapes: the all-changed cycle at least 2x faster than the sequential urllib + "
                  f"feedparser loop ({loop['wall_s']:.1f} s): {loop['wall_s'] / first.wall_s:.2f}x: "
                  f"{'met' if loop['wall_s'] / first.wall_s >= 2 else 'NOT met'}")
        return
    note = f" (measured at {args.feeds} feeds x {args.items} items; the aims are for 1,000 x 50)" \
        if (args.feeds, args.items) != (1000, 50) else ""
    aim_steady, aim_cold = AIMS_BY_MATCH[args.match] if args.hosts > 1 else (AIM_STEADY_S, AIM_ALL_CHANGED_S)
    print(f"aim steady-state cycle <= {aim_steady:.0f} s: {'met' if steady.wall_s <= aim_steady else 'NOT met'} "
          f"({steady.wall_s:.1f} s){note}")
    print(f"aim all-changed cycle <= {aim_cold:.0f} s: "
          f"{'met' if first.wall_s <= aim_cold else 'NOT met'} ({first.wall_s:.1f} s){note}")
    if plain:
        b = plain[0]
        print(f"ratio to the plain feedparser.parse(url) loop ({b['wall_s']:.1f} s): all-changed cycle "
              f"{first.wall_s / b['wall_s']:.2f}, steady-state cycle {steady.wall_s / b['wall_s']:.2f}")
    if parser:
        share = parser["feedparser_as_parse_feed_calls_it_ms"] / parser["feedparser_path_ms"]
        print(f"parse_feed as the child runs it: {parser['parse_feed_ms']:.1f} ms/feed; the feedparser path "
              f"{parser['feedparser_path_ms']:.1f} ms/feed ({share:.0%} of it feedparser); the lxml fast path "
              f"({parser['fast_path']}) {parser['fast_path_ms']:.1f} ms/feed")


if __name__ == "__main__":
    sys.exit(main())
