#!/usr/bin/env python3
"""Load benchmark (issue 8): the real ``tracker serve`` under 100 concurrent keep-alive connections.

It builds a database the way ``tracker demo`` does (the bundled replicas of malegislature.gov and of
the news, crawled and polled for real: 4 bills, their actions, hearings and directory, 8 articles),
adds ``--articles`` synthetic articles from ``search_bench.py``'s corpus so that search has an archive
of a few years to look through, starts ``tracker serve`` (uvicorn, one process) as a subprocess on
127.0.0.1, and drives it with wrk (Debian's ``wrk``, scripted by ``bench/load.lua``): each scenario
runs ``--connections`` keep-alive connections for ``--duration`` seconds.

    .venv/bin/python bench/load_bench.py                                  # SQLite, 100 connections, 30 s each
    .venv/bin/python bench/load_bench.py --db-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/load_bench.py --duration 5 --scenarios bill,search

Scenarios: ``bill`` (five bill pages in turn), ``search`` (ten queries from the campaign's vocabulary,
with and without filters), ``signup-form`` (GET /signup), ``signup`` (POST /signup from one client
address: the first 5 in an hour are accepted, the rest are refused with 429, as they must be) and
``signup-accepted`` (POST /signup, each from a new client address in ``X-Forwarded-For``, as through
the reverse proxy of docs/deploy.md: every one is accepted and sends a confirmation email to the
maildir). After the sign-up scenarios the database is checked: one subscriber row and one
confirmation per accepted sign-up, none for a refused one.

Exit status 1 on any 5xx, any connection error or timeout, or a failed database check.
See bench/README.md, "Load benchmark (issue 8)".
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/load_bench.py` from anywhere, also without the editable install
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchdb, search_bench
import benchdb  # noqa: E402
import search_bench  # noqa: E402

LUA = Path(__file__).resolve().parent / "load.lua"
BILL_PATHS = ["/bills/192/H135", "/bills/192/S47", "/bills/192/H5091", "/bills/192/S3063",
              "/bills/192/H135?as_of=2022-01-01"]
SEARCH_PATHS = [
    "/search?q=facial+recognition",
    "/search?q=face+surveillance",
    "/search?q=H.135",
    "/search?q=%22state+police%22",
    "/search?q=judiciary+hearing",
    "/search?q=face+surveillance&bill=H.135",
    "/search?q=facial+recognition&since=2022-01-01&until=2024-12-31",
    "/search?q=surveillance&kind=article&page=2",
    "/search?q=hearing&kind=action",
    "/search?q=privacy+massachusetts&source=WBUR",
]
SCENARIOS = ("bill", "search", "signup-form", "signup", "signup-accepted")
SECRET = "load-bench-secret-key-not-for-production"


# --------------------------------------------------------------------------- the database


def build_database(url: str, workdir: Path, articles: int, seed: int) -> dict:
    """The demo's database (real crawl and poll of the bundled replicas), plus synthetic articles."""
    from sqlalchemy import func, insert, select, text

    from db.engine import make_engine
    from db.models import Article, ArticleBill, ArticleSource, Bill, Feed
    from tracker.demo import run_demo

    t0 = time.perf_counter()
    said: list[str] = []
    if run_demo(url, echo=said.append, workdir=str(workdir / "demo")) != 0:
        print("\n".join(said))
        raise SystemExit("building the database: the demo cycle failed (its output is above)")
    demo_s = time.perf_counter() - t0
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            first = (conn.execute(select(func.max(Article.id))).scalar() or 0) + 1
            feed_ids = list(conn.execute(select(Feed.id).order_by(Feed.id)).scalars())
            have = dict(conn.execute(select(Bill.canonical, Bill.id)).all())
        # bill numbers the corpus mentions but the demo does not hold get no article_bills row
        bill_ids = {c: have.get(c, -1) for _, c, _ in search_bench.BILL_MENTIONS}
        t1 = time.perf_counter()
        corpus = search_bench.Corpus(seed, articles) if articles else None
        done = 0
        while corpus and done < articles:
            count = min(5000, articles - done)
            rows, sources, links = corpus.batch(done + 1, count, feed_ids, bill_ids)
            shift = first - 1
            for r in rows:
                r["id"] += shift
            for r in sources:
                r["article_id"] += shift
            links = [dict(r, article_id=r["article_id"] + shift) for r in links if r["bill_id"] != -1]
            with engine.begin() as conn:
                conn.execute(insert(Article.__table__), rows)
                conn.execute(insert(ArticleSource.__table__), sources)
                if links:
                    conn.execute(insert(ArticleBill.__table__), links)
            done += count
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT setval(pg_get_serial_sequence('articles', 'id'), "
                                  "(SELECT max(id) FROM articles))"))
                conn.execute(text("ANALYZE"))
            counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                      for t in ("bills", "bill_actions", "hearings", "events", "articles", "article_bills",
                                "legislators", "committees", "subscribers")}
        counts["build_s"] = round(time.perf_counter() - t0, 1)
        counts["demo_s"] = round(demo_s, 1)
        counts["synthetic_s"] = round(time.perf_counter() - t1, 1)
        counts["size_bytes"] = benchdb.size_bytes(engine)
    finally:
        engine.dispose()
    return counts


def signup_check(url: str, prefix: str, accepted: int, sent: int) -> dict:
    """Subscriber rows and confirmation emails queued for the addresses of one sign-up scenario. wrk stops
    at the deadline without reading the answers still on their way, so the rows are at least the
    sign-ups answered 200 and at most those plus the requests left unanswered (``sent`` - answered)."""
    from sqlalchemy import func, select

    from db.engine import make_engine
    from db.models import OutboxMessage, Subscriber

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            like = Subscriber.email.like(f"{prefix}-%")
            rows = conn.execute(select(func.count()).select_from(Subscriber).where(like)).scalar_one()
            distinct = conn.execute(select(func.count(func.distinct(Subscriber.email))).where(like)).scalar_one()
            confirms = conn.execute(select(func.count()).select_from(OutboxMessage).join(
                Subscriber, Subscriber.id == OutboxMessage.subscriber_id).where(
                like, OutboxMessage.kind == "confirm")).scalar_one()
            delivered = conn.execute(select(func.count()).select_from(OutboxMessage).join(
                Subscriber, Subscriber.id == OutboxMessage.subscriber_id).where(
                like, OutboxMessage.kind == "confirm", OutboxMessage.state == "sent")).scalar_one()
    finally:
        engine.dispose()
    ok = rows == distinct == confirms == delivered and accepted <= rows <= sent
    return {"accepted": accepted, "sent": sent, "subscriber_rows": rows, "distinct_emails": distinct, "confirmations": confirms,
            "confirmations_sent": delivered, "ok": ok}


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def proc_cpu_s(pid: int) -> float:
    return benchdb._proc_cpu_s(pid) or 0.0


class Server:
    """``tracker serve`` in a subprocess, in its own working directory (the maildir is its var/outbox)."""

    def __init__(self, url: str, workdir: Path, workers: int = 1, page_cache: int | None = None,
                 name: str = "serve"):
        self.url, self.workdir = url, workdir
        self.workers, self.page_cache = workers, page_cache
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def label(self) -> str:
        cache = "no page cache" if self.page_cache == 0 else "page cache"
        return f"{self.workers} worker{'s' if self.workers > 1 else ''}, {cache}"

    def __enter__(self) -> "Server":
        from tracker.demo import DEMO_CONFIG

        config = self.workdir / "feeds.yaml"  # the demo's bills and feeds; nothing is fetched while serving
        config.write_text(DEMO_CONFIG.format(bills="http://127.0.0.1:9", news="http://127.0.0.1:9"))
        env = {k: v for k, v in os.environ.items() if k != "TRACKER_SMTP_URL"}
        env.update(PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""), TRACKER_SECRET_KEY=SECRET,
                   TRACKER_PUBLIC_URL=self.base)
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tracker", "--config", str(config), "--db", self.url, "serve", "--host",
             "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers)]
            + (["--page-cache", str(self.page_cache)] if self.page_cache is not None else []),
            cwd=self.workdir, env=env, stdout=self.log,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.base + "/", timeout=5) as r:
                    if r.status == 200 and self.log_path.read_text().count("Serving on") >= self.workers:
                        return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise SystemExit(f"tracker serve did not start; its log:\n{self.log_path.read_text()}")
            time.sleep(0.2)

    def pids(self) -> list[int]:
        """The server's process and its workers (``--workers N``: N children of the first)."""
        if not self.proc:
            return []
        out = [self.proc.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                        out.append(int(entry.name))
                except (OSError, IndexError, ValueError):
                    pass
        return out

    def cpu_s(self) -> float:
        return sum(proc_cpu_s(pid) for pid in self.pids())

    def rss_mb(self) -> float:
        total = 0.0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024
            except OSError:
                pass
        return total

    def problems(self) -> dict:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return {"tracebacks": text.count("Traceback (most recent call last)"),
                "database_locked": text.lower().count("database is locked"),
                "pool_timeouts": text.count("QueuePool limit")}

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly on SIGINT
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def csrf_pair(base: str) -> tuple[str, str]:
    """GET /signup: the CSRF cookie it sets and the token in its form."""
    with urllib.request.urlopen(base + "/signup", timeout=30) as r:
        cookie = re.search(r"tracker_csrf=([^;]+)", r.headers.get("Set-Cookie", "")).group(1)
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', r.read().decode()).group(1)
    return cookie, token


# --------------------------------------------------------------------------- the load generator


def children_cpu_s() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def db_backends_cpu(url: str) -> dict[int, float]:
    """PostgreSQL: CPU s so far of each server backend connected to the database (empty for SQLite)."""
    if not benchdb.is_server_url(url):
        return {}
    from db.engine import make_engine

    engine = make_engine(url)
    try:
        return benchdb.backend_cpu(engine)
    finally:
        engine.dispose()


def run_wrk(server: Server, args: argparse.Namespace, lua_args: list[str]) -> dict:
    threads = max(1, min(args.threads, args.connections))
    cmd = [args.wrk, f"-t{threads}", f"-c{args.connections}", f"-d{args.duration}s", "--timeout",
           f"{args.timeout}s", "-s", str(LUA), server.base, "--", *lua_args]
    db0 = db_backends_cpu(server.url)
    cpu0, server0, busy0, load0 = children_cpu_s(), server.cpu_s(), search_bench.machine_busy_s(), \
        search_bench.machine_load()
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + 120)
    wall = time.perf_counter() - t0
    line = next((x for x in out.stdout.splitlines() if x.startswith("LOAD_RESULT ")), None)
    if out.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({out.returncode}): {' '.join(cmd)}\n{out.stdout}\n{out.stderr}")
    result = json.loads(line.split(" ", 1)[1])
    wrk_cpu = children_cpu_s() - cpu0
    server_cpu = server.cpu_s() - server0
    busy = search_bench.machine_busy_s() - busy0
    db_cpu = benchdb.backend_cpu_delta(db0, db_backends_cpu(server.url))
    result.update(wall_s=wall, wrk_cpu_s=wrk_cpu, server_cpu_s=server_cpu, db_cpu_s=db_cpu,
                  other_cpu_s=busy - wrk_cpu - server_cpu - db_cpu,
                  load_before=load0, load_after=search_bench.machine_load(), server_rss_mb=server.rss_mb())
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def scenario_args(name: str, server: Server, prefix: str) -> list[str]:
    if name == "bill":
        return ["paths", *BILL_PATHS]
    if name == "search":
        return ["paths", *SEARCH_PATHS]
    if name == "signup-form":
        return ["paths", "/signup"]
    cookie, token = csrf_pair(server.base)
    return ["signup", cookie, token, prefix] + (["xff"] if name == "signup-accepted" else [])


def judge(name: str, r: dict) -> list[str]:
    """What is wrong with a scenario's result (empty: nothing)."""
    bad = []
    statuses = {int(k): v for k, v in r["statuses"].items()}
    fives = sum(v for k, v in statuses.items() if k >= 500)
    if fives:
        bad.append(f"{fives} answers 5xx")
    errors = {k: v for k, v in r["errors"].items() if k != "status" and v}
    if errors:
        bad.append("connection errors " + ", ".join(f"{k}={v}" for k, v in errors.items()))
    expected = {"signup": {200, 429}}.get(name, {200})
    others = {k: v for k, v in statuses.items() if k not in expected and k < 500}
    if others:
        bad.append("unexpected statuses " + ", ".join(f"{k}: {v}" for k, v in sorted(others.items())))
    if name == "signup" and statuses.get(200, 0) > 5:
        bad.append(f"{statuses[200]} sign-ups from one address accepted; the limit is 5 an hour")
    return bad


def run_scenarios(server: Server, args: argparse.Namespace, names: list[str], url: str) -> dict:
    """Each scenario against ``server`` in turn, its table row printed as it ends."""
    out = {}
    print("\n| scenario | requests | req/s | p50 ms | p90 ms | p95 ms | p99 ms | max ms | statuses | errors | "
          "server CPU s | DB server CPU s | wrk CPU s | other CPU s | load avg before → after |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---|")
    stamp = time.strftime("%H%M%S")
    for name in names:
        prefix = f"load-{stamp}-{server.port}-{name}"
        r = run_wrk(server, args, scenario_args(name, server, prefix))
        lat = r["latency_us"]
        db_cpu = f"{r['db_cpu_s']:.1f}" if benchdb.is_server_url(url) else "in-process"
        errs = ", ".join(f"{k} {v}" for k, v in r["errors"].items() if k != "status" and v) or "none"
        statuses = ", ".join(f"{k}: {v:,}" for k, v in sorted(r["statuses"].items()))
        print(f"| {name} | {r['requests']:,} | {r['rps']:,.0f} | {fmt_ms(lat['p50'])} | "
              f"{fmt_ms(lat['p90'])} | {fmt_ms(lat['p95'])} | {fmt_ms(lat['p99'])} | {fmt_ms(lat['max'])} | "
              f"{statuses} | {errs} | {r['server_cpu_s']:.1f} | {db_cpu} | {r['wrk_cpu_s']:.1f} | "
              f"{r['other_cpu_s']:.1f} | {r['load_before']} → {r['load_after']} |", flush=True)
        r["problems"] = judge(name, r)
        if name.startswith("signup") and name != "signup-form":
            answered_other = r["requests"] - r["statuses"].get("200", 0)
            deadline = time.monotonic() + 30  # the sign-ups still in flight finish first
            while True:
                r["check"] = signup_check(url, prefix, r["statuses"].get("200", 0), r["sent"] - answered_other)
                if r["check"]["ok"] or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            if not r["check"]["ok"]:
                r["problems"].append(f"database check failed: {r['check']}")
            c = r["check"]
            print(f"{name}: {c['accepted']:,} answered 200 ({c['sent'] - c['accepted']:,} more posted, "
                  f"unanswered at the deadline) → {c['subscriber_rows']:,} subscriber rows "
                  f"({c['distinct_emails']:,} distinct addresses), {c['confirmations']:,} confirmations "
                  f"queued, {c['confirmations_sent']:,} sent to the maildir: {'ok' if c['ok'] else 'MISMATCH'}")
        out[name] = r
    return out


def fmt_ms(us: float) -> str:
    ms = us / 1000
    return f"{ms:,.1f}" if ms < 100 else f"{ms:,.0f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--connections", type=int, default=100, help="concurrent keep-alive connections (default 100)")
    ap.add_argument("--duration", type=int, default=30, help="seconds per scenario (default 30)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--timeout", type=int, default=10,
                    help="seconds before wrk counts a request as timed out, an error (default 10)")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS),
                    help=f"comma-separated, in this order (default all: {','.join(SCENARIOS)})")
    ap.add_argument("--articles", type=int, default=10_000,
                    help="synthetic articles added to the demo's (default 10,000)")
    ap.add_argument("--seed", type=int, default=8, help="seed of the synthetic articles (default 8)")
    ap.add_argument("--db-url", metavar="URL",
                    help="a PostgreSQL server: a fresh bench_load_<UTC time>_<pid> database is created on it and "
                         "dropped at the end")
    ap.add_argument("--keep", action="store_true", help="keep the database and the working folder")
    ap.add_argument("--wrk", default=shutil.which("wrk") or "wrk", help="the wrk binary (default: wrk on PATH)")
    ap.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    ap.add_argument("--workers", type=int, default=1, help="tracker serve --workers N (default 1)")
    ap.add_argument("--page-cache", type=int, metavar="PAGES",
                    help="tracker serve --page-cache PAGES (default: serve's own; 0: no page cache)")
    ap.add_argument("--baseline", action="store_true",
                    help="first run the same scenarios against tracker serve with one worker and no page cache "
                         "(--workers 1 --page-cache 0), in the same run, and print the ratios")
    args = ap.parse_args(argv)
    names = [n for n in args.scenarios.split(",") if n]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        ap.error(f"--scenarios: unknown {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    if not shutil.which(args.wrk):
        ap.error(f"{args.wrk}: not found; install Debian's wrk (apt-get install wrk)")
    version = subprocess.run([args.wrk, "-v"], capture_output=True, text=True).stdout.split("\n")[0]

    m = search_bench.machine_info()
    print(f"machine: {m['cpu']}, nproc {m['nproc']} ({m['usable_cores']} usable), {m['memory_gb']} GB RAM, "
          f"{m['os']}; Python {m['python']}; code {m['revision']}"
          + (f" + uncommitted changes in {', '.join(m['dirty'])}" if m["dirty"] else "")
          + f"; load average {search_bench.machine_load()}")
    print(f"load generator: {version.strip()}, {args.threads} threads, {args.connections} connections, "
          f"{args.duration} s per scenario, timeout {args.timeout} s")
    workdir = Path(tempfile.mkdtemp(prefix="load-bench-"))
    result: dict = {"machine": m, "wrk": version.strip(), "connections": args.connections,
                    "duration_s": args.duration, "workers": args.workers, "runs": {}, "scenarios": {}}
    failed = False
    try:
        with benchdb.BenchDatabase("load", path=workdir / "load.sqlite" if not args.db_url else None,
                                   server_url=args.db_url, keep=args.keep) as bdb:
            from db.engine import make_engine

            engine = make_engine(bdb.url)
            info = benchdb.describe(engine)
            engine.dispose()
            print(f"database: {info['label']} at {bdb.where()}{benchdb.settings_note(info)}")
            counts = build_database(bdb.url, workdir, args.articles, args.seed)
            result["database"], result["counts"] = info, counts
            print("built in {build_s} s (demo cycle {demo_s} s, synthetic articles {synthetic_s} s): {bills} bills, "
                  "{bill_actions} actions, {hearings} hearings, {events} events, {articles:,} articles, "
                  "{legislators} legislators, {committees} committees; {mb:,.0f} MB".format(
                      mb=counts["size_bytes"] / 1e6, **counts))
            runs = [("baseline", Server(bdb.url, workdir, 1, 0, "serve-baseline"))] if args.baseline else []
            runs.append(("measured", Server(bdb.url, workdir, args.workers, args.page_cache)))
            problems = {}
            for run, server in runs:
                with server:
                    print(f"\n{run}: tracker serve ({server.label()}) at {server.base}, pid {server.proc.pid}, "
                          f"{server.rss_mb():.0f} MB RSS after start")
                    scenarios = run_scenarios(server, args, names, bdb.url)
                    found = server.problems()
                    result["runs"][run] = {"server": server.label(), "scenarios": scenarios, "server_log": found,
                                           "server_rss_mb_end": server.rss_mb()}
                    problems = {k: problems.get(k, 0) + v for k, v in found.items()}
                    print(f"server log: {found['tracebacks']} tracebacks, {found['database_locked']} 'database "
                          f"is locked', {found['pool_timeouts']} pool timeouts; RSS at the end "
                          f"{server.rss_mb():.0f} MB")
            result["scenarios"] = result["runs"]["measured"]["scenarios"]
            result["server_log"] = problems
            if args.baseline:
                print()
                for name in names:
                    b, mr = result["runs"]["baseline"]["scenarios"][name], result["scenarios"][name]
                    print(f"{name}: {mr['rps']:,.0f} req/s against the baseline's {b['rps']:,.0f} "
                          f"({mr['rps'] / max(b['rps'], 1e-9):.1f}x), p95 {fmt_ms(mr['latency_us']['p95'])} ms against "
                          f"{fmt_ms(b['latency_us']['p95'])} ms")
            if any(problems.values()):
                failed = True
            for run in result["runs"].values():
                for name, r in run["scenarios"].items():
                    for p in r["problems"]:
                        print(f"FAILED {name}: {p}")
                        failed = True
            print(f"load average at the end {search_bench.machine_load()}; "
                  + ("FAILED" if failed else "no 5xx, no connection errors, every check passed"))
    finally:
        if args.keep:
            print(f"kept the working folder {workdir} (serve.log, feeds.yaml, the maildir var/outbox)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
