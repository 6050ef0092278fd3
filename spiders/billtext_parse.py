"""Pure parsers for a bill's text, whatever its source.

* :func:`normalise_text` takes any text (the API's ``DocumentText``, a page's text, bytes with the
  charset they were declared in) and returns a :class:`TextCheck`: the text in one canonical form
  (one paragraph a line, whitespace folded, "Be it enacted..." and every "SECTION N." starting their
  own line) and flags for the event that records it:

  - ``html``: the text was HTML (tags or entities), converted to plain text;
  - ``wrong-encoding``: bytes declared in one charset were in another (UTF-8 declared, Windows-1252
    sent, or the other way round); decoded with the one that fits;
  - ``mojibake-repaired``: UTF-8 read as Windows-1252 or Latin-1 ("Ã©", "â€™") turned back, where the
    bytes decode as UTF-8 without doubt;
  - ``empty``: nothing left (never to be recorded over a real text);
  - ``no-sections``: no "SECTION N." heading (a resolve, an order, a page that is not the bill);
  - ``large``: more than :data:`LARGE_BYTES` of UTF-8; kept whole.

* :func:`parse_text_page` reads the bill's HTML text page, ``/Bills/{gc}/{id}.Html`` (a word
  processor's HTML: the cover sheet with the petitioners, then the bill), or the "View Text" tab
  ``/Bills/{gc}/{id}/{House|Senate}/Bill/Text`` (the fragment, or the whole page without
  ``X-Requested-With``): navigation, scripts and the cover sheet dropped, the bill from its
  emergency preamble or enacting clause on.

* :func:`split_sections` (from :mod:`spiders.billtext_sections`) cuts a text into its sections.

No network, no database.
"""

from __future__ import annotations

import codecs
import html
import re
from dataclasses import dataclass

import lxml.etree
import lxml.html

from spiders.billtext_sections import Section, has_sections, split_sections
from spiders.docket_parse import plain_text
from spiders.malegislature_parse import is_oh_my_cod
from spiders.records import BillNotFound, ParseError

__all__ = [
    "LARGE_BYTES",
    "Section",
    "TextCheck",
    "normalise_text",
    "parse_text_page",
    "repair_mojibake",
    "split_sections",
    "text_page_url",
    "text_tab_url",
]

LARGE_BYTES = 1_000_000  # a text above this is flagged "large" (PostgreSQL's tsvector holds at most 1 MB)


@dataclass(frozen=True)
class TextCheck:
    """A text in canonical form ("" when empty) and what was wrong with it (see the module)."""

    text: str
    flags: tuple[str, ...] = ()

    @property
    def words(self) -> int:
        return len(self.text.split())

    @property
    def empty(self) -> bool:
        return not self.text

    def sections(self) -> list[Section]:
        return split_sections(self.text)


# --------------------------------------------------------------------------- URLs


def text_page_url(base: str, gc: int | str, number: str) -> str:
    """``{base}/Bills/{gc}/{number}.Html``: the bill's text as a page of its own."""
    return f"{base.rstrip('/')}/Bills/{gc}/{number}.Html"


def text_tab_url(base: str, gc: int | str, number: str) -> str:
    """``{base}/Bills/{gc}/{number}/{House|Senate}/Bill/Text``: the bill page's "View Text"."""
    chamber = "Senate" if number.upper().startswith("S") else "House"
    return f"{base.rstrip('/')}/Bills/{gc}/{number}/{chamber}/Bill/Text"


# --------------------------------------------------------------------------- bytes and characters


def _codec(name: str | None) -> str | None:
    try:
        return codecs.lookup(name.strip()).name if name and name.strip() else None
    except LookupError:
        return None


_UNDEFINED_1252 = frozenset(b"\x81\x8d\x8f\x90\x9d")


def _windows_1252(data: bytes) -> str:
    """Windows-1252, its five undefined bytes read as Latin-1 (as browsers do)."""
    if not _UNDEFINED_1252.intersection(data):
        return data.decode("cp1252")
    return "".join(chr(b) if b in _UNDEFINED_1252 else bytes((b,)).decode("cp1252") for b in data)


def decode(data: bytes, declared: str | None = None) -> tuple[str, list[str]]:
    """``data`` as text, and ``["wrong-encoding"]`` when the declared charset was not the one used.

    A byte order mark wins. Bytes that are valid UTF-8 (and not plain ASCII) are UTF-8 whatever was
    declared: Windows-1252 text is almost never valid UTF-8. Bytes that are not are read with the
    declared charset, or with Windows-1252 when UTF-8 (or nothing) was declared."""
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                       (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(codec, errors="replace"), []
    name = _codec(declared)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        if name and name not in ("utf-8", "ascii"):
            try:
                return data.decode(name), []
            except UnicodeDecodeError:
                pass
        return _windows_1252(data), ["wrong-encoding"]
    wrong = name is not None and name not in ("utf-8", "ascii") and not data.isascii()
    return text, ["wrong-encoding"] if wrong else []


# a UTF-8 lead byte then continuation bytes, as Windows-1252 (or Latin-1) shows them
_CONT = "\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201a" \
        "\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
_MOJIBAKE = re.compile(f"[\u00c2-\u00f4][{_CONT}]{{1,3}}")


def _as_byte(ch: str) -> int | None:
    if ord(ch) < 256:
        return ord(ch)
    try:
        return ch.encode("cp1252")[0]
    except UnicodeEncodeError:
        return None


def _unmangle(m: re.Match) -> str:
    run = m.group()
    lead = _as_byte(run[0])
    need = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
    if len(run) < need:
        return run
    raw = bytes(_as_byte(ch) for ch in run[:need])
    try:
        return raw.decode("utf-8") + run[need:]
    except UnicodeDecodeError:
        return run


def repair_mojibake(text: str) -> str:
    """UTF-8 that was read as Windows-1252 or Latin-1 turned back ("â€™" -> "’", "Ã©" -> "é",
    "Â§" -> "§"); twice mangled text too. Runs that do not decode as UTF-8 are left alone."""
    for _ in range(2):
        fixed = _MOJIBAKE.sub(_unmangle, text)
        if fixed == text:
            break
        text = fixed
    return text


# --------------------------------------------------------------------------- canonical form

_HTML_TAG = re.compile(r"</?(?:p|br|div|span|html|body|head|table|tbody|tr|td|th|b|i|u|em|strong|font|li|ul|ol|"
                       r"h[1-6]|pre|meta|style|script|center|blockquote|a)\b[^<>]*>", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,7}|#\d{1,7}|#[xX][0-9A-Fa-f]{1,6});")
_UNWANTED = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\u00ad\u200b-\u200d\u2060\ufeff\ud800-\udfff]")
_SPACES = re.compile(r"[\t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_BREAKS = re.compile(r"\r\n?|[\x0c\u2028\u2029\x85]")
# a section heading or the enacting clause glued to the words before them
_GLUED = re.compile(r"(?<=[.:;])\s+(?=SECTION\s+\d+[A-Za-z]?\s*[.:]\s|Be it enacted by the )")


def _canonical(text: str) -> str:
    text = _SPACES.sub(" ", _UNWANTED.sub("", _BREAKS.sub("\n", text)))
    lines = []
    for line in text.split("\n"):
        line = " ".join(line.split())
        if line:
            lines.extend(_GLUED.sub("\n", line).split("\n"))
    return "\n".join(lines)


def normalise_text(value: str | bytes | None, charset: str | None = None) -> TextCheck:
    """Any text in canonical form, with its flags (see the module). ``charset``: what the bytes
    were declared in (a ``Content-Type`` header's), if they are bytes."""
    flags: list[str] = []
    if value is None:
        value = ""
    if isinstance(value, (bytes, bytearray)):
        value, found = decode(bytes(value), charset)
        flags += found
    if _HTML_TAG.search(value):
        value = plain_text(value) or ""
        flags.append("html")
    elif _ENTITY.search(value):
        value = html.unescape(value)
        flags.append("html")
    return _checked(value, flags)


def _checked(value: str, flags: list[str]) -> TextCheck:
    repaired = repair_mojibake(value)
    if repaired != value:
        flags.append("mojibake-repaired")
    text = _canonical(repaired)
    if not text:
        flags.append("empty")
    elif not has_sections(text):
        flags.append("no-sections")
    if len(text) > LARGE_BYTES // 4 and len(text.encode("utf-8")) > LARGE_BYTES:
        flags.append("large")
    return TextCheck(text, tuple(dict.fromkeys(flags)))


# --------------------------------------------------------------------------- the HTML text page

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_CHROME = ("script", "style", "noscript", "template", "head", "header", "nav", "footer", "form", "aside",
           "button", "iframe", "object")
_CONTAINERS = ("//*[contains(concat(' ', normalize-space(@class), ' '), ' billText ')]",
               "//*[contains(concat(' ', normalize-space(@class), ' '), ' modal-body ')]",
               "//*[@id='contentContainer']")
_ENACTING = re.compile(r"^be it enacted\b", re.IGNORECASE)
_PREAMBLE = re.compile(r"^whereas\b|\bemergency law\b", re.IGNORECASE)
_OTHER_START = re.compile(r"^(?:resolved|ordered)\s*[,:]|^SECTION\s+1[A-Za-z]?\s*[.:]")
_WALL = re.compile(r"<title>\s*Just a moment", re.IGNORECASE)


_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


def _page_lines(markup: str, url: str) -> list[str]:
    markup = _XML_DECL.sub("", markup, count=1)  # lxml refuses a str that declares an encoding
    try:
        root = lxml.html.fromstring(markup)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ParseError(f"text page from {url} is not HTML: {exc}", url=url) from None
    for el in list(root.iter(*_CHROME)):
        if el.getparent() is not None:
            el.drop_tree()
    for el in root.xpath("//*[@role='navigation' or @role='banner' or @role='contentinfo']"):
        if el.getparent() is not None:
            el.drop_tree()
    container = root
    for path in _CONTAINERS:
        found = root.xpath(path)
        if found:
            container = found[0]
            break
    text = plain_text(lxml.html.tostring(container, encoding="unicode")) or ""
    return [line for line in _canonical(text).split("\n") if line]


_COVER_END = re.compile(r"^PETITION OF:?$", re.IGNORECASE)
_COURT = re.compile(r"^In the .{3,80} General Court\b", re.IGNORECASE)


def _bill_start(lines: list[str]) -> int:
    """Where the bill begins: its emergency preamble or enacting clause; else "Resolved,", "Ordered,"
    or "SECTION 1."; else the top. A cover sheet (it ends with "PETITION OF:" and its table) is
    skipped to the bill's "In the ... General Court" heading; with no such heading there is no bill
    (``len(lines)``)."""
    start = 0
    if any(_COVER_END.match(line) for line in lines):
        court = next((i for i, line in enumerate(lines) if _COURT.match(line)), None)
        if court is None:
            return len(lines)
        start = court + 1
    for i in range(start, len(lines)):
        if _ENACTING.match(lines[i]):
            while i > start and _PREAMBLE.search(lines[i - 1]):
                i -= 1
            return i
    for i in range(start, len(lines)):
        if _OTHER_START.match(lines[i]):
            return i
    return start


def parse_text_page(body: bytes | str, url: str = "", charset: str | None = None) -> TextCheck:
    """The bill's text from its HTML text page or "View Text" tab (see the module): a :class:`TextCheck`
    whose flags are those of :func:`normalise_text` but ``html`` (a page is HTML). ``charset``: the
    ``Content-Type`` header's, if any (else the page's ``<meta charset>``).

    Raises :class:`BillNotFound` for the site's "Oh My Cod!" page, :class:`ParseError` for a body that
    is not a page (JSON, an anti-bot wall)."""
    flags: list[str] = []
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body)
        if is_oh_my_cod(body):
            raise BillNotFound(f"no text at {url} (the site's 'Oh My Cod!' page)", url=url)
        if charset is None:
            m = _META_CHARSET.search(body[:4096])
            charset = m.group(1).decode("ascii") if m else None
        body, found = decode(body, charset)
        flags += found
    elif is_oh_my_cod(body.encode("utf-8", "replace")):
        raise BillNotFound(f"no text at {url} (the site's 'Oh My Cod!' page)", url=url)
    head = body.lstrip()[:1]
    if not head:
        return _checked("", flags)
    if head in "{[":
        raise ParseError(f"text page from {url} is JSON, not HTML", url=url, layout_changed=True)
    if _WALL.search(body[:2000]):
        raise ParseError(f"text page from {url} is an anti-bot page ('Just a moment...')", url=url)
    lines = _page_lines(body, url)
    return _checked("\n".join(lines[_bill_start(lines):]), flags)
