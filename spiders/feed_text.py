"""Text constructs of a feed, read the same way by both feed parsers.

``spiders.feed_parse`` (feedparser) and ``spiders.feed_fast`` (lxml) must give the same records
for the same feed, so the rules for titles, summaries, content and ``<ttl>`` live here, once.
"""

from __future__ import annotations

import html as html_lib
import re

from spiders.sanitize import html_to_text, sanitize_with_text

TAG_LIKE = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")


def ttl_minutes(value: str | None) -> int | None:
    """RSS ``<ttl>`` as minutes: ASCII digits only (``str.isdigit`` also accepts "²", which ``int`` refuses),
    at most a year; anything else is None."""
    raw = (value or "").strip()
    if not re.fullmatch(r"[0-9]{1,9}", raw) or int(raw) > 525_600:
        return None
    return int(raw)


def plain_text(detail, value: str | None) -> str:
    """A text construct as plain text (titles, names). ``detail``: feedparser's ``*_detail`` (or a dict
    with its ``type``)."""
    if not value:
        return ""
    kind = (detail or {}).get("type", "text/plain") if hasattr(detail, "get") else "text/plain"
    # RSS titles are "plain text" that very often carries escaped markup (<b>, even <script>):
    # text that looks like tags is read as HTML, so a title is never markup.
    if "html" in kind or TAG_LIKE.search(value):
        return " ".join(html_to_text(value).split())
    return " ".join(value.split())


def html_and_text(detail, value: str | None, base: str) -> tuple[str | None, str]:
    """(sanitised HTML, plain text) of a summary or content construct; relative links resolved against
    ``detail``'s ``base`` (xml:base), else ``base``."""
    if value is None or not value.strip():
        return None, ""
    if hasattr(detail, "get"):
        kind = detail.get("type") or "text/html"
        base = detail.get("base") or base
    else:
        kind = "text/html"
    if "html" not in kind:
        text = "\n".join(line for line in (" ".join(x.split()) for x in value.splitlines()) if line)
        return html_lib.escape(text, quote=False), text
    return sanitize_with_text(value, base_url=base or None)
