"""Bill texts as stored: each distinct (normalised) text once, content-addressed by its sha256 and
zlib-compressed, like the snapshots; each bill's versions 1..n pointing at them; and the pieces of each text
the full-text index reads (by section, a long section cut into parts). Texts are never deleted.

A version is recorded only when the text differs from the bill's latest one. An empty text is never a
version: it marks the bill (``bills.text_empty_since``) and is otherwise ignored, so a text that is empty for a
few days and then comes back unchanged records nothing, and one that comes back changed is the next version,
flagged ``after-empty``.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from db.models import Bill, BillTextBlob, BillTextChunk, BillTextVersion

SOURCES = ("document", "html")  # the API's DocumentText, or the bill's HTML text page
CHUNK_CHARS = 50_000  # the longest piece the index reads (a tsvector's 16,383 positions hold its words)
_WORD = re.compile(r"[\w'’]+")  # a word is letters and digits: "(a)" is one, "—" and "," none
_SECTION_LINE = re.compile(r"^[ \t]*SECTION[ \t]+(\d+[A-Z]?)[ \t]*[.:]", re.MULTILINE)


@dataclass(frozen=True)
class Version:
    bill: str  # the bill's canonical id
    bill_id: int
    version: int
    sha256: str
    words: int
    size: int  # bytes of the UTF-8 text
    source: str
    seen_at: datetime
    flags: list[str] = field(default_factory=list)

    @property
    def ref(self) -> str:
        """``ma/192/H135@1``: how an event or a comparison names it."""
        return f"{self.bill}@{self.version}"


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def chunks(text: str) -> list[tuple[str | None, str]]:
    """``(section number or None, piece)`` in order: the text cut before each ``SECTION N.`` line, and a piece
    longer than ``CHUNK_CHARS`` cut again at its last line break or space before the limit (anywhere when it
    has none). Joined, the pieces give back ``text``."""
    starts = [0] + [m.start() for m in _SECTION_LINE.finditer(text) if m.start() > 0]
    out: list[tuple[str | None, str]] = []
    for i, start in enumerate(starts):
        piece = text[start: starts[i + 1] if i + 1 < len(starts) else len(text)]
        m = _SECTION_LINE.match(piece)
        label = m.group(1) if m else None
        while len(piece) > CHUNK_CHARS:
            cut = max(piece.rfind("\n", 0, CHUNK_CHARS), piece.rfind(" ", 0, CHUNK_CHARS))
            cut = cut + 1 if cut > 0 else CHUNK_CHARS
            out.append((label, piece[:cut]))
            piece = piece[cut:]
        if piece:
            out.append((label, piece))
    return out


def _latest(s: Session, bill_id: int) -> BillTextVersion | None:
    return s.scalar(select(BillTextVersion).where(BillTextVersion.bill_id == bill_id)
                    .order_by(BillTextVersion.version.desc()).limit(1))


def _store_blob(s: Session, text: str, digest: str, at: datetime) -> None:
    """The text stored once, with its index pieces, whichever bill or process stores it first."""
    data = text.encode("utf-8")
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    added = s.execute(insert(BillTextBlob).values(
        sha256=digest, size=len(data), words=count_words(text), body=zlib.compress(data, 6), stored_at=at)
        .on_conflict_do_nothing(index_elements=["sha256"])).rowcount
    if added:
        s.add_all(BillTextChunk(sha256=digest, position=i, section=label, body=piece)
                  for i, (label, piece) in enumerate(chunks(text)))
        s.flush()


def _version(row: BillTextVersion, blob: BillTextBlob, canonical: str) -> Version:
    return Version(bill=canonical, bill_id=row.bill_id, version=row.version, sha256=row.sha256, words=blob.words,
                   size=blob.size, source=row.source, seen_at=row.seen_at, flags=list(row.flags or []))


def record_text(s: Session, bill: Bill, text: str | None, source: str, seen_at: datetime,
                flags: list[str] | tuple = ()) -> Version | None:
    """Record ``text`` (already normalised) as the bill's next version, in the caller's transaction; None when
    it is the same as the latest version, or empty (the bill is then marked ``text_empty_since``)."""
    if source not in SOURCES:
        raise ValueError(f"source {source!r}: expected one of {', '.join(SOURCES)}")
    if text is None or not text.strip():
        bill.text_empty_since = bill.text_empty_since or seen_at
        return None
    was_empty = bill.text_empty_since is not None
    bill.text_empty_since = None
    digest = text_sha256(text)
    latest = _latest(s, bill.id)
    if latest is not None and latest.sha256 == digest:
        return None
    _store_blob(s, text, digest, seen_at)
    marks = list(dict.fromkeys(flags)) + (["after-empty"] if was_empty and latest is not None else [])
    row = BillTextVersion(bill_id=bill.id, version=(latest.version if latest else 0) + 1, sha256=digest,
                          source=source, seen_at=seen_at, flags=marks)
    s.add(row)
    s.flush()
    return _version(row, s.get(BillTextBlob, digest), bill.canonical)


def versions(s: Session, bill_id: int) -> list[Version]:
    """The bill's versions, oldest first."""
    canonical = s.scalar(select(Bill.canonical).where(Bill.id == bill_id))
    rows = s.execute(select(BillTextVersion, BillTextBlob)
                     .join(BillTextBlob, BillTextBlob.sha256 == BillTextVersion.sha256)
                     .where(BillTextVersion.bill_id == bill_id).order_by(BillTextVersion.version))
    return [_version(v, b, canonical) for v, b in rows]


def version_count(s: Session, bill_id: int) -> int:
    return s.scalar(select(func.count()).select_from(BillTextVersion).where(BillTextVersion.bill_id == bill_id))


def text_of(s: Session, sha256: str) -> str | None:
    body = s.scalar(select(BillTextBlob.body).where(BillTextBlob.sha256 == sha256))
    return None if body is None else zlib.decompress(body).decode("utf-8")


def version_text(s: Session, bill_id: int, n: int | None = None) -> str | None:
    """The text of version ``n`` of the bill (the latest when None); None when there is no such version."""
    query = select(BillTextVersion.sha256).where(BillTextVersion.bill_id == bill_id)
    query = query.where(BillTextVersion.version == n) if n is not None else \
        query.order_by(BillTextVersion.version.desc()).limit(1)
    digest = s.scalar(query)
    return None if digest is None else text_of(s, digest)


def find_version(s: Session, canonical: str, n: int | None = None) -> Version | None:
    """Version ``n`` (the latest when None) of the bill known as ``canonical``; None when there is none."""
    bill_id = s.scalar(select(Bill.id).where(Bill.canonical == canonical))
    if bill_id is None:
        return None
    query = (select(BillTextVersion, BillTextBlob).join(BillTextBlob, BillTextBlob.sha256 == BillTextVersion.sha256)
             .where(BillTextVersion.bill_id == bill_id))
    query = query.where(BillTextVersion.version == n) if n is not None else \
        query.order_by(BillTextVersion.version.desc()).limit(1)
    row = s.execute(query).first()
    return None if row is None else _version(row[0], row[1], canonical)
