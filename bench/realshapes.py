"""A news replica whose feeds have the shapes, sizes and markup of real feeds, for ``feed_bench.py --shape real``.

Our machines cannot reach real feeds, so this builds ~150 feeds in the proportions a real news list has:
WordPress sites (10 items, full posts in ``content:encoded``), Arc-style newsrooms (25 to 100 items, summaries),
plain RSS from agencies and offices (press releases, some without dates), Atom blogs (Blogger, Hugo, Jekyll;
full HTML content), RSS 1.0 (RDF), and a few long archives (200 to 400 items of full posts). The posts carry
what real ones do: figures with ``srcset``, embedded iframes and scripts, inline styles, tracking parameters
on links, entities, lists and block quotes, 1 to 12 KB each. Every item has its own link (no article appears in
two feeds), so with ``match: all`` the poll must store exactly ``replica.item_count()`` articles.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from tracker.replica.news_model import NewsFeed, NewsItem, NewsReplica

UTC = timezone.utc

# (how many feeds, format, rss flavour, items per feed (low, high), full content?, dated?)
MIX = [
    (60, "rss", "wordpress", (10, 10), True, True),
    (20, "rss", "arc", (25, 100), False, True),
    (20, "rss", "plain", (15, 40), False, "some"),
    (25, "atom", "wordpress", (20, 25), True, True),
    (15, "rdf", "wordpress", (10, 20), False, True),
    (10, "rss", "wordpress", (200, 400), True, True),
]

WORDS = ("the commonwealth state house committee hearing testimony surveillance facial recognition police "
         "department city council ordinance residents privacy civil liberties vote senate representative bill "
         "budget technology schools library camera data agency public records request court ruling advocates "
         "municipal moratorium boston cambridge somerville worcester springfield legislature session amendment "
         "report review oversight contract vendor software accuracy error rate study federal local officials").split()


def _vocabulary(size: int = 20_000) -> tuple[list[str], list[float]]:
    """The topic words first, then made-up words, drawn with a Zipf frequency (rank r has weight 1/r), so that two
    stories share about as many word pairs as real ones do (a small vocabulary makes every story look alike)."""
    rng = random.Random(20)
    syllables = ["ba", "ce", "di", "fo", "gu", "ha", "je", "ki", "lo", "mu", "na", "pe", "ri", "so", "tu", "ve",
                 "wa", "ye", "zo", "qua", "stre", "pli", "gro", "bran", "chel", "mont", "ford", "ton", "ley", "wick"]
    words = list(WORDS)
    seen = set(words)
    while len(words) < size:
        w = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if w not in seen:
            seen.add(w)
            words.append(w)
    weights, total = [], 0.0
    for rank in range(1, size + 1):
        total += 1.0 / rank
        weights.append(total)
    return words, weights


VOCABULARY, CUMULATIVE = _vocabulary()


def _sentence(rng: random.Random, n: int) -> str:
    words = rng.choices(VOCABULARY, cum_weights=CUMULATIVE, k=n)
    words[0] = words[0].capitalize()
    return " ".join(words) + rng.choice((".", ".", ".", "?", "&#8230;"))


def _paragraph(rng: random.Random, site: str) -> str:
    parts = [_sentence(rng, rng.randint(8, 24)) for _ in range(rng.randint(2, 5))]
    if rng.random() < 0.5:
        k = rng.randrange(len(parts))
        parts[k] += (f' <a href="https://www.example.org/{rng.choice(WORDS)}/?utm_source=rss&amp;utm_medium=rss'
                     f'&amp;utm_campaign={rng.choice(WORDS)}" target="_blank" rel="noopener">{rng.choice(WORDS)}'
                     f' {rng.choice(WORDS)}</a>')
    if rng.random() < 0.3:
        parts.append("&#8220;" + _sentence(rng, 12) + "&#8221; said a spokesperson&#8217;s statement.")
    style = ' style="text-align: justify;"' if rng.random() < 0.15 else ""
    return f"<p{style}>" + " ".join(parts) + "</p>\n"


def _figure(rng: random.Random, site: str, n: int) -> str:
    img = f"/{site.strip('/')}/wp-content/uploads/2026/11/photo-{n}"
    return (f'<figure class="wp-block-image size-large"><img loading="lazy" decoding="async" width="1024" '
            f'height="683" src="{img}-1024x683.jpg" alt="{_sentence(rng, 6)}" class="wp-image-{n}" '
            f'srcset="{img}-1024x683.jpg 1024w, {img}-300x200.jpg 300w, {img}-768x512.jpg 768w" '
            f'sizes="(max-width: 1024px) 100vw, 1024px" /><figcaption>{_sentence(rng, 10)}</figcaption></figure>\n')


def _embed(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return ('<figure class="wp-block-embed is-type-video"><div class="wp-block-embed__wrapper">'
                '<iframe title="Hearing video" width="640" height="360" src="https://www.youtube.com/embed/abc123'
                '?feature=oembed" frameborder="0" allowfullscreen></iframe></div></figure>\n')
    return ('<blockquote class="twitter-tweet"><p lang="en" dir="ltr">' + _sentence(rng, 14) +
            '</p>&mdash; Advocate (@advocate) <a href="https://twitter.com/advocate/status/1">November 30, 2026</a>'
            '</blockquote><script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>\n')


def _post(rng: random.Random, site: str, n: int) -> str:
    out = []
    for k in range(rng.randint(3, 14)):
        out.append(_paragraph(rng, site))
        if k == 1 and rng.random() < 0.7:
            out.append(_figure(rng, site, n))
        if k == 3 and rng.random() < 0.3:
            out.append(_embed(rng))
        if k == 4 and rng.random() < 0.3:
            out.append("<ul>" + "".join(f"<li>{_sentence(rng, 7)}</li>" for _ in range(rng.randint(2, 5))) + "</ul>\n")
        if k == 5 and rng.random() < 0.2:
            out.append(f"<h2>{_sentence(rng, 5)}</h2>\n")
    out.append(f'<p>The post <a href="{site}news/{n}/">{_sentence(rng, 4)}</a> appeared first on Replica.</p>\n')
    return "".join(out)


def varied_replica(seed: int = 0) -> NewsReplica:
    """About 150 feeds in the proportions of ``MIX``; the same seed always gives the same feeds."""
    rng = random.Random(seed)
    epoch = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    feeds = []
    i = 0
    for count, fmt, flavor, (lo, hi), full, dated in MIX:
        for _ in range(count):
            site = f"/real/{i:03d}/"
            path = {"rss": f"{site}feed/", "atom": f"{site}feeds/posts/default", "rdf": f"{site}index.rdf"}[fmt]
            undated = dated == "some" and rng.random() < 0.4
            when = epoch - timedelta(minutes=rng.randrange(0, 60 * 24 * 3))
            items = []
            for j in range(rng.randint(lo, hi)):
                when -= timedelta(minutes=rng.randrange(10, 900))
                n = 10_000 * (i + 1) + j
                # a title is text (the pages escape it); its ellipsis is the character, as WordPress's decoded one
                title = _sentence(rng, rng.randint(5, 14)).rstrip(".?").replace("&#8230;", "\u2026")
                summary = _paragraph(rng, site)
                items.append(NewsItem(
                    guid=f"{site}?p={n}", title=title, link=f"{site}{when:%Y/%m/%d}/story-{n}/",
                    published=None if undated else when,
                    author=rng.choice(("Staff", "Associated Press", "Maria Lopez", "J. O'Brien", None)),
                    categories=rng.sample(("Politics", "Local", "State House", "Technology", "Public Safety",
                                           "Opinion", "News"), rng.randint(0, 3)),
                    summary_html=summary if not full or rng.random() < 0.8 else None,
                    content_html=_post(rng, site, n) if full else None))
            feeds.append(NewsFeed(path=path, format=fmt, title=f"Replica {flavor} {fmt} {i:03d}", site_url=site,
                                  items=items, ttl_minutes=60 if fmt == "rss" and rng.random() < 0.5 else None,
                                  cache_max_age=rng.choice((None, 300, 600)),
                                  description=f"Real-world-shaped feed {i}", flavor=flavor))
            i += 1
    return NewsReplica(feeds)
