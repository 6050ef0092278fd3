"""When a General Court begins, ends, and stops taking new bills (pure functions of the session number, so
the alerts, the successor search and the web can share them).

A General Court sits for two years from January of an odd year (the 193rd: 2023-2024). It convenes on the
first Wednesday of January, and the previous one's bills die then, not on December 31: the 194th's on
2027-01-06, when the 195th convenes. Bills are filed by 5 p.m. on the third Friday of January of the first
year (Joint Rule 12); what comes later is filed late, "subject to Joint Rule 12", and rarer. After that day a
bill with no successor has not been re-filed (so far).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from spiders.billids import STATE_HOUSE_TZ

FILING_HOUR = time(17, 0)


def first_year(session: int) -> int:
    """The 193rd General Court sits in 2023-2024."""
    return 2 * int(session) + 1637


def _weekday_in_january(year: int, weekday: int, nth: int) -> date:
    day = date(year, 1, 1)
    day += timedelta(days=(weekday - day.weekday()) % 7)
    return day + timedelta(weeks=nth - 1)


def convenes(session: int) -> datetime:
    """Noon of the first Wednesday of January of its first year, State House time (2027-01-06 for the 195th)."""
    return datetime.combine(_weekday_in_january(first_year(session), 2, 1), time(12, 0), STATE_HOUSE_TZ)


def ends(session: int) -> datetime:
    """When its bills die: when the next General Court convenes."""
    return convenes(int(session) + 1)


def filing_deadline(session: int) -> datetime:
    """5 p.m. on the third Friday of January of its first year (2025-01-17 for the 194th)."""
    return datetime.combine(_weekday_in_january(first_year(session), 4, 3), FILING_HOUR, STATE_HOUSE_TZ)


def has_ended(session: int, now: datetime) -> bool:
    return now >= ends(session)


def ordinal_court(session: int) -> str:
    """``the 192nd General Court``."""
    n = int(session)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"the {n}{suffix} General Court"
