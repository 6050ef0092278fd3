#!/usr/bin/env python3
"""Import benchmark (issue 20): ``tracker subscribers import FILE --confirmed`` of N CSV rows, from outside.

    .venv/bin/python bench/import_bench.py --rows 10000
    .venv/bin/python bench/import_bench.py --rows 100000
    .venv/bin/python bench/import_bench.py --rows 10000 --db-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

With ``--db-url`` (a server), two fresh databases ``bench_import_<time>_<pid>`` are created there (one for the
command, one for the baseline), migrated, and dropped at the end unless ``--keep``; by default two SQLite files
in a temporary folder.

What it does:

- **setup** (a spawned process, per database): ``db.migrate.upgrade``; bills ma/192/H135 and ma/192/S47 tracked;
  a directory of 20 House and 20 Senate districts (so the district check runs against a known directory); 1% of
  the file's addresses already there as supporters (half active, half unsubscribed: the "updated" path);
- **the file**: N valid rows (name, bills from none / H.135 / H.135 S.47, a frequency, House and Senate districts
  as people write them, "2nd Middlesex" for "Second Middlesex"), then, spread through it, N/200 duplicates of
  earlier addresses (other case, other bills) and N/200 bad rows of five kinds (bad address, unknown bill, bad
  frequency, unknown district, more fields than columns), so the report path runs;
- **the command**: ``python -c 'tracker.cli.main()' --db URL --config feeds.yaml subscribers import FILE
  --confirmed`` in its own process (so its peak RSS is its own: ``os.wait4``'s ``ru_maxrss``), wall time from
  outside; the SQL statements and commits it ran are counted by an engine event inside it (``--profile PATH``
  also runs it under cProfile: the figures are then not comparable with plain runs);
- **the start-up floor**: the same command on a file of the header only (Python, the imports, the checks);
- **the baseline** (another process, the other database, same setup): the raw floor, ``csv.reader`` over the
  same file, lower-cased addresses, no validation, and one ``executemany`` into ``subscribers`` and one into
  ``subscriptions`` (explicit ids) with plain ``sqlite3`` / ``psycopg``, one commit.

Checks (exit status 1 when one fails): the command exits 1 (bad rows), prints the expected counts, names each
bad row's line, and leaves the expected numbers of supporters and subscriptions. This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/import_bench.py` from anywhere, also without the editable install
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchdb, send_bench (standard library only at import)
import benchdb  # noqa: E402
from send_bench import machine_info, machine_load, run_child  # noqa: E402

AIM_10K_S = 2.0
AIM_100K_S = 20.0
AIM_PEAK_MB = 300.0
NOW = "2026-11-30T15:00:00+00:00"

CONFIG = """
campaign:
  name: Regulate face surveillance
sources:
  malegislature:
    session: 192
bills:
  - id: H.135
  - id: S.47
"""

ORDINALS = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth"]
SHORT = ["1st", "2nd", "3rd", "4th", "5th", "6th", "7th", "8th", "9th", "10th"]
HOUSE = [(f"{o} {c}", f"{s} {c}") for c in ("Middlesex", "Suffolk") for o, s in zip(ORDINALS, SHORT)]
SENATE = [(f"{o} {c}", f"{s} {c}") for c in ("Worcester", "Essex", "Hampden", "Norfolk") for o, s in
          zip(ORDINALS[:5], SHORT[:5])]
FIRST = ["Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jamal", "Keiko", "Liam"]
LAST = ["Almeida", "Brennan", "Chen", "Duarte", "Egan", "Fitzgerald", "Gomes", "Haddad", "O'Brien", "Tran"]
BILLS = ["", "H.135", "H.135 S.47", "192/S47"]
FREQ = ["", "daily", "weekly", "immediate"]
BAD = [("broken-address", "", "", ""), ("bad-bill{i}@example.org", "H.999", "", ""),
       ("bad-freq{i}@example.org", "", "hourly", ""), ("bad-district{i}@example.org", "", "", "Ninetieth Nowhere")]
EXISTING_EVERY = 100  # 1% of the addresses are already supporters
EXTRA_EVERY = 200  # one duplicate and one bad row per 200 valid rows


def address(i: int) -> str:
    return f"supporter{i:07d}@example.org"


def write_file(path: Path, n: int) -> dict:
    """The CSV file; what the import should report."""
    import csv
    import random

    rng = random.Random(20)
    bad_lines, lines = [], 1
    dup = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["email", "name", "bills", "frequency", "house_district", "senate_district"])
        for i in range(n):
            house, senate = rng.choice(HOUSE), rng.choice(SENATE)
            out.writerow([address(i), f"{rng.choice(FIRST)} {rng.choice(LAST)}", BILLS[i % 4], FREQ[i % 4],
                          house[i % 2], senate[(i // 2) % 2]])
            lines += 1
            if i % EXTRA_EVERY == EXTRA_EVERY - 1:
                j = rng.randrange(i)
                out.writerow([address(j).upper(), "", "S.47", "", "", ""])
                dup += 1
                kind = (i // EXTRA_EVERY) % 5
                if kind == 4:
                    out.writerow([f"extra{i}@example.org", "X", "", "", "", "", "surplus"])
                else:
                    email, bills, freq, district = BAD[kind]
                    out.writerow([email.format(i=i), "", bills, freq, district, ""])
                lines += 2
                bad_lines.append(lines)
    existing = len(range(0, n, EXISTING_EVERY))
    return {"valid": n, "duplicates": dup, "bad": len(bad_lines), "bad_lines": bad_lines, "lines": lines,
            "existing": existing, "added": n - existing, "updated": existing + dup, "bytes": path.stat().st_size}


# --------------------------------------------------------------------------- setup (its own process)


def setup_main(db_url: str, n: int, out) -> None:
    """Migrate; bills, the directory, the supporters already there."""
    from datetime import datetime, timedelta

    from sqlalchemy import text

    from db.engine import make_engine, session_factory
    from db.migrate import upgrade
    from db.models import Bill, Legislator, Subscriber

    started = time.perf_counter()
    now = datetime.fromisoformat(NOW)
    engine = make_engine(db_url)
    upgrade(engine)
    database = benchdb.describe(engine)
    with session_factory(engine).begin() as s:
        for number in ("H135", "S47"):
            s.add(Bill(canonical=f"ma/192/{number}", session=192, number=number, tracked=True, error_count=0,
                       created_at=now - timedelta(days=30), title="An Act to regulate face surveillance",
                       status="in-committee", url=f"https://malegislature.gov/Bills/192/{number}"))
        for branch, districts in (("House", HOUSE), ("Senate", SENATE)):
            for k, (district, _short) in enumerate(districts):
                s.add(Legislator(session=192, member_code=f"{branch[0]}{k:03d}", name=f"Member {branch} {k}",
                                 branch=branch, district=district, party="Democrat",
                                 email=f"{branch.lower()}{k}@malegislature.gov", fetched_at=now))
    with engine.begin() as c:
        c.execute(Subscriber.__table__.insert(), [
            {"email": address(i), "role": "supporter", "status": "active" if (i // EXISTING_EVERY) % 2 else
             "unsubscribed", "frequency": "daily", "source": "cli", "start_event_id": 0,
             "created_at": now - timedelta(days=3), "unsubscribed_at": None if (i // EXISTING_EVERY) % 2 else now}
            for i in range(0, n, EXISTING_EVERY)])
    with engine.connect() as c:
        counts = {t: c.scalar(text(f"SELECT count(*) FROM {t}")) for t in ("subscribers", "subscriptions")}
    engine.dispose()
    out.send({"setup_s": time.perf_counter() - started, "counts": counts, "database": database})


def count_main(db_url: str, out) -> None:
    from sqlalchemy import text

    from db.engine import make_engine

    engine = make_engine(db_url)
    with engine.connect() as c:
        counts = {t: c.scalar(text(f"SELECT count(*) FROM {t}")) for t in ("subscribers", "subscriptions", "outbox")}
        counts["active"] = c.scalar(text("SELECT count(*) FROM subscribers WHERE status = 'active'"))
    out.send({"counts": counts, "db_bytes": benchdb.size_bytes(engine)})
    engine.dispose()


# --------------------------------------------------------------------------- the command (its own process)


def as_cli(argv: list[str]) -> None:
    """``tracker ARGV`` as the console script runs it; the SQL statements and commits counted into
    $IMPORT_BENCH_SQL, and a cProfile into $IMPORT_BENCH_PROFILE when set."""
    import atexit

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    sql = {"statements": 0, "executemany": 0, "commits": 0}

    @event.listens_for(Engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        sql["statements"] += 1
        sql["executemany"] += bool(executemany)

    @event.listens_for(Engine, "commit")
    def _commit(conn):
        sql["commits"] += 1

    from tracker.cli import main

    profile = os.environ.get("IMPORT_BENCH_PROFILE")
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()

    def _done():
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        Path(os.environ["IMPORT_BENCH_SQL"]).write_text(json.dumps(sql))

    atexit.register(_done)
    main(argv, prog_name="tracker")


def run_command(args: list[str], cwd: Path, sql_path: Path, profile: str | None = None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), IMPORT_BENCH_SQL=str(sql_path), COLUMNS="200")
    env.pop("TRACKER_DATABASE_URL", None)
    env.pop("TRACKER_CONFIG", None)
    if profile:
        env["IMPORT_BENCH_PROFILE"] = profile
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); "
            f"import import_bench; import_bench.as_cli(sys.argv[1:])")
    out_path, err_path = sql_path.with_suffix(".out"), sql_path.with_suffix(".err")
    with out_path.open("w") as out, err_path.open("w") as err:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", code, *args], cwd=cwd, env=env, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)  # reaped here, with its own rusage
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    result = {"exit": proc.returncode, "wall_s": wall, "stdout": out_path.read_text(), "stderr": err_path.read_text(),
              "peak_rss_mb": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime}
    with contextlib.suppress(OSError, ValueError):
        result["sql"] = json.loads(sql_path.read_text())
    return result


# --------------------------------------------------------------------------- the baseline (its own process)


def baseline_main(db_url: str, csv_path: str, out) -> None:
    """The raw floor: csv.reader, lower-case, one executemany per table, one commit, plain DB-API."""
    import csv
    import resource
    from datetime import datetime

    from sqlalchemy.engine import make_url

    now = datetime.fromisoformat(NOW)
    url = make_url(db_url)
    started = time.perf_counter()
    cpu0 = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    if url.get_backend_name() == "sqlite":
        import sqlite3

        conn = sqlite3.connect(url.database)
        mark = "?"
        stamp = now.isoformat(sep=" ")
    else:
        import psycopg

        conn = psycopg.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                               dbname=url.database)
        mark = "%s"
        stamp = now
    cur = conn.cursor()
    cur.execute("SELECT coalesce(max(id), 0) FROM subscribers")
    next_id = cur.fetchone()[0] + 1
    cur.execute("SELECT email FROM subscribers")
    seen = {row[0] for row in cur.fetchall()}
    subs, topics = [], []
    with open(csv_path, newline="", encoding="utf-8-sig") as fh:
        rows = csv.reader(fh)
        next(rows)
        for row in rows:
            if len(row) != 6 or not row[0].lower().startswith("supporter"):  # the bad rows, by their known shape
                continue
            email = row[0].lower()
            if email in seen:
                continue
            seen.add(email)
            subs.append((next_id, email, row[1] or None, "supporter", "active", row[3] or "daily", row[4] or None,
                         row[5] or None, "import", 0, stamp, stamp))
            for topic in (f"bill:{b}" for b in row[2].split()) if row[2] else ("campaign",):
                topics.append((next_id, topic, True, stamp))
            next_id += 1
    cols = ("id, email, name, role, status, frequency, house_district, senate_district, source, start_event_id, "
            "created_at, confirmed_at")
    cur.executemany(f"INSERT INTO subscribers ({cols}) VALUES ({', '.join([mark] * 12)})", subs)
    cur.executemany(f"INSERT INTO subscriptions (subscriber_id, topic, active, created_at) VALUES "
                    f"({', '.join([mark] * 4)})", topics)
    conn.commit()
    conn.close()
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.send({"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime - cpu0, "subscribers": len(subs),
              "subscriptions": len(topics), "peak_rss_mb": usage.ru_maxrss / 1024})


def create_db_main(server_url: str, out) -> None:
    try:
        url, name = benchdb.create_database(server_url, "import")
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


def versions_main(out) -> None:
    import sqlite3
    from importlib.metadata import version

    found = {"sqlite": sqlite3.sqlite_version}
    for name in ("sqlalchemy", "psycopg", "email-validator", "click"):
        with contextlib.suppress(Exception):
            found[name] = version(name)
    out.send(found)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10000, help="valid rows in the file (default 10,000)")
    ap.add_argument("--db-url", metavar="URL",
                    help="a database server, e.g. postgresql+psycopg://USER@HOST:PORT/postgres: two fresh databases "
                         "bench_import_<time>_<pid> are created there, migrated, and dropped at the end unless --keep")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (file, SQLite databases) or the "
                                                       "--db-url databases")
    ap.add_argument("--profile", metavar="PATH", help="cProfile the command into PATH (a .prof file); the figures "
                                                       "are then not comparable with plain runs")
    ap.add_argument("--skip-baseline", action="store_true", help="skip the raw executemany baseline")
    ap.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    args = ap.parse_args(argv)
    if args.db_url is not None and not benchdb.is_server_url(args.db_url):
        ap.error("--db-url takes a server URL (postgresql+psycopg://...); SQLite is the default")
    n = args.rows
    ctx = mp.get_context("spawn")
    tmp = Path(tempfile.mkdtemp(prefix="import-bench-"))
    created: list[dict] = []
    machine = machine_info()
    machine["load_start"] = machine_load()
    figures: dict = {"rows": n, "machine": machine}
    checks: list[str] = []
    try:
        urls = []
        for which in ("command", "baseline"):
            if args.db_url:
                made = run_child(ctx, create_db_main, args.db_url, timeout=120)
                if "error" in made:
                    print(made["error"], file=sys.stderr)
                    return 2
                created.append(made)
                urls.append(made["url"])
            else:
                urls.append(f"sqlite:///{tmp / f'{which}.sqlite'}")
        db_url, base_url = urls
        figures["db"] = benchdb.redact(db_url) if args.db_url else "sqlite"
        (tmp / "feeds.yaml").write_text(CONFIG)
        csv_path = tmp / "people.csv"
        expect = write_file(csv_path, n)
        figures["file"] = {k: v for k, v in expect.items() if k != "bad_lines"}
        (tmp / "empty.csv").write_text("email,name,bills,frequency,house_district,senate_district\n")
        print(f"file: {expect['lines']:,} lines ({expect['bytes'] / 2**20:.1f} MB): {n:,} valid rows, "
              f"{expect['duplicates']} duplicates, {expect['bad']} bad rows; {expect['existing']} addresses already "
              "supporters", flush=True)
        for url in urls[: 1 if args.skip_baseline else 2]:
            setup = run_child(ctx, setup_main, url, n)
            figures.setdefault("setup", setup)
        print(f"setup: {figures['setup']['setup_s']:.1f} s, {figures['setup']['counts']}", flush=True)

        base_args = ["--db", db_url, "--config", "feeds.yaml", "subscribers", "import"]
        print("start-up floor: the command on a header-only file ...", flush=True)
        floor = run_command([*base_args, "empty.csv", "--confirmed"], tmp, tmp / "sql-floor.json")
        figures["floor"] = {k: v for k, v in floor.items() if k not in ("stdout", "stderr")}
        if floor["exit"] != 0:
            checks.append(f"the header-only import exited {floor['exit']}: {floor['stderr'][-400:]}")
        print(f"tracker subscribers import {csv_path.name} --confirmed ...", flush=True)
        busy0 = _busy()
        run = run_command([*base_args, str(csv_path), "--confirmed"], tmp, tmp / "sql.json", args.profile)
        run["others_cpu_s"] = max(0.0, _busy() - busy0 - run.get("cpu_s", 0.0))
        figures["command"] = {k: v for k, v in run.items() if k not in ("stdout", "stderr")}
        figures["command"]["output"] = run["stdout"].strip().splitlines()[-1:] if run["stdout"] else []
        after = run_child(ctx, count_main, db_url)
        figures["after"] = after
        checks += check_run(run, after["counts"], expect, csv_path)
        if not args.skip_baseline:
            print("baseline: csv.reader + executemany ...", flush=True)
            busy0 = _busy()
            base = run_child(ctx, baseline_main, base_url, str(csv_path))
            base["others_cpu_s"] = max(0.0, _busy() - busy0 - base["cpu_s"])
            figures["baseline"] = base
            if base["subscribers"] != expect["added"]:
                checks.append(f"the baseline inserted {base['subscribers']} supporters, expected {expect['added']}")
        if args.profile:
            figures["profile"] = args.profile
            figures["profile_top"] = _top_profile(args.profile)
        figures["versions"] = run_child(ctx, versions_main, timeout=60)
        machine["load_end"] = machine_load()
    finally:
        if args.keep:
            print(f"kept {tmp}" + (" and the databases " + ", ".join(c["name"] for c in created) if created else ""))
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            for made in created:
                dropped = run_child(ctx, drop_db_main, args.db_url, made["name"], timeout=120)
                if "error" in dropped:
                    print(dropped["error"], file=sys.stderr)
    figures["checks"] = checks or ["ok"]
    print_figures(figures)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    return 1 if checks else 0


def _busy() -> float:
    from send_bench import machine_busy_s

    return machine_busy_s()


def check_run(run: dict, counts: dict, expect: dict, csv_path: Path) -> list[str]:
    checks = []
    if run["exit"] != 1:
        checks.append(f"the import exited {run['exit']}, expected 1 (bad rows): {run['stderr'][-600:]}")
    want = (f"{expect['added']} added, {expect['updated']} updated, {expect['bad']} rows refused; "
            "0 confirmation emails queued")
    if want not in run["stdout"]:
        checks.append(f"expected {want!r}, the command printed {run['stdout'][-300:]!r}")
    lines = [int(m) for m in re.findall(rf"{re.escape(str(csv_path))}:(\d+):", run["stderr"])]
    if lines != expect["bad_lines"]:
        checks.append(f"bad rows reported at lines {lines[:5]}..., expected {expect['bad_lines'][:5]}...")
    if counts["subscribers"] != expect["valid"]:
        checks.append(f"{counts['subscribers']} supporters after the import, expected {expect['valid']}")
    if counts["active"] != expect["valid"]:
        checks.append(f"{counts['active']} active supporters, expected {expect['valid']}")
    if counts["outbox"]:
        checks.append(f"{counts['outbox']} outbox rows after an import --confirmed, expected none")
    return checks


def _top_profile(path: str, limit: int = 30) -> str:
    import io
    import pstats

    buf = io.StringIO()
    st = pstats.Stats(path, stream=buf).strip_dirs()
    st.sort_stats("tottime").print_stats(limit)
    st.sort_stats("cumulative").print_stats(limit + 10)
    return buf.getvalue()


def print_figures(f: dict) -> None:
    n, m = f["rows"], f["machine"]
    c, fl, b = f.get("command"), f.get("floor"), f.get("baseline")
    if not c:
        print(f"- checks: {'; '.join(f['checks'])}")
        return
    file = f["file"]
    print()
    print(f"## {n:,} rows ({file['lines']:,} lines, {file['bytes'] / 2**20:.1f} MB), "
          f"{f['db']}" + benchdb.settings_note(f["setup"].get("database", {})))
    print()
    print("| | wall s | rows/s | CPU s | peak RSS MB | SQL statements | executemany | commits |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")

    def sql(r, k):
        return f"{r['sql'][k]:,}" if r.get("sql") else ""

    rows = file["lines"] - 1
    print(f"| **`tracker subscribers import --confirmed`** | **{c['wall_s']:.2f}** | {rows / c['wall_s']:,.0f} | "
          f"{c.get('cpu_s', 0):.2f} | {c.get('peak_rss_mb', 0):.0f} | {sql(c, 'statements')} | "
          f"{sql(c, 'executemany')} | {sql(c, 'commits')} |")
    if fl:
        print(f"| start-up floor: the same on a header-only file | {fl['wall_s']:.2f} | | {fl.get('cpu_s', 0):.2f} | "
              f"{fl.get('peak_rss_mb', 0):.0f} | {sql(fl, 'statements')} | {sql(fl, 'executemany')} | "
              f"{sql(fl, 'commits')} |")
    if b:
        print(f"| baseline: csv.reader + one executemany per table (plain DB-API, in-process) | {b['wall_s']:.2f} | "
              f"{rows / b['wall_s']:,.0f} | {b['cpu_s']:.2f} | {b['peak_rss_mb']:.0f} | 2 | 2 | 1 |")
    print()
    print(f"- the command printed: {' '.join(c.get('output') or [])!r}; exit {c['exit']}")
    if fl:
        print(f"- less the start-up floor, the import itself took {c['wall_s'] - fl['wall_s']:.2f} s "
              f"({rows / max(1e-9, c['wall_s'] - fl['wall_s']):,.0f} rows/s)"
              + (f", {(c['wall_s'] - fl['wall_s']) / b['wall_s']:.1f}x the baseline" if b else ""))
    print(f"- after: {f['after']['counts']}; database {f['after']['db_bytes'] / 2**20:.0f} MB; setup "
          f"{f['setup']['setup_s']:.1f} s")
    print(f"- other processes used {c.get('others_cpu_s', 0):.1f} CPU s during the command"
          + (" (the database server among them)" if f["db"] != "sqlite" else "")
          + (f", {b['others_cpu_s']:.1f} during the baseline" if b else ""))
    aim = AIM_10K_S if n <= 10000 else AIM_100K_S
    print(f"- aims: <= {AIM_10K_S:.0f} s at 10,000 rows; <= {AIM_100K_S:.0f} s and peak RSS < {AIM_PEAK_MB:.0f} MB at "
          f"100,000. This run: {c['wall_s']:.2f} s (aim {aim:.0f} s here), peak {c.get('peak_rss_mb', 0):.0f} MB")
    print(f"- checks: {'; '.join(f['checks'])}")
    v = f.get("versions", {})
    database = f["setup"].get("database", {}).get("label") or f"SQLite {v.get('sqlite')}"
    print(f"- load average (1, 5, 15 min) at the start {m.get('load_start')}, at the end {m.get('load_end')}")
    print(f"\nmachine: {m['cpu']}, nproc {m['nproc']} ({m['usable_cores']} usable), {m['memory_gb']} GB RAM, "
          f"{m['os']}; Python {m['python']}, database {database}, SQLAlchemy {v.get('sqlalchemy')}, "
          f"psycopg {v.get('psycopg')}, email-validator {v.get('email-validator')}; code at {m['revision']}"
          + (f" with local changes in {', '.join(m['dirty'])}" if m["dirty"] else ""))
    if f.get("profile_top"):
        print(f"\nprofile ({f['profile']}):\n{f['profile_top']}")


if __name__ == "__main__":
    sys.exit(main())
