"""Group copies of the same story (wire copy republished by several outlets).

A fingerprint is the set of word-pair shingles of the headline plus the first ``LEAD_WORDS`` words of the
lead, after normalisation: accents and case folded, apostrophes removed, punctuation dropped, common
English stop words dropped, wire datelines (``BOSTON (SHNS) –``, ``STATE HOUSE, BOSTON, FEB. 19,
2025.....``) removed from the lead, a trailing publisher (``… - WWLP``, ``… | MassLive``) removed from the
headline, and WordPress boilerplate ("The post … appeared first on …", "Continue reading") removed.

``similarity`` is the overlap coefficient ``|A∩B| / min(|A|, |B|)``, so a shorter excerpt of the same
copy still scores high; when either set is tiny (fewer than ``MIN_FOR_CONTAINMENT`` shingles) it falls
back to Jaccard ``|A∩B| / |A∪B|``, which a couple of shared topic phrases cannot push over the threshold.
Two items are the same story when ``similarity(a, b) >= SAME_STORY``.
"""

from __future__ import annotations

import re
import unicodedata

LEAD_WORDS = 40
MIN_FOR_CONTAINMENT = 6
# Same SHNS copy under two headlines/datelines scores about 0.8-1.0 in the tests; different stories on the
# same topic in the same week score below 0.2. 0.5 leaves room on both sides.
SAME_STORY = 0.5

_STOP = frozenset(
    """a an and are as at be been but by for from had has have he her his i if in into is it its of on or our
    over said says she so than that the their them they this to up was we were what when which who will with
    would you about after also more new not no out""".split()
)

# A wire dateline at the start of a lead: capitalised place (and date) words, an optional "(AGENCY)", and a
# dash, colon or run of dots.
_DATELINE = re.compile(
    r"""^\s*
    [A-Z][A-Z.'\u2019-]*                                    # BOSTON / STATE (the first word is in capitals)
    (?:[ ,]+(?:[A-Z][A-Za-z.'\u2019-]*|\d{1,4}))*          # HOUSE, BOSTON, FEB. 19, 2025 / Mass.
    ,?\s*(?:\([^()]{2,40}\))?                              # (SHNS)
    \s*(?:[\u2013\u2014-]{1,2}|:|\.{2,}|\u2026+)\s*        # – / — / : / ..... / …
    """,
    re.VERBOSE,
)
_TITLE_SEPARATOR = re.compile(r"\s+(?:\||[-\u2013\u2014]|::)\s+")
_BOILERPLATE = re.compile(
    r"(?:The post .{1,300}? appeared first on .{1,120}?\.?\s*$)"
    r"|(?:\b(?:Continue reading|Read more)\b[^.]{0,80}$)"
    r"|\[(?:\u2026|\.\.\.)\]",
    re.IGNORECASE | re.DOTALL,
)
_WORD = re.compile(r"[a-z0-9]+")


def strip_dateline(lead: str) -> str:
    """``"BOSTON (SHNS) – House lawmakers..."`` -> ``"House lawmakers..."``; other text unchanged."""
    m = _DATELINE.match(lead or "")
    if m and m.end() < len(lead):
        return lead[m.end():]
    return lead or ""


def _looks_like_publisher(text: str) -> bool:
    words = text.split()
    if not words or len(words) > 5:
        return False
    if any(ch in text for ch in ".") and re.search(r"\.(?:com|org|net|news)\b", text, re.IGNORECASE):
        return True
    return all(w[0].isupper() or w[0].isdigit() or w.lower() in {"of", "the", "and", "&"} for w in words)


def strip_publisher(title: str) -> str:
    """``"Headline - WWLP"`` / ``"Headline | MassLive.com"`` -> ``"Headline"`` when the tail looks like a name."""
    title = (title or "").strip()
    separators = list(_TITLE_SEPARATOR.finditer(title))
    if separators:
        last = separators[-1]
        if last.start() > 0 and _looks_like_publisher(title[last.end():]):
            return title[: last.start()].rstrip()
    return title


def _words(text: str) -> list[str]:
    text = text or ""
    if text.isascii():  # NFKD leaves ASCII as it is and it has no combining marks: skip both (most titles and leads)
        text = text.casefold()
    else:
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("'", "").replace("\u2019", "").replace("\u2018", "")
    return [w for w in _WORD.findall(text) if w not in _STOP]


def _shingles(words: list[str]) -> set[str]:
    if len(words) == 1:
        return {words[0]}
    return {f"{a} {b}" for a, b in zip(words, words[1:])}


def fingerprint(title: str, lead: str) -> frozenset[str]:
    """Normalised word-pair shingles of the headline and the first ``LEAD_WORDS`` words of the lead."""
    title_words = _words(strip_publisher(title))
    lead_text = _BOILERPLATE.sub(" ", strip_dateline((lead or "").strip()))
    lead_words = _words(" ".join(lead_text.split()[:LEAD_WORDS]))
    return frozenset(_shingles(title_words) | _shingles(lead_words))


def encode(fp: frozenset[str]) -> str:
    """A fingerprint as stored with its article (``articles.fingerprint``): its shingles sorted, joined by
    ``|`` (a shingle holds only ``[a-z0-9]`` words and spaces)."""
    return "|".join(sorted(fp))


def decode(text: str) -> frozenset[str]:
    """The inverse of ``encode``."""
    return frozenset(text.split("|")) if text else frozenset()


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Overlap coefficient of two fingerprints (Jaccard when either is tiny); 0.0 when either is empty."""
    if not a or not b:
        return 0.0
    common = len(a & b)
    if min(len(a), len(b)) < MIN_FOR_CONTAINMENT:
        return common / len(a | b)
    return common / min(len(a), len(b))
