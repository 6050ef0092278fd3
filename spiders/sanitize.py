"""Make feed and article HTML safe to store and show, and turn it into plain text.

``sanitize_html`` is two steps. First a structural pass over an lxml tree decides what a reader sees:

* kept elements: p, br, a (href only), em, strong, ul, ol, li, blockquote, img (src and alt only), h1-h6;
  ``b``/``i`` become ``strong``/``em``;
* removed with their content: script, style, iframe, object, embed, form and the like;
* every other element is unwrapped (its text is kept). A "leaf" block such as a ``div`` or a table cell
  that holds only text and inline markup becomes a ``p`` so paragraphs stay apart;
* links and images are made absolute against ``base_url``; a link whose URL is not http(s) or mailto is
  unwrapped (its text stays), an image that is not http(s) is removed; a lazy image's ``data-src`` is used
  when its ``src`` is empty or a ``data:`` placeholder;
* tracking pixels are removed: images declared 1x1 or smaller, and images from known counter hosts.

Then the serialised result goes through nh3 (the ammonia sanitiser) with the same allow-list: only the
tags above, only ``a[href]`` and ``img[src, alt]``, only http(s)/mailto URLs (http(s) for images), no
comments, the dangerous elements removed with their content. That gate is the security guarantee: whatever
the structural pass lets through by mistake, nh3 parses the markup as a browser would and drops anything
outside the allow-list. The plain text comes from the structural pass's tree (one parse for both).

Both functions accept anything and return ``""`` rather than raise on input they cannot parse.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html
import nh3

_KEEP = {"p", "br", "a", "em", "strong", "ul", "ol", "li", "blockquote", "img", "h1", "h2", "h3", "h4", "h5", "h6"}
_RENAME = {"b": "strong", "i": "em"}
_DROP_WITH_CONTENT = {
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input", "button",
    "select", "textarea", "option", "noscript", "template", "svg", "math", "canvas", "audio", "video",
    "source", "track", "head", "title", "meta", "link", "base", "param", "map", "area", "dialog",
}
# Void elements: they have no content of their own, but libxml2 sometimes nests the following markup
# inside them (``<embed src=x>text``), so they are unwrapped rather than removed with "their" content.
_VOID_DROP = {"embed", "input", "source", "track", "param", "area", "meta", "link", "base"}
# Elements that break lines in a browser. Unknown ones are unwrapped or turned into <p>.
_BLOCK = {
    "p", "div", "section", "article", "header", "footer", "aside", "nav", "main", "figure", "figcaption",
    "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "ul", "ol", "li", "dl", "dt", "dd",
    "blockquote", "pre", "address", "details", "summary", "hr", "center", "h1", "h2", "h3", "h4", "h5", "h6",
    "body", "html", "fieldset", "legend",
}
# Elements inside which a new <p> must not be opened.
_NO_P_INSIDE = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "a", "em", "strong", "b", "i"}

# Hosts (and optional path prefixes) that serve counting pixels rather than pictures.
_TRACKER_IMAGES = (
    ("feeds.feedburner.com", "/~r/"),
    ("feeds.feedburner.com", "/~ff/"),
    ("feedproxy.google.com", "/~r/"),
    ("pixel.wp.com", ""),
    ("stats.wp.com", ""),
    ("pixel.quantserve.com", ""),
    ("www.google-analytics.com", ""),
    ("google-analytics.com", ""),
    ("b.scorecardresearch.com", ""),
    ("sb.scorecardresearch.com", ""),
    ("pi.feedsportal.com", ""),
    ("feeds.feedblitz.com", "/~/i/"),
    ("www.facebook.com", "/tr"),
)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_URL_JUNK = re.compile(r"[\x00-\x20\x7f]+")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:px)?\s*$", re.IGNORECASE)
_STYLE_SIZE = re.compile(r"(?:^|;)\s*(width|height)\s*:\s*(\d+(?:\.\d+)?)\s*px", re.IGNORECASE)

_LINK_SCHEMES = ("http", "https", "mailto")
_IMAGE_SCHEMES = ("http", "https")
_ATTRIBUTES = {"a": {"href"}, "img": {"src", "alt"}}


def _gate_attribute(tag: str, attr: str, value: str) -> str | None:
    """nh3's url_schemes is one set for every URL attribute: an image's source is held to http(s) here."""
    if tag == "img" and attr == "src":
        m = _SCHEME.match(_URL_JUNK.sub("", value))
        if m and m.group(1).lower() not in _IMAGE_SCHEMES:
            return None
    return value


# The final gate: the allow-list above, enforced by ammonia. "*": no attribute on every tag (ammonia's
# default lets title and lang through); link_rel=None: no rel="noopener noreferrer" added (links carry
# nothing but href). Relative URLs pass (the structural pass has resolved them when it had a base).
_GATE = nh3.Cleaner(
    tags=_KEEP,
    clean_content_tags=_DROP_WITH_CONTENT,
    attributes={"*": set(), **_ATTRIBUTES},
    attribute_filter=_gate_attribute,
    url_schemes=set(_LINK_SCHEMES),
    strip_comments=True,
    link_rel=None,
)


def _parse_fragment(html) -> lxml.html.HtmlElement | None:
    if isinstance(html, bytes):
        html = html.decode("utf-8", "replace")
    if not isinstance(html, str):
        return None
    html = _CONTROL.sub("", html)
    if not html.strip():
        return None
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    return root


def _safe_url(value: str | None, base_url: str | None, schemes: tuple[str, ...]) -> str | None:
    """The URL made absolute against ``base_url``; None when empty or its scheme is not allowed.

    Browsers ignore tabs, newlines and spaces inside a scheme ("java\tscript:"), so the scheme is read
    with all of those removed. A relative URL without ``base_url`` is kept relative.
    """
    if not value or not value.strip():
        return None
    url = value.strip()
    for candidate in (url, None):
        if candidate is None:
            if url.startswith("//"):
                url = urljoin(base_url, url) if base_url else "https:" + url
            elif base_url:
                url = urljoin(base_url, url)
            candidate = url
        m = _SCHEME.match(_URL_JUNK.sub("", candidate))
        if m and m.group(1).lower() not in schemes:
            return None
    return url


def _is_pixel(img: lxml.html.HtmlElement, src: str) -> bool:
    for attr in ("width", "height"):
        m = _SIZE.match(img.get(attr) or "")
        if m and float(m.group(1)) <= 1:
            return True
    for m in _STYLE_SIZE.finditer(img.get("style") or ""):
        if float(m.group(2)) <= 1:
            return True
    try:
        parts = urlsplit(src)
    except ValueError:
        return True
    host = (parts.hostname or "").lower()
    for tracker_host, prefix in _TRACKER_IMAGES:
        if host == tracker_host and parts.path.startswith(prefix):
            return True
    return False


def _remove_keep_tail(el: lxml.html.HtmlElement) -> None:
    el.drop_tree()  # lxml keeps the tail text


def _unwrap(el: lxml.html.HtmlElement, pad: bool) -> None:
    if pad:
        el.text = " " + (el.text or "")
        el.tail = " " + (el.tail or "")
    el.drop_tag()


def _has_block_descendant(el: lxml.html.HtmlElement) -> bool:
    for d in el.iterdescendants():
        if isinstance(d.tag, str) and d.tag.lower() in _BLOCK:
            return True
    return False


def _inside(el: lxml.html.HtmlElement, tags: set[str]) -> bool:
    parent = el.getparent()
    while parent is not None and parent.getparent() is not None:  # stop below the wrapper <div>
        if isinstance(parent.tag, str) and parent.tag.lower() in tags:
            return True
        parent = parent.getparent()
    return False


def sanitize_html(html: str, base_url: str | None = None) -> str:
    """Return a safe HTML fragment (see the module docstring); ``""`` for empty or unparseable input."""
    return sanitize_with_text(html, base_url)[0]


def sanitize_with_text(html: str, base_url: str | None = None) -> tuple[str, str]:
    """``(sanitize_html(html, base_url), html_to_text(<that>))`` from a single parse."""
    try:
        root = _parse_fragment(html)
        if root is None:
            return "", ""
        _clean_tree(root, base_url)
        pieces = []
        if root.text:
            pieces.append(_escape_text(root.text))
        for child in root:
            pieces.append(lxml.html.tostring(child, encoding="unicode", method="html", with_tail=True))
        return _GATE.clean("".join(pieces).strip()).strip(), _tree_text(root)
    except Exception:  # noqa: BLE001 - garbage in, empty strings out (documented)
        return "", ""


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clean_tree(root: lxml.html.HtmlElement, base_url: str | None) -> None:
    # Decide structure on the original tags first, then rewrite: a leaf block becomes <p>.
    elements = [el for el in root.iterdescendants()]
    to_paragraph = set()
    for el in elements:
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        if tag in _BLOCK and tag not in _KEEP and tag not in {"hr", "body", "html"}:
            if (not _has_block_descendant(el) and not _inside(el, _NO_P_INSIDE | {"li"})
                    and (el.text_content() or "").strip()):
                to_paragraph.add(el)

    for el in reversed(elements):  # children before parents, so unwrapping never orphans a pending node
        if el.getparent() is None:
            continue  # defensive: detached nodes need no work
        if not isinstance(el.tag, str):  # comment or processing instruction: no text; the gate strips it
            continue
        tag = el.tag.lower()
        if tag in _VOID_DROP:
            _unwrap(el, pad=False)
            continue
        if tag in _DROP_WITH_CONTENT:
            _remove_keep_tail(el)
            continue
        tag = _RENAME.get(tag, tag)
        if el in to_paragraph:
            tag = "p"
        if tag not in _KEEP:
            _unwrap(el, pad=tag in _BLOCK or tag in {"span", "font", "td", "th"})
            continue
        el.tag = tag
        attrs = dict(el.attrib)
        el.attrib.clear()
        if tag == "a":
            href = _safe_url(attrs.get("href"), base_url, _LINK_SCHEMES)
            if href is None:
                _unwrap(el, pad=False)
                continue
            el.set("href", href)
            if not (el.text_content() or "").strip() and el.find(".//img") is None:
                _remove_keep_tail(el)
        elif tag == "img":
            raw = attrs.get("src")
            if not raw or raw.strip().lower().startswith("data:"):
                raw = attrs.get("data-src") or attrs.get("data-lazy-src") or raw
            src = _safe_url(raw, base_url, _IMAGE_SCHEMES)
            probe = lxml.html.Element("img", {k: v for k, v in attrs.items() if k in ("width", "height", "style")})
            if src is None or _is_pixel(probe, src):
                _remove_keep_tail(el)
                continue
            el.set("src", src)
            if attrs.get("alt"):
                el.set("alt", attrs["alt"])

    # Links whose only content was a removed pixel are empty now.
    for a in list(root.iter("a")):
        if not (a.text_content() or "").strip() and a.find(".//img") is None:
            _remove_keep_tail(a)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment or page: entities decoded, scripts/styles dropped, whitespace folded.

    Block elements (p, div, li, headings, table cells, ``br``...) end a line; lines are stripped, empty
    lines dropped and the lines joined with a single ``\\n``. Returns ``""`` for empty or garbage input.
    """
    try:
        root = _parse_fragment(html)
        if root is None:
            return ""
        return _tree_text(root)
    except Exception:  # noqa: BLE001
        return ""


def _tree_text(root) -> str:
    parts: list[str] = []
    _collect_text(root, parts)
    lines = []
    for line in "".join(parts).split("\n"):
        line = " ".join(line.split())
        if line:
            lines.append(line)
    return "\n".join(lines)


_WS = re.compile(r"\s+")


def _collect_text(el, parts: list[str]) -> None:
    # Source line breaks are ordinary whitespace; "\n" is only added for block boundaries and <br>.
    if el.text:
        parts.append(_WS.sub(" ", el.text))
    for child in el:
        if isinstance(child.tag, str):
            tag = child.tag.lower()
            if tag in _VOID_DROP:
                _collect_text(child, parts)
            elif tag not in _DROP_WITH_CONTENT:
                block = tag in _BLOCK
                if block:
                    parts.append("\n")
                if tag == "br":
                    parts.append("\n")
                elif tag == "img":
                    pass
                else:
                    _collect_text(child, parts)
                if block:
                    parts.append("\n")
        if child.tail:
            parts.append(_WS.sub(" ", child.tail))
