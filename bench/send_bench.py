#!/usr/bin/env python3
"""Send benchmark (issue 4): N supporters' personalised alerts rendered and delivered to a local SMTP sink.

    .venv/bin/python bench/send_bench.py --recipients 10000
    .venv/bin/python bench/send_bench.py --recipients 100000
    .venv/bin/python bench/send_bench.py --recipients 10000 --db-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/send_bench.py --recipients 10000 --db postgresql+psycopg://user@host/emptydb

With ``--db-url`` (a server), a fresh database ``bench_send_<time>_<pid>`` is created there with an
AUTOCOMMIT engine (in a spawned process: this one stays small), and dropped at the end unless ``--keep``.
``--db`` uses the database it names as it is (it must hold no subscribers) and keeps it.

Four processes, so that nothing shares a GIL and every peak RSS is its own:

- this one, which only orchestrates (standard library only, so the children it spawns do not
  inherit a large ``ru_maxrss``: on Linux a spawned child's ``ru_maxrss`` starts at its parent's);
- **setup** (spawned): ``db.migrate.upgrade``, bills ma/192/H135 and ma/192/S47 in "The Judiciary",
  the Joint Committee on the Judiciary with its two chairs, a representative and a senator for each
  of 20 House and 20 Senate districts, N active supporters (each with a name, a House and a Senate
  district, frequency immediate, start_event_id 0) and their subscriptions (a third each: campaign,
  H.135, H.135 + S.47), all inserted with SQLAlchemy Core executemany in chunks; then three fresh
  events (two bill actions within the immediate backfill cap, a hearing three days ahead);
- **sink** (spawned): aiosmtpd on 127.0.0.1, a handler that counts messages and bytes and discards them;
- **sender** (spawned): ``alerts.dispatch.dispatch(config, sessions, SmtpTransport(parse_smtp_url(sink)),
  now=NOW, kinds=("supporters",))`` exactly as the scheduler would call it, timed in two parts
  (compose, deliver) by wrapping ``alerts.dispatch.deliver_outbox`` inside that process; peak RSS from
  ``getrusage(RUSAGE_SELF).ru_maxrss`` and ``VmHWM``; then the **baseline** in a fresh process:
  raw smtplib over one connection (MAIL, RCPT, DATA, as ``SmtpTransport`` does) sending N copies of
  the first 100 messages the outbox holds, pre-built and loaded before the clock starts.

Checks (exit status 1 when one fails): N alerts composed, N sent, no errors, and the sink received
exactly N messages from the dispatch (and N more from the baseline). This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/send_bench.py` from anywhere, also without the editable install
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchdb (standard library only at import)
import benchdb  # noqa: E402

AIM_MSGS_PER_S = 600.0  # at 10,000 recipients (issue 20; issue 4's aim was 200)
AIM_PEAK_MB = 300.0  # at 100,000 recipients
SAMPLE = 100  # distinct pre-built messages the smtplib baseline cycles through
CHUNK = 5000  # rows per executemany in the setup
KEY = b"bench-secret-key"
SENDER = "alerts@example.org"

CONFIG = """
campaign:
  name: Regulate face surveillance
  action_url: https://example.org/act
sources:
  malegislature:
    session: 192
bills:
  - id: H.135
  - id: S.47
digests:
  staff:
    to: [staff@example.org]
    at: "07:00"
  supporters:
    from: "Face Surveillance Campaign <alerts@example.org>"
    at: "07:00"
    weekly_day: monday
mail:
  messages_per_second: 10000
  unsubscribe_mailbox: unsubscribe@example.org
"""

ORDINALS = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth"]
HOUSE_DISTRICTS = [f"{o} {county}" for county in ("Middlesex", "Suffolk") for o in ORDINALS]
SENATE_DISTRICTS = [f"{o} {county}" for county in ("Worcester", "Essex") for o in ORDINALS[:5]] + \
                   [f"{o} Middlesex" for o in ORDINALS[:5]] + [f"{o} Suffolk" for o in ORDINALS[:5]]
FIRST = ["Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jamal", "Keiko", "Liam",
         "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Victor", "Wen", "Yusuf", "Zoe"]
LAST = ["Almeida", "Brennan", "Chen", "Duarte", "Egan", "Fitzgerald", "Gomes", "Haddad", "Ibrahim", "Joyce",
        "Kowalski", "Lopes", "Murphy", "Nguyen", "O'Brien", "Pereira", "Quinlan", "Rivera", "Sullivan", "Tran"]


# --------------------------------------------------------------------------- small helpers (standard library)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def proc_status_kb(field: str, pid: str = "self") -> int | None:
    with contextlib.suppress(OSError, ValueError, StopIteration):
        with open(f"/proc/{pid}/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith(field + ":"))
    return None


def reset_hwm() -> bool:
    """Reset this process's VmHWM to its current RSS (Linux >= 4.0), so a later phase's peak is its own."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def cpu_s() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def machine_load() -> str:
    """/proc/loadavg's three load averages (1, 5, 15 min): other work on the machine."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def machine_busy_s() -> float:
    """Machine-wide busy CPU seconds (all cores) from /proc/stat."""
    try:
        with open("/proc/stat") as fh:
            f = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (f + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def machine_info() -> dict:
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
    revision, dirty = "unknown", []
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        revision = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                  text=True, timeout=10).stdout.strip() or "unknown"
        status = subprocess.run(["git", "-C", str(ROOT), "status", "--short", "--", "alerts", "db", "tracker"],
                                capture_output=True, text=True, timeout=10).stdout
        dirty = [line[3:] for line in status.splitlines() if line.strip()]
    return {"cpu": cpu, "nproc": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)), "memory_gb": mem,
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
            "revision": os.environ.get("BENCH_REVISION") or revision, "dirty": dirty}


def library_versions() -> dict:
    import sqlite3
    from importlib.metadata import version

    out = {"sqlite": sqlite3.sqlite_version}
    for name in ("sqlalchemy", "aiosmtpd", "jinja2", "css_inline"):
        with contextlib.suppress(Exception):
            out[name] = version(name.replace("_", "-"))
    return out


# --------------------------------------------------------------------------- the sink (its own process)


def sink_main(port: int, conn) -> None:
    """aiosmtpd on 127.0.0.1:port; counts messages and bytes, keeps nothing. Answers "stats" and "stop"."""
    import threading

    from aiosmtpd.controller import Controller

    state = {"messages": 0, "bytes": 0, "connections": 0}
    lock = threading.Lock()

    class Handler:
        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            with lock:
                state["connections"] += 1
            session.host_name = hostname
            return responses

        async def handle_DATA(self, server, session, envelope):
            with lock:
                state["messages"] += 1
                state["bytes"] += len(envelope.content or b"")
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    conn.send("ready")
    try:
        while True:
            cmd = conn.recv()
            with lock:
                stats = dict(state)
            stats["cpu_s"] = cpu_s()
            stats["peak_rss_mb"] = (proc_status_kb("VmHWM") or 0) / 1024
            conn.send(stats)
            if cmd == "stop":
                break
    finally:
        controller.stop()


class Sink:
    def __init__(self, ctx):
        self.port = free_port()
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=sink_main, args=(self.port, child), name="smtp-sink", daemon=True)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> "Sink":
        self.proc.start()
        if not self.conn.poll(30) or self.conn.recv() != "ready":
            raise RuntimeError("the SMTP sink did not start")
        return self

    def stats(self) -> dict:
        self.conn.send("stats")
        return self.conn.recv()

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(Exception):
            self.conn.send("stop")
            self.conn.poll(10) and self.conn.recv()
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.terminate()


# --------------------------------------------------------------------------- setup (its own process)


def setup_main(db_url: str, n: int, out) -> None:
    """The database, the directory, the bills, N supporters with subscriptions, the fresh events."""
    import random
    from datetime import date, datetime, timedelta, timezone

    from sqlalchemy import func, inspect, select, text

    from db.engine import make_engine, session_factory
    from db.migrate import upgrade
    from db.models import Bill, Committee, Event, Hearing, Legislator, Subscriber, Subscription

    started = time.perf_counter()
    now = datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc)  # Monday 10:00 in Boston, as in the tests
    engine = make_engine(db_url)
    if inspect(engine).has_table("subscribers"):
        with engine.connect() as c:
            if c.scalar(select(func.count()).select_from(Subscriber.__table__)):
                out.send({"error": f"{db_url}: the database already has subscribers; give an empty one"})
                return
    upgrade(engine)
    sessions = session_factory(engine)
    database = benchdb.describe(engine)
    rng = random.Random(4)

    with sessions.begin() as s:
        # the directory: the Judiciary with its chairs, two other committees, a member per district
        s.add_all([
            Committee(session=192, code="J19", full_name="Joint Committee on the Judiciary", short_name="Judiciary",
                      branch="Joint", house_chair_code="MSD1", senate_chair_code="JBE0", fetched_at=now),
            Committee(session=192, code="H33", full_name="House Committee on Ways and Means",
                      short_name="Ways and Means", branch="House", house_chair_code="AJM1", fetched_at=now),
            Committee(session=192, code="S30", full_name="Senate Committee on Ways and Means",
                      short_name="Ways and Means", branch="Senate", senate_chair_code="MJR0", fetched_at=now),
        ])
        members = [
            Legislator(session=192, member_code="MSD1", name="Michael S. Day", branch="House",
                       district="Thirty-First Middlesex", party="Democrat", email="michael.day@mahouse.gov",
                       phone="617-722-2396", room="136", fetched_at=now),
            Legislator(session=192, member_code="JBE0", name="James B. Eldridge", branch="Senate",
                       district="Middlesex and Worcester", party="Democrat", email="james.eldridge@masenate.gov",
                       phone="617-722-1120", room="413-A", fetched_at=now),
        ]
        for i, district in enumerate(HOUSE_DISTRICTS):
            members.append(Legislator(session=192, member_code=f"RH{i:02d}", name=f"{FIRST[i]} {LAST[i]}",
                                      branch="House", district=district, party="Democrat",
                                      email=f"rep{i}@mahouse.gov", phone=f"617-722-{2000 + i}", fetched_at=now))
        for i, district in enumerate(SENATE_DISTRICTS):
            members.append(Legislator(session=192, member_code=f"SN{i:02d}", name=f"{FIRST[-1 - i]} {LAST[-1 - i]}",
                                      branch="Senate", district=district, party="Democrat",
                                      email=f"sen{i}@masenate.gov", phone=f"617-722-{1000 + i}", fetched_at=now))
        s.add_all(members)
        # the bills; every other representative co-sponsored H.135, so some asks say "thank them"
        petitioners = [{"name": "Orlando Ramos", "member_code": "OR1"}] + \
                      [{"name": m.name, "member_code": m.member_code} for m in members[2:22:2]]
        bills = {}
        for number, sponsor in (("H135", "Orlando Ramos"), ("S47", "Cynthia Stone Creem")):
            bills[number] = Bill(canonical=f"ma/192/{number}", session=192, number=number, tracked=True,
                                 error_count=0, created_at=now - timedelta(days=30),
                                 title="An Act to regulate face surveillance", sponsor=sponsor,
                                 petitioners=petitioners if number == "H135" else None,
                                 status="in-committee", committee="The Judiciary",
                                 url=f"https://malegislature.gov/Bills/192/{number}")
        s.add_all(bills.values())
        s.flush()
        bill_ids = {n: b.id for n, b in bills.items()}

    # N supporters and their subscriptions: Core executemany, CHUNK rows a statement, explicit ids
    subscribers, subscriptions = Subscriber.__table__, Subscription.__table__
    campaign, h135, s47 = "campaign", "bill:ma/192/H135", "bill:ma/192/S47"
    created = now - timedelta(days=1)
    next_sub = 1
    with engine.begin() as c:
        for lo in range(0, n, CHUNK):
            subs, topics = [], []
            for i in range(lo, min(n, lo + CHUNK)):
                sid = i + 1
                subs.append({"id": sid, "email": f"supporter{i:06d}@example.org",
                             "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "role": "supporter",
                             "status": "active", "frequency": "immediate",
                             "house_district": rng.choice(HOUSE_DISTRICTS),
                             "senate_district": rng.choice(SENATE_DISTRICTS), "source": "import",
                             "start_event_id": 0, "created_at": created, "confirmed_at": created})
                mix = {0: [campaign], 1: [h135], 2: [h135, s47]}[i % 3]
                for topic in mix:
                    topics.append({"id": next_sub, "subscriber_id": sid, "topic": topic, "active": True,
                                   "created_at": created,
                                   "bill_id": bill_ids.get(topic.rsplit("/", 1)[-1]) if topic != campaign else None})
                    next_sub += 1
            c.execute(subscribers.insert(), subs)
            c.execute(subscriptions.insert(), topics)
        if engine.dialect.name == "postgresql":  # explicit ids do not move the sequences
            for table in ("subscribers", "subscriptions"):
                c.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))

    # the fresh events: every supporter gets exactly one alert (one or two bills)
    with sessions.begin() as s:
        h, sb = s.get(Bill, bill_ids["H135"]), s.get(Bill, bill_ids["S47"])
        starts = now + timedelta(days=3)
        s.add(Event(kind="bill.action", at=now, occurred_on=date(2026, 11, 29), bill_id=h.id,
                    summary="H135 (Joint): Hearing scheduled for 12/03/2026 from 10:00 AM-01:00 PM in B-1",
                    payload={"date": "2026-11-29", "branch": "Joint", "kinds": ["hearing-scheduled"],
                             "action": "Hearing scheduled for 12/03/2026 from 10:00 AM-01:00 PM in B-1"}))
        s.add(Hearing(bill_id=h.id, starts_at=starts, ends_at=starts + timedelta(hours=3), location="Room B-1",
                      status="scheduled", updated_at=now))
        s.add(Event(kind="hearing.scheduled", at=now, occurred_on=now.date(), bill_id=h.id,
                    summary="Hearing on H135 scheduled",
                    payload={"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=3)).isoformat(),
                             "location": "Room B-1", "status": "scheduled"}))
        s.add(Event(kind="bill.action", at=now, occurred_on=date(2026, 11, 30), bill_id=sb.id,
                    summary="S47 (Senate): Reporting date extended to Friday January 15, 2027",
                    payload={"date": "2026-11-30", "branch": "Senate", "kinds": ["reporting-date-extended"],
                             "action": "Reporting date extended to Friday January 15, 2027, pending concurrence"}))
    with engine.connect() as c:
        counts = {t: c.scalar(text(f"SELECT count(*) FROM {t}")) for t in ("subscribers", "subscriptions", "events",
                                                                           "legislators", "committees")}
    engine.dispose()
    out.send({"setup_s": time.perf_counter() - started, "now": now.isoformat(), "counts": counts,
              "database": database})


# --------------------------------------------------------------------------- the sender (its own process)


def _top_profile(path: str, limit: int = 30) -> str:
    import io
    import pstats

    buf = io.StringIO()
    st = pstats.Stats(path, stream=buf).strip_dirs()
    st.sort_stats("tottime").print_stats(limit)
    st.sort_stats("cumulative").print_stats(limit + 20)
    return buf.getvalue()


def bench_config(connections: int) -> str:
    """The configuration; ``mail.connections`` only when not 1, so that the code before it runs the bench too."""
    return CONFIG + (f"  connections: {connections}\n" if connections != 1 else "")


def sender_main(db_url: str, sink_url: str, now_iso: str, profile: str | None, trace: bool, connections: int,
                out) -> None:
    """``dispatch()`` as the scheduler calls it, timed in two parts; the peak memory of this process."""
    import resource

    if trace:
        import tracemalloc

        tracemalloc.start()
    from datetime import datetime

    from sqlalchemy import event

    import alerts.dispatch as dispatch_mod
    from alerts.ratelimit import TokenBucket
    from alerts.transport import SmtpTransport, parse_smtp_url
    from db.engine import make_engine, session_factory
    from tracker.application import alert_settings
    from tracker.config import parse_config

    now = datetime.fromisoformat(now_iso)
    config = parse_config(bench_config(connections), "send-bench-feeds.yaml")
    engine = make_engine(db_url)
    sessions = session_factory(engine)
    server_before = benchdb.backend_cpu(engine)  # before the counters: this query is not the dispatch's
    sql = {"statements": 0, "commits": 0}

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_a):
        sql["statements"] += 1

    @event.listens_for(engine, "commit")
    def _commit(*_a):
        sql["commits"] += 1

    marks: dict = {}
    real_deliver = dispatch_mod.deliver_outbox

    def timed_deliver(*args, **kwargs):
        marks["compose_end"] = time.perf_counter()
        marks["compose_cpu"] = cpu_s()
        marks["compose_sql"] = dict(sql)
        marks["compose_hwm_kb"] = proc_status_kb("VmHWM")
        marks["compose_rss_kb"] = proc_status_kb("VmRSS")
        if trace:
            import tracemalloc

            marks["compose_traced_peak"] = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
        marks["hwm_reset"] = reset_hwm()
        try:
            return real_deliver(*args, **kwargs)
        finally:
            marks["deliver_end"] = time.perf_counter()

    dispatch_mod.deliver_outbox = timed_deliver
    bucket = TokenBucket(config.mail.messages_per_second)
    transport = SmtpTransport(parse_smtp_url(sink_url))
    rss_before_kb = proc_status_kb("VmRSS")
    traced_before = 0
    if trace:
        import tracemalloc

        traced_before = tracemalloc.get_traced_memory()[0]
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    cpu0 = cpu_s()
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    settings = alert_settings(config, secret_key=KEY, public_url="http://127.0.0.1:8000")
    report = dispatch_mod.dispatch(settings, sessions, transport, now=now, kinds=("supporters",), bucket=bucket)
    if profiler:
        profiler.disable()
    ended = time.perf_counter()
    cpu1 = cpu_s()
    result = {
        "composed": dict(report.composed), "compose_errors": report.errors[:5], "compose_error_count": len(report.errors),
        "delivery": {k: v for k, v in report.delivery.to_json().items() if k != "errors"},
        "delivery_errors": report.delivery.errors[:5],
        "total_s": ended - started, "compose_s": marks["compose_end"] - started,
        "deliver_s": marks["deliver_end"] - marks["compose_end"],
        "cpu_s": cpu1 - cpu0, "compose_cpu_s": marks["compose_cpu"] - cpu0, "deliver_cpu_s": cpu1 - marks["compose_cpu"],
        "bucket_waited_s": bucket.waited,
        "sql_compose": marks["compose_sql"], "sql_deliver": {k: sql[k] - marks["compose_sql"][k] for k in sql},
        "rss_before_mb": (rss_before_kb or 0) / 1024,
        "compose_peak_mb": (marks["compose_hwm_kb"] or 0) / 1024,
        "rss_after_compose_mb": (marks["compose_rss_kb"] or 0) / 1024,
        "deliver_peak_mb": (proc_status_kb("VmHWM") or 0) / 1024 if marks["hwm_reset"] else None,
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "vmhwm_mb": max(marks["compose_hwm_kb"] or 0, proc_status_kb("VmHWM") or 0) / 1024,
    }
    if engine.dialect.name != "sqlite":
        result["server_cpu_s"] = benchdb.backend_cpu_delta(server_before, benchdb.backend_cpu(engine))
    if trace:
        import tracemalloc

        result["traced_before_mb"] = traced_before / 2**20
        result["traced_peak_compose_mb"] = marks["compose_traced_peak"] / 2**20
        result["traced_peak_deliver_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    if profiler:
        profiler.dump_stats(profile)
        result["profile"] = profile
        result["profile_top"] = _top_profile(profile)
    with engine.connect() as c:
        from sqlalchemy import text

        row = c.execute(text("SELECT count(*), avg(length(body)) FROM outbox")).one()
        result["outbox_rows"], result["avg_compressed_bytes"] = row[0], float(row[1] or 0)
    result["db_bytes"] = benchdb.size_bytes(engine)
    engine.dispose()
    out.send(result)


def baseline_main(db_url: str, host: str, port: int, n: int, out) -> None:
    """Raw smtplib, one connection: N messages cycled from the first SAMPLE in the outbox, built beforehand."""
    import resource
    import smtplib
    import zlib

    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as c:
        sample = [(to, zlib.decompress(body)) for to, body in
                  c.execute(text("SELECT to_addr, body FROM outbox ORDER BY id LIMIT :n"), {"n": SAMPLE})]
    engine.dispose()
    conn = smtplib.SMTP(host, port, timeout=30)
    conn.ehlo()
    cpu0 = cpu_s()
    started = time.perf_counter()
    refused = 0
    for i in range(n):
        to, data = sample[i % len(sample)]
        conn.mail(SENDER)
        conn.rcpt(to)
        code, _ = conn.data(data)
        refused += code != 250
    wall = time.perf_counter() - started
    cpu = cpu_s() - cpu0
    conn.quit()
    out.send({"sent": n - refused, "refused": refused, "wall_s": wall, "cpu_s": cpu,
              "avg_bytes": sum(len(d) for _, d in sample) / len(sample),
              "peak_rss_mb": (proc_status_kb("VmHWM") or 0) / 1024,
              "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def create_db_main(server_url: str, out) -> None:
    """A fresh database bench_send_<time>_<pid> on the server (AUTOCOMMIT engine)."""
    try:
        url, name = benchdb.create_database(server_url, "send")
    except Exception as err:  # reported by the parent, which imports no SQLAlchemy
        out.send({"error": f"{server_url.split('@')[-1]}: cannot create a database: {err}"})
        return
    out.send({"url": url, "name": name})


def drop_db_main(server_url: str, name: str, out) -> None:
    try:
        benchdb.drop_database(server_url, name)
        out.send({"dropped": name})
    except Exception as err:
        out.send({"error": f"could not drop {name}: {err}"})


def run_child(ctx, target, *args, timeout: float | None = None):
    """Run ``target(*args, conn)`` in a spawned process; return what it sent."""
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=target, args=(*args, child))
    proc.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise TimeoutError(f"{target.__name__} sent nothing within {timeout} s")
        return parent.recv()
    except EOFError:
        raise RuntimeError(f"{target.__name__} died (exit {proc.exitcode})") from None
    finally:
        proc.join(timeout=60)
        if proc.is_alive():
            proc.terminate()


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipients", type=int, default=10000, help="active supporters (default 10,000)")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--db", help="SQLAlchemy URL of an existing database without subscribers, used as it is "
                                    "and kept (default: a fresh SQLite file in a temp dir)")
    where.add_argument("--db-url", metavar="URL",
                       help="a database server, e.g. postgresql+psycopg://USER@HOST:PORT/postgres: a fresh database "
                            "bench_send_<time>_<pid> is created there (AUTOCOMMIT), migrated, and dropped at the end "
                            "unless --keep")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory (the SQLite file) or the --db-url database")
    ap.add_argument("--profile", metavar="PATH", help="cProfile the dispatch() call into PATH (a .prof file); "
                                                       "the figures are then not comparable with plain runs")
    ap.add_argument("--tracemalloc", action="store_true", help="also report tracemalloc's peak (slower)")
    ap.add_argument("--connections", type=int, default=1, metavar="N",
                    help="mail.connections: SMTP connections the delivery sends over at once (default 1)")
    ap.add_argument("--skip-baseline", action="store_true", help="skip the raw smtplib baseline")
    ap.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    args = ap.parse_args(argv)
    if args.db_url is not None and not benchdb.is_server_url(args.db_url):
        ap.error("--db-url takes a server URL (postgresql+psycopg://...); SQLite is the default")
    if not 1 <= args.connections <= 32:
        ap.error("--connections takes 1 to 32 (mail.connections)")
    n = args.recipients
    ctx = mp.get_context("spawn")
    tmp = Path(tempfile.mkdtemp(prefix="send-bench-"))
    created = None
    if args.db_url:
        created = run_child(ctx, create_db_main, args.db_url, timeout=120)
        if "error" in created:
            print(created["error"], file=sys.stderr)
            shutil.rmtree(tmp, ignore_errors=True)
            return 2
    db_url = created["url"] if created else args.db or f"sqlite:///{tmp / 'send.sqlite'}"
    machine = machine_info()
    machine["load_start"] = machine_load()
    figures: dict = {"recipients": n, "db": db_url.split("@")[-1], "machine": machine,
                     "connections": args.connections}
    checks: list[str] = []
    try:
        print(f"setup: {n:,} supporters into {figures['db']} ...", flush=True)
        setup = run_child(ctx, setup_main, db_url, n)
        if "error" in setup:
            print(setup["error"], file=sys.stderr)
            return 2
        figures["setup"] = setup
        print(f"setup: {setup['setup_s']:.1f} s, {setup['counts']}", flush=True)
        with Sink(ctx) as sink:
            before = sink.stats()
            busy0 = machine_busy_s()
            print("dispatch ...", flush=True)
            send = run_child(ctx, sender_main, db_url, sink.url, setup["now"], args.profile, args.tracemalloc,
                             args.connections)
            busy1 = machine_busy_s()
            after = sink.stats()
            send["sink_messages"] = after["messages"] - before["messages"]
            send["sink_bytes"] = after["bytes"] - before["bytes"]
            send["sink_connections"] = after["connections"] - before["connections"]
            send["sink_cpu_s"] = after["cpu_s"] - before["cpu_s"]
            send["others_cpu_s"] = max(0.0, busy1 - busy0 - send["cpu_s"] - send["sink_cpu_s"]
                                       - send.get("server_cpu_s", 0.0))
            figures["dispatch"] = send
            if not args.skip_baseline:
                print("baseline: raw smtplib ...", flush=True)
                busy0 = machine_busy_s()
                base = run_child(ctx, baseline_main, db_url, "127.0.0.1", sink.port, n)
                busy1 = machine_busy_s()
                last = sink.stats()
                base["sink_messages"] = last["messages"] - after["messages"]
                base["sink_cpu_s"] = last["cpu_s"] - after["cpu_s"]
                base["others_cpu_s"] = max(0.0, busy1 - busy0 - base["cpu_s"] - base["sink_cpu_s"])
                figures["baseline"] = base
            figures["sink_peak_rss_mb"] = sink.stats()["peak_rss_mb"]
        db_file = tmp / "send.sqlite"
        if not args.db and db_file.exists():
            figures["db_bytes"] = sum(p.stat().st_size for p in tmp.iterdir())
        figures["versions"] = _versions(ctx)
        machine["load_end"] = machine_load()
    finally:
        if args.keep:
            print(f"kept {tmp}" + (f" and the database {figures['db']}" if created else ""))
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            if created:
                dropped = run_child(ctx, drop_db_main, args.db_url, created["name"], timeout=120)
                if "error" in dropped:
                    print(dropped["error"], file=sys.stderr)

    d = figures["dispatch"]
    alerts = d["composed"].get("alert", 0)
    if alerts != n or sum(d["composed"].values()) != n:
        checks.append(f"composed {d['composed']}, expected {n} alerts")
    if d["compose_error_count"]:
        checks.append(f"{d['compose_error_count']} compose errors, first {d['compose_errors'][0]}")
    if d["delivery"]["sent"] != n or d["delivery"]["failed"] or d["delivery"]["down"]:
        checks.append(f"delivery {d['delivery']}, expected {n} sent")
    if d["sink_messages"] != n:
        checks.append(f"the sink received {d['sink_messages']} messages from dispatch, expected {n}")
    if "baseline" in figures and figures["baseline"]["sink_messages"] != n:
        checks.append(f"the sink received {figures['baseline']['sink_messages']} baseline messages, expected {n}")
    figures["checks"] = checks or ["ok"]
    print_figures(figures)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    return 1 if checks else 0


def _versions_main(out) -> None:
    out.send(library_versions())


def _versions(ctx) -> dict:
    return run_child(ctx, _versions_main, timeout=60)


def print_figures(f: dict) -> None:
    n, d, b, m = f["recipients"], f["dispatch"], f.get("baseline"), f["machine"]
    rate = n / d["total_s"]
    rate_delivery = n / d["deliver_s"]
    rate_compose = n / d["compose_s"]
    print()
    print(f"## {n:,} recipients, {f['db']}, mail.connections {f.get('connections', 1)}" + benchdb.settings_note(f["setup"].get("database", {})))
    print()
    print("| | wall s | messages/s | CPU s (sender) | CPU s (sink) | SQL statements | commits |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    sc, sd = d["sql_compose"], d["sql_deliver"]
    print(f"| compose (render + outbox) | {d['compose_s']:.1f} | {rate_compose:,.0f} | {d['compose_cpu_s']:.1f} | | "
          f"{sc['statements']:,} | {sc['commits']:,} |")
    print(f"| deliver (outbox -> SMTP) | {d['deliver_s']:.1f} | {rate_delivery:,.0f} | {d['deliver_cpu_s']:.1f} | "
          f"{d['sink_cpu_s']:.1f} | {sd['statements']:,} | {sd['commits']:,} |")
    print(f"| **dispatch() end to end** | **{d['total_s']:.1f}** | **{rate:,.0f}** | {d['cpu_s']:.1f} | | "
          f"{sc['statements'] + sd['statements']:,} | {sc['commits'] + sd['commits']:,} |")
    if b:
        print(f"| raw smtplib, pre-built, 1 connection | {b['wall_s']:.1f} | {b['sent'] / b['wall_s']:,.0f} | "
              f"{b['cpu_s']:.1f} | {b['sink_cpu_s']:.1f} | | |")
    print()
    print(f"- sender peak RSS: ru_maxrss {d['ru_maxrss_mb']:.0f} MB, VmHWM {d['vmhwm_mb']:.0f} MB (compose phase "
          f"{d['compose_peak_mb']:.0f} MB, deliver phase "
          f"{'%.0f MB' % d['deliver_peak_mb'] if d['deliver_peak_mb'] is not None else 'n/a'}; "
          f"{d['rss_before_mb']:.0f} MB after imports, before dispatch)")
    if "traced_peak_compose_mb" in d:
        print(f"- tracemalloc peak: compose {d['traced_peak_compose_mb']:.1f} MB, deliver "
              f"{d['traced_peak_deliver_mb']:.1f} MB ({d['traced_before_mb']:.1f} MB traced before dispatch: "
              "the imports)")
    print(f"- composed {d['composed']}, delivery {d['delivery']}, sink received {d['sink_messages']:,} messages "
          f"({d['sink_bytes'] / max(1, d['sink_messages']) / 1024:.1f} KB each) over {d['sink_connections']} "
          f"connection(s); rate limiter waited {d['bucket_waited_s']:.2f} s")
    size = f.get("db_bytes") or d.get("db_bytes")
    print(f"- outbox body {d['avg_compressed_bytes'] / 1024:.1f} KB compressed; setup {f['setup']['setup_s']:.1f} s"
          + (f"; database {size / 2**20:.0f} MB" if size else ""))
    if "server_cpu_s" in d:
        print(f"- the database server's backends for this database used {d['server_cpu_s']:.1f} CPU s during "
              "dispatch (a lower bound: a backend that came and went between the readings is not seen)")
    others = "other processes" if "server_cpu_s" in d or f["db"].startswith("sqlite") else \
        "other processes (the database server too)"
    print(f"- {others} used {d['others_cpu_s']:.1f} CPU s during dispatch"
          + (f", {b['others_cpu_s']:.1f} during the baseline" if b else "")
          + f"; sink peak RSS {f['sink_peak_rss_mb']:.0f} MB")
    if b:
        print(f"- baseline: {b['sent']:,} messages of {b['avg_bytes'] / 1024:.1f} KB, sender peak RSS "
              f"{b['peak_rss_mb']:.0f} MB; dispatch delivers at {rate_delivery / (b['sent'] / b['wall_s']):.0%} "
              f"and end to end at {rate / (b['sent'] / b['wall_s']):.0%} of raw smtplib")
    print(f"- aims: >= {AIM_MSGS_PER_S:.0f} messages/s at 10,000 recipients; peak under {AIM_PEAK_MB:.0f} MB at "
          f"100,000. This run: {rate:,.0f} messages/s, peak {max(d['ru_maxrss_mb'], d['vmhwm_mb']):.0f} MB")
    print(f"- checks: {'; '.join(f['checks'])}")
    v = f.get("versions", {})
    database = f["setup"].get("database", {}).get("label") or f"SQLite {v.get('sqlite')}"
    print(f"- load average (1, 5, 15 min) at the start {m.get('load_start')}, at the end {m.get('load_end')}")
    print(f"\nmachine: {m['cpu']}, nproc {m['nproc']} ({m['usable_cores']} usable), {m['memory_gb']} GB RAM, "
          f"{m['os']}; Python {m['python']}, database {database}, SQLAlchemy {v.get('sqlalchemy')}, "
          f"aiosmtpd {v.get('aiosmtpd')}, Jinja2 {v.get('jinja2')}, css-inline {v.get('css_inline')}; code at "
          f"{m['revision']}" + (f" with local changes in {', '.join(m['dirty'])}" if m["dirty"] else ""))
    if d.get("profile_top"):
        print(f"\nprofile ({d['profile']}):\n{d['profile_top']}")


if __name__ == "__main__":
    sys.exit(main())
