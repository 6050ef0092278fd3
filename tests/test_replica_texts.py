"""The replica serves bill texts: in the API's DocumentText and on the HTML text pages, and they read back
to the sections of the files they come from (tracker/replica/data/texts/)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from spiders.billtext_parse import normalise_text, parse_text_page, split_sections, text_page_url, text_tab_url
from spiders.docket_parse import document_url, parse_document_detail
from spiders.records import BillNotFound
from tracker.replica import Replica, ReplicaServer
from tracker.replica.docket import with_dockets
from tracker.replica.drafts import report_new_draft
from tracker.replica.texts import TEXT_IDS, draft_changes, text_of, where_of

JSON = {"Accept": "application/json"}
AJAX = {"X-Requested-With": "XMLHttpRequest"}


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


@pytest.fixture(scope="module")
def replica() -> Replica:
    site = with_dockets({192: 40, 194: 60})
    report_new_draft(site)
    return site


@pytest.fixture(scope="module")
def server(replica):
    with ReplicaServer(replica) as srv:
        yield srv


def api_text(server, gc: int, number: str) -> str | None:
    url = document_url(server.base_url, gc, number)
    status, _, body = get(url, JSON)
    assert status == 200
    return parse_document_detail(body, url, gc).text


def page(server, gc: int, number: str) -> tuple[bytes, str]:
    url = text_page_url(server.base_url, gc, number)
    status, headers, body = get(url)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    return body, url


def sections_of(text: str) -> list[tuple]:
    return [(s.number, s.text) for s in split_sections(normalise_text(text).text)]


@pytest.mark.parametrize("ident", TEXT_IDS)
def test_every_page_reads_back_to_the_sections_of_its_file(server, ident):
    gc, number = ident.split("/")
    on_file = text_of(gc, number)
    assert [n for n, _ in sections_of(on_file)][:3] == [None, "1", "2"]
    body, url = page(server, int(gc), number)
    check = parse_text_page(body, url)
    assert check.flags == ()
    assert [(s.number, s.text) for s in check.sections()] == sections_of(on_file)
    # the View Text tab, alone (AJAX) or in the whole bill page, gives the same
    tab = text_tab_url(server.base_url, gc, number)
    for headers in (AJAX, {}):
        status, _, body = get(tab, headers)
        assert status == 200
        assert parse_text_page(body, tab).text == check.text
    # the API carries it too, or (S.3084) nothing: the page is then the only source
    if where_of(gc, number) == "api":
        assert normalise_text(api_text(server, int(gc), number)).text == check.text
    else:
        assert api_text(server, int(gc), number) is None


def test_the_page_looks_like_the_sites():
    with ReplicaServer(Replica.bundled()) as srv:
        body, _ = page(srv, 192, "H135")
    html = body.decode("utf-8")
    assert "<p class=MsoNormal" in html and " ".join(html.split()).count("HOUSE DOCKET, NO. 3228") == 1 and "PETITION OF:" in html
    assert "In the One Hundred and Ninety-Second General Court" in html and "(2021-2022)" in html
    assert "<b>An Act to regulate face surveillance.</b>" in html
    # the cover sheet's petitioners are not part of the bill's text
    assert "Placeholder" in html and "Placeholder" not in parse_text_page(body).text


def test_h5091_changed_exactly_the_sections_the_manifest_names(server):
    old = {s.number: s for s in parse_text_page(*page(server, 192, "H135")).sections()}
    new = {s.number: s for s in parse_text_page(*page(server, 192, "H5091")).sections()}
    changes = draft_changes("192/H135", "192/H5091")
    assert [(c["old"], c["new"], c["change"]) for c in changes if c["change"] != "same"] == [
        ("3", None, "removed"), ("5", "4", "changed"), (None, "5", "added")]
    for c in changes:
        if c["change"] == "same":
            assert old[c["old"]].text == new[c["new"]].text
        elif c["change"] == "changed":
            assert old[c["old"]].text != new[c["new"]].text
            assert "warrant" in new[c["new"]].text and "warrant" not in old[c["old"]].text
    # every section of each text is named once
    assert sorted(c["old"] or "" for c in changes if c["change"] != "added") == sorted(n or "" for n in old)
    assert sorted(c["new"] or "" for c in changes if c["change"] != "removed") == sorted(n or "" for n in new)
    assert "school" in old["3"].text and not any("school" in s.text for s in new.values())


def test_the_194th_new_draft(server, replica):
    history = json.loads(get(f"{server.base_url}/api/GeneralCourts/194/Documents/H1946/DocumentHistoryActions",
                             JSON)[2])
    assert history[-1]["Action"] == 'Accompanied a new draft, see <a href="/Bills/194/H4420">H4420</a>'
    assert history[-1]["Date"].startswith("2025-07-29")
    draft = json.loads(get(document_url(server.base_url, 194, "H4420"), JSON)[2])
    assert draft["PrimarySponsor"]["Id"] == "J19" and "new draft of House, No. 1946" in draft["Pinslip"]
    rows = json.loads(get(f"{server.base_url}/api/GeneralCourts/194/Documents", JSON)[2])
    assert sum(r["BillNumber"] == "H4420" for r in rows) == 1
    old = {s.number: s.text for s in split_sections(api_text(server, 194, "H1946"))}
    new = {s.number: s.text for s in split_sections(api_text(server, 194, "H4420"))}
    for c in draft_changes("194/H1946", "194/H4420"):
        if c["change"] == "same":
            assert old[c["old"]] == new[c["new"]]
        elif c["change"] == "changed":
            assert old[c["old"]] != new[c["new"]]
        elif c["change"] == "removed":
            assert c["old"] == "4" and "special commission" in old["4"]
            assert "special commission" not in " ".join(new.values())
        else:
            assert c["new"] == "5" and "destroyed" in new["5"]
    # H.1946 is H.135 re-filed: the same words but the Official Edition's year
    assert api_text(server, 194, "H1946") == normalise_text(text_of(192, "H135").replace("2020", "2024")).text
    # a second report changes nothing
    before = len(replica.bill(194, "H1946").history)
    report_new_draft(replica)
    assert len(replica.bill(194, "H1946").history) == before


def test_a_text_changes_between_two_fetches():
    site = with_dockets({192: 40})
    with ReplicaServer(site) as srv:
        url = text_page_url(srv.base_url, 192, "S3084")
        first_status, first_headers, first = get(url)
        etag = first_headers["ETag"]
        assert get(url, {"If-None-Match": etag})[0] == 304  # unchanged: a conditional fetch costs nothing
        site.set_text(192, "S3084", text_of(192, "S3084").replace("March 31, 2023", "June 30, 2023"), where="page")
        status, headers, second = get(url, {"If-None-Match": etag})
        assert status == 200 and headers["ETag"] != etag
        assert "June 30, 2023" in parse_text_page(second).text and "March 31" in parse_text_page(first).text
        assert api_text(srv, 192, "S3084") is None  # DocumentText stays empty

        # empty for a while, then back: the page has the cover sheet and no bill
        site.set_text(192, "H135", "", where="both")
        assert api_text(srv, 192, "H135") is None
        empty = parse_text_page(*page(srv, 192, "H135"))
        assert empty.text == "" and "empty" in empty.flags
        site.set_text(192, "H135", text_of(192, "H135"))
        assert parse_text_page(*page(srv, 192, "H135")).words > 1000

        # the API changes, the page keeps what it showed
        site.set_text(192, "H5091", "SECTION 1. A short text.", where="api")
        assert api_text(srv, 192, "H5091") == "SECTION 1. A short text."
        assert parse_text_page(*page(srv, 192, "H5091")).text == normalise_text(text_of(192, "H5091")).text


def test_wrong_declared_encoding_and_errors():
    site = Replica.bundled()
    site.update_bill(192, "H135", page_encoding="windows-1252")
    with ReplicaServer(site) as srv:
        body, url = page(srv, 192, "H135")  # still says UTF-8
        assert b"charset=utf-8" in body and b"\x93Biometric surveillance system\x94" in body
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
        check = parse_text_page(body, url)
        assert check.flags == ("wrong-encoding",)
        assert check.text == normalise_text(text_of(192, "H135")).text
        # an unknown bill, and the wrong chamber's tab, answer "Oh My Cod!"
        for bad in (text_page_url(srv.base_url, 192, "H99999"), f"{srv.base_url}/Bills/192/H135/Senate/Bill/Text"):
            status, _, body = get(bad)
            assert status == 500
            with pytest.raises(BillNotFound):
                parse_text_page(body, bad)
