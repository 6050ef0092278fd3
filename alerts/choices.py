"""What a supporter may choose to hear about, and saving their choices (the sign-up form and the preferences
page share these).

Only bills that can still move are offered: a bill dies when its General Court ends, and one that became law,
was vetoed, replaced by a new draft or sent to a study order is over too (``alerts.asks.OVER``). When such a bill
continues as another followed bill (an accepted successor in the next General Court, a new draft), that bill is
offered in its place. Bills the campaign only watches are for staff and are never offered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.asks import OVER
from alerts.settings import AlertSettings
from alerts.subscribers import FREQUENCIES, BadSubscription, active_topics, add_topics, check_district, topics_for
from db import lineage
from db.models import Bill, Subscriber, Subscription
from spiders.billids import BadBillId, dotted, parse_bill_id
from spiders.sessions import has_ended

CAMPAIGN = "campaign"
_NUMBER = re.compile(r"([A-Za-z]+)\.?(\d+)")


@dataclass(frozen=True)
class BillChoice:
    id: str  # canonical, the value the forms send
    number: str  # as the legislature prints it: H.1946
    title: str | None
    session: int


def _can_move(session: int, status: str | None, now: datetime) -> bool:
    return not has_ended(session, now) and (status or "filed") not in OVER


def _order(choice: BillChoice) -> tuple:
    m = _NUMBER.fullmatch(choice.number.replace(".", ""))
    return (-choice.session,) + ((m.group(1), int(m.group(2))) if m else (choice.number, 0))


def bill_choices(s: Session, settings: AlertSettings, now: datetime) -> list[BillChoice]:
    """The bills a supporter can follow now, newest General Court first, then by number."""
    followed = {b.canonical: b for b in s.scalars(select(Bill).where(Bill.tracked.is_(True)))}
    offered: dict[str, BillChoice] = {}
    edges = None

    def offer(bill: Bill | None) -> None:
        if bill is None or (bill.position or "support") == "watch" or not _can_move(bill.session, bill.status, now):
            return
        offered[bill.canonical] = BillChoice(bill.canonical, dotted(bill.number), bill.title, bill.session)

    for bill in followed.values():
        if _can_move(bill.session, bill.status, now):
            offer(bill)
            continue
        if (bill.position or "support") == "watch":
            continue
        edges = lineage.linked_edges(s) if edges is None else edges
        heir = lineage.continuation(edges, bill.canonical)
        offer(followed.get(heir) if heir else None)
    for canonical in settings.campaign_bills - followed.keys():  # listed by the campaign, not read yet
        bid = parse_bill_id(canonical)
        if not has_ended(bid.session, now):
            offered[canonical] = BillChoice(canonical, dotted(bid.number), None, bid.session)
    return sorted(offered.values(), key=_order)


def check_offered(s: Session, settings: AlertSettings, bills: list[str], now: datetime,
                  held: frozenset[str] = frozenset()) -> None:
    """Refuse a bill the forms do not offer (one that can no longer move), unless the supporter already
    follows it (``held``: their topics)."""
    offered = {c.id for c in bill_choices(s, settings, now)}
    followed = dict(s.execute(select(Bill.canonical, Bill.position).where(Bill.tracked.is_(True))).all())
    followed.update({c: "support" for c in settings.campaign_bills if c not in followed})
    for text in bills:
        if text == CAMPAIGN:
            continue
        try:
            bid = parse_bill_id(text, settings.session)
        except BadBillId as exc:
            raise BadSubscription(str(exc)) from None
        # a bill the campaign does not follow at all is ``topics_for``'s to refuse, with its suggestion
        if bid.canonical not in followed or bid.canonical in offered or f"bill:{bid.canonical}" in held:
            continue
        if followed[bid.canonical] == "watch":
            raise BadSubscription(f"{dotted(bid.number)} is not one of the bills we send alerts about; "
                                  f"choose another bill")
        raise BadSubscription(f"{dotted(bid.number)} can no longer move (its General Court has ended, or it "
                              f"is law or replaced), so there is nothing to alert you about; choose another bill")


@dataclass(frozen=True)
class Saved:
    frequency: str
    topics: list[str]
    house_district: str | None
    senate_district: str | None


def save_preferences(s: Session, settings: AlertSettings, subscriber_id: int, *, frequency: str, bills: list[str],
                     house_district: str | None, senate_district: str | None, now: datetime) -> Saved:
    """Set how often, which bills and which districts, all at once: everything is checked before anything is
    written, so a refused choice (BadSubscription, whose message says why) changes nothing."""
    sub = s.get(Subscriber, subscriber_id)
    if sub is None or sub.role != "supporter":
        raise BadSubscription("this subscription no longer exists")
    if frequency not in FREQUENCIES:
        raise BadSubscription(f"Choose how often: {', '.join(FREQUENCIES)}.")
    held = frozenset(active_topics(s, sub.id))
    chosen = list(dict.fromkeys(b.strip() for b in bills if b.strip()))
    if not chosen:
        raise BadSubscription("Choose at least one bill, or the whole campaign. To stop every alert, use "
                              "\u201cUnsubscribe from everything\u201d below.")
    kept = [b for b in chosen if f"bill:{b}" in held]  # followed already: kept even if it can no longer move
    new = [b for b in chosen if b != CAMPAIGN and f"bill:{b}" not in held]
    check_offered(s, settings, new, now, held)
    topics = ([CAMPAIGN] if CAMPAIGN in chosen else []) + [f"bill:{b}" for b in kept]
    topics += topics_for(settings, s, new) if new else []
    house = check_district(s, "House", house_district)
    senate = check_district(s, "Senate", senate_district)

    sub.frequency, sub.house_district, sub.senate_district = frequency, house, senate
    for row in s.scalars(select(Subscription).where(Subscription.subscriber_id == sub.id,
                                                    Subscription.active.is_(True))):
        if row.topic not in topics:
            row.active, row.removed_at = False, now
    s.flush()
    add_topics(s, sub, topics, now)
    return Saved(frequency, topics, house, senate)
