"""What staff see of the asks (the staff digest's section and ``tracker asks``): per ask, the letters sent and
waiting, the supporters, per bill, per alert that led to them (named by its news), the districts reached and not
reached, and the offices whose address bounced."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.settings import AlertSettings
from alerts.wording import headline
from db.asks import ask_counts, failing_addresses
from db.models import AskLetter, AskResponse, Bill, Event
from spiders.billids import dotted


def _event_words(s: Session, settings: AlertSettings, ask: str) -> dict[int, str]:
    ids = [i for i in s.scalars(select(AskResponse.alert_event_id).distinct().where(
        AskResponse.ask == ask, AskResponse.alert_event_id.is_not(None)))]
    if not ids:
        return {}
    out = {}
    for ev, number in s.execute(select(Event, Bill.number).outerjoin(Bill, Bill.id == Event.bill_id)
                                .where(Event.id.in_(ids))):
        out[ev.id] = f"{dotted(number)}: {headline(ev, settings.tz)}" if number else headline(ev, settings.tz)
    return out


def ask_report(s: Session, settings: AlertSettings, now: datetime) -> list[dict]:
    """One entry per ask of ``asks:`` (the design's ``tracker asks`` shape), with ``last_day``: letters sent in
    the 24 hours before ``now``."""
    out = []
    since = now - timedelta(days=1)
    asks = [(spec.name, spec.kind, list(spec.bills)) for spec in settings.asks]
    declared = {name for name, _, _ in asks}
    # an ask no longer in the configuration (or a database read without it) still has its letters
    asks += [(name, kind, []) for name, kind in s.execute(select(AskResponse.ask, AskResponse.kind).distinct()
                                                          .order_by(AskResponse.ask)) if name not in declared]
    for name, kind, bills in asks:
        entry = ask_counts(s, name, kind, bills, _event_words(s, settings, name))
        entry["last_day"] = s.scalar(select(func.count()).select_from(AskLetter).where(
            AskLetter.ask == name, AskLetter.state == "sent", AskLetter.sent_at >= since)) or 0
        out.append(entry)
    return out


def staff_section(s: Session, settings: AlertSettings, now: datetime) -> dict | None:
    """The staff digest's "Letters and testimony": each ask with letters, and the offices that bounced; None
    when there are no asks or nothing to say."""
    asks = [a for a in ask_report(s, settings, now) if a["sent"] or a["queued"] or a["failed"]]
    failing = failing_addresses(s)
    if not asks and not failing:
        return None
    return {"asks": asks, "failing": failing, "active": any(a["last_day"] for a in asks) or bool(failing)}
