"""The readable text and metadata of an article page (already fetched; no network here).

``extract_article`` runs trafilatura on the page (``favor_precision``, no comments, no tables' worth of
navigation) and, when trafilatura finds nothing, falls back to BeautifulSoup: the ``<article>`` element,
else the element holding the most paragraph text.

Returned fields:

* ``title``: trafilatura's title (og:title / <title> / h1 based); None when the page has none.
* ``text``: paragraphs separated by ``"\\n"``; ``""`` when nothing readable was found.
* ``canonical_url``: ``<link rel="canonical">``, else ``og:url``, made absolute against ``url``; None when
  the page declares neither. It is the page's own claim, not ``urls.canonical_url`` of it.
* ``published_at``: from ``article:published_time`` and similar meta tags, JSON-LD ``datePublished``,
  ``<time datetime>``, else trafilatura's date. A full timestamp is returned as ISO 8601 in UTC with offset
  (a timestamp without an offset is read as Boston time, since these are Massachusetts outlets); when
  only a day is known, a bare ``YYYY-MM-DD``; None when the page gives no date.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

import lxml.html
import trafilatura
from bs4 import BeautifulSoup

from spiders.billids import STATE_HOUSE_TZ

log = logging.getLogger(__name__)

_META_DATE_KEYS = (
    "article:published_time", "og:published_time", "datepublished", "date", "pubdate", "publishdate",
    "publish-date", "parsely-pub-date", "sailthru.date", "dc.date", "dc.date.issued", "dcterms.created",
)
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_FALLBACK_DROP = (
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "iframe", "svg",
)


@dataclass
class Extracted:
    title: str | None
    text: str
    canonical_url: str | None
    published_at: str | None


def _decode(html: bytes | str) -> str:
    if isinstance(html, str):
        return html
    if html.startswith(b"\xef\xbb\xbf"):
        return html[3:].decode("utf-8", "replace")
    try:
        return html.decode("utf-8")
    except UnicodeDecodeError:
        pass
    m = _CHARSET.search(html[:4096])
    if m:
        name = m.group(1).decode("ascii", "ignore").lower()
        if name in ("iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii"):
            name = "cp1252"  # what browsers do
        try:
            return html.decode(name)
        except (LookupError, UnicodeDecodeError):
            pass
    return html.decode("cp1252", "replace")


def _iso(value: str | None) -> str | None:
    """ISO 8601 UTC for a timestamp, ``YYYY-MM-DD`` for a bare day, None if unreadable."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=STATE_HOUSE_TZ)
    return parsed.astimezone(timezone.utc).isoformat()


def _jsonld_dates(obj) -> list[str]:
    found = []
    if isinstance(obj, dict):
        if isinstance(obj.get("datePublished"), str):
            found.append(obj["datePublished"])
        for v in obj.values():
            if isinstance(v, (dict, list)):
                found.extend(_jsonld_dates(v))
    elif isinstance(obj, list):
        for v in obj:
            found.extend(_jsonld_dates(v))
    return found


def _page_metadata(doc, url: str) -> tuple[str | None, str | None, str | None]:
    """(canonical_url, published_at, og/title fallback title) from the page head."""
    canonical = None
    for link in doc.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        if "canonical" in rels and (link.get("href") or "").strip():
            canonical = urljoin(url, link.get("href").strip())
            break
    metas = {}
    for meta in doc.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        content = (meta.get("content") or "").strip()
        if key and content and key not in metas:
            metas[key] = content
    if canonical is None and metas.get("og:url"):
        canonical = urljoin(url, metas["og:url"])

    published = None
    for key in _META_DATE_KEYS:
        published = _iso(metas.get(key))
        if published:
            break
    if published is None:
        for script in doc.iter("script"):
            if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
                continue
            try:
                data = json.loads(script.text)
            except ValueError:
                continue
            for value in _jsonld_dates(data):
                published = _iso(value)
                if published:
                    break
            if published:
                break
    if published is None:
        for t in doc.iter("time"):
            published = _iso(t.get("datetime"))
            if published:
                break

    title = metas.get("og:title")
    if not title:
        t = doc.find(".//title")
        title = " ".join(t.text_content().split()) if t is not None else None
    return canonical, published, title or None


def _fallback_text(html: str) -> str:
    """Text of <article>, else of the element whose direct <p> children hold the most text."""
    soup = BeautifulSoup(html, "lxml")
    for tag in soup.find_all(_FALLBACK_DROP):
        tag.decompose()

    def paragraphs(container) -> list[str]:
        return [t for t in (" ".join(p.get_text(" ").split()) for p in container.find_all("p")) if t]

    article = soup.find("article")
    if article is not None:
        paras = paragraphs(article)
        if paras:
            return "\n".join(paras)
        return "\n".join(line for line in (" ".join(x.split()) for x in article.get_text("\n").split("\n")) if line)

    best, best_len = None, 0
    scores: dict[int, tuple[object, int]] = {}
    for p in soup.find_all("p"):
        parent = p.parent
        if parent is None:
            continue
        length = len(" ".join(p.get_text(" ").split()))
        prev = scores.get(id(parent), (parent, 0))[1]
        scores[id(parent)] = (parent, prev + length)
    for parent, total in scores.values():
        if total > best_len:
            best, best_len = parent, total
    if best is None:
        return ""
    return "\n".join(t for t in (" ".join(p.get_text(" ").split()) for p in best.find_all("p", recursive=False)) if t)


def extract_article(html: bytes | str, url: str) -> Extracted:
    """Extract an article page's title, text, canonical URL and publication time (see the module docstring)."""
    text_html = _decode(html or b"")
    if not text_html.strip():
        return Extracted(None, "", None, None)

    canonical = published = page_title = None
    try:
        doc = lxml.html.document_fromstring(text_html)
        canonical, published, page_title = _page_metadata(doc, url)
    except Exception as exc:  # noqa: BLE001 - unparseable head: keep going with trafilatura
        log.debug("could not read the metadata of %s: %s", url, exc)

    result = None
    try:
        result = trafilatura.bare_extraction(
            text_html, url=url, favor_precision=True, include_comments=False, include_tables=False,
            with_metadata=True,
        )
    except Exception as exc:  # noqa: BLE001 - trafilatura failures fall back to bs4
        log.debug("trafilatura failed on %s: %s", url, exc)

    title = text = None
    traf_date = None
    if result is not None:
        title = (getattr(result, "title", None) or "").strip() or None
        text = (getattr(result, "text", None) or "").strip() or None
        traf_date = getattr(result, "date", None)
    if not text:
        try:
            text = _fallback_text(text_html)
        except Exception as exc:  # noqa: BLE001
            log.debug("fallback extraction failed on %s: %s", url, exc)
            text = ""
    if published is None:
        published = _iso(traf_date)
    return Extracted(title=title or page_title, text=text or "", canonical_url=canonical, published_at=published)
