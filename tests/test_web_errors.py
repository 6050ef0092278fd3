"""A page and the API answer a bad address alike: an id that is not a bill id is a 400 that says what one looks
like, a well-formed id of a bill or document we do not have a 404, an unknown event kind a 400 naming the kinds."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from db.events import EVENT_KINDS
from tests.alerts_world import KEY, add_bill, add_document, application, config
from tests.web_client import caller
from tracker.web.app import create_app

SHAPE = "expected a chamber letter and digits such as H135"  # what a bill number looks like
SESSION = "the session must be a General Court number such as 192"


@pytest.fixture
def web(sessions):
    with sessions.begin() as s:
        add_bill(s, "H135")
        add_document(s, 192, "H135", "HD3228", seen=datetime(2021, 2, 16, tzinfo=timezone.utc), title="An Act")
    return caller(create_app(application(config(), sessions, KEY)))


# (what, the page's path, the API's path or None, status, words the answer holds)
CASES = [
    ("bill: not a number", "/bills/192/zzz", "/api/bills/192/zzz", 400, SHAPE),
    ("bill: short id, not a number", "/bills/zzz", "/api/bills/zzz", 400, SHAPE),
    ("bill: not a session", "/bills/abc/H135", "/api/bills/abc/H135", 400, SESSION),
    ("bill: a session too old", "/bills/1/H135", "/api/bills/1/H135", 400, SESSION),
    ("bill: unknown", "/bills/192/H999", "/api/bills/192/H999", 404, "H.999 of the 192nd General Court is not one"),
    ("actions: not a number", None, "/api/bills/192/zzz/actions", 400, SHAPE),
    ("actions: not a session", None, "/api/bills/abc/H135/actions", 400, SESSION),
    ("actions: unknown", None, "/api/bills/192/H999/actions", 404, "H.999 of the 192nd General Court is not one"),
    ("document: not a number", "/documents/192/zzz", "/api/documents/192/zzz", 400, SHAPE),
    ("document: not a session", "/documents/abc/H135", "/api/documents/abc/H135", 400, SESSION),
    ("document: unknown", "/documents/192/H999", "/api/documents/192/H999", 404,
     "no document of the 192nd General Court"),
    ("bill feed: not a number", "/bills/192/zzz/feed.atom", None, 400, SHAPE),
    ("bill feed: unknown", "/bills/192/H999/feed.atom", None, 404, "ma/192/H999 is not followed here"),
    ("events feed: not a number", "/events.atom?bill=zzz", None, 400, SHAPE),
    ("hearings: not a number", "/bills/zzz/hearings.ics", None, 400, SHAPE),
    ("hearings: unknown", "/bills/192/H999/hearings.ics", None, 404, "ma/192/H999 is not followed here"),
    ("events: unknown kind", "/events?kind=nope", "/api/events?kind=nope", 400, "'nope' is not a kind of event"),
    ("events: bill not a number", "/events?bill=zzz", "/api/events?bill=zzz", 400, SHAPE),
]


@pytest.mark.parametrize("what, page, api, status, words", CASES, ids=[c[0] for c in CASES])
def test_pages_and_the_api_refuse_alike(web, what, page, api, status, words):
    for path in filter(None, (page, api)):
        r = web("GET", path)
        assert r.status_code == status, (path, r.status_code, r.text[:300])
        text = r.json()["error"] if path.startswith("/api/") else r.text.replace("&#39;", "'")
        assert words in text, (path, text[:400])


def test_an_unknown_event_kind_names_every_kind(web):
    page = web("GET", "/events?kind=bill.actoin").text
    api = web("GET", "/api/events?kind=bill.actoin").json()
    for kind in EVENT_KINDS:
        assert kind in page and kind in api["error"]
    assert "That request is not right" in page  # a page a person reads, not a list that is merely empty


def test_a_known_kind_still_filters(web):
    assert web("GET", "/api/events?kind=bill.tracked").status_code == 200
    assert web("GET", "/events?kind=hearing.scheduled").status_code == 200


def test_a_well_formed_id_we_have_is_found_on_both(web):
    for path in ("/bills/192/H135", "/api/bills/192/H135", "/documents/192/H135", "/api/documents/192/H135",
                 "/api/bills/192/H135/actions", "/bills/192/H135/feed.atom"):
        assert web("GET", path).status_code == 200, path
