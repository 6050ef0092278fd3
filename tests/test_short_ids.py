"""Short ids (issue 16, item 4): ``H.135`` with ``session: 194`` in feeds.yaml and a database of the 192nd names
the 192nd's followed H.135, the same in the CLI, the pages, the API and the feeds.

The rule (``db.shortids.resolve_short_id``): the configured session's bill when it is followed; else the one
followed bill of another session with that number (said on stderr; the web redirects to it); else the configured
session's document of the docket; several followed bills of that number are listed. Every test runs on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from db.models import Article, ArticleBill, BillAction, Event, Subscriber, Subscription
from db.shortids import resolve_short_id
from tests.alerts_world import KEY, NOW, add_action, add_bill, add_document, add_hearing, application
from tests.web_client import caller
from tracker.cli import main
from tracker.config import parse_config
from tracker.web.app import create_app

FEEDS = """
campaign:
  name: Regulate face surveillance
sources:
  malegislature:
    session: 194
bills:
  - id: 192/H135
  - id: 192/S47
"""
NOTE = "H.135: the 192nd General Court's (the only followed H.135)"


def _history(s, bill, *actions: str) -> None:
    for n, text in enumerate(actions):
        s.add(BillAction(bill_id=bill.id, position=n, occurrence=0, date=date(2022, 2, 1 + n), branch="Joint",
                         action=text, kinds=["other"], first_seen_at=NOW))
        add_action(s, bill, text, ["other"], date(2022, 2, 1 + n))


@pytest.fixture
def world(sessions):
    """The 192nd's H.135 and S.47 followed (as feeds.yaml lists them); H.200 followed in the 192nd and the
    configured 194th; H.300 followed in the 192nd and the 193rd; H.400 followed by staff in the 193rd only;
    H.1946 a document of the 194th's docket, not followed."""
    with sessions.begin() as s:
        h135 = add_bill(s, "H135", 192, position="support", docket="HD3228")
        _history(s, h135, "Referred to the committee on the Judiciary", "Hearing scheduled for 03/01/2022")
        add_hearing(s, h135, datetime(2026, 12, 10, 15, 0, tzinfo=timezone.utc))
        s47 = add_bill(s, "S47", 192, position="support")
        _history(s, s47, "Referred to the committee on Public Safety")
        article = Article(url="https://example.com/h135", link="https://example.com/h135", publisher="WWLP",
                          title="Judiciary weighs facial recognition limits", summary_text="", published_at=NOW,
                          first_seen_at=NOW)
        s.add(article)
        s.flush()
        s.add(ArticleBill(article_id=article.id, bill_id=h135.id, reason='number "H.135" in title', term="H.135",
                          field="title", kind="number", created_at=NOW))
        s.add(Event(kind="article.matched", at=NOW, occurred_at=NOW, bill_id=h135.id, article_id=article.id,
                    summary="H.135 in the news", payload={"bill": h135.canonical, "url": article.url}))
        for session in (192, 194):
            add_bill(s, "H200", session, position="support", title=f"H.200 of the {session}th")
        for session in (192, 193):
            add_bill(s, "H300", session, position="support")
        add_bill(s, "H400", 193, position="watch", tracked_reason="followed by staff")
        add_document(s, 194, "H1946", "HD3870", title="An Act on facial recognition, 194th")
    return sessions


def _config():
    return parse_config(FEEDS, "test-feeds.yaml")


# -- the rule --------------------------------------------------------------------------------------------------


def test_the_rule_in_order(world):
    with world() as s:
        found = {n: resolve_short_id(s, n, 194) for n in ("H135", "H200", "H300", "H400", "H1946", "H9999",
                                                          "HD3228")}
    assert (found["H200"].canonical, found["H200"].how) == ("ma/194/H200", "configured")
    assert (found["H135"].canonical, found["H135"].how) == ("ma/192/H135", "other-session")
    assert (found["HD3228"].canonical, found["HD3228"].how) == ("ma/192/H135", "other-session")  # its docket number
    assert (found["H1946"].canonical, found["H1946"].how) == ("ma/194/H1946", "document")
    assert (found["H300"].canonical, found["H300"].how) == (None, "ambiguous")
    assert found["H300"].candidates == ("ma/192/H300", "ma/193/H300")
    assert (found["H9999"].canonical, found["H9999"].how) == ("ma/194/H9999", "default")


def test_an_unfollowed_bill_is_no_candidate(world):
    with world.begin() as s:
        from sqlalchemy import update

        from db.models import Bill
        s.execute(update(Bill).where(Bill.canonical == "ma/193/H300").values(tracked=False))
    with world() as s:
        found = resolve_short_id(s, "H300", 194)
    assert (found.canonical, found.how) == ("ma/192/H300", "other-session")


# -- the CLI ---------------------------------------------------------------------------------------------------


@pytest.fixture
def cli(world, tmp_path):
    (tmp_path / "feeds.yaml").write_text(FEEDS)
    db_url = world.kw["bind"].url.render_as_string(hide_password=False)

    def run(*args):
        return CliRunner().invoke(main, ["--config", str(tmp_path / "feeds.yaml"), "--db", db_url, *args])

    return run


def test_cli_bill_of_another_session_says_which_on_stderr(cli):
    result = cli("bill", "H.135", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] == "ma/192/H135"
    assert result.stderr.strip().splitlines() == [f"tracker: {NOTE}"]
    table = cli("bill", "H135")
    assert table.exit_code == 0 and table.stdout.startswith("ma/192/H135 ")
    # the configured session's followed bill comes first, quietly; a full id is taken as it is
    result = cli("bill", "H.200", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["id"] == "ma/194/H200" and result.stderr == ""
    full = cli("bill", "192/H200", "--format", "json")
    assert full.exit_code == 0 and json.loads(full.stdout)["id"] == "ma/192/H200" and full.stderr == ""
    assert json.loads(cli("bill", "ma/192/H200", "--format", "json").stdout)["id"] == "ma/192/H200"


def test_cli_several_followed_bills_are_listed_exit_2_and_an_unknown_one_is_not_in_the_database(cli):
    for args in (("bill", "H.300"), ("events", "--bill", "H.300"), ("articles", "--bill", "H300"),
                 ("untrack", "H.300"), ("successors", "--bill", "H.300")):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "ma/192/H300, ma/193/H300" in lines[0], (args, lines)
    # no bill and no document of that number anywhere: the configured session's id, as before
    result = cli("bill", "H.9999")
    assert result.exit_code == 2 and "ma/194/H9999 is not in the database" in result.stderr


def test_cli_events_articles_and_search_of_a_short_id(cli):
    events = cli("events", "--bill", "H.135", "--format", "json")
    assert events.exit_code == 0 and NOTE in events.stderr
    rows = json.loads(events.stdout)
    assert {e["bill"] for e in rows} == {"ma/192/H135"}
    assert {"bill.action", "hearing.scheduled", "article.matched"} <= {e["kind"] for e in rows}
    articles = cli("articles", "--bill", "H.135", "--format", "json")
    assert articles.exit_code == 0
    assert [a["title"] for a in json.loads(articles.stdout)] == ["Judiciary weighs facial recognition limits"]
    found = cli("search", "judiciary", "--bill", "H.135", "--format", "json")
    assert found.exit_code == 0, found.output
    assert {r["type"] for r in json.loads(found.stdout)} == {"article", "action"}


def test_cli_track_and_untrack_a_short_id(cli, world):
    listed = cli("track", "H.135")  # the 192nd's, which feeds.yaml lists: not a new bill of the 194th
    assert listed.exit_code == 0 and listed.stdout.startswith("ma/192/H135: followed, position support (already)")
    document = cli("track", "H.1946", "--position", "watch")  # no followed H.1946: the 194th's document
    assert document.exit_code == 0 and document.stdout.startswith("ma/194/H1946: followed") and document.stderr == ""
    staff = cli("untrack", "H.400")
    assert staff.exit_code == 0, staff.output
    assert staff.stdout.startswith("ma/193/H400: no longer followed")
    assert "H.400: the 193rd General Court's (the only followed H.400)" in staff.stderr
    with world() as s:
        from sqlalchemy import select

        from db.models import Bill
        assert s.scalar(select(Bill).where(Bill.canonical == "ma/194/H135")) is None


def test_cli_successors_of_a_short_id(cli):
    result = cli("successors", "--bill", "H.135", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout) == [] and NOTE in result.stderr


# -- the pages and the feeds -----------------------------------------------------------------------------------


@pytest.fixture
def web(world):
    return caller(create_app(application(_config(), world, KEY, transport_factory=lambda: None)))


def test_web_bill_page_of_another_session_redirects_to_it(web):
    moved = web("GET", "/bills/H.135")
    assert moved.status_code == 307 and moved.headers["location"] == "/bills/192/H135"
    page = web("GET", "/bills/192/H135")
    assert page.status_code == 200 and "Referred to the committee on the Judiciary" in page.text
    here = web("GET", "/bills/H200")
    assert here.status_code == 308 and here.headers["location"] == "/bills/194/H200"


def test_web_a_document_of_the_configured_session_leads_to_its_page(web):
    moved = web("GET", "/bills/H.1946")
    assert moved.status_code == 307 and moved.headers["location"] == "/documents/194/H1946"
    assert web("GET", moved.headers["location"]).status_code == 200


def test_web_several_followed_bills_get_a_page_listing_them(web):
    page = web("GET", "/bills/H.300")
    assert page.status_code == 300 and "location" not in page.headers
    assert 'href="/bills/192/H300"' in page.text and 'href="/bills/193/H300"' in page.text
    assert "192nd General Court" in page.text
    assert web("GET", "/search", params={"q": "judiciary", "bill": "H.300"}).status_code == 300


def test_web_search_and_events_of_a_short_id(web):
    found = web("GET", "/search", params={"q": "judiciary", "bill": "H.135"})
    assert found.status_code == 200
    assert "Judiciary weighs facial recognition limits" in found.text and "Referred to the committee" in found.text
    events = web("GET", "/events", params={"bill": "H.135"})
    assert events.status_code == 200 and "H.135 in the news" in events.text


def test_feeds_of_a_short_id(web):
    atom = web("GET", "/events.atom", params={"bill": "H.135"})
    assert atom.status_code == 200 and "H.135 (192nd General Court)" in atom.text
    assert web("GET", "/bills/H.135/feed.atom").status_code == 200
    ics = web("GET", "/hearings.ics", params={"bill": "H135"})
    assert ics.status_code == 200 and "Hearing: H.135" in ics.text
    several = web("GET", "/hearings.ics", params={"bill": "H.300"})
    assert several.status_code == 300 and "ma/192/H300, ma/193/H300" in several.text


# -- the API ---------------------------------------------------------------------------------------------------


def test_api_bill_by_short_id_says_which(web):
    r = web("GET", "/api/bills/H.135")
    assert r.status_code == 200 and r.json()["id"] == "ma/192/H135"
    assert r.headers["content-location"] == "/api/bills/192/H135" and r.headers["x-bill-resolved"] == "other-session"
    here = web("GET", "/api/bills/H200")
    assert here.json()["id"] == "ma/194/H200" and here.headers["x-bill-resolved"] == "configured"
    doc = web("GET", "/api/bills/H.1946")
    assert doc.status_code == 307 and doc.headers["location"] == "/api/documents/194/H1946"
    assert web("GET", "/api/bills/H.9999").status_code == 404


def test_api_several_followed_bills_answer_300_with_the_candidates(web):
    for url in ("/api/bills/H.300", "/api/events?bill=H.300", "/api/articles?bill=H300",
                "/api/search?q=judiciary&bill=H.300"):
        r = web("GET", url)
        assert r.status_code == 300, url
        body = r.json()
        assert body["status"] == 300 and "ma/192/H300, ma/193/H300" in body["error"]
        assert body["candidates"] == [{"id": "ma/192/H300", "url": "/api/bills/192/H300"},
                                      {"id": "ma/193/H300", "url": "/api/bills/193/H300"}]


def test_api_lists_of_a_short_id(web):
    events = web("GET", "/api/events", params={"bill": "H.135"}).json()
    assert events and {e["bill"] for e in events} == {"ma/192/H135"}
    articles = web("GET", "/api/articles", params={"bill": "H.135"}).json()
    assert [a["title"] for a in articles] == ["Judiciary weighs facial recognition limits"]
    hits = web("GET", "/api/search", params={"q": "judiciary", "bill": "H.135"}).json()
    assert {h["type"] for h in hits} == {"article", "action"}



def test_cli_subscribe_to_a_short_id_follows_the_bill_the_other_commands_name(cli, world):
    result = cli("subscribe", "jo@example.org", "--bill", "H.135", "--confirmed")
    assert result.exit_code == 0, result.output
    assert result.stderr.strip().splitlines() == [f"tracker: {NOTE}"]
    with world() as s:
        topics = list(s.scalars(select(Subscription.topic).join(Subscriber).where(Subscriber.email == "jo@example.org")))
    assert topics == ["bill:ma/192/H135"]
    ambiguous = cli("subscribe", "kim@example.org", "--bill", "H.300")
    assert ambiguous.exit_code == 2 and "ma/192/H300, ma/193/H300" in ambiguous.stderr
