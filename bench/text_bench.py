#!/usr/bin/env python3
"""Text benchmark (issue 18): comparing two 30,000-word bills, and text search over 10,000 bill texts.

The issue's targets: "comparing two 30,000-word bills takes under 200 ms; text search over 10,000 bill texts
answers a selective query with p95 under 50 ms on both backends".

Data, generated at run time with fixed seeds (nothing is kept in git): bill texts as they are stored, i.e.
normalised by ``spiders.billtext_parse.normalise_text`` (one paragraph a line): the enacting clause, then
"SECTION N." sections of one to six paragraphs built from legal-ish sentence patterns ("Notwithstanding any
general or special law to the contrary, the department of public health shall ...", definitions, penalties,
amendments of the General Laws, commissions, reports) whose slots are filled from word lists and from 3,000
made-up words drawn with a Zipf frequency (names of programs, districts, funds).

(a) Compare: one text of ``--words`` words (30,000) in ``--sections`` sections (60), and a new draft of it that
    removes one section, adds one, moves one and makes scattered word edits (replace, delete, insert) in
    eight sections, ``--edit-share`` (2%) of the words in all; the new draft is renumbered 1..N as a real one
    is. Timed: ``tracker.texts.compare.compare(old, new)``, ``--compare-runs`` runs (20), median and p95.
    Baseline in the same run: a one-piece comparison with no section alignment, ``difflib.SequenceMatcher(None,
    old.split(), new.split()).get_opcodes()`` (difflib's defaults, so autojunk on), ``--baseline-runs`` runs.
    Checks: the redline's removed, added and moved sections are exactly the ones generated (by number, old
    and new), the changed ones exactly the edited ones; median under 200 ms.

(b) Text search: ``--texts`` texts (10,000) of 1,000 to 5,000 words, a few with a rare selective phrase, each
    recorded with ``db.texts.record_text`` as version 1 of its own bill (``Bill`` rows ``ma/193/H1`` ...,
    500 a transaction), so the blobs, versions and index pieces (``bill_text_chunks``, which the FTS5
    triggers or PostgreSQL's generated tsvector read) are exactly the real ones. A fresh SQLite file, and with
    ``--db-url`` a fresh ``bench_texts_*`` PostgreSQL database (dropped at the end); then ``VACUUM ANALYZE``
    (PostgreSQL) or a WAL checkpoint (SQLite). Timed: ``db.search.search(s, query, kind="text")`` (limit 50,
    a new ORM session each call) for each query, ``--runs`` times (200) after 3 warm-up calls: p50/p95/max.
    The queries: a rare phrase of moderately common words; a rare word and a common word; a rare phrase of two
    common words. Baseline in the same run: the same query as ``LIKE '%phrase%'`` (``ILIKE`` on PostgreSQL)
    over the stored chunk bodies, no index, joined to the versions (``--like-runs`` runs, 5).
    Checks: the bills found are exactly the bills whose index pieces hold the query (found by tokenising the
    generated texts in Python, piece by piece as ``db.texts.chunks`` cuts them); the LIKE baseline finds the
    same; p95 under 50 ms per query on each backend. Bills that hold all the words of a query only in
    different sections are counted and printed: the index is by section, so ``search`` does not find them.

Exit status 1 when a check fails (the targets are checks).

    PYTHONPATH=. .venv/bin/python bench/text_bench.py
    PYTHONPATH=. .venv/bin/python bench/text_bench.py --db-url postgresql+psycopg://postgres@127.0.0.1:55440/postgres
    PYTHONPATH=. .venv/bin/python bench/text_bench.py --texts 1000 --only compare --profile /tmp/prof

This is a benchmark, not a test; see bench/README.md, "Text benchmark (issue 18)".
"""

from __future__ import annotations

import argparse
import cProfile
import difflib
import json
import pstats
import random
import re
import statistics
import sys
import time
from bisect import bisect
from datetime import datetime, timedelta, timezone
from itertools import accumulate
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/text_bench.py` from anywhere
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchdb, crawl_bench
import benchdb  # noqa: E402
import crawl_bench  # noqa: E402  (machine_info, machine_load, _print_profile)

AIM_COMPARE_MS = 200.0  # median
AIM_SEARCH_MS = 50.0  # p95
SEED = "text-bench/18"
SESSION = 193
T0 = datetime(2025, 2, 1, 12, 0, tzinfo=timezone.utc)
LIMIT = 50

# --------------------------------------------------------------------------- the generator

ENACTING = ("Be it enacted by the Senate and House of Representatives in General Court assembled, and by the "
            "authority of the same, as follows:")
AGENCIES = [
    "the department of public health", "the executive office of public safety and security",
    "the secretary of the commonwealth", "the attorney general", "the department of state police",
    "the department of elementary and secondary education", "the office of the inspector general",
    "the registry of motor vehicles", "the division of insurance", "the department of environmental protection",
    "the executive office of health and human services", "the department of correction",
    "the office of the child advocate", "the department of housing and community development",
    "the massachusetts department of transportation", "the board of registration in medicine",
    "the department of revenue", "the comptroller", "the state auditor", "the department of children and families",
    "the executive office of technology services and security", "the department of labor standards",
    "each city and town", "every school committee", "the state treasurer", "the municipal police training committee",
]
DUTIES = [
    "shall promulgate regulations to implement", "shall establish and maintain", "may require", "shall not use",
    "shall report annually to the clerks of the senate and house of representatives on", "shall publish",
    "may enter into agreements for", "shall review and update", "shall maintain a public record of",
    "shall make available on its website", "shall not disclose", "may impose a civil penalty for",
    "shall develop guidelines for", "shall conduct an annual audit of", "shall certify",
    "shall collect and analyze data on", "may apply for federal funds to support", "shall not contract for",
]
OBJECTS = [
    "the use of {tech} by any public agency", "all records relating to {thing}", "a program of {thing}",
    "the {made} fund established under section {n}", "any {tech} acquired with public funds",
    "the minimum standards for {thing}", "an inventory of {tech}", "a plan for {thing} in the {made} district",
    "the training of personnel responsible for {thing}", "the costs of {thing}", "a grant program for {thing}",
    "any agreement with a vendor of {tech}", "the data collected through {tech}", "the {made} program",
    "reasonable accommodations for {thing}", "the retention schedule for {thing}",
]
TECH = [
    "automated license plate readers", "body-worn cameras", "surveillance technology", "cell site simulators",
    "drones", "predictive policing software", "electronic monitoring devices", "data analytics platforms",
    "video recording systems", "recognition software", "geolocation tracking", "communications equipment",
    "information systems", "a face covering detection system", "an emergency notification system",
]
THINGS = [
    "public health emergencies", "juvenile records", "student data", "criminal offender record information",
    "wage theft complaints", "housing discrimination complaints", "medical malpractice claims",
    "the protection of personal information", "motor vehicle insurance", "the requirement of informed consent",
    "water quality monitoring", "early childhood education", "opioid treatment", "domestic violence prevention",
    "the issuance of a warrant by a court", "public records requests", "tenant protections",
    "language access services", "the privacy of library patrons", "emergency medical services",
]
CONDITIONS = [
    "within 90 days after the effective date of this act", "subject to appropriation",
    "in consultation with the attorney general", "not later than December 31 of each year",
    "after a public hearing", "in accordance with chapter 30A", "to the extent permitted by federal law",
    "upon the written request of the subject of the record", "except as provided in subsection (c)",
    "in a form and manner prescribed by the secretary", "unless otherwise provided by law",
    "with the approval of the secretary of administration and finance", "throughout the commonwealth",
]
OPENERS = ["", "", "", "Notwithstanding any general or special law to the contrary, ",
           "Except as otherwise provided in this section, ", "Subject to appropriation, ",
           "For the purposes of this chapter, ", "Upon the effective date of this act, "]
MEMBERS = ["the secretary of public safety and security or a designee", "the attorney general or a designee",
           "2 members of the senate", "3 members of the house of representatives", "a representative of the "
           "American Civil Liberties Union of Massachusetts", "a representative of the Massachusetts Chiefs of "
           "Police Association", "a professor of law", "the chief justice of the trial court or a designee",
           "a representative of the Massachusetts Municipal Association", "the child advocate"]
SYLLABLES = ("ba be bi bo bu ca ce ci co da de di do fa fe fi ga ge go ha he hi ka ke ko la le li lo lu ma me mi "
             "mo na ne ni no pa pe pi po ra re ri ro sa se si so ta te ti to va ve vi za ar er or an en in al el "
             "us os is at et").split()

# Planted in a few texts (the selective queries); the generator itself never writes these sequences.
Q_PHRASE = '"facial recognition system"'  # words that occur elsewhere, the phrase only where planted
Q_RARE_COMMON = "biometric commonwealth"  # a rare word and a common one
Q_COMMON_PHRASE = '"warrant requirement"'  # two common words, rarely next to each other
QUERIES = [("rare phrase", Q_PHRASE), ("rare word + common word", Q_RARE_COMMON),
           ("rare phrase of common words", Q_COMMON_PHRASE)]
PLANTED = {  # query -> (texts it is planted in, the sentences that carry it)
    Q_PHRASE: (25, ["No public agency shall acquire, possess or use any facial recognition system except as "
                    "provided in this section.",
                    "The department shall not enter into any agreement for the use of a facial recognition system "
                    "operated by a private vendor."]),
    Q_RARE_COMMON: (30, ["No person shall collect biometric information from a student without the written consent "
                         "of a parent or guardian.",
                         "Any biometric identifier collected under this section shall be destroyed within 30 days."]),
    Q_COMMON_PHRASE: (15, ["The warrant requirement of this section shall not apply in an emergency involving "
                           "danger of death or serious physical injury.",
                           "A law enforcement agency that fails to comply with the warrant requirement shall report "
                           "the failure to the attorney general."]),
}


class Words:
    """The made-up words (names of funds, programs, districts) with a Zipf frequency, from one seed."""

    def __init__(self, rng: random.Random, n: int = 3000):
        seen: set[str] = set()
        while len(seen) < n:
            seen.add("".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3, 3, 4)))).capitalize())
        self.words = sorted(seen)
        rng.shuffle(self.words)
        self.cum = list(accumulate(1.0 / r for r in range(1, n + 1)))

    def draw(self, rng: random.Random) -> str:
        return self.words[min(len(self.words) - 1, bisect(self.cum, rng.random() * self.cum[-1]))]


def sentence(rng: random.Random, words: Words) -> str:
    def fill(template: str) -> str:
        return template.format(tech=rng.choice(TECH), thing=rng.choice(THINGS), made=words.draw(rng),
                               n=rng.randint(1, 120))

    kind = rng.random()
    if kind < 0.55:
        opener = rng.choice(OPENERS)
        agency = rng.choice(AGENCIES)
        return (f"{opener}{agency if opener else agency[:1].upper() + agency[1:]} {rng.choice(DUTIES)} "
                f"{fill(rng.choice(OBJECTS))} {rng.choice(CONDITIONS)}.")
    if kind < 0.65:
        return (f"For the purposes of this section, \"{words.draw(rng).lower()} {rng.choice(TECH).split()[-1]}\" "
                f"shall mean {fill(rng.choice(OBJECTS))}, including {fill(rng.choice(OBJECTS))}.")
    if kind < 0.73:
        return (f"Chapter {rng.randint(1, 280)} of the General Laws, as appearing in the {rng.randint(2016, 2022)} "
                f"Official Edition, is hereby amended by striking out section {rng.randint(1, 99)} and inserting "
                f"in place thereof the following section:-")
    if kind < 0.80:
        return (f"Any person who violates this section shall be punished by a fine of not more than "
                f"${rng.choice((500, 1000, 5000, 10000, 25000)):,} or by imprisonment in the house of correction "
                f"for not more than {rng.randint(1, 5)} years, or both such fine and imprisonment.")
    if kind < 0.86:
        members = rng.sample(MEMBERS, rng.randint(3, 6))
        return (f"There shall be a special commission on {rng.choice(THINGS)} to study {fill(rng.choice(OBJECTS))}. "
                f"The commission shall consist of: {', '.join(members[:-1])}; and {members[-1]}.")
    if kind < 0.93:
        return (f"Nothing in this section shall be construed to limit {fill(rng.choice(OBJECTS))} "
                f"{rng.choice(CONDITIONS)}.")
    return (f"The sum of ${rng.randint(1, 90) * 50000:,} is hereby appropriated to {rng.choice(AGENCIES)} for "
            f"{rng.choice(THINGS)} {rng.choice(CONDITIONS)}.")


def section_body(rng: random.Random, words: Words, budget: int) -> list[str]:
    """Paragraphs (one a line) of about ``budget`` words; enumerated "(a)", "(b)" when there are several."""
    paragraphs: list[str] = []
    count = 0
    while count < budget:
        para = " ".join(sentence(rng, words) for _ in range(rng.randint(1, 4)))
        paragraphs.append(para)
        count += len(para.split())
    if len(paragraphs) > 1:
        paragraphs = [f"({chr(ord('a') + i)}) {p}" if i < 26 else p for i, p in enumerate(paragraphs)]
    return paragraphs


def render(bodies: list[list[str]]) -> str:
    """The stored text: the enacting clause, then "SECTION N." 1..len(bodies), normalised as stored."""
    from spiders.billtext_parse import normalise_text

    lines = [ENACTING]
    for n, paragraphs in enumerate(bodies, 1):
        lines.append(f"SECTION {n}. {paragraphs[0]}")
        lines.extend(paragraphs[1:])
    return normalise_text("\n".join(lines)).text


# --------------------------------------------------------------------------- (a) compare


def compare_pair(n_words: int, n_sections: int, edit_share: float) -> tuple[str, str, dict]:
    """The old text of about ``n_words`` words (as ``count_words`` counts them: "(a)" and "$5,000" are words
    too, so the budgets are scaled once), the new draft, and what the draft did (section numbers, old and new)."""
    from db.texts import count_words

    old, new, plan = _compare_pair(n_words, n_sections, edit_share)
    got = count_words(old)
    if abs(got - n_words) > 0.01 * n_words:
        old, new, plan = _compare_pair(round(n_words * n_words / got), n_sections, edit_share)
    return old, new, plan


def _compare_pair(n_words: int, n_sections: int, edit_share: float) -> tuple[str, str, dict]:
    rng = random.Random(f"{SEED}/compare")
    words = Words(random.Random(f"{SEED}/words"))
    shares = [rng.uniform(0.3, 1.7) for _ in range(n_sections)]
    budgets = [max(40, round(n_words * x / sum(shares))) for x in shares]
    old = [section_body(rng, words, b) for b in budgets]
    # what the draft does, by old index (0-based); kept apart so that each is its own gap in the alignment
    removed, moved_from, moved_after, added_after = 16, 44, 7, 29
    edited = [2, 11, 21, 26, 34, 39, 49, 55]
    draft = [list(body) for body in old]  # copies, edited below
    total_words = sum(len(p.split()) for body in old for p in body)
    edits = round(total_words * edit_share)
    for k in range(edits):
        body = draft[edited[k % len(edited)]]
        para = rng.randrange(len(body))
        tokens = body[para].split()
        at = rng.randrange(1, len(tokens))  # not the "(a)"
        op = rng.random()
        if op < 0.6:
            tokens[at] = rng.choice(("promptly", "reasonable", "written", "municipal", "annual", "certified",
                                     "pertinent", "additional", words.draw(rng).lower()))
        elif op < 0.8 and len(tokens) > 3:
            del tokens[at]
        else:
            tokens.insert(at, rng.choice(("forthwith", "duly", "publicly", "only", "thereafter")))
        body[para] = " ".join(tokens)
    new_body = section_body(rng, words, 450)
    order = [i for i in range(n_sections) if i not in (removed, moved_from)]
    order.insert(order.index(moved_after) + 1, moved_from)
    order.insert(order.index(added_after) + 1, "new")
    new = [new_body if i == "new" else draft[i] for i in order]
    new_number = {i: str(k + 1) for k, i in enumerate(order)}
    plan = {"removed": [str(removed + 1)], "added": [new_number["new"]],
            "moved": [(str(moved_from + 1), new_number[moved_from])],
            "changed": sorted((str(i + 1), new_number[i]) for i in edited),
            "edits": edits, "old_words": total_words}
    return render(old), render(new), plan


def run_compare(args, profile_dir: Path | None) -> tuple[dict, list[str]]:
    from tracker.texts.compare import compare
    from tracker.texts.sections import count_words, split_sections

    t = time.perf_counter()
    old, new, plan = compare_pair(args.words, args.sections, args.edit_share)
    gen_s = time.perf_counter() - t
    out = {"generate_s": gen_s, "old_words": count_words(old), "new_words": count_words(new),
           "old_chars": len(old), "new_chars": len(new), "old_sections": len(split_sections(old)) - 1,
           "new_sections": len(split_sections(new)) - 1, "word_edits": plan["edits"]}
    print(f"(a) compare: old {out['old_words']:,} words in {out['old_sections']} sections ({len(old):,} characters), "
          f"new draft {out['new_words']:,} words in {out['new_sections']} sections; generated in {gen_s:.2f} s; "
          f"{plan['edits']} word edits in {len(plan['changed'])} sections "
          f"({100 * plan['edits'] / plan['old_words']:.1f}% of the words)")
    compare(old, new)  # warm-up: regular expressions compiled, imports done
    times, red = [], None
    for _ in range(args.compare_runs):
        t = time.perf_counter()
        red = compare(old, new)
        times.append(time.perf_counter() - t)
    base = []
    for _ in range(args.baseline_runs):
        t = time.perf_counter()
        ops = difflib.SequenceMatcher(None, old.split(), new.split()).get_opcodes()
        base.append(time.perf_counter() - t)
    if profile_dir is not None or statistics.median(times) * 1000 > AIM_COMPARE_MS:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(5):
            compare(old, new)
        prof.disable()
        path = (profile_dir or Path("/tmp")) / "text-compare.prof"
        prof.dump_stats(path)
        crawl_bench._print_profile(f"compare(), 5 runs ({path})", pstats.Stats(str(path)), n=12)
    got = {"removed": [], "added": [], "moved": [], "changed": []}
    for c in red.sections:
        if c.kind == "removed":
            got["removed"].append(c.old.number)
        elif c.kind == "added":
            got["added"].append(c.new.number)
        elif c.kind in ("moved", "changed"):
            got[c.kind].append((c.old.number, c.new.number))
    got["changed"].sort()
    out.update(compare_s=times, baseline_s=base, baseline_opcodes=len(ops),
               baseline_changed_opcodes=sum(op != "equal" for op, *_ in ops),
               redline={"added_words": red.added_words, "removed_words": red.removed_words,
                        "hunks": len(red.hunks()), **{k: v for k, v in got.items()}},
               expected={k: plan[k] for k in ("removed", "added", "moved", "changed")})
    problems = []
    for k in ("removed", "added", "moved", "changed"):
        if got[k] != plan[k]:
            problems.append(f"compare: {k} sections {got[k]}, expected {plan[k]}")
    med = statistics.median(times) * 1000
    if med >= AIM_COMPARE_MS:
        problems.append(f"compare: median {med:.0f} ms, aim < {AIM_COMPARE_MS:.0f} ms")
    print(f"  compare(): median {med:.1f} ms, p95 {1000 * pct(times, 95):.1f} ms, max {1000 * max(times):.1f} ms "
          f"({len(times)} runs); redline: {red.added_words} words added, {red.removed_words} removed, "
          f"{len(red.hunks())} hunks; removed {got['removed']}, added {got['added']}, moved {got['moved']}, "
          f"{len(got['changed'])} changed")
    print(f"  baseline difflib.SequenceMatcher over the word lists, no sections: median "
          f"{1000 * statistics.median(base):.1f} ms, p95 {1000 * pct(base, 95):.1f} ms ({len(base)} runs); "
          f"{out['baseline_changed_opcodes']} non-equal opcodes")
    print(f"  check (sections named, median < {AIM_COMPARE_MS:.0f} ms): {'ok' if not problems else '; '.join(problems)}")
    return out, problems


# --------------------------------------------------------------------------- (b) search


_TOKENS = re.compile(r"\w+")


def search_texts(n: int) -> tuple[list[str], dict]:
    """The texts (index = bill number - 1) and, per query, the bills planted with it."""
    words = Words(random.Random(f"{SEED}/words"))
    pick = random.Random(f"{SEED}/planted")
    planted = {q: set(pick.sample(range(n), min(n, k))) for q, (k, _) in PLANTED.items()}
    texts = []
    for i in range(n):
        rng = random.Random(f"{SEED}/text/{i}")
        target = rng.randint(1000, 5000)
        bodies, count = [], 0
        while count < target:
            budget = min(rng.randint(80, 600), max(40, target - count))
            body = section_body(rng, words, budget)
            bodies.append(body)
            count += sum(len(p.split()) for p in body)
        for q, (_, sentences) in PLANTED.items():
            if i in planted[q]:
                body = bodies[rng.randrange(len(bodies))]
                para = rng.randrange(len(body))
                body[para] = f"{body[para]} {rng.choice(sentences)}"
        texts.append(render(bodies))
    return texts, planted


def query_tokens(query: str) -> list[list[str]]:
    """The terms of a query as token lists, as db.search reads them."""
    from db.search import query_terms

    return [t.lower().split() for t in query_terms(query)]


def _has(tokens: list[str], term: list[str]) -> bool:
    if len(term) == 1:
        return term[0] in tokens
    k = len(term)
    return any(tokens[i:i + k] == term for i, w in enumerate(tokens) if w == term[0])


def truth(texts: list[str], query: str) -> tuple[set[int], set[int]]:
    """Bills (0-based) with a piece of the index holding every term of ``query``; and those holding every term
    somewhere in the text."""
    from db.texts import chunks

    terms = query_tokens(query)
    words = {w for t in terms for w in t}
    by_piece, by_text = set(), set()
    for i, text in enumerate(texts):
        low = text.lower()
        if not all(w in low for w in words):
            continue
        if all(_has(_TOKENS.findall(low), t) for t in terms):
            by_text.add(i)
        if any(all(_has(_TOKENS.findall(piece.lower()), t) for t in terms) for _, piece in chunks(text)):
            by_piece.add(i)
    return by_piece, by_text


def load(engine, texts: list[str]) -> dict:
    """Version 1 of one bill per text, through ``record_text``, 500 a transaction."""
    from sqlalchemy import func, select, text

    from db.engine import session_factory
    from db.models import Bill, BillTextChunk
    from db.texts import record_text

    sessions = session_factory(engine)
    t = time.perf_counter()
    for start in range(0, len(texts), 500):
        with sessions.begin() as s:
            for i in range(start, min(len(texts), start + 500)):
                bill = Bill(canonical=canonical(i), session=SESSION, number=f"H{i + 1}", tracked=True,
                            error_count=0, created_at=T0)
                s.add(bill)
                s.flush()
                if record_text(s, bill, texts[i], "document", T0 + timedelta(minutes=i)) is None:
                    raise SystemExit(f"record_text recorded nothing for text {i}")
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    with sessions() as s:
        pieces = s.scalar(select(func.count()).select_from(BillTextChunk))
    return {"load_s": load_s, "analyze_s": time.perf_counter() - t, "pieces": pieces}


def canonical(i: int) -> str:
    return f"ma/{SESSION}/H{i + 1}"


def like_baseline(engine, query: str) -> set[str]:
    """The bills whose latest text has a piece holding every term, by LIKE over the chunk bodies (no index)."""
    from sqlalchemy import text

    from db.search import _like_part, query_terms

    pg = engine.dialect.name == "postgresql"
    op = "ILIKE" if pg else "LIKE"  # SQLite's LIKE ignores ASCII case already
    params = {f"p{k}": _like_part(t) for k, t in enumerate(query_terms(query))}
    where = " AND ".join(f"c.body {op} :{p} ESCAPE '\\'" for p in params)
    sql = (f"SELECT DISTINCT b.canonical FROM bill_text_chunks c JOIN bill_text_versions v ON v.sha256 = c.sha256 "
           f"JOIN bills b ON b.id = v.bill_id WHERE {where}")
    with engine.connect() as conn:
        return set(conn.execute(text(sql), params).scalars())


def run_search(engine, label: str, texts: list[str], truths: dict, args, profile_dir: Path | None
               ) -> tuple[dict, list[str]]:
    from db.engine import session_factory
    from db.search import search

    sessions = session_factory(engine)
    out: dict = {}
    problems: list[str] = []
    for name, query in QUERIES:
        expected = {canonical(i) for i in truths[query][0]}
        for _ in range(3):  # warm-up
            with sessions() as s:
                found = search(s, query, kind="text", limit=LIMIT)
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            with sessions() as s:
                found = search(s, query, kind="text", limit=LIMIT)
            times.append(time.perf_counter() - t)
        bills = {r["bill"] for r in found}
        like_times, like_found = [], set()
        for _ in range(args.like_runs):
            t = time.perf_counter()
            like_found = like_baseline(engine, query)
            like_times.append(time.perf_counter() - t)
        p95 = pct(times, 95) * 1000
        row = {"query": query, "results": len(found), "expected": len(expected),
               "in_text_not_in_one_piece": len(truths[query][1] - truths[query][0]),
               "p50_ms": pct(times, 50) * 1000, "p95_ms": p95, "max_ms": max(times) * 1000,
               "like_results": len(like_found), "like_median_ms": statistics.median(like_times) * 1000,
               "like_max_ms": max(like_times) * 1000, "runs": len(times), "like_runs": len(like_times),
               "snippet": found[0]["snippet"] if found else None}
        out[name] = row
        if bills != expected:
            problems.append(f"{label} {query}: search found {len(bills)} bills, expected {len(expected)} "
                            f"(missing {sorted(expected - bills)[:3]}, extra {sorted(bills - expected)[:3]})")
        if len(found) != len(bills):
            problems.append(f"{label} {query}: {len(found)} results for {len(bills)} bills")
        if like_found != expected:
            problems.append(f"{label} {query}: the LIKE baseline found {len(like_found)} bills, expected "
                            f"{len(expected)}")
        if p95 >= AIM_SEARCH_MS:
            problems.append(f"{label} {query}: p95 {p95:.1f} ms, aim < {AIM_SEARCH_MS:.0f} ms")
        print(f"  {name} {query}: {len(found)} results (expected {len(expected)}; "
              f"{row['in_text_not_in_one_piece']} more bills hold the words only in different sections); "
              f"search() p50 {row['p50_ms']:.1f} ms, p95 {p95:.1f} ms, max {row['max_ms']:.1f} ms ({len(times)} runs)"
              f"; baseline LIKE over the pieces: median {row['like_median_ms']:.0f} ms, max {row['like_max_ms']:.0f} "
              f"ms ({len(like_times)} runs), {len(like_found)} bills")
        if profile_dir is not None or p95 >= AIM_SEARCH_MS:
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(20):
                with sessions() as s:
                    search(s, query, kind="text", limit=LIMIT)
            prof.disable()
            path = (profile_dir or Path("/tmp")) / f"text-search-{label.lower()}-{QUERIES.index((name, query))}.prof"
            prof.dump_stats(path)
            crawl_bench._print_profile(f"{label} search {query}, 20 runs ({path})", pstats.Stats(str(path)), n=10)
    return out, problems


# --------------------------------------------------------------------------- main


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))] if xs else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--words", type=int, default=30000, help="(a) words of the compared text (30,000)")
    ap.add_argument("--sections", type=int, default=60, help="(a) its sections (60)")
    ap.add_argument("--edit-share", type=float, default=0.02, help="(a) share of the words edited (0.02)")
    ap.add_argument("--compare-runs", type=int, default=20, help="(a) runs of compare() (20)")
    ap.add_argument("--baseline-runs", type=int, default=5, help="(a) runs of the difflib baseline (5)")
    ap.add_argument("--texts", type=int, default=10000, help="(b) bill texts stored (10,000)")
    ap.add_argument("--runs", type=int, default=200, help="(b) runs of each query (200)")
    ap.add_argument("--like-runs", type=int, default=5, help="(b) runs of each LIKE baseline (5)")
    ap.add_argument("--only", choices=("compare", "search"), help="run only (a) or (b)")
    ap.add_argument("--db-url", help="(b) also on a fresh database on this server (postgresql+psycopg://...)")
    ap.add_argument("--no-sqlite", action="store_true", help="(b) only on the --db-url database, not SQLite")
    ap.add_argument("--keep-db", action="store_true", help="keep the databases afterwards")
    ap.add_argument("--profile", type=Path, metavar="DIR", help="cProfile compare() and each query into DIR")
    ap.add_argument("--json", type=Path, metavar="PATH", help="also write every figure as JSON")
    args = ap.parse_args(argv)
    if args.db_url is not None and not benchdb.is_server_url(args.db_url):
        ap.error("--db-url takes a server URL (postgresql+psycopg://...)")
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)

    from db.engine import make_engine
    from db.migrate import upgrade

    machine = crawl_bench.machine_info()
    print(f"text bench {datetime.now(timezone.utc):%Y-%m-%d %H:%M}Z")
    print(f"machine: {machine['cpu']}, {machine['cores']} cores ({machine['usable_cores']} usable), "
          f"{machine['memory_gb']} GB; Python {machine['python']}, SQLAlchemy {machine['sqlalchemy']}; "
          f"load average {crawl_bench.machine_load()}; code {machine['revision']}")
    figures: dict = {"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
                              if k != "db_url"}, "machine": machine}
    problems: list[str] = []
    if args.only != "search":
        figures["compare"], found = run_compare(args, args.profile)
        problems += found
    if args.only != "compare":
        t = time.perf_counter()
        texts, planted = search_texts(args.texts)
        gen_s = time.perf_counter() - t
        t = time.perf_counter()
        truths = {q: truth(texts, q) for _, q in QUERIES}
        n_words = [len(x.split()) for x in texts]
        print(f"\n(b) search: {len(texts):,} texts generated in {gen_s:.1f} s: {sum(n_words):,} words, "
              f"{sum(map(len, texts)) / 1e6:.0f} million characters, {min(n_words)}-{max(n_words)} words a text; "
              f"expected results found in Python in {time.perf_counter() - t:.1f} s: "
              + ", ".join(f"{q} {len(truths[q][0])} (planted in {len(planted[q])})" for _, q in QUERIES))
        figures["search"] = {"texts": len(texts), "words": sum(n_words), "characters": sum(map(len, texts)),
                             "generate_s": gen_s}
        for q, (by_piece, _) in truths.items():
            if not by_piece or len(by_piece) >= LIMIT:
                problems.append(f"{q}: {len(by_piece)} bills hold it; the benchmark wants 1 to {LIMIT - 1}")
        backends = ([] if args.no_sqlite else [("SQLite", None)]) + \
            ([("PostgreSQL", args.db_url)] if args.db_url else [])
        for label, server in backends:
            with benchdb.BenchDatabase("texts", server_url=server, keep=args.keep_db) as bdb:
                engine = make_engine(bdb.url)
                try:
                    info = benchdb.describe(engine)
                    upgrade(engine)
                    loaded = load(engine, texts)
                    loaded["size_mb"] = benchdb.size_bytes(engine) / 1e6
                    print(f"\n{label}: {info['label']} at {bdb.where()}{benchdb.settings_note(info)}; record_text "
                          f"of {len(texts):,} texts {loaded['load_s']:.1f} s, {loaded['pieces']:,} index pieces, "
                          f"{'VACUUM ANALYZE' if server else 'WAL checkpoint'} {loaded['analyze_s']:.1f} s, "
                          f"database {loaded['size_mb']:.0f} MB")
                    res, found = run_search(engine, label, texts, truths, args, args.profile)
                    print(f"  check: {'ok' if not found else '; '.join(found)}")
                    problems += found
                    figures["search"][label] = {"backend": info, **loaded, "queries": res}
                finally:
                    engine.dispose()
    summary(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    if problems:
        print("\nFAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    return 0


def summary(figures: dict) -> None:
    print("\n## Results")
    if "compare" in figures:
        c = figures["compare"]
        print(f"| (a) compare, {c['old_words']:,} -> {c['new_words']:,} words | median ms | p95 ms |")
        print("|---|---:|---:|")
        print(f"| `compare(old, new)` | {1000 * statistics.median(c['compare_s']):.1f} | "
              f"{1000 * pct(c['compare_s'], 95):.1f} |")
        print(f"| baseline: difflib.SequenceMatcher over the word lists | {1000 * statistics.median(c['baseline_s']):.1f}"
              f" | {1000 * pct(c['baseline_s'], 95):.1f} |")
    s = figures.get("search", {})
    labels = [k for k in ("SQLite", "PostgreSQL") if k in s]
    if labels:
        print("\n| (b) backend | query | results | p50 ms | p95 ms | max ms | LIKE baseline median ms |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for label in labels:
            for name, r in s[label]["queries"].items():
                print(f"| {label} | {name} `{r['query']}` | {r['results']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
                      f"{r['max_ms']:.1f} | {r['like_median_ms']:.0f} |")


if __name__ == "__main__":
    sys.exit(main())
