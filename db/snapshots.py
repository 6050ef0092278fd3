"""Reading the raw responses events came from (the provenance the archive links to)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from db.models import Snapshot


@dataclass(frozen=True)
class StoredResponse:
    id: int
    url: str
    fetched_at: datetime
    body: bytes  # as fetched (stored compressed)


def read_snapshot(s: Session, snapshot_id: int) -> StoredResponse | None:
    """The snapshot, decompressed; None when there is none with that id (or the id cannot be one)."""
    snap = s.get(Snapshot, snapshot_id) if 0 < snapshot_id < 2**63 else None
    if snap is None:
        return None
    return StoredResponse(snap.id, snap.url, snap.fetched_at, zlib.decompress(snap.body))
