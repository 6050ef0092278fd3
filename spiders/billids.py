"""Bill identifiers.

Canonical form: ``ma/192/H135``. Input also accepts ``H.135``, ``H 135``,
``h135`` (the session comes from the configuration), ``192/H135`` and
``ma/192/H135``. Docket numbers (``HD3228``) and Senate resolutions
(``SRes12``) are accepted too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

JURISDICTION = "ma"
STATE_HOUSE_TZ = ZoneInfo("America/New_York")  # the legislature's clock: its dates and hearing times

_PREFIXES = {"H": "H", "S": "S", "HD": "HD", "SD": "SD", "SRES": "SRes", "HRES": "HRes"}
# ASCII digits only, and a session of three digits without a leading zero: ``\d`` also matches "٠٠٠",
# and "000" or "012" are read by int() as sessions 0 and 12, whose canonical ids ("ma/0/H0") do not
# parse back.
_NUMBER = re.compile(r"^(?P<prefix>HD|SD|SRES|HRES|H|S)[\s.]*(?P<num>[0-9]{1,5})$", re.IGNORECASE)
_SESSION = re.compile(r"^[1-9][0-9]{2}$")


class BadBillId(ValueError):
    """The text is not a bill id; the message says what form is expected."""


@dataclass(frozen=True, order=True)
class BillId:
    session: int
    number: str  # "H135"

    @property
    def canonical(self) -> str:
        return f"{JURISDICTION}/{self.session}/{self.number}"

    @property
    def dotted(self) -> str:
        """The way the legislature prints it: ``H.135``."""
        return dotted(self.number)

    def __str__(self) -> str:
        return self.canonical


def parse_number(text: str) -> str:
    """``H.135`` / ``h 135`` / ``H135`` -> ``H135``; raises BadBillId."""
    m = _NUMBER.match(text.strip())
    if not m:
        raise BadBillId(
            f"{text!r} is not a bill number: expected a chamber letter and digits such as H135, H.135 or S 47"
        )
    return _PREFIXES[m.group("prefix").upper()] + str(int(m.group("num")))


def parse_bill_id(text: str, default_session: int | None = None) -> BillId:
    """Parse any accepted spelling into a BillId; raises BadBillId with the reason."""
    raw = text.strip()
    parts = [p for p in raw.split("/")]
    if len(parts) == 3:
        if parts[0].lower() != JURISDICTION:
            raise BadBillId(f"{text!r}: only the jurisdiction {JURISDICTION!r} is supported")
        parts = parts[1:]
    if len(parts) == 2:
        if not _SESSION.match(parts[0].strip()):
            raise BadBillId(f"{text!r}: the session must be a General Court number such as 192")
        return BillId(int(parts[0]), parse_number(parts[1]))
    if len(parts) == 1:
        number = parse_number(parts[0])
        if default_session is None:
            raise BadBillId(
                f"{text!r} names no session: write 192/H135 or ma/192/H135, or set sources.malegislature.session"
            )
        return BillId(default_session, number)
    raise BadBillId(f"{text!r} is not a bill id: expected ma/192/H135, 192/H135 or H.135")


def session_years(session: int) -> tuple[int, int]:
    """The two calendar years a General Court sits: 192 -> (2021, 2022)."""
    first = 2021 + (session - 192) * 2
    return first, first + 1


def session_ended(session: int, today: date) -> bool:
    """A General Court sits two calendar years; its bills die when the next one begins."""
    return today > date(session_years(session)[1], 12, 31)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def dotted(number: str) -> str:
    """``H135`` or ``ma/192/H135`` -> ``H.135``: the way the legislature prints a bill number."""
    number = number.rsplit("/", 1)[-1]
    i = next((k for k, c in enumerate(number) if c.isdigit()), len(number))
    return f"{number[:i]}.{number[i:]}"
