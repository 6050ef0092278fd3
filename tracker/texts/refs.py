"""What a text reference names: ``ID`` (the latest stored version of a bill's text) or ``ID@N`` (version N),
and the text it names. A bill with no stored version falls back to its docket document's text as first seen
(a re-filing of the next General Court that is in the docket but not followed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.documents import find_document
from db.models import Bill
from db.texts import find_version, text_of, versions
from spiders.billids import dotted
from tracker.texts.sections import count_words


class NoText(LookupError):
    """A reference that names no stored text; the message says what there is."""


class BadTextRef(ValueError):
    pass


@dataclass(frozen=True)
class StoredText:
    bill: str  # canonical id
    version: int | None  # None: the docket's text as first seen, not a version of a followed bill
    text: str
    sha256: str | None
    words: int
    seen_at: datetime | None
    source: str

    @property
    def ref(self) -> str:
        return f"{self.bill}@{self.version}" if self.version else self.bill

    @property
    def label(self) -> str:
        """"H.135 (version 1)" or "H.135 (as filed)" for people."""
        number = dotted(self.bill.rsplit("/", 1)[-1])
        return f"{number} (version {self.version})" if self.version else f"{number} (as filed)"


def split_ref(text: str) -> tuple[str, int | None]:
    """``"192/H5091@2"`` → ``("192/H5091", 2)``; ``"H.135"`` → ``("H.135", None)``."""
    bill, at, n = text.strip().partition("@")
    if not at:
        return bill, None
    if not n.isdigit() or int(n) < 1:
        raise BadTextRef(f"{text!r}: after @ comes a version number (1, 2, ...), e.g. 192/H5091@1")
    return bill, int(n)


def load_text(s: Session, canonical: str, n: int | None = None) -> StoredText:
    """The text ``canonical@n`` names (the latest version when ``n`` is None). NoText when there is none."""
    found = find_version(s, canonical, n)
    if found is not None:
        return StoredText(canonical, found.version, text_of(s, found.sha256) or "", found.sha256, found.words,
                          found.seen_at, found.source)
    number = dotted(canonical.rsplit("/", 1)[-1])
    if n is not None:
        have = len(_versions_of(s, canonical))
        raise NoText(f"{number} has {have} stored version{'s' if have != 1 else ''} of its text: no version {n}"
                     if have else f"{number} has no stored text")
    doc = find_document(s, canonical)
    if doc is not None and (doc.text or "").strip():
        return StoredText(canonical, None, doc.text, None, count_words(doc.text), None, "docket")
    raise NoText(f"{number} has no stored text yet (the legislature had published none when it was last checked)")


def _versions_of(s: Session, canonical: str) -> list:
    bill_id = s.scalar(select(Bill.id).where(Bill.canonical == canonical))
    return versions(s, bill_id) if bill_id is not None else []
