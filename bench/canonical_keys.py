"""The articles' de-duplication keys, ours against the canonicalisers of w3lib and courlan (issue 21).

    python bench/canonical_keys.py            # compare, print the figures
    python bench/canonical_keys.py --write    # rewrite tests/data/canonical_keys.json from the current code

The corpus: every article link the replicas serve (tracker/replica/data/news.json, on the hosts of the real
sites they copy), every http(s) URL the tests and fixtures hold, and each of those in the shapes feeds really
give them (http, www., a trailing slash, utm_* and click ids, a #fragment, AMP pages and AMP caches, a default
port). ``--write`` stores each link with the key ``spiders.urls.canonical_url`` gives it today; the test
``tests/test_canonical_keys.py`` then requires the same key for every link, so no change to the canonicaliser
(or a swap for a library) can move the keys stored in ``articles.url`` without a migration.
"""

from __future__ import annotations

import argparse
import glob
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from spiders.urls import canonical_url  # noqa: E402

CORPUS = ROOT / "tests" / "data" / "canonical_keys.json"
HOSTS = {"wwlp": "www.wwlp.com", "masslive": "www.masslive.com", "beacon": "commonwealthbeacon.org",
         "aclum": "www.aclum.org", "real": "www.bostonherald.com"}
_URL = re.compile(r"https?://[A-Za-z0-9.\-]+(?::\d+)?(?:/[^\s\"'<>\\)\]{}]*)?")


def _replica_links() -> set[str]:
    data = json.loads((ROOT / "tracker/replica/data/news.json").read_text())
    paths = {item["link"] for feed in data["feeds"] for item in feed["items"]}
    paths |= {a["path"] for a in data["articles"]}
    paths |= {r["url"] for q in data["google"] for r in q["results"]}
    out = set()
    for path in paths:
        site, _, rest = path.lstrip("/").partition("/")
        out.add(f"https://{HOSTS.get(site, site + '.example')}/{rest}")
    return out


def _quoted_links() -> set[str]:
    out = set()
    for pattern in ("tests/*.py", "tests/fixtures/**/*", "tracker/replica/*.py", "bench/realshapes.py"):
        for name in glob.glob(str(ROOT / pattern), recursive=True):
            if Path(name).is_file():
                out |= set(_URL.findall(Path(name).read_text("utf-8", "replace")))
    return {u for u in out if "{" not in u and "127.0.0.1" not in u}


def _variants(url: str) -> list[str]:
    head, _, query = url.partition("?")
    base = head.rstrip("/")
    scheme, _, rest = base.partition("://")
    host, _, path = rest.partition("/")
    bare = host[4:] if host.startswith("www.") else host
    path = "/" + path if path else ""
    q = "?" + query if query else ""
    amp_path = (path.rstrip("/") + "/amp/") if not path.endswith(".html") else path[:-5] + ".amp.html"
    out = [url, f"http://{host}{path}/{q}", f"https://{bare}{path}{q}", f"https://www.{bare}{path}/{q}",
           f"https://{host}:443{path}{q}", f"https://{host.upper()}{path}{q}",
           f"https://{host}{path}{q}#comments", f"https://{host}{path}{q}{'&' if q else '?'}utm_source=rss&utm_medium=feed",
           f"https://{host}{path}?fbclid=IwAR0abc{'&' + query if query else ''}",
           f"https://{host}{amp_path}{q}", f"https://amp.{bare}{path}{q}",
           f"https://www.google.com/amp/s/{host}{path}{q}",
           f"https://{bare.replace('.', '-')}.cdn.ampproject.org/c/s/{host}{path}{q}",
           f"https://{host}{path}?b=2&a=1{'&' + query if query else ''}"]
    return out


def corpus() -> list[str]:
    seeds = sorted(_replica_links() | _quoted_links())
    links = []
    for url in seeds:
        links.extend(_variants(url))
    return sorted(set(links))


def _w3lib(url: str) -> str:
    from w3lib.url import canonicalize_url  # lazy: a comparison only
    return canonicalize_url(url)


def _courlan(url: str) -> str:
    from courlan import normalize_url  # lazy: a comparison only
    return normalize_url(url, strict=True)


def _partition(keys: dict[str, str]) -> set[frozenset[str]]:
    groups = defaultdict(set)
    for link, key in keys.items():
        groups[key].add(link)
    return {frozenset(g) for g in groups.values()}


def _pairs(groups: set[frozenset[str]]) -> set[tuple[str, str]]:
    return {(a, b) for g in groups for a in g for b in g if a < b}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true", help="rewrite the corpus of the key test from the current code")
    args = ap.parse_args()
    links = corpus()
    ours = {u: canonical_url(u) for u in links}
    if args.write:
        CORPUS.write_text(json.dumps({"note": "link -> key from spiders.urls.canonical_url; made by "
                                      "bench/canonical_keys.py --write", "keys": ours}, indent=0, sort_keys=True) + "\n")
        print(f"wrote {len(ours)} links to {CORPUS.relative_to(ROOT)}")
    ours_pairs = _pairs(_partition(ours))
    print(f"{len(links)} links, {len(set(ours.values()))} keys (ours)")
    for name, fn in (("w3lib.canonicalize_url", _w3lib), ("courlan.normalize_url", _courlan)):
        theirs, errors = {}, 0
        t0 = time.perf_counter()
        for u in links:
            try:
                theirs[u] = fn(u)
            except Exception:  # noqa: BLE001 - counted: a link the library cannot key
                theirs[u] = "error:" + u
                errors += 1
        took = time.perf_counter() - t0
        same = sum(theirs[u] == ours[u] for u in links)
        pairs = _pairs(_partition(theirs))
        print(f"{name}: same key string {same}/{len(links)}; duplicates ours merges and it does not: "
              f"{len(ours_pairs - pairs)} pairs; merged by it only: {len(pairs - ours_pairs)}; errors {errors}; "
              f"{len(links) / took:,.0f} links/s")
    t0 = time.perf_counter()
    for u in links:
        canonical_url(u)
    print(f"ours: {len(links) / (time.perf_counter() - t0):,.0f} links/s")


if __name__ == "__main__":
    main()
