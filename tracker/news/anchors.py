"""Items of one page told apart by their ``#fragment`` (live blogs, "now" pages, changelogs).

``canonical_url`` drops the fragment, so every item of such a feed would be one article. A feed that lists
several items of one page, each with its own fragment and its own title, is one of those: each of its items
keeps its fragment in its key (``https://site/page#update-3``). Anywhere else a fragment is noise (a tracking
anchor, ``#comments``, the AMP copy of a page) and is still dropped, so those items de-duplicate as before. An
item whose fragment key is already stored keeps it even when the feed lists it alone (the older updates have
left the feed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from spiders.urls import canonical_url

Urls = tuple[str, str]  # (key, link as given)


def fragment_of(link: str) -> str:
    """The fragment of ``link`` without its ``#``, spaces and controls removed; "" when there is none."""
    return "".join(ch for ch in link.partition("#")[2] if ch > " " and ch != "\x7f")


def anchored_key(key: str, fragment: str) -> str:
    return f"{key}#{fragment}"


def page_key(key: str) -> str:
    """The page an article key names: an anchored key without its fragment, any other key unchanged."""
    return key.partition("#")[0]


def anchored_urls(items: list[dict], urls: list[Urls | None],
                  stored: Callable[[Iterable[str]], set[str]] | None = None) -> list[Urls | None]:
    """``urls`` (one per item, from ``article_url``) with the keys of a page's anchored items made distinct."""
    by_page: dict[str, list[int]] = defaultdict(list)
    for i, u in enumerate(urls):
        if u is not None and fragment_of(u[1]):
            by_page[u[0]].append(i)
    chosen: set[int] = set()
    for page, members in by_page.items():
        fragments = {fragment_of(urls[i][1]) for i in members}
        titles = {(items[i].get("title") or "").strip() for i in members}
        if len(fragments) > 1 and len(titles) > 1:
            chosen.update(members)
    rest = [i for idx in by_page.values() for i in idx if i not in chosen]
    if rest and stored is not None:
        known = stored({anchored_key(urls[i][0], fragment_of(urls[i][1])) for i in rest})
        chosen.update(i for i in rest if anchored_key(urls[i][0], fragment_of(urls[i][1])) in known)
    out = list(urls)
    for i in chosen:
        key, link = urls[i]
        out[i] = (anchored_key(key, fragment_of(link)), link)
    return out


def refetched_key(current: str, final_url: str) -> str:
    """The key of an article after its page was fetched from ``final_url`` (a redirect or a rel=canonical):
    the page's new key, with the article's fragment if it had one."""
    _, hash_, fragment = current.partition("#")
    return canonical_url(final_url) + (f"#{fragment}" if hash_ else "")
