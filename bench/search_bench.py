#!/usr/bin/env python3
"""Search benchmark (issue 6): ``db.search.search()`` over N synthetic articles.

A fresh database (a SQLite file in a temporary directory, or with ``--db-url`` a fresh
``bench_search_<UTC time>_<pid>`` database on a PostgreSQL server, dropped at the end) is built with
``db.migrate.upgrade`` and loaded with N synthetic articles: titles, summaries and (for a few) full
texts drawn from a 50,000-word vocabulary with a Zipf word frequency, bill numbers ("H.135", "S.47",
...) and phrases ("facial recognition", "face surveillance", "state police") at fixed rates,
published over eight years; one feed entry per article, ``article_bills`` rows for the bill numbers,
and a few thousand bill actions. Then it times the real ``search(session, query, ...)`` (default
limit 50) for each query class, each query repeated on a warm cache, and prints p50/p95/max and the
number of hits. When an aim is missed it prints the plan of the slowest query and times a few
variants of its SQL (probes on the throwaway database; no code outside bench/ is changed).

    .venv/bin/python bench/search_bench.py                               # 1,000,000 articles, SQLite
    .venv/bin/python bench/search_bench.py --db-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/search_bench.py --articles 100000 --keep      # keep the database ...
    .venv/bin/python bench/search_bench.py --reuse sqlite:////tmp/x/bench.sqlite --articles 100000  # ... reuse it

See bench/README.md, "Search benchmark (issue 6)", for what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import random
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from bisect import bisect
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/search_bench.py` from anywhere, also without the editable install
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchdb
import benchdb  # noqa: E402

# Aims from the issue (p95, milliseconds).
AIM_SELECTIVE_MS = 50.0
AIM_BROADEST_MS = 1000.0

VOCAB_SIZE = 50_000
ZIPF_S = 1.0
START = datetime(2019, 1, 1, tzinfo=timezone.utc)
END = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)

# The head of the vocabulary, most frequent first (rank 1 = "the"). Every other rank up to VOCAB_SIZE is a
# made-up word, except the words placed at fixed ranks below.
HEAD = """the of and to a in that is for on said with as was by at it from be his are state an have this has but not
he bill they which law were would or their will been who more one police new also after had its house senate year
people about can than other governor public there all when we if up what into out time could last so some two
officials over department city just no use like only may first system data information under any our because
program how since week those million these should before through most federal agency local years made around
according many where percent while told report both between against during school
""".split()
HEAD = list(dict.fromkeys(HEAD))  # once each, in order
PLACED = {  # word -> rank: the campaign's words, at plausible frequencies
    "massachusetts": 40, "boston": 55, "committee": 70, "technology": 95, "face": 140, "hearing": 170,
    "legislature": 210, "privacy": 280, "recognition": 330, "surveillance": 420, "judiciary": 800,
    "facial": 2600, "moratorium": 3500, "biometric": 5200,
}
SYLLABLES = ("ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo ga ge gi go ha he hi ho ka ke ki ko la le "
             "li lo lu ma me mi mo mu na ne ni no nu pa pe pi po ra re ri ro ru sa se si so su ta te ti to tu va ve "
             "vi vo za ze zo ar er or an en in on al el il ol us os is at et").split()

# Bill numbers mentioned in articles: (as printed, canonical id, share of all articles). At most one per article.
BILL_MENTIONS = [("H.135", "ma/192/H135", 0.010), ("S.47", "ma/192/S47", 0.005), ("H.1728", "ma/193/H1728", 0.003),
                 ("S.927", "ma/193/S927", 0.002), ("H.1946", "ma/194/H1946", 0.003), ("S.1053", "ma/194/S1053", 0.002)]
# Phrases: (text, share of articles without a bill number, share of articles with one).
PHRASES = [("facial recognition", 0.0004, 0.01), ("face surveillance", 0.004, 0.20), ("state police", 0.05, 0.05)]
FULLTEXT_RATE = 0.05
NULL_PUBLISHED_RATE = 0.02
OUTLETS = ["The Boston Globe", "MassLive", "WBUR", "GBH News", "Boston Herald", "Telegram & Gazette",
           "The Berkshire Eagle", "Cape Cod Times", "The Lowell Sun", "The Patriot Ledger", "CommonWealth Beacon",
           "State House News Service", "ACLU of Massachusetts", "The Republican", "Worcester Business Journal",
           "Daily Hampshire Gazette", "The Salem News", "Gloucester Daily Times", "The Eagle-Tribune",
           "MetroWest Daily News", "The Standard-Times", "The Herald News", "The Enterprise",
           "Sentinel & Enterprise", "The Recorder", "Vineyard Gazette", "The Inquirer and Mirror",
           "Dorchester Reporter", "Bay State Banner", "Universal Hub"]
COMMITTEES = ["the Judiciary", "Public Safety and Homeland Security", "State Administration and Regulatory Oversight",
              "Advanced Information Technology, the Internet and Cybersecurity", "House Ways and Means",
              "Senate Ways and Means", "Health Care Financing", "Senate Rules"]
ACTION_TEMPLATES = [
    "Referred to the committee on {committee}", "Senate concurred", "House concurred",
    "Hearing scheduled for {day} from 10:00 AM-05:00 PM in {room}",
    "Hearing rescheduled to {day} from 01:00 PM-05:00 PM in Virtual Hearing",
    "Reporting date extended to {day}, pending concurrence", "Accompanied a study order, see {other}",
    "Bill reported favorably by committee and referred to the committee on {committee}",
    "New draft substituted, see {other}", "Read second and ordered to a third reading", "Passed to be engrossed",
    "Discharged to the committee on {committee}", "Committee recommended ought to pass",
]
ROOMS = ["A-1", "A-2", "B-1", "Gardner Auditorium", "Room 222", "Virtual Hearing"]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# --------------------------------------------------------------------------- synthetic corpus


class Corpus:
    """The vocabulary, its Zipf weights, and deterministic batches of articles."""

    def __init__(self, seed: int, n_articles: int):
        self.seed, self.n = seed, n_articles
        rng = random.Random(seed)
        ranked: list[str | None] = [None] * VOCAB_SIZE
        for word, rank in PLACED.items():
            ranked[rank - 1] = word
        head = iter(w for w in HEAD if w not in PLACED)
        for i in range(VOCAB_SIZE):
            if ranked[i] is None:
                ranked[i] = next(head, None)
                if ranked[i] is None:
                    break
        taken = set(w for w in ranked if w)
        for i in range(VOCAB_SIZE):
            if ranked[i] is None:
                while True:
                    word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3, 3, 4))))
                    if word not in taken:
                        break
                taken.add(word)
                ranked[i] = word
        self.words: list[str] = ranked  # type: ignore[assignment]
        self.cum = list(accumulate(1.0 / (r ** ZIPF_S) for r in range(1, VOCAB_SIZE + 1)))
        self.total = self.cum[-1]
        self.outlets = [(name, slug(name) + ".example") for name in OUTLETS]
        self.mention_cum = list(accumulate(share for _, _, share in BILL_MENTIONS))

    def word(self, rank: int) -> str:
        return self.words[rank - 1]

    def token_probability(self, rank: int) -> float:
        return (1.0 / rank ** ZIPF_S) / self.total

    def when(self, i: int, rng: random.Random) -> tuple[datetime | None, datetime]:
        """published_at (None for 2%) and first_seen_at of article i: in id order over the span, with jitter."""
        span = (END - START).total_seconds()
        seen = START + timedelta(seconds=span * (i - 1) / max(1, self.n - 1) + rng.uniform(0, 6 * 3600))
        seen = min(seen, END)
        if rng.random() < NULL_PUBLISHED_RATE:
            return None, seen
        return seen - timedelta(seconds=rng.uniform(0, 3 * 86400)), seen

    def batch(self, first_id: int, count: int, feed_ids: list[int], bill_ids: dict[str, int]):
        """Rows for articles first_id .. first_id+count-1: (articles, article_sources, article_bills).
        Each batch has its own seeded generator, so batches do not depend on each other."""
        rng = random.Random(self.seed * 1_000_003 + first_id)
        lengths = []
        for _ in range(count):
            full = rng.randint(150, 450) if rng.random() < FULLTEXT_RATE else 0
            lengths.append((rng.randint(6, 14), rng.randint(25, 70), full))
        need = sum(t + s + f for t, s, f in lengths)
        drawn = rng.choices(self.words, cum_weights=self.cum, k=need)
        articles, sources, links = [], [], []
        pos = 0
        for k, (nt, ns, nf) in enumerate(lengths):
            aid = first_id + k
            title = drawn[pos:pos + nt]
            pos += nt
            summary = drawn[pos:pos + ns]
            pos += ns
            full = drawn[pos:pos + nf]
            pos += nf
            published, seen = self.when(aid, rng)
            mention = None
            x = rng.random()
            j = bisect(self.mention_cum, x)
            if j < len(BILL_MENTIONS):
                mention = BILL_MENTIONS[j]
                field = "title" if rng.random() < 0.5 else "summary"
                target = title if field == "title" else summary
                target.insert(rng.randint(0, len(target)), mention[0])
                links.append({"article_id": aid, "bill_id": bill_ids[mention[1]],
                              "reason": f'number "{mention[0]}" in {field}', "term": mention[0], "field": field,
                              "kind": "number", "created_at": seen})
            for phrase, base, with_bill in PHRASES:
                if rng.random() < (with_bill if mention else base):
                    target = title if rng.random() < 0.3 else summary
                    at = rng.randint(0, len(target))
                    target[at:at] = phrase.split()
            outlet, domain = self.outlets[aid % len(self.outlets)]
            title_text = " ".join(title)
            title_text = title_text[:1].upper() + title_text[1:]
            url = f"https://{domain}/{seen:%Y/%m}/{'-'.join(title[:5])}-{aid}"
            articles.append({
                "id": aid, "url": url, "link": url + "?utm_source=rss", "title": title_text, "publisher": outlet,
                "author": None, "summary_html": None, "summary_text": sentences(summary),
                "full_text": paragraphs(full) if full else None, "published_at": published, "first_seen_at": seen,
                "cluster_id": None, "fetch_article": bool(full), "fulltext_fetched_at": seen if full else None,
                "fulltext_attempts": 1 if full else 0, "fulltext_error": None,
            })
            sources.append({"article_id": aid, "feed_id": feed_ids[aid % len(feed_ids)], "entry_url": url,
                            "guid": f"{domain}-{aid}", "publisher": outlet, "seen_at": seen, "snapshot_id": None})
        return articles, sources, links


def sentences(words: list[str], every: int = 12) -> str:
    out = []
    for i in range(0, len(words), every):
        s = " ".join(words[i:i + every])
        out.append(s[:1].upper() + s[1:] + ".")
    return " ".join(out)


def paragraphs(words: list[str]) -> str:
    text = sentences(words, 15)
    parts = text.split(". ")
    return "\n\n".join(". ".join(parts[i:i + 5]) for i in range(0, len(parts), 5))


def bill_rows(rng: random.Random, n_filler: int) -> list[dict]:
    created = START
    rows, seen = [], set()
    for _, canonical, _ in BILL_MENTIONS:
        seen.add(canonical)
    named = [c for _, c, _ in BILL_MENTIONS]
    filler = []
    while len(filler) < n_filler:
        c = f"ma/{rng.choice((192, 193, 194))}/{rng.choice('HS')}{rng.randint(1, 4999)}"
        if c not in seen:
            seen.add(c)
            filler.append(c)
    for c in named + filler:
        _, session, number = c.split("/")
        rows.append({"canonical": c, "session": int(session), "number": number, "title": f"An Act relative to {number}",
                     "committee": rng.choice(COMMITTEES), "status": "in-committee", "tracked": True,
                     "error_count": 0, "created_at": created,
                     "url": f"https://malegislature.gov/Bills/{session}/{number}"})
    return rows


def action_rows(rng: random.Random, bills: list[tuple[int, str]], per_bill: tuple[int, int]) -> list[dict]:
    rows = []
    for bill_id, canonical in bills:
        session = int(canonical.split("/")[1])
        day = date(2021 + (session - 192) * 2, 1, 15) + timedelta(days=rng.randint(0, 60))
        for position in range(rng.randint(*per_bill)):
            text = rng.choice(ACTION_TEMPLATES).format(
                committee=rng.choice(COMMITTEES), day=f"{day + timedelta(days=30):%m/%d/%Y}", room=rng.choice(ROOMS),
                other=f"{rng.choice('HS')}{rng.randint(4000, 5200)}")
            rows.append({"bill_id": bill_id, "position": position, "occurrence": 0, "date": day, "timestamp": None,
                         "branch": rng.choice(("House", "Senate", "Joint")), "action": text, "kinds": ["other"],
                         "snapshot_id": None, "first_seen_at": datetime.combine(day, datetime.min.time(), timezone.utc),
                         "removed_at": (datetime.combine(day, datetime.min.time(), timezone.utc)
                                        if rng.random() < 0.01 else None)})
            day += timedelta(days=rng.randint(1, 90))
    return rows


# --------------------------------------------------------------------------- loading


ARTICLE_COLUMNS = ["id", "url", "link", "title", "publisher", "author", "summary_html", "summary_text", "full_text",
                   "published_at", "first_seen_at", "cluster_id", "fetch_article", "fulltext_fetched_at",
                   "fulltext_attempts", "fulltext_error"]
SOURCE_COLUMNS = ["article_id", "feed_id", "entry_url", "guid", "publisher", "seen_at", "snapshot_id"]
LINK_COLUMNS = ["article_id", "bill_id", "reason", "term", "field", "kind", "created_at"]


def sqlite_article_triggers(conn) -> list[tuple[str, str]]:
    from sqlalchemy import text

    return [tuple(r) for r in conn.execute(text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'articles' ORDER BY name"))]


def pg_article_search_index(conn) -> str | None:
    from sqlalchemy import text

    return conn.execute(text("SELECT indexdef FROM pg_indexes WHERE tablename = 'articles' "
                             "AND indexname = 'ix_articles_search'")).scalar()


def load(engine, corpus: Corpus, n: int, batch_size: int, mode: str, n_bills: int, log=print) -> dict:
    """Fill a freshly migrated database. mode 'fast': SQLite without the articles FTS triggers, then
    'rebuild' and the triggers put back as they were; PostgreSQL without ix_articles_search (COPY), then the
    index created again from its own definition. 'plain': the triggers / the GIN index are live during the load."""
    from sqlalchemy import insert, text

    from db.models import Article, ArticleBill, ArticleSource, Bill, BillAction, Feed

    pg = engine.dialect.name == "postgresql"
    rng = random.Random(corpus.seed + 7)
    out: dict = {"mode": mode, "batch": batch_size}
    t_all = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(Feed.__table__), [
            {"name": slug(name), "url": f"https://{domain}/feed", "query": None, "active": True,
             "title": name, "error_count": 0, "created_at": START} for name, domain in corpus.outlets])
        feed_ids = [r[0] for r in conn.execute(text("SELECT id FROM feeds ORDER BY id"))]
        conn.execute(insert(Bill.__table__), bill_rows(rng, n_bills - len(BILL_MENTIONS)))
        bills = [(r[0], r[1]) for r in conn.execute(text("SELECT id, canonical FROM bills ORDER BY id"))]
        actions = action_rows(rng, bills, (4, 16))
        conn.execute(insert(BillAction.__table__), actions)
    out["bills"], out["bill_actions"] = len(bills), len(actions)
    bill_ids = {c: i for i, c in bills}

    saved_triggers: list[tuple[str, str]] = []
    saved_index = None
    with engine.begin() as conn:
        if pg:
            saved_index = pg_article_search_index(conn)
            if mode == "fast":
                conn.execute(text("DROP INDEX ix_articles_search"))
        else:
            saved_triggers = sqlite_article_triggers(conn)
            if mode == "fast":
                for name, _ in saved_triggers:
                    conn.execute(text(f"DROP TRIGGER {name}"))
    gen_s = insert_s = 0.0
    n_links = 0
    done = 0
    last_report = time.perf_counter()
    while done < n:
        count = min(batch_size, n - done)
        t0 = time.perf_counter()
        articles, sources, links = corpus.batch(done + 1, count, feed_ids, bill_ids)
        t1 = time.perf_counter()
        gen_s += t1 - t0
        with engine.begin() as conn:
            if pg:
                raw = conn.connection.driver_connection
                with raw.cursor() as cur:
                    for table, cols, rows in (("articles", ARTICLE_COLUMNS, articles),
                                              ("article_sources", SOURCE_COLUMNS, sources),
                                              ("article_bills", LINK_COLUMNS, links)):
                        if not rows:
                            continue
                        with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
                            for r in rows:
                                cp.write_row([r[c] for c in cols])
            else:
                conn.execute(insert(Article.__table__), articles)
                conn.execute(insert(ArticleSource.__table__), sources)
                if links:
                    conn.execute(insert(ArticleBill.__table__), links)
        insert_s += time.perf_counter() - t1
        n_links += len(links)
        done += count
        if time.perf_counter() - last_report > 30:
            last_report = time.perf_counter()
            log(f"  loaded {done:,} / {n:,} articles ({done / (time.perf_counter() - t_all):,.0f}/s)")
    out.update(generate_s=gen_s, insert_s=insert_s, article_bills=n_links)

    t0 = time.perf_counter()
    with engine.begin() as conn:
        if pg:
            for table in ("articles", "article_sources", "article_bills"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
            if mode == "fast":
                conn.execute(text(saved_index))
        elif mode == "fast":
            conn.execute(text("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')"))
            for _, sql in saved_triggers:
                conn.execute(text(sql))
    out["index_s"] = time.perf_counter() - t0
    with engine.begin() as conn:  # the schema is exactly what the migrations made
        if pg:
            assert pg_article_search_index(conn) == saved_index, "ix_articles_search differs from the migration's"
        else:
            assert sqlite_article_triggers(conn) == saved_triggers, "articles FTS triggers differ from the migration's"
    t0 = time.perf_counter()
    if pg:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    out["analyze_s"] = time.perf_counter() - t0
    out["total_s"] = time.perf_counter() - t_all
    return out


def fts_rebuild_check(engine) -> None:
    """SQLite: the FTS index agrees with the content table (FTS5 'integrity-check')."""
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)")


# --------------------------------------------------------------------------- queries


def query_set(corpus: Corpus) -> list[dict]:
    w = corpus.word
    h135, s47 = "ma/192/H135", "ma/192/S47"
    q = []

    def add(cls, query, **kw):
        q.append({"class": cls, "query": query, "kwargs": kw})

    for rank in (20_000, 30_000, 45_000):
        add("selective", w(rank))
    add("selective", '"facial recognition"')
    add("medium", w(100))
    add("medium", w(300))
    add("medium", "H.135")
    add("medium", f"{w(50)} {w(80)}")
    add("broad", w(1))
    add("broad", w(2))
    add("broad", w(3))
    add("broad", f"{w(1)} {w(3)}")
    add("phrase", '"face surveillance"')
    add("phrase", '"state police"')
    add("phrase", f'"{w(2)} {w(1)}"')
    add("filtered", w(1), bill=h135)
    add("filtered", "surveillance", bill=s47)
    add("filtered", w(1), since=END - timedelta(days=30))
    add("filtered", w(20_000), since=END - timedelta(days=365))
    add("filtered", "police", since=datetime(2022, 1, 1, tzinfo=timezone.utc),
        until=datetime(2022, 12, 31, 23, 59, tzinfo=timezone.utc))
    return q


def describe_query(item: dict) -> str:
    parts = [item["query"]]
    kw = item["kwargs"]
    if kw.get("bill") is not None:
        parts.append(f"bill={kw['bill']}")
    if kw.get("since") is not None:
        parts.append(f"since={kw['since']:%Y-%m-%d}")
    if kw.get("until") is not None:
        parts.append(f"until={kw['until']:%Y-%m-%d}")
    return " ".join(parts)


def count_matches(engine, item: dict) -> tuple[int, int]:
    """(matching articles, matching bill actions) for the query and its filters, as search() selects them
    but without a LIMIT. Not timed."""
    from sqlalchemy import text

    from db import articles, search as queries

    terms = queries.query_terms(item["query"])
    kw = item["kwargs"]
    params: dict = {}
    with engine.connect() as conn:
        from sqlalchemy.orm import Session

        s = Session(bind=conn)
        if engine.dialect.name == "postgresql":
            tsq = queries._pg_tsquery(terms, params)
            where, awhere = [f"a.search_vector @@ {tsq}"], [f"ba.search_vector @@ {tsq}", "ba.removed_at IS NULL"]
            afrom = "bill_actions ba"
            join = ""
        else:
            params["match"] = " ".join(f'"{t}"' for t in terms)
            where, awhere = ["articles_fts MATCH :match"], ["bill_actions_fts MATCH :match", "ba.removed_at IS NULL"]
            afrom = "bill_actions_fts JOIN bill_actions ba ON ba.id = bill_actions_fts.rowid"
            join = "JOIN articles_fts ON articles_fts.rowid = a.id"
        if kw.get("since") is not None:
            params["since"] = articles.time_param(s, kw["since"])
            params["since_day"] = kw["since"].date().isoformat()
            where.append("COALESCE(a.published_at, a.first_seen_at) >= :since")
            awhere.append("ba.date >= :since_day")
        if kw.get("until") is not None:
            params["until"] = articles.time_param(s, kw["until"])
            params["until_day"] = kw["until"].date().isoformat()
            where.append("COALESCE(a.published_at, a.first_seen_at) <= :until")
            awhere.append("ba.date <= :until_day")
        if kw.get("bill") is not None:
            params["bill"] = kw["bill"]
            where.append("a.id IN (SELECT ab.article_id FROM article_bills ab JOIN bills b ON b.id = ab.bill_id "
                         "WHERE b.canonical = :bill)")
            awhere.append("b.canonical = :bill")
        arts = conn.execute(text(f"SELECT count(*) FROM articles a {join} WHERE {' AND '.join(where)}"),
                            params).scalar_one()
        acts = conn.execute(text(f"SELECT count(*) FROM {afrom} JOIN bills b ON b.id = ba.bill_id "
                                 f"WHERE {' AND '.join(awhere)}"), params).scalar_one()
    return int(arts), int(acts)


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    xs = sorted(values)
    k = (len(xs) - 1) * p / 100.0
    f = math.floor(k)
    c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)


class StatementLog:
    """Engine events: each statement's text, parameters and time (execute only; rows fetched later are not in it)."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.engine, self.event = engine, event
        self.entries: list[tuple[str, object, float]] = []

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_t0", []).append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.entries.append((statement, parameters, time.perf_counter() - conn.info["bench_t0"].pop()))

    def __enter__(self):
        self.event.listen(self.engine, "before_cursor_execute", self._before)
        self.event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc):
        self.event.remove(self.engine, "before_cursor_execute", self._before)
        self.event.remove(self.engine, "after_cursor_execute", self._after)


def statement_kind(sql: str) -> str:
    if "FROM article_sources" in sql:
        return "sources"
    if "FROM article_bills ab JOIN bills b ON b.id = ab.bill_id" in sql and "FROM articles a" not in sql:
        return "bills"
    if "FROM articles a" in sql:
        return "articles"
    if "bill_actions" in sql:
        return "actions"
    return "other"


def run_search(sessions, item: dict):
    from db.search import search

    with sessions() as s:
        t0 = time.perf_counter()
        rows = search(s, item["query"], **item["kwargs"])
        return (time.perf_counter() - t0) * 1000.0, rows


def measure(engine, sessions, items: list[dict], reps: int, budget_s: float, log=print) -> None:
    for item in items:
        ms, rows = run_search(sessions, item)  # warm-up, not counted
        item["warmup_ms"] = ms
        item["results"] = len(rows)
        item["result_articles"] = sum(1 for r in rows if r["type"] == "article")
        item["result_actions"] = len(rows) - item["result_articles"]
        times = []
        start = time.perf_counter()
        for _ in range(reps):
            ms, _ = run_search(sessions, item)
            times.append(ms)
            if time.perf_counter() - start > budget_s and len(times) >= 3:
                break
        item["times_ms"] = times
        item["p50"], item["p95"], item["max"] = percentile(times, 50), percentile(times, 95), max(times)
        # where the time goes: the statements of 3 more calls, by kind
        per_kind: dict[str, list[float]] = defaultdict(list)
        for _ in range(min(3, len(times))):
            with StatementLog(engine) as slog:
                total, _ = run_search(sessions, item)
            kinds: dict[str, float] = defaultdict(float)
            for sql, _, t in slog.entries:
                kinds[statement_kind(sql)] += t * 1000
            kinds["python and fetch"] = total - sum(kinds.values())
            for k, v in kinds.items():
                per_kind[k].append(v)
        item["breakdown_ms"] = {k: statistics.median(v) for k, v in per_kind.items()}
        log(f"  {item['class']:<9} {describe_query(item):<44} n={len(times):<3} p50 {item['p50']:9.1f} ms  "
            f"p95 {item['p95']:9.1f} ms  max {item['max']:9.1f} ms  results {item['results']}")


# --------------------------------------------------------------------------- plans and probes


def capture_article_statement(engine, sessions, item: dict) -> tuple[str, object]:
    with StatementLog(engine) as slog:
        run_search(sessions, item)
    for sql, params, _ in slog.entries:
        if statement_kind(sql) == "articles":
            return sql, params
    raise RuntimeError("search() ran no article statement")


def timed_sql(engine, sql: str, params, runs: int = 3, budget_s: float = 20.0) -> tuple[float, int]:
    """Median ms of running a DBAPI-level statement and fetching every row; the row count."""
    times, n = [], 0
    start = time.perf_counter()
    for _ in range(runs):
        with engine.connect() as conn:
            t0 = time.perf_counter()
            n = len(conn.exec_driver_sql(sql, params).all())
            times.append((time.perf_counter() - t0) * 1000)
        if time.perf_counter() - start > budget_s:
            break
    return statistics.median(times), n


def without_snippet(sql: str) -> str:
    out = re.sub(r"snippet\(articles_fts[^)]*\) AS snip", "NULL AS snip", sql)
    out = re.sub(r"ts_headline\(.*?\) AS snip", "NULL AS snip", out, flags=re.S)
    return out


def explain(engine, sql: str, params) -> list[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, VERBOSE) " + sql, params).all()
            return [r[0] for r in rows]
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
        return [f"{r[0]:>3} {r[1]:>3} {r[3]}" for r in rows]


SQLITE_SORT_INDEX = ("CREATE INDEX bench_probe_articles_sort ON articles "
                     "(COALESCE(published_at, first_seen_at) DESC, id DESC)")
PG_SORT_INDEX = ("CREATE INDEX bench_probe_articles_sort ON articles "
                 "((COALESCE(published_at, first_seen_at)) DESC, id DESC)")


SQLITE_CAP = 20_000




def two_step(engine, sql: str, params, runs: int = 3, budget_s: float = 20.0) -> tuple[float, bool]:
    """SQLite: the article statement in two steps, the snippet only for the page. (median ms, same rows as
    the statement in one step)."""
    ids_sql = re.sub(r"SELECT a\.id, .*? FROM articles a", "SELECT a.id FROM articles a", sql, count=1, flags=re.S)
    times, rows = [], []
    start = time.perf_counter()
    for _ in range(runs):
        with engine.connect() as conn:
            t0 = time.perf_counter()
            ids = [r[0] for r in conn.exec_driver_sql(ids_sql, params)]
            page_sql = sql.replace("FROM articles a JOIN articles_fts", "FROM articles a CROSS JOIN articles_fts")
            page_sql = page_sql.replace("WHERE ", f"WHERE a.id IN ({','.join(str(int(i)) for i in ids) or 'NULL'}) "
                                        "AND ", 1)
            rows = conn.exec_driver_sql(page_sql, params).all()
            times.append((time.perf_counter() - t0) * 1000)
        if time.perf_counter() - start > budget_s:
            break
    with engine.connect() as conn:
        one = conn.exec_driver_sql(sql, params).all()
    return statistics.median(times), [tuple(r) for r in rows] == [tuple(r) for r in one]


def probes(engine, sessions, items: list[dict], everything: bool = False, log=print) -> list[dict]:
    """For each query that misses an aim (a selective one over 50 ms, any other over 1 s; every query with
    ``everything``): the plan of its article statement, and that statement timed as is and without the
    snippet column. Then, when any query was slow, every query again with an index on the sort key
    (created on this throwaway database and dropped again)."""
    pg = engine.dialect.name == "postgresql"
    out = []
    slow = [i for i in items if everything or (i["class"] == "selective" and i["p95"] > AIM_SELECTIVE_MS)
            or (i["class"] != "selective" and i["p95"] > AIM_BROADEST_MS)]
    if not slow:
        return out
    for item in slow:
        sql, params = capture_article_statement(engine, sessions, item)
        rec = {"query": describe_query(item), "class": item["class"], "p95": item["p95"]}
        rec["plan"] = explain(engine, sql, params)
        rec["as_search_ms"], _ = timed_sql(engine, sql, params)
        rec["no_snippet_ms"], _ = timed_sql(engine, without_snippet(sql), params)
        log(f"\nprobe: {rec['query']} ({item['class']}, p95 {item['p95']:.0f} ms)")
        log("  plan of the article statement:")
        for line in rec["plan"]:
            log("    " + line)
        log(f"  article statement as search() runs it: {rec['as_search_ms']:.1f} ms; "
            f"same without the snippet/headline column: {rec['no_snippet_ms']:.1f} ms")
        out.append(rec)
    # the sort index probe: created on this throwaway database, every query of the set timed with it, dropped
    with engine.connect() as conn:
        n_articles = int(conn.exec_driver_sql("SELECT count(*) FROM articles").scalar_one())
    log("\nprobe: an index on the sort key, COALESCE(published_at, first_seen_at) DESC, id DESC")
    with engine.begin() as conn:
        t0 = time.perf_counter()
        conn.exec_driver_sql(PG_SORT_INDEX if pg else SQLITE_SORT_INDEX)
        if pg:
            conn.exec_driver_sql("ANALYZE articles")
        log(f"  created in {time.perf_counter() - t0:.1f} s")
    try:
        for item in items:
            sql, params = capture_article_statement(engine, sessions, item)
            if pg:
                pg_probe(engine, item, sql, params, "probe_sort_index", log)
            else:
                # SQLite's planner always drives a MATCH query from the FTS table. The variants:
                # - date-order walk: the index newest first, FTS5 asked about each row (CROSS JOIN keeps that
                #   order), stopping at the LIMIT;
                # - two steps: the ids of the page without the snippet, then the page's rows and snippets;
                # - capped count: how many rows match, counting at most SQLITE_CAP (a cheap way to tell a broad
                #   query from a selective one before choosing between the two).
                variant = sql.replace("FROM articles a JOIN articles_fts ON articles_fts.rowid = a.id",
                                      "FROM articles a CROSS JOIN articles_fts ON articles_fts.rowid = a.id")
                ms, n_rows = timed_sql(engine, sql, params)
                two_ms, same = two_step(engine, sql, params)
                cap_sql = (f"SELECT count(*) FROM (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? "
                           f"LIMIT {SQLITE_CAP})")
                cap_ms, _ = timed_sql(engine, cap_sql, (params[0],))
                with engine.connect() as conn:
                    capped = conn.exec_driver_sql(cap_sql, (params[0],)).scalar_one()
                plan = explain(engine, variant, params)
                used = any("bench_probe_articles_sort" in line for line in plan)
                if capped >= SQLITE_CAP // 20 or n_articles <= 100_000:
                    vms, _ = timed_sql(engine, variant, params, runs=3, budget_s=10.0)
                    walk = f"date-order walk {vms:9.1f} ms (index {'used' if used else 'not used'})"
                else:  # it reads (nearly) every row of the index, 10-40 us each: many seconds at 1,000,000
                    vms, walk = None, "date-order walk skipped (it would read nearly every row)"
                item.update(probe_as_is_ms=ms, probe_date_walk_ms=vms, probe_two_step_ms=two_ms,
                            probe_capped_count_ms=cap_ms, probe_capped_count=capped)
                log(f"  {item['class']:<9} {describe_query(item):<44} as is {ms:9.1f} ms; "
                    f"two steps {two_ms:9.1f} ms{'' if same else ' (DIFFERENT ROWS)'}; {walk}; "
                    f"count to {SQLITE_CAP:,}: {capped:,} in {cap_ms:.1f} ms")
        if pg:
            log("\nprobe: the same index, and the statistics target of articles.search_vector raised from the "
                "default 100 to 1000")
            with engine.begin() as conn:
                t0 = time.perf_counter()
                conn.exec_driver_sql("ALTER TABLE articles ALTER COLUMN search_vector SET STATISTICS 1000")
                conn.exec_driver_sql("ANALYZE articles")
                log(f"  ANALYZE articles took {time.perf_counter() - t0:.1f} s")
            try:
                for item in items:
                    sql, params = capture_article_statement(engine, sessions, item)
                    pg_probe(engine, item, sql, params, "probe_sort_index_stats1000", log)
            finally:
                with engine.begin() as conn:
                    conn.exec_driver_sql("ALTER TABLE articles ALTER COLUMN search_vector SET STATISTICS -1")
                    conn.exec_driver_sql("ANALYZE articles")
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP INDEX bench_probe_articles_sort")
    return out


def scan_node(plan: list[str]) -> str:
    """The scan of articles in an EXPLAIN ANALYZE: its kind, and estimated vs actual rows."""
    for line in plan:
        m = re.search(r"((?:Parallel )?(?:Seq|Index|Index Only|Bitmap Heap) Scan(?: Backward)?)(?: using (\S+))? on "
                      r"(?:public\.)?articles a\b.*?rows=(\d+).*?actual time=\S+ rows=(\d+) loops=(\d+)", line)
        if m:
            kind, index, est, actual, loops = m.groups()
            return (f"{kind}{' using ' + index if index else ''}, estimated {int(est):,} rows, "
                    f"actual {int(actual) * int(loops):,}")
    return "?"


def pg_probe(engine, item: dict, sql: str, params, key: str, log) -> None:
    ms, _ = timed_sql(engine, sql, params)
    plan = explain(engine, sql, params)
    item[key + "_ms"] = ms
    item[key + "_plan"] = scan_node(plan)
    log(f"  {item['class']:<9} {describe_query(item):<44} article statement {ms:9.1f} ms; {item[key + '_plan']}")


# --------------------------------------------------------------------------- machine


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def machine_load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def machine_busy_s() -> float:
    try:
        with open("/proc/stat") as fh:
            f = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (f + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def machine_info() -> dict:
    import sqlalchemy

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
        status = subprocess.run(["git", "-C", str(ROOT), "status", "--short", "--", "db", "tracker"],
                                capture_output=True, text=True, timeout=10).stdout
        dirty = [line[3:] for line in status.splitlines() if line.strip()]
    return {"cpu": cpu, "nproc": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)), "memory_gb": mem,
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "sqlalchemy": sqlalchemy.__version__,
            "revision": os.environ.get("BENCH_REVISION") or revision, "dirty": dirty}


# --------------------------------------------------------------------------- report


def class_summary(items: list[dict]) -> list[dict]:
    out = []
    for cls in ("selective", "medium", "broad", "phrase", "filtered"):
        group = [i for i in items if i["class"] == cls]
        if not group:
            continue
        times = [t for i in group for t in i["times_ms"]]
        out.append({"class": cls, "queries": len(group), "runs": len(times), "p50": percentile(times, 50),
                    "p95": percentile(times, 95), "max": max(times),
                    "match_pct": (min(i["match_pct"] for i in group), max(i["match_pct"] for i in group))})
    return out


def fmt_ms(x: float) -> str:
    return f"{x:,.1f}" if x < 100 else f"{x:,.0f}"


def print_tables(backend: str, n: int, items: list[dict], summary: list[dict]) -> None:
    print(f"\n{backend}, {n:,} articles: every query (ms; results = rows search() returned, articles + actions;"
          " matching = articles that match without the LIMIT)")
    print("| class | query | runs | p50 | p95 | max | results | matching articles | matching actions | "
          "article statement | actions statement | rest |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for i in items:
        b = i["breakdown_ms"]
        rest = sum(v for k, v in b.items() if k not in ("articles", "actions"))
        print(f"| {i['class']} | `{describe_query(i)}` | {len(i['times_ms'])} | {fmt_ms(i['p50'])} | "
              f"{fmt_ms(i['p95'])} | {fmt_ms(i['max'])} | {i['result_articles']} + {i['result_actions']} | "
              f"{i['matching_articles']:,} ({i['match_pct']:.3g}%) | {i['matching_actions']:,} | "
              f"{fmt_ms(b.get('articles', 0))} | {fmt_ms(b.get('actions', 0))} | {fmt_ms(rest)} |")
    print(f"\n{backend}, {n:,} articles: by class (all runs of the class's queries together)")
    print("| class | queries | runs | p50 ms | p95 ms | max ms | articles matching | aim (p95) |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    for c in summary:
        lo, hi = c["match_pct"]
        aim = ""
        if c["class"] == "selective":
            aim = f"< {AIM_SELECTIVE_MS:.0f} ms: {'met' if c['p95'] < AIM_SELECTIVE_MS else 'MISSED'}"
        print(f"| {c['class']} | {c['queries']} | {c['runs']} | {fmt_ms(c['p50'])} | {fmt_ms(c['p95'])} | "
              f"{fmt_ms(c['max'])} | {lo:.3g}–{hi:.3g}% | {aim} |")
    broadest = max(items, key=lambda i: (i["matching_articles"], -len(i["kwargs"])))
    print(f"\nbroadest query: `{describe_query(broadest)}` ({broadest['match_pct']:.3g}% of articles): "
          f"p95 {fmt_ms(broadest['p95'])} ms; aim < {AIM_BROADEST_MS:.0f} ms: "
          f"{'met' if broadest['p95'] < AIM_BROADEST_MS else 'MISSED'}")


def baseline_without_0015(engine, sessions, items: list[dict], reps: int, budget_s: float,
                          summary: list[dict]) -> dict:
    """The same queries on the same data as migration 0014 left PostgreSQL: no sort index, the default
    statistics target on ``search_vector``; printed next to the figures just measured (with 0015)."""
    from sqlalchemy import text

    with engine.begin() as conn:  # what 0015's downgrade does
        conn.execute(text("ALTER TABLE articles ALTER COLUMN search_vector SET STATISTICS -1"))
        conn.execute(text("DROP INDEX ix_articles_sort"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE articles"))
    before = [dict(i, times_ms=[], breakdown_ms={}) for i in items]
    print("\nbaseline: measuring again without migration 0015 (sort index dropped, default statistics) ...")
    measure(engine, sessions, before, reps, budget_s)
    base = class_summary(before)
    print("\n| class | p50 ms with 0015 | p95 ms with 0015 | p50 ms baseline (0014) | p95 ms baseline (0014) |")
    print("|---|---:|---:|---:|---:|")
    for now, old in zip(summary, base):
        print(f"| {now['class']} | {fmt_ms(now['p50'])} | {fmt_ms(now['p95'])} | {fmt_ms(old['p50'])} | "
              f"{fmt_ms(old['p95'])} |")
    worst_now = max(items, key=lambda i: (i["matching_articles"], -len(i["kwargs"])))
    worst_old = before[items.index(worst_now)]
    print(f"broadest query `{describe_query(worst_now)}`: p95 {fmt_ms(worst_now['p95'])} ms with 0015, "
          f"{fmt_ms(worst_old['p95'])} ms without")
    return {"classes": base, "broadest_p95_ms": worst_old["p95"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=1_000_000, help="synthetic articles (default 1,000,000)")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--db", type=Path, help="SQLite file to create (must not exist; it is kept)")
    where.add_argument("--db-url", metavar="URL",
                       help="a PostgreSQL server: a fresh bench_search_<UTC time>_<pid> database is created on it "
                            "and dropped at the end")
    where.add_argument("--reuse", metavar="URL",
                       help="a database an earlier --keep run loaded with the same --articles and --seed: "
                            "skip the load, measure only")
    ap.add_argument("--keep", action="store_true", help="keep the database (temporary SQLite file or --db-url one)")
    ap.add_argument("--load", choices=("fast", "plain"), default="fast",
                    help="fast (default): SQLite loads without the articles FTS triggers, then 'rebuild' and the "
                         "triggers back; PostgreSQL COPYs without ix_articles_search and creates it after. plain: "
                         "triggers / index live during the load")
    ap.add_argument("--batch", type=int, default=10_000, help="rows per executemany / COPY (default 10,000)")
    ap.add_argument("--bills", type=int, default=400, help="bills (default 400), each with 4-16 actions")
    ap.add_argument("--seed", type=int, default=6, help="random seed of the corpus (default 6)")
    ap.add_argument("--reps", type=int, default=12, help="timed runs of each query after one warm-up (default 12)")
    ap.add_argument("--query-budget", type=float, default=60.0,
                    help="stop repeating a query after this many seconds, once it has 3 runs (default 60)")
    ap.add_argument("--classes", help="comma-separated query classes to run (default all)")
    ap.add_argument("--probes", choices=("auto", "all", "none"), default="auto",
                    help="auto (default): plans and probes when a query misses an aim; all: for every query; none")
    ap.add_argument("--integrity-check", action="store_true", help="SQLite: run FTS5 'integrity-check' after the load")
    ap.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    ap.add_argument("--baseline", action="store_true",
                    help="PostgreSQL: afterwards undo migration 0015 on the throwaway database (drop the sort "
                         "index, default statistics, ANALYZE) and measure the same queries again, as the baseline")
    args = ap.parse_args(argv)
    if args.db is not None and args.db.exists():
        ap.error(f"{args.db} exists; --db creates a new SQLite file (use --reuse sqlite:///{args.db} to measure it)")

    from db.engine import make_engine, session_factory
    from db.migrate import upgrade

    m = machine_info()
    print(f"machine: {m['cpu']}, nproc {m['nproc']} ({m['usable_cores']} usable), {m['memory_gb']} GB RAM, "
          f"{m['os']}; Python {m['python']}, SQLite {m['sqlite']}, SQLAlchemy {m['sqlalchemy']}; code {m['revision']}"
          + (f" + uncommitted changes in {', '.join(m['dirty'])}" if m["dirty"] else "")
          + f"; load average {machine_load()}")
    corpus = Corpus(args.seed, args.articles)
    result: dict = {"machine": m, "articles": args.articles, "seed": args.seed}
    if args.reuse:
        ctx = contextlib.nullcontext(None)
    else:
        ctx = benchdb.BenchDatabase("search", path=args.db, server_url=args.db_url, keep=args.keep or bool(args.db))
    with ctx as bdb:
        url = args.reuse or bdb.url
        engine = make_engine(url)
        info = benchdb.describe(engine)
        print(f"database: {info['label']} at {bdb.where() if bdb else benchdb.redact(url)}{benchdb.settings_note(info)}")
        result["database"] = info
        if not args.reuse:
            upgrade(engine)
            print(f"loading {args.articles:,} articles ({args.load} load, batches of {args.batch:,}) ...")
            stats = load(engine, corpus, args.articles, args.batch, args.load, args.bills)
            if args.integrity_check and engine.dialect.name == "sqlite":
                t0 = time.perf_counter()
                fts_rebuild_check(engine)
                stats["integrity_check_s"] = time.perf_counter() - t0
            stats["size_bytes"] = benchdb.size_bytes(engine)
            result["load"] = stats
            index_what = ("FTS5 'rebuild' + triggers" if engine.dialect.name == "sqlite"
                          else "CREATE INDEX ix_articles_search (GIN)") if args.load == "fast" else "(live during load)"
            print(f"load: {stats['total_s']:.1f} s in all ({args.articles / stats['total_s']:,.0f} articles/s): "
                  f"generate {stats['generate_s']:.1f} s, insert {stats['insert_s']:.1f} s, "
                  f"index {stats['index_s']:.1f} s {index_what}, "
                  f"{'VACUUM ANALYZE' if engine.dialect.name == 'postgresql' else 'WAL checkpoint'} "
                  f"{stats['analyze_s']:.1f} s; {stats['bills']} bills, {stats['bill_actions']:,} actions, "
                  f"{stats['article_bills']:,} article_bills; database {stats['size_bytes'] / 1e6:,.0f} MB")
        from sqlalchemy import text

        with engine.connect() as conn:
            have = conn.execute(text("SELECT count(*) FROM articles")).scalar_one()
        if have != args.articles:
            print(f"the database has {have:,} articles, not {args.articles:,}")
            return 1
        sessions = session_factory(engine)
        items = query_set(corpus)
        if args.classes:
            wanted = set(args.classes.split(","))
            items = [i for i in items if i["class"] in wanted]
        t0 = time.perf_counter()
        for item in items:
            item["matching_articles"], item["matching_actions"] = count_matches(engine, item)
            item["match_pct"] = 100.0 * item["matching_articles"] / args.articles
        print(f"counted the matches of {len(items)} queries in {time.perf_counter() - t0:.1f} s (not timed below)")
        bad = [i for i in items if i["class"] == "selective" and i["match_pct"] >= 0.1]
        for i in bad:
            print(f"warning: the selective query {describe_query(i)} matches {i['match_pct']:.3g}% of articles")
        print(f"measuring search() ({args.reps} runs per query after a warm-up, at most ~{args.query_budget:.0f} s "
              "per query) ...")
        busy0, cpu0, load0 = machine_busy_s(), cpu_s(), machine_load()
        backends0 = benchdb.backend_cpu(engine)
        t0 = time.perf_counter()
        measure(engine, sessions, items, args.reps, args.query_budget)
        wall = time.perf_counter() - t0
        server_cpu = benchdb.backend_cpu_delta(backends0, benchdb.backend_cpu(engine))
        own = cpu_s() - cpu0
        other = machine_busy_s() - busy0 - own - server_cpu
        noise = (f"measuring took {wall:.0f} s; this process used {own:.0f} CPU s"
                 + (f", the server's backends {server_cpu:.0f} CPU s" if engine.dialect.name != "sqlite" else "")
                 + f", other processes {other:.0f} CPU s; load average {load0} before, {machine_load()} after")
        print(noise)
        result["measure"] = {"wall_s": wall, "own_cpu_s": own, "server_cpu_s": server_cpu, "other_cpu_s": other}
        summary = class_summary(items)
        print_tables(info["label"], args.articles, items, summary)
        if args.probes != "none":
            result["probes"] = probes(engine, sessions, items, everything=args.probes == "all")
        result["queries"] = [{k: (describe_query(i) if k == "kwargs" else v) for k, v in i.items()} for i in items]
        result["classes"] = summary
        if args.baseline and engine.dialect.name == "postgresql":
            result["baseline"] = baseline_without_0015(engine, sessions, items, args.reps, args.query_budget, summary)
        engine.dispose()
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
