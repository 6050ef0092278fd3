"""Send what the outbox holds: claim one message, send it, record the outcome, next.

A message is claimed (``sending``) before it is sent, and the commit that records
it sent also claims the next one, so at any moment a connection has at most one
message in doubt (``mail.connections`` of them send at once, each in a thread);
after a crash it is sent again and counted in ``uncertain``: at once when the claim names a worker on this machine whose process is gone
(``claimed_by``, ``db.liveness``: a ``kill -9`` and a restart) or a worker that missed three heartbeats
(another machine: ``db.heartbeat``), otherwise once the claim is older than ``stale_after``. On SQLite the due messages are read
a page at a time (keyset on the id) and each is claimed on its own by a conditional
UPDATE (still ``queued``), so no two workers or connections send the same row;
on PostgreSQL one UPDATE claims the next row ``FOR UPDATE SKIP LOCKED`` and returns
it, so workers deliver at once without waiting for each other.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from datetime import time as dtime
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts.addresses import mask, scrub
from alerts.outbox import backoff, suppress_for
from alerts.ratelimit import TokenBucket
from alerts.settings import AlertSettings
from alerts.transport import DeliveryError
from db.models import AskLetter, FailingAddress, OutboxMessage, Subscriber
from db.heartbeat import silent
from db.leases import holder_name
from db.liveness import is_dead

log = logging.getLogger("tracker.deliver")
STALE_CLAIM = timedelta(minutes=10)
PAGE = 200  # due messages read at a time
_OUTBOX = OutboxMessage.__table__
_DUE = (select(_OUTBOX.c.id, _OUTBOX.c.to_addr, _OUTBOX.c.kind, _OUTBOX.c.body, Subscriber.__table__.c.status)
        .join(Subscriber.__table__, Subscriber.__table__.c.id == _OUTBOX.c.subscriber_id)
        .where(_OUTBOX.c.state == "queued", _OUTBOX.c.next_attempt_at <= bindparam("b_at"),
               _OUTBOX.c.id > bindparam("b_after"))
        .order_by(_OUTBOX.c.id).limit(bindparam("b_size")))
_SUBSCRIBERS = Subscriber.__table__
# the subscriber's status as the claim sees it (not as the page read ahead saw it): an unsubscribe committed
# between the two holds the message back
_CLAIM = (update(_OUTBOX).where(_OUTBOX.c.id == bindparam("b_id"), _OUTBOX.c.state == "queued")
          .values(state="sending", claimed_at=bindparam("b_at"), claimed_by=bindparam("b_worker"))
          .returning(select(_SUBSCRIBERS.c.status).where(_SUBSCRIBERS.c.id == _OUTBOX.c.subscriber_id)
                     .scalar_subquery()))
_NEXT_DUE = (select(_OUTBOX.c.id).where(_OUTBOX.c.state == "queued", _OUTBOX.c.next_attempt_at <= bindparam("b_at"),
                                        _OUTBOX.c.id > bindparam("b_after"))
             .order_by(_OUTBOX.c.id).limit(1).with_for_update(skip_locked=True))


def _claim_pg(next_due):
    return (update(_OUTBOX)
            .where(_OUTBOX.c.id == next_due.scalar_subquery(), _SUBSCRIBERS.c.id == _OUTBOX.c.subscriber_id)
            .values(state="sending", claimed_at=bindparam("b_at"), claimed_by=bindparam("b_worker"))
            .returning(_OUTBOX.c.id, _OUTBOX.c.to_addr, _OUTBOX.c.kind, _OUTBOX.c.body, _SUBSCRIBERS.c.status))


_CLAIM_PG = _claim_pg(_NEXT_DUE)
_CLAIM_PG_ONLY = _claim_pg(_NEXT_DUE.where(_OUTBOX.c.id.in_(bindparam("b_only", expanding=True))))
_MARK_SENT = (update(_OUTBOX).where(_OUTBOX.c.id == bindparam("b_id"))
              .values(state="sent", sent_at=bindparam("b_at"), claimed_at=None, claimed_by=None,
                      attempts=_OUTBOX.c.attempts + 1, last_error=None))
_LETTER_SENT = (update(AskLetter.__table__).where(AskLetter.__table__.c.outbox_id == bindparam("b_id"))
                .values(state="sent", sent_at=bindparam("b_at")))
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


def _add_up(report: DeliveryReport, part: DeliveryReport) -> None:
    """Count into ``report`` what ``part`` saw (one message's outcome)."""
    for name in ("sent", "retried", "failed", "bounced", "suppressed", "uncertain", "recovered", "deferred"):
        setattr(report, name, getattr(report, name) + getattr(part, name))
    report.down = part.down or report.down
    report.errors.extend(part.errors)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def recover_stale(s: Session, now: datetime, stale_after: timedelta) -> int:
    """Queue again, counted, the claims of workers that died mid-send: at once those whose claimant
    is known dead (a process of this machine that is gone, or a worker that missed three heartbeats:
    ``db.heartbeat``), the others (a live worker, a worker that does not beat, an older row without
    ``claimed_by``) once older than ``stale_after``.

    Each is a conditional UPDATE on the claim itself (still ``sending``, still by that claimant), so
    of two workers recovering at once only one takes a row, and a row another worker has recovered
    and claimed again meanwhile is left alone.
    """
    sending = OutboxMessage.state == "sending"
    claimants = s.scalars(select(OutboxMessage.claimed_by).distinct()
                          .where(sending, OutboxMessage.claimed_by.is_not(None))).all()
    dead = [name for name in claimants if is_dead(name)]
    dead += silent(s, [name for name in claimants if name not in dead])  # another machine's, three beats missed
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
            tz: ZoneInfo = ZoneInfo("America/New_York"), max_wait: float | None = None,
            connections: int = 1) -> DeliveryReport:
    """Send the queued messages that are due. ``stop`` (a threading.Event) ends the run between two
    messages, never in the middle of one. ``letters_per_day``: letters one address gets in a day (of ``tz``);
    the others wait in the outbox for the next day. ``bucket``: the send rate, shared with the other deliveries
    of the process (and by this run's connections). ``max_wait``: the longest this run waits for the rate, in
    all (a page that delivers what it just queued); past it the run stops and leaves the rest queued for the
    next run (``paced``). ``connections``: SMTP connections sending at once, each in its own thread with a
    transport of its own (``transport.another()``; a transport without it sends over one).

    The due messages are read a page at a time; each is claimed on its own, and the commit that records
    message N as sent also claims that connection's message N+1, so one commit a message suffices and at any
    moment each connection has at most one message ``sending``: the one on the wire.
    """
    report = DeliveryReport()
    bucket = bucket or TokenBucket(rate)
    with sessions.begin() as s:
        report.recovered = recover_stale(s, now(), stale_after)
    run = _Run(sessions, sender, report, bucket, now, max_attempts, only_ids, limit, stop, letters_per_day, tz,
               max_wait)
    if only_ids is not None:  # a page sending what it just queued: no more connections than messages
        connections = min(connections, max(1, len(only_ids)))
    if limit is not None:
        connections = min(connections, max(1, limit))
    more = getattr(transport, "another", None)
    transports = [transport] + ([more() for _ in range(connections - 1)] if more is not None else [])
    if len(transports) == 1:
        run.connection(transport)
    else:
        threads = [threading.Thread(target=run.connection, args=(t, True), name=f"deliver-{i}", daemon=True)
                   for i, t in enumerate(transports)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if run.crashed:
            raise run.crashed[0]
    return report


class _Run:
    """One delivery run: the due messages, read a page at a time and handed to the connections one by one,
    and what the connections tell the report (under a lock: they are threads)."""

    def __init__(self, sessions, sender, report: DeliveryReport, bucket: TokenBucket, now, max_attempts: int,
                 only_ids, limit, stop, letters_per_day, tz, max_wait):
        self.sessions, self.sender, self.report, self.bucket, self.now = sessions, sender, report, bucket, now
        self.engine = sessions.kw["bind"]
        self.postgres = self.engine.dialect.name == "postgresql"
        self.max_attempts, self.only_ids, self.limit, self.stop = max_attempts, only_ids, limit, stop
        self.letters_per_day, self.tz, self.max_wait = letters_per_day, tz, max_wait
        self.worker = holder_name("deliver")
        self.lock = threading.Lock()  # the page, the report, the wait budget
        self.page: list[tuple] = []
        # keyset over the queue; one more pass from the start finds retries
        self.after, self.fresh_pass, self.drained = 0, False, False
        self.taken = 0  # messages being sent, or sent and failed, toward ``limit``
        self.ended = False  # a connection left the rate's budget for the next run: the others stop too
        self.crashed: list[BaseException] = []

    def done(self) -> bool:
        r = self.report
        return bool(r.down or self.ended or self.crashed or (self.stop is not None and self.stop.is_set()))

    def reserve(self) -> bool:
        """May this connection claim one more message? (The run goes on, and ``limit`` allows it.)"""
        with self.lock:
            if self.done() or self.drained or (self.limit is not None and self.taken >= self.limit):
                return False
            self.taken += 1
            return True

    def _from_page(self, conn) -> tuple | None:
        """The next due message of the page (not claimed yet), or None when the queue is drained. The page is read on
        the connection's own ``conn``, in its transaction: a second connection from the pool, taken while this one
        holds SQLite's write lock, could wait for requests of the web app that hold the pool's connections while
        they wait for that write lock (a deadlock until the pool's 30 s timeout)."""
        with self.lock:
            while not self.drained:
                if self.page:
                    return self.page.pop()
                rows = _due_page(conn, self.now(), self.after, self.only_ids)
                if rows:
                    self.after, self.fresh_pass = rows[-1][0], False
                    self.page = rows[::-1]
                elif self.after == 0 or self.fresh_pass:
                    self.drained = True
                else:
                    self.after, self.fresh_pass = 0, True
            return None

    def claim(self, conn, at: datetime, keyset: list) -> tuple | None:
        """Claim the next due message for this connection (``sending``, by this worker), in the caller's
        transaction; None when there is none left.

        SQLite (one writer at a time): the messages of a page read ahead, each claimed by a conditional UPDATE.
        PostgreSQL: one UPDATE claims the next row ``FOR UPDATE SKIP LOCKED`` and returns it, so workers (and
        connections) never wait for each other nor pick the same row; ``keyset``: this connection's place in
        the queue and whether it already went back to the start once."""
        if not self.postgres:
            while (row := self._from_page(conn)) is not None:
                status = conn.execute(_CLAIM, {"b_id": row[0], "b_at": at, "b_worker": self.worker}).first()
                if status is not None:
                    return (*row[:4], status[0])
            return None
        query = _CLAIM_PG_ONLY if self.only_ids is not None else _CLAIM_PG
        while True:
            params = {"b_at": at, "b_after": keyset[0], "b_worker": self.worker}
            if self.only_ids is not None:
                params["b_only"] = list(self.only_ids)
            row = conn.execute(query, params).first()
            if row is not None:
                keyset[:] = [row[0], False]
                return tuple(row)
            if keyset[0] == 0 or keyset[1]:
                return None
            keyset[:] = [0, True]

    def untake(self) -> None:
        """A message tried and not counted toward ``limit`` (none found, held back, deferred, retried)."""
        with self.lock:
            self.taken -= 1

    def count(self, what: str) -> None:
        with self.lock:
            setattr(self.report, what, getattr(self.report, what) + 1)

    def connection(self, transport, threaded: bool = False) -> None:
        """One connection's loop: claim (committing the previous message's "sent" with it), send, next. In a
        thread of its own (``threaded``) an error stops the other connections and is raised by ``deliver``."""
        sent_unrecorded: tuple[int, str] | None = None  # sent (id, kind), its "sent" not yet committed
        keyset = [0, False]
        try:
            with self.engine.connect() as conn:
                while self.reserve():
                    with conn.begin():
                        at = self.now()
                        if sent_unrecorded is not None:
                            _mark_sent_core(conn, *sent_unrecorded, at)
                            sent_unrecorded = None
                        row = self.claim(conn, at, keyset)
                    if row is None:  # nothing left that is due (the other connections find it so too)
                        self.untake()
                        break
                    message_id, to_addr, kind, body, sub_status = row
                    if not self._one(transport, message_id, to_addr, kind, body, sub_status):
                        continue
                    sent_unrecorded = (message_id, kind)
                if sent_unrecorded is not None:
                    with conn.begin():
                        _mark_sent_core(conn, *sent_unrecorded, self.now())
                    sent_unrecorded = None
        except BaseException as exc:
            with self.lock:
                self.crashed.append(exc)
            if not threaded:
                raise
        finally:
            if sent_unrecorded is not None:
                with self.sessions.begin() as s:
                    _mark_sent(s, *sent_unrecorded, self.now())
            transport.close()

    def _one(self, transport, message_id: int, to_addr: str, kind: str, body: bytes, sub_status: str) -> bool:
        """Send one claimed message; True when it went (its "sent" is committed with the next claim)."""
        report, sessions, now = self.report, self.sessions, self.now
        held = _held_back(kind, sub_status)
        if held:
            with sessions.begin() as s:
                s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                          .values(state="suppressed", claimed_at=None, claimed_by=None,
                                  last_error=f"the subscriber is {held}"),
                          execution_options={"synchronize_session": False})
            self.untake()
            self.count("suppressed")
            return False
        if kind == LETTER and self.letters_per_day is not None:
            with sessions.begin() as s:
                if _defer_over_quota(s, message_id, to_addr, self.letters_per_day, now(), self.tz):
                    self.untake()
                    self.count("deferred")
                    return False
        waited = self._take_rate()
        if waited is None:
            with self.lock:
                self.ended = True
            # never under the run's lock: this waits for the database's write lock, which another connection
            # of the run may hold while it waits for the run's lock (a deadlock, until SQLite's 30 s timeout)
            part = DeliveryReport()
            _leave_for_next_run(sessions, message_id, self.only_ids, now(), part)
            with self.lock:
                report.paced = part.paced
            return False
        started = time.monotonic()
        try:
            transport.send(self.sender, to_addr, zlib.decompress(body))
        except DeliveryError as exc:
            part = DeliveryReport()  # recorded outside the run's lock, as above; counted under it
            outcome = _failed(sessions, message_id, exc, self.max_attempts, now, part)
            with self.lock:
                _add_up(report, part)
                if outcome != "failed":
                    self.taken -= 1
            return False
        self.count("sent")
        if log.isEnabledFor(logging.INFO):
            fields = {"job": "deliver", "message_id": message_id, "kind": kind, "to": mask(to_addr),
                      "duration_ms": round((time.monotonic() - started) * 1000, 1)}
            log.info("job=%(job)s message=%(message_id)d kind=%(kind)s to=%(to)s duration_ms=%(duration_ms).1f",
                     fields, extra=fields)
        return True

    def _take_rate(self) -> float | None:
        """A token of the shared rate; None when this run's ``max_wait`` would be exceeded."""
        if self.max_wait is None:
            return self.bucket.take(None)
        with self.lock:
            budget = max(0.0, self.max_wait)
        waited = self.bucket.take(budget)
        if waited is not None:
            with self.lock:
                self.max_wait -= waited
        return waited


def _due_page(conn, at: datetime, after: int, only_ids, size: int = PAGE) -> list[tuple]:
    """The next ``size`` due messages after id ``after`` (keyset), with their subscriber's status; read only:
    each is claimed on its own, by a conditional UPDATE, so two workers never send the same row."""
    query = _DUE
    if only_ids is not None:
        query = query.where(_OUTBOX.c.id.in_(only_ids))
    return [tuple(r) for r in conn.execute(query, {"b_at": at, "b_after": after, "b_size": size})]


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
    log.info("job=deliver the send rate is spent: %d message(s) left for the next run", report.paced,
             extra={"job": "deliver"})


def _held_back(kind: str, status: str) -> str | None:
    """Why a message is not sent (its subscriber's status), or None."""
    if status not in ("bounced", "unsubscribed") or kind == LETTER:
        return None
    return None if kind in PERSONAL and status == "unsubscribed" else status


def _mark_sent_core(conn, message_id: int, kind: str, at: datetime) -> None:
    """``_mark_sent`` on a connection, with statements built once (this runs for every message)."""
    conn.execute(_MARK_SENT, {"b_id": message_id, "b_at": at})
    if kind == LETTER:
        conn.execute(_LETTER_SENT, {"b_id": message_id, "b_at": at})


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
            log.warning("job=deliver server down, stopping: %s", exc, extra={"job": "deliver"})
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
        log.warning("job=deliver message=%d to=%s failed: %s", message_id, mask(row.to_addr), said,
                    extra={"job": "deliver", "message_id": message_id, "to": mask(row.to_addr)})
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
    options.setdefault("connections", mail.connections)
    return deliver(sessions, transport, settings.envelope_sender, rate=mail.messages_per_second,
                   max_attempts=mail.max_attempts, **options)
