"""Supporters: sign-up with double opt-in, confirmation, unsubscribe, import.

A new supporter starts from the newest event (subscribing never replays history)
and is ``pending`` until they follow the link in the confirmation email.
Re-subscribing never downgrades: an active address stays active, and only gains
topics. Unsubscribing is per topic or from everything, and suppresses whatever
was still queued for them.
"""

from __future__ import annotations

import difflib
import io
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.addresses import BadAddress, check_header_value, normalise_email
from alerts.outbox import suppress_for
from alerts.tokens import BadToken, read_token
from db.asks import erase_supporter
from db.models import Bill, Legislator, Subscriber, Subscription
from db.supporters import newest_event_id
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


def topics_for(settings: AlertSettings, s: Session, bills: list[str]) -> list[str]:
    """``[]`` -> ``["campaign"]``; bill ids -> ``["bill:ma/192/H135", ...]``, each a bill we follow."""
    if not bills:
        return ["campaign"]
    return topics_among(settings, followed_bills(settings, s), bills)


def followed_bills(settings: AlertSettings, s: Session) -> set[str]:
    """The canonical ids a supporter may follow: the campaign's bills and every tracked bill."""
    return set(settings.campaign_bills) | set(s.scalars(select(Bill.canonical).where(Bill.tracked.is_(True))))


def topics_among(settings: AlertSettings, known: set[str], bills: list[str],
                 parsed: dict[str, str] | None = None) -> list[str]:
    """``topics_for`` with the followed bills given; ``parsed`` (text -> canonical id) spares parsing a
    spelling twice."""
    if not bills:
        return ["campaign"]
    topics = []
    for text in bills:
        canonical = parsed.get(text) if parsed is not None else None
        if canonical is None:
            try:
                canonical = parse_bill_id(text, settings.session).canonical
            except BadBillId as exc:
                raise BadSubscription(str(exc)) from None
            if parsed is not None:
                parsed[text] = canonical
        if canonical not in known:
            close = difflib.get_close_matches(canonical, sorted(known), n=1)
            hint = f"; did you mean {close[0]}?" if close else f"; followed: {', '.join(sorted(known)) or 'none'}"
            raise BadSubscription(f"{text!r} ({canonical}) is not a bill this campaign follows{hint}")
        topics.append(f"bill:{canonical}")
    return list(dict.fromkeys(topics))


def known_districts(s: Session, branch: str) -> tuple[list[str], dict[str, str]]:
    """The directory's districts of a branch, sorted and by their folded form (``normalize_district``); both
    empty when the directory has not been fetched."""
    known = set(s.scalars(select(Legislator.district).where(Legislator.branch == branch,
                                                            Legislator.district.is_not(None))))
    return sorted(known), {normalize_district(k): k for k in known}


def check_district(s: Session, branch: str, district: str | None) -> str | None:
    """A district name as the legislature writes it; refused when the directory is known and lacks it."""
    if not district:
        return None
    return district_among(branch, district, known_districts(s, branch))


def district_among(branch: str, district: str, directory: tuple[list[str], dict[str, str]]) -> str:
    """``check_district`` with the directory's districts given (``known_districts``)."""
    try:
        district = " ".join(check_header_value(district, f"the {branch} district").split())
    except BadAddress as exc:  # a control character: a bad row like any other, not a crash
        raise BadSubscription(str(exc)) from None
    known, folded = directory
    if known:
        key = normalize_district(district)
        if key in folded:
            return folded[key]
        close = difflib.get_close_matches(district, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise BadSubscription(f"{district!r} is not a {branch} district{hint}")
    return district


@dataclass
class Checked:
    """A sign-up's input, checked and in its stored form."""
    email: str
    name: str | None
    frequency: str | None
    topics: list[str]
    house_district: str | None
    senate_district: str | None


class Lookups:
    """What a sign-up is checked against, read from the database when first needed: the bills one may follow
    and the directory's districts. One sign-up reads them for itself; the import keeps one per batch."""

    def __init__(self, settings: AlertSettings, s: Session, parsed: dict[str, str] | None = None):
        self.settings, self.s = settings, s
        self.parsed = parsed  # bill id as typed -> canonical, kept across batches by the import
        self._followed: set[str] | None = None
        self._districts: dict[str, tuple[list[str], dict[str, str]]] = {}
        self._checked: dict[tuple[str, str], str] = {}

    def followed(self) -> set[str]:
        if self._followed is None:
            self._followed = followed_bills(self.settings, self.s)
        return self._followed

    def districts(self, branch: str) -> tuple[list[str], dict[str, str]]:
        if branch not in self._districts:
            self._districts[branch] = known_districts(self.s, branch)
        return self._districts[branch]

    def district(self, branch: str, text: str) -> str:
        """``district_among`` for this directory, each spelling worked out once."""
        key = (branch, text)
        found = self._checked.get(key)
        if found is None:
            found = self._checked[key] = district_among(branch, text, self.districts(branch))
        return found


def check_signup(look: Lookups, email: str, *, bills: list[str] = (), name: str | None = None,
                 frequency: str | None = None, house_district: str | None = None,
                 senate_district: str | None = None) -> Checked:
    """The checks of ``subscribe``, in its order (address and name, frequency, bills, House, Senate district):
    BadSubscription saying what is wrong with the first that fails."""
    try:
        email = normalise_email(email)
        name = check_header_value(name, "the name") or None if name else None
    except BadAddress as exc:
        raise BadSubscription(str(exc)) from None
    if frequency is not None and frequency not in FREQUENCIES:
        raise BadSubscription(f"frequency {frequency!r}: choose one of {', '.join(FREQUENCIES)}")
    bills = list(bills)
    topics = topics_among(look.settings, look.followed(), bills, look.parsed) if bills else ["campaign"]
    house = look.district("House", house_district) if house_district else None
    senate = look.district("Senate", senate_district) if senate_district else None
    return Checked(email, name, frequency, topics, house, senate)


def subscribe(s: Session, settings: AlertSettings, email: str, *, bills: list[str] = (), name: str | None = None,
              frequency: str | None = None, house_district: str | None = None, senate_district: str | None = None,
              confirmed: bool = False, source: str = "cli", now: datetime) -> SubscribeOutcome:
    checked = check_signup(Lookups(settings, s), email, bills=bills, name=name, frequency=frequency,
                           house_district=house_district, senate_district=senate_district)
    email, name, frequency, topics = checked.email, checked.name, checked.frequency, checked.topics
    house, senate = checked.house_district, checked.senate_district

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
    the caller's transaction (or none, when the file itself is unreadable), in batches
    (``alerts.supporter_import``, which the CLI runs with a transaction per batch)."""
    # lazy: supporter_import builds on this module
    from alerts.supporter_import import import_supporters

    return import_supporters(lambda: io.StringIO(text), path, settings, lambda: nullcontext(s), confirmed=confirmed,
                             now=now)
