"""Retention: drop only what nothing points to. Events are never deleted, nor are bill texts (their
versions and stored texts, ``db.texts``): nothing here touches those tables.

- snapshots older than ``schedule.keep_snapshots`` that no event, bill action or
  article source refers to (a document detail or petitioners page that changed
  nothing);
- the bodies of messages sent longer ago than ``schedule.keep_sent_bodies`` (the
  outbox row stays: who was sent what, and when).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, union, update
from sqlalchemy.orm import Session, sessionmaker

from db.models import ArticleSource, BillAction, Event, OutboxMessage, Snapshot
from tracker.config import Config


def apply_retention(config: Config, sessions: sessionmaker[Session], now: datetime) -> dict:
    keep = config.schedule.keep_sent_bodies
    keep_snapshots = config.schedule.keep_snapshots
    with sessions.begin() as s:
        referenced = union(select(Event.snapshot_id).where(Event.snapshot_id.is_not(None)),
                           select(BillAction.snapshot_id).where(BillAction.snapshot_id.is_not(None)),
                           select(ArticleSource.snapshot_id).where(ArticleSource.snapshot_id.is_not(None)))
        snapshots = s.execute(delete(Snapshot).where(Snapshot.id.not_in(referenced),
                                                     Snapshot.fetched_at < now - keep_snapshots)).rowcount or 0
        bodies = s.execute(update(OutboxMessage)
                           .where(OutboxMessage.state == "sent", OutboxMessage.sent_at < now - keep,
                                  OutboxMessage.body.is_not(None))
                           .values(body=None)).rowcount or 0
    return {"snapshots_deleted": snapshots, "bodies_dropped": bodies}
