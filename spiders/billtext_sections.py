"""A bill's text cut into its sections: the words before the first section (the emergency preamble,
"Be it enacted by the Senate and House of Representatives in General Court assembled, and by the
authority of the same, as follows:"), then one :class:`Section` per "SECTION N." heading.

The act's own sections are written "SECTION 1.", "SECTION 2A." or "SECTION 1:" at the start of a
paragraph; a section of the General Laws that the act inserts is written "Section 220." and stays
inside the act's section that inserts it. A text written with "Section 1." for the act's sections
(no upper-case heading anywhere) is read with those, but only in sequence (1, 2, 2A, 3...), so an
inserted "Section 220." is still not taken for one. Numbers are kept exactly as written: a summary
such as "section 3 removed" names them. Pure: no network, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Section", "has_sections", "split_sections", "HEADING_WORDS"]

HEADING_WORDS = 8  # how many of a section's first words make its heading

_UPPER = re.compile(r"^SECTION\s+(\d+[A-Za-z]?)\s*[.:](?:\s+|$)")
_TITLE = re.compile(r"^Section\s+(\d+)([A-Za-z]?)\s*[.:](?:\s+|$)")
# openers that say nothing about what a section is about
_BOILERPLATE = re.compile(
    r"^(?:\((?:a|1|i)\)\s*)?(?:notwithstanding any general or special law(?: or rule)? to the contrary,?\s*)?"
    r"(?:\((?:a|1|i)\)\s*)?", re.IGNORECASE)


@dataclass(frozen=True)
class Section:
    """One part of a bill's text.

    ``number``: "3", "2A", as written; None for the words before the first section.
    ``heading``: the section's first words ("Chapter 71 of the General Laws, as so appearing, is…"),
    leading "(a)" and "Notwithstanding any general or special law to the contrary," left out.
    ``text``: the section's paragraphs, one a line, without its label.
    ``label``: the label as written ("SECTION 3."); "" for the words before the first section."""

    number: str | None
    heading: str
    text: str
    label: str = ""

    @property
    def words(self) -> int:
        return len(self.text.split())


def heading_of(text: str, words: int = HEADING_WORDS) -> str:
    """The first ``words`` words of ``text``'s first line, a trailing comma or colon dropped, "…" when cut."""
    first = text.split("\n", 1)[0].strip()
    rest = _BOILERPLATE.sub("", first, count=1) or first
    rest = rest[:1].upper() + rest[1:]
    parts = rest.split()
    head = " ".join(parts[:words]).rstrip(",;:-–—")
    return head + "…" if len(parts) > words else head


def _next_ok(previous: tuple[int, str] | None, number: int, letter: str) -> bool:
    """A title-case "Section N." counts as the act's section only in sequence after the previous one."""
    if previous is None:
        return number == 1 and not letter
    p_num, p_letter = previous
    if number == p_num:
        return bool(letter) and (not p_letter or letter.upper() > p_letter.upper())
    return number == p_num + 1


def _headings(lines: list[str]) -> list[tuple[int, str, str]]:
    """(line index, number, label) of each line that starts one of the act's sections."""
    found = []
    for i, line in enumerate(lines):
        m = _UPPER.match(line)
        if m:
            found.append((i, m.group(1), line[: m.end()].strip()))
    if found:
        return found
    previous: tuple[int, str] | None = None
    for i, line in enumerate(lines):
        m = _TITLE.match(line)
        if m and _next_ok(previous, int(m.group(1)), m.group(2)):
            previous = (int(m.group(1)), m.group(2))
            found.append((i, m.group(1) + m.group(2), line[: m.end()].strip()))
    return found


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
            if line.strip()]


def has_sections(text: str) -> bool:
    """True when the text has at least one "SECTION N." heading (or an in-sequence "Section 1.")."""
    return bool(_headings(_lines(text)))


def split_sections(text: str) -> list[Section]:
    """The text's sections in order: first, when there are words before the first heading, a section
    numbered None (the preamble and enacting clause), then one per heading. A text with no heading
    is one section numbered None; an empty text, no section."""
    lines = _lines(text)
    if not lines:
        return []
    heads = _headings(lines)
    out: list[Section] = []
    start = heads[0][0] if heads else len(lines)
    if start:
        body = "\n".join(lines[:start])
        out.append(Section(None, heading_of(body), body))
    for k, (i, number, label) in enumerate(heads):
        end = heads[k + 1][0] if k + 1 < len(heads) else len(lines)
        first = lines[i][len(label):].strip()
        body = "\n".join(([first] if first else []) + lines[i + 1:end])
        out.append(Section(number, heading_of(body), body, label))
    return out
