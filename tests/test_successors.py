"""Successors across sessions against the replica's dockets: the 193rd's campaign bills are found re-filed in
the 194th (by their pinslips, accepted at once), a successor without such a note is proposed and decided by
staff, rejected candidates stay rejected, supporters are carried to the successor and told once, and a bill
nothing re-files gets one "not re-filed" message after the filing deadline."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from alerts.dispatch import dispatch
from alerts.subscribers import subscribe
from alerts.transport import MaildirTransport
from db.bills import find_bill
from db.models import Bill, Event, Successor
from db.successors import list_successors, successor_json
from tests.alerts_world import KEY, add_action, application, settings_of
from tests.test_alerts import _mail
from tests.web_client import caller
from tracker.cli import main
from tracker.config import parse_config
from tracker.crawl import sync_tracked
from tracker.docket import sync
from tracker.replica import ReplicaServer
from tracker.replica.docket import with_dockets
from tracker.successors.decide import CannotDecide, decide
from tracker.web.app import create_app

SIZE = 80
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def site():
    replica = with_dockets({193: SIZE, 194: SIZE})
    with ReplicaServer(replica) as server:
        yield replica, server


def _config(base_url: str, bills: str = "  - id: 193/H1728\n  - id: 193/S927\n", sessions: str = "[193, 194]"):
    return parse_config(f"""
campaign:
  name: Regulate face surveillance
  action_url: https://example.org/act
sources:
  malegislature:
    base_url: {base_url}
    session: 194
    sessions: {sessions}
    delay_s: 0
    concurrency: 8
    timeout_s: 10
bills:
{bills}
digests:
  staff:
    to: [staff@example.org]
""", "test-feeds.yaml")


def _events(sessions, kind="bill.successor"):
    with sessions() as s:
        return [(ev.summary, ev.payload) for ev in s.scalars(select(Event).where(Event.kind == kind)
                                                             .order_by(Event.id))]


def _rows(sessions, bill):
    with sessions() as s:
        return [successor_json(r) for r in list_successors(s, bill)]


def test_the_campaign_bills_of_the_193rd_are_found_re_filed_in_the_194th_by_their_pinslips(site, sessions):
    _, server = site
    result = sync(_config(server.base_url), sessions, now=lambda: NOW)
    assert result.errors == []
    assert sorted(result.successors.accepted) == [("ma/193/H1728", "ma/194/H1946"), ("ma/193/S927", "ma/194/S1053")]
    h1728 = _rows(sessions, "ma/193/H1728")
    best = h1728[0]
    assert (best["candidate"], best["state"], best["decided_by"], best["rank"]) == ("ma/194/H1946", "accepted",
                                                                                  "auto", 1)
    assert best["evidence"]["pinslip_reference"] is True and best["evidence"]["text"] >= 0.9
    assert best["evidence"]["shared_sponsors"] == ["Orlando Ramos"] and best["evidence"]["title"] == 1.0
    # below it: the Senate's twin (same text, other sponsors), then the schools bill and the old title's
    # weaker bill by other members; nothing generated outranks them
    below = [r["candidate"] for r in h1728[1:]]
    assert below[:3] == ["ma/194/S1053", "ma/194/H612", "ma/194/S1587"], below
    assert all(r["state"] == "candidate" and r["score"] < best["score"] and not r["evidence"]["pinslip_reference"]
               for r in h1728[1:])
    # both successors are followed, with the position of the bill they re-file
    with sessions() as s:
        for number in ("H1946", "S1053"):
            bill = find_bill(s, f"ma/194/{number}")
            assert bill.tracked and bill.position == "support" and bill.tracked_reason.startswith("re-filed from")
    summaries = [summary for summary, _ in _events(sessions)]
    assert summaries == ["H.1728 was re-filed as H.1946 in the 194th General Court (its pinslip names H.1728); "
                         "now following H.1946",
                         "S.927 was re-filed as S.1053 in the 194th General Court (its pinslip names S.927); "
                         "now following S.1053"]
    # a second sync decides nothing again
    again = sync(_config(server.base_url), sessions, now=lambda: NOW + timedelta(hours=1))
    assert (again.successors.accepted, again.successors.proposed) == ([], [])
    assert len(_events(sessions)) == 2


def _without_pinslip_note(replica, number="H1946", sponsor=("ZH999", "Marcus Ravenscroft")):
    """H.1946 as if it carried no "SIMILAR MATTER" note and another member had filed it: only its text and
    title point to H.1728, so it is proposed, not accepted."""
    doc = replica.bill(194, number)
    pinslip = re.sub(r"\s*\[SIMILAR MATTER[^\]]*\]", "", doc.pinslip)
    replica.update_bill(194, number, pinslip=pinslip, sponsor=sponsor, petitioners=[sponsor], joint_sponsor=None)


def test_a_likely_successor_is_proposed_and_staff_accept_or_reject_it_from_the_command_line(site, sessions,
                                                                                             tmp_path):
    replica, server = site
    _without_pinslip_note(replica)
    cfg = _config(server.base_url, "  - id: 193/H1728\n")
    result = sync(cfg, sessions, now=lambda: NOW)
    assert result.successors.proposed == [("ma/193/H1728", "ma/194/H1946")] and result.successors.accepted == []
    best = _rows(sessions, "ma/193/H1728")[0]
    assert best["state"] == "proposed" and best["evidence"]["shared_sponsors"] == []
    assert best["evidence"]["text"] >= 0.9 and best["evidence"]["pinslip_reference"] is False
    with sessions() as s:
        assert find_bill(s, "ma/194/H1946") is None  # proposed: not followed until staff say so

    db_url = str(sessions.kw["bind"].url.render_as_string(hide_password=False))
    cfg_path = tmp_path / "feeds.yaml"
    cfg_path.write_text(f"sources:\n  malegislature:\n    base_url: {server.base_url}\n    session: 194\n"
                        f"    sessions: [193, 194]\nbills:\n  - id: 193/H1728\n")
    run = CliRunner().invoke(main, ["--config", str(cfg_path), "--db", db_url, "successors", "--bill", "193/H1728",
                                    "--format", "json"])
    assert run.exit_code == 0, run.output
    listed = json.loads(run.output)
    assert listed[0]["candidate"] == "ma/194/H1946" and listed[0]["state"] == "proposed"
    assert set(listed[0]) >= {"bill", "candidate", "score", "state", "evidence"}

    run = CliRunner().invoke(main, ["--config", str(cfg_path), "--db", db_url, "successors", "--reject",
                                    "193/H1728", "194/H1946"])
    assert run.exit_code == 0 and "will not be proposed again" in run.output
    sync(cfg, sessions, now=lambda: NOW + timedelta(days=1))  # a rejected candidate is not proposed again
    rows = {r["candidate"]: r["state"] for r in _rows(sessions, "ma/193/H1728")}
    assert rows["ma/194/H1946"] == "rejected"

    run = CliRunner().invoke(main, ["--config", str(cfg_path), "--db", db_url, "successors", "--accept",
                                    "193/H1728", "194/H1946"])
    assert run.exit_code == 0, run.output
    with sessions() as s:
        bill = find_bill(s, "ma/194/H1946")
        assert bill.tracked and bill.position == "support"
        assert s.scalar(select(Successor.state).where(Successor.candidate == "ma/194/H1946")) == "accepted"
    decisions = [(p["candidate"], p["state"]) for _, p in _events(sessions)]
    assert decisions == [("ma/194/H1946", "proposed"), ("ma/194/H1946", "rejected"),
                         ("ma/194/S1053", "proposed"),  # the next best, once H.1946 was rejected
                         ("ma/194/H1946", "accepted")]
    rows = {r["candidate"]: r["state"] for r in _rows(sessions, "ma/193/H1728")}
    assert rows["ma/194/S1053"] == "candidate"  # one successor per bill: the other proposal is withdrawn
    # a candidate from another session is refused with the reason
    run = CliRunner().invoke(main, ["--config", str(cfg_path), "--db", db_url, "successors", "--accept",
                                    "193/H1728", "193/S927"])
    assert run.exit_code == 2 and "filed in the 194th" in run.output


def test_rejecting_an_automatic_acceptance_stops_following_the_successor(site, sessions):
    _, server = site
    cfg = _config(server.base_url)
    sync(cfg, sessions, now=lambda: NOW)
    with sessions.begin() as s:
        decide(s, cfg, "ma/193/S927", "ma/194/S1053", "reject", NOW)
    with sessions() as s:
        assert find_bill(s, "ma/194/S1053").tracked is False
        assert find_bill(s, "ma/194/H1946").tracked is True
        with pytest.raises(CannotDecide, match="not a followed bill"):
            decide(s, cfg, "ma/193/H9", "ma/194/H1946", "accept", NOW)
    sync(cfg, sessions, now=lambda: NOW + timedelta(days=1))
    # S.1053 was the only likely one: with it rejected (and H.1946 taken by H.1728), S.927 was not re-filed
    assert [p["state"] for _, p in _events(sessions) if p["bill"] == "ma/193/S927"] == ["accepted", "rejected",
                                                                                        "not-refiled"]


def test_supporters_are_carried_to_the_successor_and_told_once(site, sessions, tmp_path):
    _, server = site
    cfg = _config(server.base_url)
    sync(cfg, sessions, now=lambda: NOW - timedelta(days=1))  # the bills are known before anyone signs up
    with sessions() as s:
        s.execute(Successor.__table__.delete())
        s.execute(Event.__table__.delete().where(Event.kind == "bill.successor"))
        s.query(Bill).filter(Bill.canonical.in_(["ma/194/H1946", "ma/194/S1053"])).delete()
        s.commit()
    settings = settings_of(cfg, KEY)
    with sessions.begin() as s:
        subscribe(s, settings, "ana@example.org", bills=["193/H1728"], frequency="immediate", confirmed=True,
                  now=NOW - timedelta(hours=2))
        subscribe(s, settings, "bo@example.org", bills=["193/S927"], frequency="immediate", confirmed=True,
                  now=NOW - timedelta(hours=2))
    sync(cfg, sessions, now=lambda: NOW)
    box = MaildirTransport(tmp_path / "outbox")
    dispatch(settings, sessions, box, now=NOW, kinds=("supporters",))
    mails = {m["To"]: m for m in _mail(tmp_path)}
    text = mails["ana@example.org"].get_body(("plain",)).get_content()
    assert ("H.1728 was re-filed as H.1946 (An Act to implement the recommendations of the special commission on "
            "facial recognition technology) in the 194th General Court; you will now hear about H.1946.") in text
    assert "score" not in text.lower() and "pinslip" not in text.lower()  # plain words, no evidence
    assert "S.927" not in text  # Bo's bill, not Ana's
    # told once: the next dispatch has nothing; the successor's own news reaches the predecessor's supporters
    dispatch(settings, sessions, box, now=NOW + timedelta(minutes=5), kinds=("supporters",))
    assert len(_mail(tmp_path)) == 2
    with sessions.begin() as s:
        add_action(s, find_bill(s, "ma/194/H1946"), "Reporting date extended to Friday, March 19, 2027",
                   ["reporting-date-extended"], NOW.date(), at=NOW + timedelta(minutes=10))
    dispatch(settings, sessions, box, now=NOW + timedelta(minutes=15), kinds=("supporters",))
    later = [m for m in _mail(tmp_path) if "Reporting date extended" in m.get_body(("plain",)).get_content()]
    assert [m["To"] for m in later] == ["ana@example.org"]


def test_a_bill_nothing_re_files_gets_one_not_re_filed_message_after_the_filing_deadline(site, sessions, tmp_path):
    _, server = site
    cfg = _config(server.base_url, "  - id: 193/H1728\n  - id: 193/H4999\n")  # H.4999: not in any docket
    settings = settings_of(cfg, KEY)
    with sessions.begin() as s:
        sync_tracked(s, cfg, NOW - timedelta(days=1))  # the bills of feeds.yaml, before anyone signs up
        subscribe(s, settings, "cy@example.org", bills=["193/H4999"], frequency="immediate", confirmed=True,
                  now=NOW - timedelta(hours=2))
    sync(cfg, sessions, now=lambda: NOW)
    sync(cfg, sessions, now=lambda: NOW + timedelta(days=1))
    told = [p for _, p in _events(sessions) if p["state"] == "not-refiled"]
    assert [p["bill"] for p in told] == ["ma/193/H4999"]  # once, and not for H.1728, which was re-filed
    dispatch(settings, sessions, MaildirTransport(tmp_path / "outbox"), now=NOW + timedelta(days=1),
             kinds=("supporters",))
    [mail] = _mail(tmp_path)
    assert "H.4999 was not re-filed in the 194th General Court" in mail.get_body(("plain",)).get_content()


def test_no_not_re_filed_message_before_the_filing_deadline(site, sessions):
    _, server = site
    cfg = _config(server.base_url, "  - id: 193/H4999\n")
    result = sync(cfg, sessions, now=lambda: datetime(2025, 1, 10, 12, tzinfo=timezone.utc))
    assert result.successors.not_refiled == []
    result = sync(cfg, sessions, now=lambda: datetime(2025, 1, 18, 12, tzinfo=timezone.utc))
    assert result.successors.not_refiled == ["ma/193/H4999"]


def test_the_staff_digest_shows_the_decisions_and_its_link_decides_only_on_post(site, sessions, tmp_path):
    replica, server = site
    _without_pinslip_note(replica)
    cfg = _config(server.base_url)
    sync(cfg, sessions, now=lambda: NOW)
    settings = settings_of(cfg, KEY)
    dispatch(settings, sessions, MaildirTransport(tmp_path / "outbox"), now=NOW, kinds=("staff",))
    [mail] = _mail(tmp_path)
    assert "2 re-filing decisions" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    section = text[text.index("== Re-filed in the new session"):]
    assert "- H.1946 in the 194th General Court may be H.1728 re-filed" in section
    assert "- S.927 was re-filed as S.1053 in the 194th General Court (its pinslip names S.927)" in section
    assert "text 100% alike" in section and "its pinslip names the bill" in section
    link = re.search(r"accept or reject it: http://127\.0\.0\.1:8000(/successor\?token=\S+)", section).group(1)
    html = mail.get_body(("html",)).get_content()
    assert "Re-filed in the new session</h2>" in html

    web = caller(create_app(application(cfg, sessions, KEY)))
    page = web("GET", link)
    assert page.status_code == 200 and "Is H.1946 H.1728 re-filed?" in page.text
    with sessions() as s:
        assert find_bill(s, "ma/194/H1946") is None  # opening the link changed nothing
    token = re.search(r"token=(\S+)", link).group(1)
    done = web("POST", "/successor", data={"token": token, "verdict": "accept"})
    assert done.status_code == 200 and "H.1946 is followed as H.1728 re-filed" in done.text
    with sessions() as s:
        assert find_bill(s, "ma/194/H1946").tracked
        assert s.scalar(select(func.count()).select_from(Event).where(Event.kind == "bill.successor")) == 3
    forged = web("POST", "/successor", data={"token": token[:-3] + "AAA", "verdict": "reject"})
    assert forged.status_code in (400, 403) and "signature" in forged.text


def test_h135_is_followed_into_the_193rd_and_on_into_the_194th_and_s3084_was_not_re_filed(sessions):
    replica = with_dockets({192: 60, 193: SIZE, 194: SIZE})
    with ReplicaServer(replica) as server:
        cfg = _config(server.base_url, "  - id: 192/H135\n  - id: 192/S47\n  - id: 192/S3084\n", "[192, 193, 194]")
        result = sync(cfg, sessions, now=lambda: NOW)
    assert result.errors == []
    found = result.successors
    assert found.accepted == [("ma/192/H135", "ma/193/H1728"), ("ma/192/S47", "ma/193/S927"),
                              ("ma/193/H1728", "ma/194/H1946"), ("ma/193/S927", "ma/194/S1053")]
    assert found.not_refiled == ["ma/192/S3084"]
    h135 = _rows(sessions, "ma/192/H135")
    assert h135[0]["candidate"] == "ma/193/H1728" and h135[0]["evidence"] == {
        "pinslip_reference": True, "text": 1.0, "shared_sponsors": ["David M. Rogers"], "similar_api": True,
        "title": h135[0]["evidence"]["title"]}
    assert h135[0]["evidence"]["title"] < 0.5  # the title changed: the weakest evidence, rightly
    below = [r["candidate"] for r in h135[1:]]
    # the near-misses rank below it: the old title with other sponsors and text, the schools bill
    assert "ma/193/S1410" in below and "ma/193/H495" in below, below
    near = {r["candidate"]: r for r in h135[1:]}
    assert near["ma/193/S1410"]["evidence"]["title"] == 1.0 and near["ma/193/S1410"]["evidence"]["text"] < 0.5
    assert near["ma/193/H495"]["evidence"]["shared_sponsors"] == []
    assert all(r["state"] == "candidate" for r in h135[1:])
