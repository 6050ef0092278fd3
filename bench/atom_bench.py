#!/usr/bin/env python3
"""Atom benchmark and check (issue 21): our ElementTree writer against the feedgen candidate.

Needs ``pip install feedgen`` (the candidate only; the project does not depend on it).

Data: a fresh database (a SQLite file, or with ``--db-url`` a fresh ``bench_atom_*`` database on that
PostgreSQL server, dropped at the end) holding 20 bills and ``max(--entries)`` + 100 events of every kind the
feeds show: bill actions (dated only: published at midnight in Boston), hearings (start, end, place), news
matches with their article (links with ``?a=1&b=2``), status changes and source failures (no bill); times
with microseconds, as ``now()`` records them; every fifth summary and bill title with markup, ``&``, quotes
and control characters. With ``--from-db URL`` the rows come from that database instead (e.g. the demo's:
``tracker demo --dir DIR`` leaves ``DIR/demo.sqlite``), read only.

Check: for the event log and every bill's feed (``db.events.feed_entries``, at each ``--entries`` limit) the
document is built by ``tracker.web.syndication.atom_feed`` (ours) and by ``bench/atom_feedgen.feedgen_feed``
twice: feedgen as it is (``plain``) and with the times kept in our form (``zulu``). Each is read back with
feedparser (never bozo) and compared with ours field by field, as a reader keeps it: feed id, title (and its
type), subtitle, updated (text and parsed), author, generator, links (rel, type, href); per entry in order:
id, title, link, links, updated and published (text and parsed), summary, content (type, value), categories.
Then the XML itself, element by element (tag, attributes, text; order of siblings ignored), to show what the
reader view hides. Prints each difference with how many times it occurred and one example.

Timed: building the document from the rows already fetched (the only work that differs), ``--runs`` rounds,
ours and both candidates interleaved in each round: median and p95 in ms; beside it the part both share
(the entries' text, ``_entry_text``), and the query (``feed_entries``) for scale.

    flock /tmp/bench.lock .venv/bin/python bench/atom_bench.py --entries 100 500
    .venv/bin/python bench/atom_bench.py --from-db sqlite:///DIR/demo.sqlite --entries 500 --runs 0
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import benchdb  # noqa: E402  (bench/ is first on sys.path when run as a script)
import feedgen.version  # noqa: E402
import feedparser  # noqa: E402
from atom_feedgen import feedgen_feed  # noqa: E402
from lxml import etree  # noqa: E402

from db.engine import make_engine, session_factory  # noqa: E402
from db.events import feed_entries  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Article, Bill, Event  # noqa: E402
from tracker.web.syndication import EPOCH, _entry_link, _entry_text, atom_feed  # noqa: E402

NOW = datetime(2026, 11, 30, 15, 0, 0, 417_263, tzinfo=timezone.utc)
NASTY = 'An Act <script>alert("x")</script> & regulate\x01 face\x0b surveillance'
KINDS = ["bill.action", "bill.action", "hearing.scheduled", "article.matched", "article.matched", "bill.status",
         "source.failing", "bill.text"]


# -- data ----------------------------------------------------------------------------------------------------


def populate(sessions, events: int) -> None:
    with sessions.begin() as s:
        bills = []
        for i in range(20):
            bill = Bill(canonical=f"ma/194/H{100 + i}", session=194, number=f"H{100 + i}", tracked=True,
                        error_count=0, created_at=NOW - timedelta(days=400), status="in-committee",
                        title=NASTY if i % 5 == 0 else f"An Act relative to subject {i}",
                        committee="The Judiciary", url=f"https://malegislature.gov/Bills/194/H{100 + i}")
            s.add(bill)
            bills.append(bill)
        s.flush()
        for i in range(events):
            kind, bill = KINDS[i % len(KINDS)], bills[i % len(bills)]
            at = NOW - timedelta(minutes=37 * i, microseconds=(i * 7919) % 1_000_000)
            odd = " <b>&</b> \x02 \"q\"" if i % 5 == 0 else ""
            fields = dict(kind=kind, at=at, bill_id=bill.id, summary=f"{bill.number}: event {i}{odd}", payload={})
            if kind == "bill.action":
                on = (at - timedelta(days=3)).date()
                fields.update(occurred_on=on, payload={"date": on.isoformat(), "branch": "House",
                                                       "action": f"Reported favorably {i}{odd}"})
            elif kind == "hearing.scheduled":
                starts = datetime(2026, 1, 5, 15, 0, tzinfo=timezone.utc) + timedelta(days=i)
                fields.update(occurred_on=at.date(), payload={
                    "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=2)).isoformat(),
                    "location": f"Room A-{i}{odd}", "status": "scheduled"})
            elif kind == "article.matched":
                article = Article(url=f"https://news.example/{i}", link=f"https://news.example/{i}/?a=1&b=2",
                                  title=f"Story {i}{odd}", publisher="News", summary_text="",
                                  published_at=at - timedelta(hours=5), first_seen_at=at, fetch_article=False,
                                  fulltext_attempts=0)
                s.add(article)
                s.flush()
                fields.update(article_id=article.id, occurred_at=article.published_at, payload={
                    "url": article.url, "title": article.title, "reason": f'number "{bill.number}" in title'})
            elif kind == "source.failing":
                fields.update(bill_id=None, occurred_at=at - timedelta(hours=1),
                              payload={"kind": "feed", "problem": "HTTP 503"})
            elif kind == "bill.status":
                fields["payload"] = {"old": "filed", "new": "in-committee"}
            s.add(Event(**fields))


def feeds(s, limit: int):
    """(name, atom_feed keyword arguments) for the event log and every bill's feed, as the routes build them."""
    common = dict(title="Campaign: every event", subtitle="Bill actions, hearings, status changes and news",
                  author="Campaign")
    yield "events", dict(common, feed_id="tag:bench.example,2021:events", self_path="/events.atom",
                         alternate="https://bench.example/", rows=feed_entries(s, None, limit), fallback_updated=EPOCH)
    for bill in s.query(Bill).order_by(Bill.canonical):
        yield bill.canonical, dict(common, feed_id=f"tag:bench.example,2021:bills/{bill.canonical}",
                                   title=f"{bill.number}: {bill.title or ''}", self_path=f"/bills/{bill.canonical}/feed.atom",
                                   alternate=bill.url, rows=feed_entries(s, bill.canonical, limit),
                                   fallback_updated=bill.created_at or EPOCH)


# -- the reader's view and the document ----------------------------------------------------------------------


def reader_view(body: bytes) -> dict:
    f = feedparser.parse(body)
    if f.bozo:
        raise SystemExit(f"feedparser calls a document malformed: {f.bozo_exception}")

    def links(d):
        return sorted((ln.get("rel"), ln.get("type"), ln.get("href")) for ln in d.get("links", []))

    def detail(d, key):
        return (d.get(key), d[f"{key}_detail"].type) if key in d else None

    feed = f.feed
    view = {"version": f.version, "feed.id": feed.get("id"), "feed.title": detail(feed, "title"),
            "feed.subtitle": detail(feed, "subtitle"), "feed.updated": feed.get("updated"),
            "feed.updated_parsed": feed.get("updated_parsed"), "feed.author": feed.get("author"),
            "feed.generator": feed.get("generator"), "feed.links": links(feed), "entries": len(f.entries)}
    for i, e in enumerate(f.entries):
        for key in ("id", "link", "updated", "updated_parsed", "published", "published_parsed"):
            view[f"entry.{key}", i] = e.get(key)
        view["entry.title", i] = detail(e, "title")
        view["entry.summary", i] = detail(e, "summary")
        view["entry.links", i] = links(e)
        view["entry.content", i] = [(c.type, c.value) for c in e.get("content", [])]
        view["entry.categories", i] = [t.term for t in e.get("tags", [])]
    return view


def document_view(body: bytes) -> Counter:
    """Every element as (path, attributes, text), counted: the document with its sibling order left out."""
    root = etree.fromstring(body)
    seen: Counter = Counter()
    for el in root.iter():
        path = "/".join(etree.QName(a).localname for a in reversed(list(el.iterancestors())))
        path = f"{path}/{etree.QName(el).localname}".lstrip("/")
        seen[path, tuple(sorted(el.attrib.items())), (el.text or "").strip() if len(el) == 0 else ""] += 1
    return seen


def differences(ours: bytes, theirs: bytes, tally: dict) -> int:
    """Adds what differs to ``tally``; answers how many reader fields were compared."""
    a, b = reader_view(ours), reader_view(theirs)
    for key in a.keys() | b.keys():
        if a.get(key) != b.get(key):
            name = key[0] if isinstance(key, tuple) else key
            tally.setdefault(("reader", name), [0, (a.get(key), b.get(key))])[0] += 1
    da, db = document_view(ours), document_view(theirs)
    only_ours, only_theirs = da - db, db - da
    for (path, attrs, text), n in only_theirs.items():
        same_text = [k for k in only_ours if k[0] == path and k[2] == text]
        same_attrs = [k for k in only_ours if k[0] == path and k[1] == attrs]
        was = (same_text or same_attrs or [k for k in only_ours if k[0] == path] or [(path, None, None)])[0]
        what = []
        if was[1] is not None and was[1] != attrs:
            lost = sorted(set(dict(was[1])) - set(dict(attrs)))
            what.append(f"attributes lost: {', '.join(lost)}" if lost else "attributes differ")
        if was[2] is not None and was[2] != text:
            what.append("text differs")
        key = ("document", f"{path}: {'; '.join(what) or 'new element'}")
        tally.setdefault(key, [0, (was[1:], (attrs, text))])[0] += n
    if db.total() != da.total():
        tally.setdefault(("document", "element count differs"), [0, (da.total(), db.total())])[0] += 1
    return len(a.keys() | b.keys())


def check(s, limits: list[int]) -> dict[str, dict]:
    results = {}
    for variant, zulu in (("plain", False), ("zulu", True)):
        tally: dict = {}
        documents = entries = fields = 0
        for limit in limits:
            for _name, kw in feeds(s, limit):
                ours = atom_feed("https://bench.example", "bench.example", **kw)
                theirs = feedgen_feed("https://bench.example", "bench.example", zulu=zulu, **kw)
                fields += differences(ours, theirs, tally)
                documents += 1
                entries += len(kw["rows"])
        results[variant] = {"documents": documents, "entries": entries, "fields": fields, "tally": tally}
    return results


def print_check(results: dict) -> None:
    for variant, r in results.items():
        differ = sum(n for (side, _), (n, _) in r["tally"].items() if side == "reader")
        print(f"\nfeedgen {variant} against ours: {r['documents']} documents, {r['entries']} entries; "
              f"feedparser's view: {differ} of {r['fields']} fields differ")
        if not r["tally"]:
            print("  identical, for feedparser and element by element")
        for (side, name), (n, example) in sorted(r["tally"].items()):
            print(f"  {side:8} {name}: {n}x   e.g. ours {str(example[0])[:90]!s} | feedgen {str(example[1])[:90]!s}")


# -- timing --------------------------------------------------------------------------------------------------


def _ms(samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(0.95 * len(samples)))]
    return f"{statistics.median(samples) * 1000:8.2f} {p95 * 1000:8.2f}"


def timing(s, limit: int, runs: int) -> None:
    name, kw = next(feeds(s, limit))
    rows = kw["rows"]
    q = []
    for _ in range(max(3, runs // 5)):
        t = time.perf_counter()
        feed_entries(s, None, limit)
        q.append(time.perf_counter() - t)
    writers = {"ours (ElementTree)": atom_feed, "feedgen, times as ours (zulu)": partial(feedgen_feed, zulu=True),
               "feedgen as it is (plain)": partial(feedgen_feed, zulu=False)}
    times: dict[str, list[float]] = {k: [] for k in writers}
    shared = []
    for w in writers.values():  # warm-up
        w("https://bench.example", "bench.example", **kw)
    for _ in range(runs):
        for label, w in writers.items():
            t = time.perf_counter()
            w("https://bench.example", "bench.example", **kw)
            times[label].append(time.perf_counter() - t)
        t = time.perf_counter()
        for ev, bill, url in rows:
            _entry_text(ev, bill, _entry_link(ev, bill, url))
        shared.append(time.perf_counter() - t)
    base = statistics.median(times["ours (ElementTree)"])
    print(f"\n{name} feed of {len(rows)} entries, {runs} rounds   median ms / p95 ms / ÷ ours")
    for label, samples in times.items():
        print(f"  {label:32} {_ms(samples)}   {statistics.median(samples) / base:5.2f}")
    print(f"  {'the entries text (in both)':32} {_ms(shared)}")
    print(f"  {'feed_entries query (for scale)':32} {_ms(q)}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--entries", type=int, nargs="+", default=[100, 500], help="feed sizes (100 is what the routes serve)")
    p.add_argument("--runs", type=int, default=40, help="timed rounds per size (0: the check only)")
    p.add_argument("--db-url", help="a PostgreSQL server URL: the data goes in a fresh database there")
    p.add_argument("--from-db", help="read the rows from this existing database instead (e.g. the demo's)")
    args = p.parse_args()

    print(f"python {platform.python_version()}, feedgen {feedgen.version.version_str}, "
          f"nproc {os.cpu_count()}, load {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    if args.from_db:
        engine = make_engine(args.from_db)
        run(session_factory(engine), args, f"rows of {benchdb.redact(args.from_db)}")
        engine.dispose()
        return
    with benchdb.BenchDatabase("atom", server_url=args.db_url) as bdb:
        engine = make_engine(bdb.url)
        upgrade(engine)
        sessions = session_factory(engine)
        populate(sessions, max(args.entries) + 100)
        run(sessions, args, f"generated rows in {bdb.where()}")
        engine.dispose()


def run(sessions, args, where: str) -> None:
    print(where)
    with sessions() as s:
        print_check(check(s, args.entries))
        if args.runs:
            for limit in args.entries:
                timing(s, limit, args.runs)
    print(f"\nload after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
