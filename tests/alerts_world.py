"""Helpers for the alert tests: a configuration, bills and events written straight to the database."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from db.models import Bill, Document, Event, Hearing
from tracker.application import Application, alert_settings
from tracker.config import parse_config

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc)  # Monday 10:00 in Boston
KEY = b"test-secret-key"

CONFIG = """
campaign:
  name: Regulate face surveillance
  action_url: https://example.org/act
sources:
  malegislature:
    session: 192
bills:
  - id: H.135
  - id: S.47
digests:
  staff:
    to: [staff@example.org]
    at: "07:00"
  supporters:
    from: "Face Surveillance Campaign <alerts@example.org>"
    at: "07:00"
    weekly_day: monday
mail:
  messages_per_second: 1000
  unsubscribe_mailbox: unsubscribe@example.org
"""


def config(extra: str = ""):
    return parse_config(CONFIG + extra, "test-feeds.yaml")


def settings_of(cfg, key: bytes = KEY, public_url: str = "http://127.0.0.1:8000"):
    """What ``alerts`` is given for the configuration ``cfg`` (as the application builds it)."""
    return alert_settings(cfg, secret_key=key, public_url=public_url)


def application(cfg, sessions, key: bytes = KEY, transport_factory=None, public_url: str | None = None) -> Application:
    """The application of a test: its configuration and database, a known key, a transport of the test's."""
    return Application(config=cfg, sessions=sessions, secret_key=key, transport_factory=transport_factory,
                       public_url=public_url)


def add_bill(s, number: str, session: int = 192, **fields) -> Bill:
    bill = Bill(canonical=f"ma/{session}/{number}", session=session, number=number, tracked=True, error_count=0,
                created_at=NOW - timedelta(days=30), title=fields.pop("title", "An Act to regulate face surveillance"),
                status=fields.pop("status", "in-committee"), committee=fields.pop("committee", "The Judiciary"),
                url=f"https://malegislature.gov/Bills/{session}/{number}", **fields)
    s.add(bill)
    s.flush()
    return bill


def add_action(s, bill: Bill, action: str, kinds: list[str], on: date, at: datetime = NOW, branch: str = "Joint"):
    ev = Event(kind="bill.action", at=at, occurred_on=on, bill_id=bill.id,
               summary=f"{bill.number} ({branch}): {action}",
               payload={"date": on.isoformat(), "branch": branch, "action": action, "kinds": kinds})
    s.add(ev)
    s.flush()
    return ev


def add_hearing(s, bill: Bill, starts: datetime, at: datetime = NOW, location: str = "Virtual Hearing"):
    s.add(Hearing(bill_id=bill.id, starts_at=starts, ends_at=starts + timedelta(hours=2), location=location,
                  status="scheduled", updated_at=at))
    ev = Event(kind="hearing.scheduled", at=at, occurred_on=at.date(), bill_id=bill.id,
               summary=f"Hearing on {bill.number} scheduled",
               payload={"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=2)).isoformat(),
                        "location": location, "status": "scheduled"})
    s.add(ev)
    s.flush()
    return ev


def add_document(s, session: int, number: str | None = None, docket: str | None = None, *,
                 seen: datetime = NOW - timedelta(days=10), **fields) -> Document:
    """A document of the docket as a sync stores it (known by its bill number, else its docket number)."""
    doc = Document(canonical=f"ma/{session}/{number or docket}", session=session, number=number, docket=docket,
                   row_hash=f"{session}-{number}-{docket}", first_seen_at=seen, last_seen_at=fields.pop("last_seen", NOW),
                   docket_book_only=fields.pop("docket_book_only", False), **fields)
    s.add(doc)
    s.flush()
    return doc


def live_session(now: datetime | None = None) -> int:
    """The General Court sitting now (real time unless ``now``): its bills are the ones the forms offer."""
    from spiders.sessions import has_ended

    now = now or datetime.now(timezone.utc)
    return next(n for n in range(190, 400) if not has_ended(n, now))
