"""``tracker sync`` against the replica's whole dockets: the first sync stores every document, an unchanged
re-sync asks one request per session and records nothing, dockets that gain their number keep their events,
watches discover the matching documents once, faults are reported with the rest of the sync whole."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select

from db.bills import find_bill
from db.documents import find_document
from db.models import DocketSync, Document, DocumentAction, Event
from tracker.cli import main
from tracker.config import parse_config
from tracker.docket import sync
from tracker.replica import ReplicaServer
from tracker.replica.docket import with_dockets

SIZE = 120  # documents per generated session: small, the tests run on both backends


@pytest.fixture
def docket_site():
    replica = with_dockets({193: SIZE, 194: SIZE})
    with ReplicaServer(replica) as server:
        yield replica, server


def _config(base_url: str, extra: str = ""):
    return parse_config(f"""
sources:
  malegislature:
    base_url: {base_url}
    session: 194
    sessions: [193, 194, 195]
    delay_s: 0
    concurrency: 8
    timeout_s: 10
bills:
  - id: 194/H1946
watches:
  - name: face recognition
    terms: ["facial recognition", "face surveillance"]
{extra}""")


def _count(sessions, model, *where) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_the_first_sync_stores_every_document_and_an_unchanged_one_asks_one_request_per_session(docket_site,
                                                                                              sessions):
    replica, server = docket_site
    replica.set_session_unknown(195)
    config = _config(server.base_url)
    listed = {gc: len(replica.documents_of(gc)) for gc in (193, 194)}
    first = sync(config, sessions)
    assert first.errors == [] and first.not_yet == [195]
    assert first.documents == sum(listed.values()) == first.new == first.details
    for gc in (193, 194):
        assert _count(sessions, Document, Document.session == gc) == listed[gc]
    with sessions() as s:
        assert s.get(DocketSync, 195).state == "not-yet"
        h1946 = find_document(s, "ma/194/H1946")
        assert "facial recognition" in h1946.title and h1946.sponsor and h1946.text
    before = {gc: dict(replica.document_requests(gc)) for gc in (193, 194)}
    events = _count(sessions, Event)
    again = sync(config, sessions)
    assert (again.new, again.changed, again.details, again.discovered) == (0, 0, 0, [])
    for gc in (193, 194):  # one request per session: its list, and no detail
        after = replica.document_requests(gc)
        assert {k: after[k] - before[gc].get(k, 0) for k in after if after[k] != before[gc].get(k, 0)} == \
            {"list": 1}, after
    assert _count(sessions, Event) == events  # nothing recorded


def test_watches_discover_exactly_the_matching_documents_once(docket_site, sessions):
    replica, server = docket_site
    config = _config(server.base_url)
    found = sync(config, sessions).discovered
    where = {e.payload["document"]: e.payload["where"] for e in found}
    assert set(where) >= {"ma/194/H612", "ma/194/S1587", "ma/194/H3120", "ma/194/H1946", "ma/193/H1728"}
    assert where["ma/194/H3120"] == "pinslip"  # it says "facial recognition" in its pinslip only
    assert where["ma/194/H612"] == "title"
    with sessions() as s:  # exactly the documents the full-text index finds
        matching = {d.canonical for d in s.scalars(select(Document))
                    if any(t in " ".join(f"{d.title} {d.pinslip} {d.text}".lower().split())
                           for t in ("facial recognition", "face surveillance"))}
    assert set(where) == matching
    assert sync(config, sessions).discovered == []


def test_a_docket_that_gains_its_number_keeps_its_events_and_both_spellings_resolve(docket_site, sessions, db_url,
                                                                                    tmp_path):
    replica, server = docket_site
    config = _config(server.base_url)
    (tmp_path / "feeds.yaml").write_text(f"sources: {{malegislature: {{base_url: {server.base_url}, session: 194}}}}\n")
    replica.add_document(194, docket="SD2900", title="An Act relative to drones", sponsor=("CSC0", "Cynthia Creem"))
    sync(config, sessions)

    def cli(*args):
        return CliRunner().invoke(main, ["--db", db_url, "--config", str(tmp_path / "feeds.yaml"), *args])

    out = cli("track", "194/SD2900", "--position", "oppose")
    assert out.exit_code == 0, out.output
    with sessions.begin() as s:
        doc_id = s.scalar(select(Document.id).where(Document.docket == "SD2900"))
        s.add(Event(kind="bill.tracked", at=datetime.now(timezone.utc), bill_id=find_bill(s, "ma/194/SD2900").id,
                    summary="Now following SD.2900", payload={}))
    replica.assign_bill_number(194, "SD2900", "S2901")
    result = sync(config, sessions)
    assert result.changed == 1 and result.new == 0
    for spelling in ("194/SD2900", "194/S2901", "ma/194/S2901"):
        shown = cli("bill", spelling, "--format", "json")
        assert shown.exit_code == 0, shown.output
        data = json.loads(shown.output)
        assert (data["id"], data["docket"], data["position"]) == ("ma/194/S2901", "SD2900", "oppose")
    with sessions() as s:
        assert find_document(s, "ma/194/SD2900").id == doc_id
        assert s.scalar(select(Event.bill_id).where(Event.kind == "bill.tracked")) == find_bill(s, "ma/194/S2901").id


def test_faults_are_reported_and_the_rest_of_the_sync_completes(docket_site, sessions):
    replica, server = docket_site
    config = _config(server.base_url)
    replica.fail_detail(194, "H612", 500)
    replica.fail_detail(194, "H3120", 400)
    first = sync(config, sessions)
    failed = sorted(e["error"].split(":")[0] for e in first.errors)
    assert failed == ["ma/194/H3120", "ma/194/H612"]
    assert first.details == first.documents - 2
    replica.heal_detail(194, "H612")
    replica.heal_detail(194, "H3120")
    replica.remove_document(194, "S1587")
    second = sync(config, sessions)  # the two missing details are fetched now, and only they
    assert second.errors == [] and second.details == 2
    with sessions() as s:
        assert find_document(s, "ma/194/H612").text and find_document(s, "ma/194/S1587").removed_at is not None


# -- the history sweep (sources.malegislature.histories: all) ------------------------------------------------------

DAY = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)


def _sweep_config(base_url: str):
    config = _config(base_url)
    return config.model_copy(update={"sources": config.sources.model_copy(update={
        "malegislature": config.sources.malegislature.model_copy(update={"histories": "all"})})})


def _stored_history(sessions, canonical: str) -> list[tuple]:
    with sessions() as s:
        doc = find_document(s, canonical)
        return [(a.date.isoformat() if a.date else None, a.branch, a.action) for a in s.scalars(
            select(DocumentAction).where(DocumentAction.document_id == doc.id).order_by(DocumentAction.position))]


def _replica_history(replica, gc: int, number: str) -> list[tuple]:
    return [(h["Date"][:10] if h["Date"] else None, h["Branch"], h["Action"])
            for h in replica.bill(gc, number).visible_history()]


def test_the_sweep_stores_every_history_once_a_week_and_replaces_one_that_changed(docket_site, sessions, db_url,
                                                                                 tmp_path):
    replica, server = docket_site
    replica.set_session_unknown(195)
    (tmp_path / "feeds.yaml").write_text(f"sources: {{malegislature: {{base_url: {server.base_url}, session: 194}}}}\n")
    config = _sweep_config(server.base_url)
    assert config.sources.malegislature.histories == "all"
    sync(config, sessions, now=lambda: DAY - timedelta(days=1))  # the docket, to follow a bill of it
    # followed, so left to the crawl: H.1946 (feeds.yaml) and H.612 (tracked below)
    out = CliRunner().invoke(main, ["--db", db_url, "--config", str(tmp_path / "feeds.yaml"), "track", "194/H612"])
    assert out.exit_code == 0, out.output
    with sessions.begin() as s:  # as if never swept: the first sync's sweep is the one under test
        s.execute(delete(DocumentAction))
        for doc in s.scalars(select(Document)):
            doc.history_checked_at, doc.history_hash = None, None
    before = {gc: replica.document_requests(gc)["history"] for gc in (193, 194)}
    first = sync(config, sessions, now=lambda: DAY)
    documents = _count(sessions, Document)
    assert first.errors == [] and first.histories == documents - 2 == first.to_json()["histories"]
    assert sum(replica.document_requests(gc)["history"] - before[gc] for gc in (193, 194)) == documents - 2
    other = next(d.number for d in replica.documents_of(193) if d.number and d.history)  # another session's
    for gc, number in ((194, "S1587"), (193, other)):
        assert _stored_history(sessions, f"ma/{gc}/{number}") == _replica_history(replica, gc, number)
    assert len(_stored_history(sessions, "ma/194/S1587")) >= 2
    with sessions() as s:  # the followed bill is left to the crawl
        assert find_document(s, "ma/194/H612").history_checked_at is None

    asked = {gc: replica.document_requests(gc)["history"] for gc in (193, 194)}
    again = sync(config, sessions, now=lambda: DAY + timedelta(days=6))
    assert again.histories == 0 and again.errors == []
    assert {gc: replica.document_requests(gc)["history"] for gc in (193, 194)} == asked

    with sessions() as s:
        kept = set(s.scalars(select(DocumentAction.id).where(
            DocumentAction.document_id == find_document(s, f"ma/193/{other}").id)))
    replica.add_action(194, "S1587", "2027-01-12T10:00:00", "House", "Reporting date extended to June 30")
    week = sync(config, sessions, now=lambda: DAY + timedelta(days=7))
    assert week.histories == documents - 2 and week.errors == []
    assert _stored_history(sessions, "ma/194/S1587")[-1] == ("2027-01-12", "House",
                                                             "Reporting date extended to June 30")
    assert _stored_history(sessions, "ma/194/S1587") == _replica_history(replica, 194, "S1587")
    with sessions() as s:  # an unchanged history keeps its rows
        assert set(s.scalars(select(DocumentAction.id).where(
            DocumentAction.document_id == find_document(s, f"ma/193/{other}").id))) == kept


def test_a_failed_history_is_reported_and_asked_again_at_the_next_sync(docket_site, sessions):
    replica, server = docket_site
    replica.set_session_unknown(195)
    config = _sweep_config(server.base_url)
    replica.fail_detail(194, "H3120", 500)
    first = sync(config, sessions, now=lambda: DAY)
    errors = [e["error"] for e in first.errors]  # its detail, and its history
    assert len(errors) == 2 and all(e.startswith("ma/194/H3120: ") for e in errors)
    assert any(e.startswith("ma/194/H3120: history: not found (HTTP 500") for e in errors)
    assert first.histories == _count(sessions, Document) - 2  # H.3120 failed; H.1946 (followed) is the crawl's
    with sessions() as s:
        doc = find_document(s, "ma/194/H3120")
        assert doc.history_checked_at is None and "Oh My Cod" in doc.history_error
    replica.heal_detail(194, "H3120")
    before = replica.document_requests(194)["history"]
    second = sync(config, sessions, now=lambda: DAY + timedelta(hours=1))
    assert second.errors == [] and second.histories == 1 and second.details == 1
    assert replica.document_requests(194)["history"] == before + 1
    assert _stored_history(sessions, "ma/194/H3120") == _replica_history(replica, 194, "H3120")


def test_by_default_no_history_is_asked(docket_site, sessions):
    replica, server = docket_site
    config = _config(server.base_url)
    assert config.sources.malegislature.histories == "tracked"
    result = sync(config, sessions)
    assert result.histories == 0 and result.documents > 0
    assert replica.document_requests()["history"] == 0
    assert _count(sessions, DocumentAction) == 0
