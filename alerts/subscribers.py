"""Supporters: sign-up with double opt-in, confirmation, unsubscribe, import.

A new supporter starts from the newest event (subscribing never replays history)
and is ``pending`` until they follow the link in the confirmation email.
Re-subscribing never downgrades: an active address stays active, and only gains
topics. Unsubscribing is per topic or from everything, and suppresses whatever
was still queued for them.
"""

from __future__ import annotations

import csv
import difflib
import io
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.addresses import BadAddress, check_header_value, normalise_email
from alerts.outbox import suppress_for
from alerts.tokens import BadToken, read_token
from db.asks import erase_supporter
from db.models import Bill, Event, Legislator, Subscriber, Subscription
from spiders.billids import BadBillId, parse_bill_id
from alerts.settings import AlertSettings
from db.directory import normalize_district

FREQUENCIES = ("immediate", "daily", "weekly")
DEFAULT_FREQUENCY = "daily"
CSV_COLUMNS = ("email", "name", "bills", "frequency", "house_district", "senate_district")


class BadSubscription(ValueError):
    """Input that cannot become a subscription; the message says what and why."""


@dataclass
class SubscribeOutcome:
    subscriber: Subscriber
    created: bool
    needs_confirmation: bool
    topics_added: list[str]


def newest_event_id(s: Session) -> int:
    return s.scalar(select(func.max(Event.id))) or 0


def topics_for(settings: AlertSettings, s: Session, bills: list[str]) -> list[str]:
    """``[]`` -> ``["campaign"]``; bill ids -> ``["bill:ma/192/H135", ...]``, each a bill we follow."""
    if not bills:
        return ["campaign"]
    known = set(settings.campaign_bills)
    known |= set(s.scalars(select(Bill.canonical).where(Bill.tracked.is_(True))))
    topics = []
    for text in bills:
        try:
            bid = parse_bill_id(text, settings.session)
        except BadBillId as exc:
            raise BadSubscription(str(exc)) from None
        if bid.canonical not in known:
            close = difflib.get_close_matches(bid.canonical, sorted(known), n=1)
            hint = f"; did you mean {close[0]}?" if close else f"; followed: {', '.join(sorted(known)) or 'none'}"
            raise BadSubscription(f"{text!r} ({bid.canonical}) is not a bill this campaign follows{hint}")
        topics.append(f"bill:{bid.canonical}")
    return list(dict.fromkeys(topics))


def check_district(s: Session, branch: str, district: str | None) -> str | None:
    """A district name as the legislature writes it; refused when the directory is known and lacks it."""
    if not district:
        return None
    district = " ".join(check_header_value(district, f"the {branch} district").split())
    known = set(s.scalars(select(Legislator.district).where(Legislator.branch == branch,
                                                             Legislator.district.is_not(None))))
    if known:
        folded = {normalize_district(k): k for k in known}
        if normalize_district(district) in folded:
            return folded[normalize_district(district)]
        close = difflib.get_close_matches(district, sorted(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise BadSubscription(f"{district!r} is not a {branch} district{hint}")
    return district


def subscribe(s: Session, settings: AlertSettings, email: str, *, bills: list[str] = (), name: str | None = None,
              frequency: str | None = None, house_district: str | None = None, senate_district: str | None = None,
              confirmed: bool = False, source: str = "cli", now: datetime) -> SubscribeOutcome:
    try:
        email = normalise_email(email)
        name = check_header_value(name, "the name") or None if name else None
    except BadAddress as exc:
        raise BadSubscription(str(exc)) from None
    if frequency is not None and frequency not in FREQUENCIES:
        raise BadSubscription(f"frequency {frequency!r}: choose one of {', '.join(FREQUENCIES)}")
    topics = topics_for(settings, s, list(bills))
    house = check_district(s, "House", house_district)
    senate = check_district(s, "Senate", senate_district)

    sub = s.scalar(select(Subscriber).where(Subscriber.email == email, Subscriber.role == "supporter"))
    created = sub is None
    if created:
        sub = Subscriber(email=email, role="supporter", status="pending", frequency=frequency or DEFAULT_FREQUENCY,
                         source=source, start_event_id=newest_event_id(s), created_at=now)
        s.add(sub)
    elif sub.status in ("unsubscribed", "bounced"):
        # coming back: a fresh start, and a fresh confirmation
        sub.status, sub.start_event_id, sub.unsubscribed_at = "pending", newest_event_id(s), None
    if confirmed and sub.status == "pending":
        sub.status, sub.confirmed_at = "active", now
    if frequency:
        sub.frequency = frequency
    sub.name = name or sub.name
    sub.house_district = house or sub.house_district
    sub.senate_district = senate or sub.senate_district
    s.flush()
    added = add_topics(s, sub, topics, now)
    return SubscribeOutcome(sub, created, sub.status == "pending", added)


def add_topics(s: Session, sub: Subscriber, topics: list[str], now: datetime) -> list[str]:
    existing = {t.topic: t for t in s.scalars(select(Subscription).where(Subscription.subscriber_id == sub.id))}
    bill_ids = dict(s.execute(select(Bill.canonical, Bill.id)).all())
    added = []
    for topic in topics:
        row = existing.get(topic)
        if row is None:
            s.add(Subscription(subscriber_id=sub.id, topic=topic, active=True, created_at=now,
                               bill_id=bill_ids.get(topic.removeprefix("bill:"))))
            added.append(topic)
        elif not row.active:
            row.active, row.removed_at = True, None
            added.append(topic)
    return added


def active_topics(s: Session, subscriber_id: int) -> list[str]:
    return list(s.scalars(select(Subscription.topic).where(Subscription.subscriber_id == subscriber_id,
                                                           Subscription.active.is_(True)).order_by(Subscription.id)))


def list_supporters(s: Session, status: str | None = None) -> list[dict]:
    """Every supporter (not staff) with status, frequency, topics and districts, oldest first."""
    query = select(Subscriber).where(Subscriber.role == "supporter").order_by(Subscriber.id)
    if status:
        query = query.where(Subscriber.status == status)
    return [{"email": sub.email, "name": sub.name, "status": sub.status, "frequency": sub.frequency,
             "topics": [t.removeprefix("bill:") for t in active_topics(s, sub.id)],
             "house_district": sub.house_district, "senate_district": sub.senate_district,
             "created_at": sub.created_at.isoformat(),
             "confirmed_at": sub.confirmed_at.isoformat() if sub.confirmed_at else None}
            for sub in s.scalars(query)]


def _subscriber(s: Session, payload: dict) -> Subscriber:
    sub = s.get(Subscriber, payload.get("s"))
    if sub is None or sub.role != "supporter":
        raise BadToken("this subscription no longer exists")
    return sub


def confirm(s: Session, key: bytes, token: str, now: datetime) -> Subscriber:
    """Idempotent: confirming twice is fine; a link older than an unsubscribe is refused."""
    sub = _subscriber(s, read_token(key, token, "confirm", now))
    if sub.status == "pending":
        sub.status, sub.confirmed_at = "active", now
    elif sub.status == "unsubscribed":
        raise BadToken("you unsubscribed after this link was sent; subscribe again to get alerts")
    elif sub.status == "bounced":
        raise BadToken("mail to this address bounced; subscribe again to get alerts")
    return sub


def unsubscribe(s: Session, key: bytes, token: str, now: datetime) -> tuple[Subscriber, str | None]:
    """(subscriber, topic or None for everything). Idempotent."""
    payload = read_token(key, token, "unsubscribe", now)
    sub = _subscriber(s, payload)
    topic = payload.get("t")
    if topic:
        row = s.scalar(select(Subscription).where(Subscription.subscriber_id == sub.id, Subscription.topic == topic))
        if row is not None and row.active:
            row.active, row.removed_at = False, now
        s.flush()
        if active_topics(s, sub.id):
            return sub, topic
    unsubscribe_all(s, sub, now)
    return sub, None


def unsubscribe_all(s: Session, sub: Subscriber, now: datetime) -> None:
    if sub.status != "unsubscribed":
        sub.status, sub.unsubscribed_at = "unsubscribed", now
    suppress_for(s, sub.id, "unsubscribed")


def remove(s: Session, email: str) -> bool:
    """Delete a supporter (or a visitor who wrote from an ask's page) and everything about them: their ledger
    and outbox rows go with them, their letters keep only what the counts need (``db.asks.erase_supporter``)."""
    try:
        email = normalise_email(email)
    except BadAddress as exc:
        raise BadSubscription(str(exc)) from None
    rows = list(s.scalars(select(Subscriber).where(Subscriber.email == email,
                                                   Subscriber.role.in_(("supporter", "visitor")))))
    for sub in rows:
        erase_supporter(s, sub.id)
        s.delete(sub)
    return bool(rows)


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    to_confirm: list[int] = field(default_factory=list)  # subscriber ids that need a confirmation email
    errors: list[str] = field(default_factory=list)  # "FILE:LINE: reason"


def import_csv(s: Session, settings: AlertSettings, text: str, path: str, *, confirmed: bool, now: datetime) -> ImportReport:
    """Rows that fail validation are reported with their line and skipped; the others are all written in
    the caller's transaction (or none, when the file itself is unreadable)."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "email" not in header:
        raise BadSubscription(f"{path}:1: no 'email' column; the columns are {','.join(CSV_COLUMNS)}")
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise BadSubscription(f"{path}:1: unknown column {unknown[0]!r}; the columns are {','.join(CSV_COLUMNS)}")
    reader.fieldnames = header
    report = ImportReport()
    last = reader.line_num
    for row in reader:
        first, line, last = last + 1, reader.line_num, reader.line_num
        if any("\n" in v or "\r" in v for v in row.values() if isinstance(v, str)):
            # A quote left open: the lines after it, other supporters' rows, were read as one field. Say where,
            # never what (that would print their addresses).
            report.errors.append(f"{path}:{first}: a quote (\") opened on this line is never closed, so lines "
                                 f"{first}-{line} were read as one row; none of them was imported")
            continue
        if None in row:
            report.errors.append(f"{path}:{line}: more fields than columns")
            continue
        try:
            with s.begin_nested():
                out = subscribe(s, settings, row.get("email") or "", bills=(row.get("bills") or "").split(),
                                name=row.get("name") or None, frequency=(row.get("frequency") or "").strip() or None,
                                house_district=row.get("house_district") or None,
                                senate_district=row.get("senate_district") or None,
                                confirmed=confirmed, source="import", now=now)
        except BadSubscription as exc:
            report.errors.append(f"{path}:{line}: {exc}")
            continue
        if out.created:
            report.added += 1
        else:
            report.updated += 1
        if out.needs_confirmation:
            report.to_confirm.append(out.subscriber.id)
    return report
