"""Times and hearings in the words people read, the same on the pages, in the feeds and at the command line:
every time in the State House's zone with the zone named (``Nov 23, 2021, 10:00 AM EST``), every date as
``Nov 23, 2021``; a hearing's state from its date."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")  # every time on a page is the State House's, with its zone


def instant(value: str | date | datetime | None) -> date | datetime | None:
    """An ISO string (a date or a moment), a date or a datetime; a moment without an offset is UTC."""
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        value = date.fromisoformat(value) if len(value) <= 10 else datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(EASTERN)
    return value


def day_words(value: str | date | datetime | None) -> str:
    """``Nov 23, 2021`` (a moment: its day in Boston); "" when there is none."""
    v = instant(value)
    return f"{v:%b} {v.day}, {v.year}" if v else ""


def moment_words(value: str | date | datetime | None) -> str:
    """``Nov 23, 2021, 10:00 AM EST``; a plain date reads as ``day_words``."""
    v = instant(value)
    if not isinstance(v, datetime):
        return day_words(v)
    return f"{day_words(v)}, {v.strftime('%I:%M %p').lstrip('0')} {v.tzname()}"


def hearing_state(hearing: dict, now: datetime) -> str:
    """What a hearing (a ``tracker bill`` hearing object) is at ``now``: ``canceled``; ``held`` once its start
    has passed; else ``scheduled`` or ``rescheduled``, as the legislature last said."""
    if hearing.get("status") == "canceled":
        return "canceled"
    starts = datetime.fromisoformat(hearing["starts_at"]) if hearing.get("starts_at") else None
    if starts is not None and starts <= now:
        return "held"
    return hearing.get("status") or "scheduled"
