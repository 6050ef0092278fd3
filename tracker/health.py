"""Health events: ``source.failing`` when a source has been in trouble for longer than
``schedule.failing_after`` (errors, or a feed silent for longer than usual), and
``source.recovered`` when it works again. The event log is the state: a source is
"open" while its latest health event is ``source.failing``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.health import problems
from db.models import Event
from tracker.config import Config
from tracker.durations import parse_duration

HEALTH_KINDS = ("source.failing", "source.recovered")


def open_failures(s: Session) -> dict[str, Event]:
    """source name -> its ``source.failing`` event, for sources not recovered since."""
    latest: dict[str, Event] = {}
    for ev in s.scalars(select(Event).where(Event.kind.in_(HEALTH_KINDS)).order_by(Event.id)):
        latest[(ev.payload or {}).get("source", "")] = ev
    return {name: ev for name, ev in latest.items() if ev.kind == "source.failing"}


def _since(text: str | None, now: datetime) -> datetime:
    return datetime.fromisoformat(text) if text else now


def check_health(config: Config, sessions: sessionmaker[Session], now: datetime) -> list[Event]:
    """Write the health events due now, in one transaction; return them."""
    failing_after = parse_duration(config.schedule.failing_after)
    events = []
    with sessions.begin() as s:
        current = {p["source"]: p for p in problems(s, now)}
        opened = open_failures(s)
        for name, p in current.items():
            since = _since(p.get("since"), now)
            silent = p["problem"].startswith("no new item")
            if name in opened or (not silent and now - since < failing_after):
                continue
            ev = Event(kind="source.failing", at=now, occurred_at=since, summary=f"{name} ({p['kind']}): {p['problem']}",
                       payload={"source": name, "kind": p["kind"], "problem": p["problem"], "since": since.isoformat()})
            s.add(ev)
            events.append(ev)
        for name, ev in opened.items():
            if name not in current:
                failed_since = (ev.payload or {}).get("since")
                rec = Event(kind="source.recovered", at=now, occurred_at=now, summary=f"{name} works again",
                            payload={"source": name, "kind": (ev.payload or {}).get("kind"),
                                     "failing_since": failed_since, "recovered_at": now.isoformat()})
                s.add(rec)
                events.append(rec)
    return events


def long_failures(s: Session, now: datetime, longer_than: timedelta = timedelta(days=1)) -> list[Event]:
    """Open ``source.failing`` events whose trouble began more than ``longer_than`` ago (for staff alerts)."""
    return [ev for ev in open_failures(s).values()
            if now - _since((ev.payload or {}).get("since"), now) > longer_than]
