"""Send what the outbox holds: claim one message, send it, record the outcome, next.

A message is claimed (``sending``) before it is sent, and the commit that records
it sent also claims the next one, so at any moment a worker has at most one
message in doubt; after a crash it is sent again and counted in ``uncertain``:
at once when the claim names a worker on this machine whose process is gone
(``claimed_by``, ``db.liveness``: a ``kill -9`` and a restart), otherwise
once the claim is older than ``stale_after``. On PostgreSQL the next message is
picked ``FOR UPDATE SKIP LOCKED``, so several workers deliver at once without
waiting for each other; on both backends the claim is a conditional UPDATE, so
no two workers send the same row.
"""

from __future__ import annotations

import logging
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from datetime import time as dtime
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts.addresses import mask, scrub
from alerts.outbox import backoff, suppress_for
from alerts.ratelimit import TokenBucket
from alerts.settings import AlertSettings
from alerts.transport import DeliveryError
from db.models import AskLetter, FailingAddress, OutboxMessage, Subscriber
from db.leases import holder_name
from db.liveness import is_dead

log = logging.getLogger("tracker.deliver")
STALE_CLAIM = timedelta(minutes=10)
# a letter goes to a legislator's office: the writer's subscription (unsubscribed, bounced) does not hold it back,
# and an office's bounce marks the office's address, never the writer; her copy and her confirmation are held
# back only by her own address bouncing
LETTER = "letter"
PERSONAL = frozenset({"letter-copy", "ask-confirm"})


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    bounced: int = 0
    suppressed: int = 0
    uncertain: int = 0
    recovered: int = 0
    deferred: int = 0  # letters held for tomorrow: their office had its letters for the day
    paced: int = 0  # left queued for the next delivery run: waiting for the send rate would have taken too long
    down: str | None = None  # why the run stopped early (server unreachable)
    errors: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in ("sent", "retried", "failed", "bounced", "suppressed", "uncertain",
                                              "recovered", "deferred", "paced", "down")} | {"errors": self.errors}


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def recover_stale(s: Session, now: datetime, stale_after: timedelta) -> int:
    """Queue again, counted, the claims of workers that died mid-send: at once those whose claimant
    is known dead, the others (a live worker, another machine, an older row without ``claimed_by``)
    once older than ``stale_after``.

    Each is a conditional UPDATE on the claim itself (still ``sending``, still by that claimant), so
    of two workers recovering at once only one takes a row, and a row another worker has recovered
    and claimed again meanwhile is left alone.
    """
    sending = OutboxMessage.state == "sending"
    claimants = s.scalars(select(OutboxMessage.claimed_by).distinct()
                          .where(sending, OutboxMessage.claimed_by.is_not(None))).all()
    dead = [name for name in claimants if is_dead(name)]
    lapsed = OutboxMessage.claimed_at <= now - stale_after
    rows = s.execute(update(OutboxMessage)
                     .where(sending, (lapsed | OutboxMessage.claimed_by.in_(dead)) if dead else lapsed)
                     .values(state="queued", claimed_at=None, claimed_by=None, uncertain=OutboxMessage.uncertain + 1,
                             last_error="in flight when its worker stopped; sent again"),
                     execution_options={"synchronize_session": False})
    return rows.rowcount or 0


def deliver(sessions: sessionmaker[Session], transport, sender: str, *, rate: float = 20.0, max_attempts: int = 8,
            now: Callable[[], datetime] = _utcnow, stale_after: timedelta = STALE_CLAIM,
            only_ids: list[int] | None = None, limit: int | None = None,
            bucket: TokenBucket | None = None, stop=None, letters_per_day: int | None = None,
            tz: ZoneInfo = ZoneInfo("America/New_York"), max_wait: float | None = None) -> DeliveryReport:
    """Send the queued messages that are due. ``stop`` (a threading.Event) ends the run between two
    messages, never in the middle of one. ``letters_per_day``: letters one address gets in a day (of ``tz``);
    the others wait in the outbox for the next day. ``bucket``: the send rate, shared with the other deliveries
    of the process. ``max_wait``: the longest this run waits for the rate, in all (a page that delivers what it
    just queued); past it the run stops and leaves the rest queued for the next run (``paced``).

    The commit that records message N as sent also claims message N+1, so one commit a message
    suffices and at any moment at most one message is ``sending``: the one on the wire.
    """
    report = DeliveryReport()
    bucket = bucket or TokenBucket(rate)
    worker = holder_name("deliver")
    with sessions.begin() as s:
        report.recovered = recover_stale(s, now(), stale_after)

    def done() -> bool:
        return bool(report.down or (limit is not None and report.sent + report.failed >= limit)
                    or (stop is not None and stop.is_set()))

    sent_unrecorded: tuple[int, str] | None = None  # sent (id, kind), its "sent" not yet committed
    after, fresh_pass = 0, False  # keyset over the queue; one more pass from the start finds retries
    try:
        while not done():
            with sessions.begin() as s:
                if sent_unrecorded is not None:
                    _mark_sent(s, *sent_unrecorded, now())
                    sent_unrecorded = None
                row = _claim_next(s, now(), after, only_ids, worker)
            if row is None:
                if after == 0 or fresh_pass:
                    break
                after, fresh_pass = 0, True
                continue
            message_id, to_addr, kind, body, sub_status = row
            after, fresh_pass = message_id, False
            held = _held_back(kind, sub_status)
            if held:
                with sessions.begin() as s:
                    s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                              .values(state="suppressed", claimed_at=None, claimed_by=None,
                                      last_error=f"the subscriber is {held}"),
                              execution_options={"synchronize_session": False})
                report.suppressed += 1
                continue
            if kind == LETTER and letters_per_day is not None:
                with sessions.begin() as s:
                    if _defer_over_quota(s, message_id, to_addr, letters_per_day, now(), tz):
                        report.deferred += 1
                        continue
            waited = bucket.take(None if max_wait is None else max(0.0, max_wait))
            if waited is None:
                _leave_for_next_run(sessions, message_id, only_ids, now(), report)
                break
            if max_wait is not None:
                max_wait -= waited
            started = time.monotonic()
            try:
                transport.send(sender, to_addr, zlib.decompress(body))
            except DeliveryError as exc:
                _failed(sessions, message_id, exc, max_attempts, now, report)
                continue
            sent_unrecorded = (message_id, kind)
            report.sent += 1
            if log.isEnabledFor(logging.INFO):
                log.info("job=deliver message=%d kind=%s to=%s duration_ms=%.1f", message_id, kind,
                         mask(to_addr), (time.monotonic() - started) * 1000)
    finally:
        if sent_unrecorded is not None:
            with sessions.begin() as s:
                _mark_sent(s, *sent_unrecorded, now())
        transport.close()
    return report


def _leave_for_next_run(sessions, message_id: int, only_ids, at: datetime, report: DeliveryReport) -> None:
    """The send rate is spent (other requests are sending): give the claimed message back, unsent, and count what
    this run leaves queued for the next one (``tracker run``'s dispatch)."""
    with sessions.begin() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                  .values(state="queued", claimed_at=None, claimed_by=None),
                  execution_options={"synchronize_session": False})
        report.paced = s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.id.in_(only_ids), OutboxMessage.state == "queued", OutboxMessage.next_attempt_at <= at)) \
            if only_ids is not None else 1
    log.info("job=deliver the send rate is spent: %d message(s) left for the next run", report.paced)


def _held_back(kind: str, status: str) -> str | None:
    """Why a message is not sent (its subscriber's status), or None."""
    if status not in ("bounced", "unsubscribed") or kind == LETTER:
        return None
    return None if kind in PERSONAL and status == "unsubscribed" else status


def _claim_next(s: Session, at: datetime, after: int, only_ids, worker: str) -> tuple | None:
    """Claim the next due message (``sending``, by ``worker``) and return it with its subscriber's status.

    On PostgreSQL the row is picked ``FOR UPDATE SKIP LOCKED``: workers never wait for each other,
    and never pick the same row. SQLite has one writer at a time; the conditional UPDATE is enough.
    """
    query = (select(OutboxMessage.id, OutboxMessage.to_addr, OutboxMessage.kind, OutboxMessage.body,
                    Subscriber.status)
             .join(Subscriber, Subscriber.id == OutboxMessage.subscriber_id)
             .where(OutboxMessage.state == "queued", OutboxMessage.next_attempt_at <= at, OutboxMessage.id > after)
             .order_by(OutboxMessage.id).limit(1))
    if only_ids is not None:
        query = query.where(OutboxMessage.id.in_(only_ids))
    postgres = s.get_bind().dialect.name == "postgresql"
    if postgres:
        query = query.with_for_update(skip_locked=True, of=OutboxMessage)
    for _ in range(100):
        row = s.execute(query).first()
        if row is None:
            return None
        claimed = s.execute(update(OutboxMessage).where(OutboxMessage.id == row[0], OutboxMessage.state == "queued")
                            .values(state="sending", claimed_at=at, claimed_by=worker),
                            execution_options={"synchronize_session": False}).rowcount
        if claimed:
            return tuple(row)
        query = query.where(OutboxMessage.id > row[0])  # taken meanwhile (SQLite): the next one
    return None


def _mark_sent(s: Session, message_id: int, kind: str, at: datetime) -> None:
    s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
              .values(state="sent", sent_at=at, claimed_at=None, claimed_by=None, attempts=OutboxMessage.attempts + 1,
                      last_error=None), execution_options={"synchronize_session": False})
    if kind == LETTER:
        s.execute(update(AskLetter).where(AskLetter.outbox_id == message_id).values(state="sent", sent_at=at),
                  execution_options={"synchronize_session": False})


def _defer_over_quota(s: Session, message_id: int, to_addr: str, per_day: int, at: datetime, tz: ZoneInfo) -> bool:
    """A letter to an address that has had ``per_day`` letters today waits, queued, until tomorrow (local)."""
    local = at.astimezone(tz)
    midnight = datetime.combine(local.date(), dtime(0), tzinfo=tz)
    sent_today = s.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.to_addr == to_addr, OutboxMessage.kind == LETTER, OutboxMessage.state == "sent",
        OutboxMessage.sent_at >= midnight.astimezone(timezone.utc)))
    if sent_today < per_day:
        return False
    tomorrow = datetime.combine(local.date() + timedelta(days=1), dtime(0), tzinfo=tz).astimezone(timezone.utc)
    s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
              .values(state="queued", claimed_at=None, claimed_by=None, next_attempt_at=tomorrow,
                      last_error=f"{per_day} letters to this address today already; sent tomorrow"),
              execution_options={"synchronize_session": False})
    return True


def _failed(sessions, message_id: int, exc: DeliveryError, max_attempts: int, now, report: DeliveryReport) -> str:
    with sessions.begin() as s:
        row = s.get(OutboxMessage, message_id)
        row.claimed_at = row.claimed_by = None
        row.last_error = str(exc)[:2000]
        if exc.down:  # nothing was sent: the message keeps its place and its attempts
            row.state = "queued"
            report.down = str(exc)
            report.errors.append({"message": message_id, "error": str(exc)})
            log.warning("job=deliver server down, stopping: %s", exc)
            return "down"
        row.attempts += 1
        if exc.uncertain:
            row.uncertain += 1
            report.uncertain += 1
        if exc.transient and row.attempts < max_attempts:
            row.state = "queued"
            # The first loss of a connection is retried at once, on a new connection; then back off.
            row.next_attempt_at = now() if (row.attempts == 1 and exc.lost) else now() + backoff(row.attempts)
            report.retried += 1
            return "retried"
        row.state = "failed"
        report.failed += 1
        said = scrub(str(exc), row.to_addr)  # the server's reply often quotes the address
        report.errors.append({"message": message_id, "to": mask(row.to_addr), "error": said})
        if row.kind == LETTER:
            _letter_failed(s, row, exc, now(), report)
        elif exc.bounce:
            sub = s.get(Subscriber, row.subscriber_id)
            sub.status, sub.bounced_at, sub.last_error = "bounced", now(), str(exc)[:2000]
            report.bounced += 1
            report.suppressed += suppress_for(s, sub.id, "the address bounced")
        log.warning("job=deliver message=%d to=%s failed: %s", message_id, mask(row.to_addr), said)
        return "failed"


def _letter_failed(s: Session, row: OutboxMessage, exc: DeliveryError, at: datetime, report: DeliveryReport) -> None:
    """A letter that could not be delivered: the letter is marked failed; a bounce marks the office's address
    failing (staff see it in their digest and ``tracker asks``; the pages stop offering it), never the writer."""
    s.execute(update(AskLetter).where(AskLetter.outbox_id == row.id).values(state="failed"),
              execution_options={"synchronize_session": False})
    if not exc.bounce:
        return
    report.bounced += 1
    failing = s.get(FailingAddress, row.to_addr)
    if failing is None:
        s.add(FailingAddress(addr=row.to_addr, since=at, bounces=1, last_error=str(exc)[:2000]))
    else:
        failing.bounces += 1
        failing.last_error = str(exc)[:2000]


def deliver_outbox(settings: AlertSettings, sessions: sessionmaker[Session], transport, **options) -> DeliveryReport:
    """The one way mail leaves: ``deliver`` with the sender, rate, attempts and stale claim of ``settings``
    (the CLI, the scheduler, the sign-up page and ``dispatch`` all send through here)."""
    mail = settings.mail
    options.setdefault("stale_after", mail.stale_claim)
    options.setdefault("letters_per_day", mail.asks_per_recipient_per_day)
    options.setdefault("tz", settings.tz)
    return deliver(sessions, transport, settings.envelope_sender, rate=mail.messages_per_second,
                   max_attempts=mail.max_attempts, **options)
