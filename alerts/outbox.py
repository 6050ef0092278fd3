"""The outbox: one row per message, keyed (recipient, kind, period), and its ledger entries.

A message and the ledger rows of the events it carries are written in one
transaction, so an event is either in a message or still pending, never both
and never lost. States: queued -> sending -> sent; a failed attempt goes back to
queued with a capped backoff, or to failed; mail to a bounced or unsubscribed
address is suppressed.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from alerts.render import Rendered
from db.checks import backoff as _backoff
from db.models import Delivery, OutboxMessage, Subscriber

BACKOFF_START = timedelta(minutes=5)
BACKOFF_CAP = timedelta(hours=6)
STATES = ("queued", "sending", "sent", "failed", "suppressed")


def backoff(attempts: int) -> timedelta:
    return _backoff(attempts, BACKOFF_START, BACKOFF_CAP)


def exists(s: Session, subscriber_id: int, kind: str, period: str) -> bool:
    return s.scalar(select(OutboxMessage.id).where(OutboxMessage.subscriber_id == subscriber_id,
                                                   OutboxMessage.kind == kind, OutboxMessage.period == period)) is not None


def enqueue(s: Session, sub: Subscriber, kind: str, period: str, msg: Rendered, now: datetime,
            event_ids: list[int] = (), covered_ids: list[int] = (), to_addr: str | None = None) -> OutboxMessage:
    """Add the message and its ledger rows to the caller's transaction. ``to_addr``: a letter goes to a
    legislator's office, not to the subscriber who wrote it."""
    row = OutboxMessage(subscriber_id=sub.id, kind=kind, period=period, state="queued", to_addr=to_addr or sub.email,
                        subject=msg.subject, message_id=msg.message_id, body=zlib.compress(msg.data, 6), events=len(event_ids), attempts=0, uncertain=0,
                        next_attempt_at=now, created_at=now)
    s.add(row)
    s.flush()
    ids = list(event_ids) + list(covered_ids)
    if ids:
        s.execute(Delivery.__table__.insert(),
                  [{"subscriber_id": sub.id, "event_id": e, "message_id": row.id} for e in ids])
    return row


def enqueue_many(s: Session, items: list[tuple[Subscriber, str, str, Rendered, list[int], list[int]]],
                 now: datetime) -> None:
    """``enqueue`` for a page of recipients: one INSERT for the messages, one for their ledger rows."""
    if not items:
        return
    rows = [{"subscriber_id": sub.id, "kind": kind, "period": period, "state": "queued", "to_addr": sub.email,
             "subject": msg.subject, "message_id": msg.message_id, "body": zlib.compress(msg.data, 6),
             "events": len(shown), "attempts": 0, "uncertain": 0, "next_attempt_at": now, "created_at": now}
            for sub, kind, period, msg, shown, _ in items]
    ids = s.scalars(insert(OutboxMessage).returning(OutboxMessage.id, sort_by_parameter_order=True), rows).all()
    ledger = [{"subscriber_id": sub.id, "event_id": e, "message_id": message_id}
              for (sub, _, _, _, shown, covered), message_id in zip(items, ids) for e in shown + covered]
    if ledger:
        s.execute(Delivery.__table__.insert(), ledger)


def suppress_for(s: Session, subscriber_id: int, reason: str) -> int:
    """Every queued message to this subscriber becomes suppressed; returns how many."""
    result = s.execute(update(OutboxMessage)
                       .where(OutboxMessage.subscriber_id == subscriber_id, OutboxMessage.state == "queued")
                       .values(state="suppressed", last_error=reason))
    return result.rowcount or 0


def counts(s: Session) -> dict[str, int]:
    out = {state: 0 for state in STATES}
    for state, n in s.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)):
        out[state] = n
    out["uncertain"] = s.scalar(select(func.coalesce(func.sum(OutboxMessage.uncertain), 0))) or 0
    return out


def last_sent(s: Session) -> dict[str, str]:
    """kind -> when the newest message of that kind was sent (ISO), for ``tracker status``."""
    rows = s.execute(select(OutboxMessage.kind, func.max(OutboxMessage.sent_at))
                     .where(OutboxMessage.state == "sent").group_by(OutboxMessage.kind))
    return {kind: (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).isoformat() for kind, at in rows if at}
