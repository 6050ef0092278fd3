#!/usr/bin/env python3
"""Long fuzzing runs (issue 8) of the properties in ``tests/test_fuzz.py``.

The test file runs each property 200 times with a fixed seed; this runs the same hypothesis tests for
``--examples`` examples each (default 20,000), in runs of ``--round`` examples with a fresh random seed
per run (explicit ``@example`` inputs are counted too), and, with ``--atheris`` (``pip install atheris``), the same ``check_*`` functions under
libFuzzer for ``--atheris-runs`` inputs each, one child process per target. It prints, per target:
examples run, failures and time. A failure prints the falsifying input and the error; the exit status
is 1 when any target failed.

    .venv/bin/python bench/fuzz_long.py                          # hypothesis, 20,000 examples per target
    .venv/bin/python bench/fuzz_long.py --examples 2000 --only feed --only config
    .venv/bin/python bench/fuzz_long.py --examples 0 --atheris --atheris-runs 50000   # atheris only

The search target runs on a SQLite file in a temporary folder, and also on PostgreSQL when
``TRACKER_TEST_POSTGRES_URL`` is set (a fresh ``fuzz_<pid>`` database, dropped at the end).
See bench/README.md, "Fuzzing (issue 8)".
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# target name -> (hypothesis test in tests/test_fuzz.py, how an atheris child turns bytes into the input)
TARGETS = {
    "api_history": ("test_api_history_gives_rows_or_a_parse_error", "bytes"),
    "api_document": ("test_api_document_gives_a_detail_or_a_parse_error", "bytes"),
    "html_bill_page": ("test_html_bill_page_gives_a_page_or_a_parse_error", "bytes"),
    "html_history_page": ("test_html_history_page_gives_rows_or_a_parse_error", "bytes"),
    "html_petitioners": ("test_html_petitioners_gives_people_or_a_parse_error", "bytes"),
    "bill_id": ("test_bill_id_text_gives_an_id_or_bad_bill_id", "text"),
    "bill_id_round_trip": ("test_every_spelling_of_a_bill_id_parses_back_to_it", None),
    "feed_bytes": ("test_any_bytes_give_a_feed_or_a_feed_error", "bytes"),
    "feed_skeletons": ("test_feed_skeletons_give_sane_items_or_a_feed_error", None),
    "sanitize": ("test_sanitised_html_has_no_script_handler_or_bad_link", "text"),
    "canonical_url": ("test_canonical_url_never_raises_and_is_stable", "text"),
    "config": ("test_config_text_gives_a_config_or_a_config_error_naming_the_file", "text"),
    "query": ("test_query_text_gives_quoted_terms_or_bad_query", "text"),
    "search": ("test_search_gives_results_or_bad_query_never_a_database_error", "text"),
}
ATHERIS_CHECKS = {"api_history": "check_api_history", "api_document": "check_api_document",
                  "html_bill_page": "check_html_bill_page", "html_history_page": "check_html_history_page",
                  "html_petitioners": "check_html_petitioners", "bill_id": "check_bill_id", "feed_bytes": "check_feed",
                  "sanitize": "check_sanitize", "canonical_url": "check_url", "config": "check_config",
                  "query": "check_query", "search": "check_search"}


@contextlib.contextmanager
def corpus_sessions(backend: str):
    """A migrated database holding tests/test_fuzz.py's corpus: a session factory, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from db.engine import make_engine, session_factory
    from db.migrate import upgrade
    from tests.test_fuzz import fill_corpus

    with tempfile.TemporaryDirectory() as tmp:
        admin = name = None
        if backend == "sqlite":
            url = f"sqlite:///{tmp}/fuzz.sqlite"
        else:
            admin = create_engine(os.environ["TRACKER_TEST_POSTGRES_URL"], isolation_level="AUTOCOMMIT")
            name = f"fuzz_{os.getpid()}"
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = make_url(os.environ["TRACKER_TEST_POSTGRES_URL"]).set(database=name).render_as_string(
                hide_password=False)
        engine = make_engine(url)
        try:
            upgrade(engine)
            sessions = session_factory(engine)
            fill_corpus(sessions)
            yield sessions
        finally:
            engine.dispose()
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


def run_hypothesis(name: str, examples: int, fixture=None) -> tuple[int, int, float, str]:
    """(examples run, failures, seconds, first failure) for one target: runs of ``TRACKER_FUZZ_EXAMPLES``
    examples each, every run with a fresh random seed, until ``examples`` have run."""
    import tests.test_fuzz as fuzz

    test = getattr(fuzz, TARGETS[name][0])
    count = [0]
    inner = test.hypothesis.inner_test

    def counting(*args, **kwargs):
        count[0] += 1
        return inner(*args, **kwargs)

    test.hypothesis.inner_test = counting
    failures, first, started = 0, "", time.monotonic()
    try:
        while count[0] < examples:
            before = count[0]
            try:
                test(corpus=fixture) if fixture is not None else test()
            except Exception as exc:  # noqa: BLE001 - a falsified property: report it, go on with the rest
                failures += 1
                first = first or f"{type(exc).__name__}: {exc}"[:3000]
            if count[0] == before:
                break  # the strategy is exhausted (a small search space): nothing new to run
    finally:
        test.hypothesis.inner_test = inner
    return count[0], failures, time.monotonic() - started, first


def atheris_child(name: str, argv: list[str]) -> None:
    """Runs inside the child: libFuzzer drives one check function (an uncaught exception is a crash)."""
    import atheris

    with atheris.instrument_imports(include=["spiders", "tracker"]):
        import tests.test_fuzz as fuzz
    check = getattr(fuzz, ATHERIS_CHECKS[name])
    kind = TARGETS[name][1]
    stack = contextlib.ExitStack()
    sessions = stack.enter_context(corpus_sessions("sqlite")) if name == "search" else None

    def one_input(data: bytes) -> None:
        if kind == "bytes":
            check(data)
            return
        text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(len(data))
        check(sessions, text) if sessions is not None else check(text)

    atheris.Setup([sys.argv[0]] + argv, one_input)
    atheris.Fuzz()


def run_atheris(name: str, runs: int, max_seconds: int) -> tuple[int, int, float, str]:
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [sys.executable, __file__, "--atheris-child", name, f"-runs={runs}", f"-max_total_time={max_seconds}",
             "-rss_limit_mb=4096", "-max_len=4096", f"-artifact_prefix={tmp}/", "-print_final_stats=1"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
            env=os.environ | {"PYTHONPATH": str(ROOT)})
    log = proc.stdout
    done = re.findall(r"Done (\d+) runs", log) or re.findall(r"stat::number_of_executed_units:\s*(\d+)", log)
    executed = int(done[-1]) if done else int((re.findall(r"#(\d+)", log) or ["0"])[-1])
    failed = proc.returncode != 0
    first = ""
    if failed:
        lines = [line for line in log.splitlines() if line.strip() and not line.startswith("INFO: Instrumenting")]
        start = next((i for i, line in enumerate(lines) if "Uncaught Python exception" in line or
                      line.startswith("Traceback")), max(0, len(lines) - 25))
        first = "\n".join(lines[start:start + 40])
    return executed, int(failed), time.monotonic() - started, first


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--atheris-child":
        atheris_child(sys.argv[2], sys.argv[3:])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=20_000, help="hypothesis examples per target (0: none)")
    ap.add_argument("--round", type=int, default=2_000, help="examples per hypothesis run (a new seed each)")
    ap.add_argument("--only", action="append", default=[], help="targets whose name contains this (repeatable)")
    ap.add_argument("--atheris", action="store_true", help="also run each target under atheris")
    ap.add_argument("--atheris-runs", type=int, default=50_000, help="atheris inputs per target")
    ap.add_argument("--atheris-seconds", type=int, default=300, help="time cap per atheris target")
    args = ap.parse_args()
    names = [n for n in TARGETS if not args.only or any(o in n for o in args.only)]
    os.environ["TRACKER_FUZZ_EXAMPLES"] = str(max(1, min(args.round, args.examples)))
    os.environ["TRACKER_FUZZ_RANDOM"] = "1"  # read when tests/test_fuzz.py is imported, below
    rows, failed = [], False
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; seeds are random, a failure prints its input")

    def report(engine: str, name: str, result: tuple[int, int, float, str]) -> None:
        nonlocal failed
        n, failures, seconds, first = result
        rows.append((engine, name, n, failures, seconds))
        print(f"{engine:<10} {name:<28} examples {n:>7}  failures {failures}  {seconds:7.1f} s", flush=True)
        if failures:
            failed = True
            print("  " + first.replace("\n", "\n  "), flush=True)

    for name in names:
        if args.examples <= 0:
            break
        if name == "search":
            backends = ["sqlite"] + (["postgresql"] if os.environ.get("TRACKER_TEST_POSTGRES_URL") else [])
            for backend in backends:
                with corpus_sessions(backend) as sessions:
                    report("hypothesis", f"search[{backend}]", run_hypothesis(name, args.examples, fixture=sessions))
        else:
            report("hypothesis", name, run_hypothesis(name, args.examples))
    if args.atheris:
        try:
            import atheris  # noqa: F401
        except ImportError:
            print("atheris is not installed (pip install atheris): atheris runs skipped")
        else:
            for name in names:
                if name in ATHERIS_CHECKS:
                    report("atheris", name, run_atheris(name, args.atheris_runs, args.atheris_seconds))
    total = sum(r[2] for r in rows)
    print(f"total: {total} examples, {sum(r[3] for r in rows)} failures, {sum(r[4] for r in rows):.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
