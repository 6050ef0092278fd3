"""Dates of feed items, read the same way by both feed parsers.

**The rule for stored dates**: an item's date is stored in UTC, and only when its UTC year is between
1900 and 9998; any other year is stored as no date (None), as an unreadable date is. Feeds carry
placeholders such as ``Mon, 01 Jan 0001 00:00:00 +0000`` (Go's zero time, written by Hugo sites) or
``0001-01-01T00:00:00Z``: year 1 cannot even be shown in America/New_York (the conversion overflows), and
no news item predates 1900. The upper bound keeps one year of room, so converting any stored date to any
time zone stays within ``datetime``'s range (year 9999 is its last). When the first date of an item
(published) is out of range, the next one (updated, then created) is used, as for an unreadable one.

``from_feedparser`` applies the rule to feedparser's parsed dates (``spiders.feed_parse``);
``read_date`` is the fast path's own reader (``spiders.feed_fast``), which reads only the two common
shapes exactly as feedparser does (RFC 822 and W3C date-times) and raises ``ValueError`` for anything
else, so the caller can leave the feed to feedparser.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

EARLIEST_YEAR = 1900
LATEST_YEAR = 9998

_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                       "nov", "dec"), 1)}
# the zone names of feedparser's RFC 822 reader (hours east of UTC); it reads any other name as UTC
_ZONES = {"ut": 0, "gmt": 0, "z": 0, "adt": -3, "ast": -4, "at": -4, "edt": -4, "est": -5, "et": -5, "cdt": -5,
          "cst": -6, "ct": -6, "mdt": -6, "mst": -7, "mt": -7, "pdt": -7, "pst": -8, "pt": -8, "a": -1, "n": 1,
          "m": -12, "y": 12, "met": 1, "mest": 2}
_RFC822 = re.compile(r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?(\d{1,2})\s+([a-z]{3})[a-z]*\s+(\d{2}|\d{4})"
                     r"\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+([+-]\d{4}|[a-z]+)", re.ASCII)
_W3DTF = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:t(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(z|[+-]\d{2}:\d{2})?)?",
                    re.ASCII)


def in_range(when: datetime) -> str | None:
    """An aware datetime as the stored text (UTC ISO 8601 with offset, whole seconds), or None out of range."""
    try:
        when = when.astimezone(timezone.utc)
    except OverflowError:
        return None
    if not EARLIEST_YEAR <= when.year <= LATEST_YEAR:
        return None
    return when.replace(microsecond=0).isoformat()


def from_feedparser(parsed) -> str | None:
    """feedparser's ``*_parsed`` (a UTC ``struct_time``) as the stored text, or None (absent, unreadable, out of
    range)."""
    if not parsed:
        return None
    try:
        return in_range(datetime(*parsed[:6], tzinfo=timezone.utc))
    except (TypeError, ValueError, OverflowError):
        return None


def read_date(value: str) -> str | None:
    """The fast path's reading of one date element's text: the stored text, None for a year out of range; raises
    ValueError for a shape it does not read exactly as feedparser (whose W3C reader comes first, then RFC 822)."""
    text = value.strip().lower()
    m = _W3DTF.fullmatch(text)
    if m:
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
        hour, minute, second = (int(g or 0) for g in m.group(4, 5, 6))
        zone = m.group(7) or "z"
        offset = timedelta(0) if zone == "z" else (1 if zone[0] == "+" else -1) * timedelta(
            hours=int(zone[1:3]), minutes=int(zone[4:6]))
    else:
        m = _RFC822.fullmatch(text)
        if m is None or m.group(2) not in _MONTHS:
            raise ValueError(f"date {value!r}")
        day, month, year = int(m.group(1)), _MONTHS[m.group(2)], int(m.group(3))
        if len(m.group(3)) == 2:  # feedparser's rule for two-digit years (not email.utils')
            year += 2000 if year < 90 else 1900
        hour, minute, second = int(m.group(4)), int(m.group(5)), int(m.group(6) or 0)
        zone = m.group(7)
        if zone[0] in "+-":
            offset = (1 if zone[0] == "+" else -1) * timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
        else:
            offset = timedelta(hours=_ZONES.get(zone, 0))
    # a day or time that does not exist (31 June, 25:00), or a date that leaves datetime's range once in UTC (year 1
    # at +05:00): feedparser's reader fails too, and another of its readers may find something else. Decline.
    try:
        when = datetime(year, month, day, hour, minute, second, tzinfo=timezone(offset)).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise ValueError(f"date {value!r}") from None
    return in_range(when)
