"""``dispatch()``: compose what is due for every recipient, then deliver the outbox.

Immediate supporters get an alert as soon as something concerns them; daily and
weekly ones a digest once per period, and urgent news (a hearing within 48 hours,
a bill engrossed, enacted, signed or vetoed) at once. Staff get the daily digest:
every bill that moved with its coverage, the other news, the sources' health.
Recipients are streamed a page at a time, so 100,000 supporters cost no more
memory than 500.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.addresses import BadAddress, normalise_email
from alerts.ask_report import staff_section
from alerts.compose import Composer
from alerts.deliver import DeliveryReport, deliver_outbox
from alerts.outbox import enqueue, enqueue_many, exists
from alerts.selection import (BACKFILL, STAFF_KINDS, SUPPORTER_KINDS, Interest, bill_families, candidates,
                              daily_period, fold_first_sightings, is_urgent, pending, weekly_period)
from alerts.settings import AlertSettings
from alerts.subscribers import active_topics
from db.models import Bill, Delivery, Event, OutboxMessage, Subscriber, Subscription
from db.asks import record_daily_counts
from db.source_health import long_failures, source_problems
from db.successors import accepted_pairs

log = logging.getLogger("tracker.dispatch")
PAGE = 500


@dataclass
class DispatchReport:
    composed: Counter = field(default_factory=Counter)
    planned: list[dict] = field(default_factory=list)  # what a dry run would send
    delivery: DeliveryReport | None = None
    errors: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"composed": dict(self.composed), "planned": self.planned, "errors": self.errors,
                "delivery": self.delivery.to_json() if self.delivery else None}


class _Run:
    def __init__(self, s: Session, settings: AlertSettings, now: datetime, report: DispatchReport, dry_run: bool):
        self.s, self.settings, self.now, self.report, self.dry_run = s, settings, now, report, dry_run
        self.tz = settings.tz
        self.events: list[Event] = candidates(s, now)
        self.first_event = self.events[0].id if self.events else None
        self.families = bill_families(s)
        self.bill_ids = dict(s.execute(select(Bill.canonical, Bill.id)).all())
        self.staff_only = frozenset(s.scalars(select(Bill.id).where(Bill.position == "watch")))  # no supporter hears
        # bills followed as accepted successors: announced by their bill.successor event, not again when first crawled
        self.successor_ids = frozenset(self.bill_ids[c] for _, c in accepted_pairs(s) if c in self.bill_ids)
        self.composer = Composer(s, settings, now)

    def delivered(self, subscriber_ids: list[int]) -> dict[int, set[int]]:
        out: dict[int, set[int]] = {i: set() for i in subscriber_ids}
        if self.first_event is None or not subscriber_ids:
            return out
        rows = self.s.execute(select(Delivery.subscriber_id, Delivery.event_id).where(
            Delivery.subscriber_id.in_(subscriber_ids), Delivery.event_id >= self.first_event))
        for sid, eid in rows:
            out[sid].add(eid)
        return out

    def composed_keys(self, subscriber_ids: list[int], periods: list[str]) -> set[tuple]:
        rows = self.s.execute(select(OutboxMessage.subscriber_id, OutboxMessage.kind, OutboxMessage.period).where(
            OutboxMessage.subscriber_id.in_(subscriber_ids), OutboxMessage.period.in_(periods)))
        return {tuple(r) for r in rows}

    def interest(self, topics: list[str]) -> Interest | None:
        if not topics:
            return None
        if "campaign" in topics:
            return Interest(None, frozenset(SUPPORTER_KINDS), self.staff_only)
        ids: set[int] = set()
        for t in topics:
            bill_id = self.bill_ids.get(t.removeprefix("bill:"))
            if bill_id is not None:
                ids |= self.families.get(bill_id, {bill_id})
        return Interest(frozenset(ids), frozenset(SUPPORTER_KINDS), self.staff_only)

    def put(self, sub: Subscriber, kind: str, period: str, msg, shown: list[Event], covered: list[Event],
            batch: list | None = None) -> None:
        """Queue one message with its ledger rows (into ``batch``, written with its page, when given)."""
        self.report.composed[kind] += 1
        if self.dry_run:
            self.report.planned.append({"to": sub.email, "kind": kind, "period": period, "subject": msg.subject,
                                        "events": len(shown)})
            return
        if batch is not None:
            batch.append((sub, kind, period, msg, [e.id for e in shown], [e.id for e in covered]))
        else:
            enqueue(self.s, sub, kind, period, msg, self.now, [e.id for e in shown], [e.id for e in covered])

    # -- staff ---------------------------------------------------------------------------------------------

    def staff(self, only: str | None) -> None:
        settings = self.settings
        period = daily_period(self.now, self.tz, settings.staff_at)
        if period is None or not settings.staff_to:
            return
        health = None
        letters = None  # the asks' section, once per run; letters sent in the last day are reason enough to send
        for address in settings.staff_to:
            email = normalise_email(address)
            if only and email != only:
                continue
            sub = self._staff_member(email)
            if sub.status != "active" or exists(self.s, sub.id, "staff-daily", period):
                continue
            evs = pending(self.events, Interest(None, frozenset(STAFF_KINDS), staff=True), sub.start_event_id,
                          self.delivered([sub.id])[sub.id], BACKFILL["daily"], self.now, self.tz)
            shown, covered = fold_first_sightings(evs, self.successor_ids)
            if health is None:
                health = source_problems(self.s, self.now)
            if letters is None:
                letters = staff_section(self.s, settings, self.now) or {}
            if not (shown or health or settings.staff_send_empty or letters.get("active")):
                continue
            msg = self.composer.staff(sub, period, shown, health, letters or None)
            self.put(sub, "staff-daily", period, msg, shown, covered)

    def staff_alerts(self, only: str | None) -> None:
        """A source failing for more than a day: staff hear at once, once per failure."""
        failures = long_failures(self.s, self.now)
        for address in self.settings.staff_to if failures else ():
            email = normalise_email(address)
            if only and email != only:
                continue
            sub = self._staff_member(email)
            for ev in failures:
                period = f"failing-{ev.id}"
                if sub.status == "active" and not exists(self.s, sub.id, "staff-alert", period):
                    # a staff digest may have told of the failure already: the alert is sent all the same, and the
                    # event's ledger row stays the digest's (a second one for the same event would break its key)
                    told = self.s.scalar(select(Delivery.event_id).where(Delivery.subscriber_id == sub.id,
                                                                         Delivery.event_id == ev.id))
                    self.put(sub, "staff-alert", period, self.composer.staff_alert(sub, ev), [] if told else [ev], [])

    def _staff_member(self, email: str) -> Subscriber:
        sub = self.s.scalar(select(Subscriber).where(Subscriber.email == email, Subscriber.role == "staff"))
        if sub is None:
            # staff see everything still within the backfill cap, from the start
            sub = Subscriber(email=email, role="staff", status="active", frequency="daily", source="config",
                             start_event_id=0, created_at=self.now, confirmed_at=self.now)
            self.s.add(sub)
            self.s.flush()
        return sub

    # -- supporters ------------------------------------------------------------------------------------------

    def supporters(self, only: str | None) -> None:
        if not self.events:
            return
        at = self.settings.supporters_at
        daily = daily_period(self.now, self.tz, at)
        weekly = weekly_period(self.now, self.tz, at, self.settings.weekly_day)
        today = self.now.astimezone(self.tz).date().isoformat()
        last_id = 0
        while True:
            query = (select(Subscriber).where(Subscriber.role == "supporter", Subscriber.status == "active",
                                              Subscriber.id > last_id).order_by(Subscriber.id).limit(PAGE))
            if only:
                query = query.where(Subscriber.email == only)
            page = list(self.s.scalars(query))
            if not page:
                break
            last_id = page[-1].id
            ids = [sub.id for sub in page]
            topics: dict[int, list[str]] = {i: [] for i in ids}
            for sid, topic in self.s.execute(select(Subscription.subscriber_id, Subscription.topic).where(
                    Subscription.subscriber_id.in_(ids), Subscription.active.is_(True)).order_by(Subscription.id)):
                topics[sid].append(topic)
            delivered = self.delivered(ids)
            done = self.composed_keys(ids, [p for p in (daily, weekly, today) if p])
            batch: list = []
            for sub in page:
                try:  # composing writes nothing: a failure here leaves no trace but the error
                    self._supporter(sub, topics[sub.id], delivered[sub.id], done, daily, weekly, today, batch)
                except Exception as exc:  # one recipient's bad data must not stop the others
                    log.exception("job=dispatch subscriber=%d failed", sub.id,
                                  extra={"job": "dispatch", "subscriber": sub.id})
                    self.report.errors.append({"subscriber": sub.id, "error": f"{type(exc).__name__}: {exc}"})
            if not self.dry_run:
                enqueue_many(self.s, batch, self.now)  # the page's messages and ledger rows, in one commit
                self.s.commit()
            self.s.expunge_all()

    def _supporter(self, sub: Subscriber, topics: list[str], delivered: set[int], done: set[tuple],
                   daily: str | None, weekly: str | None, today: str, batch: list) -> None:
        interest = self.interest(topics)
        if interest is None:
            return
        evs = pending(self.events, interest, sub.start_event_id, delivered, BACKFILL[sub.frequency], self.now,
                      self.tz)
        shown, covered = fold_first_sightings(evs, self.successor_ids)
        if not shown:
            return
        period = {"daily": daily, "weekly": weekly}.get(sub.frequency)
        if sub.frequency == "immediate":
            news_only = all(e.kind.startswith("article.") for e in shown)
            if news_only:  # coverage alone: at most one such alert a day
                kind, period = "news", today
            else:
                kind, period = "alert", f"event-{min(e.id for e in shown)}"
        elif period and (sub.id, sub.frequency, period) not in done:
            kind = sub.frequency
        else:
            shown, covered = [e for e in shown if is_urgent(e, self.now)], []
            if not shown:
                return
            kind, period = "urgent", f"event-{min(e.id for e in shown)}"
        if (sub.id, kind, period) in done:
            return
        msg = self.composer.supporter(sub, topics, kind, shown)
        self.put(sub, kind, period, msg, shown, covered, batch)


def compose_due(settings: AlertSettings, sessions: sessionmaker[Session], now: datetime, *,
                kinds=("staff", "supporters"), dry_run: bool = False, only: str | None = None,
                report: DispatchReport | None = None) -> DispatchReport:
    report = report or DispatchReport()
    if only:
        try:
            only = normalise_email(only)
        except BadAddress as exc:
            report.errors.append({"error": str(exc)})
            return report
    with sessions() as s:
        if not dry_run and settings.asks:
            record_daily_counts(s, now, settings.tz)  # yesterday's letters, as counts (ask.sent)
            s.commit()
        run = _Run(s, settings, now, report, dry_run)
        if "staff" in kinds:
            run.staff_alerts(only)
            run.staff(only)
            if not dry_run:
                s.commit()
        if "supporters" in kinds:
            run.supporters(only)
        if dry_run:
            s.rollback()
        else:
            s.commit()
    return report


def dispatch(settings: AlertSettings, sessions: sessionmaker[Session], transport, *, now: datetime | None = None,
             kinds=("staff", "supporters"), dry_run: bool = False, only: str | None = None,
             **deliver_options) -> DispatchReport:
    """Compose what is due at ``now`` (default: the clock), then deliver the outbox. A given ``now`` is
    also the delivery's clock (tests, the scheduler's simulated time)."""
    clock = (lambda: now) if now is not None else (lambda: datetime.now(timezone.utc))
    report = compose_due(settings, sessions, clock(), kinds=kinds, dry_run=dry_run, only=only)
    if only and not dry_run and "only_ids" not in deliver_options:  # --to: deliver that recipient's mail only
        with sessions() as s:
            deliver_options["only_ids"] = list(s.scalars(select(OutboxMessage.id).where(
                OutboxMessage.to_addr == normalise_email(only), OutboxMessage.state == "queued")))
    if not dry_run:
        report.delivery = deliver_outbox(settings, sessions, transport, now=clock, **deliver_options)
    kinds = dict(sorted(report.composed.items()))
    log.info("job=dispatch composed=%d %s", sum(kinds.values()), " ".join(f"{k}={v}" for k, v in kinds.items()),
             extra={"job": "dispatch", "composed": sum(kinds.values()), **kinds})
    return report


def queue_confirmation(s: Session, settings: AlertSettings, sub: Subscriber, now: datetime):
    """The confirmation email for a pending supporter; at most one a day per address."""
    period = now.astimezone(settings.tz).date().isoformat()
    if exists(s, sub.id, "confirm", period):
        return None
    msg = Composer(s, settings, now).confirmation(sub, active_topics(s, sub.id))
    return enqueue(s, sub, "confirm", period, msg, now)
