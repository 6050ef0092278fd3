"""The redline from an older text to a newer one: word-level, aligned by section.

Sections are paired first (the opening with the opening, then in order by the share of words they have in
common, so a section that lost its number to a removed one still pairs with itself; a pair found out of order
is a move). Each pair is then compared word by word with diff-match-patch: its Myers diff is fast on long
similar texts, and its semantic cleanup folds the one-word equalities that make a redline unreadable ("the")
into the changes around them. Words, not characters (a redline of letters is noise to a reader) and not lines
(a bill's paragraphs are long: one changed word would mark the whole paragraph).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from diff_match_patch import diff_match_patch

from tracker.texts.sections import Section, count_words, split_sections

PAIR_AT = 0.5  # share of words in common for two sections to be one section changed, not one removed and one added
MOVE_AT = 0.7  # the same, for a section found out of order (a move)
PAIRWISE_LIMIT = 40_000  # section pairs compared word by word between two anchors, at most
DIFF_TIMEOUT = 2.0  # seconds diff-match-patch may spend on one pair before it settles for a coarser diff
_TOKEN = re.compile(r"[\w'’]+\s*|[^\w\s]+\s*")  # words, and punctuation apart: "all," is "all" + ","


@dataclass(frozen=True)
class Hunk:
    op: str  # equal | insert | delete | replace
    old: str
    new: str

    def as_json(self) -> dict:
        return {"op": self.op, "from": self.old, "to": self.new}


@dataclass
class SectionChange:
    kind: str  # same | changed | added | removed | moved
    old: Section | None
    new: Section | None
    hunks: list[Hunk] = field(default_factory=list)
    added_words: int = 0
    removed_words: int = 0

    @property
    def renumbered(self) -> bool:
        return self.old is not None and self.new is not None and self.old.number != self.new.number

    def as_json(self) -> dict:
        return {"change": self.kind, "from_section": self.old.number if self.old else None,
                "to_section": self.new.number if self.new else None,
                "heading": (self.new or self.old).heading, "added_words": self.added_words,
                "removed_words": self.removed_words, "hunks": [h.as_json() for h in self.hunks]}


@dataclass
class Redline:
    sections: list[SectionChange]

    @property
    def added_words(self) -> int:
        return sum(c.added_words for c in self.sections)

    @property
    def removed_words(self) -> int:
        return sum(c.removed_words for c in self.sections)

    @property
    def unchanged(self) -> bool:
        return all(c.kind == "same" and not c.renumbered for c in self.sections)

    def hunks(self) -> list[Hunk]:
        """Every hunk in reading order, neighbours of the same kind joined."""
        out: list[Hunk] = []
        for change in self.sections:
            for h in change.hunks:
                if out and out[-1].op == h.op == "equal":
                    out[-1] = Hunk("equal", out[-1].old + h.old, out[-1].new + h.new)
                else:
                    out.append(h)
        return out


def compare(old: str, new: str) -> Redline:
    """The redline from ``old`` to ``new`` (texts as stored: plain text, ``SECTION N.`` lines)."""
    a, b = split_sections(old), split_sections(new)
    pairs, moved = _pair(a, b)
    changes: list[SectionChange] = []
    paired_old = {i for i, _ in pairs} | {i for i, _ in moved}
    new_to_old = {j: i for i, j in pairs} | {j: i for i, j in moved}
    old_to_new = {i: j for j, i in new_to_old.items()}
    moved_new = {j for _, j in moved}
    removed_before: dict[int, list[int]] = {}
    after = 0  # a removed section is shown where it stood: after the new place of the section before it
    for i in range(len(a)):
        if i in paired_old:
            after = old_to_new[i] + 1
        else:
            removed_before.setdefault(after, []).append(i)
    for j, section in enumerate(b):
        for i in removed_before.pop(j, []):
            changes.append(_whole(a[i], None))
        if j in new_to_old:
            changes.append(_diff(a[new_to_old[j]], section, moved=j in moved_new))
        else:
            changes.append(_whole(None, section))
    for rest in removed_before.values():
        changes.extend(_whole(a[i], None) for i in rest)
    return Redline(changes)


def _whole(old: Section | None, new: Section | None) -> SectionChange:
    if old is not None:
        return SectionChange("removed", old, None, [Hunk("delete", old.text, "")], 0, old.words())
    return SectionChange("added", None, new, [Hunk("insert", "", new.text)], new.words(), 0)


def _diff(old: Section, new: Section, moved: bool) -> SectionChange:
    """The pair compared without its "SECTION N." (a renumbering is said once, not counted as words)."""
    old_head, old_body = _split_head(old)
    new_head, new_body = _split_head(new)
    hunks = [Hunk("equal", old_body, new_body)] if old_body == new_body else word_diff(old_body, new_body)
    if old_head or new_head:
        hunks.insert(0, Hunk("equal", old_head, new_head))
    added = sum(count_words(h.new) for h in hunks if h.op in ("insert", "replace"))
    removed = sum(count_words(h.old) for h in hunks if h.op in ("delete", "replace"))
    kind = "moved" if moved else ("changed" if added or removed else "same")
    return SectionChange(kind, old, new, hunks, added, removed)


def _split_head(section: Section) -> tuple[str, str]:
    return section.head, section.body + "\n"


def _similarity(x: Counter, y: Counter) -> float:
    """Dice's coefficient over the sections' words (with repeats)."""
    total = sum(x.values()) + sum(y.values())
    return 2 * sum((x & y).values()) / total if total else 1.0


def _pair(a: list[Section], b: list[Section]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Sections of ``a`` paired with sections of ``b``: in order, then the moves (pairs out of that order).
    Sections with the same words are anchored first by a diff of the two sequences of sections, so only the
    runs between anchors are compared pairwise (a 900-section budget with a dozen changes is a dozen small
    problems, not 810,000 comparisons)."""
    keys: dict[str, str] = {}

    def encode(sections: list[Section]) -> str:
        out = []
        for sec in sections:
            key = " ".join(_split_head(sec)[1].lower().split())
            out.append(keys.setdefault(key, chr(len(keys) + 1 if len(keys) + 1 < 0xD800 else len(keys) + 0x801)))
        return "".join(out)

    ca, cb = encode(a), encode(b)
    dmp = diff_match_patch()
    dmp.Diff_Timeout = DIFF_TIMEOUT
    pairs: list[tuple[int, int]] = []
    i = j = 0
    gap_a: list[int] = []
    gap_b: list[int] = []
    for op, chars in dmp.diff_main(ca, cb, False) + [(dmp.DIFF_EQUAL, "")]:
        if op == dmp.DIFF_EQUAL:
            pairs.extend(_pair_in_order(a, b, gap_a, gap_b))
            gap_a, gap_b = [], []
            pairs.extend((i + k, j + k) for k in range(len(chars)))
            i, j = i + len(chars), j + len(chars)
        elif op == dmp.DIFF_DELETE:
            gap_a.extend(range(i, i + len(chars)))
            i += len(chars)
        else:
            gap_b.extend(range(j, j + len(chars)))
            j += len(chars)
    pairs.sort()
    used_a, used_b = {p for p, _ in pairs}, {q for _, q in pairs}
    left_a = [i for i in range(len(a)) if i not in used_a]
    left_b = {j for j in range(len(b)) if j not in used_b}
    moved = []
    if len(left_a) * len(left_b) <= PAIRWISE_LIMIT:
        # the most similar pairs first: taken in the old text's order, a removed section that merely shares the
        # bill's boilerplate could take the new place of a section moved there unchanged
        bags = {("a", i): _bag(a[i]) for i in left_a} | {("b", j): _bag(b[j]) for j in left_b}
        scored = sorted((-score, i, j) for i in left_a for j in left_b
                        if (score := _similarity(bags["a", i], bags["b", j])) >= MOVE_AT)
        taken_a: set[int] = set()
        for _, i, j in scored:
            if i not in taken_a and j in left_b:
                moved.append((i, j))
                taken_a.add(i)
                left_b.discard(j)
        moved.sort()
    return pairs, moved


def _bag(section: Section) -> Counter:
    return Counter(w.lower() for w in _split_head(section)[1].split())


def _pair_in_order(a: list[Section], b: list[Section], ia: list[int], jb: list[int]) -> list[tuple[int, int]]:
    """The pairing of sections ``ia`` of ``a`` with ``jb`` of ``b`` (in order) sharing the most words; two
    openings (no number) always pair. Beyond ``PAIRWISE_LIMIT`` comparisons, nothing pairs (all removed and
    added: the counts stay right, the redline is coarser)."""
    n, m = len(ia), len(jb)
    if not n or not m or n * m > PAIRWISE_LIMIT:
        return []
    bags_a, bags_b = [_bag(a[i]) for i in ia], [_bag(b[j]) for j in jb]
    sim = [[_similarity(x, y) for y in bags_b] for x in bags_a]

    def can(x: int, y: int) -> bool:
        return sim[x][y] >= PAIR_AT or (a[ia[x]].number is None and b[jb[y]].number is None)

    best = [[0.0] * (m + 1) for _ in range(n + 1)]  # best[x][y]: the most similarity pairing ia[x:] with jb[y:]
    for x in range(n - 1, -1, -1):
        for y in range(m - 1, -1, -1):
            take = sim[x][y] + best[x + 1][y + 1] if can(x, y) else -1.0
            best[x][y] = max(take, best[x + 1][y], best[x][y + 1])
    out, x, y = [], 0, 0
    while x < n and y < m:
        if can(x, y) and best[x][y] == sim[x][y] + best[x + 1][y + 1]:
            out.append((ia[x], jb[y]))
            x, y = x + 1, y + 1
        elif best[x][y] == best[x + 1][y]:
            x += 1
        else:
            y += 1
    return out


def word_diff(old: str, new: str) -> list[Hunk]:
    """Word-level hunks from ``old`` to ``new``. Words are compared without the spaces after them (a text
    reflowed onto other lines is unchanged); the hunks carry the original words and spacing."""
    old_tokens, new_tokens = _TOKEN.findall(old), _TOKEN.findall(new)
    lead_old, lead_new = old[: len(old) - len(old.lstrip())], new[: len(new) - len(new.lstrip())]
    codes: dict[str, str] = {}

    def encode(tokens: list[str]) -> str:
        out = []
        for t in tokens:
            word = t.rstrip()
            if word not in codes:
                n = len(codes) + 1
                codes[word] = chr(n if n < 0xD800 else n + 0x800)  # no lone surrogates
            out.append(codes[word])
        return "".join(out)

    dmp = diff_match_patch()
    dmp.Diff_Timeout = DIFF_TIMEOUT
    diffs = dmp.diff_main(encode(old_tokens), encode(new_tokens), False)
    dmp.diff_cleanupSemantic(diffs)
    hunks: list[Hunk] = []
    io = jn = 0
    for op, chars in diffs:
        k = len(chars)
        if op == dmp.DIFF_EQUAL:
            hunk = Hunk("equal", "".join(old_tokens[io:io + k]), "".join(new_tokens[jn:jn + k]))
            io, jn = io + k, jn + k
        elif op == dmp.DIFF_DELETE:
            hunk = Hunk("delete", "".join(old_tokens[io:io + k]), "")
            io += k
        else:
            hunk = Hunk("insert", "", "".join(new_tokens[jn:jn + k]))
            jn += k
        if hunks and {hunks[-1].op, hunk.op} == {"delete", "insert"}:
            last = hunks.pop()
            hunk = Hunk("replace", last.old + hunk.old, last.new + hunk.new)
        hunks.append(hunk)
    if lead_old or lead_new:
        hunks.insert(0, Hunk("equal", lead_old, lead_new))
    return hunks
