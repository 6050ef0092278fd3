"""The one backoff (bills, feeds, mail retries, scheduler job retries) and the one check state (bills, feeds)."""

from __future__ import annotations

import ast
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from alerts import outbox
from db.checks import backoff, throttled_until
from db.models import Bill, Feed
from spiders.billids import parse_bill_id
from tracker.bill_writer import new_bill

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


# -- check state: a bill and a feed given the same outcomes end in the same state ----------------------------

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
EVERY = timedelta(hours=1)
URL = "https://example.org/source"
RETRY_AFTER = timedelta(hours=2)


def _apply(row, outcome: str, at: datetime) -> None:
    if outcome == "ok":
        row.checked_ok(at, at + EVERY, etag='"v1"', last_modified="Mon, 02 Mar 2026 12:00:00 GMT")
    elif outcome.startswith("HTTP"):
        row.failed(at, URL, outcome)
    else:
        assert outcome == "throttled"
        row.postponed(throttled_until(at, RETRY_AFTER), asked_at=at)


def _state(row) -> tuple:
    return (row.next_check_at, row.error_count, row.failing_since, row.last_error, row.last_checked_at,
            row.last_success_at, row.throttled_until)


# outcome, when, then (next_check_at, error_count, failing_since, last_error, last_checked_at, last_success_at,
# throttled_until)
T1, T2 = T0 + EVERY, T0 + EVERY + 5 * MIN
T3 = T2 + 10 * MIN
T4 = T3 + RETRY_AFTER
SEQUENCE = [
    ("ok", T0, (T0 + EVERY, 0, None, None, T0, T0, None)),
    ("HTTP 500", T1, (T1 + 5 * MIN, 1, T1, f"{URL}: HTTP 500", T1, T0, None)),
    ("HTTP 503", T2, (T2 + 10 * MIN, 2, T1, f"{URL}: HTTP 503", T2, T0, None)),
    # the site's word, not the source's fault: the failures stay as they were, the check waits as asked
    ("throttled", T3, (T3 + RETRY_AFTER, 2, T1, f"{URL}: HTTP 503", T3, T0, T3 + RETRY_AFTER)),
    ("ok", T4, (T4 + EVERY, 0, None, None, T4, T4, None)),  # the site answered: the throttle is over
]


def test_a_bill_and_a_feed_given_the_same_outcomes_end_in_the_same_check_state(sessions):
    with sessions.begin() as s:
        bill = new_bill(parse_bill_id("ma/192/H135"), T0, "test")
        feed = Feed(name="WWLP", url=URL, active=True, error_count=0, created_at=T0, next_check_at=T0)
        s.add_all([bill, feed])
    for outcome, at, then in SEQUENCE:
        with sessions.begin() as s:  # each outcome in its own transaction, as a crawl and a poll write them
            for row in (s.scalar(select(Bill)), s.scalar(select(Feed))):
                _apply(row, outcome, at)
        with sessions() as s:  # and read back from the database
            bill, feed = s.scalar(select(Bill)), s.scalar(select(Feed))
            assert _state(bill) == _state(feed) == then, outcome
            assert (bill.etag, bill.last_modified) == (feed.etag, feed.last_modified)


def test_a_throttle_never_brings_a_check_forward():
    feed = Feed(error_count=3, failing_since=T0, next_check_at=T0 + 12 * HOUR, last_error="x")
    assert feed.postponed(throttled_until(T0, None)) is False
    assert feed.next_check_at == T0 + 12 * HOUR and feed.error_count == 3
    assert feed.postponed(throttled_until(T0, 13 * HOUR)) is True
    assert feed.next_check_at == T0 + 13 * HOUR


@pytest.mark.parametrize("retry_after, wait", [(None, 5 * MIN), (timedelta(0), 5 * MIN), (MIN, 5 * MIN),
                                                (2 * HOUR, 2 * HOUR)])
def test_a_throttle_waits_as_long_as_the_site_said_and_at_least_five_minutes(retry_after, wait):
    assert throttled_until(T0, retry_after) == T0 + wait


def test_retry_after_on_a_failure_stretches_the_backoff_but_never_shortens_it():
    bill = Bill(error_count=0)
    bill.failed(T0, URL, "HTTP 500", at_least=2 * HOUR)
    assert bill.next_check_at == T0 + 2 * HOUR and bill.error_count == 1
    bill.failed(T0, URL, "HTTP 500", at_least=MIN)
    assert bill.next_check_at == T0 + 10 * MIN and bill.error_count == 2


def test_a_feed_whose_url_changed_is_due_at_once_without_its_old_validators(sessions):
    from tracker.config import parse_config
    from tracker.news.poll import sync_feeds

    with sessions.begin() as s:
        feed = Feed(name="WWLP", url=URL, active=True, error_count=0, created_at=T0, next_check_at=T0)
        s.add(feed)
        s.flush()
        feed.checked_ok(T0, T0 + EVERY, etag='"v1"', last_modified="Mon, 02 Mar 2026 12:00:00 GMT")
        feed.content_hash = "0" * 64
    for url, due in ((URL, T0 + EVERY), ("https://example.org/moved", T1 - MIN)):
        with sessions.begin() as s:
            sync_feeds(s, parse_config(f"feeds:\n  - name: WWLP\n    url: {url}\n", "test"), T1 - MIN)
        with sessions() as s:
            feed = s.scalar(select(Feed))
            moved = url != URL
            assert feed.url == url and feed.next_check_at == due
            assert (feed.etag is None, feed.last_modified is None, feed.content_hash is None) == (moved,) * 3


CHECK_COLUMNS = {"next_check_at", "last_checked_at", "last_success_at", "error_count", "failing_since", "last_error",
                 "etag", "last_modified"}


def test_the_application_writes_check_state_only_through_check_state():
    """``row.error_count = ...`` in tracker/ would be a second copy of the rule, free to drift (the
    replicas are servers, not rows: their ``etag`` is theirs)."""
    root = Path(__file__).resolve().parent.parent / "tracker"
    by_hand = []
    for path in sorted(root.rglob("*.py")):
        if "replica" in path.relative_to(root).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
            for target in targets:
                for el in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if isinstance(el, ast.Attribute) and el.attr in CHECK_COLUMNS:
                        by_hand.append(f"{path.relative_to(root.parent)}:{node.lineno} {ast.unparse(el)}")
    assert by_hand == []
