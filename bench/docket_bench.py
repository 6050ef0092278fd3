#!/usr/bin/env python3
"""Docket benchmark (issue 14): ``tracker.docket.sync()`` against a generated docket on the replica.

A docket of N documents (default 10,000, the 194th General Court) is generated at run time
(``tracker.replica.docket.with_dockets``; nothing is kept in git) and served on 127.0.0.1 by the replica
with a latency of 20 ms per request (``replica.delay_s``; concurrent requests wait side by side). The
config syncs that one session with ``concurrency: 16, delay_s: 0`` and holds 20 watches (words, phrases,
sponsors, committees; some matching thousands of documents, some a handful, one nothing).

1. **First sync** into a fresh database: the list, then every detail, each stored in its own transaction,
   then the 20 watches (every match is new: one ``bill.discovered`` event each). Documents/s end to end.
2. **Unchanged re-sync**: seconds end to end, and exactly one request per session (the list, no detail).
3. **Watches** over the N stored documents with their texts: each watch under fresh names (so every match
   is new again and written), timed watch by watch, then all 20 again (nothing new); repeated. Next to it
   the baseline the index replaces: every document read and scanned in Python, per watch and read once.
   The documents each watch finds through the index must be exactly the ones the scan finds.
4. **Fetch baselines** in the same run, against the same replica and latency: a serial urllib loop
   over a sample of details (extrapolated to N), and 16 threads with keep-alive connections fetching
   details and decoding the JSON (no parsing, no storing): what this machine's loopback, replica and GIL
   allow at concurrency 16.

    .venv/bin/python bench/docket_bench.py
    .venv/bin/python bench/docket_bench.py --db-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/docket_bench.py --documents 2000 --skip-baselines --profile /tmp/prof

This is a benchmark, not a test; see bench/README.md, "Docket benchmark (issue 14)".
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import json
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
import unicodedata
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/docket_bench.py` from anywhere
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchdb, crawl_bench
import benchdb  # noqa: E402
import crawl_bench  # noqa: E402  (machine_info, machine_load, _cpu, _proc_stat, _print_profile)

SESSION = 194
# Targets from the issue ("Done when").
AIM_DOCS_PER_S = 100.0
AIM_RESYNC_S = 5.0
AIM_WATCHES_S = 5.0

# 20 watches. Counts are for the default docket (194th, 10,000 documents, seed 14): "regulations" is in
# about 8,700 texts, "report" 5,500, "special commission" 1,600; the real documents (facial recognition,
# Creem, Ramos) are a handful; "cannabis" is in none.
WATCHES: list[dict] = [
    # single words
    {"name": "regulations", "terms": ["regulations"]},
    {"name": "report", "terms": ["report"]},
    {"name": "housing", "terms": ["housing"]},
    {"name": "naloxone", "terms": ["naloxone"]},
    {"name": "bail", "terms": ["bail"]},
    {"name": "cannabis", "terms": ["cannabis"]},
    # phrases
    {"name": "face recognition", "terms": ["facial recognition", "face surveillance"]},
    {"name": "special commission", "terms": ["special commission"]},
    {"name": "school buses", "terms": ["school buses"]},
    {"name": "sales tax holiday", "terms": ["sales tax holiday"]},
    {"name": "utilities", "terms": ["net metering", "broadband", "gas pipeline"]},
    {"name": "town of Boston", "terms": ["town of Boston"]},
    # sponsors (a real member by name and by member code, generated members by full and by last name)
    {"name": "Creem", "sponsors": ["Cynthia Stone Creem"]},
    {"name": "Ramos by code", "sponsors": ["O_R1"]},
    {"name": "Nakamura", "sponsors": ["Thomas Nakamura"]},
    {"name": "every Galloway", "sponsors": ["Galloway"]},
    # committees (named in the pinslip)
    {"name": "Judiciary", "committees": ["The Judiciary"]},
    {"name": "education committees", "committees": ["Education", "Higher Education"]},
    # mixed
    {"name": "courts", "terms": ["bail", "jury"], "committees": ["The Judiciary"]},
    {"name": "campaign sponsors", "terms": ["facial recognition"], "sponsors": ["Creem", "Ramos"]},
]


def watches_yaml(suffix: str = "") -> str:
    lines = ["watches:"]
    for w in WATCHES:
        lines.append(f"  - name: {json.dumps(w['name'] + suffix)}")
        for key in ("terms", "sponsors", "committees"):
            if w.get(key):
                lines.append(f"    {key}: {json.dumps(w[key])}")
    return "\n".join(lines) + "\n"


def config_text(base_url: str, session: int, concurrency: int, watches: bool = True) -> str:
    return (f"sources:\n  malegislature:\n    base_url: {base_url}\n    session: {session}\n"
            f"    sessions: [{session}]\n    delay_s: 0\n    concurrency: {concurrency}\n"
            + (watches_yaml() if watches else ""))


# --------------------------------------------------------------------------- probes


class TimedSessions:
    """The sessionmaker handed to ``sync()``: times every ``sessions.begin()`` block (a transaction: the
    work inside, the flush and the commit), by the label the probe has set (list, detail, watches)."""

    def __init__(self, inner):
        self.inner = inner
        self.label = "other"
        self.spans: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def __call__(self, *a, **kw):
        return self.inner(*a, **kw)

    def begin(self):
        return _TimedBegin(self, self.inner.begin())

    def __getattr__(self, name):
        return getattr(self.inner, name)


class _TimedBegin:
    def __init__(self, owner: TimedSessions, ctx):
        self.owner, self.ctx = owner, ctx

    def __enter__(self):
        self.t = time.perf_counter()
        return self.ctx.__enter__()

    def __exit__(self, *exc):
        try:
            return self.ctx.__exit__(*exc)
        finally:
            self.owner.spans[self.owner.label] += time.perf_counter() - self.t
            self.owner.counts[self.owner.label] += 1


_REAL_POPEN = subprocess.Popen


class SyncProbe:
    """Times the pieces of ``tracker.docket.sync`` by wrapping its module functions (no source edits):
    time blocked on each child's pipe (start-up to the first observation, then the rest), ``store_list``,
    ``store_detail``, ``_fetch_details``, ``run_watches``; the children's pids (for their peak RSS) and,
    with ``profile_dir``, each child under ``python -m cProfile``."""

    NAMES = ("run_docket_child", "store_list", "store_detail", "_fetch_details", "run_watches")

    def __init__(self, sessions: TimedSessions, profile_dir: Path | None = None, tag: str = ""):
        import tracker.docket as mod

        self.mod, self.sessions = mod, sessions
        self.orig = {n: getattr(mod, n) for n in self.NAMES}
        self.profile_dir, self.tag = profile_dir, tag
        self.t = defaultdict(float)
        self.children: list[dict] = []
        self.child_profiles: list[Path] = []

    def __enter__(self):
        probe, orig = self, self.orig

        def timed(name, label=None):
            def wrapper(*a, **kw):
                before = probe.sessions.label
                if label:
                    probe.sessions.label = label
                t = time.perf_counter()
                try:
                    return orig[name](*a, **kw)
                finally:
                    probe.t[name] += time.perf_counter() - t
                    probe.sessions.label = before
            return wrapper

        def run_docket_child(config, jobs, stop=None):
            kind = "list" if all("id" not in j for j in jobs) else "details"
            info = {"kind": kind, "jobs": len(jobs), "startup_s": 0.0, "wait_s": 0.0, "observations": 0}
            probe.children.append(info)
            gen = iter(orig["run_docket_child"](config, jobs, stop))
            while True:
                t = time.perf_counter()
                try:
                    obs = next(gen)
                except StopIteration:
                    info["wait_s"] += time.perf_counter() - t
                    return
                key = "startup_s" if info["observations"] == 0 else "wait_s"
                info[key] += time.perf_counter() - t
                info["observations"] += 1
                yield obs

        self.mod.run_docket_child = run_docket_child
        self.mod.store_list = timed("store_list")
        self.mod.store_detail = timed("store_detail")
        self.mod._fetch_details = timed("_fetch_details", "detail")
        self.mod.run_watches = timed("run_watches", "watches")
        self.sessions.label = "list"
        subprocess.Popen = self._popen
        return self

    def __exit__(self, *exc):
        for name, fn in self.orig.items():
            setattr(self.mod, name, fn)
        subprocess.Popen = _REAL_POPEN
        self.sessions.label = "other"

    def _popen(self, args, *a, **kw):
        is_child = isinstance(args, (list, tuple)) and "spiders.crawl_child" in args
        if is_child and self.profile_dir is not None:
            out = self.profile_dir / f"{self.tag}-child{len(self.child_profiles) + 1}.prof"
            self.child_profiles.append(out)
            args = [args[0], "-m", "cProfile", "-o", str(out)] + list(args[1:])
        proc = _REAL_POPEN(args, *a, **kw)
        if is_child:
            self._sample_rss(proc.pid)
        return proc

    def _sample_rss(self, pid: int) -> None:
        entry = {"pid": pid, "hwm_kb": 0}
        self.children_rss = getattr(self, "children_rss", [])
        self.children_rss.append(entry)

        def sample():
            while True:
                try:
                    with open(f"/proc/{pid}/status") as fh:
                        hwm = next((int(line.split()[1]) for line in fh if line.startswith("VmHWM:")), None)
                except (OSError, ValueError):
                    return
                if hwm is None:
                    return
                entry["hwm_kb"] = max(entry["hwm_kb"], hwm)
                time.sleep(0.05)

        threading.Thread(target=sample, name="child-rss", daemon=True).start()


@dataclass
class Meter:
    """CPU and machine figures over an interval: this process's main thread and its other threads (the
    replica server), the children (the Scrapy child), the database server's backends, everyone else."""

    wall_s: float = 0.0
    child_cpu_s: float = 0.0
    main_cpu_s: float = 0.0
    replica_cpu_s: float = 0.0
    server_cpu_s: float | None = None
    others_cpu_s: float = 0.0
    load_before: str = ""
    load_after: str = ""

    @classmethod
    def start(cls, engine) -> "_Running":
        return _Running(engine)


REPLICA_PID: int | None = None  # the replica's process with --replica-process (its CPU is the replica's)


def _replica_proc_cpu() -> float:
    return (benchdb._proc_cpu_s(REPLICA_PID) or 0.0) if REPLICA_PID else 0.0


class _Running:
    def __init__(self, engine):
        self.engine = engine
        self.replica = _replica_proc_cpu()
        self.load = crawl_bench.machine_load()
        self.child = crawl_bench._cpu(resource.RUSAGE_CHILDREN)
        self.self_ = crawl_bench._cpu(resource.RUSAGE_SELF)
        self.main = crawl_bench._cpu(resource.RUSAGE_THREAD)
        self.server = benchdb.backend_cpu(engine)
        self.stat = crawl_bench._proc_stat()
        self.t0 = time.perf_counter()

    def stop(self) -> Meter:
        wall = time.perf_counter() - self.t0
        d_child = crawl_bench._cpu(resource.RUSAGE_CHILDREN) - self.child
        d_self = crawl_bench._cpu(resource.RUSAGE_SELF) - self.self_
        d_main = crawl_bench._cpu(resource.RUSAGE_THREAD) - self.main
        server = None
        if self.engine.dialect.name != "sqlite":
            server = benchdb.backend_cpu_delta(self.server, benchdb.backend_cpu(self.engine))
        busy = crawl_bench._proc_stat()["busy"] - self.stat["busy"]
        d_replica = _replica_proc_cpu() - self.replica
        return Meter(wall_s=wall, child_cpu_s=d_child, main_cpu_s=d_main,
                     replica_cpu_s=max(0.0, d_self - d_main) + d_replica, server_cpu_s=server,
                     others_cpu_s=max(0.0, busy - d_child - d_self - d_replica - (server or 0.0)),
                     load_before=self.load, load_after=crawl_bench.machine_load())


def meter_line(m: Meter) -> str:
    return (f"cpu: Scrapy child {m.child_cpu_s:.2f} s, parent main thread {m.main_cpu_s:.2f} s, replica "
            f"{'process' if REPLICA_PID else 'server threads'} {m.replica_cpu_s:.2f} s"
            + (f", database server backends {m.server_cpu_s:.2f} s" if m.server_cpu_s is not None else "")
            + f"; other processes {m.others_cpu_s:.2f} CPU s"
            + ("  <- a busy machine: figures are pessimistic" if m.others_cpu_s > 0.1 * max(m.wall_s, 0.1) else "")
            + f"; load average {m.load_before} -> {m.load_after}")


# --------------------------------------------------------------------------- sync phases


@dataclass
class SyncPhase:
    name: str
    wall_s: float = 0.0
    documents: int = 0
    new: int = 0
    changed: int = 0
    details: int = 0
    discovered: int = 0
    errors: int = 0
    requests: dict = field(default_factory=dict)
    breakdown: dict = field(default_factory=dict)
    children: list = field(default_factory=list)
    meter: Meter = field(default_factory=Meter)
    sql: dict = field(default_factory=dict)
    db_bytes: int = 0
    check: str = ""

    @property
    def docs_per_s(self) -> float:
        return self.documents / self.wall_s if self.wall_s else 0.0


def run_sync(name: str, config, sessions: TimedSessions, replica, engine, session: int,
             profile_dir: Path | None) -> tuple[SyncPhase, object]:
    """One ``sync()``; ``replica`` None when the replica runs in its own process (requests not counted)."""
    from tracker.docket import sync

    ph = SyncPhase(name)
    before = dict(replica.document_requests(session)) if replica is not None else {}
    sessions.spans.clear()
    sessions.counts.clear()
    tag = name.split()[0].lower() + name.split()[1]
    profiler = cProfile.Profile() if profile_dir else None
    with SyncProbe(sessions, profile_dir, tag) as probe, benchdb.SqlCounter(engine) as sql:
        run = Meter.start(engine)
        if profiler:
            profiler.enable()
        result = sync(config, sessions)
        if profiler:
            profiler.disable()
        ph.meter = run.stop()
    ph.wall_s = ph.meter.wall_s
    if replica is not None:
        after = replica.document_requests(session)
        ph.requests = {k: after[k] - before.get(k, 0) for k in after}
    ph.documents, ph.new, ph.changed, ph.details = result.documents, result.new, result.changed, result.details
    ph.discovered, ph.errors = len(result.discovered), len(result.errors)
    ph.children = probe.children
    time.sleep(0.1)  # let the samplers see the children gone
    for info, rss in zip(probe.children, getattr(probe, "children_rss", [])):
        info["peak_rss_mb"] = rss["hwm_kb"] / 1024
    ph.breakdown = {
        "store_list_s": probe.t["store_list"],
        "list_transaction_s": sessions.spans.get("list", 0.0),
        "details_phase_s": probe.t["_fetch_details"],
        "detail_transactions": sessions.counts.get("detail", 0),
        "detail_transactions_s": sessions.spans.get("detail", 0.0),
        "store_detail_s": probe.t["store_detail"],
        "watches_s": probe.t["run_watches"],
    }
    ph.sql = {"statements": sql.statements, "executemany": sql.executemany, "commits": sql.commits,
              "pings": sql.pings}
    ph.db_bytes = benchdb.size_bytes(engine)
    for err in result.errors[:5]:
        print(f"    error: {err.get('url')}: {err.get('error')}", file=sys.stderr)
    if profiler:
        out = profile_dir / f"{tag}-parent.prof"
        profiler.dump_stats(out)
        ph.breakdown["profiles"] = [str(out)] + [str(p) for p in probe.child_profiles if p.exists()]
    return ph, result


def print_sync(ph: SyncPhase) -> None:
    b = ph.breakdown
    print(f"  {ph.name}: {ph.documents} documents listed ({ph.new} new, {ph.changed} changed), {ph.details} details "
          f"stored, {ph.discovered} discovered, {ph.errors} errors in {ph.wall_s:.2f} s = {ph.docs_per_s:.0f} "
          f"documents/s; requests {ph.requests}")
    for c in ph.children:
        print(f"    {c['kind']} child ({c['jobs']} jobs): start-up to the first observation {c['startup_s']:.2f} s, "
              f"then blocked on its pipe {c['wait_s']:.2f} s; {c['observations']} observations"
              + (f"; peak RSS {c['peak_rss_mb']:.0f} MB" if c.get("peak_rss_mb") else ""))
    n = max(1, b["detail_transactions"])
    print(f"    parent: store_list {b['store_list_s']:.2f} s (its transaction {b['list_transaction_s']:.2f} s); "
          f"details phase {b['details_phase_s']:.2f} s, of which {b['detail_transactions']} detail transactions "
          f"{b['detail_transactions_s']:.2f} s ({1000 * b['detail_transactions_s'] / n:.2f} ms each; store_detail "
          f"{b['store_detail_s']:.2f} s of it); watches {b['watches_s']:.2f} s")
    print(f"    {meter_line(ph.meter)}")
    print(f"    SQL: {ph.sql['statements']} statements ({ph.sql['executemany']} executemany), {ph.sql['commits']} "
          f"commits, {ph.sql['pings']} pre-pings; database {ph.db_bytes / 1e6:.1f} MB")
    print(f"    check: {ph.check}")
    for path in b.get("profiles", []):
        import pstats

        crawl_bench._print_profile(path, pstats.Stats(path))


# --------------------------------------------------------------------------- watches


def _fold(value: str | None) -> str:
    """Text as both indexes see it: accents removed, case folded, split on anything not a letter or digit;
    returned as ' tok tok tok ' so that a phrase is a substring test."""
    if not value:
        return " "
    value = unicodedata.normalize("NFKD", value)
    value = "".join(ch for ch in value if not unicodedata.combining(ch))
    return " " + " ".join(re.findall(r"[^\W_]+", value.casefold())) + " "


def scan_match(watch: dict, doc: dict) -> bool:
    """One watch against one document, in Python: what ``matching_documents`` asks the database (any term as a
    phrase in the title, pinslip or text; a sponsor's name in the lead or joint sponsors, or its member code; a
    committee named in the pinslip)."""
    terms = [_fold(t) for t in watch.get("terms", []) if _fold(t).strip()]
    if terms:
        fields = doc.get("_folded") or [_fold(doc["title"]), _fold(doc["pinslip"]), _fold(doc["text"])]
        if not any(t in f for t in terms for f in fields):
            return False
    if watch.get("sponsors"):
        sponsor = (doc["sponsor"] or "").casefold()
        joint = json.dumps(doc["joint_sponsors"]).casefold() if doc["joint_sponsors"] is not None else ""
        if not any(n.casefold() in sponsor or doc["sponsor_code"] == n.upper() or n.casefold() in joint
                   for n in watch["sponsors"]):
            return False
    if watch.get("committees"):
        pinslip = (doc["pinslip"] or "").casefold()
        if not any(c.casefold() in pinslip for c in watch["committees"]):
            return False
    return True


def _config_watch(config, w):
    """The config with only the watch ``w`` (a tracker.config.Watch)."""
    return config.model_copy(update={"watches": [w]})


def run_watches_phase(config_for, sessions, engine, session: int, repeats: int) -> dict:
    """Each repeat: the 20 watches under fresh names, one ``run_watches`` call per watch (every match new:
    WatchMatch rows and events written), then all 20 again in one call (nothing new)."""
    from sqlalchemy import func, select

    from db.documents import matching_documents
    from db.models import Event
    from tracker.docket import run_watches

    out = {"repeats": [], "per_watch": defaultdict(list), "query_only": defaultdict(list), "found": {}}
    for k in range(1, repeats + 1):
        config = config_for(f" #{k}")
        now = datetime.now(timezone.utc)
        with sessions() as s:
            events_before = s.scalar(select(func.count()).select_from(Event))
        run = Meter.start(engine)
        counts = {}
        for w, spec in zip(config.watches, WATCHES):
            t = time.perf_counter()
            evs = run_watches(_config_watch(config, w), sessions, [session], now)
            out["per_watch"][spec["name"]].append(time.perf_counter() - t)
            counts[spec["name"]] = len(evs)
        first = run.stop()
        run = Meter.start(engine)
        again = run_watches(config, sessions, [session], now)
        rerun = run.stop()
        with sessions() as s:
            written = s.scalar(select(func.count()).select_from(Event)) - events_before
        out["repeats"].append({"first_s": first.wall_s, "first": asdict(first), "events": sum(counts.values()),
                               "events_in_db": written, "rerun_s": rerun.wall_s, "rerun": asdict(rerun),
                               "rerun_events": len(again), "counts": counts})
        print(f"  repeat {k}: 20 watches, every match new: {first.wall_s:.2f} s, {sum(counts.values())} "
              f"bill.discovered events ({written} rows written); again, nothing new: {rerun.wall_s:.2f} s, "
              f"{len(again)} events")
        print(f"    first: {meter_line(first)}")
        print(f"    again: {meter_line(rerun)}")
    # the index query alone (matching_documents, the Document rows loaded), per watch, read-only
    base = config_for("")
    for k in range(repeats):
        for w, spec in zip(base.watches, WATCHES):
            with sessions() as s:
                t = time.perf_counter()
                found = matching_documents(s, terms=w.terms, any_term=True, sessions=w.sessions or [session],
                                           sponsors=w.sponsors or None, committees=w.committees or None)
                out["query_only"][spec["name"]].append(time.perf_counter() - t)
                out["found"][spec["name"]] = {d.canonical for d in found}
    return out


def scan_baseline(sessions, session: int, engine) -> dict:
    """The watches without the index: (a) per watch, every document of the session read (ORM, as the app
    reads them) and scanned in Python; (b) every document read once (Core rows), folded once, the 20
    watches evaluated over them."""
    from sqlalchemy import select

    from db.models import Document

    cols = ("canonical", "title", "pinslip", "text", "sponsor", "sponsor_code", "joint_sponsors")
    res: dict = {"per_watch_s": {}, "found": {}}
    run = Meter.start(engine)
    for spec in WATCHES:
        t = time.perf_counter()
        with sessions() as s:
            docs = s.scalars(select(Document).where(Document.session == session, Document.removed_at.is_(None)))
            found = {d.canonical for d in docs if scan_match(spec, {c: getattr(d, c) for c in cols})}
        res["per_watch_s"][spec["name"]] = time.perf_counter() - t
        res["found"][spec["name"]] = found
    res["naive"] = asdict(run.stop())
    run = Meter.start(engine)
    t = time.perf_counter()
    with sessions() as s:
        rows = [dict(r._mapping) for r in s.execute(
            select(*[getattr(Document, c) for c in cols]).where(Document.session == session,
                                                                Document.removed_at.is_(None)))]
    res["read_once_read_s"] = time.perf_counter() - t
    t = time.perf_counter()
    for r in rows:
        r["_folded"] = [_fold(r["title"]), _fold(r["pinslip"]), _fold(r["text"])]
    res["read_once_fold_s"] = time.perf_counter() - t
    t = time.perf_counter()
    for spec in WATCHES:
        assert {r["canonical"] for r in rows if scan_match(spec, r)} == res["found"][spec["name"]]
    res["read_once_match_s"] = time.perf_counter() - t
    res["read_once"] = asdict(run.stop())
    res["documents"] = len(rows)
    return res


class ReplicaProcess:
    """``python -m tracker.replica --dockets GC=N --latency S`` in a process of its own (``--replica-process``):
    the same generated docket, but its 16 server threads no longer share the benchmark's GIL, as a real site
    would not. Its request counters live in that process, so requests are not counted."""

    def __init__(self, session: int, size: int, latency_ms: float):
        self.args = [sys.executable, "-m", "tracker.replica", "--dockets", f"{session}={size}",
                     "--latency", str(latency_ms / 1000.0)]
        self.proc = None
        self.base_url = ""
        self.pid = 0

    def __enter__(self) -> "ReplicaProcess":
        global REPLICA_PID
        self.proc = _REAL_POPEN(self.args, stdout=subprocess.PIPE, text=True)
        self.base_url = self.proc.stdout.readline().strip()
        if not self.base_url.startswith("http://"):
            self.proc.kill()
            raise RuntimeError(f"the replica process printed {self.base_url!r}, not its URL")
        self.pid = REPLICA_PID = self.proc.pid
        return self

    def __exit__(self, *exc) -> None:
        global REPLICA_PID
        REPLICA_PID = None
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --------------------------------------------------------------------------- fetch baselines


def serial_urllib(urls: list[str]) -> dict:
    """A plain loop: urllib.request.urlopen (a new connection each time), read, json.loads."""
    t = time.perf_counter()
    for url in urls:
        req = urllib.request.Request(url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            json.loads(resp.read())
    wall = time.perf_counter() - t
    return {"n": len(urls), "wall_s": wall, "per_s": len(urls) / wall}


def threaded_keepalive(urls: list[str], threads: int) -> dict:
    """``threads`` workers, each with one keep-alive http.client connection: GET, read, json.loads."""
    parts = urlsplit(urls[0])
    local = threading.local()

    def get(url: str) -> None:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        conn.request("GET", urlsplit(url).path, headers={"Accept": "application/json"})
        resp = conn.getresponse()
        json.loads(resp.read())

    t = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(get, urls))
    wall = time.perf_counter() - t
    return {"n": len(urls), "threads": threads, "wall_s": wall, "per_s": len(urls) / wall}


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--documents", type=int, default=10000, help="documents in the docket (default 10,000)")
    ap.add_argument("--session", type=int, default=SESSION, help=f"the General Court (default {SESSION})")
    ap.add_argument("--latency-ms", type=float, default=20.0, help="replica latency per request (default 20)")
    ap.add_argument("--concurrency", type=int, default=16, help="sources.malegislature.concurrency (default 16)")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--db", type=Path, help="SQLite file to create (must not exist; default a temp file)")
    where.add_argument("--db-url", metavar="URL",
                       help="a PostgreSQL server: a fresh database bench_docket_<time>_<pid> is created, migrated "
                            "and dropped at the end unless --keep-db")
    ap.add_argument("--keep-db", action="store_true", help="keep the database afterwards")
    ap.add_argument("--replica-process", action="store_true",
                    help="serve the replica from its own process (python -m tracker.replica), not from threads of "
                         "this one: no GIL shared with the sync's parent; requests are then not counted")
    ap.add_argument("--watch-repeats", type=int, default=3, help="runs of the 20 watches (default 3; medians)")
    ap.add_argument("--serial-sample", type=int, default=300, help="details the serial urllib loop fetches (300)")
    ap.add_argument("--threaded-sample", type=int, default=3000,
                    help="details the 16-thread keep-alive baseline fetches (3,000)")
    ap.add_argument("--skip-baselines", action="store_true", help="no fetch baselines and no Python scan")
    ap.add_argument("--profile", type=Path, metavar="DIR",
                    help="cProfile the sync phases (the parent's main thread and each Scrapy child) into DIR")
    ap.add_argument("--json", type=Path, metavar="PATH", help="also write every figure as JSON")
    args = ap.parse_args(argv)
    if args.db is not None and any(Path(f"{args.db}{s}").exists() for s in ("", "-wal", "-shm")):
        ap.error(f"--db {args.db} exists; the first sync needs a fresh database")
    if args.db_url is not None and not benchdb.is_server_url(args.db_url):
        ap.error("--db-url takes a server URL (postgresql+psycopg://...); give a SQLite file with --db PATH")
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)

    from db.engine import make_engine

    machine = crawl_bench.machine_info()
    with benchdb.BenchDatabase("docket", path=args.db, server_url=args.db_url, keep=args.keep_db) as bdb:
        engine = make_engine(bdb.url)
        try:
            machine["database"] = benchdb.describe(engine)
            print(f"docket bench {datetime.now(timezone.utc):%Y-%m-%d %H:%M}Z: {args.documents} documents of the "
                  f"{args.session}th, latency {args.latency_ms:g} ms per request, concurrency {args.concurrency}, "
                  f"backend {machine['database']['label']}")
            print(f"machine: {machine['cpu']}, {machine['cores']} cores ({machine['usable_cores']} usable), "
                  f"{machine['memory_gb']} GB; Python {machine['python']}, Scrapy {machine['scrapy']}, "
                  f"SQLAlchemy {machine['sqlalchemy']}; load average {crawl_bench.machine_load()}")
            print(f"code: {machine['code']} at {machine['revision']}")
            return run(args, machine, bdb, engine)
        finally:
            engine.dispose()


def run(args, machine, bdb, engine) -> int:
    from sqlalchemy import func, select

    from db.engine import session_factory
    from db.migrate import upgrade
    from db.models import Document, Event, WatchMatch
    from spiders.docket_parse import document_url
    from tracker.config import parse_config
    from tracker.replica import ReplicaServer
    from tracker.replica.docket import with_dockets

    gc = args.session
    t = time.perf_counter()
    replica = with_dockets({gc: args.documents})
    listed = replica.documents_of(gc)
    print(f"replica: {len(listed)} documents of the {gc}th generated in {time.perf_counter() - t:.1f} s "
          f"({sum(len(d.text or '') for d in listed) / max(1, len(listed)):.0f} characters of text on average)")
    t = time.perf_counter()
    upgrade(engine)
    sessions = TimedSessions(session_factory(engine))
    print(f"database: {bdb.where()} (upgraded in {time.perf_counter() - t:.1f} s)"
          + benchdb.settings_note(machine["database"]))
    figures: dict = {"args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                              if k not in ("db_url",)}, "machine": machine}
    ok = True
    served = ReplicaProcess(gc, args.documents, args.latency_ms) if args.replica_process else ReplicaServer(replica)
    with served as server:
        replica.delay_s = args.latency_ms / 1000.0
        counted = None if args.replica_process else replica  # requests are counted in this process only
        base = config_text(server.base_url, gc, args.concurrency)
        config = parse_config(base, "bench feeds.yaml")
        print(f"replica at {server.base_url}"
              + (f" (its own process, pid {server.pid}: requests not counted)" if args.replica_process else "")
              + f", {len(config.watches)} watches\n")

        def count(model, *where) -> int:
            with sessions() as s:
                return s.scalar(select(func.count()).select_from(model).where(*where))

        # 1. First sync.
        p1, r1 = run_sync("Phase 1 first sync", config, sessions, counted, engine, gc, args.profile)
        problems = []
        stored = count(Document, Document.session == gc)
        with_detail = count(Document, Document.session == gc, Document.detail_fetched_at.is_not(None))
        if p1.errors:
            problems.append(f"{p1.errors} errors")
        if stored != len(listed) or p1.documents != len(listed):
            problems.append(f"{stored} documents stored, {p1.documents} listed, the replica lists {len(listed)}")
        if with_detail != len(listed) or p1.details != len(listed):
            problems.append(f"{with_detail} documents with their detail ({p1.details} stored this sync)")
        if counted is not None and (p1.requests.get("list") != 1 or p1.requests.get("detail") != len(listed)):
            problems.append(f"requests {p1.requests}, expected 1 list and {len(listed)} details")
        p1.check = "ok" if not problems else "; ".join(problems)
        p1_by_watch = {w: count(WatchMatch, WatchMatch.watch == w) for w in (x["name"] for x in WATCHES)}
        print_sync(p1)

        # 2. Unchanged re-sync.
        events = count(Event)
        p2, _ = run_sync("Phase 2 unchanged re-sync", config, sessions, counted, engine, gc, args.profile)
        problems = []
        if (p2.new, p2.changed, p2.details, p2.discovered, p2.errors) != (0, 0, 0, 0, 0):
            problems.append(f"new {p2.new}, changed {p2.changed}, details {p2.details}, discovered {p2.discovered}, "
                            f"errors {p2.errors}: expected all 0")
        if counted is not None and {k: v for k, v in p2.requests.items() if v} != {"list": 1}:
            problems.append(f"requests {p2.requests}: expected exactly one (the list)")
        if count(Event) != events:
            problems.append(f"{count(Event) - events} events recorded")
        p2.check = "ok" if not problems else "; ".join(problems)
        if counted is None:
            p1.check += " (requests not counted)"
            p2.check += " (requests not counted)"
        print_sync(p2)
        ok &= p1.check.startswith("ok") and p2.check.startswith("ok")
        figures["phases"] = [{**asdict(p), "docs_per_s": p.docs_per_s} for p in (p1, p2)]

        # 3. Watches.
        print(f"\n  Phase 3 watches over the {stored} stored documents ({args.watch_repeats} repeats)")
        w = run_watches_phase(lambda suffix: parse_config(config_text(server.base_url, gc, args.concurrency, False)
                                                          + watches_yaml(suffix), "bench feeds.yaml"),
                              sessions, engine, gc, args.watch_repeats)
        scan = None
        if not args.skip_baselines:
            print("  baseline: the same watches by scanning every document in Python ...")
            scan = scan_baseline(sessions, gc, engine)
        figures["watches"] = {"repeats": w["repeats"], "per_watch_s": dict(w["per_watch"]),
                              "query_only_s": dict(w["query_only"]),
                              "found": {k: len(v) for k, v in w["found"].items()},
                              "scan": {k: v for k, v in (scan or {}).items() if k != "found"}}
        problems = []
        for spec in WATCHES:
            name = spec["name"]
            n = len(w["found"][name])
            counts = {r["counts"][name] for r in w["repeats"]}
            if counts != {n} or p1_by_watch[name] != n:
                problems.append(f"{name}: index {n}, events per repeat {sorted(counts)}, first sync {p1_by_watch[name]}")
            if scan is not None and scan["found"][name] != w["found"][name]:
                only_i = sorted(w["found"][name] - scan["found"][name])[:3]
                only_s = sorted(scan["found"][name] - w["found"][name])[:3]
                problems.append(f"{name}: index and scan differ (index only {only_i}, scan only {only_s})")
        if any(r["rerun_events"] for r in w["repeats"]):
            problems.append("the re-run found new matches")
        w_check = "ok" if not problems else "; ".join(problems)
        ok &= w_check == "ok"
        print_watches(w, scan, w_check)

        # 4. Fetch baselines.
        fetch = None
        if not args.skip_baselines:
            urls = [document_url(server.base_url, gc, d.ident) for d in listed]
            print(f"\n  Phase 4 fetch baselines (same replica, {args.latency_ms:g} ms per request)")
            run_m = Meter.start(engine)
            serial = serial_urllib(urls[: args.serial_sample])
            serial["meter"] = asdict(run_m.stop())
            print(f"    serial urllib loop: {serial['n']} details in {serial['wall_s']:.2f} s = {serial['per_s']:.1f}/s;"
                  f" {len(listed)} would take {len(listed) / serial['per_s']:.0f} s; load average "
                  f"{serial['meter']['load_after']}")
            run_m = Meter.start(engine)
            threaded = threaded_keepalive(urls[: args.threaded_sample], args.concurrency)
            threaded["meter"] = asdict(run_m.stop())
            print(f"    {args.concurrency} threads, keep-alive: {threaded['n']} details in {threaded['wall_s']:.2f} s = "
                  f"{threaded['per_s']:.0f}/s; {len(listed)} would take {len(listed) / threaded['per_s']:.1f} s; "
                  f"{meter_line(Meter(**threaded['meter']))}")
            floor = len(listed) * args.latency_ms / 1000 / args.concurrency
            print(f"    latency floor at concurrency {args.concurrency}: {len(listed)} x {args.latency_ms:g} ms / "
                  f"{args.concurrency} = {floor:.1f} s ({len(listed) / floor:.0f} documents/s)")
            fetch = {"serial": serial, "threaded": threaded, "floor_s": floor}
            figures["fetch_baselines"] = fetch

    report(args, machine, p1, p2, w, scan, fetch, len(listed))
    figures["checks"] = {"phase1": p1.check, "phase2": p2.check, "watches": w_check}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    if not args.replica_process and replica.errors:
        print(f"replica server errors: {replica.errors[:3]}", file=sys.stderr)
        ok = False
    return 0 if ok else 1


def _median(xs) -> float:
    return statistics.median(xs) if xs else 0.0


def print_watches(w: dict, scan: dict | None, check: str) -> None:
    print("    | watch | matches | first run ms (median) | index query alone ms | scan per watch ms |")
    print("    |---|---:|---:|---:|---:|")
    for spec in WATCHES:
        name = spec["name"]
        print(f"    | {name} | {len(w['found'][name])} | {1000 * _median(w['per_watch'][name]):.0f} | "
              f"{1000 * _median(w['query_only'][name]):.0f} | "
              + (f"{1000 * scan['per_watch_s'][name]:.0f} |" if scan else "- |"))
    firsts = [r["first_s"] for r in w["repeats"]]
    reruns = [r["rerun_s"] for r in w["repeats"]]
    q = sum(_median(v) for v in w["query_only"].values())
    print(f"    all 20, every match new: median {_median(firsts):.2f} s (runs {', '.join(f'{x:.2f}' for x in firsts)}), "
          f"{w['repeats'][0]['events']} events; nothing new: median {_median(reruns):.2f} s; "
          f"index queries alone {q:.2f} s")
    if scan:
        print(f"    scan baseline: per watch (every document read and scanned each time) "
              f"{sum(scan['per_watch_s'].values()):.2f} s for 20; read once {scan['read_once_read_s']:.2f} s + "
              f"fold once {scan['read_once_fold_s']:.2f} s + 20 watches {scan['read_once_match_s']:.2f} s "
              f"over {scan['documents']} documents")
    print(f"    check (index = scan = events written, re-run finds nothing): {check}")


def report(args, machine, p1, p2, w, scan, fetch, n) -> None:
    db = machine["database"]["label"]
    print(f"\n## Results: {n} documents, latency {args.latency_ms:g} ms, concurrency {args.concurrency}, {db}\n")
    print("| phase | wall s | documents/s | requests | details | events | errors | Scrapy child CPU s | "
          "parent CPU s | replica CPU s | DB server CPU s | other CPU s | load average (before -> after) | check |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for p in (p1, p2):
        m = p.meter
        req = ", ".join(f"{k} {v}" for k, v in p.requests.items() if v)
        print(f"| {p.name} | {p.wall_s:.1f} | {p.docs_per_s:.0f} | {req} | {p.details} | {p.discovered} | {p.errors} | "
              f"{m.child_cpu_s:.1f} | {m.main_cpu_s:.1f} | {m.replica_cpu_s:.1f} | "
              f"{'%.1f' % m.server_cpu_s if m.server_cpu_s is not None else 'in-process'} | {m.others_cpu_s:.1f} | "
              f"{m.load_before} -> {m.load_after} | {p.check} |")
    firsts = [r["first_s"] for r in w["repeats"]]
    reruns = [r["rerun_s"] for r in w["repeats"]]
    first_m = w["repeats"][len(w["repeats"]) // 2]["first"]
    print(f"\nwatches: 20 over {n} documents, every match new {_median(firsts):.2f} s (median of {len(firsts)}; "
          f"{w['repeats'][0]['events']} events), nothing new {_median(reruns):.2f} s; load average "
          f"{first_m['load_before']} -> {first_m['load_after']}")
    if scan:
        print(f"baseline scan in Python: {sum(scan['per_watch_s'].values()):.2f} s reading and scanning every document "
              f"per watch; {scan['read_once_read_s'] + scan['read_once_fold_s'] + scan['read_once_match_s']:.2f} s "
              f"reading and folding them once")
    if fetch:
        print(f"baseline fetch: serial urllib {fetch['serial']['per_s']:.1f} details/s ({n / fetch['serial']['per_s']:.0f} s "
              f"for {n}); {fetch['threaded']['threads']} keep-alive threads {fetch['threaded']['per_s']:.0f}/s "
              f"({n / fetch['threaded']['per_s']:.1f} s); latency floor {fetch['floor_s']:.1f} s")
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, Python {machine['python']}, Scrapy {machine['scrapy']}, "
          f"SQLAlchemy {machine['sqlalchemy']}, {db}; load average at the end {crawl_bench.machine_load()}; "
          f"code at {machine['revision']}")
    aims = [
        (f"first sync >= {AIM_DOCS_PER_S:.0f} documents/s", p1.docs_per_s >= AIM_DOCS_PER_S, f"{p1.docs_per_s:.0f}/s"),
        (f"unchanged re-sync < {AIM_RESYNC_S:.0f} s, one request per session",
         p2.wall_s < AIM_RESYNC_S and p2.check == "ok", f"{p2.wall_s:.2f} s, {p2.requests}"),
        (f"20 watches < {AIM_WATCHES_S:.0f} s (every match new)", _median(firsts) < AIM_WATCHES_S,
         f"{_median(firsts):.2f} s; nothing new {_median(reruns):.2f} s"),
    ]
    for what, met, figure in aims:
        print(f"aim {what}: {'met' if met else 'NOT met'} ({figure})")


if __name__ == "__main__":
    sys.exit(main())
