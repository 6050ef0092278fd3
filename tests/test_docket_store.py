"""The docket as stored: lists and details, dockets that gain their bill number, watches over the full-text
index, positions and what they make supporters asked. (The sync against the replica is in test_docket_sync.)"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select

from alerts.asks import Occasion, Supporter, asks
from alerts.context import BillView, Person
from db.bills import find_bill
from db.documents import find_document, list_documents
from db.models import Bill, Document, DocumentAction, Event, WatchMatch
from spiders.billids import parse_bill_id
from tracker.config import parse_config
from tracker.docket import SyncResult, run_watches, store_detail, store_history, store_list
from tracker.following import CannotFollow, track, untrack

NOW = datetime(2027, 1, 20, 15, 0, tzinfo=timezone.utc)

CONFIG = """
sources:
  malegislature:
    session: 194
bills:
  - id: 194/H1946
watches:
  - name: face recognition
    terms: ["facial recognition", "face surveillance"]
  - name: Creem's bills
    sponsors: [Creem]
"""


def row(number, docket, title, sponsor="Orlando Ramos", session=194, **extra) -> dict:
    r = {"session": session, "number": number, "docket": docket, "title": title, "sponsor": sponsor,
         "sponsor_code": None, "sponsor_type": 1, "details_url": None, "docket_book_only": False} | extra
    r["row_hash"] = hashlib.sha256(json.dumps(r, sort_keys=True).encode()).hexdigest()
    return r


def detail(number, docket, title, pinslip="", text="", session=194) -> dict:
    return {"type": "document", "session": session, "id": number or docket, "url": "http://replica/x",
            "detail": {"session": session, "number": number, "docket": docket, "title": title, "sponsor": None,
                       "sponsor_code": None, "joint_sponsors": [], "cosponsors": [], "pinslip": pinslip,
                       "text": text, "legislation_type": "Bill"}}


DOCKET = [
    row("H1946", "HD3228", "An Act to implement the recommendations of the special commission on facial "
                           "recognition technology"),
    row("H2001", "HD1000", "An Act relative to fishing licenses", sponsor="Someone Else"),
    row(None, "SD503", "An Act to implement the recommendations of the special commission on facial recognition "
                       "technology", sponsor="Cynthia Stone Creem"),
    row("H2002", "HD1001", "An Act relative to public schools", sponsor="A. Teacher"),
]


def _store(sessions, rows, now=NOW) -> SyncResult:
    result = SyncResult()
    with sessions.begin() as s:
        store_list(s, 194, rows, now, result)
    return result


def test_a_first_list_stores_every_row_and_an_identical_one_changes_nothing(sessions):
    assert (_store(sessions, DOCKET).new, _store(sessions, DOCKET).new) == (4, 0)
    again = _store(sessions, DOCKET)
    assert (again.new, again.changed) == (0, 0)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 4
        assert find_document(s, "ma/194/SD503").number is None


def test_a_docket_that_gains_its_number_is_the_same_document_and_a_followed_one_keeps_its_events(sessions):
    cfg = parse_config(CONFIG)
    _store(sessions, DOCKET)
    with sessions.begin() as s:
        bill, _ = track(s, cfg, parse_bill_id("194/SD503"), "support", NOW)
        s.flush()
        s.add(Event(kind="bill.tracked", at=NOW, bill_id=bill.id, summary="Now following SD.503", payload={}))
    numbered = [r for r in DOCKET if r["docket"] != "SD503"] + [
        row("S1053", "SD503", DOCKET[2]["title"], sponsor="Cynthia Stone Creem")]
    result = _store(sessions, numbered, NOW + timedelta(days=1))
    assert (result.new, result.changed) == (0, 1)
    with sessions() as s:
        doc = find_document(s, "ma/194/SD503")  # the docket number is an alias
        assert doc.canonical == "ma/194/S1053" and find_document(s, "ma/194/S1053").id == doc.id
        bill = find_bill(s, "ma/194/SD503")
        assert bill.canonical == "ma/194/S1053" and bill.docket == "SD503" and bill.tracked
        assert s.scalar(select(Event.bill_id).where(Event.kind == "bill.tracked")) == bill.id


def test_a_document_gone_from_the_list_is_kept_and_marked(sessions):
    _store(sessions, DOCKET)
    _store(sessions, DOCKET[:3], NOW + timedelta(days=1))
    with sessions() as s:
        gone = find_document(s, "ma/194/H2002")
        assert gone.removed_at is not None
        assert [d["id"] for d in list_documents(s, session=194)].count("ma/194/H2002") == 0
    _store(sessions, DOCKET, NOW + timedelta(days=2))
    with sessions() as s:
        assert find_document(s, "ma/194/H2002").removed_at is None


def test_a_row_listed_twice_is_reported_and_the_first_kept(sessions):
    result = _store(sessions, DOCKET + [row("H2001", "HD1000", "An Act listed twice")])
    assert len(result.errors) == 1 and "listed twice" in result.errors[0]["error"]
    with sessions() as s:
        assert find_document(s, "ma/194/H2001").title == "An Act relative to fishing licenses"


def test_details_keep_the_text_as_first_seen(sessions):
    _store(sessions, DOCKET)
    with sessions.begin() as s:
        assert store_detail(s, detail("H2002", "HD1001", "An Act relative to public schools", text="SECTION 1. v1"),
                            NOW)
        assert store_detail(s, detail("H2002", "HD1001", "An Act relative to public schools", text="SECTION 1. v2"),
                            NOW)
        assert not store_detail(s, {"type": "document", "session": 194, "id": "H2001", "error": "HTTP 500: Oh My Cod!"},
                                NOW)
    with sessions() as s:
        assert find_document(s, "ma/194/H2002").text == "SECTION 1. v1"
        assert find_document(s, "ma/194/H2001").detail_error == "HTTP 500: Oh My Cod!"


def test_watches_discover_each_matching_document_once_including_by_its_pinslip(sessions):
    cfg = parse_config(CONFIG)
    _store(sessions, DOCKET)
    with sessions.begin() as s:
        store_detail(s, detail("H2002", "HD1001", "An Act relative to public schools",
                               pinslip="For legislation to prohibit facial recognition in schools. Education."), NOW)
        store_detail(s, detail("H2001", "HD1000", "An Act relative to fishing licenses",
                               text="SECTION 1. Fishing is regulated."), NOW)
    with sessions.begin() as s:  # a followed document is said to be followed
        track(s, cfg, parse_bill_id("194/H2002"), "watch", NOW)
    first = run_watches(cfg, sessions, [194], NOW)
    assert {e.payload["document"]: e.payload["followed"] for e in first if e.payload["watch"] == "face recognition"} \
        == {"ma/194/H1946": False, "ma/194/H2002": True, "ma/194/SD503": False}
    found = sorted((e.payload["watch"], e.payload["document"], e.payload["where"]) for e in first)
    assert found == [("Creem's bills", "ma/194/SD503", None),
                     ("face recognition", "ma/194/H1946", "title"),
                     ("face recognition", "ma/194/H2002", "pinslip"),
                     ("face recognition", "ma/194/SD503", "title")]
    assert all(e.kind == "bill.discovered" and e.bill_id is None for e in first)
    assert run_watches(cfg, sessions, [194], NOW + timedelta(days=1)) == []  # never repeated
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(WatchMatch)) == 4
        assert s.scalar(select(func.count()).select_from(Event).where(Event.kind == "bill.discovered")) == 4


def test_a_docket_search_uses_the_full_text_index_and_requires_every_word(sessions):
    _store(sessions, DOCKET)
    with sessions() as s:
        assert [d["id"] for d in list_documents(s, search='"facial recognition" commission')] == \
            ["ma/194/H1946", "ma/194/SD503"]
        assert [d["id"] for d in list_documents(s, search="facial fishing")] == []
        assert [d["id"] for d in list_documents(s, sponsor="creem")] == ["ma/194/SD503"]


def test_positions_follow_feeds_yaml_and_track_untrack_refuse_what_it_lists(sessions):
    cfg = parse_config(CONFIG.replace("  - id: 194/H1946", "  - id: 194/H1946\n    position: support"))
    _store(sessions, DOCKET)
    with sessions.begin() as s:
        bill, changed = track(s, cfg, parse_bill_id("194/H2002"), "oppose", NOW)
        assert changed and bill.position == "oppose" and bill.title == "An Act relative to public schools"
        assert track(s, cfg, parse_bill_id("194/H2002"), "oppose", NOW)[1] is False
        for attempt in (lambda: track(s, cfg, parse_bill_id("194/H1946"), "oppose", NOW),
                        lambda: untrack(s, cfg, parse_bill_id("194/H1946")),
                        lambda: untrack(s, cfg, parse_bill_id("194/H9999"))):
            try:
                attempt()
                raise AssertionError("should have been refused")
            except CannotFollow as exc:
                assert "feeds.yaml" in str(exc) or "not followed" in str(exc)
        untrack(s, cfg, parse_bill_id("194/H2002"))
    with sessions() as s:
        assert s.scalar(select(Bill.tracked).where(Bill.canonical == "ma/194/H2002")) is False


def _view(position: str, status: str = "in-committee", hearing: bool = True) -> BillView:
    chair = Person(name="A. Chair", role="House chair")
    return BillView(id=1, canonical="ma/194/H2002", number="H.2002", session=194, title="An Act", status=status,
                    status_words=status, committee="Joint Committee on Education", url=None,
                    sponsor=Person(name="A. Teacher", role="sponsor"), petitioner_codes=frozenset(),
                    chairs=(chair,), hearing={"when": "Tue Feb 2, 2027, 10:00 AM", "location": "A-1",
                                              "starts_at": NOW + timedelta(days=10)} if hearing else None,
                    position=position)


class _Own:
    def legislators(self, session, house, senate):
        return (Person(name="My Rep", role="your representative", member_code="X1"),)


def test_supporters_are_asked_to_oppose_what_the_campaign_opposes_and_nothing_for_a_watched_bill():
    good, her, own = Occasion(frozenset({"bill.action"}), frozenset({"engrossed"})), Supporter("1st Essex"), _Own()
    support = asks(_view("support"), "support", good, her, own)
    oppose = asks(_view("oppose"), "oppose", good, her, own)
    assert "say in it that you support H.2002" in support[0].text
    assert oppose[0].title == "Testify against it at the hearing" and "you oppose H.2002" in oppose[0].text
    assert any("report H.2002 unfavorably" in a.text for a in oppose)
    assert not any(a.title == "Thank the sponsor" for a in oppose)  # never thank the sponsor of a bill we oppose
    assert [a.title for a in oppose][-1] == "Write to your legislators" and "oppose H.2002" in oppose[-1].text
    assert asks(_view("oppose", status="enacted", hearing=False), "oppose", Occasion(), her, own)[0].title == \
        "Ask the Governor to veto"
    assert asks(_view("watch"), "watch", good, her, own) == []


def test_a_swept_history_is_replaced_whole_only_when_it_changed_and_goes_with_its_document(sessions):
    _store(sessions, [row("H1946", "HD2304", "Facial recognition")])
    first = [{"date": "2025-02-27", "branch": "House", "action": "Referred to the committee on the Judiciary"}]

    def stored():
        with sessions() as s:
            return [(a.id, a.position, a.date and a.date.isoformat(), a.branch, a.action) for a in s.scalars(
                select(DocumentAction).order_by(DocumentAction.position))]

    def store(actions=None, error=None, at=NOW):
        with sessions.begin() as s:
            return store_history(s, {"session": 194, "id": "HD2304", "actions": actions, "error": error}, at)

    assert store(first)
    kept = stored()
    assert [r[1:] for r in kept] == [(0, "2025-02-27", "House", "Referred to the committee on the Judiciary")]
    assert store(first, at=NOW + timedelta(days=7)) and stored() == kept  # unchanged: the same rows
    assert not store(error="HTTP 500", at=NOW + timedelta(days=14))  # a failure keeps the rows, and stays due
    with sessions() as s:
        doc = find_document(s, "ma/194/H1946")
        assert (doc.history_checked_at, doc.history_error) == (NOW + timedelta(days=7), "HTTP 500")
    longer = first + [{"date": None, "branch": "Joint", "action": "Hearing scheduled"}]
    assert store(longer, at=NOW + timedelta(days=15))
    assert [r[1:] for r in stored()] == [(0, "2025-02-27", "House", "Referred to the committee on the Judiciary"),
                                         (1, None, "Joint", "Hearing scheduled")]
    with sessions() as s:
        assert find_document(s, "ma/194/H1946").history_error is None
    with sessions.begin() as s:
        s.execute(delete(Document))
    assert stored() == []  # ON DELETE CASCADE
