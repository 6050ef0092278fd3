"""``tracker digest --preview BILL``: the alert a supporter of that bill would get for its latest events."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.compose import Composer
from alerts.settings import AlertSettings
from db.bills import find_bill
from db.models import Event, Subscriber
from spiders.billids import BillId

LATEST = 8


class NoEvents(LookupError):
    pass


def preview_alert(settings: AlertSettings, sessions: sessionmaker[Session], bid: BillId, path: Path) -> str:
    """Write the HTML part to ``path``; return the subject. Nothing is stored or sent."""
    now = datetime.now(timezone.utc)
    with sessions() as s:
        bill = find_bill(s, bid.canonical)
        if bill is None:
            raise NoEvents(f"{bid.canonical} is not in the database: run tracker crawl first")
        events = list(reversed(list(s.scalars(select(Event).where(Event.bill_id == bill.id)
                                              .order_by(Event.id.desc()).limit(LATEST)))))
        if not events:
            raise NoEvents(f"{bid.canonical} has no events yet")
        sub = Subscriber(id=0, email="preview@example.org", name="Preview", role="supporter", status="active",
                         frequency="immediate", start_event_id=0, created_at=now)
        msg = Composer(s, settings, now).supporter(sub, [f"bill:{bid.canonical}"], "alert", events)
        s.rollback()
    html = msg.html
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return msg.subject
