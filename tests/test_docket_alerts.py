"""Staff hear of the documents their watches found, and follow one from the digest: the link opens a page
that asks (mail scanners open every link), and only its POST follows the bill with the chosen position."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from alerts.dispatch import dispatch
from alerts.subscribers import subscribe
from alerts.transport import MaildirTransport
from db.models import Bill
from spiders.billids import parse_bill_id
from tests.alerts_world import KEY, NOW, add_action, add_bill, add_hearing, application, config, settings_of
from tests.test_alerts import _mail
from tests.test_docket_store import DOCKET, detail
from tests.web_client import caller
from tracker.docket import SyncResult, run_watches, store_detail, store_list
from tracker.following import track
from tracker.web.app import create_app

WATCHES = """
watches:
  - name: face recognition
    terms: ["facial recognition"]
"""


def _discover(sessions, cfg):
    with sessions.begin() as s:
        store_list(s, 194, DOCKET, NOW, SyncResult())
        store_detail(s, detail("H2002", "HD1001", "An Act relative to public schools",
                               pinslip="For legislation to prohibit facial recognition in schools."), NOW)
    return run_watches(cfg, sessions, [194], NOW)


def test_the_staff_digest_lists_new_matches_and_its_link_follows_a_bill_only_on_post(sessions, tmp_path):
    cfg = config(WATCHES)
    assert len(_discover(sessions, cfg)) == 3
    report = dispatch(settings_of(cfg, KEY), sessions, MaildirTransport(tmp_path / "outbox"), now=NOW,
                      kinds=("staff",))
    assert dict(report.composed) == {"staff-daily": 1}
    [mail] = _mail(tmp_path)
    assert "3 new bills match your watches" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    section = text[text.index("== New bills that match your watches"):]
    assert "- H.2002: An Act relative to public schools (A. Teacher)" in section
    assert "  watch 'face recognition': \"facial recognition\" in the pinslip" in section
    link = re.search(r"http://127\.0\.0\.1:8000(/follow\?token=\S+)", section.split("- H.2002")[1]).group(1)
    html = mail.get_body(("html",)).get_content()
    assert "New bills that match your watches</h2>" in html and '"facial recognition" in the pinslip' in html

    web = caller(create_app(application(cfg, sessions, KEY)))
    page = web("GET", link)
    assert page.status_code == 200 and "Follow H.2002?" in page.text and 'name="position"' in page.text
    with sessions() as s:
        assert s.scalar(select(Bill).where(Bill.canonical == "ma/194/H2002")) is None  # opening it changed nothing
    token = re.search(r"token=(\S+)", link).group(1)
    done = web("POST", "/follow", data={"token": token, "position": "oppose"})
    assert done.status_code == 200 and "follows H.2002 (oppose)" in done.text
    with sessions() as s:
        bill = s.scalar(select(Bill).where(Bill.canonical == "ma/194/H2002"))
        assert (bill.tracked, bill.position, bill.tracked_reason) == (True, "oppose", "followed by staff")
    assert web("POST", "/follow", data={"token": token, "position": "maybe"}).status_code == 400
    assert web("POST", "/follow", data={"token": token + "x", "position": "watch"}).status_code == 400


def test_supporters_never_hear_of_a_bill_the_campaign_only_watches(sessions, tmp_path):
    cfg = config()
    with sessions.begin() as s:
        subscribe(s, settings_of(cfg), "jane@example.org", frequency="immediate", confirmed=True, now=NOW)
        watched = add_bill(s, "H2002", position="watch")
        supported = add_bill(s, "H135", position="support")
        add_action(s, watched, "Reported favorably", ["reported-favorably"], NOW.date())
        add_action(s, supported, "Reported favorably", ["reported-favorably"], NOW.date())
    dispatch(settings_of(cfg, KEY), sessions, MaildirTransport(tmp_path / "outbox"), now=NOW, kinds=("supporters",))
    [mail] = _mail(tmp_path)
    body = mail.get_body(("plain",)).get_content()
    assert "H.135" in body and "H.2002" not in body


def test_a_bill_tracked_to_oppose_asks_supporters_to_oppose_it(sessions, tmp_path):
    cfg = config()
    with sessions.begin() as s:
        store_list(s, 194, DOCKET, NOW, SyncResult())
    with sessions.begin() as s:
        subscribe(s, settings_of(cfg), "jane@example.org", frequency="immediate", confirmed=True, now=NOW)
        bill, _ = track(s, cfg, parse_bill_id("194/H2002"), "oppose", NOW)
        bill.status, bill.committee = "in-committee", "Education"
        s.flush()
        add_action(s, bill, "Hearing scheduled for 02/02/2027 from 10:00 AM-12:00 PM in A-1", ["hearing-scheduled"],
                   NOW.date())
        add_hearing(s, bill, NOW + timedelta(days=9))
    dispatch(settings_of(cfg, KEY), sessions, MaildirTransport(tmp_path / "outbox"), now=NOW, kinds=("supporters",))
    [mail] = _mail(tmp_path)
    body = " ".join(mail.get_body(("plain",)).get_content().split())
    assert "Testify against it at the hearing" in body and "you oppose H.2002" in body
    assert "you support H.2002" not in body and "report H.2002 favorably and without delay" not in body
