"""The legislature's directory: committees with their chairs, legislators with their districts.

``refresh_directory()`` fetches the committees and legislative members of some General
Courts from the official API (the directory spider, in the crawl child process) and
stores each General Court in one transaction, or not at all: a failed or partial fetch
leaves the stored directory as it was and is reported as an error. ``tracker crawl``
calls it when the stored directory of a tracked bill's General Court is missing or older
than ``sources.malegislature.directory_every``.

The lookups are plain functions over a SQLAlchemy session, for alerts: who holds a bill
(``committee_for``, ``chairs``), who sponsored it (``member``), and a supporter's own
legislators (``legislators_for``, ``districts``).
"""

from __future__ import annotations

import html
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Bill, Committee, Legislator
from spiders import directory_parse
from spiders.directory_parse import CommitteeRecord, MemberRecord
from tracker.child import run_spider
from tracker.config import Config
from tracker.durations import parse_duration
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
    every = parse_duration(config.sources.malegislature.directory_every)
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
    log.info("job=directory general_courts=%s refreshed=%s errors=%d duration_s=%.1f",
             ",".join(map(str, gcs)), ",".join(map(str, result.refreshed)) or "-", len(result.errors),
             time.monotonic() - started)
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
            log.exception("general_court=%d storing the directory failed", gc)
            problem = (directory_parse.committee_list_url(base_url, gc), f"storing failed: {type(exc).__name__}: {exc}")
    url, reason = problem
    log.warning("general_court=%d directory not refreshed: %s: %s", gc, url, reason)
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


# --------------------------------------------------------------------------- committees


_PUNCT = re.compile(r"[^\w\s]+")
_BRANCH = re.compile(r"^(joint|house|senate)\s+(.+)$")
_COMMITTEE_ON = re.compile(r"^committee\s+(?:on|for)\s+")
_THE = re.compile(r"^the\s+")


def committee_key(name: str) -> tuple[str | None, str]:
    """``"House Committee on Ways and Means"`` and ``"House Ways and Means"`` -> ``("House", "ways and means")``;
    ``"Joint Committee on the Judiciary"`` -> ``("Joint", "judiciary")``, ``"The Judiciary"`` -> ``(None, "judiciary")``.
    Case, punctuation, "the" and "committee on" do not count."""
    text = html.unescape(name).casefold().replace("&", " and ")
    text = " ".join(_PUNCT.sub(" ", text).split())
    text = _THE.sub("", text)
    branch = None
    m = _BRANCH.match(text)
    if m:
        branch, text = m.group(1).title(), m.group(2)
    text = _THE.sub("", _COMMITTEE_ON.sub("", text))
    return branch, text.removesuffix(" committee")


def committee_for(s: Session, session: int, name: str | None) -> Committee | None:
    """The stored committee a bill's ``committee`` text names (as the crawl stores it:
    "The Judiciary", "House Ways and Means", "Senate Rules", ...), or None.

    A name that says its branch ("House Ways and Means") matches only a committee of that
    branch; one that does not ("The Judiciary") prefers the joint committee. A committee
    code ("J19") matches too. An ambiguous name matches nothing.
    """
    if not name or not name.strip():
        return None
    rows = list(s.scalars(select(Committee).where(Committee.session == session).order_by(Committee.code)))
    for c in rows:
        if c.code.upper() == name.strip().upper():
            return c
    want_branch, want = committee_key(name)
    if not want:
        return None
    found: list[tuple[Committee, str | None]] = []
    for c in rows:
        for candidate in (c.full_name, c.short_name):
            if not candidate:
                continue
            branch, key = committee_key(candidate)
            if key == want:
                found.append((c, (c.branch or branch or "").title() or None))
                break
    if want_branch:
        found = [(c, b) for c, b in found if b in (None, want_branch)]
    elif len(found) > 1:
        joint = [(c, b) for c, b in found if b == "Joint"]
        found = joint or found
    return found[0][0] if len(found) == 1 else None


def chairs(s: Session, committee: Committee) -> list[Legislator]:
    """The committee's chairs that are in the stored directory: the House chair first, then the Senate chair."""
    out = []
    for code in (committee.house_chair_code, committee.senate_chair_code):
        if code:
            legislator = member(s, committee.session, code)
            if legislator is not None and legislator not in out:
                out.append(legislator)
    return out


def member(s: Session, session: int, code: str | None) -> Legislator | None:
    """The legislator with this member code ("DMR1") in this General Court, or None."""
    if not code or not code.strip():
        return None
    return s.scalar(select(Legislator).where(Legislator.session == session,
                                             func.upper(Legislator.member_code) == code.strip().upper()))


# --------------------------------------------------------------------------- districts


class Delegation(NamedTuple):
    """A supporter's own legislators (None when the district is unknown or vacant)."""

    representative: Legislator | None
    senator: Legislator | None


_UNITS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
          "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
          "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
          "twentieth": 20, "thirtieth": 30, "fortieth": 40}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40}
_NUMERIC = re.compile(r"^(\d+)(?:st|nd|rd|th)?$")


def normalize_district(text: str | None) -> str:
    """A district name compared case-, whitespace- and punctuation-insensitively, with ordinals
    as numbers: "Twenty-Fourth Middlesex", "24th  middlesex" and "24th Middlesex District" are
    all ``"24 middlesex"``; "Middlesex & Worcester" is "middlesex and worcester"."""
    if not text:
        return ""
    words = _PUNCT.sub(" ", text.casefold().replace("&", " and ")).split()
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        m = _NUMERIC.match(w)
        if m:
            out.append(str(int(m.group(1))))
        elif w in _TENS and i + 1 < len(words) and words[i + 1] in _UNITS and _UNITS[words[i + 1]] < 10:
            out.append(str(_TENS[w] + _UNITS[words[i + 1]]))
            i += 1
        elif w in _UNITS:
            out.append(str(_UNITS[w]))
        else:
            out.append(w)
        i += 1
    if out and out[0] == "the":
        out = out[1:]
    if len(out) > 1 and out[-1] == "district":
        out = out[:-1]
    return " ".join(out)


def _in_district(s: Session, session: int, branch: str, district: str | None) -> Legislator | None:
    want = normalize_district(district)
    if not want:
        return None
    rows = s.scalars(select(Legislator).where(Legislator.session == session, Legislator.branch == branch,
                                              Legislator.district.is_not(None)).order_by(Legislator.member_code))
    return next((r for r in rows if normalize_district(r.district) == want), None)


def legislators_for(s: Session, session: int, house_district: str | None,
                    senate_district: str | None) -> Delegation:
    """The representative of ``house_district`` and the senator of ``senate_district``."""
    return Delegation(_in_district(s, session, "House", house_district),
                      _in_district(s, session, "Senate", senate_district))


def districts(s: Session, session: int) -> dict[str, list[str]]:
    """The stored districts of a General Court, ``{"House": [...], "Senate": [...]}``, each sorted."""
    out: dict[str, list[str]] = {"House": [], "Senate": []}
    rows = s.execute(select(Legislator.branch, Legislator.district).where(
        Legislator.session == session, Legislator.district.is_not(None)).distinct())
    for branch, district in rows:
        if branch in out and district.strip():
            out[branch].append(district)
    return {branch: sorted(set(names)) for branch, names in out.items()}
