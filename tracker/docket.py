"""``tracker sync``: the whole docket of the synced General Courts, then the watches.

For each session the document list is fetched (one request); each row is stored, and the detail (pinslip,
sponsors, text) is fetched only for the rows that are new or whose list row changed. Details are stored one
by one as they arrive, so a sync that is killed goes on where it stopped, and none is fetched twice. A
session the API does not know yet (it answers 400 or 500 before the General Court convenes) is "not yet",
not a failure. A docket that gains its bill number is the same document: the bill number becomes its id and
the docket number an alias (a followed bill of that docket follows the rename, with its events).

Then each watch of feeds.yaml runs over the full-text index of the synced documents; a document that newly
matches a watch is one ``bill.discovered`` event, never repeated. Before the watches, the successor search
(``tracker.successors.search``) ranks the next General Court's documents for each followed bill (so a watch
finding a successor it followed says so).

Last, only with ``sources.malegislature.histories: all``, the history sweep: each document of the listed
sessions whose history is due (never asked for, or last asked for ``HISTORY_EVERY`` ago; followed bills are
left out, the crawl keeps theirs) has its history fetched, oldest check first, at the lowest priority, and
stored as it arrives (``document_actions``, replaced whole when it changed), so a sync killed mid-sweep goes
on with the rest next time. A failed history is reported and stays due.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Callable, Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from db.documents import matching_documents
from db.models import Bill, DocketSync, Document, DocumentAction, Event, WatchMatch
from spiders.billids import dotted
from tracker.child import run_spider
from tracker.crawl import sync_tracked
from tracker.config import Config, Watch
from tracker.logs import joined
from tracker.successors.search import SearchReport, search

log = logging.getLogger("tracker.sync")
SOURCE = "malegislature"
HISTORY_EVERY = timedelta(days=7)  # how often the sweep asks for each document's history again


@dataclass
class SyncResult:
    sessions: list[int] = field(default_factory=list)
    documents: int = 0  # rows in the lists fetched
    new: int = 0
    changed: int = 0
    details: int = 0  # details stored
    histories: int = 0  # histories fetched and stored by the sweep (histories: all), changed or not
    discovered: list[Event] = field(default_factory=list)
    not_yet: list[int] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    throttled: dict | None = None
    successors: SearchReport | None = None

    def to_json(self) -> dict:
        return {"sessions": self.sessions, "documents": self.documents, "new": self.new, "changed": self.changed,
                "discovered": len(self.discovered), "errors": self.errors, "details": self.details,
                "histories": self.histories,
                "not_yet": self.not_yet, "throttled": self.throttled,
                "successors": self.successors.to_json() if self.successors else None}


def _settings(config: Config) -> dict:
    src = config.sources.malegislature
    return {"base_url": src.base_url, "delay_s": src.delay_s, "concurrency": src.concurrency,
            "timeout_s": src.timeout_s, "user_agent": src.user_agent}


def run_docket_child(config: Config, jobs: list[dict], stop: threading.Event | None = None) -> Iterable[dict]:
    """The docket spider in the crawl child, with the bill spider's politeness: ``{"session": N}`` asks for a
    session's list, ``{"session": N, "id": "H1946"}`` for one document's detail, and with ``"history": True``
    for its history, with ``"similar": True`` for the API's Similar list (the job dicts reach the spider as they
    are)."""
    return run_spider("docket", _settings(config), jobs, config.sources.malegislature.sync_timeout_s, stop)


def synced_sessions(s: Session, config: Config) -> list[int]:
    """The sessions to sync: as configured, or by default the configured one, the next, and the one after each
    followed bill's."""
    followed = set(s.scalars(select(Bill.session).where(Bill.tracked.is_(True)).distinct()))
    return config.docket_sessions(followed)


def sync_due(s: Session, config: Config, now: datetime) -> list[int]:
    """The synced sessions whose last sync (or attempt) is older than ``schedule.sync``."""
    every = config.schedule.sync
    last = {row.session: row.last_attempt_at for row in s.scalars(select(DocketSync))}
    return [gc for gc in synced_sessions(s, config) if last.get(gc) is None or now - last[gc] >= every]


def _canonical(session: int, row: dict) -> str:
    return f"ma/{session}/{row.get('number') or row.get('docket')}"


def _list_hash(rows: list[dict]) -> str:
    return hashlib.sha256("\n".join(sorted(r["row_hash"] for r in rows)).encode()).hexdigest()


def _rename_followed_bill(s: Session, doc: Document, old_canonical: str) -> None:
    """A followed docket got its bill number: the bill row takes the new id, its events stay with it."""
    bill = s.scalar(select(Bill).where(Bill.canonical == old_canonical))
    if bill is not None and doc.number and s.scalar(select(Bill.id).where(Bill.canonical == doc.canonical)) is None:
        bill.canonical, bill.number, bill.docket = doc.canonical, doc.number, doc.docket


def store_list(s: Session, session: int, rows: list[dict], now: datetime, result: SyncResult) -> None:
    """Store one session's list in the caller's transaction: new rows, changed rows, rows gone."""
    by_docket = {d.docket: d for d in s.scalars(select(Document).where(Document.session == session,
                                                                        Document.docket.is_not(None)))}
    by_number = {d.number: d for d in s.scalars(select(Document).where(Document.session == session,
                                                                        Document.number.is_not(None)))}
    seen: set[int] = set()
    for row in rows:
        doc = (by_docket.get(row.get("docket")) if row.get("docket") else None) or \
            (by_number.get(row.get("number")) if row.get("number") else None)
        if doc is not None and doc.id in seen:
            result.errors.append({"source": SOURCE, "url": row.get("details_url"),
                                  "error": f"{_canonical(session, row)}: listed twice in the {session} docket; "
                                           "the first row was kept"})
            continue
        if doc is None:
            doc = Document(canonical=_canonical(session, row), session=session, number=row.get("number"),
                           docket=row.get("docket"), first_seen_at=now, docket_book_only=False, row_hash="")
            s.add(doc)
            result.new += 1
        elif doc.row_hash != row["row_hash"] or doc.removed_at is not None:
            result.changed += 1
        if doc.row_hash != row["row_hash"]:
            old = doc.canonical
            doc.number = row.get("number") or doc.number
            doc.docket = row.get("docket") or doc.docket
            doc.canonical = _canonical(session, {"number": doc.number, "docket": doc.docket})
            doc.title = row.get("title") or doc.title
            doc.sponsor, doc.sponsor_code = row.get("sponsor"), row.get("sponsor_code")
            doc.docket_book_only = bool(row.get("docket_book_only"))
            doc.row_hash = row["row_hash"]
            if old and old != doc.canonical:
                s.flush()
                _rename_followed_bill(s, doc, old)
        doc.last_seen_at, doc.removed_at = now, None
        s.flush()
        seen.add(doc.id)
        if doc.docket:
            by_docket[doc.docket] = doc
        if doc.number:
            by_number[doc.number] = doc
    for doc in s.scalars(select(Document).where(Document.session == session, Document.removed_at.is_(None))):
        if doc.id not in seen:
            doc.removed_at = now  # gone from the list: kept, marked, and back if it returns


def store_detail(s: Session, obs: dict, now: datetime) -> bool:
    """Store one document's detail; returns whether it was stored (an error is recorded on the document)."""
    doc = s.scalar(select(Document).where(Document.session == obs["session"],
                                          (Document.number == obs["id"]) | (Document.docket == obs["id"])))
    if doc is None:
        return False
    if obs.get("error"):
        doc.detail_error = obs["error"]
        return False
    detail = obs["detail"]
    doc.title = detail.get("title") or doc.title
    doc.sponsor = detail.get("sponsor") or doc.sponsor
    doc.sponsor_code = detail.get("sponsor_code") or doc.sponsor_code
    doc.joint_sponsors = detail.get("joint_sponsors") or []
    doc.cosponsors = detail.get("cosponsors") or []
    doc.pinslip = detail.get("pinslip")
    doc.text = doc.text or detail.get("text")  # the text as first seen; later versions are another matter
    doc.legislation_type = detail.get("legislation_type")
    doc.detail_row_hash, doc.detail_fetched_at, doc.detail_error = doc.row_hash, now, None
    return True


def _details_due(s: Session, gcs: list[int]) -> list[dict]:
    query = (select(Document.session, Document.number, Document.docket)
             .where(Document.session.in_(gcs), Document.removed_at.is_(None),
                    (Document.detail_row_hash.is_(None)) | (Document.detail_row_hash != Document.row_hash))
             .order_by(Document.session, Document.id))
    return [{"session": gc, "id": number or docket} for gc, number, docket in s.execute(query)]


def _sync_state(s: Session, gc: int) -> DocketSync:
    row = s.get(DocketSync, gc)
    if row is None:
        row = DocketSync(session=gc, state="never", documents=0)
        s.add(row)
    return row


def sync(config: Config, sessions: sessionmaker[Session], only: list[int] | None = None,
         now: Callable[[], datetime] = lambda: datetime.now(timezone.utc), stop: threading.Event | None = None,
         on_progress: Callable[[str], None] | None = None) -> SyncResult:
    """Sync the docket of each session (``only``, or the configured ones), then run the watches."""
    result = SyncResult()
    with sessions() as s:
        gcs = sorted(set(only)) if only else synced_sessions(s, config)
    result.sessions = gcs
    listed: list[int] = []
    for obs in run_docket_child(config, [{"session": gc} for gc in gcs], stop):
        kind = obs.get("type")
        if kind == "docket-list":
            gc = obs["session"]
            with sessions.begin() as s:
                state = _sync_state(s, gc)
                state.last_attempt_at = now()
                if obs["status"] == "not-yet" and state.list_hash is None:
                    state.state, state.error = "not-yet", obs.get("error")
                    result.not_yet.append(gc)
                    continue
                if obs["status"] == "not-yet":  # a session it listed before: a server error, not "not yet"
                    obs = obs | {"status": "error", "error": f"HTTP {obs.get('http_status')} for the {gc} docket, "
                                                             "which the site listed before"}
                if obs["status"] != "ok":
                    state.state, state.error = "failing", obs.get("error")
                    result.errors.append({"source": SOURCE, "url": obs.get("url"), "error": obs.get("error")})
                    continue
                rows = obs["rows"]
                result.documents += len(rows)
                result.errors.extend({"source": SOURCE, **p} for p in obs.get("problems", []))
                digest = _list_hash(rows)
                if digest != state.list_hash:  # an unchanged list is one request and no work
                    store_list(s, gc, rows, now(), result)
                state.state, state.list_hash, state.documents = "ok", digest, len(rows)
                state.last_synced_at, state.error = now(), None
                listed.append(gc)
            if on_progress:
                on_progress(f"{gc}: {len(obs['rows'])} documents")
        elif kind == "throttled":
            result.throttled = obs
            result.errors.append({"source": SOURCE, "url": obs.get("url"), "error": obs.get("error", "throttled")})
        elif kind == "child-error":
            result.errors.append({"source": SOURCE, "url": config.sources.malegislature.base_url,
                                  "error": obs.get("error")})
    if listed and not result.throttled and not (stop and stop.is_set()):
        _fetch_details(config, sessions, listed, now, stop, result, on_progress)
    if not result.throttled and not (stop and stop.is_set()):  # before the watches: a successor is followed
        result.successors = find_successors(config, sessions, now, stop)
        result.errors.extend(result.successors.errors)
    result.discovered = run_watches(config, sessions, gcs, now())
    if (config.sources.malegislature.histories == "all" and listed and not result.throttled
            and not (stop and stop.is_set())):
        _sweep_histories(config, sessions, listed, now, stop, result, on_progress)
    fields = {"job": "sync", "sessions": joined(gcs, empty=""), "documents": result.documents, "new": result.new,
              "changed": result.changed, "details": result.details, "discovered": len(result.discovered),
              "histories": result.histories, "errors": len(result.errors)}
    log.info("job=%(job)s sessions=%(sessions)s documents=%(documents)d new=%(new)d changed=%(changed)d "
             "details=%(details)d discovered=%(discovered)d histories=%(histories)d errors=%(errors)d", fields,
             extra=fields)
    return result


def _run_jobs(config: Config, sessions: sessionmaker[Session], due: list[dict], kind: str, store, what: str,
              stop, result: SyncResult, on_progress, now) -> int:
    """Run the docket spider over ``due`` jobs, storing each ``kind`` observation as it arrives with
    ``store(s, obs, now)`` in its own transaction (a killed run loses nothing it reported); returns how many
    were stored. Failures, a throttle and a child that died go to ``result.errors``."""
    stored = 0
    for obs in run_docket_child(config, due, stop) if due else ():
        if obs.get("type") == kind:
            with sessions.begin() as s:
                if store(s, obs, now()):
                    stored += 1
                    if on_progress:
                        on_progress(f"{obs['session']}/{obs['id']}{what}")
            if obs.get("error"):
                result.errors.append({"source": SOURCE, "url": obs.get("url"),
                                      "error": f"ma/{obs['session']}/{obs['id']}:{what} {obs['error']}"})
        elif obs.get("type") == "throttled":
            result.throttled = obs
            result.errors.append({"source": SOURCE, "url": obs.get("url"), "error": obs.get("error", "throttled")})
        elif obs.get("type") == "child-error":
            result.errors.append({"source": SOURCE, "url": config.sources.malegislature.base_url,
                                  "error": obs.get("error")})
    return stored


def _fetch_details(config: Config, sessions: sessionmaker[Session], gcs: list[int], now, stop, result: SyncResult,
                   on_progress) -> None:
    with sessions() as s:
        due = _details_due(s, gcs)
    result.details += _run_jobs(config, sessions, due, "document", store_detail, "", stop, result, on_progress, now)


def find_successors(config: Config, sessions: sessionmaker[Session], now, stop=None) -> SearchReport:
    """The successor search (``tracker.successors.search``), asking the API's Similar through the docket spider."""
    def fetch_similar(canonicals: list[str]) -> list[dict]:
        jobs = [{"session": int(c.split("/")[1]), "id": c.rsplit("/", 1)[1], "similar": True} for c in canonicals]
        return list(run_docket_child(config, jobs, stop))
    with sessions.begin() as s:
        sync_tracked(s, config, now())  # the bills feeds.yaml lists are followed before their first crawl
    return search(config, sessions, now, fetch_similar, stop)


# -- the history sweep --------------------------------------------------------------------------------------------


def _histories_due(s: Session, gcs: list[int], now: datetime) -> list[dict]:
    """History jobs for the documents of ``gcs`` (still listed, not followed) never asked for or last asked for
    ``HISTORY_EVERY`` ago, the oldest check first (never checked before all)."""
    followed = select(Bill.canonical).where(Bill.tracked.is_(True))
    query = (select(Document.session, Document.number, Document.docket)
             .where(Document.session.in_(gcs), Document.removed_at.is_(None), Document.canonical.not_in(followed),
                    Document.history_checked_at.is_(None) | (Document.history_checked_at <= now - HISTORY_EVERY))
             .order_by(Document.history_checked_at.is_not(None), Document.history_checked_at, Document.id))
    return [{"session": gc, "id": number or docket, "history": True} for gc, number, docket in s.execute(query)]


def _history_hash(actions: list[dict]) -> str:
    return hashlib.sha256("\n".join(f"{a.get('date')}\t{a['branch']}\t{a['action']}" for a in actions)
                          .encode()).hexdigest()


def store_history(s: Session, obs: dict, now: datetime) -> bool:
    """Store one document's swept history (replacing its rows when it changed) and mark it checked; returns
    whether it was stored. A failure is recorded on the document, which stays due."""
    doc = s.scalar(select(Document).where(Document.session == obs["session"],
                                          (Document.number == obs["id"]) | (Document.docket == obs["id"])))
    if doc is None:
        return False
    if obs.get("error") or obs.get("actions") is None:
        doc.history_error = obs.get("error") or "no history"
        return False
    actions = obs["actions"]
    digest = _history_hash(actions)
    if digest != doc.history_hash:
        s.execute(delete(DocumentAction).where(DocumentAction.document_id == doc.id))
        s.add_all(DocumentAction(document_id=doc.id, position=i, branch=a["branch"], action=a["action"],
                                 date=date.fromisoformat(a["date"]) if a.get("date") else None)
                  for i, a in enumerate(actions))
        doc.history_hash = digest
    doc.history_checked_at, doc.history_error = now, None
    return True


def _sweep_histories(config: Config, sessions: sessionmaker[Session], gcs: list[int], now, stop,
                     result: SyncResult, on_progress) -> None:
    with sessions() as s:
        due = _histories_due(s, gcs, now())
    result.histories += _run_jobs(config, sessions, due, "history", store_history, " history:", stop, result,
                                  on_progress, now)


# -- watches ------------------------------------------------------------------------------------------------------


def _where(doc, terms: list[str]) -> tuple[str | None, str | None]:
    """Which term matched, and where first: the title, the pinslip or the text (on the few matched documents)."""
    for where, value in (("title", doc.title), ("pinslip", doc.pinslip), ("text", doc.text)):
        folded = " ".join((value or "").casefold().split())
        for term in terms:
            if " ".join(term.casefold().split()) in folded:
                return term, where
    return (terms[0] if terms else None), ("text" if terms else None)


def _reason(watch: Watch, doc, term: str | None, where: str | None) -> str:
    if term:
        return f'"{term}" in the {where}'
    if watch.sponsors:
        return f"filed by {doc.sponsor}"
    return "referred to " + ", ".join(watch.committees)


# what run_watches reads of a matching document (as a row: see matching_documents' ``columns``)
_WATCH_COLUMNS = (Document.id, Document.canonical, Document.number, Document.docket, Document.title, Document.sponsor,
                  Document.pinslip, Document.text)


def run_watches(config: Config, sessions: sessionmaker[Session], synced: list[int], now: datetime) -> list[Event]:
    """Record each newly matching document of each watch as one ``bill.discovered`` event.

    A broad watch's first run matches thousands of documents, so: the documents a watch matched before are left
    out in SQL (never loaded); the new ones are read as rows of the columns used here, not as ORM objects; the
    matches and the events are written with one multi-row INSERT each per watch (the events come back as ORM
    objects with their ids, in docket order); whether a document is a followed bill is looked up in the set of
    followed bills, not with an IN list of every match."""
    events: list[Event] = []
    followed: set[str] | None = None
    for watch in config.watches:
        with sessions.begin() as s:
            found = matching_documents(s, terms=watch.terms, any_term=True, sessions=watch.sessions or synced,
                                       sponsors=watch.sponsors or None, committees=watch.committees or None,
                                       not_matched_by=watch.name, columns=_WATCH_COLUMNS)
            if not found:
                continue
            if followed is None:
                followed = set(s.scalars(select(Bill.canonical).where(Bill.tracked.is_(True))))
            s.execute(insert(WatchMatch), [{"watch": watch.name, "document_id": doc.id, "matched_at": now}
                                           for doc in found])
            rows = []
            for doc in found:
                term, where = _where(doc, watch.terms)
                label = dotted(doc.number or doc.docket or "")
                rows.append({"kind": "bill.discovered", "at": now, "occurred_at": None,
                             "bill_id": None,  # a document, not (yet) a bill
                             "summary": f"{label} matches the watch {watch.name!r}: {doc.title or 'no title yet'}",
                             "payload": {"document": doc.canonical, "number": label, "title": doc.title,
                                         "sponsor": doc.sponsor, "watch": watch.name,
                                         "reason": _reason(watch, doc, term, where), "term": term, "where": where,
                                         "followed": doc.canonical in followed}})
            # ids are given in the order of the rows; RETURNING's own order is not promised, so sort by them
            events.extend(sorted(s.scalars(insert(Event).returning(Event), rows), key=lambda ev: ev.id))
    return events
