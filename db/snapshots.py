"""Raw fetched bodies, kept compressed and content-addressed (sha256): the provenance of every event."""

from __future__ import annotations

import hashlib
import zlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Snapshot


def store_snapshot(session: Session, body: bytes, meta: dict) -> int:
    """The id of the snapshot of ``body``, stored once whatever the number of fetches that returned it.
    ``meta`` is the fetch's ``url``, ``status``, ``fetched_at`` (ISO) and optional ``content_type``,
    ``etag``, ``last_modified``."""
    digest = hashlib.sha256(body).hexdigest()
    existing = session.scalar(select(Snapshot.id).where(Snapshot.sha256 == digest))
    if existing is not None:
        return existing
    row = Snapshot(
        sha256=digest,
        url=meta["url"],
        status=meta["status"],
        content_type=meta.get("content_type"),
        etag=meta.get("etag"),
        last_modified=meta.get("last_modified"),
        fetched_at=datetime.fromisoformat(meta["fetched_at"]),
        size=len(body),
        body=zlib.compress(body, 6),
    )
    session.add(row)
    session.flush()
    return row.id
