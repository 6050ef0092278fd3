#!/usr/bin/env python3
"""Sanitiser benchmark (issue 21): the hand-written sanitiser against the same pass gated by nh3.

"Old" is ``spiders/sanitize.py`` as it is at ``--old-ref`` (read with ``git show``, run from memory); "new" is
the working tree's ``spiders.sanitize``. Both are run on every HTML fragment the project holds:

* ``replica feeds``: the bundled news replica's feeds (``tracker/replica/data/news.json``) in each of the
  replica's variants (plain, no charset, wrong charset, malformed, no dates, future dates) and the Google News
  search feed, parsed by ``spiders.feed_parse.parse_feed`` on its fast path and on feedparser's path; the
  inputs are the exact (html, base) pairs the parsers hand to ``sanitize_with_text``;
* ``replica pages``: the replica's article pages, an item page per feed item, the bot wall and an error page
  (whole documents, base = the page's URL);
* ``fixtures``: every ``*.html`` under ``tests/fixtures`` and ``tests/data`` (whole documents);
* ``realshapes``: the ~150 feeds of ``bench/realshapes.py`` (the real-world feed bench's corpus: WordPress
  posts with figures, srcset, iframes, tweet embeds, inline styles...), recorded as above on the fast path;
* ``tests`` (with ``--tests``): every string and bytes value the listed test files hand to the sanitiser
  (``sanitize_with_text`` and, through it, ``sanitize_html``), recorded by running them under pytest with this
  file as a plugin (``-p sanitize_bench``). ``tests/test_fuzz.py`` contributes hypothesis' random inputs.

Compared: the HTML strings, then (when they differ) the trees a parser builds from them (lxml; tag, attributes,
text and tail of every node), and the plain texts. A difference of string only is serialisation (``&nbsp;`` for
U+00A0, ``"`` quoting of attributes); a tree difference is listed with both outputs.

Timed: ``sanitize_with_text`` over each corpus, old and new interleaved, ``--rounds`` rounds, best round of each;
the gate alone (``nh3.Cleaner.clean`` on the pass's output); and, on the realshapes feeds, ``parse_feed`` (what
the poll's child runs per feed) with the old and the new sanitiser.

    PYTHONPATH=. .venv/bin/python bench/sanitize_bench.py [--tests] [--rounds 5] [--show 20]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import types
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

TEST_FILES = ["tests/test_sanitize.py", "tests/test_security.py", "tests/test_feed_parse.py",
              "tests/test_feed_fast.py", "tests/test_fuzz.py", "tests/test_poll.py", "tests/test_extract.py"]
BASE = "http://127.0.0.1:9"
RECORD_ENV = "SANITIZE_BENCH_RECORD"


# -- pytest plugin: record what the tests hand to the sanitiser (only when RECORD_ENV names a file) -----------


def pytest_configure(config):
    path = os.environ.get(RECORD_ENV)
    if not path:
        return
    # lazy: the plugin patches the sanitiser only when recording
    import spiders.feed_text as feed_text
    import spiders.sanitize as sanitize

    original = sanitize.sanitize_with_text
    state = {"file": ""}
    out = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by the interpreter at exit, flushed per line

    def recording(html, base_url=None):
        if isinstance(html, (str, bytes)):
            text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
            out.write(json.dumps({"file": state["file"], "html": text, "bytes": isinstance(html, bytes),
                                  "base": base_url}) + "\n")
            out.flush()
        return original(html, base_url)

    def runtest_setup(item):
        state["file"] = item.nodeid.split("::", 1)[0]

    sanitize.sanitize_with_text = recording
    feed_text.sanitize_with_text = recording
    config.pluginmanager.register(types.SimpleNamespace(pytest_runtest_setup=runtest_setup), "sanitize-recorder")


# -- the corpus ----------------------------------------------------------------------------------------------


def _record_parses(parse_calls) -> list[tuple[str, str | None]]:
    # lazy: the project's modules load after sys.path holds the worktree
    import spiders.feed_text as feed_text

    original = feed_text.sanitize_with_text
    seen: dict[tuple[str, str | None], None] = {}

    def recording(html, base_url=None):
        seen[(html, base_url)] = None
        return original(html, base_url)

    feed_text.sanitize_with_text = recording
    try:
        for call in parse_calls:
            try:
                call()
            except Exception:  # noqa: BLE001 - a malformed variant may be a FeedError: its inputs still count
                pass
    finally:
        feed_text.sanitize_with_text = original
    return list(seen)


def _feed_cases(replica, variants: dict[str, dict]) -> list[tuple[bytes, str, str]]:
    # lazy: as above
    from tracker.replica import news_pages as pages

    cases = []
    for feed in replica.feeds.values():
        for kw in variants.values():
            ctype = "application/xml" if kw.get("no_charset") else "application/xml; charset=UTF-8"
            cases.append((pages.feed_bytes(feed, BASE, **kw), BASE + feed.path, ctype))
    return cases


def corpus(with_tests: bool) -> dict[str, list[tuple[str, str | None]]]:
    # lazy: as above
    from spiders.feed_parse import parse_feed
    from tracker.replica import news_pages as pages
    from tracker.replica.news_model import NewsReplica

    import realshapes

    out: dict[str, list[tuple[str, str | None]]] = {}
    replica = NewsReplica.bundled()
    variants = {"plain": {}, "no_charset": {"no_charset": True}, "wrong_charset": {"wrong_charset": True},
                "malformed": {"malformed": True}, "no_dates": {"no_dates": True}, "future_dates": {"future_dates": True}}
    cases = _feed_cases(replica, variants)
    google = pages.google_search_text("face surveillance", replica.google_lookup("face surveillance"), BASE)
    cases.append((google.encode(), BASE + "/rss/search", "application/xml; charset=utf-8"))
    calls = [lambda b=b, u=u, c=c, f=f: parse_feed(b, u, c, fast=f) for b, u, c in cases for f in (True, False)]
    out["replica feeds"] = _record_parses(calls)

    page_list = [(pages.article_html(a, BASE), BASE + a.path) for a in replica.articles.values()]
    for feed in replica.feeds.values():
        for item in feed.items:
            art = pages.item_article(feed, item)
            page_list.append((pages.article_html(art, BASE), BASE + art.path))
    page_list += [(pages.bot_wall_html(), BASE + "/"), (pages.error_html(404, "Not Found"), BASE + "/x")]
    out["replica pages"] = list(dict.fromkeys(page_list))

    files = sorted((ROOT / "tests" / "fixtures").rglob("*.html")) + sorted((ROOT / "tests" / "data").rglob("*.html"))
    out["fixtures"] = [(p.read_text(encoding="utf-8", errors="replace"), "https://malegislature.gov/Bills/192/H135")
                       for p in files]

    real = realshapes.varied_replica(seed=0)
    out["realshapes"] = _record_parses(
        [lambda b=b, u=u, c=c: parse_feed(b, u, c) for b, u, c in _feed_cases(real, {"plain": {}})])

    if with_tests:
        out.update(_record_tests())
    return out


def _record_tests() -> dict[str, list[tuple[str, str | None]]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "inputs.jsonl"
        env = dict(os.environ, **{RECORD_ENV: str(path)})
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "bench"), env.get("PYTHONPATH", "")])
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "sanitize_bench",
                        *TEST_FILES], cwd=ROOT, env=env, check=False, stdout=subprocess.DEVNULL)
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
    out: dict[str, dict] = {}
    for row in rows:
        out.setdefault("tests: " + Path(row["file"]).name, {})[(row["html"], row["base"])] = None
    return {k: list(v) for k, v in sorted(out.items())}


# -- comparing -----------------------------------------------------------------------------------------------


def old_module(ref: str) -> types.ModuleType:
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:spiders/sanitize.py"], capture_output=True,
                         text=True, check=True).stdout
    mod = types.ModuleType("sanitize_old")
    exec(compile(src, f"{ref}:spiders/sanitize.py", "exec"), mod.__dict__)  # noqa: S102 - our own file at a commit
    return mod


def tree(html: str):
    """The tree lxml builds from a fragment: (tag, attributes, text, children, tail), all text as is."""
    # lazy: as above
    import lxml.html

    if not html:
        return None

    def walk(el):
        tag = el.tag if isinstance(el.tag, str) else "#comment"
        return (tag, tuple(sorted(el.attrib.items())), el.text or "", tuple(walk(c) for c in el), el.tail or "")

    return walk(lxml.html.fragment_fromstring(html, create_parent="div"))


def compare(old, new, items) -> tuple[Counter, list[tuple[str, str, str]]]:
    counts: Counter = Counter()
    shown = []
    for html, base in items:
        o_html, o_text = old.sanitize_with_text(html, base)
        n_html, n_text = new.sanitize_with_text(html, base)
        if o_text != n_text:
            counts["text differs"] += 1
            shown.append(("text", o_text, n_text))
        if o_html == n_html:
            counts["identical"] += 1
        elif tree(o_html) == tree(n_html):
            counts["same tree, other serialisation"] += 1
            if counts["same tree, other serialisation"] <= 3:
                at = next(i for i, (a, b) in enumerate(zip(o_html + "\0", n_html + "\0")) if a != b)
                shown.append(("(serialisation only; around the first difference)", o_html[max(0, at - 40):at + 60],
                              n_html[max(0, at - 40):at + 60]))
        elif browser_same(o_html, n_html):
            counts["lxml tree differs, a browser's is the same"] += 1
            shown.append((html, o_html, n_html))
        else:
            counts["the gate removed something"] += 1
            shown.append((html, o_html, n_html))
    return counts, shown


_SCHEMES = {"http", "https", "mailto", "javascript", "vbscript", "data", "ftp", "file", "tel", "about", "blob"}


def browser_same(old_html: str, new_html: str) -> bool:
    """Whether ``new_html`` is ``old_html`` as a browser parses it, with nothing taken away: ``old_html`` goes
    through html5ever (ammonia's parser, the HTML5 algorithm browsers use) with every tag and attribute it
    holds allowed (as lxml reads them), then both are compared as serialised by the same code."""
    # lazy: as above
    import lxml.html
    import nh3

    tags, attrs = set(), {}
    for el in lxml.html.fragment_fromstring(old_html, create_parent="div").iterdescendants():
        if isinstance(el.tag, str):
            tags.add(el.tag)
            attrs.setdefault(el.tag, set()).update(el.attrib)
    keep_all = nh3.Cleaner(tags=tags, attributes={"*": set(), **attrs}, url_schemes=_SCHEMES, link_rel=None,
                           strip_comments=False, clean_content_tags=set())
    return keep_all.clean(old_html).strip() == new_html


# -- timing --------------------------------------------------------------------------------------------------


def best_of(rounds: int, fns: dict) -> dict[str, float]:
    best = {name: float("inf") for name in fns}
    for r in range(rounds):
        # interleaved, so a burst of load hits both alike; the order turns each round (the second run of a
        # round was seen to be slower by up to 20% either way on a busy machine)
        for name, fn in (list(fns.items()) if r % 2 == 0 else list(fns.items())[::-1]):
            t = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--old-ref", default="8e817d4", help="the commit whose spiders/sanitize.py is 'old'")
    ap.add_argument("--tests", action="store_true", help="also record and compare the test files' inputs")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--parse-rounds", type=int, default=3, help="rounds of parse_feed over the realshapes feeds")
    ap.add_argument("--show", type=int, default=20, help="tree differences printed in full")
    ap.add_argument("--compare-only", action="store_true", help="list the differences, time nothing")
    args = ap.parse_args()

    # lazy: the project's modules load after sys.path holds the worktree
    import spiders.sanitize as new
    from spiders import feed_parse, feed_text

    old = old_module(args.old_ref)
    print(f"old: {args.old_ref}:spiders/sanitize.py   new: working tree (nh3 {new.nh3.__version__})")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}   nproc {os.cpu_count()}")
    if not args.compare_only:
        # parse_feed first, in a fresh process as the poll's child is: measured after the corpus stage (which
        # keeps ~60 MB of strings alive), the new code's parse_feed came out 1.9x the old one's, 1.1-1.3x fresh
        # lazy: only when timing
        from tracker.replica import news_pages as pages

        import realshapes

        real = realshapes.varied_replica(seed=0)
        bodies = [(pages.feed_bytes(f, BASE), BASE + f.path) for f in real.feeds.values()]
        new_fn = feed_text.sanitize_with_text

        def parse_all(fn):
            feed_text.sanitize_with_text = fn
            try:
                for body, url in bodies:
                    feed_parse.parse_feed(body, url, "application/xml; charset=UTF-8")
            finally:
                feed_text.sanitize_with_text = new_fn

        t = best_of(args.parse_rounds, {"old": lambda: parse_all(old.sanitize_with_text),
                                        "new": lambda: parse_all(new_fn)})
        n = len(bodies)
        print(f"parse_feed, realshapes ({n} feeds, {sum(len(b) for b, _ in bodies) / 1e6:.1f} MB): old "
              f"{t['old']:.2f} s ({t['old'] / n * 1e3:.1f} ms/feed)  new {t['new']:.2f} s ({t['new'] / n * 1e3:.1f} "
              f"ms/feed)  {t['new'] / t['old']:.3f}x")
        del real, bodies
    sets = corpus(args.tests)

    print("\n== differences (old vs new output) ==")
    all_shown = []
    total: Counter = Counter()
    for name, items in sets.items():
        counts, shown = compare(old, new, items)
        total += counts
        size = sum(len(h) for h, _ in items)
        print(f"{name:32} {len(items):6} inputs {size / 1e6:7.2f} MB  " +
              ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        all_shown += [(name, *s) for s in shown]
    print(f"{'all':32} {sum(len(v) for v in sets.values()):6} inputs  " +
          ", ".join(f"{k} {v}" for k, v in sorted(total.items())))
    for name, src, o, n in all_shown[:args.show]:
        print(f"\n-- {name}\n   input: {src[:300]!r}\n   old:   {o[:300]!r}\n   new:   {n[:300]!r}")

    if args.compare_only:
        return 0
    print(f"\n== time, best of {args.rounds} rounds (old and new interleaved) ==")
    gate_inputs = {}
    for name in ("replica feeds", "realshapes"):
        items = sets[name]
        gate_inputs[name] = [old.sanitize_html(h, b) for h, b in items]
        t = best_of(args.rounds, {
            "old": lambda items=items: [old.sanitize_with_text(h, b) for h, b in items],
            "new": lambda items=items: [new.sanitize_with_text(h, b) for h, b in items],
            "gate alone": lambda g=gate_inputs[name]: [new._GATE.clean(h) for h in g],
        })
        size = sum(len(h) for h, _ in items) / 1e6
        print(f"{name:16} {len(items):6} calls {size:6.2f} MB: old {t['old'] * 1e3:8.1f} ms  new "
              f"{t['new'] * 1e3:8.1f} ms  ({t['new'] / t['old']:.3f}x; gate alone {t['gate alone'] * 1e3:.1f} ms, "
              f"{t['gate alone'] * 1e6 / len(items):.1f} us/call, {t['gate alone'] / size * 1e3:.2f} ms/MB)")

    print(f"load after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
