"""The malegislature.gov replica: a real HTTP server, checked with urllib/http.client and our parsers."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from spiders.malegislature_parse import (
    api_document_url,
    api_history_url,
    bill_page_url,
    history_page_url,
    is_oh_my_cod,
    parse_api_document,
    parse_api_history,
    parse_html_bill_page,
    parse_html_history_page,
    parse_html_petitioners,
    petitioners_url,
)
from spiders.records import BillNotFound, ParseError, Sponsor
from tracker.replica import Replica, ReplicaServer

JSON = {"Accept": "application/json"}
AJAX = {"X-Requested-With": "XMLHttpRequest"}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # also Scrapy's default
CSV = Path(__file__).parent / "data" / "ma-192-history-actions.csv"


@pytest.fixture
def replica():
    return Replica.bundled()


@pytest.fixture
def server(replica):
    with ReplicaServer(replica) as srv:
        yield srv
    assert replica.errors == []


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """GET without raising on 3xx/4xx/5xx; header names lower-cased."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def html_history(base: str, gc: int, number: str, ajax: bool = True):
    """The whole history the HTML way: the bill page, then BillHistory pages 2..N."""
    url = bill_page_url(base, gc, number)
    page = parse_html_bill_page(get(url)[2], url)
    rows = list(page.history)
    for n in range(2, page.history_pages + 1):
        purl = history_page_url(base, gc, number, n)
        more, pages = parse_html_history_page(get(purl, AJAX if ajax else None)[2], purl)
        assert pages == page.history_pages
        rows += more
    return page, rows


def api_history(base: str, gc: int, number: str):
    url = api_history_url(base, gc, number)
    status, _, body = get(url, JSON)
    assert status == 200
    return parse_api_history(body, url)


# ---------------------------------------------------------------- bundled data


def test_bundled_bills_are_the_real_ones(replica):
    assert sorted(replica.keys()) == [(192, "H135"), (192, "H5091"), (192, "S3063"), (192, "S47")]
    h135 = replica.bill(192, "H135")
    assert len(h135.history) == 12 and h135.docket == "HD3228" and h135.sponsor == ("DMR1", "David M. Rogers")
    assert h135.history[0]["Date"] == "2021-03-29T23:59:59.0000000"
    assert ("O_R1", "Orlando Ramos") in h135.petitioners
    s47 = replica.bill(192, "S47")
    assert s47.sponsor == ("CSC0", "Cynthia Stone Creem") and s47.docket == "SD2134"
    assert s47.history[-1]["Action"] == 'Accompanied a study order, see <a href="/Bills/192/S3063">S3063</a>'
    assert len(replica.bill(192, "H5091").history) == 3
    assert len(replica.bill(192, "S3063").history) == 4


# ---------------------------------------------------------------- API


def test_api_json_and_xml_by_accept(server):
    url = api_history_url(server.base_url, 192, "S47")
    status, headers, body = get(url, JSON)
    assert status == 200 and headers["content-type"].startswith("application/json")
    rows = json.loads(body)
    assert rows[0]["Date"] == "2021-03-29T00:00:00.0000000" and set(rows[0]) == {"Date", "Branch", "Action", "IsStricken"}
    assert parse_api_history(body, url)[-1].action == "Accompanied a study order, see S3063"

    status, headers, xml = get(url, {"Accept": BROWSER_ACCEPT})
    assert status == 200 and headers["content-type"].startswith("application/xml")
    assert xml.startswith(b"<?xml") and b"<ArrayOfDocumentHistoryAction" in xml and b"<Branch>Senate</Branch>" in xml
    with pytest.raises(ParseError, match="Accept: application/json"):
        parse_api_history(xml, url)

    # no Accept at all (curl, python): JSON, as the OpenStates code comment says
    assert get(url)[1]["content-type"].startswith("application/json")


def test_api_document(server):
    url = api_document_url(server.base_url, 192, "H135")
    status, _, body = get(url, JSON)
    doc = json.loads(body)
    assert doc["BillHistory"] == api_history_url(server.base_url, 192, "H135")
    assert doc["PrimarySponsor"] == {
        "Id": "DMR1", "Name": "David M. Rogers", "Type": 1,
        "Details": f"{server.base_url}/api/GeneralCourts/192/LegislativeMembers/DMR1",
    }
    d = parse_api_document(body, url)
    assert (d.number, d.session, d.docket, d.title) == ("H135", 192, "HD3228", "An Act to regulate face surveillance")
    assert d.sponsor == Sponsor("David M. Rogers", "DMR1")
    assert d.petitioners[1] == Sponsor("Orlando Ramos", "O_R1")
    status, headers, xml = get(url, {"Accept": "application/xml"})
    assert b"<Document " in xml and b"<BillNumber>H135</BillNumber>" in xml
    # H135 carries its text (data/texts/192/H135.txt); S3063, which has none, a nil DocumentText
    assert b"<DocumentText>Be it enacted by the Senate and House of Representatives" in xml
    xml = get(api_document_url(server.base_url, 192, "S3063"), {"Accept": "application/xml"})[2]
    assert b'<DocumentText i:nil="true"/>' in xml


def test_api_document_list(server):
    status, _, body = get(f"{server.base_url}/api/GeneralCourts/192/Documents", JSON)
    assert status == 200
    assert {r["BillNumber"] for r in json.loads(body)} == {"H135", "S47", "H5091", "S3063"}


# ---------------------------------------------------------------- HTML


def test_bill_page_and_pagination(server):
    url = bill_page_url(server.base_url, 192, "H135")
    status, headers, body = get(url)
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b'<body class="subpage billPage">' in body and b'<ul class="pagination pagination-sm">' in body
    page = parse_html_bill_page(body, url)
    assert page.history_pages == 2 and len(page.history) == 10
    assert page.detail.title == "An Act to regulate face surveillance"
    assert page.detail.sponsor == Sponsor("David M. Rogers", "DMR1")

    rows, pages = parse_html_history_page(get(history_page_url(server.base_url, 192, "H135", 2))[2], url)
    assert pages == 2
    assert [r.identity() for r in rows] == [
        ("2022-07-07", "Senate", "Senate concurred"),
        ("2022-07-26", "House", "Accompanied a new draft, see H5091"),
    ]


def test_page_size_switch(server, replica):
    replica.history_page_size = 5
    page, rows = html_history(server.base_url, 192, "H135")
    assert page.history_pages == 3 and len(page.history) == 5 and len(rows) == 12
    replica.history_page_size = 20
    page = parse_html_bill_page(get(bill_page_url(server.base_url, 192, "H135"))[2], "u")
    assert page.history_pages == 1 and len(page.history) == 12
    assert b"pagination" not in get(bill_page_url(server.base_url, 192, "S3063"))[2]


def test_ajax_fragment_versus_full_page(server):
    url = history_page_url(server.base_url, 192, "H135", 2)
    _, _, frag = get(url, AJAX)
    _, _, full = get(url)
    assert frag.lstrip().startswith(b'<div role="tabpanel"') and b"<html" not in frag
    assert b"<html" in full and b'class="followable"' in full and b"__RequestVerificationToken" in full
    assert parse_html_history_page(frag, url) == parse_html_history_page(full, url)
    # the Petitioners tab, both spellings, full and fragment
    purl = petitioners_url(server.base_url, 192, "H135")
    full_p = parse_html_petitioners(get(purl)[2], purl)
    frag_p = parse_html_petitioners(get(purl.replace("/Cosponsor", "/CoSponsor"), AJAX)[2], purl)
    assert full_p == frag_p
    assert full_p[:2] == [Sponsor("David M. Rogers", "DMR1"), Sponsor("Orlando Ramos", "O_R1")]
    assert Sponsor("Placeholder Citizen Petitioner", None) in full_p


def test_routes_are_case_insensitive(server):
    base = server.base_url
    assert get(f"{base}/bills/192/h135")[0] == 200
    assert get(f"{base}/BILLS/192/H135/billhistory?pagenumber=2", AJAX)[0] == 200
    assert get(f"{base}/API/generalcourts/192/documents/s47/documenthistoryactions", JSON)[0] == 200


def test_token_changes_per_request_but_etag_does_not(server):
    url = bill_page_url(server.base_url, 192, "H135")
    s1, h1, b1 = get(url)
    s2, h2, b2 = get(url)
    assert b1 != b2  # a fresh __RequestVerificationToken each time
    assert h1["etag"] == h2["etag"] and h1["etag"].startswith('W/"')


# ---------------------------------------------------------------- conditional requests


@pytest.mark.parametrize("kind", ["api", "html"])
def test_304_on_if_none_match_and_if_modified_since(server, replica, kind):
    base = server.base_url
    if kind == "api":
        url, hdrs = api_history_url(base, 192, "H135"), dict(JSON)
    else:  # the full page holding the last history page (where a new action lands)
        url, hdrs = history_page_url(base, 192, "H135", 2), {}
    status, headers, body = get(url, hdrs)
    assert status == 200 and body
    etag, last_modified = headers["etag"], headers["last-modified"]
    assert get(url, {**hdrs, "If-None-Match": etag})[0] == 304
    assert get(url, {**hdrs, "If-None-Match": f'"nope", {etag}'})[0] == 304
    assert get(url, {**hdrs, "If-Modified-Since": last_modified})[0] == 304
    assert get(url, {**hdrs, "If-None-Match": '"other"'})[0] == 200

    replica.add_action(192, "H135", "2022-08-01T10:00:00", "House", "Placed on file")
    status, headers2, _ = get(url, {**hdrs, "If-None-Match": etag})
    assert status == 200 and headers2["etag"] != etag
    assert get(url, {**hdrs, "If-Modified-Since": last_modified})[0] == 200

    replica.etags = False
    status, headers3, _ = get(url, {**hdrs, "If-None-Match": headers2["etag"]})
    assert status == 200 and "etag" not in headers3 and "last-modified" not in headers3


def test_first_page_etag_unchanged_when_the_new_row_lands_on_page_2(server, replica):
    """The ETag follows the content: a new 13th action changes page 2 (and the API), not page 1."""
    url = bill_page_url(server.base_url, 192, "H135")
    etag = get(url)[1]["etag"]
    replica.add_action(192, "H135", "2022-08-01T10:00:00", "House", "Placed on file")
    assert get(url, {"If-None-Match": etag})[0] == 304
    replica.history_page_size = 20  # now the row is on page 1
    assert get(url, {"If-None-Match": etag})[0] == 200


def test_keep_alive_and_content_length(server, replica):
    u = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    before = replica.request_count()
    try:
        for path in ["/Bills/192/H135", "/api/GeneralCourts/192/Documents/H135/DocumentHistoryActions",
                     "/Bills/192/NOPE1", "/Bills/192/H135/BillHistory?pageNumber=2"] * 3:
            conn.request("GET", path, headers=JSON)
            resp = conn.getresponse()
            body = resp.read()
            assert int(resp.getheader("Content-Length")) == len(body)
            assert not resp.will_close
        conn.request("GET", "/Bills/192/H135", headers={"If-None-Match": resp.getheader("ETag") or "x"})
        assert conn.getresponse().read() is not None
    finally:
        conn.close()
    assert replica.request_count() == before + 13
    method, path, headers = replica.requests[-2]
    assert method == "GET" and path == "/Bills/192/H135/BillHistory?pageNumber=2" and headers["Accept"] == "application/json"


# ---------------------------------------------------------------- faults


def test_unknown_bill_is_500_oh_my_cod(server):
    for url, hdrs in [
        (bill_page_url(server.base_url, 192, "H99999"), {}),
        (history_page_url(server.base_url, 192, "H99999", 2), AJAX),
        (petitioners_url(server.base_url, 192, "H99999"), AJAX),
        (api_history_url(server.base_url, 192, "H99999"), JSON),
        (api_document_url(server.base_url, 194, "HD903"), JSON),
    ]:
        status, headers, body = get(url, hdrs)
        assert status == 500 and headers["content-type"].startswith("text/html") and is_oh_my_cod(body), url
    with pytest.raises(BillNotFound):
        parse_html_bill_page(get(bill_page_url(server.base_url, 192, "H99999"))[2], "u")
    with pytest.raises(BillNotFound):
        parse_api_history(get(api_history_url(server.base_url, 192, "H99999"), JSON)[2], "u")
    with pytest.raises(BillNotFound):
        parse_api_document(get(api_document_url(server.base_url, 192, "H99999"), JSON)[2], "u")


@pytest.mark.parametrize("status", [429, 500, 503])
def test_api_status_fault(server, replica, status):
    replica.api_status = status
    got, headers, body = get(api_history_url(server.base_url, 192, "H135"), JSON)
    assert got == status and "Message" in json.loads(body)
    assert get(api_document_url(server.base_url, 192, "H135"), JSON)[0] == status
    assert get(bill_page_url(server.base_url, 192, "H135"))[0] == 200  # HTML is unaffected
    replica.api_status = None
    assert get(api_history_url(server.base_url, 192, "H135"), JSON)[0] == 200


def test_broken_layout(server, replica):
    replica.broken_layout.add((192, "H135"))
    url = bill_page_url(server.base_url, 192, "H135")
    status, _, body = get(url)
    assert status == 200 and b'class="followable"' in body and b"<table" not in body
    with pytest.raises(ParseError) as err:
        parse_html_bill_page(body, url)
    assert err.value.layout_changed
    with pytest.raises(ParseError):
        parse_html_history_page(get(history_page_url(server.base_url, 192, "H135", 2), AJAX)[2], url)
    assert len(api_history(server.base_url, 192, "H135")) == 12  # the API still answers
    parse_html_bill_page(get(bill_page_url(server.base_url, 192, "S47"))[2], "u")  # other bills fine
    replica.broken_layout.clear()
    assert len(parse_html_bill_page(get(url)[2], url).history) == 10


def test_malformed_json(server, replica):
    replica.malformed_json.add((192, "S47"))
    url = api_history_url(server.base_url, 192, "S47")
    with pytest.raises(ParseError) as err:
        parse_api_history(get(url, JSON)[2], url)
    assert "malformed JSON" in str(err.value) and not isinstance(err.value, BillNotFound)
    replica.malformed_json.discard((192, "S47"))
    assert len(parse_api_history(get(url, JSON)[2], url)) == 13


# ---------------------------------------------------------------- mutations and the round trip


def test_add_action_visible_in_api_and_html(server, replica):
    replica.add_action(192, "H135", "2022-08-01T10:15:00", "House",
                       'Accompanied a study order, see <a href="/Bills/192/H5163">H5163</a>')
    replica.add_action(192, "H135", None, "Joint", "Hearing canceled \u2013 new hearing TBD")
    api = api_history(server.base_url, 192, "H135")
    assert len(api) == 14
    assert api[12].identity() == ("2022-08-01", "House", "Accompanied a study order, see H5163")
    assert api[12].timestamp == "2022-08-01T10:15:00"
    assert api[13].identity() == (None, "Joint", "Hearing canceled \u2013 new hearing TBD")
    page, rows = html_history(server.base_url, 192, "H135")
    assert page.history_pages == 2
    assert [r.identity() for r in rows] == [r.identity() for r in api]


def test_stricken_rows_hidden_from_both(server, replica):
    replica.strike_action(192, "S47", 1)
    raw = json.loads(get(api_history_url(server.base_url, 192, "S47"), JSON)[2])
    assert raw[1]["IsStricken"] is True and len(raw) == 13
    api = api_history(server.base_url, 192, "S47")
    _, rows = html_history(server.base_url, 192, "S47")
    assert len(api) == 12 and [r.identity() for r in rows] == [r.identity() for r in api]


@pytest.mark.parametrize("ajax", [True, False])
def test_round_trip_api_equals_html_for_every_bundled_bill(server, replica, ajax):
    for gc, number in replica.keys():
        api = api_history(server.base_url, gc, number)
        page, rows = html_history(server.base_url, gc, number, ajax=ajax)
        assert [r.identity() for r in rows] == [r.identity() for r in api], number
        assert len(api) == len(replica.bill(gc, number).history)
        durl = api_document_url(server.base_url, gc, number)
        doc = parse_api_document(get(durl, JSON)[2], durl)
        for field in ("number", "session", "title", "sponsor", "pinslip"):
            assert getattr(page.detail, field) == getattr(doc, field), (number, field)
        purl = petitioners_url(server.base_url, gc, number)
        assert parse_html_petitioners(get(purl, AJAX if ajax else None)[2], purl) == doc.petitioners


def test_committee_sponsor_has_no_member_code(server):
    page, _ = html_history(server.base_url, 192, "H5091")
    assert page.detail.sponsor == Sponsor("Joint Committee on the Judiciary", None)
    assert b"Presenter:" in get(bill_page_url(server.base_url, 192, "H5091"))[2]


# ---------------------------------------------------------------- constructors and CLI


def test_from_csv_small(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(
        "id,action,branch,date\n"
        "H1,Referred to the committee on House Ways and Means,House,2021-02-25T16:46:19.933Z\n"
        'H1,"Reported, in part, by H4000",House,2021-04-15T04:00:00.000Z\n'
        "S47,Discharged to the committee on The Judiciary,Senate,2021-06-03T15:12:00.000Z\n"
        'S47,"Accompanied a study order, see S3063",Senate,2022-07-28T17:07:29.110Z\n'
        "H10,Referred to the committee on Public Service,House,2021-04-13T15:59:37.223Z\n"
    )
    r = Replica.from_csv(path)
    assert sorted(r.keys()) == [(192, "H1"), (192, "H10"), (192, "S47")]
    h1 = r.bill(192, "H1")
    assert [h["Date"] for h in h1.history] == ["2021-02-25T11:46:19.9330000", "2021-04-15T00:00:00.0000000"]
    assert h1.history[1]["Action"] == "Reported, in part, by H4000"
    assert h1.title == "An Act relative to bill H1" and h1.sponsor and h1.petitioners == [h1.sponsor]
    s47 = r.bill(192, "S47")  # bundled metadata, and the bundled <a> markup kept
    assert s47.sponsor == ("CSC0", "Cynthia Stone Creem")
    assert s47.history[-1]["Action"] == 'Accompanied a study order, see <a href="/Bills/192/S3063">S3063</a>'
    assert s47.history[0]["Date"] == "2021-06-03T11:12:00.0000000"
    assert sorted(Replica.from_csv(path, limit=2).keys()) == [(192, "H1"), (192, "S47")]


@pytest.mark.skipif(not CSV.exists(), reason="tests/data/ma-192-history-actions.csv not copied yet")
def test_from_csv_real_dump():
    r = Replica.from_csv(CSV)
    h135 = r.bill(192, "H135")
    assert len(h135.history) == 12
    assert h135.history[0]["Date"] == "2021-03-29T23:59:59.0000000"  # 03:59:59Z on 3/30 is 3/29 in Boston
    assert h135.history[0]["Date"][:10] == "2021-03-29"
    assert h135.history[-1]["Action"].startswith("Accompanied a new draft, see")
    assert len(r.bill(192, "S47").history) == 13
    assert len(r) > 8000
    limited = Replica.from_csv(CSV, limit=50)
    assert len(limited) == 50


@pytest.mark.skipif(not CSV.exists(), reason="tests/data/ma-192-history-actions.csv not copied yet")
def test_from_csv_round_trip_sample():
    r = Replica.from_csv(CSV, limit=40)
    with ReplicaServer(r) as srv:
        for gc, number in r.keys():
            api = api_history(srv.base_url, gc, number)
            _, rows = html_history(srv.base_url, gc, number)
            assert [x.identity() for x in rows] == [x.identity() for x in api], number


def test_python_dash_m_serves_until_stopped():
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker.replica", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1],
    )
    try:
        base = proc.stdout.readline().strip()
        assert base.startswith("http://127.0.0.1:")
        status, _, body = get(api_history_url(base, 192, "H135"), JSON)
        assert status == 200 and len(json.loads(body)) == 12
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_stop_closes_idle_keep_alive_connections(replica):
    srv = ReplicaServer(replica)
    u = urlsplit(srv.start())
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    conn.request("GET", "/Bills/192/H135")
    conn.getresponse().read()
    t0 = time.monotonic()
    srv.stop()
    assert time.monotonic() - t0 < 3
    with pytest.raises((ConnectionError, OSError, http.client.HTTPException)):
        conn.request("GET", "/Bills/192/H135")
        conn.getresponse().read()
    conn.close()
