"""The one backoff (bills, feeds, mail retries, scheduler job retries)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts import outbox
from db.checks import backoff

MIN, HOUR = timedelta(minutes=1), timedelta(hours=1)


@pytest.mark.parametrize("failures, wait", [
    (0, 5 * MIN),  # never failed: the first step
    (1, 5 * MIN),
    (2, 10 * MIN),
    (3, 20 * MIN),
    (4, 40 * MIN),
    (5, 80 * MIN),
    (8, 640 * MIN),
    (9, 12 * HOUR),  # 1280 minutes is past the cap
    (10, 12 * HOUR),
    (40, 12 * HOUR),  # 5 min * 2**39 no longer fits a timedelta: the cap, not an OverflowError
    (10_000, 12 * HOUR),
])
def test_bills_and_feeds_back_off_from_five_minutes_doubling_to_twelve_hours(failures, wait):
    assert backoff(failures) == wait


@pytest.mark.parametrize("attempts, wait", [
    (1, 5 * MIN), (2, 10 * MIN), (6, 160 * MIN), (7, 320 * MIN), (8, 6 * HOUR), (50, 6 * HOUR),
])
def test_mail_retries_keep_their_own_cap_of_six_hours(attempts, wait):
    assert outbox.backoff(attempts) == wait


@pytest.mark.parametrize("failures, wait", [
    (1, 1 * MIN), (2, 2 * MIN), (5, 16 * MIN), (6, 30 * MIN), (42, 30 * MIN),
])
def test_a_failed_scheduler_job_is_retried_from_one_minute_to_thirty(failures, wait):
    from tracker.scheduler import RETRY_CAP, RETRY_START

    assert backoff(failures, RETRY_START, RETRY_CAP) == wait
