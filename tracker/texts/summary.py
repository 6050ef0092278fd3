"""What a redline says in words, from the section structure alone (numbers, headings, word counts):
lines for the staff digest and one sentence for a supporter's alert. Nothing here is inferred about meaning."""

from __future__ import annotations

from tracker.texts.compare import Redline, SectionChange


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _counts(change: SectionChange) -> str:
    parts = []
    if change.added_words:
        parts.append(f"{plural(change.added_words, 'word')} added")
    if change.removed_words:
        parts.append(f"{plural(change.removed_words, 'word')} removed")
    return ", ".join(parts)


def section_lines(redline: Redline, limit: int = 8) -> list[str]:
    """One phrase per section added, removed, changed or moved, in reading order, at most ``limit``
    (then "and N more"); renumbered sections are counted in one phrase."""
    lines, renumbered = [], 0
    for c in redline.sections:
        if c.kind == "removed":
            lines.append(f"{c.old.label_words} removed (“{c.old.heading}”)")
        elif c.kind == "added":
            lines.append(f"{c.new.label_words} added (“{c.new.heading}”)")
        elif c.kind == "moved":
            moved = f"section {c.old.number} moved to become section {c.new.number}"
            lines.append(moved + (f": {_counts(c)}" if _counts(c) else ""))
        elif c.kind == "changed":
            lines.append(f"section {c.old.number}, now {c.new.number}, changed: {_counts(c)}" if c.renumbered
                         else f"{c.new.label_words} changed: {_counts(c)}")
        elif c.renumbered:
            renumbered += 1
    if len(lines) > limit:
        lines = lines[:limit] + [f"and {len(lines) - limit} more"]
    if renumbered:
        lines.append(f"{plural(renumbered, 'section')} renumbered, otherwise unchanged")
    return lines


def totals(redline: Redline) -> str:
    return f"{plural(redline.added_words, 'word')} added, {redline.removed_words:,} removed"


def digest_line(redline: Redline) -> str:
    """"section 3 removed (“…”); section 5 changed: 7 words added; 21 words added, 15 removed"."""
    if redline.unchanged:
        return "the same text"
    return "; ".join(section_lines(redline) + [totals(redline)])


def plain_sentence(redline: Redline, older: str) -> str:
    """One sentence for a supporter: "Compared with H.135, it removes 1 section, changes 1 and adds 1
    (21 words added, 15 removed)."; only the facts the structure gives."""
    if redline.unchanged:
        return f"Its text is the same as {older}'s."
    kinds = [c.kind for c in redline.sections]
    verbs = []
    for kind, verb in (("removed", "removes"), ("changed", "changes"), ("added", "adds"), ("moved", "moves")):
        n = kinds.count(kind)
        if n:
            verbs.append((verb, n))
    if not verbs:
        return f"Compared with {older}, only its sections' numbers changed."
    words = [f"{verbs[0][0]} {plural(verbs[0][1], 'section')}"] + [f"{v} {n}" for v, n in verbs[1:]]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return f"Compared with {older}, it {listed} ({totals(redline)})."
