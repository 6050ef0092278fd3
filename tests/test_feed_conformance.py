""""Same records as feedparser, or fall back": the fast feed path against feedparser, over feedparser's own test
suite (``tests/data/feedparser-conformance``) and the replica's feeds.

Wherever the fast path answers (``fast_records`` is not None), its records must equal those of the feedparser
path (``parse_feed(..., fast=False)``) field for field; where it declines, ``parse_feed`` uses feedparser, which
is fine. The counts of files each path handled are asserted with floors, so a fast path that declines
everything fails. Figures are in docs/reliability.md ("The fast feed parser against feedparser").
"""

from __future__ import annotations

import dataclasses
import re
import urllib.request
from pathlib import Path
from urllib.parse import quote_plus

import feedparser
import pytest
from feedparser.datetimes import _parse_date

from spiders.feed_dates import from_feedparser, read_date
from spiders.feed_parse import fast_records, parse_feed
from spiders.feed_shapes import FEED_HARMLESS, HANDLED, ITEM_HARMLESS, NAMESPACES
from spiders.records import FeedError

SUITE = Path(__file__).parent / "data" / "feedparser-conformance"
_HEADER = re.compile(rb"Header:\s*Content-type:\s*([^\r\n]*)", re.IGNORECASE)


def _records(body: bytes, url: str, content_type: str | None = None):
    """(fast path's records or None, feedparser path's records or the FeedError's message)."""
    fast = fast_records(body, url, content_type)
    try:
        slow = dataclasses.asdict(parse_feed(body, url, content_type, fast=False))
    except FeedError as exc:
        slow = f"FeedError: {exc}"
    return (dataclasses.asdict(fast) if fast is not None else None), slow


def _compare(cases) -> tuple[int, int, list[str]]:
    """(cases, cases the fast path answered, the names of those where it differed from feedparser)."""
    handled, differ = 0, []
    for name, url, body, content_type in cases:
        fast, slow = _records(body, url, content_type)
        if fast is None:
            continue
        handled += 1
        if fast != slow:
            differ.append(name)
    return len(cases), handled, differ


def _suite_cases():
    files = sorted(p for part in ("wellformed", "illformed") for p in (SUITE / part).rglob("*.xml"))
    out = []
    for path in files:
        body = path.read_bytes()
        m = _HEADER.search(body[:2000])  # the suite's own Content-Type for the file, where it gives one
        out.append((str(path.relative_to(SUITE)), "http://127.0.0.1:8097/" + path.relative_to(SUITE).as_posix(),
                    body, m.group(1).decode("latin-1").strip() if m else None))
    return out


def test_feedparser_suite_the_fast_path_agrees_wherever_it_answers():
    assert feedparser.__version__ == "6.0.14", "the vendored suite is 6.0.14's: vendor the new one (README there)"
    cases = _suite_cases()
    files, handled, differ = _compare(cases)
    print(f"feedparser suite: {files} files, fast path answered {handled}, "
          f"feedparser path the other {files - handled}, differences {len(differ)}")
    assert files == 1758
    assert differ == []
    assert handled >= 780  # 785 today: RSS 2.0, Atom 1.0 and RSS 1.0 of the common shapes (not Atom 0.3: 599 files)


def _replica_cases():
    from tracker.replica.news_model import NewsReplica
    from tracker.replica.news_server import NewsServer

    out = []
    for replica in (NewsReplica.bundled(), NewsReplica.synthetic(12, 20, seed=3)):
        with NewsServer(replica) as srv:
            for variant in (None, "wrong_charset", "no_charset", "no_dates", "future_dates"):
                for path in list(replica.feeds):
                    if variant:
                        getattr(replica, variant).add(path)
                    with urllib.request.urlopen(srv.base_url + path) as response:
                        out.append((f"{variant}:{path}", srv.base_url + path, response.read(),
                                    response.headers.get("Content-Type")))
                    if variant:
                        getattr(replica, variant).discard(path)
            for query in replica.google_results:
                u = f"{srv.base_url}/rss/search?q={quote_plus(query)}&hl=en-US&gl=US&ceid=US:en"
                with urllib.request.urlopen(u) as response:
                    out.append((f"google:{query}", u, response.read(), response.headers.get("Content-Type")))
    return out


def test_replica_feeds_are_all_read_by_the_fast_path_with_feedparser_s_records():
    cases = _replica_cases()
    feeds, handled, differ = _compare(cases)
    print(f"replica feeds: {feeds}, fast path answered {handled}, differences {len(differ)}")
    assert feeds > 80
    assert differ == []
    assert handled == feeds  # our own shapes (WordPress, Arc, plain RSS, Atom, RDF, Google News): never declined


# ----------------------------------------------------------------- elements the fast path lets through


_PREFIX_URIS: dict[str, str] = {}
for _uri, _prefix in NAMESPACES.items():
    _PREFIX_URIS.setdefault(_prefix.lower(), _uri)


def _element(name: str, children=(), attrs: bool = True) -> str:
    """An element feedparser names ``name``, with text (and attributes) that would show if it touched our fields.
    Both with and without attributes: feedparser handles an element it has no start handler for differently when
    it has attributes (``<itunes:keywords>`` adds categories only without)."""
    head, _, rest = name.partition("_")
    if rest and head in _PREFIX_URIS and head:
        tag, decl = f"x{head}:{rest}", f' xmlns:x{head}="{_PREFIX_URIS[head]}"'
    else:
        tag, decl = name, ""
    attributes = (' href="/injected/href" url="/injected/url" rel="alternate" type="text/html" term="injected-term"'
             ' label="injected-label" text="injected-text" start="00:01:02.5"')
    inner = "".join(children) or "Injected &lt;b&gt;text&lt;/b&gt; /injected/text Mon, 01 Jan 2024 00:00:00 GMT"
    if not attrs and name.startswith("psc_"):
        attributes = ' start="00:01:02.5"'  # feedparser 6.0.14 raises TypeError for a psc:chapter without one
    return f"<{tag}{decl}{attributes if attrs or name.startswith('psc_') else ''}>{inner}</{tag}>"


def _with_children(name: str, table, attrs: bool) -> str:
    return _element(name, [_element(child, attrs=attrs) for child in sorted(table[name]) if child != name], attrs)


_RSS = ('<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>{channel}<title>Feed</title>'
        '<link>https://example.org/</link><item>{item}<title>Item</title><link>https://example.org/a</link>'
        '<guid isPermaLink="false">g1</guid><description>&lt;p&gt;Summary&lt;/p&gt;</description>'
        '<pubDate>Tue, 02 Jan 2024 10:00:00 GMT</pubDate><dc:creator>Writer</dc:creator><category>C</category>'
        '</item>{channel_after}</channel></rss>')
_RSS_AFTER = ('<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Feed</title>'
              '<link>https://example.org/</link>{channel}<item><title>Item</title><link>https://example.org/a</link>'
              '<guid isPermaLink="false">g1</guid><description>&lt;p&gt;Summary&lt;/p&gt;</description>'
              '<pubDate>Tue, 02 Jan 2024 10:00:00 GMT</pubDate><dc:creator>Writer</dc:creator><category>C</category>'
              '{item}</item>{channel_after}</channel></rss>')
_RSS_BARE = '<rss version="2.0"><channel>{channel}<item><link>https://example.org/a</link>{item}</item>{channel_after}</channel></rss>'
_ATOM = ('<feed xmlns="http://www.w3.org/2005/Atom">{channel}<title>Feed</title><link href="https://example.org/"/>'
         '<id>urn:feed</id><entry>{item}<title>Item</title><link href="https://example.org/a"/><id>urn:a</id>'
         '<summary>Summary</summary><updated>2024-01-02T10:00:00Z</updated><author><name>Writer</name></author>'
         '<category term="C"/></entry>{channel_after}</feed>')
_ATOM_AFTER = ('<feed xmlns="http://www.w3.org/2005/Atom"><title>Feed</title><link href="https://example.org/"/>'
               '<id>urn:feed</id>{channel}<entry><title>Item</title><link href="https://example.org/a"/><id>urn:a</id>'
               '<summary>Summary</summary><updated>2024-01-02T10:00:00Z</updated><author><name>Writer</name></author>'
               '<category term="C"/>{item}</entry>{channel_after}</feed>')
_ATOM_BARE = ('<feed xmlns="http://www.w3.org/2005/Atom">{channel}<entry><link href="https://example.org/a"/>{item}'
              '</entry>{channel_after}</feed>')


@pytest.mark.parametrize("template", [_RSS, _RSS_AFTER, _RSS_BARE, _ATOM, _ATOM_AFTER, _ATOM_BARE],
                         ids=["rss", "rss-after", "rss-bare", "atom", "atom-after", "atom-bare"])
def test_every_element_the_fast_path_passes_over_leaves_feedparser_s_records_unchanged(template):
    """Each element ``spiders.feed_shapes`` calls harmless, with hostile attributes and text, before and after the
    elements the fast path reads, and where those are missing (so a fallback of feedparser's would show): the
    fast path must still answer, with feedparser's records."""
    checked = 0
    for where, table in (("item", ITEM_HARMLESS), ("channel", FEED_HARMLESS), ("channel_after", FEED_HARMLESS)):
        for name in sorted(table):
            for attrs in (True, False):
                element = _with_children(name, table, attrs)
                body = template.format(**{w: element if w == where else "" for w in ("item", "channel", "channel_after")})
                fast, slow = _records(body.encode(), "https://example.org/feed")
                assert fast is not None, (where, name, attrs)
                assert fast == slow, (where, name, attrs)
                checked += 1
    assert checked == 2 * (len(ITEM_HARMLESS) + 2 * len(FEED_HARMLESS))


@pytest.mark.parametrize("element", [
    '<media:title xmlns:media="http://search.yahoo.com/mrss/">Other title</media:title>',
    '<dc:title>Other title</dc:title>',
    '<itunes:keywords xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">a, b</itunes:keywords>',
    '<itunes:summary xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">Other</itunes:summary>',
    '<media:content xmlns:media="http://search.yahoo.com/mrss/" url="/v.mp4"><media:title>T</media:title></media:content>',
    '<x:wrapper xmlns:x="urn:unknown"><title>Nested title</title></x:wrapper>',
    '<title xmlns="urn:unknown">Default-namespace title</title>',
    '<dc:creator xmlns:dc="urn:not-dc">Someone</dc:creator>',
    '<updated>2024-05-05T00:00:00Z</updated>',
    '<lastBuildDate>Tue, 02 Jan 2024 10:00:00 GMT</lastBuildDate>',
    '<atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="self">http://example.org/other</atom:link>',  # no href
    '<atom:link xmlns:atom="http://www.w3.org/2005/Atom" href="http://example.org/other"/>',  # alternate
])
def test_the_fast_path_declines_items_with_elements_feedparser_reads_into_our_fields(element):
    body = _RSS.format(item=element, channel="", channel_after="").encode()
    assert fast_records(body, "https://example.org/feed") is None
    parse_feed(body, "https://example.org/feed")  # feedparser reads it


def test_the_tables_of_feedparser_are_those_of_the_installed_feedparser():
    parser = feedparser.api.StrictFeedParser
    assert NAMESPACES == {uri.lower(): prefix for uri, prefix in parser.namespaces.items()}
    assert HANDLED == {n.split("_", 2)[2].lower() for n in dir(parser) if n.startswith(("_start_", "_end_"))}


# ----------------------------------------------------------------- dates


def _feed_with_dates(*dates: str, atom: bool = False) -> bytes:
    if atom:
        tags = ("published", "updated")
        dated = "".join(f"<{t}>{d}</{t}>" for t, d in zip(tags, dates))
        return ('<feed xmlns="http://www.w3.org/2005/Atom"><title>Hugo site</title><entry><title>Post</title>'
                f'<link href="https://example.org/post/"/><id>https://example.org/post/</id>{dated}</entry></feed>'
                ).encode()
    tags = ("pubDate", "dc:date")
    dated = "".join(f"<{t}>{d}</{t}>" for t, d in zip(tags, dates))
    return ('<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Hugo site</title>'
            f'<item><title>Post</title><link>https://example.org/post/</link>{dated}</item></channel></rss>').encode()


@pytest.mark.parametrize("date,atom", [
    ("Mon, 01 Jan 0001 00:00:00 +0000", False),  # Hugo's placeholder: was stored as 2001-01-01 by the fast path
    ("Mon, 01 Jan 0001 00:00:00 -0500", False),
    ("Sat, 31 Dec 1899 23:59:59 GMT", False),
    ("Sat, 01 Jan 1900 00:30:00 +0100", False),  # 1899 in UTC
    ("Fri, 31 Dec 9999 23:00:00 GMT", False),
    ("0001-01-01T00:00:00Z", True),
    ("0001-01-01T00:00:00+00:00", True),
    ("1899-12-31T23:59:59Z", True),
    ("9999-06-01T00:00:00Z", True),
])
def test_a_year_out_of_range_is_stored_as_no_date_on_both_paths(date, atom):
    body = _feed_with_dates(date, atom=atom)
    fast = fast_records(body, "https://example.org/index.xml")
    slow = parse_feed(body, "https://example.org/index.xml", fast=False)
    assert fast is not None  # the fast path answers (it does not leave the date to feedparser)
    assert fast.items[0].published_at is None
    assert slow.items[0].published_at is None


def test_year_one_east_of_utc_is_left_to_feedparser_and_stored_as_no_date():
    """Year 1 at +05:00 is before year 1 in UTC: feedparser's RFC 822 reader overflows and another of its readers
    finds year 500; the fast path declines such a date rather than guess, and the rule stores none."""
    body = _feed_with_dates("Mon, 01 Jan 0001 00:00:00 +0500")
    assert fast_records(body, "https://example.org/") is None
    assert parse_feed(body, "https://example.org/").items[0].published_at is None


@pytest.mark.parametrize("atom", [False, True])
def test_an_out_of_range_published_date_gives_way_to_the_updated_date_on_both_paths(atom):
    published = "0001-01-01T00:00:00Z" if atom else "Mon, 01 Jan 0001 00:00:00 +0000"
    body = _feed_with_dates(published, "2024-03-04T05:06:07Z", atom=atom)
    for feed in (fast_records(body, "https://example.org/"), parse_feed(body, "https://example.org/", fast=False)):
        assert feed.items[0].published_at == "2024-03-04T05:06:07+00:00"


@pytest.mark.parametrize("date,stored", [
    ("Mon, 01 Jan 1900 00:00:00 GMT", "1900-01-01T00:00:00+00:00"),  # the range's ends are kept
    ("Fri, 31 Dec 9998 18:00:00 -0500", "9998-12-31T23:00:00+00:00"),
    ("Mon, 01 Jan 01 00:00:00 +0000", "2001-01-01T00:00:00+00:00"),  # a two-digit year is a recent one
    ("Wed, 01 Jan 75 00:00:00 +0000", "2075-01-01T00:00:00+00:00"),  # feedparser's rule (email.utils says 1975)
    ("Fri, 01 Jan 99 00:00:00 +0000", "1999-01-01T00:00:00+00:00"),
])
def test_dates_within_the_range_are_stored_the_same_on_both_paths(date, stored):
    body = _feed_with_dates(date)
    fast = fast_records(body, "https://example.org/")
    assert fast is not None
    assert fast.items[0].published_at == stored
    assert parse_feed(body, "https://example.org/", fast=False).items[0].published_at == stored


def test_the_fast_date_reader_agrees_with_feedparser_or_declines():
    stamps = [f"{d}, {day} {mon} {year} {hh}:{mm}{ss} {zone}" for d in ("Mon", "Thursday")
              for day in ("1", "09", "31") for mon in ("Jan", "Feb", "June") for year in ("24", "89", "90", "2024", "0001")
              for hh, mm, ss in (("00", "00", ":00"), ("23", "59", ""), ("7", "05", ":59"))
              for zone in ("GMT", "+0000", "-0500", "+0530", "EST", "PDT", "UT", "Z", "CEST", "+05:00")]
    stamps += [f"{year}-{md}{time}{zone}" for year in ("2024", "0001", "1899", "9999") for md in ("02-29", "12-31", "06-15")
               for time in ("", "T10:00", "T10:00:59", "T23:59:59.123456", "t01:02:03")
               for zone in ("", "Z", "z", "+00:00", "-05:00", "+05:30", "+0530", "-1200")]
    stamps += ["", "  ", "sometime last week", "2024-W05-1", "20240102T100000Z", "Tue, 02 Jan 2024", "1/2/2024"]
    read = 0
    for stamp in stamps:
        try:
            mine = read_date(stamp)
        except ValueError:
            continue
        read += 1
        assert mine == from_feedparser(_parse_date(stamp)), stamp
    assert read > len(stamps) // 2


# ----------------------------------------------------------------- differences found, now read as feedparser does

_R = '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title><item>{}</item></channel></rss>'
_A = '<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry>{}</entry></feed>'


@pytest.mark.parametrize("body", [
    _R.format('<title>A</title><link>http://x/a</link><pubDate>Wed, 01 Jan 75 00:00:00 +0000</pubDate>'),  # 2075
    _R.format('<title>A</title><link>http://x/a</link><pubDate>Wed, 01 Jan 2025 00:00:00 CEST</pubDate>'),  # as UTC
    _R.format('<title>A</title><guid>abc</guid>'),  # a relative permalink guid: resolved, and the link
    _R.format('<title>A</title><guid isPermaLink="True">http://x/g</guid>'),  # "True" is not "true": no link
    _R.format('<title>A</title><link>http://x/a?b=1&amp;amp;c=2</link>'),
    _R.format('<title>CafÃ©</title><link>http://x/a</link>'),  # UTF-8 read as Latin-1, read again
    _R.format('<title>A \u0093quoted\u0094</title><link>http://x/a</link>'),  # C1 controls as Windows-1252
    _R.format('<title>A</title><link>http://x/a</link><dc:subject>S</dc:subject><category>C</category>'),
    _A.format('<title>A</title><link href="http://x/1" type="application/pdf"/><link href="http://x/2"/>'
              '<link rel="alternate" type="text/html" href="/3"/>'),  # the last alternate HTML link
    _A.format('<title>A</title><id>urn:uuid:1</id>'),  # the id is the link
    _A.format('<title>A</title><link href="http://x/a"/><content type="text">a &lt;b&gt; c</content>'),
    _A.format('<title>A</title><link href="http://x/a"/><author><name>J</name><email>j@example.org</email></author>'),
    _A.format('<title>A</title><link href="http://x/a"/><content type="html" xml:base="http://x/base/">'
              '&lt;a href="rel"&gt;x&lt;/a&gt;</content>'),
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel>'
    '<title>T</title></channel><item><title>A</title><link>http://x/a</link></item></rdf:RDF>',  # no rdf:about: no guid
], ids=["two-digit-year", "unknown-zone", "relative-guid", "permalink-True", "link-entities", "mojibake", "c1",
        "category-order", "last-alternate", "atom-id-link", "summary-from-text-content", "atom-author-email",
        "content-xml-base", "rdf-no-about"])
def test_shapes_the_fast_path_read_differently_now_give_feedparser_s_records(body):
    fast, slow = _records(body.encode(), "http://h/feed")
    assert fast is not None
    assert fast == slow
