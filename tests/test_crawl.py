"""The real spider, in its child process, against the replica on 127.0.0.1, into SQLite."""

from __future__ import annotations

import zlib

from sqlalchemy import func, select

from db.models import Bill, BillAction, Event, Hearing, Snapshot
from spiders.billids import parse_bill_id
from tracker.config import parse_config
from tracker.crawl import crawl
from db.bills import get_bill
from db.events import list_events

CONFIG = """
sources:
  malegislature:
    session: 192
    delay_s: 0
    concurrency: 4
    timeout_s: 5
bills:
  - id: H.135
  - id: S.47
"""

H135_LAST = "Accompanied a new draft, see H5091"
S47_LAST = "Accompanied a study order, see S3063"


def make_config(base_url: str, text: str = CONFIG, **overrides):
    return parse_config(text, "test").with_overrides(base_url=base_url, **overrides)


def counts(sessions):
    with sessions() as s:
        return (s.scalar(select(func.count(Event.id))), s.scalar(select(func.count(Snapshot.id))))


def bill(sessions, text):
    with sessions() as s:
        return get_bill(s, parse_bill_id(text, 192).canonical)


def test_first_crawl_records_the_bills_and_their_whole_history(sessions, replica_server):
    result = crawl(make_config(replica_server.base_url), sessions)
    assert result.errors == []

    h135 = bill(sessions, "H135")
    actions = [a["action"] for a in h135["actions"]]
    assert len(actions) == 12
    assert actions[0] == "Referred to the committee on Advanced Information Technology, the Internet and Cybersecurity"
    assert actions[-1] == H135_LAST
    assert [a["date"] for a in h135["actions"]][:2] == ["2021-03-29", "2021-03-29"]
    assert h135["title"] == "An Act to regulate face surveillance"
    assert h135["sponsor"] == "David M. Rogers"
    assert h135["status"] == "replaced"
    assert h135["hearings"] and h135["hearings"][0]["starts_at"].startswith("2021-11-23T10:00:00")
    assert h135["hearings"][0]["location"] == "Virtual Hearing"

    s47 = bill(sessions, "S47")
    assert s47["actions"][-1]["action"] == S47_LAST
    assert s47["status"] == "study-order"
    assert "study-order" in s47["actions"][-1]["kinds"]


def test_new_drafts_are_followed_and_tracked_with_their_own_history(sessions, replica_server):
    crawl(make_config(replica_server.base_url), sessions)
    h5091 = bill(sessions, "H5091")
    assert [a["action"] for a in h5091["actions"]][1] == "New draft of H135"
    assert len(h5091["actions"]) == 3
    s3063 = bill(sessions, "S3063")
    assert s3063["actions"]

    with sessions() as s:
        tracked = list_events(s, kinds=["bill.tracked"], bill="ma/192/H5091")
        assert len(tracked) == 1
        assert "new draft of H.135" in tracked[0]["payload"]["reason"]
        assert tracked[0]["payload"]["discovered_from"]["bill"] == "ma/192/H135"
        row = s.scalar(select(Bill).where(Bill.canonical == "ma/192/H5091"))
        assert row.tracked

    # from now on it is part of every sweep
    again = crawl(make_config(replica_server.base_url), sessions)
    assert again.checked == 4


def test_event_log_holds_the_history_and_every_event_has_its_raw_response(sessions, replica_server):
    crawl(make_config(replica_server.base_url), sessions)
    with sessions() as s:
        events = list_events(s, bill="ma/192/H135")
        assert [e["kind"] for e in events].count("bill.tracked") == 1
        assert events[0]["kind"] == "bill.tracked"
        assert [e["kind"] for e in events].count("bill.action") == 12
        assert [e["kind"] for e in events].count("hearing.scheduled") == 1
        action_events = [e for e in events if e["kind"] == "bill.action"]
        assert action_events[-1]["payload"] == {"date": "2022-07-26", "branch": "House", "action": H135_LAST,
                                                "kinds": action_events[-1]["payload"]["kinds"]}
        assert action_events[-1]["occurred_at"] == "2022-07-26"
        for ev in s.scalars(select(Event)):
            assert ev.snapshot_id is not None, ev.summary
            snap = s.get(Snapshot, ev.snapshot_id)
            body = zlib.decompress(snap.body)
            assert len(body) == snap.size
            if ev.kind == "bill.action":
                assert ev.payload["action"].split(",")[0].encode() in body or b"Action" in body


def test_a_second_crawl_of_unchanged_pages_writes_nothing(sessions, replica_server, replica):
    config = make_config(replica_server.base_url)
    crawl(config, sessions)
    before = counts(sessions)
    n_requests = replica.request_count()
    again = crawl(config, sessions)
    assert again.events == [] and again.changed == 0 and again.errors == []
    assert counts(sessions) == before
    # detail is not due again within a day: one request per bill (the history)
    assert replica.request_count() - n_requests == again.checked


def test_one_new_action_gives_exactly_one_bill_action_event(sessions, replica_server, replica):
    config = make_config(replica_server.base_url)
    crawl(config, sessions)
    replica.add_action(192, "S47", "2022-08-01T11:00:00.1234567", "Senate", "Senate concurred")
    result = crawl(config, sessions)
    kinds = [e.kind for e in result.events]
    assert kinds == ["bill.action"]
    assert result.events[0].payload["action"] == "Senate concurred"
    assert result.events[0].payload["date"] == "2022-08-01"


def test_an_identical_row_on_the_same_day_is_a_new_action(sessions, replica_server, replica):
    config = make_config(replica_server.base_url)
    crawl(config, sessions)
    # S.47 already has "Senate concurred" on 7/25/2022 (Senate); the site lists a second one
    replica.add_action(192, "S47", "2022-07-25T15:30:00.0000000", "Senate", "Senate concurred")
    result = crawl(config, sessions)
    assert [e.kind for e in result.events] == ["bill.action"]
    with sessions() as s:
        rows = list(s.scalars(select(BillAction).join(Bill).where(
            Bill.canonical == "ma/192/S47", BillAction.action == "Senate concurred")))
        assert sorted(r.occurrence for r in rows if r.date.isoformat() == "2022-07-25") == [0, 1]


def test_hearing_action_becomes_a_hearing_and_a_status_change_an_event(sessions, replica_server, replica):
    config = make_config(replica_server.base_url)
    crawl(config, sessions)
    replica.add_action(192, "H5091", "2022-08-15T10:12:00.0000000", "Joint",
                       "Hearing scheduled for 09/13/2022 from 01:00 PM-03:00 PM in Virtual Hearing")
    result = crawl(config, sessions)
    kinds = sorted(e.kind for e in result.events)
    assert kinds == ["bill.action", "hearing.scheduled"]
    with sessions() as s:
        h = s.scalars(select(Hearing).join(Bill).where(Bill.canonical == "ma/192/H5091")).one()
        assert h.location == "Virtual Hearing"
        assert h.starts_at.isoformat() == "2022-09-13T17:00:00+00:00"  # 1 PM in Boston (EDT)
        assert h.ends_at.isoformat() == "2022-09-13T19:00:00+00:00"

    replica.add_action(192, "H5091", "2022-08-20T10:00:00.0000000", "House",
                       "Accompanied a study order, see H5300")
    result = crawl(config, sessions)
    status = [e for e in result.events if e.kind == "bill.status"]
    assert len(status) == 1 and status[0].payload["status"] == "study-order"


def test_api_500_falls_back_to_html_with_the_same_result(engine, sessions, replica_server, replica, tmp_path):
    from db.engine import make_engine, session_factory
    from db.migrate import upgrade

    crawl(make_config(replica_server.base_url), sessions)

    other = make_engine(f"sqlite:///{tmp_path / 'fallback.sqlite'}")
    upgrade(other)
    other_sessions = session_factory(other)
    replica.api_status = 500
    result = crawl(make_config(replica_server.base_url), other_sessions)
    assert result.errors == []
    assert {f["bill"] for f in result.fallbacks} >= {"ma/192/H135", "ma/192/S47"}
    for number in ("H135", "S47", "H5091", "S3063"):
        a, b = bill(sessions, number), bill(other_sessions, number)
        assert [(x["date"], x["branch"], x["action"]) for x in a["actions"]] == \
               [(x["date"], x["branch"], x["action"]) for x in b["actions"]]
        assert (a["title"], a["status"], a["committee"], a["sponsor"]) == \
               (b["title"], b["status"], b["committee"], b["sponsor"])

    # and a later API crawl of the HTML-fed database sees nothing new
    replica.api_status = None
    again = crawl(make_config(replica_server.base_url), other_sessions)
    assert again.events == [] and again.errors == []


def test_html_mode_gives_the_same_history(sessions, replica_server):
    crawl(make_config(replica_server.base_url, mode="html"), sessions)
    h135 = bill(sessions, "H135")
    assert len(h135["actions"]) == 12 and h135["actions"][-1]["action"] == H135_LAST
    again = crawl(make_config(replica_server.base_url, mode="html"), sessions)
    assert again.events == []


def test_a_missing_bill_fails_alone(sessions, replica_server):
    text = CONFIG + "  - id: H.9999\n"
    result = crawl(make_config(replica_server.base_url, text), sessions)
    assert len(result.errors) == 1
    err = result.errors[0]
    assert err["bill"] == "ma/192/H9999"
    assert "/Bills/192/H9999" in err["url"]
    assert "not found" in err["error"]
    assert bill(sessions, "H135")["actions"]  # the others were processed
    with sessions() as s:
        row = s.scalar(select(Bill).where(Bill.canonical == "ma/192/H9999"))
        assert row.error_count == 1 and row.failing_since is not None and row.next_check_at is not None


def test_a_layout_change_is_an_error_not_a_deletion(sessions, replica_server, replica):
    config = make_config(replica_server.base_url, mode="html")
    crawl(config, sessions)
    replica.broken_layout.add((192, "H135"))
    result = crawl(config, sessions)
    assert [e["bill"] for e in result.errors] == ["ma/192/H135"]
    assert result.events == []
    assert len(bill(sessions, "H135")["actions"]) == 12


def test_malformed_json_falls_back_to_html(sessions, replica_server, replica):
    replica.malformed_json.add((192, "S47"))
    result = crawl(make_config(replica_server.base_url), sessions)
    assert result.errors == []
    assert any(f["bill"] == "ma/192/S47" for f in result.fallbacks)
    assert bill(sessions, "S47")["actions"][-1]["action"] == S47_LAST


def test_unreachable_site_is_an_error_per_bill(sessions):
    result = crawl(make_config("http://127.0.0.1:9"), sessions)
    assert {e["bill"] for e in result.errors} == {"ma/192/H135", "ma/192/S47"}
    assert all("127.0.0.1:9" in e["url"] for e in result.errors)


def test_a_slow_site_times_out_per_request_with_bill_and_url(sessions, replica_server, replica):
    replica.delay_s = 2.5
    result = crawl(make_config(replica_server.base_url, timeout_s=0.5), sessions)
    assert {e["bill"] for e in result.errors} == {"ma/192/H135", "ma/192/S47"}
    for err in result.errors:
        assert "TimeoutError" in err["error"] or "timeout" in err["error"].lower()
        assert "/Bills/192/" in err["url"]  # the API timed out, then the HTML fallback did too
    with sessions() as s:
        assert s.scalar(select(func.count(Event.id))) == 0


def test_a_hung_crawl_is_killed_and_reported(sessions, replica_server, replica):
    replica.delay_s = 30
    result = crawl(make_config(replica_server.base_url, timeout_s=60, crawl_timeout_s=3), sessions)
    assert len(result.errors) == 2
    assert all("timed out after 3s" in e["error"] for e in result.errors)
    with sessions() as s:
        rows = list(s.scalars(select(Bill)))
        assert all(b.error_count == 1 and b.content_hash is None for b in rows)


def test_detail_changes_become_title_and_sponsor_events_when_the_history_moves(sessions, replica_server, replica):
    config = make_config(replica_server.base_url)
    crawl(config, sessions)
    b = replica.bill(192, "S47")
    replica.update_bill(192, "S47", petitioners=list(b.petitioners) + [(None, "Pat Placeholder")],
                        title="An Act to regulate face surveillance and other remote biometric surveillance")
    unchanged = crawl(config, sessions)  # detail not due, history unchanged: one request, no events
    assert unchanged.events == []

    replica.add_action(192, "S47", "2022-08-02T09:00:00.0000000", "Senate", "Senate concurred")
    result = crawl(config, sessions)
    kinds = sorted(e.kind for e in result.events)
    assert kinds == ["bill.action", "bill.sponsors", "bill.title"]
    sponsors = next(e for e in result.events if e.kind == "bill.sponsors")
    assert sponsors.payload["petitioners"] == sponsors.payload["previous_petitioners"] + 1
    title = next(e for e in result.events if e.kind == "bill.title")
    assert title.payload["previous_title"] == "An Act to regulate face surveillance"


def test_detail_is_refetched_when_due_even_if_the_history_did_not_move(sessions, replica_server, replica):
    import time

    config = make_config(replica_server.base_url, detail_every="1s")
    crawl(config, sessions)
    replica.update_bill(192, "H135", title="An Act to regulate face surveillance (retitled)")
    time.sleep(1.1)
    result = crawl(config, sessions)
    assert [e.kind for e in result.events if e.bill_id is not None] == ["bill.title"]


def test_a_stricken_row_is_kept_but_marked_removed(sessions, replica_server, replica):
    config = make_config(replica_server.base_url)
    crawl(config, sessions)
    replica.strike_action(192, "S47", 5)
    result = crawl(config, sessions)
    assert result.events == [] and result.errors == []
    with sessions() as s:
        rows = list(s.scalars(select(BillAction).join(Bill).where(Bill.canonical == "ma/192/S47")))
        assert sum(r.removed_at is not None for r in rows) == 1
    assert len(bill(sessions, "S47")["actions"]) == 12
