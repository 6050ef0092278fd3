"""Health events: ``source.failing`` when a source has been in trouble for longer than
``schedule.failing_after`` (errors, or a feed silent for longer than usual), and
``source.recovered`` when it works again. The event log is the state: a source is
"open" while its latest health event is ``source.failing``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from db.models import Event
from db.source_health import open_failures, source_problems
from tracker.config import Config

def check_health(config: Config, sessions: sessionmaker[Session], now: datetime) -> list[Event]:
    """Write the health events due now, in one transaction; return them."""
    failing_after = config.schedule.failing_after
    events = []
    with sessions.begin() as s:
        current = {p["source"]: p for p in source_problems(s, now)}
        opened = open_failures(s)
        for name, p in current.items():
            since = datetime.fromisoformat(p["since"]) if p.get("since") else now
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

