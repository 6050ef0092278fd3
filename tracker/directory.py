"""The legislature's directory: committees with their chairs, legislators with their districts.

``refresh_directory()`` fetches the committees and legislative members of some General
Courts from the official API (the directory spider, in the crawl child process) and
stores each General Court in one transaction, or not at all: a failed or partial fetch
leaves the stored directory as it was and is reported as an error. ``tracker crawl``
calls it when the stored directory of a tracked bill's General Court is missing or older
than ``sources.malegislature.directory_every``.

The lookups over the stored directory (who holds a bill, who sponsored it, a supporter's own
legislators) are in ``db.directory``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Bill, Committee, Legislator
from spiders import directory_parse
from spiders.directory_parse import CommitteeRecord, MemberRecord
from tracker.child import run_spider
from tracker.config import Config
from tracker.logs import joined
from tracker.results import RunResult
from spiders.billids import ordinal

log = logging.getLogger("tracker.directory")

SOURCE = "malegislature"


@dataclass
class DirectoryOutcome:
    """One General Court's refresh: stored (``changed`` when a row was added, altered or
    removed) or failed (``error``, the stored rows untouched)."""

    session: int
    changed: bool = False
    events: list = field(default_factory=list)  # the directory writes no events; RunResult counts them
    error: dict | None = None
    committees: int = 0
    legislators: int = 0


@dataclass
class DirectoryResult(RunResult):
    """``checked`` counts General Courts; ``refreshed`` lists those stored."""

    refreshed: list[int] = field(default_factory=list)
    outcomes: list[DirectoryOutcome] = field(default_factory=list)


# --------------------------------------------------------------------------- refresh


def tracked_sessions(s: Session, config: Config) -> list[int]:
    """General Courts of the tracked bills (stored or listed in feeds.yaml)."""
    stored = set(s.scalars(select(Bill.session).where(Bill.tracked.is_(True)).distinct()))
    listed = {b.session for b in config.tracked_bill_ids()}
    return sorted(stored | listed)


def directory_checked_at(s: Session, session: int) -> datetime | None:
    """When the stored directory of ``session`` was fetched, or None when committees or
    legislators are missing."""
    oldest = []
    for model in (Committee, Legislator):
        count, first = s.execute(select(func.count(model.id), func.min(model.fetched_at))
                                 .where(model.session == session)).one()
        if not count:
            return None
        oldest.append(first)
    return min(oldest)


def directory_due(s: Session, session: int, every: timedelta, now: datetime) -> bool:
    checked = directory_checked_at(s, session)
    return checked is None or now - checked >= every


def due_sessions(s: Session, config: Config, general_courts: Iterable[int], now: datetime) -> list[int]:
    every = config.sources.malegislature.directory_every
    return [gc for gc in sorted(set(general_courts)) if directory_due(s, gc, every, now)]


def run_directory_child(config: Config, general_courts: list[int]) -> Iterable[dict]:
    """The directory spider in the crawl child, with the bill spider's politeness and timeout."""
    src = config.sources.malegislature
    settings = {
        "base_url": src.base_url, "delay_s": src.delay_s, "concurrency": src.concurrency,
        "timeout_s": src.timeout_s, "user_agent": src.user_agent,
    }
    return run_spider("directory", settings, list(general_courts), src.crawl_timeout_s)


@dataclass
class _Fetched:
    """What the child reported for one General Court."""

    committee_codes: list[str] | None = None
    member_codes: list[str] | None = None
    committees: dict[str, CommitteeRecord] = field(default_factory=dict)
    members: dict[str, MemberRecord] = field(default_factory=dict)
    errors: list[dict] = field(default_factory=list)

    def add(self, item: dict) -> None:
        kind = item.get("type")
        if kind == "committee-list":
            self.committee_codes = list(item.get("codes") or [])
        elif kind == "member-list":
            self.member_codes = list(item.get("codes") or [])
        elif kind == "committee":
            self.committees[str(item["code"]).upper()] = CommitteeRecord(**item["record"])
        elif kind == "member":
            self.members[str(item["code"]).upper()] = MemberRecord(**item["record"])
        elif kind == "directory-error":
            self.errors.append(item)

    def problem(self, gc: int, base_url: str, child_error: str | None) -> tuple[str, str] | None:
        """``(url, reason)`` when this General Court cannot be stored whole, else None."""
        if self.errors:
            first = self.errors[0]
            more = f" (and {len(self.errors) - 1} more failed requests)" if len(self.errors) > 1 else ""
            return first.get("url") or directory_parse.committee_list_url(base_url, gc), first["error"] + more
        for what, codes, got, list_url in (
            ("committee", self.committee_codes, self.committees, directory_parse.committee_list_url(base_url, gc)),
            ("member", self.member_codes, self.members, directory_parse.member_list_url(base_url, gc)),
        ):
            if codes is None:
                return list_url, child_error or f"the {what} list did not arrive"
            if not codes:
                return list_url, f"the API listed no {what}s"
            missing = [c for c in codes if c.upper() not in got]
            if missing:
                reason = f"{len(missing)} of {len(codes)} {what} details did not arrive (first: {missing[0]})"
                return list_url, f"{child_error}; {reason}" if child_error else reason
        return None


def refresh_directory(
    config: Config,
    sessions: sessionmaker[Session],
    general_courts: list[int] | None = None,
    now: datetime | None = None,
    on_outcome: Callable[[DirectoryOutcome], None] | None = None,
) -> DirectoryResult:
    """Fetch and store the committees and legislators of ``general_courts`` (default: the
    General Courts of the tracked bills), one transaction per General Court.

    A General Court whose lists or details could not all be fetched and parsed is not
    written at all; its error (``source``, ``url``, ``error``) is in the result's errors.
    """
    started = time.monotonic()
    at = now or datetime.now(timezone.utc)
    if general_courts is None:
        with sessions() as s:
            gcs = tracked_sessions(s, config)
    else:
        gcs = sorted({int(gc) for gc in general_courts})
    result = DirectoryResult()
    if not gcs:
        return result
    base_url = config.sources.malegislature.base_url
    fetched = {gc: _Fetched() for gc in gcs}
    child_error = None
    for item in run_directory_child(config, gcs):
        if item.get("type") == "child-error":
            child_error = item["error"]
            continue
        target = fetched.get(item.get("session"))
        if target is not None:
            target.add(item)
    for gc in gcs:
        outcome = _finish(sessions, gc, fetched[gc], base_url, child_error, at)
        result.outcomes.append(outcome)
        result.collect(outcome, on_outcome)
        if outcome.error is None:
            result.refreshed.append(gc)
    fields = {"job": "directory", "general_courts": joined(gcs), "refreshed": joined(result.refreshed),
              "errors": len(result.errors), "duration_s": round(time.monotonic() - started, 1)}
    log.info("job=%(job)s general_courts=%(general_courts)s refreshed=%(refreshed)s errors=%(errors)d "
             "duration_s=%(duration_s).1f", fields, extra=fields)
    return result


def _finish(sessions: sessionmaker[Session], gc: int, got: _Fetched, base_url: str, child_error: str | None,
            at: datetime) -> DirectoryOutcome:
    problem = got.problem(gc, base_url, child_error)
    if problem is None:
        committees = [got.committees[c.upper()] for c in got.committee_codes or []]
        members = [got.members[c.upper()] for c in got.member_codes or []]
        try:
            with sessions.begin() as s:
                changed = store_directory(s, gc, committees, members, at)
            return DirectoryOutcome(gc, changed=changed, committees=len(committees), legislators=len(members))
        except Exception as exc:  # a database problem: reported like a fetch problem, nothing half-written
            log.exception("general_court=%d storing the directory failed", gc, extra={"general_court": gc})
            problem = (directory_parse.committee_list_url(base_url, gc), f"storing failed: {type(exc).__name__}: {exc}")
    url, reason = problem
    log.warning("general_court=%d directory not refreshed: %s: %s", gc, url, reason, extra={"general_court": gc})
    error = {"source": SOURCE, "url": url,
             "error": f"directory of the {ordinal(gc)} General Court not refreshed (the stored one is kept): {reason}"}
    return DirectoryOutcome(gc, error=error)


def _update(row, values: dict) -> bool:
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


def store_directory(s: Session, gc: int, committees: list[CommitteeRecord], members: list[MemberRecord],
                    at: datetime) -> bool:
    """Make the stored directory of ``gc`` what was fetched (in the caller's transaction):
    upsert by code, remove committees and members no longer listed. True when anything changed."""
    changed = False
    existing_c = {c.code.upper(): c for c in s.scalars(select(Committee).where(Committee.session == gc))}
    seen: set[str] = set()
    for rec in committees:
        key = rec.code.upper()
        if key in seen:
            continue
        seen.add(key)
        values = {"code": rec.code, "full_name": rec.full_name or rec.short_name or rec.code,
                  "short_name": rec.short_name, "branch": rec.branch, "house_chair_code": rec.house_chair,
                  "senate_chair_code": rec.senate_chair}
        row = existing_c.get(key)
        if row is None:
            s.add(Committee(session=gc, fetched_at=at, **values))
            changed = True
        else:
            changed |= _update(row, values)
            row.fetched_at = at
    for key, row in existing_c.items():
        if key not in seen:
            s.delete(row)
            changed = True

    existing_l = {m.member_code.upper(): m for m in s.scalars(select(Legislator).where(Legislator.session == gc))}
    seen = set()
    for rec in members:
        key = rec.code.upper()
        if key in seen:
            continue
        seen.add(key)
        values = {"member_code": rec.code, "name": rec.name or rec.code, "branch": rec.branch,
                  "district": rec.district, "party": rec.party, "email": rec.email, "phone": rec.phone,
                  "room": rec.room, "leadership": rec.leadership}
        row = existing_l.get(key)
        if row is None:
            s.add(Legislator(session=gc, fetched_at=at, **values))
            changed = True
        else:
            changed |= _update(row, values)
            row.fetched_at = at
    for key, row in existing_l.items():
        if key not in seen:
            s.delete(row)
            changed = True
    s.flush()
    return changed
