"""Supporters in the database: the one a signed link names (the preferences page), and the batch reads and
writes of the CSV import (one statement per batch, not per row)."""

from __future__ import annotations

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from db.models import Bill, Event, Subscriber, Subscription

# What a sign-up may change on a supporter's row (``alerts.subscribers.subscribe``).
SIGNUP_FIELDS = ("status", "frequency", "name", "house_district", "senate_district", "start_event_id",
                 "unsubscribed_at", "confirmed_at")


def find_supporter(s: Session, subscriber_id: int) -> Subscriber | None:
    """The supporter with this id; None when there is none, or the id is a staff address's."""
    sub = s.get(Subscriber, subscriber_id)
    return sub if sub is not None and sub.role == "supporter" else None


def supporters_by_email(s: Session, emails: list[str]) -> dict[str, dict]:
    """The supporters (not staff, not visitors) with these addresses: email -> {"id", "email", *SIGNUP_FIELDS}."""
    if not emails:
        return {}
    t = Subscriber.__table__
    rows = s.execute(select(t.c.id, t.c.email, *(t.c[f] for f in SIGNUP_FIELDS))
                     .where(t.c.email.in_(emails), t.c.role == "supporter"))
    return {row.email: dict(row._mapping) for row in rows}


def topics_of(s: Session, subscriber_ids: list[int]) -> dict[int, dict[str, list]]:
    """Every subscription of these subscribers: subscriber id -> {topic: [subscription id, active]}."""
    out: dict[int, dict[str, list]] = {}
    if not subscriber_ids:
        return out
    t = Subscription.__table__
    for row in s.execute(select(t.c.id, t.c.subscriber_id, t.c.topic, t.c.active)
                         .where(t.c.subscriber_id.in_(subscriber_ids)).order_by(t.c.id)):
        out.setdefault(row.subscriber_id, {})[row.topic] = [row.id, bool(row.active)]
    return out


def bill_ids(s: Session, canonicals: set[str]) -> dict[str, int]:
    """canonical id -> bills.id for the bills of this set that are in the database."""
    if not canonicals:
        return {}
    return dict(s.execute(select(Bill.canonical, Bill.id).where(Bill.canonical.in_(sorted(canonicals)))).all())


def newest_event_id(s: Session) -> int:
    return s.scalar(select(func.max(Event.id))) or 0


def insert_supporters(s: Session, rows: list[dict]) -> dict[str, int]:
    """Insert these supporters (every row with the same keys, none with an id) in one executemany, in order;
    email -> their new ids (read back with one query: a RETURNING in the parameters' order would cost SQLite a
    statement per row)."""
    if not rows:
        return {}
    t = Subscriber.__table__
    s.execute(insert(t), rows)
    emails = [row["email"] for row in rows]
    return dict(s.execute(select(t.c.email, t.c.id).where(t.c.email.in_(emails), t.c.role == "supporter")).all())


def update_supporters(s: Session, rows: list[dict]) -> None:
    """Write SIGNUP_FIELDS of each row ({"id", *SIGNUP_FIELDS}) in one executemany."""
    if not rows:
        return
    t = Subscriber.__table__
    stmt = update(t).where(t.c.id == bindparam("b_id")).values({f: bindparam(f"b_{f}") for f in SIGNUP_FIELDS})
    s.execute(stmt, [{f"b_{k}": row[k] for k in ("id", *SIGNUP_FIELDS)} for row in rows])


def insert_subscriptions(s: Session, rows: list[dict]) -> None:
    """Insert these subscriptions (every row with the same keys) in one executemany, in order."""
    if rows:
        s.execute(insert(Subscription.__table__), rows)


def reactivate_subscriptions(s: Session, ids: list[int]) -> None:
    """Topics a supporter follows again: active, no removal time."""
    if ids:
        t = Subscription.__table__
        s.execute(update(t).where(t.c.id.in_(ids)).values(active=True, removed_at=None))
