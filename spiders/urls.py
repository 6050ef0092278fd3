"""Article URLs: a canonical form for de-duplication, and Google News links.

``canonical_url`` is a de-duplication key. It is still a working URL in most cases, but it is not
guaranteed to be one (https is assumed, AMP pages are mapped to their regular page), so keep the original
link for fetching.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import quote_plus, unquote_plus, urlsplit, urlunsplit

# Query parameters that only say where a click came from. Compared case-insensitively.
_TRACKING_PARAMS = {
    "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "mc_cid", "mc_eid", "ocid", "cmpid", "ref", "smid", "_ga",
    "igshid", "twclid", "_hsenc", "_hsmi", "mkt_tok",
}
_AMP_HOST_PREFIX = "amp."
_GOOGLE_NEWS_HOST = "news.google.com"
_GOOGLE_ARTICLE_PATH = re.compile(r"^(?:/__i)?(?:/rss)?(?:/rd)?/articles/(?P<id>[A-Za-z0-9_-]+)/?$")
_NEW_STYLE_PREFIX = b"AU_yqL"
_URL_BYTES = re.compile(rb"https?://[\x21-\x7e]+")
_JUNK = re.compile(r"[\x00-\x20\x7f]")
_MAX_AMP_WRAPPERS = 20  # AMP cache URLs nested deeper are not real links: they are keyed as given


def _strip_host(host: str) -> str:
    """Drop ``www.`` and ``amp.`` prefixes, all of them, so the key of a key is the key ("amp.www.x.org")."""
    host = host.lower().rstrip(".")
    stripped = True
    while stripped:
        stripped = False
        for prefix in ("www.", _AMP_HOST_PREFIX):
            if host.startswith(prefix) and host.count(".") >= 2:
                host = host[len(prefix):]
                stripped = True
    return host


def _encode_junk(text: str) -> str:
    """Percent-encode spaces and control characters, which a key must not hold raw: a trailing one would
    be stripped when the key is canonicalised again, giving another key."""
    return _JUNK.sub(lambda m: "%{:02X}".format(ord(m.group(0))), text)


def _strip_amp_path(path: str) -> str:
    """Map AMP path variants to the regular page until none is left ("/a/amp/amp" -> "/a")."""
    while True:
        before = path
        path = re.sub(r"/amp/?$", "/", path)
        path = re.sub(r"\.amp\.html$", ".html", path)
        if path != "/" and path.endswith("/"):
            path = path.rstrip("/") or "/"
        if path == before:
            return path


def _unwrap_amp_cache(scheme: str, host: str, path: str) -> tuple[str, str, str] | None:
    """Google's AMP viewer and the AMP CDN wrap the publisher URL in the path.

    ``https://www.google.com/amp/s/www.example.com/a/b`` -> ("https", "www.example.com", "/a/b"),
    ``https://example-com.cdn.ampproject.org/c/s/example.com/a`` -> ("https", "example.com", "/a").
    ``/s/`` means the publisher page is https; without it, http (which we upgrade anyway).
    """
    m = None
    if host in ("google.com", "www.google.com") and path.startswith("/amp/"):
        m = re.match(r"^/amp/(?:s/)?(?P<rest>[^/]+.*)$", path)
    elif host.endswith(".cdn.ampproject.org"):
        m = re.match(r"^/[a-z]/(?:s/)?(?P<rest>[^/]+.*)$", path)
    if not m:
        return None
    rest = m.group("rest")
    inner_host, _, inner_path = rest.partition("/")
    if "." not in inner_host:
        return None
    return scheme, inner_host, "/" + inner_path


def _is_tracking(key: str, value: str) -> bool:
    k = key.lower()
    if k.startswith("utm_") or k in _TRACKING_PARAMS:
        return True
    if k == "outputtype" and value.lower() == "amp":
        return True
    if k == "amp" and value.lower() in ("", "1", "true", "yes"):
        return True
    return False


def canonical_url(url: str) -> str:
    """A de-duplication key for an article URL.

    Lowercases scheme and host, turns http into https, drops ``www.`` and ``amp.`` host prefixes, default
    ports, user info is kept; drops the fragment, tracking parameters (``utm_*``, ``fbclid``, ``gclid``,
    ``mc_cid``, ``mc_eid``, ``ocid``, ``cmpid``, ``ref``, ``smid``, ``_ga`` and a few more),
    ``outputType=amp`` and ``amp=1``; maps AMP variants (a trailing ``/amp`` path segment, ``.amp.html``,
    Google AMP cache URLs ``google.com/amp/s/...`` and ``*.cdn.ampproject.org/c/s/...``) to the regular
    page; sorts the remaining query parameters (their original encoding is kept); removes a trailing
    slash except for the root path. The path's case is kept.

    Anything that is not an absolute http(s) URL, or AMP cache URLs nested more than 20 deep, is returned
    stripped but otherwise unchanged. It never raises, and the key of a key is the key itself.
    """
    raw = (url or "").strip()
    for _ in range(_MAX_AMP_WRAPPERS):  # an AMP cache URL wrapping another one, one layer per turn
        inner = _amp_inner(raw)
        if inner is None:
            return _canonical(raw)
        raw = inner
    return (url or "").strip()  # wrapped deeper than any real link: kept as given, like a non-URL


def _amp_inner(raw: str) -> str | None:
    """The publisher URL inside a Google AMP viewer or AMP CDN URL, else None."""
    if raw.startswith("//"):
        raw = "https:" + raw
    try:
        parts = urlsplit(raw)
        parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    # the host as its key has it ("amp.google.com" keys as "google.com"), so the key of a key is the key
    unwrapped = _unwrap_amp_cache(parts.scheme.lower(), _strip_host(parts.hostname), parts.path or "/")
    if unwrapped is None:
        return None
    return f"https://{unwrapped[1]}{unwrapped[2]}" + ("?" + parts.query if parts.query else "")


def _canonical(given: str) -> str:
    raw = "https:" + given if given.startswith("//") else given
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return given
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return given  # not a URL we can key: as given, not even "https:" put in front of "//"
    host = parts.hostname.lower().rstrip(".")
    if not host:  # "//./x": a host of dots only is no host
        return given
    path = parts.path or "/"

    host = _strip_host(host)
    if port is not None and not (port == 443 or (port == 80 and scheme == "http")):
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    netloc = f"{userinfo}@{host}" if userinfo else host

    path = _strip_amp_path(_encode_junk(path))

    kept = []
    for piece in parts.query.split("&"):
        if not piece:
            continue
        key, _, value = piece.partition("=")
        if _is_tracking(unquote_plus(key), unquote_plus(value)):
            continue
        kept.append(_encode_junk(piece))
    kept.sort(key=lambda p: (unquote_plus(p.partition("=")[0]), unquote_plus(p.partition("=")[2]), p))
    return urlunsplit(("https", netloc, path, "&".join(kept), ""))


def is_web_url(url: object) -> bool:
    """An absolute http(s) URL: the only kind of link taken from a source into a page, an email or a feed
    (never ``javascript:``, ``data:``, ``vbscript:`` and the like)."""
    text = re.sub(r"[\x00-\x20]", "", str(url or "")).lower()
    return text.startswith(("http://", "https://")) and len(text) > len("https://")


def web_link(url: object) -> str:
    """``url`` for an ``href`` when it is an http(s) URL, else ``#`` (the Jinja filter ``web_link``)."""
    return str(url).strip() if is_web_url(url) else "#"


def google_news_search_url(base_url: str, query: str) -> str:
    """The Google News RSS search URL for ``query`` (US English edition).

    ``google_news_search_url("https://news.google.com", '"face surveillance" when:7d')`` ->
    ``https://news.google.com/rss/search?q=%22face+surveillance%22+when%3A7d&hl=en-US&gl=US&ceid=US:en``
    """
    return f"{base_url.rstrip('/')}/rss/search?q={quote_plus(query)}&hl=en-US&gl=US&ceid=US:en"


def is_google_news_url(url: str) -> bool:
    """True for any URL on news.google.com (article redirects, searches, topic pages)."""
    try:
        host = urlsplit((url or "").strip()).hostname or ""
    except ValueError:
        return False
    return host.lower().rstrip(".") == _GOOGLE_NEWS_HOST


def _read_varint(data: bytes, pos: int) -> tuple[int, int] | None:
    value = 0
    shift = 0
    while pos < len(data) and shift < 35:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
        shift += 7
    return None


def _valid_http_url(candidate: bytes) -> str | None:
    try:
        text = candidate.decode("ascii")
    except UnicodeDecodeError:
        return None
    if not _URL_BYTES.fullmatch(candidate):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme in ("http", "https") and parts.hostname and "." in parts.hostname:
        return text
    return None


def decode_google_news_url(url: str) -> str | None:
    """The publisher URL hidden in an old-style Google News article link, or None.

    ``https://news.google.com/rss/articles/<id>?oc=5``: ``<id>`` is base64url (padding stripped) of a
    small protobuf message. Old-style ids hold the URL as field 4: bytes ``08 13 22``, a varint length,
    then the URL. New-style ids (since mid-2024) hold an opaque token starting ``AU_yqL`` instead, and
    only Google's servers can resolve them: for those, and for anything that does not decode, this
    returns None and the caller must keep the news.google.com link. No network access.
    """
    try:
        parts = urlsplit((url or "").strip())
    except ValueError:
        return None
    if (parts.hostname or "").lower() != _GOOGLE_NEWS_HOST:
        return None
    m = _GOOGLE_ARTICLE_PATH.match(parts.path)
    if not m:
        return None
    article_id = m.group("id")
    try:
        data = base64.urlsafe_b64decode(article_id + "=" * (-len(article_id) % 4))
    except (binascii.Error, ValueError):
        return None

    if data.startswith(b"\x08\x13\x22"):
        length_and_pos = _read_varint(data, 3)
        if length_and_pos is not None:
            length, pos = length_and_pos
            payload = data[pos:pos + length]
            if payload.startswith(_NEW_STYLE_PREFIX):
                return None
            if len(payload) == length:
                found = _valid_http_url(payload)
                if found:
                    return found
    if _NEW_STYLE_PREFIX in data[:16]:
        return None
    m2 = _URL_BYTES.search(data)
    if m2:
        return _valid_http_url(m2.group(0))
    return None
