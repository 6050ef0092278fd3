"""Durations written in feeds.yaml: ``90s``, ``30m``, ``6h``, ``1d``, ``1w``."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(text: str | int | float) -> timedelta:
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        try:
            return timedelta(seconds=float(text))
        except (OverflowError, ValueError):
            raise ValueError(f"{text!r} seconds is not a usable duration") from None
    m = _DURATION.match(str(text))
    if not m:
        raise ValueError(f"{text!r} is not a duration: write a number and a unit, e.g. 90s, 30m, 6h, 1d, 1w")
    seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if seconds <= 0:
        raise ValueError(f"{text!r}: a duration must be longer than zero")
    try:
        return timedelta(seconds=seconds)
    except OverflowError:  # "99999999999999d" is past what a timedelta can hold
        raise ValueError(f"{text!r} is too long a duration") from None
