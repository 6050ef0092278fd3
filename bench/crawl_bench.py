#!/usr/bin/env python3
"""Benchmark of the whole crawl pipeline against the replica on loopback.

Fetch (Scrapy in the crawl child), parse, diff and store into SQLite, exactly as
``tracker crawl`` does it, with politeness off (``delay_s: 0``):

1. first crawl of N bills into a fresh database (every history becomes events);
2. an unchanged re-crawl (API mode: one conditional GET per bill, nothing written);
3. one new action on 1% of the tracked bills, re-crawl: exactly that many ``bill.action`` events.

Then ``scrapy bench`` on the same machine as a baseline of what Scrapy alone does.
This is a benchmark, not a test; see bench/README.md for what each figure means.

    .venv/bin/python bench/crawl_bench.py --bills 5000
    .venv/bin/python bench/crawl_bench.py --bills 1000 --mode html
    .venv/bin/python bench/crawl_bench.py --bills 1000 --db-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import platform
import pstats
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchdb, also when run from elsewhere
import benchdb  # noqa: E402

CSV = ROOT / "tests" / "data" / "ma-192-history-actions.csv"
SESSION = 192
MAX_BILLS = 8180

# The action added in phase 3: classified "other", so it moves neither stage nor committee,
# refers to no other bill and is no hearing: each changed bill gives exactly one bill.action.
BENCH_ACTION = "Bench marker {i}: no real action (added by bench/crawl_bench.py)"
BENCH_ACTION_DATE = "2022-12-30T12:00:00.0000000"  # local time, the API's 7-digit fraction

# Aims from the issue.
AIM_BILLS_PER_S = 100.0
AIM_RECRAWL_BILLS = 5000
AIM_RECRAWL_S = 60.0
# Aims of issue 20 ("Speed"), at 20 ms latency and concurrency 16
AIM20_FIRST = 250.0
AIM20_UNCHANGED = 500.0


# --------------------------------------------------------------------------- figures


@dataclass
class PhaseFigures:
    name: str
    checked: int = 0
    changed: int = 0
    wall_s: float = 0.0
    requests: int = 0
    events: int = 0
    errors: int = 0
    fallbacks: int = 0
    event_kinds: dict = field(default_factory=dict)
    # where the parent's wall time went (time.perf_counter around pieces of tracker.crawl)
    prepare_s: float = 0.0  # crawl() start -> the child is started (sync_tracked, job selection)
    child_startup_s: float = 0.0  # child started -> first observation received
    wait_child_s: float = 0.0  # after the first observation: parent blocked reading the child's pipe
    store_s: float = 0.0  # parent in tracker.crawl._store (diff + store; per bill, or per batch since issue 20)
    # CPU seconds in the phase
    child_cpu_s: float = 0.0  # the crawl child (Scrapy: fetch + parse)
    parent_main_cpu_s: float = 0.0  # the parent's main thread (store, JSON decoding)
    parent_other_cpu_s: float = 0.0  # the parent's other threads: the replica server
    server_cpu_s: float | None = None  # PostgreSQL: the server backends of the bench database (None: SQLite)
    others_cpu_s: float = 0.0  # every other process on the machine (from /proc/stat), the DB server's not: noise
    iowait_s: float = 0.0  # machine-wide CPU time idle waiting for I/O
    child_peak_rss_mb: float = 0.0  # the crawl child's own peak RSS (VmHWM, sampled every 50 ms)
    sql_statements: int = 0  # SQL statements the parent ran in the phase (an executemany is one)
    sql_executemany: int = 0  # of which executemany
    sql_commits: int = 0
    sql_pings: int = 0  # pool_pre_ping round trips (one per connection checkout)
    db_bytes: int = 0  # database file + WAL after the phase (PostgreSQL: pg_database_size)
    check: str = ""  # the phase's own check, "ok" or what went wrong
    profiles: list = field(default_factory=list)  # (what, .prof path) with --profile

    @property
    def bills_per_s(self) -> float:
        return self.checked / self.wall_s if self.wall_s else 0.0


_REAL_POPEN = subprocess.Popen


class CrawlProbe:
    """Times pieces of ``tracker.crawl.crawl`` by wrapping module functions (no source edits)."""

    def __init__(self, child_profile: Path | None = None):
        import tracker.crawl as crawl_mod

        self.mod = crawl_mod
        self.orig_store = getattr(crawl_mod, "_store", None)
        self.orig_run_child = getattr(crawl_mod, "run_child", None)
        # since issue 20 the observations are read in a thread and stored in batches: the parent's wait
        # is then its wait for the next batch (tracker.crawl._batched), not for the child's next line
        self.orig_batched = getattr(crawl_mod, "_batched", None)
        self.child_profile = child_profile
        self.reset()

    def reset(self):
        self.t_start = time.perf_counter()
        self.t_child = None
        self.t_first = None
        self.wait = 0.0
        self.store = 0.0
        self.child_hwm_kb = 0

    def __enter__(self):
        probe = self

        def store(*args, **kwargs):
            t = time.perf_counter()
            try:
                return probe.orig_store(*args, **kwargs)
            finally:
                probe.store += time.perf_counter() - t

        def run_child(*args, **kwargs):
            probe.t_child = time.perf_counter()
            gen = iter(probe.orig_run_child(*args, **kwargs))
            if probe.orig_batched is not None:  # read in the reader thread: timed in batched() below
                yield from gen
                return
            while True:
                t = time.perf_counter()
                try:
                    obs = next(gen)
                except StopIteration:
                    probe.wait += time.perf_counter() - t
                    return
                now = time.perf_counter()
                if probe.t_first is None:
                    probe.t_first = now
                else:
                    probe.wait += now - t
                yield obs

        def batched(*args, **kwargs):
            gen = probe.orig_batched(*args, **kwargs)
            try:
                while True:
                    t = time.perf_counter()
                    try:
                        batch = next(gen)
                    except StopIteration:
                        probe.wait += time.perf_counter() - t
                        return
                    now = time.perf_counter()
                    if probe.t_first is None:
                        probe.t_first = now
                    else:
                        probe.wait += now - t
                    yield batch
            finally:
                gen.close()

        # Patched only where present, so the probe survives refactorings of tracker.crawl.
        if self.orig_store is not None:
            self.mod._store = store
        if self.orig_run_child is not None:
            self.mod.run_child = run_child
        if self.orig_batched is not None:
            self.mod._batched = batched
        # The child is spawned with subprocess.Popen (wherever that call lives): wrap it to learn its pid.
        subprocess.Popen = self._popen
        return self

    def __exit__(self, *exc):
        if self.orig_store is not None:
            self.mod._store = self.orig_store
        if self.orig_run_child is not None:
            self.mod.run_child = self.orig_run_child
        if self.orig_batched is not None:
            self.mod._batched = self.orig_batched
        subprocess.Popen = _REAL_POPEN

    def _popen(self, args, *a, **kw):
        """Stand-in for subprocess.Popen: records the crawl child's pid (and, with --profile,
        runs it under ``python -m cProfile -o ...``)."""
        is_child = isinstance(args, (list, tuple)) and "spiders.crawl_child" in args
        if is_child and self.child_profile is not None:
            args = [args[0], "-m", "cProfile", "-o", str(self.child_profile)] + list(args[1:])
        proc = _REAL_POPEN(args, *a, **kw)
        if is_child:
            self.child_started(proc.pid)
        return proc

    def child_started(self, pid: int) -> None:
        """Sample the child's VmHWM (its own peak RSS) until it exits.

        RUSAGE_CHILDREN cannot give this: a child's ru_maxrss starts from the parent's
        RSS at fork time, so it never reads below the parent's own size."""

        def sample():
            path = f"/proc/{pid}/status"
            while True:
                try:
                    with open(path) as fh:
                        hwm = next((int(line.split()[1]) for line in fh if line.startswith("VmHWM:")), None)
                except (OSError, ValueError):
                    return
                if hwm is None:  # a zombie: its memory is gone
                    return
                self.child_hwm_kb = max(self.child_hwm_kb, hwm)
                time.sleep(0.05)

        threading.Thread(target=sample, name="child-rss", daemon=True).start()


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


def _rss_now_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


# --------------------------------------------------------------------------- phases


def run_phase(name, config, sessions, replica, engine, profile_dir=None) -> tuple[PhaseFigures, list]:
    from tracker.crawl import crawl

    fig = PhaseFigures(name)
    outcomes = []
    requests_before = replica.request_count()
    cpu_child, cpu_self, cpu_main = _cpu(resource.RUSAGE_CHILDREN), _cpu(resource.RUSAGE_SELF), _cpu(
        resource.RUSAGE_THREAD)
    server_before = benchdb.backend_cpu(engine)
    stat_before = _proc_stat()
    profiler = cProfile.Profile() if profile_dir else None
    tag = name.split()[0].lower() + name.split()[1]
    child_prof = Path(profile_dir) / f"{tag}-child.prof" if profile_dir else None
    with CrawlProbe(child_prof) as probe:
        probe.reset()
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        with benchdb.SqlCounter(engine) as sql:
            result = crawl(config, sessions, on_outcome=outcomes.append)
        if profiler:
            profiler.disable()
        fig.wall_s = time.perf_counter() - t0
    fig.requests = replica.request_count() - requests_before
    d_child = _cpu(resource.RUSAGE_CHILDREN) - cpu_child
    d_self = _cpu(resource.RUSAGE_SELF) - cpu_self
    d_main = _cpu(resource.RUSAGE_THREAD) - cpu_main
    fig.child_cpu_s, fig.parent_main_cpu_s, fig.parent_other_cpu_s = d_child, d_main, max(0.0, d_self - d_main)
    stat_after = _proc_stat()
    server = 0.0
    if engine.dialect.name != "sqlite":
        server = fig.server_cpu_s = benchdb.backend_cpu_delta(server_before, benchdb.backend_cpu(engine))
    fig.others_cpu_s = max(0.0, stat_after["busy"] - stat_before["busy"] - d_child - d_self - server)
    fig.iowait_s = stat_after["iowait"] - stat_before["iowait"]
    fig.checked, fig.changed = result.checked, result.changed
    fig.events, fig.errors, fig.fallbacks = len(result.events), len(result.errors), len(result.fallbacks)
    fig.event_kinds = dict(Counter(e.kind for e in result.events).most_common())
    if probe.t_child is not None:
        fig.prepare_s = probe.t_child - t0
        fig.child_startup_s = (probe.t_first or time.perf_counter()) - probe.t_child
    fig.wait_child_s, fig.store_s = probe.wait, probe.store
    time.sleep(0.1)  # let the sampler see the child gone
    fig.child_peak_rss_mb = probe.child_hwm_kb / 1024
    fig.db_bytes = benchdb.size_bytes(engine)
    fig.sql_statements, fig.sql_executemany, fig.sql_commits = sql.statements, sql.executemany, sql.commits
    fig.sql_pings = sql.pings
    for err in result.errors[:5]:
        print(f"    error: {err.get('bill')} {err.get('url')}: {err.get('error')}", file=sys.stderr)
    fig.profiles = []
    if profiler:
        out = Path(profile_dir) / f"{tag}-parent.prof"
        profiler.dump_stats(out)
        fig.profiles.append((f"parent's main thread ({out})", str(out)))
        if child_prof and child_prof.exists():
            fig.profiles.append((f"crawl child ({child_prof})", str(child_prof)))
    return fig, outcomes


def _print_profile(what: str, stats: pstats.Stats, n: int = 15) -> None:
    for key, title in (("tottime", "own time"), ("cumulative", "cumulative time")):
        out = io.StringIO()
        stats.stream = out
        stats.sort_stats(key).print_stats(n)
        lines = out.getvalue().splitlines()
        start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
        print(f"    profile of the {what}, top {n} by {title}:")
        print("\n".join("      " + line for line in lines[start:] if line.strip()))


def print_phase(fig: PhaseFigures) -> None:
    print(f"  {fig.name}: {fig.checked} bills checked ({fig.changed} changed) in {fig.wall_s:.2f} s "
          f"= {fig.bills_per_s:.1f} bills/s; {fig.requests} HTTP requests "
          f"({fig.requests / max(1, fig.checked):.2f}/bill); {fig.events} events; {fig.errors} errors"
          + (f"; {fig.fallbacks} API->HTML fallbacks" if fig.fallbacks else ""))
    print(f"    wall: prepare {fig.prepare_s:.2f} s, child start-up {fig.child_startup_s:.2f} s, "
          f"waiting on child {fig.wait_child_s:.2f} s, storing {fig.store_s:.2f} s")
    print(f"    cpu: crawl child {fig.child_cpu_s:.2f} s, parent main thread {fig.parent_main_cpu_s:.2f} s, "
          f"replica server threads {fig.parent_other_cpu_s:.2f} s"
          + (f", database server backends {fig.server_cpu_s:.2f} s" if fig.server_cpu_s is not None else "")
          + f"; child peak RSS {fig.child_peak_rss_mb:.0f} MB; "
          f"db {fig.db_bytes / 1e6:.1f} MB")
    print(f"    SQL: {fig.sql_statements} statements ({fig.sql_executemany} executemany), {fig.sql_commits} commits, {fig.sql_pings} pre-pings; "
          f"{fig.sql_statements / max(1, fig.checked):.1f} statements per bill")
    print(f"    machine: other processes used {fig.others_cpu_s:.2f} CPU s, I/O wait {fig.iowait_s:.2f} s"
          + ("  <- a busy machine: figures are pessimistic" if fig.others_cpu_s > 0.1 * fig.wall_s else ""))
    if fig.event_kinds:
        print("    events by kind: " + ", ".join(f"{k} {v}" for k, v in fig.event_kinds.items()))
    print(f"    check: {fig.check}")
    for what, path in fig.profiles:
        _print_profile(what, pstats.Stats(path))


# --------------------------------------------------------------------------- scrapy bench

_CRAWLED = re.compile(r"Crawled (\d+) pages \(at (\d+) pages/min\)")


def scrapy_bench(timeout_s: float = 60.0) -> dict:
    """``scrapy bench`` in a subprocess: requests/s from its once-a-second log lines."""
    with tempfile.TemporaryDirectory() as cwd:  # outside any Scrapy project: its own default settings
        t0 = time.perf_counter()
        stat0, cpu0 = _proc_stat(), _cpu(resource.RUSAGE_CHILDREN)
        try:
            proc = subprocess.run([sys.executable, "-m", "scrapy", "bench"], cwd=cwd, capture_output=True,
                                  text=True, timeout=timeout_s)
            log, rc = proc.stderr + proc.stdout, proc.returncode
        except subprocess.TimeoutExpired as exc:
            log = (exc.stderr or b"").decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
            rc = "timeout"
        wall = time.perf_counter() - t0
        own = _cpu(resource.RUSAGE_CHILDREN) - cpu0
        others = max(0.0, _proc_stat()["busy"] - stat0["busy"] - own)
    rates = [int(m.group(2)) / 60.0 for m in _CRAWLED.finditer(log)]
    pages = [int(m.group(1)) for m in _CRAWLED.finditer(log)]
    working = [r for r in rates if r > 0]
    stats = {}
    for key in ("downloader/response_count", "elapsed_time_seconds"):
        m = re.search(rf"'{re.escape(key)}': ([\d.]+)", log)
        if m:
            stats[key] = float(m.group(1))
    mean = (stats["downloader/response_count"] / stats["elapsed_time_seconds"]
            if stats.get("elapsed_time_seconds") else None)
    return {
        "returncode": rc,
        "wall_s": wall,
        "samples": len(rates),
        "pages": pages[-1] if pages else 0,
        "max_rps": max(working) if working else None,
        "median_rps": statistics.median(working) if working else None,
        "mean_rps": mean,
        "cpu_s": own,
        "others_cpu_s": others,
        "log_tail": log.strip().splitlines()[-3:] if not working else [],
    }


# --------------------------------------------------------------------------- serial baseline


def serial_urllib(urls: list[str]) -> dict:
    """A plain loop over a bill's first request (its API history): urllib.request.urlopen (a new
    connection each time), read, json.loads. What one bill costs a script with no pipeline."""
    t = time.perf_counter()
    for url in urls:
        req = urllib.request.Request(url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            json.loads(resp.read())
    wall = time.perf_counter() - t
    return {"n": len(urls), "wall_s": wall, "per_s": len(urls) / wall if wall else 0.0}


# --------------------------------------------------------------------------- machine


def machine_info() -> dict:
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
    }


def machine_load() -> str:
    """/proc/loadavg's three load averages (1, 5, 15 min): other work on the machine."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


# --------------------------------------------------------------------------- main


def build_config_text(numbers: list[str], concurrency: int, mode: str) -> str:
    lines = [
        "sources:",
        "  malegislature:",
        f"    session: {SESSION}",
        f"    mode: {mode}",
        "    delay_s: 0",
        f"    concurrency: {concurrency}",
        "    crawl_timeout_s: 3600",
        "bills:",
    ]
    lines += [f"  - id: {SESSION}/{n}" for n in numbers]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bills", type=int, default=5000, help=f"bills to track, 1..{MAX_BILLS} (default 5000)")
    ap.add_argument("--concurrency", type=int, default=16, help="requests at once (default 16)")
    ap.add_argument("--mode", choices=("api", "html"), default="api", help="crawl mode (default api)")
    ap.add_argument("--latency-ms", type=float, default=0.0,
                    help="the replica waits this long before every answer (issue 20's row: 20; default 0)")
    ap.add_argument("--baseline-bills", type=int, default=200,
                    help="bills fetched by the serial urllib loop after the phases (0: skip; default 200)")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--db", type=Path, help="SQLite file to create (must not exist; default a temp file)")
    where.add_argument("--db-url", metavar="URL",
                       help="a database server instead of SQLite, e.g. postgresql+psycopg://USER@HOST:PORT/postgres: "
                            "a fresh database bench_crawl_<time>_<pid> is created there (AUTOCOMMIT), migrated, "
                            "and dropped at the end unless --keep-db")
    ap.add_argument("--keep-db", action="store_true",
                    help="keep the database afterwards (the --db-url database, or the temporary SQLite file)")
    ap.add_argument("--skip-scrapy-bench", action="store_true", help="do not run `scrapy bench` afterwards")
    ap.add_argument("--scrapy-bench-timeout", type=float, default=60.0, help="seconds (default 60)")
    ap.add_argument("--profile", type=Path, metavar="DIR",
                    help="cProfile each phase (the parent's main thread and the crawl child); "
                         "write DIR/phaseN-parent.prof and DIR/phaseN-child.prof and print the top functions")
    ap.add_argument("--json", type=Path, metavar="PATH", help="also write every figure as JSON")
    args = ap.parse_args(argv)
    if not 1 <= args.bills <= MAX_BILLS:
        ap.error(f"--bills must be between 1 and {MAX_BILLS}")
    if args.db is not None and any(Path(f"{args.db}{s}").exists() for s in ("", "-wal", "-shm")):
        ap.error(f"--db {args.db} exists; the first crawl needs a fresh database: remove it or pick another path")
    if args.db_url is not None and not benchdb.is_server_url(args.db_url):
        ap.error("--db-url takes a server URL (postgresql+psycopg://...); give a SQLite file with --db PATH")
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)

    from db.engine import make_engine

    machine = machine_info()
    with benchdb.BenchDatabase("crawl", path=args.db, server_url=args.db_url, keep=args.keep_db) as bdb:
        engine = make_engine(bdb.url)
        machine["database"] = benchdb.describe(engine)
        print(f"crawl bench {datetime.now(timezone.utc):%Y-%m-%d %H:%M}Z: {args.bills} bills, mode {args.mode}, "
              f"concurrency {args.concurrency}, latency {args.latency_ms:g} ms, backend {machine['database']['backend']}")
        print(f"machine: {machine['cpu']}, {machine['cores']} cores ({machine['usable_cores']} usable), "
              f"{machine['memory_gb']} GB; Python {machine['python']}, Scrapy {machine['scrapy']}, "
              f"Twisted {machine['twisted']}, SQLAlchemy {machine['sqlalchemy']}, "
              f"database {machine['database']['label']}; load average {machine_load()}")
        print(f"code: {machine['code']} at {machine['revision']}")
        return run(args, machine, bdb, engine)


def run(args, machine, bdb, engine) -> int:
    from db.engine import session_factory
    from db.migrate import upgrade
    from tracker.config import parse_config
    from tracker.replica import Replica, ReplicaServer

    try:
        t = time.perf_counter()
        replica = Replica.from_csv(CSV, session=SESSION)
        keys = replica.keys()
        load_s = time.perf_counter() - t
        rss_replica = _rss_now_mb()
        print(f"replica: {len(keys)} bills, {sum(len(replica.bill(*k).history) for k in keys)} actions loaded "
              f"in {load_s:.1f} s; parent RSS now {rss_replica:.0f} MB")
        tracked = [number for _, number in keys[: args.bills]]

        t = time.perf_counter()
        upgrade(engine)
        sessions = session_factory(engine)
        print(f"database: {bdb.where()} (upgraded in {time.perf_counter() - t:.1f} s)"
              + benchdb.settings_note(machine["database"]))

        replica.delay_s = args.latency_ms / 1000.0
        with ReplicaServer(replica) as server:
            t = time.perf_counter()
            config = parse_config(build_config_text(tracked, args.concurrency, args.mode), "bench feeds.yaml")
            config = config.with_overrides(base_url=server.base_url)
            print(f"config: {len(config.bills)} bills parsed in {time.perf_counter() - t:.1f} s; "
                  f"replica at {server.base_url}\n")

            phases: list[PhaseFigures] = []

            # Phase 1: everything is new.
            fig, _ = run_phase("Phase 1 first crawl", config, sessions, replica, engine, args.profile)
            drafts = fig.checked - len(tracked)
            problems = []
            if fig.errors:
                problems.append(f"{fig.errors} errors")
            if fig.event_kinds.get("bill.tracked", 0) != fig.checked - fig.errors:
                problems.append(f"{fig.event_kinds.get('bill.tracked', 0)} bill.tracked events for "
                                f"{fig.checked - fig.errors} bills")
            fig.check = "ok" if not problems else "; ".join(problems)
            fig.check += f" ({drafts} followed new drafts / study orders among the bills checked)"
            print_phase(fig)
            phases.append(fig)

            # Phase 2: nothing moved.
            fig, _ = run_phase("Phase 2 unchanged re-crawl", config, sessions, replica, engine, args.profile)
            problems = []
            if fig.events:
                problems.append(f"{fig.events} events written, expected 0")
            if fig.errors:
                problems.append(f"{fig.errors} errors")
            if args.mode == "api" and fig.requests != fig.checked:
                problems.append(f"{fig.requests} requests for {fig.checked} bills, expected one per bill")
            fig.check = "ok" if not problems else "; ".join(problems)
            print_phase(fig)
            phases.append(fig)

            # Phase 3: 1% of the tracked bills get one new action.
            n_change = max(1, round(len(tracked) / 100))
            chosen = [tracked[i * len(tracked) // n_change] for i in range(n_change)]
            for i, number in enumerate(chosen):
                replica.add_action(SESSION, number, BENCH_ACTION_DATE, "House", BENCH_ACTION.format(i=i))
            fig, outcomes = run_phase(f"Phase 3 re-crawl, {n_change} bills moved", config, sessions, replica,
                                      engine, args.profile)
            got = Counter()
            for o in outcomes:
                for e in o.events:
                    if e.kind == "bill.action":
                        got[o.bill] += 1
            want = {f"ma/{SESSION}/{n.upper()}" for n in chosen}
            problems = []
            if fig.event_kinds.get("bill.action", 0) != n_change:
                problems.append(f"{fig.event_kinds.get('bill.action', 0)} bill.action events, expected {n_change}")
            if set(got) != want or any(v != 1 for v in got.values()):
                problems.append(f"bill.action events on {len(set(got) & want)} of the {n_change} moved bills "
                                f"and {len(set(got) - want)} others")
            if fig.errors:
                problems.append(f"{fig.errors} errors")
            fig.check = "ok" if not problems else "; ".join(problems)
            fig.check += f" ({n_change} bill.action events expected)"
            print_phase(fig)
            phases.append(fig)
            if replica.errors:
                print(f"  replica server errors: {replica.errors[:3]}", file=sys.stderr)

            baseline = None
            if args.baseline_bills > 0:
                from spiders.malegislature_parse import api_history_url

                sample = tracked[: args.baseline_bills]
                baseline = serial_urllib([api_history_url(server.base_url, SESSION, n) for n in sample])
                print(f"\n  baseline: a serial urllib loop (new connection, read, json.loads) over the history of "
                      f"{baseline['n']} bills: {baseline['wall_s']:.2f} s = {baseline['per_s']:.1f} bills/s")
            if args.latency_ms > 0:
                bound = 1000.0 * args.concurrency / args.latency_ms
                print(f"  latency bound at concurrency {args.concurrency}: {bound:.0f} requests/s "
                      f"(first crawl at 2 requests per bill: {bound / 2:.0f} bills/s; unchanged: {bound:.0f})")

        self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # Read before `scrapy bench` runs: RUSAGE_CHILDREN is the largest waited-for child so far.
        child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        memory = {"parent_max_rss_mb": self_rss, "children_max_rss_mb": child_rss,
                  "parent_rss_after_replica_load_mb": rss_replica,
                  "crawl_child_peak_rss_mb": max(p.child_peak_rss_mb for p in phases)}

        sb = None
        if not args.skip_scrapy_bench:
            print(f"\nscrapy bench (its own local server, same {machine['usable_cores']} cores, "
                  f"timeout {args.scrapy_bench_timeout:g} s) ...")
            sb = scrapy_bench(args.scrapy_bench_timeout)
            if sb["max_rps"] is None:
                print(f"  scrapy bench gave no rate (exit {sb['returncode']}): {sb['log_tail']}")
            else:
                print(f"  {sb['samples']} samples, {sb['pages']} pages: max {sb['max_rps']:.0f} req/s, "
                      f"median {sb['median_rps']:.0f} req/s"
                      + (f", mean {sb['mean_rps']:.0f} req/s" if sb["mean_rps"] else "")
                      + f"; it used {sb['cpu_s']:.1f} CPU s, other processes {sb['others_cpu_s']:.1f} CPU s "
                      f"in {sb['wall_s']:.1f} s")

        report(args, machine, phases, memory, sb, baseline)
        if args.json:
            args.json.write_text(json.dumps({
                "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "args": {"bills": args.bills, "concurrency": args.concurrency, "mode": args.mode,
                         "backend": machine["database"]["backend"]},
                "machine": machine,
                "phases": [{**asdict(p), "bills_per_s": p.bills_per_s} for p in phases],
                "memory": memory, "scrapy_bench": sb, "serial_urllib": baseline,
                "latency_ms": args.latency_ms,
            }, indent=2))
        ok = all(p.check.startswith("ok") for p in phases)
        return 0 if ok else 1
    finally:
        engine.dispose()


def report(args, machine, phases, memory, sb, baseline=None) -> None:
    print(f"\n## Results: {args.bills} bills, mode {args.mode}, concurrency {args.concurrency}, "
          f"latency {args.latency_ms:g} ms, "
          f"{machine['database']['label']}\n")
    print("| phase | bills checked | wall s | bills/s | HTTP requests | req/bill | events | errors "
          "| parent storing s | child CPU s | parent CPU s | DB server CPU s | other processes' CPU s "
          "| SQL statements / commits | check |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for p in phases:
        print(f"| {p.name} | {p.checked} | {p.wall_s:.1f} | {p.bills_per_s:.0f} | {p.requests} | "
              f"{p.requests / max(1, p.checked):.2f} | {p.events} | {p.errors} | {p.store_s:.1f} | "
              f"{p.child_cpu_s:.1f} | {p.parent_main_cpu_s:.1f} | "
              f"{'%.1f' % p.server_cpu_s if p.server_cpu_s is not None else 'in-process'} | "
              f"{p.others_cpu_s:.1f} | {p.sql_statements} / {p.sql_commits} | {p.check.split(' (')[0]} |")
    print()
    print(f"| memory | MB |\n|---|---:|\n| parent max RSS (with the replica's {MAX_BILLS} bills) | "
          f"{memory['parent_max_rss_mb']:.0f} |\n| parent RSS after loading the replica | "
          f"{memory['parent_rss_after_replica_load_mb']:.0f} |\n| children max RSS (RUSAGE_CHILDREN; counts the "
          f"parent's pages at fork) | {memory['children_max_rss_mb']:.0f} |\n| crawl child's own peak RSS (VmHWM) | "
          f"{memory['crawl_child_peak_rss_mb']:.0f} |")
    if sb is not None:
        print()
        if sb["max_rps"] is not None:
            print(f"scrapy bench baseline: max {sb['max_rps']:.0f} req/s, median {sb['median_rps']:.0f} req/s"
                  + (f", mean {sb['mean_rps']:.0f} req/s" if sb["mean_rps"] else "")
                  + f" ({sb['samples']} one-second samples; other processes used {sb['others_cpu_s']:.1f} CPU s "
                  f"meanwhile)")
        else:
            print(f"scrapy bench baseline: no figure (exit {sb['returncode']})")
    if baseline is not None:
        print(f"\nserial urllib baseline (same run, same replica and latency): {baseline['per_s']:.1f} bills/s "
              f"({baseline['n']} bills in {baseline['wall_s']:.2f} s); first crawl "
              f"{phases[0].bills_per_s / baseline['per_s']:.1f}x, unchanged re-crawl "
              f"{phases[1].bills_per_s / baseline['per_s']:.1f}x the loop")
    print(f"\nmachine: {machine['cpu']}, {machine['cores']} cores, Python {machine['python']}, "
          f"Scrapy {machine['scrapy']}, SQLAlchemy {machine['sqlalchemy']}, database {machine['database']['label']}; "
          f"load average at the end {machine_load()}; code at {machine['revision']}")
    second = phases[1]
    aim1 = all(p.bills_per_s >= AIM_BILLS_PER_S for p in phases)
    line = (f"aim >= {AIM_BILLS_PER_S:.0f} bills/s in every phase: {'met' if aim1 else 'NOT met'} "
            f"(slowest {min(p.bills_per_s for p in phases):.0f} bills/s)")
    print(line)
    print(f"issue 20 aims (2,000 bills, --latency-ms 20): first crawl >= {AIM20_FIRST:.0f} bills/s: "
          f"{'met' if phases[0].bills_per_s >= AIM20_FIRST else 'NOT met'} ({phases[0].bills_per_s:.0f}); "
          f"unchanged re-crawl >= {AIM20_UNCHANGED:.0f} bills/s: "
          f"{'met' if second.bills_per_s >= AIM20_UNCHANGED else 'NOT met'} ({second.bills_per_s:.0f})")
    if args.mode == "api":
        one_req = second.requests == second.checked
        scaled = second.wall_s * AIM_RECRAWL_BILLS / max(1, second.checked)
        aim2 = one_req and scaled < AIM_RECRAWL_S
        print(f"aim unchanged re-crawl of {AIM_RECRAWL_BILLS} bills < {AIM_RECRAWL_S:.0f} s with one request per "
              f"bill: {'met' if aim2 else 'NOT met'} ({second.wall_s:.1f} s for {second.checked} bills"
              + (f", {scaled:.1f} s scaled to {AIM_RECRAWL_BILLS}" if second.checked != AIM_RECRAWL_BILLS else "")
              + f", {second.requests / max(1, second.checked):.2f} requests/bill)")


if __name__ == "__main__":
    sys.exit(main())
