"""Which tracked bills a news article is about.

Two kinds of evidence:

* **the bill's number** in any usual spelling (``H.135``, ``H 135``, ``H135``, ``H. 135``, ``HB 135``,
  ``House Bill 135``, ``House Bill No. 135``, ``House No. 135``, ``House, No. 135``; the same for ``S``/
  ``Senate``; docket numbers ``HD 3228``/``House Docket, No. 3228``; ``H.Res. 12``). Numbers are reused
  every session, so a number only counts when the article is dated within the bill's session (its two
  calendar years, Boston time) or the three months before it (bills are filed in January and talked
  about in the autumn before). In October-December of a session's second year, when the same number is
  tracked for both sessions, the sitting session wins. An article without a date is treated as published
  *now* (the matcher's clock), so an undated article only matches bills of the current or the coming
  session by number.
* **the bill's keywords** (``keywords`` in feeds.yaml): always count, whatever the date. Matching ignores
  case and accents, needs whole words at both ends, lets the words of a phrase be separated by any run of
  spaces or hyphens/dashes, and ignores quotes around the keyword (``'"face surveillance"'`` is the
  phrase ``face surveillance``).

The letter spellings are case-sensitive (``H``/``S``/``HB``/``SB`` in capitals) so ordinary words do not
match ("it's 47"); ``House Bill``/``Senate Bill`` are matched in any case, ``House No.`` needs a capital
(or all-caps) ``House``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Callable, Literal, Sequence

from spiders.billids import STATE_HOUSE_TZ, BillId, session_years


Where = Literal["title", "summary", "full_text"]
Reason = Literal["number", "keyword"]
_FIELDS: tuple[Where, ...] = ("title", "summary", "full_text")

# One pattern for every bill-number spelling; the chamber comes from whichever group matched.
_NUMBER_RE = re.compile(
    r"""
    (?<![A-Za-z0-9])(?<![A-Za-z]\.)           # not inside a word, not "U.S. 47"
    (?:
        (?P<res>[HS])\.?\s?Res\.?\s?             # H.Res. 12, SRes 12
      | (?P<letter>HD|SD|H|S)(?:\.?B)?\.?\s?     # H.135 H 135 H135 H. 135 HB 135 H.B. 135 HD3228
      | (?P<docket>House|HOUSE|Senate|SENATE)\s+(?i:docket)\s*,?\s*(?:(?i:no)\.?|(?i:number)|\#)?\s*
      | (?P<billword>(?i:house|senate))\s+(?i:bill)\s*(?:,?\s*(?:(?i:no)\.?|(?i:number)|\#)\s*)?
      | (?P<noword>House|HOUSE|Senate|SENATE)\s*,?\s+(?:(?i:no)\.?|(?i:number))\s*
    )
    (?P<num>[0-9]{1,5})(?![0-9A-Za-z])              # not H.1350, not H135A
    """,
    re.VERBOSE,
)

_QUOTES = "\"'\u2018\u2019\u201c\u201d\u00ab\u00bb`"
_SEPARATOR = r"[\s\-\u2010-\u2015\u00ad_/]+"


def _chamber(m: re.Match) -> str:
    if m.group("res"):
        return m.group("res") + "Res"
    if m.group("letter"):
        return m.group("letter")
    word = (m.group("docket") or m.group("billword") or m.group("noword")).lower()
    base = "H" if word == "house" else "S"
    return base + "D" if m.group("docket") else base


@dataclass(frozen=True)
class BillTerm:
    """A bill number as the news writes it: chamber prefix (``H``, ``S``, ``HD``...) and number."""

    prefix: str
    number: int

    @classmethod
    def from_bill(cls, bill: BillId) -> "BillTerm":
        m = re.match(r"([A-Za-z]+)(\d+)$", bill.number)
        if not m:
            raise ValueError(f"unexpected bill number {bill.number!r}")
        return cls(m.group(1), int(m.group(2)))

    @property
    def key(self) -> tuple[str, int]:
        return (self.prefix, self.number)

    def spellings(self) -> list[str]:
        """Examples of the spellings that match (documentation and tests; the regex accepts more)."""
        n = self.number
        if self.prefix in ("H", "S"):
            word = "House" if self.prefix == "H" else "Senate"
            p = self.prefix
            return [f"{p}.{n}", f"{p} {n}", f"{p}{n}", f"{p}. {n}", f"{p}B {n}", f"{p}B{n}", f"{word} Bill {n}",
                    f"{word} Bill No. {n}", f"{word} No. {n}", f"{word}, No. {n}"]
        if self.prefix in ("HD", "SD"):
            word = "House" if self.prefix == "HD" else "Senate"
            return [f"{self.prefix}.{n}", f"{self.prefix} {n}", f"{self.prefix}{n}", f"{word} Docket, No. {n}"]
        return [f"{self.prefix[0]}.Res.{n}", f"{self.prefix} {n}"]

    def index_terms(self) -> list[str]:
        """The words a full-text index (SQLite FTS5 ``unicode61``, PostgreSQL ``simple`` over folded text: both
        split at every character that is not a letter or digit) holds for any spelling of this number: the
        number alone (``H.135``, ``House Bill 135``), or glued to its letters (``H135``, ``HB135``, ``H.B135``,
        ``HRes135``, ``H.Res135``). An article naming the bill contains one of them; the converse is for the
        matcher to check."""
        n, p = self.number, self.prefix.lower()
        terms = [str(n), f"{p}{n}"]
        if p in ("h", "s"):
            terms += [f"{p}b{n}", f"b{n}"]
        elif p.endswith("res"):
            terms += [f"res{n}"]
        return terms

    def find(self, text: str) -> re.Match | None:
        """The first place ``text`` names this bill by number, whatever the spelling."""
        for m in _NUMBER_RE.finditer(text or ""):
            if (_chamber(m), int(m.group("num"))) == self.key:
                return m
        return None


@dataclass(frozen=True)
class Match:
    bill: str      # canonical id, "ma/192/H135"
    term: str      # the text as found in the article ("House Bill 135", "Facial Recognition")
    where: Where
    reason: Reason


# --- keywords --------------------------------------------------------------------------------------------

_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def _fold(text: str) -> str:
    """Accents off, case folded: ``"Récognition"`` -> ``"recognition"`` (lengths may change)."""
    if text.isascii():  # NFKD leaves ASCII as it is, and it has no combining marks
        return text.casefold()
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text)).casefold()


def _probe(keyword: str) -> str:
    """The longest letters-and-digits run of a folded keyword: it must occur in folded text that matches."""
    runs = re.findall(r"[^\W_]+", _fold(clean_keyword(keyword)))
    return max(runs, key=len) if runs else ""


@lru_cache(maxsize=1)
def _accent_table() -> dict[str, str]:
    """Base letter -> every Latin letter that folds to it (``e`` -> ``eéèêëēĕėęěEÉ...``)."""
    table: dict[str, set[str]] = {}
    latin = (range(0x41, 0x5B), range(0x61, 0x7B), range(0xC0, 0x250), range(0x1E00, 0x1F00))
    for cp in (cp for block in latin for cp in block):
        ch = chr(cp)
        base = _fold(ch)
        if len(base) == 1 and base.isascii() and base.isalpha():
            table.setdefault(base, set()).add(ch)
    return {base: "".join(sorted(chars)) for base, chars in table.items()}


def clean_keyword(keyword: str) -> str:
    """The keyword as configured, without surrounding quotes and with single spaces."""
    return " ".join((keyword or "").strip().strip(_QUOTES).split())


def _keyword_pattern(keyword: str) -> str | None:
    """Regex source for one keyword (case/accent-insensitive, flexible separators); None if empty."""
    words = [w for w in re.split(r"[\s\-\u2010-\u2015_/]+", _fold(clean_keyword(keyword))) if w]
    if not words:
        return None
    table = _accent_table()
    out_words = []
    for word in words:
        chars = []
        for ch in word:
            if ch in table:
                # any accented form of the letter, or the letter followed by combining accents
                chars.append("[" + re.escape(table[ch]) + "][\u0300-\u036f]*")
            elif ch in "'\u2019":
                chars.append("['\u2019]")
            else:
                chars.append(re.escape(ch))
        out_words.append("".join(chars))
    return _SEPARATOR.join(out_words)


def _compile_keywords(keywords: Sequence[str]) -> re.Pattern | None:
    patterns = sorted({p for p in (_keyword_pattern(k) for k in keywords) if p}, key=len, reverse=True)
    if not patterns:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(patterns) + r")(?!\w)", re.IGNORECASE)


@lru_cache(maxsize=256)
def _keyword_matchers(keywords: tuple[str, ...]) -> tuple[tuple[str, str, re.Pattern], ...]:
    out = []
    for k in keywords:
        rx = _compile_keywords([k])
        if rx is not None:
            out.append((clean_keyword(k), _probe(k), rx))
    return tuple(out)


def keyword_index_terms(keywords: Sequence[str]) -> list[str]:
    """Each keyword as the phrase of its words (``"face-surveillance"`` -> ``face surveillance``) for a full-text
    index: an article the keyword matches contains the phrase (the matcher decides the rest)."""
    out = []
    for k in keywords:
        words = re.findall(r"[^\W_]+", clean_keyword(k))
        if words and " ".join(words) not in out:
            out.append(" ".join(words))
    return out


def keyword_hits(*texts: str | None, keywords: Sequence[str]) -> list[str]:
    """The keywords (as configured, quotes removed) found in any of ``texts``, in configuration order.

    For a feed's own ``keywords`` (``match: keywords``); same rules as bill keywords. ``None`` texts are
    skipped. Each keyword is reported once.
    """
    hits = []
    joined = "\n".join(t for t in texts if t)
    if not joined:
        return []
    folded = _fold(joined)
    for name, probe, rx in _keyword_matchers(tuple(keywords)):
        if name not in hits and probe in folded and rx.search(joined):
            hits.append(name)
    return hits


# --- the matcher -----------------------------------------------------------------------------------------

def session_window(session: int) -> tuple[datetime, datetime]:
    """[start, end) in which a bill's number counts: 1 October before the session to the end of its 2nd year."""
    first, last = session_years(session)
    return datetime(first - 1, 10, 1, tzinfo=STATE_HOUSE_TZ), datetime(last + 1, 1, 1, tzinfo=STATE_HOUSE_TZ)


@dataclass(frozen=True)
class _Tracked:
    bill: BillId
    term: BillTerm
    digits: str                      # "135": a cheap substring test before the number regex runs
    window: tuple[datetime, datetime]
    sitting: tuple[int, int]         # the session's calendar years
    keywords: re.Pattern | None
    probes: tuple[str, ...]          # folded substrings, one per keyword, tested before the keyword regex


class BillMatcher:
    """Match articles against tracked bills: ``BillMatcher([(bill_id, keywords), ...])``.

    ``clock`` (for tests) returns "now" for undated articles; it defaults to the current UTC time.

    Speed: one number regex for all bills, run only on fields that contain a tracked number's digits, and
    one keyword regex per bill, run only on fields whose folded text contains that bill's keyword words.
    """

    def __init__(self, bills: Sequence[tuple[BillId, Sequence[str]]], clock: Callable[[], datetime] | None = None):
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._tracked: list[_Tracked] = []
        for bill, keywords in bills:
            term = BillTerm.from_bill(bill)
            keywords = [k for k in (keywords or ()) if _keyword_pattern(k)]
            self._tracked.append(_Tracked(
                bill=bill,
                term=term,
                digits=str(term.number),
                window=session_window(bill.session),
                sitting=session_years(bill.session),
                keywords=_compile_keywords(keywords),
                probes=tuple({_probe(k) for k in keywords}),
            ))

    def match(self, title: str, summary: str, full_text: str | None, published_at: datetime | None) -> list[Match]:
        """Matches in bill order (number before keyword), at most one per (bill, reason).

        The first field that has the evidence wins: title, then summary, then full_text. A naive
        ``published_at`` is taken as UTC; None means now (see the module docstring).
        """
        when = published_at if published_at is not None else self._clock()
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        year = when.astimezone(STATE_HOUSE_TZ).year
        fields = [(name, text) for name, text in zip(_FIELDS, (title, summary, full_text)) if text]

        in_window: dict[tuple[str, int], list[_Tracked]] = {}
        for t in self._tracked:
            if t.window[0] <= when < t.window[1]:
                in_window.setdefault(t.term.key, []).append(t)
        for key, candidates in in_window.items():
            # Oct-Dec of a session's 2nd year is also the lead-in to the next session: a number that names
            # a tracked bill in both belongs to the session that is sitting.
            sitting = [t for t in candidates if t.sitting[0] <= year <= t.sitting[1]]
            if sitting:
                in_window[key] = sitting

        by_number: dict[str, tuple[str, Where]] = {}
        wanted = sum(len(v) for v in in_window.values())
        digit_strings = {t.digits for ts in in_window.values() for t in ts}
        for where, text in fields:
            if len(by_number) >= wanted:
                break
            if not any(d in text for d in digit_strings):
                continue
            for m in _NUMBER_RE.finditer(text):
                for tracked in in_window.get((_chamber(m), int(m.group("num"))), ()):
                    by_number.setdefault(tracked.bill.canonical, (m.group(0), where))

        folded: dict[str, str] = {}
        out: list[Match] = []
        seen: set[tuple[str, str]] = set()
        for t in self._tracked:
            key = t.bill.canonical
            if key in by_number and (key, "number") not in seen:
                seen.add((key, "number"))
                term, where = by_number[key]
                out.append(Match(key, term, where, "number"))
            if t.keywords is None or (key, "keyword") in seen:
                continue
            for where, text in fields:
                if where not in folded:
                    folded[where] = _fold(text)
                if not any(p in folded[where] for p in t.probes):
                    continue
                km = t.keywords.search(text)
                if km:
                    seen.add((key, "keyword"))
                    out.append(Match(key, km.group(0), where, "keyword"))
                    break
        return out
