"""The docket on the web: the docket search (``/docket``, ``/api/documents``), a page per document
(``/documents/{session}/{id}``, ``/api/documents/{session}/{id}``), documents among the search results, and
the position of a followed bill on its page and in the API. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from db.documents import find_document
from db.models import BillAction, DocumentAction
from tests.alerts_world import KEY, NOW, add_bill, add_document, application, config
from tests.web_client import caller
from tracker.web.app import create_app

MANY = 240  # filler documents of the 194th: every other one by Ramos, every third on facial recognition
H1946_TITLE = "An Act to implement the recommendations of the special commission on facial recognition technology"
H1946_TEXT = ("SECTION 1. Chapter 6 of the General Laws is hereby amended by adding the following section:-\n"
              "    Section 220. (a) As used in this section the following words shall <b>have</b> the following meanings\n"
              "\n"
              "SECTION 2. A government agency shall not use a face recognition system " + "x" * 300 + "\n"
              "SECTION 3. This act shall take effect upon its passage.")
H1946_PINSLIP = ("By Representatives Ramos of Springfield and Rogers of Cambridge, a petition (accompanied by bill, "
                 "House, No. 1946) relative to facial recognition. The Judiciary. [SIMILAR MATTER FILED IN PREVIOUS "
                 "SESSION SEE HOUSE, NO. 1728 OF 2023-2024.]")


def seen(i: int) -> datetime:
    return datetime(2025, 1, 20, 12, 0, tzinfo=timezone.utc) + timedelta(hours=i)


@pytest.fixture
def world(sessions):
    with sessions.begin() as s:
        for i in range(MANY):
            add_document(s, 194, f"H{3000 + i}", f"HD{5000 + i}", seen=seen(i),
                         title=f"An Act relative to matter {i}" + (" and facial recognition" if i % 3 == 0 else ""),
                         sponsor="Orlando Ramos" if i % 2 == 0 else "Jack Patrick Lewis",
                         sponsor_code="OLR1" if i % 2 == 0 else "JPL1", text=f"SECTION 1. Matter {i}.")
        h1946 = add_document(s, 194, "H1946", "HD3870", seen=seen(MANY + 1), title=H1946_TITLE,
                             sponsor="Orlando Ramos", sponsor_code="OLR1",
                             joint_sponsors=[{"name": "David M. Rogers", "member_code": "DMR1"}],
                             cosponsors=[{"name": "Lindsay N. Sabadosa", "member_code": "LNS1"},
                                         {"name": "Mike Connolly", "member_code": "MMC1"}],
                             pinslip=H1946_PINSLIP, text=H1946_TEXT, legislation_type="Bill")
        add_document(s, 194, None, "SD503", seen=seen(MANY + 2), title="An Act relative to biometric surveillance "
                     "in schools", sponsor="Jason M. Lewis", sponsor_code="JML1",
                     pinslip="By Mr. Lewis, a petition relative to face recognition in public schools. Education.",
                     text="SECTION 1. No school shall use a facial recognition system.", docket_book_only=True)
        add_document(s, 194, "S1053", "SD1234", seen=seen(MANY + 3), title="An Act to regulate face surveillance",
                     sponsor="Cynthia Stone Creem", sponsor_code="CSC0", text="SECTION 1. Face surveillance.")
        add_document(s, 194, "H4000", "HD9000", seen=seen(MANY + 4), title="An Act withdrawn on facial recognition",
                     sponsor="Orlando Ramos", removed_at=NOW - timedelta(days=1))
        add_document(s, 193, "H1728", "HD2304", seen=datetime(2023, 1, 20, tzinfo=timezone.utc), title=H1946_TITLE,
                     sponsor="Orlando Ramos", sponsor_code="OLR1", text="SECTION 1. Facial recognition, 193rd.")
        bill = add_bill(s, "H1946", session=194, title=H1946_TITLE, sponsor="Orlando Ramos", docket="HD3870",
                        position="support")
        for n, (day, text) in enumerate(((date(2025, 2, 27), "Referred to the committee on the Judiciary"),
                                         (date(2025, 9, 9), "Hearing scheduled for 09/16/2025 from 01:00 PM-05:00 PM "
                                                            "in A-2"))):
            s.add(BillAction(bill_id=bill.id, position=n, occurrence=0, date=day, branch="Joint", action=text,
                             kinds=["other"], first_seen_at=NOW))
        add_bill(s, "S1053", session=194, title="An Act to regulate face surveillance", position="oppose",
                 docket="SD1234")
        assert h1946.canonical == "ma/194/H1946"
    return sessions


@pytest.fixture
def web(world):
    return caller(create_app(application(config(), world, KEY, transport_factory=lambda: None)))


def _numbers(html: str) -> list[str]:
    return re.findall(r'<a href="/documents/(\d+/[A-Za-z0-9]+)">', html)


# -- the docket search ------------------------------------------------------------------------------------------


def test_the_docket_page_filters_in_sql_before_it_pages(web):
    pages = [web("GET", "/docket", params={"sponsor": "ramos", "session": "194", "page": n}) for n in (1, 2, 3)]
    assert [r.status_code for r in pages] == [200, 200, 200]
    found = [_numbers(r.text) for r in pages]
    # 120 filler documents by Ramos and H.1946 (the withdrawn H.4000 is no longer listed): 50, 50, 21
    assert [len(f) for f in found] == [50, 50, 21]
    assert len({n for f in found for n in f}) == 121
    assert ">Next<" in pages[0].text and ">Next<" in pages[1].text and ">Next<" not in pages[2].text
    assert found[0][0] == "194/H1946" and found[0][1:3] == ["194/H3000", "194/H3002"]  # by number, as numbers

    words = web("GET", "/docket", params={"q": '"facial recognition" ramos'})
    # the words are all required, in the title, the pinslip or the text: H.1946 (Ramos in its pinslip only) and
    # the filler documents both by Ramos (in no searched field) do not all match: only H.1946 has both words
    assert _numbers(words.text) == ["194/H1946"]
    both = web("GET", "/docket", params={"q": '"facial recognition"', "sponsor": "OLR1"})
    assert len(_numbers(both.text)) == 40 + 1 + 1  # i % 6 == 0, H.1946, and the 193rd's H.1728
    assert _numbers(both.text)[-1] == "193/H1728"  # newest session first


def test_the_docket_page_has_a_label_for_every_field_and_is_in_the_navigation(web):
    page = web("GET", "/docket", params={"q": "face", "session": "194"})
    html = page.text
    assert '<a href="/docket">Docket</a>' in html and '<a href="/docket">Docket</a>' in web("GET", "/").text
    form = re.search(r'<form class="filters" method="get" action="/docket".*?</form>', html, re.S).group(0)
    ids = re.findall(r'<(?:input|select)[^>]* id="([^"]+)"', form)
    assert sorted(ids) == ["q", "session", "sponsor"]
    for field in ids:
        assert f'<label for="{field}">' in form
    assert '<option value="194" selected>194th (2025–2026)</option>' in form
    assert '<option value="193" >193rd (2023–2024)</option>' in form
    assert 'value="face"' in form


def test_the_docket_page_shows_each_document_with_its_position(web):
    html = web("GET", "/docket", params={"session": "194", "q": "face"}).text
    rows = re.findall(r"<tr><td data-label=\"Number\" class=\"number\">(.*?)</tr>", html, re.S)
    by_number = {re.search(r'href="/documents/([^"]+)"', r).group(1): r for r in rows}
    assert list(by_number) == ["194/H1946", "194/S1053", "194/SD503"]  # "face" in a text, a title, a pinslip
    assert "no bill number yet" in by_number["194/SD503"] and ">S.1053<" in by_number["194/S1053"]
    assert "docket SD.1234" in by_number["194/S1053"] and "Cynthia Stone Creem" in by_number["194/S1053"]
    assert '<span class="position position-oppose">oppose</span>' in by_number["194/S1053"]
    assert '<span class="meta">no</span>' in by_number["194/SD503"]


@pytest.mark.parametrize("params, message", [({"q": "!!!"}, "no words to search for"),
                                             ({"session": "19x"}, "is not a General Court"),
                                             ({"page": "two"}, "page")])
def test_a_bad_docket_search_is_a_400_that_says_why(web, params, message):
    r = web("GET", "/docket", params=params)
    assert r.status_code == 400 and message in r.text


def test_the_documents_api_filters_in_sql_before_it_pages(web):
    def get(**params):
        r = web("GET", "/api/documents", params=params)
        assert r.status_code == 200, r.text
        return r.json()

    filters = {"q": '"facial recognition"', "sponsor": "Ramos", "session": 194}
    pages = [get(**filters, limit=7, offset=o) for o in (0, 7, 14, 21, 28, 35, 42)]
    assert [len(p) for p in pages] == [7, 7, 7, 7, 7, 6, 0]  # 40 filler documents and H.1946, every page full
    ids = [d["id"] for p in pages for d in p]
    assert len(set(ids)) == 41 and ids[0] == "ma/194/H1946"
    assert set(pages[0][0]) == {"id", "session", "number", "docket", "title", "sponsor", "tracked", "position"}
    assert pages[0][0] | {} == {"id": "ma/194/H1946", "session": 194, "number": "H1946", "docket": "HD3870",
                                "title": H1946_TITLE, "sponsor": "Orlando Ramos", "tracked": True,
                                "position": "support"}
    assert get(session=193) == [{"id": "ma/193/H1728", "session": 193, "number": "H1728", "docket": "HD2304",
                                 "title": H1946_TITLE, "sponsor": "Orlando Ramos", "tracked": False,
                                 "position": None}]
    assert [d["id"] for d in get(sponsor="Rogers")] == ["ma/194/H1946"]  # a joint sponsor
    assert [d["id"] for d in get(q="schools")] == ["ma/194/SD503"]
    assert len(get(limit=500)) == MANY + 4 and len(get(limit=500, offset=240)) == 4  # H.4000 was removed

    csv_rows = list(csv.DictReader(io.StringIO(web("GET", "/api/documents", params={
        "sponsor": "creem", "format": "csv"}).text)))
    assert csv_rows == [{"id": "ma/194/S1053", "session": "194", "number": "S1053", "docket": "SD1234",
                         "title": "An Act to regulate face surveillance", "sponsor": "Cynthia Stone Creem",
                         "tracked": "True", "position": "oppose"}]
    lines = web("GET", "/api/documents", params={"session": 194, "format": "jsonl", "limit": 3}).text.splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["ma/194/H1946", "ma/194/H3000", "ma/194/H3001"]

    for params in ({"q": "!!!"}, {"session": "abc"}, {"limit": 0}, {"limit": 501}, {"format": "xml"}):
        r = web("GET", "/api/documents", params=params)
        assert r.status_code == 400 and r.json()["status"] == 400, params


# -- a document's page ------------------------------------------------------------------------------------------


def test_the_page_of_a_numbered_followed_document(web):
    r = web("GET", "/documents/194/H1946")
    assert r.status_code == 200 and r.headers["etag"]
    html = r.text
    assert f"<h1>H.1946: {H1946_TITLE}</h1>" in html
    facts = re.search(r'<dl class="facts">(.*?)</dl>', html, re.S).group(1)
    for fact in ("<dt>Bill number</dt><dd>H.1946</dd>", "<dt>Docket number</dt><dd>HD.3870</dd>",
                 "<dt>General Court</dt><dd>194th (2025–2026)</dd>", "<dt>Lead sponsor</dt><dd>Orlando Ramos</dd>",
                 "<dt>Joint sponsors</dt><dd>David M. Rogers</dd>",
                 "<dt>Cosponsors</dt><dd>Lindsay N. Sabadosa, Mike Connolly</dd>",
                 'first seen <span class="when"><time datetime="2025-01-30T08:00:00-05:00">Jan 30, 2025, 8:00 AM EST</time>'
                 '</span>, last seen <span class="when"><time datetime="2026-11-30T10:00:00-05:00">Nov 30, 2026, 10:00 AM '
                 'EST</time></span>'):
        assert fact in facts, fact
    assert '<span class="position position-support">support</span>' in html
    assert '<a href="/bills/194/H1946" id="bill-link">' in html
    assert f'<p id="pinslip">{H1946_PINSLIP}</p>' in html
    text = re.search(r'<pre id="text" class="text">(.*?)</pre>', html, re.S).group(1)
    assert text.splitlines()[1] == ("    Section 220. (a) As used in this section the following words shall "
                                    "&lt;b&gt;have&lt;/b&gt; the following meanings")  # as written, escaped
    assert "\n\nSECTION 2." in text
    history = re.search(r'<table id="history".*?</table>', html, re.S).group(0)
    assert re.findall(r'<td data-label="Date" class="when"><time datetime="([^"]*)">', history) == [
        "2025-02-27", "2025-09-09"]
    assert "Referred to the committee on the Judiciary" in history
    assert "Removed from" not in html


def test_the_page_of_a_docket_without_a_bill_number(web):
    r = web("GET", "/documents/194/SD503")
    assert r.status_code == 200
    html = r.text
    assert "<h1>SD.503: An Act relative to biometric surveillance in schools</h1>" in html
    assert "<dt>Bill number</dt><dd>none yet: a docket only</dd>" in html
    assert "<dt>Joint sponsors</dt><dd>none</dd>" in html and "in the docket book only" in html
    assert "does not follow this docket" in html and "bill-link" not in html
    assert "Not known here: histories are crawled for the bills the campaign follows (and for every document " \
        "with <code>histories: all</code>)." in html
    assert web("GET", "/documents/194/sd.503").headers["location"] == "/documents/194/SD503"


@pytest.mark.parametrize("path, target", [("/documents/194/SD1234", "/documents/194/S1053"),  # the docket alias
                                          ("/documents/194/sd 1234", "/documents/194/S1053"),
                                          ("/documents/194/S.1053", "/documents/194/S1053"),
                                          ("/documents/194/h01946", "/documents/194/H1946")])
def test_other_spellings_and_a_docket_alias_lead_to_the_numbered_page(web, path, target):
    r = web("GET", path)
    assert r.status_code == 308 and r.headers["location"] == target
    page = web("GET", target)
    assert page.status_code == 200 and "S.1053" in page.text or "H.1946" in page.text


def test_a_removed_document_says_so(web):
    html = web("GET", "/documents/194/H4000").text
    assert re.search(r"Removed from the legislature's list on <time datetime=\"2026-11-2\d[^\"]*\">Nov 2\d, 2026</time>",
                     html)


@pytest.mark.parametrize("path, status, message", [
    ("/documents/194/H9999", 404, "ma/194/H9999 is not in the docket"),
    ("/documents/195/SD503", 404, "ma/195/SD503 is not in the docket"),
    ("/documents/194/XYZ", 400, "is not a bill number"),
    ("/documents/19/H1946", 400, "the session must be a General Court number"),
    ("/api/documents/194/H9999", 404, "ma/194/H9999 is not in the docket"),
    ("/api/documents/194/banana", 400, "is not a bill number"),
])
def test_unknown_and_unreadable_documents(web, path, status, message):
    r = web("GET", path)
    assert r.status_code == status and message in r.text, r.text[:300]


def test_the_api_gives_a_document_by_either_number(web):
    r = web("GET", "/api/documents/194/H1946")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    doc = r.json()
    assert doc == {"id": "ma/194/H1946", "session": 194, "number": "H1946", "docket": "HD3870", "title": H1946_TITLE,
                   "sponsor": "Orlando Ramos", "tracked": True, "position": "support",
                   "joint_sponsors": [{"name": "David M. Rogers", "member_code": "DMR1"}],
                   "cosponsors": [{"name": "Lindsay N. Sabadosa", "member_code": "LNS1"},
                                  {"name": "Mike Connolly", "member_code": "MMC1"}],
                   "pinslip": H1946_PINSLIP, "text": H1946_TEXT, "legislation_type": "Bill", "docket_book_only": False,
                   "first_seen_at": "2025-01-30T13:00:00+00:00", "last_seen_at": "2026-11-30T15:00:00+00:00",
                   "removed_at": None, "detail_error": None}
    assert web("GET", "/api/documents/194/HD3870").json() == doc  # the docket alias answers with the bill
    assert web("GET", "/api/documents/194/SD1234").json()["id"] == "ma/194/S1053"
    assert web("GET", "/api/documents/194/SD503").json()["number"] is None
    again = web("GET", "/api/documents/194/H1946", headers={"if-none-match": r.headers["etag"]})
    assert again.status_code == 304


def test_the_new_routes_are_in_the_openapi_schema(web):
    paths = web("GET", "/api/openapi.json").json()["paths"]
    assert {"/api/documents", "/api/documents/{session}/{number}"} <= set(paths)
    params = {p["name"] for p in paths["/api/documents"]["get"]["parameters"]}
    assert params == {"q", "session", "sponsor", "format", "limit", "offset"}
    kinds = next(p for p in paths["/api/search"]["get"]["parameters"] if p["name"] == "kind")
    assert "document" in json.dumps(kinds["schema"])


# -- search results of type document ----------------------------------------------------------------------------


def test_search_finds_documents_beside_articles_and_actions(web):
    hits = web("GET", "/api/search", params={"q": "face recognition", "kind": "document"}).json()
    # in a title (none here), a pinslip (SD503: "face recognition in public schools") or a text (H1946)
    assert [h["id"] for h in hits] == ["ma/194/SD503", "ma/194/H1946"]  # newest first
    sd503 = hits[0]
    assert set(sd503) == {"type", "id", "session", "number", "docket", "title", "sponsor", "snippet", "date"}
    assert sd503 | {"snippet": None} == {"type": "document", "id": "ma/194/SD503", "session": 194, "number": None,
                                         "docket": "SD503", "title": "An Act relative to biometric surveillance in "
                                         "schools", "sponsor": "Jason M. Lewis", "snippet": None,
                                         "date": seen(MANY + 2).isoformat()}
    assert "[face]" in sd503["snippet"].lower() and "[recognition]" in sd503["snippet"].lower()

    everything = web("GET", "/api/search", params={"q": "Judiciary"}).json()  # an action, and H1946's pinslip
    assert [h["type"] for h in everything] == ["action", "document"]  # merged by date: 2025-02-27, 2025-01-30
    assert web("GET", "/api/search", params={"q": "schools", "kind": "action"}).json() == []
    assert "Nothing found." in web("GET", "/search", params={"q": "schools", "source": "WWLP"}).text  # articles
    assert [h["id"] for h in web("GET", "/api/search", params={"q": "schools", "bill": "194/SD503"}).json()] == [
        "ma/194/SD503"]
    assert web("GET", "/api/search", params={"q": "schools", "until": "2025-01-01"}).json() == []


def test_a_search_of_documents_pages_in_sql(web):
    def page(offset):
        r = web("GET", "/api/search", params={"q": '"facial recognition"', "kind": "document", "limit": 25,
                                              "offset": offset})
        assert r.status_code == 200, r.text
        return r.json()

    pages = [page(o) for o in (0, 25, 50, 75)]
    # 80 filler documents, H.1946, SD503 and the 193rd's H.1728 (the withdrawn H.4000 is not listed any more)
    assert [len(p) for p in pages] == [25, 25, 25, 8]
    dates = [h["date"] for p in pages for h in p]
    assert dates == sorted(dates, reverse=True) and len({h["id"] for p in pages for h in p}) == 83


def test_the_search_page_shows_documents_with_a_link_and_a_marked_snippet(web):
    html = web("GET", "/search", params={"q": "schools"}).text
    item = re.search(r'<li class="document">(.*?)</li>', html, re.S).group(1)
    assert '<a href="/documents/194/SD503">SD.503</a>' in item and "<mark>schools</mark>" in item.lower()
    assert '<option value="document" selected>' in web("GET", "/search", params={"q": "x", "kind": "document"}).text
    assert web("GET", "/search", params={"q": "x", "kind": "letters"}).status_code == 400


def test_tracker_search_finds_documents_from_the_command_line(world, db_url, tmp_path, monkeypatch):
    from tracker.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRACKER_DATABASE_URL", db_url)
    (tmp_path / "feeds.yaml").write_text("sources:\n  malegislature:\n    session: 194\n")
    runner = CliRunner()
    out = runner.invoke(main, ["search", "schools", "--kind", "document", "--format", "json"])
    assert out.exit_code == 0, out.output
    [hit] = json.loads(out.output)
    assert hit["type"] == "document" and hit["id"] == "ma/194/SD503" and "[schools]" in hit["snippet"].lower()
    table = runner.invoke(main, ["search", "schools"])
    assert table.exit_code == 0 and "ma/194/SD503" in table.output and "document" in table.output
    rows = list(csv.DictReader(io.StringIO(runner.invoke(main, ["search", "schools", "--format", "csv"]).output)))
    assert [(r["type"], r["id"], r["title"]) for r in rows] == [
        ("document", "ma/194/SD503", "An Act relative to biometric surveillance in schools")]


# -- the position of a followed bill ----------------------------------------------------------------------------


def test_the_bill_page_and_the_api_show_the_position(web):
    html = web("GET", "/bills/194/S1053").text
    assert '<span class="position position-oppose" id="position"' in html and "we oppose it" in html
    assert "docket SD.1234" in html
    assert '<span class="position position-support" id="position"' in web("GET", "/bills/194/H1946").text
    bills = {b["id"]: b for b in web("GET", "/api/bills").json()}
    assert (bills["ma/194/H1946"]["position"], bills["ma/194/S1053"]["position"]) == ("support", "oppose")
    assert bills["ma/194/S1053"]["docket"] == "SD1234"
    assert web("GET", "/api/bills/194/S1053").json()["position"] == "oppose"
    assert "position-support" in web("GET", "/").text


def test_the_page_of_a_document_shows_its_swept_history_and_a_followed_bill_its_crawled_one(web, world):
    with world.begin() as s:
        checked = datetime(2025, 3, 3, 6, 0, tzinfo=timezone.utc)
        h3000, sd503, h1946 = (find_document(s, c) for c in ("ma/194/H3000", "ma/194/SD503", "ma/194/H1946"))
        for n, (day, branch, text) in enumerate(((date(2025, 2, 27), "House", "Referred to the committee on Health"),
                                                 (None, "Senate", "Senate concurred"))):
            s.add(DocumentAction(document_id=h3000.id, position=n, date=day, branch=branch, action=text))
        s.add(DocumentAction(document_id=h1946.id, position=0, date=date(2025, 1, 1), branch="House",
                             action="a swept row the crawl's history outranks"))
        h3000.history_checked_at = sd503.history_checked_at = h1946.history_checked_at = checked
    html = web("GET", "/documents/194/H3000").text
    rows = re.findall(r'<td data-label="Action">([^<]*)</td>', html)
    assert rows == ["Referred to the committee on Health", "Senate concurred"]
    assert '<td data-label="Date" class="when">undated</td>' in html
    assert 'As read by the weekly history sweep on <time datetime="2025-03-03T01:00:00-05:00">Mar 3, 2025</time>.' in html
    assert "No action listed (read by the weekly history sweep on <time datetime=\"2025-03-03T01:00:00-05:00\">Mar 3, 2025</time>)." in web("GET", "/documents/194/SD503").text
    followed = web("GET", "/documents/194/H1946").text
    assert "Referred to the committee on the Judiciary" in followed and "swept row" not in followed
    assert "weekly history sweep" not in followed
