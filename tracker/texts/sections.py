"""A bill's text cut into its sections: the enacting clause (and emergency preamble) first, with no number,
then one per ``SECTION N.``. The comparison aligns sections, and the summary names them by number and heading."""

from __future__ import annotations

import re
from dataclasses import dataclass

# "SECTION 1.", "SECTION 2A.", "SECTION 3:" at the start of a line. Capitals only: a bill's own sections are
# printed so, while "Section 220." starts a section of the General Laws that the bill inserts.
_SECTION = re.compile(r"^[ \t]*SECTION[ \t]+(\d+[A-Z]?(?:[ \t]*1/2)?)[ \t]*[.:][ \t]*", re.MULTILINE)
SECTION_HEAD = _SECTION
_WORD = re.compile(r"[\w'’]+")  # a word is letters and digits: "(a)" is one, "—" none
HEADING_WORDS = 8


@dataclass(frozen=True)
class Section:
    number: str | None  # "3", "2A"; None for what comes before SECTION 1 (title, enacting clause, preamble)
    text: str

    @property
    def heading(self) -> str:
        """The first words after the section's number: what a reader recognises it by."""
        body = _SECTION.sub("", self.text, count=1) if self.number else self.text
        words = body.split()
        head = " ".join(words[:HEADING_WORDS])
        return head + ("…" if len(words) > HEADING_WORDS else "")

    @property
    def label(self) -> str:
        return f"section {self.number}" if self.number else "the opening"

    def words(self) -> int:
        return len(_WORD.findall(self.text))


def split_sections(text: str) -> list[Section]:
    """The sections of ``text`` in order; a text without ``SECTION N.`` is one section with no number.
    Joining the sections' texts gives back ``text`` (blank lines before SECTION 1 belong to it)."""
    found = list(_SECTION.finditer(text))
    if not found:
        return [Section(None, text)]
    out = []
    head = text[: found[0].start()]
    if head.strip():
        out.append(Section(None, head))
    for i, m in enumerate(found):
        start = 0 if i == 0 and not out else m.start()
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        out.append(Section(m.group(1).replace(" ", "").replace("\t", "").upper(), text[start:end]))
    return out


def count_words(text: str) -> int:
    return len(_WORD.findall(text))
