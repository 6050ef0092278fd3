"""The supporters' CSV import: one streaming pass over the file, written in batches.

Each batch of ``BATCH_ROWS`` records is checked and written in one transaction with a handful of statements
(the addresses already there and their topics read with one query each, the new supporters and topics
inserted with one executemany each), and leaves the database exactly as ``subscribe`` called row by row
would: the same rows, ids, fields and topics, a duplicate address updating the supporter an earlier row
added, a bad row reported as ``FILE:LINE: reason`` and skipped.

Before anything is written the whole file is decoded and parsed once (no rows kept), so a file that is not
UTF-8 or not CSV changes nothing. A batch that fails is rolled back whole and stops the import
(``ImportFailed``): the batches before it stay, as if the file had ended where the failing batch begins.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from sqlalchemy.orm import Session

from alerts.settings import AlertSettings
from alerts.subscribers import (CSV_COLUMNS, DEFAULT_FREQUENCY, BadSubscription, Checked, ImportReport, Lookups,
                                check_signup)
from db.supporters import (SIGNUP_FIELDS, bill_ids, insert_subscriptions, insert_supporters, newest_event_id,
                           reactivate_subscriptions, supporters_by_email, topics_of, update_supporters)

BATCH_ROWS = 1000


class ImportFailed(Exception):
    """A batch could not be written (or the file could not be read on): ``report`` holds what the batches
    before it imported, ``line`` the first line of the failing batch."""

    def __init__(self, path: str, line: int, reason: str, report: ImportReport):
        super().__init__(f"{path}:{line}: the import stopped here: {reason}")
        self.path, self.line, self.reason, self.report = path, line, reason, report


@dataclass
class Record:
    """One CSV record after the header: its first line, the line its report names, and its fields or why it
    cannot be a row at all."""
    first: int
    line: int
    fields: dict | None = None
    problem: str | None = None


@dataclass
class BatchResult:
    added: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)
    to_confirm: list[int] = field(default_factory=list)


def check_file(fh: TextIO, path: str) -> None:
    """Decode and parse the whole file once, keeping nothing: UnicodeDecodeError, or BadSubscription naming the
    line where it stops being CSV."""
    reader = csv.reader(fh)
    try:
        for _ in reader:
            pass
    except csv.Error as exc:
        raise BadSubscription(f"{path}:{reader.line_num}: not a CSV file this import can read: {exc}; "
                              "nothing was imported") from None


def records(fh: TextIO, path: str) -> Iterator[Record]:
    """The records after the header row, as ``csv.DictReader`` reads them (blank lines skipped), with their
    first and last line; BadSubscription when the header lacks ``email`` or names an unknown column."""
    reader = csv.reader(fh)
    header = [h.strip().lower() for h in next(reader, [])]
    if "email" not in header:
        raise BadSubscription(f"{path}:1: no 'email' column; the columns are {','.join(CSV_COLUMNS)}")
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise BadSubscription(f"{path}:1: unknown column {unknown[0]!r}; the columns are {','.join(CSV_COLUMNS)}")
    width = len(header)
    last = reader.line_num
    for row in reader:
        if not row:
            continue
        first, line, last = last + 1, reader.line_num, reader.line_num
        if any("\n" in v or "\r" in v for v in row[:width]):
            # A quote left open: the lines after it, other supporters' rows, were read as one field. Say where,
            # never what (that would print their addresses).
            yield Record(first, first, problem=f"a quote (\") opened on this line is never closed, so lines "
                                              f"{first}-{line} were read as one row; none of them was imported")
        elif len(row) > width:
            yield Record(first, line, problem="more fields than columns")
        else:
            yield Record(first, line, fields=dict(zip(header, row)))


def check_record(look: Lookups, fields: dict) -> Checked:
    get = fields.get
    return check_signup(look, get("email") or "", bills=(get("bills") or "").split(), name=get("name") or None,
                        frequency=(get("frequency") or "").strip() or None,
                        house_district=get("house_district") or None,
                        senate_district=get("senate_district") or None)


def write_batch(s: Session, settings: AlertSettings, batch: list[Record], path: str, *, confirmed: bool,
                now: datetime, parsed: dict[str, str]) -> BatchResult:
    """Check and write one batch in ``s``, row after row in effect, as ``subscribe`` would."""
    out = BatchResult()
    look = Lookups(settings, s, parsed)
    rows: list[Checked] = []
    for rec in batch:
        if rec.problem is not None:
            out.errors.append(f"{path}:{rec.line}: {rec.problem}")
            continue
        try:
            rows.append(check_record(look, rec.fields))
        except BadSubscription as exc:
            out.errors.append(f"{path}:{rec.line}: {exc}")
    if not rows:
        return out

    existing = supporters_by_email(s, sorted({c.email for c in rows}))
    topics = topics_of(s, [r["id"] for r in existing.values()])
    bills = bill_ids(s, {t.removeprefix("bill:") for c in rows for t in c.topics if t.startswith("bill:")})
    newest: list[int] = []

    def start() -> int:
        if not newest:
            newest.append(newest_event_id(s))
        return newest[0]

    state: dict[str, dict] = {}  # email -> the supporter's fields as the rows so far leave them
    followed: dict[str, dict[str, list]] = {}  # email -> {topic: [subscription id or None, active]}
    created_rows: list[dict] = []
    new_topics: list[tuple[dict, str]] = []
    reactivated: list[int] = []
    pending: list[dict] = []
    for c in rows:
        sub = state.get(c.email)
        created = False
        if sub is None:
            known = existing.get(c.email)
            if known is None:
                created = True
                sub = {"id": None, "email": c.email, "status": "pending", "frequency": c.frequency or DEFAULT_FREQUENCY,
                       "name": None, "house_district": None, "senate_district": None, "start_event_id": start(),
                       "unsubscribed_at": None, "confirmed_at": None}
                created_rows.append(sub)
            else:
                sub = dict(known)
            state[c.email] = sub
            followed[c.email] = topics.get(sub["id"], {}) if sub["id"] is not None else {}
        if not created and sub["status"] in ("unsubscribed", "bounced"):
            # coming back: a fresh start, and a fresh confirmation
            sub["status"], sub["start_event_id"], sub["unsubscribed_at"] = "pending", start(), None
        if confirmed and sub["status"] == "pending":
            sub["status"], sub["confirmed_at"] = "active", now
        if c.frequency:
            sub["frequency"] = c.frequency
        sub["name"] = c.name or sub["name"]
        sub["house_district"] = c.house_district or sub["house_district"]
        sub["senate_district"] = c.senate_district or sub["senate_district"]
        mine = followed[c.email]
        for topic in c.topics:
            have = mine.get(topic)
            if have is None:
                mine[topic] = [None, True]
                new_topics.append((sub, topic))
            elif not have[1]:
                have[1] = True
                reactivated.append(have[0])
        if created:
            out.added += 1
        else:
            out.updated += 1
        if sub["status"] == "pending":
            pending.append(sub)

    ids = insert_supporters(s, [{**{k: v for k, v in sub.items() if k not in ("id", "unsubscribed_at")},
                                 "role": "supporter", "source": "import", "created_at": now} for sub in created_rows])
    for sub in created_rows:
        sub["id"] = ids[sub["email"]]
    update_supporters(s, [sub for email, sub in state.items() if email in existing
                          and any(sub[f] != existing[email][f] for f in SIGNUP_FIELDS)])
    insert_subscriptions(s, [{"subscriber_id": sub["id"], "topic": topic, "active": True, "created_at": now,
                              "bill_id": bills.get(topic.removeprefix("bill:"))}
                             for sub, topic in new_topics])
    reactivate_subscriptions(s, reactivated)
    out.to_confirm = [sub["id"] for sub in pending]
    return out


def import_supporters(open_text: Callable[[], TextIO], path: str, settings: AlertSettings,
                      begin: Callable[[], AbstractContextManager[Session]], *, confirmed: bool, now: datetime,
                      batch_rows: int | None = None) -> ImportReport:
    """Import the CSV file ``open_text()`` opens (``path`` names it in messages), ``batch_rows`` records a batch,
    each written in ``begin()`` (a context manager giving a session in a transaction it commits on exit, or
    rolls back on an error). Raises BadSubscription (header, not CSV) or UnicodeDecodeError before anything
    is written; ImportFailed when a batch fails, with what the batches before it imported."""
    batch_rows = batch_rows or BATCH_ROWS
    with open_text() as fh:
        check_file(fh, path)
    report = ImportReport()
    parsed: dict[str, str] = {}  # bill ids as typed -> canonical, for the whole file

    def flush(batch: list[Record]) -> None:
        try:
            with begin() as s:
                done = write_batch(s, settings, batch, path, confirmed=confirmed, now=now, parsed=parsed)
        except Exception as exc:
            raise ImportFailed(path, batch[0].first, describe(exc), report) from exc
        report.added += done.added
        report.updated += done.updated
        report.errors += done.errors
        report.to_confirm += done.to_confirm

    with open_text() as fh:
        batch: list[Record] = []
        reading = records(fh, path)
        while True:
            try:
                rec = next(reading, None)
            except BadSubscription:
                raise
            except Exception as exc:  # the file changed since it was checked
                line = batch[0].first if batch else 0
                raise ImportFailed(path, line, describe(exc), report) from exc
            if rec is None:
                break
            batch.append(rec)
            if len(batch) >= batch_rows:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
    return report


def describe(exc: Exception) -> str:
    """The first line of an error's own message, without the statement and parameters a database error
    carries (they would print other supporters' addresses)."""
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip().splitlines()
    return f"{type(inner).__name__}: {text[0] if text else ''}".rstrip(": ")
