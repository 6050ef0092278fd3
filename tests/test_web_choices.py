"""What a supporter is offered and can change: the sign-up form lists the bills that can still move, by number
and title, a dead bill's successor in its place; the preferences page adds and removes bills, sets the
districts and the frequency, all at once or not at all."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from alerts.subscribers import subscribe
from alerts.tokens import make_token
from db.models import Legislator, Subscriber, Subscription, Successor
from spiders.billids import ordinal
from tests.alerts_world import KEY, NOW, add_bill, application, config, live_session, settings_of
from tests.web_client import caller
from tracker.web.app import create_app

LIVE = live_session()
H1946_TITLE = "An Act to implement the recommendations of the special commission on facial recognition technology"


@pytest.fixture
def web(sessions):
    """H.135 (192nd) re-filed as H.1728 (193rd), re-filed as H.1946 (sitting now); S.47 (192nd) never re-filed;
    a bill the campaign only watches; one that is already law; the directory's districts."""
    with sessions.begin() as s:
        add_bill(s, "H135")
        add_bill(s, "S47")
        add_bill(s, "H1728", session=193)
        add_bill(s, "H1946", session=LIVE, title=H1946_TITLE, position="support")
        add_bill(s, "S1053", session=LIVE, title="An Act regulating face surveillance", position="oppose")
        add_bill(s, "H2000", session=LIVE, title="An Act about school cameras", position="watch")
        add_bill(s, "H500", session=LIVE, title="An Act signed already", status="law")
        for bill, candidate in (("ma/192/H135", "ma/193/H1728"), ("ma/193/H1728", f"ma/{LIVE}/H1946")):
            s.add(Successor(bill=bill, candidate=candidate, session=int(candidate.split("/")[1]), rank=1, score=0.95,
                            evidence={"pinslip_reference": True}, state="accepted", decided_by="auto",
                            decided_at=NOW, found_at=NOW))
        for code, branch, district in (("DMR1", "House", "Twenty-Fourth Middlesex"),
                                       ("JBE0", "Senate", "Middlesex and Worcester")):
            s.add(Legislator(session=LIVE, member_code=code, name=code, branch=branch, district=district,
                             fetched_at=NOW))
    return caller(create_app(application(config(), sessions, KEY)))


def _offered(html: str) -> list[str]:
    """The bill checkboxes' labels, in the order the form lists them."""
    box = re.search(r'<fieldset id="bill-choices">(.*?)</fieldset>', html, re.S).group(1)
    return [" ".join(re.sub(r"<[^>]+>", " ", label).split())
            for label in re.findall(r"<label[^>]*>(.*?)</label>", box, re.S)]


def test_sign_up_offers_live_bills_by_number_and_title_and_a_dead_bills_successor(web):
    page = web("GET", "/signup")
    offered = _offered(page.text)
    assert offered[0].startswith("Every bill of the campaign")
    assert offered[1:] == [f"H.1946 {H1946_TITLE} ({ordinal(LIVE)} General Court)",
                           f"S.1053 An Act regulating face surveillance ({ordinal(LIVE)} General Court)"]
    # the 192nd's bills died with it; H.135 goes on as H.1946, which is offered once; watched and law bills: never
    for gone in ("ma/192/H135", "ma/192/S47", "ma/193/H1728", "H2000", "H500"):
        assert gone not in page.text


def test_sign_up_refuses_a_dead_bill_posted_anyway(web, sessions):
    page = web("GET", "/signup")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)
    r = web("POST", "/signup", data={"csrf": csrf, "email": "jane@example.org", "frequency": "daily",
                                     "bill": ["ma/192/S47"]},
            headers={"Cookie": f"tracker_csrf={page.cookies['tracker_csrf']}"})
    assert r.status_code == 400 and "S.47 can no longer move" in r.text
    with sessions() as s:
        assert s.scalar(select(Subscriber.id)) is None


@pytest.fixture
def jane(web, sessions):
    """Jane follows H.135 and S.47 of the 192nd (both dead now), daily, no districts."""
    with sessions.begin() as s:
        sub = subscribe(s, settings_of(config()), "jane@example.org", bills=["ma/192/H135", "ma/192/S47"],
                        confirmed=True, now=datetime.now(timezone.utc)).subscriber
        return sub.id


def _save(web, token, **fields):
    return web("POST", "/preferences", data={"token": token} | fields)


def _state(sessions, sid):
    with sessions() as s:
        sub = s.get(Subscriber, sid)
        topics = list(s.scalars(select(Subscription.topic).where(Subscription.subscriber_id == sid,
                                                                 Subscription.active.is_(True))
                                .order_by(Subscription.topic)))
        return sub.frequency, topics, sub.house_district, sub.senate_district


def test_preferences_add_and_remove_bills_and_set_the_districts_at_once(web, sessions, jane):
    token = make_token(KEY, "preferences", jane)
    page = web("GET", f"/preferences?token={token}")
    offered = _offered(page.text)
    assert any(o.startswith(f"H.1946 {H1946_TITLE}") for o in offered)  # the same list as the sign-up form
    assert any(o.startswith("H.135") and "can no longer move" in o for o in offered)  # hers, so she can drop it
    saved = _save(web, token, frequency="weekly", bill=["ma/192/S47", f"ma/{LIVE}/H1946"],
                  house_district="Twenty-Fourth Middlesex", senate_district="")
    assert saved.status_code == 200
    assert ("Saved: you will get weekly alerts about S.47 and H.1946. House district: Twenty-Fourth Middlesex; "
            "Senate district: not given.") in saved.text
    assert _state(sessions, jane) == ("weekly", ["bill:ma/192/S47", f"bill:ma/{LIVE}/H1946"],
                                      "Twenty-Fourth Middlesex", None)
    again = web("GET", f"/preferences?token={token}").text  # the page shows what is now saved
    assert re.search(rf'value="ma/{LIVE}/H1946" checked', again) and 'value="ma/192/H135"' not in again
    assert "<option selected>Twenty-Fourth Middlesex</option>" in again
    assert re.search(r'id="frequency-weekly" name="frequency" value="weekly" checked', again)


@pytest.mark.parametrize("fields, reason", [
    ({"bill": [f"ma/{LIVE}/H1946"], "house_district": "Atlantis"}, "is not a House district"),
    ({"bill": [f"ma/{LIVE}/H1946", "ma/193/H1728"]}, "H.1728 can no longer move"),
    ({"bill": [f"ma/{LIVE}/H2000"]}, "H.2000 is not one of the bills we send alerts about"),
    ({"bill": ["ma/999/H1"]}, "not a bill this campaign follows"),
    ({"bill": []}, "Choose at least one bill"),
    ({"bill": [f"ma/{LIVE}/H1946"], "frequency": "hourly"}, "Choose how often"),
])
def test_a_refused_choice_saves_nothing_and_says_why(web, sessions, jane, fields, reason):
    token = make_token(KEY, "preferences", jane)
    before = _state(sessions, jane)
    r = _save(web, token, **({"frequency": "weekly", "senate_district": "Middlesex and Worcester"} | fields))
    assert r.status_code == 400 and "Nothing was saved" in r.text and reason in r.text
    assert _state(sessions, jane) == before
    if "house_district" in fields:  # what she chose is shown back, to correct
        assert re.search(rf'value="ma/{LIVE}/H1946" checked', r.text)


def test_only_a_preferences_link_can_change_preferences(web, sessions, jane):
    before = _state(sessions, jane)
    for token in (make_token(KEY, "unsubscribe", jane), make_token(b"another key", "preferences", jane), ""):
        r = _save(web, token, frequency="weekly", bill=[f"ma/{LIVE}/H1946"])
        assert r.status_code == 400 and "This link does not work" in r.text
    assert _state(sessions, jane) == before
