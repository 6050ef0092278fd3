"""Ranking the documents of the next General Court as the possible successors of a followed bill.

The evidence, strongest first (DESIGN.md, "Successors across sessions"):

1. the candidate's pinslip says "[SIMILAR MATTER FILED IN PREVIOUS SESSION SEE HOUSE, NO. 1728 OF
   2023-2024.]" naming the bill: conclusive;
2. text similarity: the cosine of the two texts' TF-IDF word vectors, the weights taken from the
   candidate's whole docket, so the words every bill shares ("section", "general laws") count for
   nothing and a re-filed text scores near 1 whatever its edition year says;
3. shared lead and joint sponsors, by member code, or by first and last name where a code changed;
4. the API's ``/Documents/{id}/Similar`` naming one from the other, in either direction (its direction
   across sessions is unverified: evidence, not proof);
5. title similarity (rapidfuzz's token-set ratio over the titles without "An Act relative to"): weak,
   titles change.

A :class:`Docket` indexes one session's documents once (inverted indexes of words, sponsors, pinslip
references; the titles for rapidfuzz), so ranking each bill reads only the documents that share something
with it, not the whole docket.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from rapidfuzz import fuzz

PINSLIP_REFERENCE = re.compile(
    r"SIMILAR\s+MATTER\s+FILED\s+IN\s+PREVIOUS\s+SESSION\s+SEE\s+(HOUSE|SENATE)\s*,?\s+NO\.?\s*(\d+)\s+OF\s+"
    r"(\d{4})\s*-\s*(\d{4})", re.IGNORECASE)
WEIGHTS = {"text": 0.5, "shared_sponsors": 0.2, "similar_api": 0.15, "title": 0.15}
LISTED = 0.1  # a candidate below this score is not worth a line
PROPOSED = 0.35  # the best candidate is proposed to staff from this score on
AUTO_TEXT = 0.9  # text this close, with a shared sponsor, is accepted without staff
MAX_CANDIDATES = 5  # listed per bill
QUERY_WORDS = 40  # a bill's heaviest words that find its candidates in the docket
LISTED_TEXT = 0.15  # a text this alike, or
LISTED_TITLE = 0.8  # a title this alike makes a candidate (see ``listed``)
COMMON_SHARE, COMMON_MIN = 0.05, 50  # a word in more documents than both is boilerplate: left out
TITLE_FILLER = frozenset("an act acts to relative relating the of for in and a concerning".split())
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


def session_of_years(first: int) -> int:
    """The General Court that sits from January of ``first`` (2023 -> the 193rd)."""
    return (first - 1637) // 2


def pinslip_references(pinslip: str | None) -> set[str]:
    """The previous session's bills a pinslip names as similar matter: ``{"ma/193/S927"}``."""
    found = set()
    for chamber, number, first, _ in PINSLIP_REFERENCE.findall(pinslip or ""):
        found.add(f"ma/{session_of_years(int(first))}/{chamber[0].upper()}{int(number)}")
    return found


def name_key(name: str | None) -> str | None:
    """"David M. Rogers" and "David Rogers" are one member: first and last word, folded."""
    words = [w for w in re.findall(r"[^\W\d_]+", (name or "").casefold()) if len(w) > 1]
    return f"{words[0]} {words[-1]}" if len(words) >= 2 else None


def title_words(title: str | None) -> str:
    return " ".join(w for w in _WORD.findall((title or "").casefold()) if w not in TITLE_FILLER)


@dataclass
class Filed:
    """What the ranking reads of one bill or document."""

    canonical: str
    title: str | None = None
    sponsors: list[tuple[str | None, str]] = field(default_factory=list)  # lead and joint: (code, name)
    text: str | None = None
    pinslip: str | None = None
    similar: frozenset[str] = frozenset()  # what the API's Similar named for it


@dataclass
class Ranked:
    candidate: str
    score: float
    evidence: dict


class Docket:
    """One session's documents, indexed for ranking.

    Text vectors weigh each word by its inverse document frequency over this docket, ``log(n / df)``; words in
    more than ``COMMON_SHARE`` of the documents (and more than ``COMMON_MIN``) are left out altogether: the
    boilerplate every bill shares says nothing about which bill re-files which, and leaving it out keeps each
    word's list of documents short, so ranking a bill reads a few hundred entries, not the docket."""

    def __init__(self, documents: list[Filed]):
        self.documents = {d.canonical: d for d in documents}
        self.by_reference: dict[str, list[str]] = defaultdict(list)
        self.references: dict[str, set[str]] = {}
        self.sponsor_keys: dict[str, set[str]] = {}
        self.titles: dict[str, str] = {}
        counts, df, title_df = {}, Counter(), Counter()
        for d in documents:
            refs = pinslip_references(d.pinslip)
            self.references[d.canonical] = refs
            for ref in refs:
                self.by_reference[ref].append(d.canonical)
            self.sponsor_keys[d.canonical] = _sponsor_keys(d.sponsors)
            self.titles[d.canonical] = title_words(d.title)
            title_df.update(set(self.titles[d.canonical].split()))
            tf = Counter(_WORD.findall((d.text or "").casefold()))
            counts[d.canonical] = tf
            df.update(tf.keys())
        n = max(len(documents), 1)
        common = max(COMMON_MIN, COMMON_SHARE * n)
        self.idf = {w: math.log(n / c) for w, c in df.items() if c <= common}
        self.unseen_idf = math.log(n + 1)
        self.common = {w for w, c in df.items() if c > common}
        self.title_idf = {w: math.log(n / c) for w, c in title_df.items() if c <= common}
        self.vectors: dict[str, dict[str, float]] = {}
        self.by_word: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for name, tf in counts.items():
            vec = self._vector(tf)
            self.vectors[name] = vec
            for w, x in vec.items():
                self.by_word[w].append((name, x))
        self.by_title_word: dict[str, list[str]] = defaultdict(list)
        for name, words in self.titles.items():
            for w in set(words.split()):
                if w in self.title_idf:
                    self.by_title_word[w].append(name)

    def _vector(self, tf: Counter) -> dict[str, float]:
        vec = {w: (1.0 + math.log(c)) * self.idf.get(w, self.unseen_idf) for w, c in tf.items()
               if w not in self.common}
        norm = math.sqrt(sum(x * x for x in vec.values())) or 1.0
        return {w: x / norm for w, x in vec.items() if x > 0}

    def rank(self, bill: Filed, exclude: set[str] = frozenset(), similar: dict[str, frozenset[str]] | None = None,
             limit: int = MAX_CANDIDATES) -> list[Ranked]:
        """The documents that may be ``bill`` re-filed, best first: those with some evidence of their own (a
        pinslip naming it, the API's Similar, a text or a title alike: ``listed``) and a score of ``LISTED`` or
        more. ``similar`` holds what the API's Similar named for documents of this docket (either direction)."""
        similar = similar or {}
        vec = self._bill_vector(bill)
        # candidates: named by a pinslip, sharing heavy words of the text or of the title, or the API's Similar
        pool: set[str] = set(self.by_reference.get(bill.canonical, ()))
        partial: Counter = Counter()
        for w, x in sorted(vec.items(), key=lambda kv: -kv[1])[:QUERY_WORDS]:
            for name, y in self.by_word.get(w, ()):
                partial[name] += x * y
        pool.update(name for name, _ in partial.most_common(limit * 4))
        titled: Counter = Counter()
        for w in set(title_words(bill.title).split()):
            for name in self.by_title_word.get(w, ()):
                titled[name] += self.title_idf[w]
        pool.update(name for name, _ in titled.most_common(limit * 2))
        pool |= {c for c in bill.similar if c in self.documents}
        pool |= {c for c, named in similar.items() if bill.canonical in named and c in self.documents}
        pool -= set(exclude)
        ranked = [self._evidence(bill, vec, self.documents[c], similar.get(c, frozenset())) for c in pool]
        ranked = [r for r in ranked if r.score >= LISTED and listed(r.evidence)]
        ranked.sort(key=lambda r: (-r.score, r.candidate))
        return ranked[:limit]

    def measure(self, bill: Filed, candidate: str, similar: dict[str, frozenset[str]] | None = None) -> Ranked:
        """The evidence and score of one document of this docket, whether it ranks or not."""
        named = (similar or {}).get(candidate, frozenset())
        return self._evidence(bill, self._bill_vector(bill), self.documents[candidate], named)

    def _bill_vector(self, bill: Filed) -> dict[str, float]:
        return self._vector(Counter(_WORD.findall((bill.text or "").casefold()))) if bill.text else {}

    def _evidence(self, bill: Filed, vec: dict[str, float], doc: Filed, named: frozenset[str]) -> Ranked:
        reference = bill.canonical in self.references.get(doc.canonical, ())
        other = self.vectors.get(doc.canonical, {})
        if len(other) < len(vec):
            text = sum(y * vec.get(w, 0.0) for w, y in other.items())
        else:
            text = sum(x * other.get(w, 0.0) for w, x in vec.items())
        text = round(min(text, 1.0), 3) if vec and doc.text else None  # None: a text is missing, not compared
        shared = _shared(bill.sponsors, self.sponsor_keys.get(doc.canonical, set()))
        similar_api = doc.canonical in bill.similar or bill.canonical in named
        title = round(fuzz.token_set_ratio(title_words(bill.title), self.titles.get(doc.canonical, "")) / 100, 3) \
            if bill.title and doc.title else 0.0
        evidence = {"pinslip_reference": reference, "text": text, "shared_sponsors": shared,
                    "similar_api": similar_api, "title": title}
        return Ranked(doc.canonical, score(evidence), evidence)


def score(evidence: dict) -> float:
    """1 for a pinslip naming the bill; else the weighted evidence, 0..1."""
    if evidence["pinslip_reference"]:
        return 1.0
    total = (WEIGHTS["text"] * (evidence["text"] or 0.0) + WEIGHTS["shared_sponsors"] * bool(evidence["shared_sponsors"])
             + WEIGHTS["similar_api"] * bool(evidence["similar_api"]) + WEIGHTS["title"] * evidence["title"])
    return round(total, 3)


def listed(evidence: dict) -> bool:
    """Worth a line: a pinslip or the API names it, or its text or its title is alike; a shared sponsor alone is
    not (a member files dozens of bills a session)."""
    return bool(evidence["pinslip_reference"] or evidence["similar_api"] or (evidence["text"] or 0) >= LISTED_TEXT
                or evidence["title"] >= LISTED_TITLE)


def beyond_doubt(evidence: dict) -> bool:
    """Accepted without staff: the pinslip names the bill, or the text is nearly the same and a sponsor is."""
    return bool(evidence["pinslip_reference"] or ((evidence["text"] or 0) >= AUTO_TEXT and evidence["shared_sponsors"]))


def _sponsor_keys(sponsors: list[tuple[str | None, str]]) -> set[str]:
    keys = set()
    for code, name in sponsors:
        if "committee" in (name or "").casefold():  # a committee files new drafts in every session
            continue
        if code:
            keys.add("code:" + code.upper())
        key = name_key(name)
        if key:
            keys.add("name:" + key)
    return keys


def _shared(ours: list[tuple[str | None, str]], their_keys: set[str]) -> list[str]:
    """The names of our lead and joint sponsors who lead or join the other too (by code, or by name)."""
    shared = []
    for code, name in ours:
        keys = _sponsor_keys([(code, name)])
        if keys & their_keys and name not in shared:
            shared.append(name)
    return shared
