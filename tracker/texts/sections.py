"""A bill's text as the comparison reads it: the sections ``spiders.billtext_sections`` finds (the words before
SECTION 1 with no number, then one per ``SECTION N.``), each with its label, so a section can be compared
without its number (a renumbering is said once, not counted as changed words)."""

from __future__ import annotations

from dataclasses import dataclass

from db.texts import count_words
from spiders.billtext_sections import split_sections as _parsed_sections

__all__ = ["Section", "count_words", "split_sections"]


@dataclass(frozen=True)
class Section:
    number: str | None  # "3", "2A", as written; None for what comes before SECTION 1
    heading: str  # its first words, boilerplate openers left out
    label: str  # "SECTION 3." as written; "" for the opening
    body: str  # its paragraphs, one a line, without the label

    @property
    def text(self) -> str:
        return (f"{self.label} " if self.label else "") + self.body + "\n"

    @property
    def head(self) -> str:
        return f"{self.label} " if self.label else ""

    @property
    def label_words(self) -> str:
        """"section 3" (or "the opening") in a sentence."""
        return f"section {self.number}" if self.number else "the opening"

    def words(self) -> int:
        return count_words(self.text)


def split_sections(text: str) -> list[Section]:
    return [Section(p.number, p.heading, p.label, p.text) for p in _parsed_sections(text)]
