"""Parse an RSS 2.0 / Atom / RDF (RSS 1.0) feed body into ``ParsedFeed`` records. No network, no database.

feedparser does the parsing; it is given the bytes wrapped in a stream, so it never opens a URL or a
file. Decisions a caller must know:

* **Encoding** is decided here, not by feedparser: a byte-order mark wins; then a body that is valid
  UTF-8 is read as UTF-8 whatever it declares (other encodings almost never form valid UTF-8 by
  accident, and servers often mislabel); otherwise the declared charset (``content_type``, then the XML
  declaration) if it decodes, else Windows-1252. ISO-8859-1/ASCII declarations are read as Windows-1252,
  as browsers do. The text is handed to feedparser re-encoded as UTF-8.
* **Errors**: ``FeedError`` with one line: an empty body, an HTML page (the message quotes its
  ``<title>``), a document that is not a feed (root element named), XML cut off before the root's closing
  tag (a truncated transfer: even salvaged items may be cut short), or broken XML from which feedparser
  recovered no item (feedparser's reason is quoted). A well-formed feed with no items is not an error. A
  complete document with an error inside (an unescaped ``&``, a stray tag) is accepted with the items
  feedparser's lenient parser recovered.
* **Items** with neither a title nor a link are skipped. Titles are plain text. For RSS items with a
  ``<source>`` (Google News), ``publisher``/``publisher_url`` come from it and a trailing
  ``" - <publisher>"`` is removed from the title.
* **HTML** in summaries and content is sanitised (``spiders.sanitize``) with relative links resolved
  against the entry's xml:base / the feed URL; ``*_text`` fields are the plain text of the sanitised HTML.
  A plain-text summary is HTML-escaped into ``summary_html``. feedparser copies ``content:encoded`` into
  the summary when an item has no ``<description>``; then summary and content are the same.
* **Dates**: ``published`` (pubDate), else ``updated`` (atom:updated, dc:date), converted to UTC ISO 8601
  with offset; a date without a zone is taken as UTC (feedparser's rule); future dates are kept; no or
  unreadable date -> None, and so is a year outside 1900-9998 (placeholders such as Hugo's
  ``Mon, 01 Jan 0001 00:00:00 +0000``; the rule is in ``spiders.feed_dates``).
"""

from __future__ import annotations

import codecs
import html as html_lib
import io
import re
from urllib.parse import urljoin

import feedparser

from spiders.feed_dates import from_feedparser
from spiders.feed_fast import fast_parse
from spiders.feed_text import html_and_text, plain_text, ttl_minutes
from spiders.records import FeedError, FeedItem, ParsedFeed

_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:-]+)["']""", re.IGNORECASE)
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# Skip the prolog (XML declaration, comments, processing instructions, doctype) to find the root element.
_PROLOG = re.compile(r"""\A(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^<>\[]|\[.*?\])*>)*""", re.DOTALL | re.IGNORECASE)
_ROOT = re.compile(r"<([A-Za-z_][\w.:-]*)")
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.DOTALL | re.IGNORECASE)
_LATIN1_NAMES = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii", "iso-8859-15", "cp819"}
_FEED_ROOT_OPEN = re.compile(r"<(?:[\w.-]+:)?(rss|feed|RDF)[\s>]", re.IGNORECASE)
_FEED_ROOTS = {"rss": "rss", "feed": "atom", "rdf": "rdf", "channel": "rss"}


def _declared_charset(body: bytes, content_type: str | None) -> list[str]:
    names = []
    if content_type:
        m = _CHARSET_PARAM.search(content_type)
        if m:
            names.append(m.group(1))
    m = _XML_DECL.match(body[:512])
    if m:
        names.append(m.group(1).decode("ascii"))
    return names


def _decode(body: bytes, content_type: str | None) -> str:
    """Body bytes -> text (see the module docstring for the order of the guesses)."""
    for bom, codec in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
                       (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if body.startswith(bom):
            return body.decode(codec, "replace")
    head = body.lstrip(b" \t\r\n")[:4]
    if head.startswith(b"<\x00\x00\x00"):
        return body.decode("utf-32-le", "replace")
    if head.startswith(b"\x00\x00\x00<"):
        return body.decode("utf-32-be", "replace")
    if head.startswith(b"<\x00"):
        return body.decode("utf-16-le", "replace")
    if head.startswith(b"\x00<"):
        return body.decode("utf-16-be", "replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for name in _declared_charset(body, content_type):
        name = name.lower()
        if name in _LATIN1_NAMES:
            name = "cp1252"
        try:
            if codecs.lookup(name).name in ("utf-8", "utf-16", "utf-32"):
                continue
            return body.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    try:
        return body.decode("cp1252")
    except UnicodeDecodeError:
        return body.decode("latin-1")


def _root_element(text: str) -> str | None:
    rest = text[_PROLOG.match(text).end():] if text else ""
    m = _ROOT.match(rest)
    if not m:
        return None
    return m.group(1).rpartition(":")[2].lower()


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _bozo_reason(exc, line_shift: int, column_shift: int) -> str:
    """feedparser's complaint as one line, positions in the body as received: "line 5, column 2: mismatched tag".

    ``line_shift``/``column_shift`` undo what was put in front of the body before parsing (see
    ``_for_feedparser``); columns are reported 1-based.
    """
    if exc is None:
        return "unknown error"
    text = _one_line(exc)
    m = re.match(r"^<unknown>:(\d+):(\d+):\s*(.*)$", text)
    if m:
        line, column = int(m.group(1)) + line_shift, int(m.group(2)) + 1
        if line == 1:
            column += column_shift
        return f"line {max(line, 1)}, column {max(column, 1)}: {m.group(3)}"
    return text


_UTF8_DECL = "<?xml version='1.0' encoding='utf-8'?>"  # what feedparser itself writes; same length kept
_LEADING_DECL = re.compile(r"<\?xml\b[^>]*\?>")


def _for_feedparser(text: str) -> tuple[bytes, int, int]:
    """UTF-8 bytes declaring utf-8, and the (line, column-on-line-1) shifts back to the original text."""
    m = _LEADING_DECL.match(text)
    if m:
        return (_UTF8_DECL + text[m.end():]).encode("utf-8"), 0, m.end() - len(_UTF8_DECL)
    return (_UTF8_DECL + "\n" + text).encode("utf-8"), -1, 0


def _html_page_error(text: str) -> FeedError:
    m = _HTML_TITLE.search(text[:200_000])
    if m:
        title = _one_line(html_lib.unescape(re.sub(r"<[^>]+>", " ", m.group(1))), 100)
        if title:
            return FeedError(f"not a feed: got an HTML page (title {title!r})")
    return FeedError("not a feed: got an HTML page (no <title>)")


def _format(version: str, root: str | None) -> str | None:
    if version.startswith("atom"):
        return "atom"
    if version in ("rss090", "rss10"):
        return "rdf"
    if version.startswith("rss"):
        return "rss"
    return _FEED_ROOTS.get(root or "")


def _iso(entry, *keys: str) -> str | None:
    """The first of feedparser's dates ``keys`` that is readable and within the stored range (``spiders.feed_dates``)."""
    for key in keys:
        when = from_feedparser(entry.get(key))
        if when is not None:
            return when
    return None


def _item(entry, feed_url: str, fmt: str) -> FeedItem | None:
    title = plain_text(entry.get("title_detail"), entry.get("title"))
    link = (entry.get("link") or "").strip() or None
    if link and feed_url:
        link = urljoin(feed_url, link)
    if not title and not link:
        return None

    publisher = publisher_url = None
    source = entry.get("source")
    if fmt == "rss" and source:
        publisher = " ".join((source.get("title") or "").split()) or None
        publisher_url = (source.get("href") or "").strip() or None
        if publisher and title.endswith(" - " + publisher) and len(title) > len(publisher) + 3:
            title = title[: -len(" - " + publisher)].rstrip()

    summary_html, summary_text = html_and_text(entry.get("summary_detail"), entry.get("summary"), feed_url)
    content_html = content_text = None
    contents = entry.get("content") or []
    if contents:
        best = max(contents, key=lambda c: ("html" in (c.get("type") or ""), len(c.get("value") or "")))
        content_html, content_text = html_and_text(best, best.get("value"), feed_url)
        if content_html is None:
            content_text = None

    categories = []
    for tag in entry.get("tags") or []:
        term = " ".join((tag.get("term") or tag.get("label") or "").split())
        if term and term not in categories:
            categories.append(term)

    author = plain_text(entry.get("author_detail"), entry.get("author")) or None
    guid = (entry.get("id") or "").strip() or None
    return FeedItem(
        title=title,
        url=link,
        guid=guid,
        summary_html=summary_html,
        summary_text=summary_text,
        content_html=content_html,
        content_text=content_text,
        published_at=_iso(entry, "published_parsed", "updated_parsed", "created_parsed"),
        author=author,
        publisher=publisher,
        publisher_url=publisher_url,
        categories=categories,
    )


def _prepared(body: bytes, content_type: str | None) -> tuple[str, str | None, bytes, int, int]:
    """(text, root element name, UTF-8 bytes for the parsers, line and column shifts); raises FeedError for an
    empty body or an HTML page."""
    if isinstance(body, str):  # tolerated: already-decoded text
        body = body.encode("utf-8")
    if not body or not body.strip():
        raise FeedError("empty body: the server returned no feed content")
    text = _decode(body, content_type)
    text = text.lstrip("\ufeff")
    root = _root_element(text)
    if root == "html" or (root is None and re.search(r"<(?:html|body|head)\b", text[:4096], re.IGNORECASE)):
        raise _html_page_error(text)
    utf8, line_shift, column_shift = _for_feedparser(text)
    return text, root, utf8, line_shift, column_shift


def fast_records(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed | None:
    """What ``parse_feed`` takes from the fast path for this body, or None where it uses feedparser (the fast path
    declined, or the body is an error ``parse_feed`` reports). For the tests that hold both paths to one answer."""
    try:
        utf8 = _prepared(body, content_type)[2]
    except FeedError:
        return None
    return fast_parse(utf8, url)


def parse_feed(body: bytes, url: str, content_type: str | None = None, fast: bool = True) -> ParsedFeed:
    """Parse a feed body fetched from ``url`` (``content_type``: the response's Content-Type, if known).

    Well-formed RSS 2.0, Atom and RDF are read by the lxml fast path (``spiders.feed_fast``);
    whatever it is unsure of, and ``fast=False``, goes through feedparser. Both give the same records
    (``tests/test_feed_conformance.py``).
    """
    text, root, utf8, line_shift, column_shift = _prepared(body, content_type)
    if fast:
        quick = fast_parse(utf8, url)
        if quick is not None:
            return quick
    try:
        parsed = feedparser.parse(
            io.BytesIO(utf8),
            response_headers={"content-type": "application/xml; charset=utf-8", "content-location": url},
            resolve_relative_uris=False,
            sanitize_html=False,
        )
    except Exception as exc:  # noqa: BLE001 - feedparser's own bugs (a <psc:chapter> without start: TypeError)
        raise FeedError(f"the feed parser failed on this feed: {type(exc).__name__}: {exc}") from None
    version = parsed.get("version") or ""
    fmt = _format(version, root)
    bozo = bool(parsed.get("bozo"))
    reason = _bozo_reason(parsed.get("bozo_exception"), line_shift, column_shift)

    if fmt is None:
        what = f"root element <{root}>" if root else "no XML element"
        raise FeedError(f"not a feed: {what}" + (f" ({reason})" if bozo else ""))

    if bozo:
        feed_root = _FEED_ROOT_OPEN.search(text[:65536])
        closing = re.compile(rf"</(?:[\w.-]+:)?{feed_root.group(1)}\s*>", re.IGNORECASE) if feed_root else None
        if closing is not None and not closing.search(text, feed_root.end()):
            # A document cut off in transit: the items feedparser salvaged may be cut off too. Retry later.
            raise FeedError(f"feed XML cut off before its closing </{feed_root.group(1)}>: {reason}")

    items = [item for item in (_item(e, url, fmt) for e in parsed.entries) if item is not None]
    if bozo and not items:
        raise FeedError(f"malformed feed XML with no usable items: {reason}")

    channel = parsed.feed
    ttl = ttl_minutes(channel.get("ttl"))
    link = (channel.get("link") or "").strip() or None
    return ParsedFeed(
        format=fmt,
        title=plain_text(channel.get("title_detail"), channel.get("title")) or None,
        link=urljoin(url, link) if link and url else link,
        ttl_minutes=ttl,
        items=items,
    )
