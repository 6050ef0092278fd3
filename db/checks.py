"""Check state: when a thing we follow is asked for next, and how its failures back off.

``backoff`` is the project's one exponential backoff: bills and feeds use it as it is (5 minutes
doubling to 12 hours); mail retries (``alerts.outbox``) and retries of a failed scheduler job
(``tracker.scheduler``) pass their own start and cap.
"""

from __future__ import annotations

from datetime import timedelta

BACKOFF_START = timedelta(minutes=5)
BACKOFF_CAP = timedelta(hours=12)


def backoff(failures: int, start: timedelta = BACKOFF_START, cap: timedelta = BACKOFF_CAP) -> timedelta:
    """The wait after the ``failures``-th failure in a row: ``start``, doubling with each one after
    it, never above ``cap`` (``start`` for 0 or 1 failure)."""
    wait = start
    for _ in range(max(0, failures - 1)):
        if wait >= cap or wait <= timedelta(0):  # doubling on would only overflow timedelta
            break
        wait *= 2
    return min(wait, cap)
