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

from rapidfuzz import fuzz, process

PINSLIP_REFERENCE = re.compile(
    r"SIMILAR\s+MATTER\s+FILED\s+IN\s+PREVIOUS\s+SESSION\s+SEE\s+(HOUSE|SENATE)\s*,?\s+NO\.?\s*(\d+)\s+OF\s+"
    r"(\d{4})\s*-\s*(\d{4})", re.IGNORECASE)
WEIGHTS = {"text": 0.5, "shared_sponsors": 0.2, "similar_api": 0.15, "title": 0.15}
LISTED = 0.1  # a candidate below this score is not worth a line
PROPOSED = 0.35  # the best candidate is proposed to staff from this score on
AUTO_TEXT = 0.9  # text this close, with a shared sponsor, is accepted without staff
MAX_CANDIDATES = 5  # listed per bill
QUERY_WORDS = 40  # a bill's heaviest words that find its candidates in the docket
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
    """One session's documents, indexed for ranking."""

    def __init__(self, documents: list[Filed]):
        self.documents = {d.canonical: d for d in documents}
        self.names = list(self.documents)
        self.by_reference: dict[str, list[str]] = defaultdict(list)
        self.by_sponsor: dict[str, set[str]] = defaultdict(set)
        self.by_word: dict[str, list[tuple[str, float]]] = defaultdict(list)
        self.vectors: dict[str, dict[str, float]] = {}
        self.titles = [title_words(d.title) for d in documents]
        counts = {}
        df: Counter = Counter()
        for d in documents:
            for ref in pinslip_references(d.pinslip):
                self.by_reference[ref].append(d.canonical)
            for key in _sponsor_keys(d.sponsors):
                self.by_sponsor[key].add(d.canonical)
            tf = Counter(_WORD.findall((d.text or "").casefold()))
            counts[d.canonical] = tf
            df.update(tf.keys())
        n = max(len(documents), 1)
        self.idf = {w: math.log((n + 1) / (c + 1)) + 1.0 for w, c in df.items()}
        self.unseen_idf = math.log(n + 1) + 1.0
        for name, tf in counts.items():
            vec = self._vector(tf)
            self.vectors[name] = vec
            for w, x in vec.items():
                self.by_word[w].append((name, x))

    def _vector(self, tf: Counter) -> dict[str, float]:
        vec = {w: (1.0 + math.log(c)) * self.idf.get(w, self.unseen_idf) for w, c in tf.items()}
        norm = math.sqrt(sum(x * x for x in vec.values())) or 1.0
        return {w: x / norm for w, x in vec.items()}

    def rank(self, bill: Filed, exclude: set[str] = frozenset(), similar: dict[str, frozenset[str]] | None = None,
             limit: int = MAX_CANDIDATES) -> list[Ranked]:
        """The documents that may be ``bill`` re-filed, best first, those scoring at least ``LISTED``.
        ``similar`` holds what the API's Similar named for documents of this docket (either direction counts)."""
        similar = similar or {}
        vec = self._bill_vector(bill)
        # candidates: named by a pinslip, sharing a sponsor, a heavy word, a similar title, or the API's Similar
        pool: set[str] = set(self.by_reference.get(bill.canonical, ()))
        for key in _sponsor_keys(bill.sponsors):
            pool |= self.by_sponsor.get(key, set())
        partial: Counter = Counter()
        for w, x in sorted(vec.items(), key=lambda kv: -kv[1])[:QUERY_WORDS]:
            for name, y in self.by_word.get(w, ()):
                partial[name] += x * y
        pool.update(name for name, _ in partial.most_common(limit * 4))
        if bill.title:
            for _, _, i in process.extract(title_words(bill.title), self.titles, scorer=fuzz.token_set_ratio,
                                           limit=limit * 2, score_cutoff=60):
                pool.add(self.names[i])
        pool |= {c for c in bill.similar if c in self.documents}
        pool |= {c for c, named in similar.items() if bill.canonical in named and c in self.documents}
        pool -= set(exclude)
        ranked = [self._evidence(bill, vec, self.documents[c], similar.get(c, frozenset())) for c in pool]
        ranked = [r for r in ranked if r.score >= LISTED]
        ranked.sort(key=lambda r: (-r.score, r.candidate))
        return ranked[:limit]

    def measure(self, bill: Filed, candidate: str, similar: dict[str, frozenset[str]] | None = None) -> Ranked:
        """The evidence and score of one document of this docket, whether it ranks or not."""
        named = (similar or {}).get(candidate, frozenset())
        return self._evidence(bill, self._bill_vector(bill), self.documents[candidate], named)

    def _bill_vector(self, bill: Filed) -> dict[str, float]:
        return self._vector(Counter(_WORD.findall((bill.text or "").casefold()))) if bill.text else {}

    def _evidence(self, bill: Filed, vec: dict[str, float], doc: Filed, named: frozenset[str]) -> Ranked:
        reference = bill.canonical in pinslip_references(doc.pinslip)
        other = self.vectors.get(doc.canonical, {})
        text = sum(x * other.get(w, 0.0) for w, x in vec.items()) if vec and other else 0.0
        text = round(min(text, 1.0), 3)
        shared = _shared(bill.sponsors, doc.sponsors)
        similar_api = doc.canonical in bill.similar or bill.canonical in named
        title = round(fuzz.token_set_ratio(title_words(bill.title), title_words(doc.title)) / 100, 3) \
            if bill.title and doc.title else 0.0
        evidence = {"pinslip_reference": reference, "text": text, "shared_sponsors": shared,
                    "similar_api": similar_api, "title": title}
        return Ranked(doc.canonical, score(evidence), evidence)


def score(evidence: dict) -> float:
    """1 for a pinslip naming the bill; else the weighted evidence, 0..1."""
    if evidence["pinslip_reference"]:
        return 1.0
    total = (WEIGHTS["text"] * evidence["text"] + WEIGHTS["shared_sponsors"] * bool(evidence["shared_sponsors"])
             + WEIGHTS["similar_api"] * bool(evidence["similar_api"]) + WEIGHTS["title"] * evidence["title"])
    return round(total, 3)


def beyond_doubt(evidence: dict) -> bool:
    """Accepted without staff: the pinslip names the bill, or the text is nearly the same and a sponsor is."""
    return bool(evidence["pinslip_reference"] or (evidence["text"] >= AUTO_TEXT and evidence["shared_sponsors"]))


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


def _shared(ours: list[tuple[str | None, str]], theirs: list[tuple[str | None, str]]) -> list[str]:
    """The names of our lead and joint sponsors who lead or join the other too (by code, or by name)."""
    their_keys = _sponsor_keys(theirs)
    shared = []
    for code, name in ours:
        keys = _sponsor_keys([(code, name)])
        if keys & their_keys and name not in shared:
            shared.append(name)
    return shared
