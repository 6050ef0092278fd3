"""The successor search, run after each sync: each followed bill whose next General Court's docket is synced
gets its candidates there ranked (``tracker.successors.rank``) and stored.

* The best candidate beyond doubt (its pinslip names the bill, or its text is nearly the same and it shares a
  sponsor) is accepted at once: followed with the bill's position, the bill's supporters carried to it.
* Otherwise the best scoring at least ``rank.PROPOSED`` is proposed to staff, who accept or reject it
  (``tracker successors``, or the staff digest's link).
* A rejected candidate is never proposed again for that bill; a candidate accepted for one bill is not
  offered for another.
* Once the next General Court's filing deadline has passed with nothing proposed or accepted, the bill was
  not re-filed (so far): said once.

Each decision is one ``bill.successor`` event on the bill (``state`` proposed, accepted, rejected or
not-refiled). A new draft or study order the crawl followed from another followed bill of its session is
not searched itself: the bill it came from carries the lineage.

Before ranking, the API's ``/Documents/{id}/Similar`` is asked for each searched bill (then for the top
candidates it did not name), at most once a week each; a failure there is reported and the ranking goes on
without that evidence.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.lineage import handovers
from db.models import Bill, DocketSync, Event, SimilarList, Successor
from spiders.billids import dotted, ordinal, parse_bill_id
from tracker.config import Config
from tracker.successors import rank
from tracker.successors.calendar import filing_deadline
from tracker.successors.decide import accept, successor_event
from tracker.successors.filed import bill_filed, docket_of, similar_lists

log = logging.getLogger("tracker.successors")
SIMILAR_EVERY = timedelta(days=7)
TOP_CANDIDATES_ASKED = 3  # whose Similar is asked for too
MAX_GENERATIONS = 5  # H.135 -> H.1728 -> H.1946 -> ... in one search


@dataclass
class SearchReport:
    searched: list[str] = field(default_factory=list)
    proposed: list[tuple[str, str]] = field(default_factory=list)
    accepted: list[tuple[str, str]] = field(default_factory=list)
    not_refiled: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"searched": self.searched, "proposed": [list(p) for p in self.proposed],
                "accepted": [list(p) for p in self.accepted], "not_refiled": self.not_refiled,
                "errors": self.errors}


def searched_bills(s: Session) -> dict[int, list[Bill]]:
    """next session -> the followed bills to search there (its docket synced; no successor accepted yet)."""
    synced = set(s.scalars(select(DocketSync.session).where(DocketSync.state == "ok")))
    taken_over = {child for _, child, _ in handovers(s)}
    done = set(s.scalars(select(Successor.bill).where(Successor.state == "accepted")))
    plan: dict[int, list[Bill]] = {}
    for bill in s.scalars(select(Bill).where(Bill.tracked.is_(True)).order_by(Bill.id)):
        if bill.session + 1 in synced and bill.canonical not in taken_over and bill.canonical not in done:
            plan.setdefault(bill.session + 1, []).append(bill)
    return plan


def search(config: Config, sessions: sessionmaker[Session], now: Callable[[], datetime],
           fetch_similar: Callable[[list[str]], list[dict]] | None = None,
           stop: threading.Event | None = None) -> SearchReport:
    """Rank, store and decide the successors of every followed bill whose next docket is synced.
    ``fetch_similar(canonicals)`` asks the API's Similar for those documents (observations of the docket
    spider); None leaves that evidence to what is stored."""
    report = SearchReport()
    for _ in range(MAX_GENERATIONS):  # an accepted successor is searched in its own next session at once
        with sessions() as s:
            plan = {gc: [b.canonical for b in bills if b.canonical not in report.searched]
                    for gc, bills in searched_bills(s).items()}
        plan = {gc: bills for gc, bills in plan.items() if bills}
        if not plan or (stop is not None and stop.is_set()):
            break
        _search(config, sessions, now, fetch_similar, stop, plan, report)
    with sessions.begin() as s:
        _not_refiled(s, now(), report)
    fields = {"job": "successors", "searched": len(report.searched), "proposed": len(report.proposed),
              "accepted": len(report.accepted), "not_refiled": len(report.not_refiled), "errors": len(report.errors)}
    log.info("job=%(job)s searched=%(searched)d proposed=%(proposed)d accepted=%(accepted)d "
             "not_refiled=%(not_refiled)d errors=%(errors)d", fields, extra=fields)
    return report


def _search(config: Config, sessions: sessionmaker[Session], now, fetch_similar, stop, plan: dict[int, list[str]],
            report: SearchReport) -> None:
    for gc, canonicals in sorted(plan.items()):
        if stop is not None and stop.is_set():
            break
        if fetch_similar:
            _refresh_similar(sessions, fetch_similar, canonicals, now(), report)
        with sessions() as s:
            docket = docket_of(s, gc)
            similar = similar_lists(s)
            bills = {c: bill_filed(s, b, similar) for c, b in
                     ((b.canonical, b) for b in s.scalars(select(Bill).where(Bill.canonical.in_(canonicals))))}
            excluded = _excluded(s)
        ranked = {c: docket.rank(f, excluded.get(c, set()), similar) for c, f in bills.items()}
        if fetch_similar:
            tops = sorted({r.candidate for rs in ranked.values() for r in rs[:TOP_CANDIDATES_ASKED]})
            if _refresh_similar(sessions, fetch_similar, tops, now(), report):
                with sessions() as s:
                    similar = similar_lists(s)
                ranked = {c: docket.rank(f, excluded.get(c, set()), similar) for c, f in bills.items()}
        # the acceptances beyond doubt first, so no proposal offers a candidate another bill then takes
        doubtless = {c for c, rs in ranked.items() if rs and rank.beyond_doubt(rs[0].evidence)}
        for canonical in sorted(canonicals, key=lambda c: c not in doubtless):
            with sessions.begin() as s:
                _store(s, config, canonical, gc, ranked.get(canonical, []), now(), report)
            report.searched.append(canonical)


def _excluded(s: Session) -> dict[str, set[str]]:
    """bill -> the candidates not to offer it: those it rejected, and those accepted for another bill."""
    out: dict[str, set[str]] = {}
    accepted = list(s.execute(select(Successor.bill, Successor.candidate).where(Successor.state == "accepted")))
    for bill, candidate in s.execute(select(Successor.bill, Successor.candidate)
                                     .where(Successor.state == "rejected")):
        out.setdefault(bill, set()).add(candidate)
    for bill in set(s.scalars(select(Bill.canonical).where(Bill.tracked.is_(True)))):
        out.setdefault(bill, set()).update(c for b, c in accepted if b != bill)
    return out


def _refresh_similar(sessions: sessionmaker[Session], fetch_similar, canonicals: list[str], at: datetime,
                     report: SearchReport) -> bool:
    """Ask the API's Similar for the documents whose answer is missing or a week old; True if any was stored."""
    with sessions() as s:
        fresh = set(s.scalars(select(SimilarList.canonical).where(SimilarList.canonical.in_(canonicals),
                                                                  SimilarList.error.is_(None),
                                                                  SimilarList.fetched_at > at - SIMILAR_EVERY)))
    due = [c for c in canonicals if c not in fresh]
    stored = False
    for obs in fetch_similar(due) if due else ():
        if obs.get("type") != "similar":
            if obs.get("error"):
                report.errors.append({"source": "malegislature", "url": obs.get("url"), "error": obs["error"]})
            continue
        canonical = f"ma/{obs['session']}/{parse_bill_id(str(obs['id']), int(obs['session'])).number}"
        with sessions.begin() as s:
            row = s.get(SimilarList, canonical) or SimilarList(canonical=canonical)
            row.similar, row.error, row.fetched_at = obs.get("similar"), obs.get("error"), at
            s.merge(row)
        stored = True
        if obs.get("error"):
            report.errors.append({"source": "malegislature", "url": obs.get("url"),
                                  "error": f"{canonical}: similar bills: {obs['error']}"})
    return stored


def _store(s: Session, config: Config, canonical: str, gc: int, ranked: list[rank.Ranked], at: datetime,
           report: SearchReport) -> None:
    bill = s.scalar(select(Bill).where(Bill.canonical == canonical))
    # a candidate accepted for another bill (earlier in this very search too) is not offered to this one
    taken = set(s.scalars(select(Successor.candidate).where(Successor.state == "accepted",
                                                            Successor.bill != canonical)))
    ranked = [r for r in ranked if r.candidate not in taken]
    rows = {r.candidate: r for r in s.scalars(select(Successor).where(Successor.bill == canonical))}
    listed = set()
    for i, r in enumerate(ranked, 1):
        row = rows.get(r.candidate)
        if row is None:
            row = Successor(bill=canonical, candidate=r.candidate, state="candidate", found_at=at)
            s.add(row)
            rows[r.candidate] = row
        row.session, row.rank, row.score, row.evidence = gc, i, r.score, r.evidence
        listed.add(r.candidate)
    for candidate, row in list(rows.items()):
        if candidate not in listed and row.state == "candidate":  # no longer ranks: forgotten
            s.delete(row)
            del rows[candidate]
    s.flush()
    if not ranked or any(row.state == "accepted" for row in rows.values()):
        return
    best = rows[ranked[0].candidate]
    if rank.beyond_doubt(best.evidence):
        accept(s, config, bill, best, "auto", at)
        report.accepted.append((canonical, best.candidate))
    elif best.score >= rank.PROPOSED and best.state == "candidate":
        for row in rows.values():
            if row.state == "proposed":  # a better one came: the older proposal goes back to the list
                row.state = "candidate"
        best.state = "proposed"
        s.add(successor_event(s, bill, best, at))
        report.proposed.append((canonical, best.candidate))


def _not_refiled(s: Session, at: datetime, report: SearchReport) -> None:
    """Once the next General Court's filing deadline has passed with nothing proposed or accepted: said once."""
    synced = set(s.scalars(select(DocketSync.session).where(DocketSync.state == "ok")))
    taken_over = {child for _, child, _ in handovers(s)}
    decided = set(s.scalars(select(Successor.bill).where(Successor.state.in_(("proposed", "accepted")))))
    told = {bill_id for bill_id, payload in s.execute(select(Event.bill_id, Event.payload)
                                                      .where(Event.kind == "bill.successor"))
            if (payload or {}).get("state") == "not-refiled"}
    for bill in s.scalars(select(Bill).where(Bill.tracked.is_(True)).order_by(Bill.id)):
        gc = bill.session + 1
        if (gc not in synced or at < filing_deadline(gc) or bill.canonical in taken_over
                or bill.canonical in decided or bill.id in told):
            continue
        label = dotted(bill.number)
        s.add(Event(kind="bill.successor", at=at, bill_id=bill.id,
                    summary=f"{label} was not re-filed in the {ordinal(gc)} General Court (so far)",
                    payload={"bill": bill.canonical, "number": label, "candidate": None, "session": gc,
                             "state": "not-refiled", "score": None, "evidence": None, "decided_by": "auto"}))
        report.not_refiled.append(bill.canonical)
