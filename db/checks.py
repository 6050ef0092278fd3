"""Check state: when a thing we follow (a bill, a feed) is asked for next, and how its failures count.

The database is the schedule: each such row carries ``next_check_at``, ``last_checked_at``,
``last_success_at``, ``error_count``, ``failing_since``, ``last_error``, ``throttled_until``, ``etag``
and ``last_modified``. They are written only through ``CheckState``, so a bill and a feed given the
same outcomes end in the same state:

- ``checked_ok``: the source answered; the failures are forgotten and the next check is the
  caller's (its interval, stretched by what the source said).
- ``failed``: this row's fault (an error page, a broken body, a timeout): counted, backing off
  exponentially with a cap, never stopping for good.
- ``postponed``: the site asked us to wait (a 429, or a 503 with ``Retry-After``). Nobody is
  blamed: the failures are left as they were, only the next check moves later, and
  ``throttled_until`` says until when we were asked to wait (``tracker status``: throttled). Any
  answer after it (``checked_ok``, ``failed``) clears it.
- ``start_afresh``: the source itself changed (a feed's new URL): due now, without validators.

``backoff`` is the project's one exponential backoff: bills and feeds use it as it is (5 minutes
doubling to 12 hours); mail retries (``alerts.outbox``) and retries of a failed scheduler job
(``tracker.scheduler``) pass their own start and cap.
"""

from __future__ import annotations

from datetime import datetime, timedelta

BACKOFF_START = timedelta(minutes=5)
BACKOFF_CAP = timedelta(hours=12)
THROTTLE_MIN_WAIT = timedelta(minutes=5)  # a throttle without Retry-After (or with 0) still waits this long


def backoff(failures: int, start: timedelta = BACKOFF_START, cap: timedelta = BACKOFF_CAP) -> timedelta:
    """The wait after the ``failures``-th failure in a row: ``start``, doubling with each one after
    it, never above ``cap`` (``start`` for 0 or 1 failure)."""
    wait = start
    for _ in range(max(0, failures - 1)):
        if wait >= cap or wait <= timedelta(0):  # doubling on would only overflow timedelta
            break
        wait *= 2
    return min(wait, cap)


def throttled_until(now: datetime, retry_after: timedelta | None) -> datetime:
    """When a throttled site may be asked again: as long as it said, at least ``THROTTLE_MIN_WAIT``."""
    return now + max(retry_after or timedelta(0), THROTTLE_MIN_WAIT)


class CheckState:
    """Mixin for a model checked on a schedule (``Bill``, ``Feed``); the columns stay on the model."""

    next_check_at: datetime | None
    last_checked_at: datetime | None
    last_success_at: datetime | None
    error_count: int
    failing_since: datetime | None
    last_error: str | None
    throttled_until: datetime | None
    etag: str | None
    last_modified: str | None

    def checked_ok(self, now: datetime, next_at: datetime, *, etag: str | None, last_modified: str | None) -> None:
        """The source answered (new content or not): forget the failures, keep its validators."""
        self.last_checked_at = self.last_success_at = now
        self.error_count, self.failing_since, self.last_error = 0, None, None
        self.throttled_until = None
        self.etag, self.last_modified = etag, last_modified
        self.next_check_at = next_at

    def failed(self, now: datetime, url: str | None, error: str, at_least: timedelta | None = None) -> None:
        """One more failure in a row: back off (or wait ``at_least``, when the source said so)."""
        self.last_checked_at = now
        self.error_count = (self.error_count or 0) + 1
        self.failing_since = self.failing_since or now
        self.last_error = f"{url}: {error}"
        self.throttled_until = None  # the site answered: whatever it asked before is over
        wait = backoff(self.error_count)
        if at_least:
            wait = max(wait, at_least)
        self.next_check_at = now + wait

    def start_afresh(self, now: datetime) -> None:
        """The source itself changed (a feed's URL): its validators say nothing about the new one, and
        it is due at once. Its failures stand until that check tells."""
        self.etag = self.last_modified = None
        self.next_check_at = now

    def postponed(self, until: datetime, asked_at: datetime | None = None) -> bool:
        """The site asked us to wait until ``until``: not this row's failure, so ``error_count``,
        ``failing_since`` and ``last_error`` are left alone. A later ``next_check_at`` is kept.
        ``asked_at``: this row's request is the one the site answered so. True when the next check moved."""
        if asked_at is not None:
            self.last_checked_at = asked_at
        if self.throttled_until is None or self.throttled_until < until:
            self.throttled_until = until
        if self.next_check_at is not None and self.next_check_at >= until:
            return False
        self.next_check_at = until
        return True
