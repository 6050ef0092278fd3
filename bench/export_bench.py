#!/usr/bin/env python3
"""Export benchmark (issue 21): ``tracker export --format sqlite`` with this tree's writer and with the writers of
other revisions (default ``main``), on one synthetic archive, in one run.

The archive is a SQLite file in a temporary folder, built with ``db.migrate.upgrade`` and loaded by
``search_bench.load`` (N articles with their feed entries and bill links, bills and their actions), plus one
``article.new`` event per article, one ``bill.action`` event per action and N/10 docket documents with texts.
Each ``--rev``'s ``tracker/export.py`` is read with ``git show REV:tracker/export.py`` and imported beside this
tree's (the rest of the code is this tree's). Each round exports with every variant, in turn first, to a fresh
file; the figures are the median wall and CPU seconds of:

- ``export``: the whole ``export()`` (read the source in batches, write, index, full-text tables, fsync, rename);
- ``writer``: the SQLite writer alone, fed rows already read into memory (what a writing library changes).

Then each archive is compared with the first variant's: tables, columns (name, type, not null, primary key), foreign
keys, indexes (columns, unique), full-text tables (columns, tokenizer, content table, rowid), the rows of every
table, and a full-text query per FTS table; every difference is printed, and the statements of each schema
(``sqlite3 .schema``) are diffed with whitespace folded. Exit status 1 if any archive differs.

    .venv/bin/python bench/export_bench.py                          # 100,000 articles, 3 rounds, main and tree
    .venv/bin/python bench/export_bench.py --articles 20000 --rounds 5 --rev main --rev lib-sqlite-utils-variant-full
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import importlib.util
import os
import random
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/export_bench.py` from anywhere
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # search_bench, benchdb
import search_bench  # noqa: E402


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def load_old_export(rev: str, folder: Path, i: int):
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:tracker/export.py"], check=True,
                            capture_output=True, text=True).stdout
    path = folder / f"export_at_rev{i}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"export_at_rev{i}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def build(url: str, n_articles: int, seed: int, log=print) -> None:
    from sqlalchemy import insert, select

    from db.engine import make_engine
    from db.migrate import upgrade
    from db.models import Article, BillAction, Document, Event

    engine = make_engine(url)
    upgrade(engine)
    corpus = search_bench.Corpus(seed, n_articles)
    out = search_bench.load(engine, corpus, n_articles, 2000, "fast", 400, log=lambda *a: None)
    rng = random.Random(seed + 11)
    with engine.begin() as conn:
        events = [{"kind": "article.new", "at": seen, "occurred_at": seen, "occurred_on": None, "bill_id": None,
                   "article_id": aid,
                   "summary": f"article {aid}: {title[:60]}", "payload": {"url": url, "feed": "bench"}}
                  for aid, url, title, seen in conn.execute(
                      select(Article.id, Article.url, Article.title, Article.first_seen_at))]
        events += [{"kind": "bill.action", "at": seen, "occurred_at": None, "occurred_on": day, "bill_id": bill_id,
                    "article_id": None,
                    "summary": action[:80], "payload": {"action": action, "kinds": ["other"]}}
                   for bill_id, action, day, seen in conn.execute(
                       select(BillAction.bill_id, BillAction.action, BillAction.date, BillAction.first_seen_at))]
        for start in range(0, len(events), 5000):
            conn.execute(insert(Event.__table__), events[start:start + 5000])
        docs = []
        for i in range(n_articles // 10):
            words = rng.choices(corpus.words, cum_weights=corpus.cum, k=rng.randint(200, 1500))
            seen = search_bench.START + timedelta(hours=i)
            docs.append({"canonical": f"ma/194/H{i + 1}", "session": 194, "number": f"H{i + 1}",
                         "docket": f"HD{i + 1}", "title": search_bench.sentences(words[:12]),
                         "sponsor": rng.choice(search_bench.OUTLETS), "pinslip": search_bench.sentences(words[12:40]),
                         "joint_sponsors": [{"name": "A. Member", "member_code": "AM1"}], "cosponsors": [],
                         "text": search_bench.paragraphs(words[40:]), "legislation_type": "Bill",
                         "docket_book_only": False, "row_hash": f"{i:064x}", "first_seen_at": seen,
                         "last_seen_at": seen})
        conn.execute(insert(Document.__table__), docs)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    log(f"archive: {n_articles:,} articles, {out['bills']:,} bills, {out['bill_actions']:,} actions, "
        f"{len(events):,} events, {len(docs):,} documents; {os.path.getsize(url[len('sqlite:///'):]) / 1e6:.0f} MB")


def timed(fn) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), cpu_s()
    fn()
    return time.perf_counter() - w0, cpu_s() - c0


def writer_only(module, rows: dict[str, list[list[tuple]]], path: Path) -> None:
    writer = module._SqliteWriter(path)
    for spec in module.TABLES:
        write, close = writer.table(spec)
        for batch in rows[spec.name]:
            write(batch)
        close()
    writer.finish()


# -- comparing two archives -----------------------------------------------------------------------------------


def fts_config(sql: str) -> dict:
    """The options of a CREATE VIRTUAL TABLE ... USING fts5(...) statement, quotes and spacing aside."""
    body = sql[sql.index("(") + 1:sql.rindex(")")]
    columns, options = [], {}
    for part in re.findall(r"""(?:[^,'"]|'[^']*'|"[^"]*")+""", body):
        part = part.strip()
        key, eq, value = part.partition("=")
        if eq:
            options[key.strip().lower()] = value.strip().strip("'\"[]")
        else:
            columns.append(part.strip("'\"[]"))
    options.setdefault("content_rowid", "rowid")
    return {"columns": columns, **options}


def describe(path: Path) -> dict:
    conn = sqlite3.connect(path)
    out: dict = {}
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE "
                                         "'CREATE VIRTUAL%' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    for t in tables:
        out[f"{t}: columns"] = [tuple(r[1:]) for r in conn.execute(f'PRAGMA table_info("{t}")')]
        out[f"{t}: foreign keys"] = sorted(tuple(r[2:5]) for r in conn.execute(f'PRAGMA foreign_key_list("{t}")'))
        out[f"{t}: indexes"] = sorted(
            (tuple(c[2] for c in conn.execute(f'PRAGMA index_info("{ix[1]}")')), bool(ix[2]))
            for ix in conn.execute(f'PRAGMA index_list("{t}")'))
        if t.endswith(("_fts_data", "_fts_idx", "_fts_docsize", "_fts_config")):
            continue  # the FTS index's own storage: compared through queries below
        digest = hashlib.sha256()
        for row in conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid'):
            digest.update(repr(row).encode())
        out[f"{t}: rows"] = digest.hexdigest()
    for name, sql in conn.execute("SELECT name, sql FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL%' "
                                  "ORDER BY name"):
        config = fts_config(sql)
        out[f"{name}: fts"] = config
        content, key = config.get("content"), config["content_rowid"]
        probe = conn.execute(f'SELECT "{config["columns"][0]}" FROM "{content}" WHERE "{config["columns"][0]}" '
                             "IS NOT NULL LIMIT 1").fetchone()
        term = (re.findall(r"\w{4,}", probe[0]) or ["x"])[0] if probe else "x"
        out[f"{name}: match {term!r}"] = [r[0] for r in conn.execute(
            f'SELECT t."{key}" FROM "{name}" JOIN "{content}" t ON t."{key}" = "{name}".rowid '
            f'WHERE "{name}" MATCH ? ORDER BY rank LIMIT 50', (term,))]
    conn.close()
    return out


def schema_text(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    sql = sorted(" ".join(r[0].split()).replace("( ", "(").replace(" )", ")") for r in conn.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE '%_fts_%'"))
    conn.close()
    return sql


def compare(old: Path, new: Path, log=print) -> int:
    a, b = describe(old), describe(new)
    differences = 0
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            differences += 1
            log(f"  differs: {key}\n    before: {a.get(key)}\n    after:  {b.get(key)}")
    log(f"semantic comparison: {len(a)} facts, {differences} differences")
    diff = list(difflib.unified_diff(schema_text(old), schema_text(new), "before", "after", lineterm="", n=0))
    log(f".schema text (whitespace folded): {sum(1 for d in diff if d[:1] in '+-' and d[:3] not in ('+++', '---'))}"
        " lines differ")
    for line in diff:
        log("  " + line)
    return differences


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rev", action="append",
                    help="a revision whose tracker/export.py to measure beside this tree's; the first is 'before' "
                         "(default main; repeat for more)")
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--dir", type=Path, help="work folder (default: a temporary one, removed at the end)")
    args = ap.parse_args()
    revs = args.rev or ["main"]

    from db.engine import make_engine, session_factory
    from tracker import export as tree

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        variants = {rev: load_old_export(rev, folder, i) for i, rev in enumerate(revs)}
        variants["tree"] = tree
        print("variants: " + ", ".join(f"{rev}:tracker/export.py" for rev in revs) + f", tree: {tree.__file__}")
        print(f"machine: nproc {os.cpu_count()}, load {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}, "
              f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}")
        url = f"sqlite:///{folder / 'source.sqlite'}"
        t0 = time.perf_counter()
        build(url, args.articles, args.seed)
        print(f"built in {time.perf_counter() - t0:.0f} s")
        engine = make_engine(url)
        sessions = session_factory(engine)

        rows: dict[str, list[list[tuple]]] = {}
        with sessions() as s:
            tree._snapshot(s)
            for spec in tree.TABLES:
                rows[spec.name] = list(tree._batches(s, spec, "sqlite", tree.BATCH))
            s.rollback()
        print(f"rows: {sum(len(b) for batches in rows.values() for b in batches):,}")

        figures: dict[tuple[str, str], list[tuple[float, float]]] = {}
        labels = list(variants)
        for r in range(args.rounds):
            for label in labels[r % len(labels):] + labels[:r % len(labels)]:  # each goes first in turn
                module = variants[label]
                out = folder / f"{labels.index(label)}-{r}.sqlite"
                figures.setdefault((label, "export"), []).append(
                    timed(lambda: module.export(sessions, "sqlite", out)))
                w = folder / f"w-{labels.index(label)}-{r}.sqlite"
                figures.setdefault((label, "writer"), []).append(timed(lambda: writer_only(module, rows, w)))
                w.unlink()
                if r:
                    out.unlink()
        print(f"load after: {os.getloadavg()[0]:.2f}")
        print(f"{'':24} {'export wall':>12} {'export CPU':>11} {'writer wall':>12} {'writer CPU':>11} {'size MB':>8}"
              f" {'export ÷ first':>15} {'writer ÷ first':>15}")
        base = {kind: statistics.median(w for w, _ in figures[(labels[0], kind)]) for kind in ("export", "writer")}
        for i, label in enumerate(labels):
            ew, ec = (statistics.median(x) for x in zip(*figures[(label, "export")]))
            ww, wc = (statistics.median(x) for x in zip(*figures[(label, "writer")]))
            size = os.path.getsize(folder / f"{i}-0.sqlite") / 1e6
            print(f"{label:24} {ew:11.2f}s {ec:10.2f}s {ww:11.2f}s {wc:10.2f}s {size:8.1f} "
                  f"{ew / base['export']:14.2f}x {ww / base['writer']:14.2f}x")
        differences = 0
        for i, label in enumerate(labels[1:], 1):
            print(f"-- {labels[0]} against {label}")
            differences += compare(folder / "0-0.sqlite", folder / f"{i}-0.sqlite")
        engine.dispose()
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
