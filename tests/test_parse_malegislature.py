"""Parsers for malegislature.gov, on hand-written fixtures (tests/fixtures/malegislature/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

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
from spiders.records import BillNotFound, HistoryAction, ParseError, Sponsor

FIX = Path(__file__).parent / "fixtures" / "malegislature"
BASE = "https://malegislature.gov"
PAGE_URL = f"{BASE}/Bills/192/H135"

# H135 (192nd): the 12 real actions, local dates (sources.md 4.2)
H135 = [
    ("2021-03-29", "House", "Referred to the committee on Advanced Information Technology, the Internet and Cybersecurity"),
    ("2021-03-29", "House", "Senate concurred"),
    ("2021-06-03", "Senate", "Discharged to the committee on The Judiciary"),
    ("2021-06-07", "House", "House concurred"),
    ("2021-11-16", "Joint", "Hearing scheduled for 11/23/2021 from 10:00 AM-02:00 PM in Virtual Hearing"),
    ("2022-02-03", "House", "Reporting date extended to Friday April 15, 2022, pending concurrence"),
    ("2022-03-24", "Senate", "Senate concurred"),
    ("2022-04-19", "House", "Reporting date extended to Thursday June 30, 2022, pending concurrence"),
    ("2022-06-09", "Senate", "Senate concurred"),
    ("2022-07-05", "House", "Reporting date extended to Friday July 22, 2022, pending concurrence"),
    ("2022-07-07", "Senate", "Senate concurred"),
    ("2022-07-26", "House", "Accompanied a new draft, see H5091"),
]


def fx(name: str) -> bytes:
    return (FIX / name).read_bytes()


# ---------------------------------------------------------------- URLs


def test_url_builders():
    assert api_document_url(BASE, 192, "H135") == f"{BASE}/api/GeneralCourts/192/Documents/H135"
    assert api_history_url(BASE + "/", 192, "H135") == (
        f"{BASE}/api/GeneralCourts/192/Documents/H135/DocumentHistoryActions"
    )
    assert bill_page_url(BASE, 192, "S47") == f"{BASE}/Bills/192/S47"
    assert history_page_url(BASE, "192", "H135", 2) == f"{BASE}/Bills/192/H135/BillHistory?pageNumber=2"
    assert petitioners_url(BASE, 192, "H135") == f"{BASE}/Bills/192/H135/Cosponsor"


def test_is_oh_my_cod():
    assert is_oh_my_cod(fx("oh_my_cod.html"))
    assert not is_oh_my_cod(fx("bill_H135_192.html"))
    assert not is_oh_my_cod(fx("api_H135_192_history.json"))


# ---------------------------------------------------------------- API history


def test_api_history_h135_actions_in_order():
    rows = parse_api_history(fx("api_H135_192_history.json"), api_history_url(BASE, 192, "H135"))
    assert [r.identity() for r in rows] == H135
    assert len(rows) == 12  # the IsStricken row is gone
    assert all("entered in error" not in r.action for r in rows)
    assert rows[0].action == "Referred to the committee on Advanced Information Technology, the Internet and Cybersecurity"
    assert rows[-1].action == "Accompanied a new draft, see H5091"  # <a> stripped


def test_api_history_timestamps_drop_fraction_without_tz_conversion():
    rows = parse_api_history(fx("api_H135_192_history.json"), "u")
    # 23:59:59 local on 3/29 stays 3/29 (it is 03:59:59Z on 3/30)
    assert rows[0].timestamp == "2021-03-29T23:59:59"
    assert rows[2].timestamp == "2021-06-03T11:12:00"  # "…00.0": one fractional digit
    assert rows[3].timestamp == "2021-06-07T12:45:58"  # seven digits
    assert rows[10].timestamp == "2022-07-07T00:00:00"  # no fraction
    assert rows[11] == HistoryAction("2022-07-26", "House", "Accompanied a new draft, see H5091", "2022-07-26T15:09:05")


def test_api_history_edge_cases():
    rows = parse_api_history(fx("api_history_edge.json"), "u")
    assert [(r.date, r.branch, r.action, r.timestamp) for r in rows] == [
        ("2022-07-21", "Senate", "Passed to be engrossed -see Roll Call #233 (Yeas 39 to Nays 1)", "2022-07-21T14:02:11"),
        (None, "Joint", "Hearing canceled \u2013 new hearing TBD", None),
        ("2022-07-28", "Senate", "Accompanied a study order, see S3063", "2022-07-28T13:07:29"),
        ("2022-08-01", "House", "Reported on a part of H5076 & S3084", "2022-08-01T23:59:59"),
        ("2022-08-02", "Executive", "Signed by the Governor, Chapter 18 of the Acts of 2021", "2022-08-02T10:00:00"),
    ]


def test_api_history_malformed_json():
    url = api_history_url(BASE, 192, "H135")
    with pytest.raises(ParseError) as err:
        parse_api_history(fx("api_history_malformed.json"), url)
    assert url in str(err.value) and "malformed JSON" in str(err.value)
    assert not isinstance(err.value, BillNotFound)
    assert err.value.url == url


@pytest.mark.parametrize(
    "body, words",
    [
        (b'{"Message": "An error has occurred."}', "expected an array"),
        (b"[1, 2]", "not an object"),
        (b'[{"Date": null, "Action": "House concurred"}]', "lacks Branch"),
        (b'[{"Date": null, "Branch": "House"}]', "lacks Action"),
        (b'[{"Date": "yesterday", "Branch": "House", "Action": "x"}]', "unreadable Date"),
        (b"", "empty"),
    ],
)
def test_api_history_bad_shapes(body, words):
    with pytest.raises(ParseError) as err:
        parse_api_history(body, "https://malegislature.gov/api/x")
    assert words in str(err.value)
    assert "https://malegislature.gov/api/x" in str(err.value)


def test_api_history_html_bodies():
    with pytest.raises(BillNotFound):
        parse_api_history(fx("oh_my_cod.html"), "u")
    with pytest.raises(ParseError) as err:
        parse_api_history(fx("bill_H135_192.html"), "u")
    assert err.value.layout_changed and not isinstance(err.value, BillNotFound)
    with pytest.raises(ParseError, match="Accept: application/json"):
        parse_api_history(b'<?xml version="1.0"?><ArrayOfDocumentHistoryAction/>', "u")


def test_api_history_empty_array_is_empty():
    assert parse_api_history(b"[]", "u") == []


# ---------------------------------------------------------------- API document


def test_api_document_h135():
    d = parse_api_document(fx("api_H135_192_document.json"), api_document_url(BASE, 192, "H135"))
    assert d.number == "H135" and d.session == 192 and d.docket == "HD3228"
    assert d.title == "An Act to regulate face surveillance"
    assert d.sponsor == Sponsor("David M. Rogers", "DMR1")
    assert d.petitioners[:2] == [Sponsor("David M. Rogers", "DMR1"), Sponsor("Orlando Ramos", "O_R1")]
    # a committee (Type 2) and a citizen (Type 3) carry no member code
    assert d.petitioners[3:] == [Sponsor("Placeholder Committee Sponsor", None), Sponsor("Placeholder Citizen Petitioner", None)]
    assert d.pinslip.startswith("By Representatives Rogers of Cambridge and Ramos of Springfield")
    assert "  " not in d.pinslip
    assert d.pinslip.endswith("Advanced Information Technology, the Internet and Cybersecurity.")


def test_api_document_docket_only_and_errors():
    body = json.dumps({"Title": " An  Act ", "BillNumber": None, "DocketNumber": "HD903", "GeneralCourtNumber": 194,
                       "PrimarySponsor": None, "Cosponsors": None}).encode()
    d = parse_api_document(body, "u")
    assert (d.number, d.session, d.title, d.sponsor, d.petitioners) == ("HD903", 194, "An Act", None, [])
    with pytest.raises(BillNotFound):
        parse_api_document(fx("oh_my_cod.html"), "u")
    with pytest.raises(ParseError, match="expected an object"):
        parse_api_document(fx("api_H135_192_history.json"), "u")
    with pytest.raises(ParseError, match="neither BillNumber"):
        parse_api_document(b'{"Title": "x", "GeneralCourtNumber": 192}', "u")


# ---------------------------------------------------------------- HTML bill page


def test_bill_page_h135_header():
    page = parse_html_bill_page(fx("bill_H135_192.html"), PAGE_URL)
    d = page.detail
    assert (d.number, d.session) == ("H135", 192)
    assert d.title == "An Act to regulate face surveillance"
    assert d.sponsor == Sponsor("David M. Rogers", "DMR1")
    assert d.pinslip.startswith("By Representatives Rogers of Cambridge")
    assert d.petitioners == []
    assert d.docket is None


def test_bill_page_h135_first_history_page():
    page = parse_html_bill_page(fx("bill_H135_192.html"), PAGE_URL)
    assert page.history_pages == 2
    assert [r.identity() for r in page.history] == H135[:10]
    assert all(r.timestamp is None for r in page.history)
    # the hearing cell holds an <a>: its whole text is taken
    assert page.history[4].action == "Hearing scheduled for 11/23/2021 from 10:00 AM-02:00 PM in Virtual Hearing"


def test_bill_page_number_and_session_from_url_when_h1_lacks_them():
    body = fx("bill_H135_192.html").replace(b"Bill H.135 <span class=\"subTitle\">192nd (2021 - 2022)</span>", b"Bill")
    page = parse_html_bill_page(body, "https://malegislature.gov/Bills/192/H135")
    assert (page.detail.number, page.detail.session) == ("H135", 192)


def test_bill_page_title_falls_back_to_h1():
    body = fx("bill_H135_192.html").replace(b"<h2>An Act to regulate face surveillance </h2>", b"")
    assert parse_html_bill_page(body, PAGE_URL).detail.title == "H.135"


def test_bill_page_plain_presenter_and_no_pagination():
    page = parse_html_bill_page(fx("bill_presenter_plain.html"), "https://malegislature.gov/Bills/194/H9999")
    assert page.detail.sponsor == Sponsor("Placeholder Citizen Presenter", None)
    assert (page.detail.number, page.detail.session) == ("H9999", 194)
    assert page.detail.pinslip is None
    assert page.history_pages == 1
    assert [r.identity() for r in page.history] == [
        ("2025-01-17", "House", "Referred to the committee on Municipalities and Regional Government")
    ]


def test_bill_page_oh_my_cod():
    with pytest.raises(BillNotFound) as err:
        parse_html_bill_page(fx("oh_my_cod.html"), "https://malegislature.gov/Bills/194/HD903")
    assert err.value.url == "https://malegislature.gov/Bills/194/HD903"


def test_bill_page_layout_changed_is_an_error_not_an_empty_history():
    with pytest.raises(ParseError) as err:
        parse_html_bill_page(fx("bill_H135_192_layout_changed.html"), PAGE_URL)
    assert err.value.layout_changed
    assert not isinstance(err.value, BillNotFound)


def test_bill_page_without_title_bar_is_layout_changed():
    body = fx("bill_H135_192.html").replace(b'class="followable"', b'class="titleBox"')
    with pytest.raises(ParseError) as err:
        parse_html_bill_page(body, PAGE_URL)
    assert err.value.layout_changed and "followable" in str(err.value)


def test_garbage_html_is_layout_changed():
    with pytest.raises(ParseError) as err:
        parse_html_history_page(b"<html><body><p>Service maintenance</p></body></html>", "u")
    assert err.value.layout_changed


# ---------------------------------------------------------------- HTML history pages


@pytest.mark.parametrize("name", ["bill_H135_192_history_p2.html", "bill_H135_192_history_p2_fragment.html"])
def test_history_page_2_full_and_fragment(name):
    rows, pages = parse_html_history_page(fx(name), history_page_url(BASE, 192, "H135", 2))
    assert pages == 2
    assert [r.identity() for r in rows] == H135[10:]
    assert rows[-1].action == "Accompanied a new draft, see H5091"


def test_all_html_pages_equal_the_api():
    first = parse_html_bill_page(fx("bill_H135_192.html"), PAGE_URL)
    rest, _ = parse_html_history_page(fx("bill_H135_192_history_p2_fragment.html"), "u")
    api = parse_api_history(fx("api_H135_192_history.json"), "u")
    assert [r.identity() for r in first.history + rest] == [r.identity() for r in api]


def test_history_edge_fragment():
    rows, pages = parse_html_history_page(fx("bill_history_edge_fragment.html"), "u")
    assert pages == 12
    assert [r.identity() for r in rows] == [
        ("2022-07-21", "Senate", "Passed to be engrossed -see Roll Call #233 (Yeas 39 to Nays 1)"),
        (None, "Joint", "Hearing canceled \u2013 new hearing TBD"),
        ("2022-08-01", "House", "Reported on a part of H5076 & S3084"),
    ]


def test_history_unreadable_date_is_layout_changed():
    body = b'<div id="BillHistory-tabpanel"><table><tr><td>March 3</td><td>House</td><td>x</td></tr></table></div>'
    with pytest.raises(ParseError) as err:
        parse_html_history_page(body, "u")
    assert err.value.layout_changed


def test_history_page_oh_my_cod():
    with pytest.raises(BillNotFound):
        parse_html_history_page(fx("oh_my_cod.html"), "u")


# ---------------------------------------------------------------- petitioners


def test_petitioners_full_page():
    got = parse_html_petitioners(fx("bill_H135_192_cosponsor.html"), petitioners_url(BASE, 192, "H135"))
    assert got == [
        Sponsor("David M. Rogers", "DMR1"),
        Sponsor("Orlando Ramos", "O_R1"),
        Sponsor("Placeholder Petitioner Alpha", "ZZA1"),
        Sponsor("Placeholder Citizen Petitioner", None),
    ]


def test_petitioners_fragment_and_errors():
    frag = (
        b'<div id="Cosponsor-tabpanel"><table><thead><tr><th>Name</th></tr></thead><tbody>'
        b'<tr><td>%<a href="/Legislators/Profile/CSC0/192">Cynthia Stone Creem</a>'
        b'<span class="sr-only">This sponsor is an original petitioner.</span></td><td></td></tr>'
        b"</tbody></table></div>"
    )
    assert parse_html_petitioners(frag, "u") == [Sponsor("Cynthia Stone Creem", "CSC0")]
    with pytest.raises(BillNotFound):
        parse_html_petitioners(fx("oh_my_cod.html"), "u")
    with pytest.raises(ParseError) as err:
        parse_html_petitioners(b"<div><p>nothing</p></div>", "u")
    assert err.value.layout_changed


# ---- found by fuzzing (tests/test_fuzz.py): each of these used to escape as an undocumented exception
# (AttributeError, OverflowError, RecursionError, a bare ValueError) or pass an impossible date on to the
# store, so the spider's ParseError handler never saw it and the API-to-HTML fallback did not happen.

DOC_URL = api_document_url(BASE, 192, "H135")
HISTORY_URL = api_history_url(BASE, 192, "H135")


@pytest.mark.parametrize("doc, field", [
    ({"BillNumber": "H135", "GeneralCourtNumber": 192, "Title": 5}, "Title"),
    ({"BillNumber": "H135", "GeneralCourtNumber": 192, "Pinslip": ["x"]}, "Pinslip"),
    ({"BillNumber": ["H135"], "GeneralCourtNumber": 192}, "BillNumber"),
    ({"BillNumber": "H135", "GeneralCourtNumber": 192, "PrimarySponsor": {"Name": 3}}, "Name"),
    ({"BillNumber": "H135", "GeneralCourtNumber": 192, "Cosponsors": [{"Name": {"x": 1}}]}, "Name"),
])
def test_api_document_field_of_the_wrong_type_is_a_parse_error(doc, field):
    with pytest.raises(ParseError, match=rf"{field} is a JSON \w+, expected a string") as err:
        parse_api_document(json.dumps(doc).encode(), DOC_URL)
    assert err.value.url == DOC_URL


@pytest.mark.parametrize("gc", ["1e999", "true", "192.5", "-1e400"])
def test_api_document_unusable_general_court_is_a_parse_error(gc):
    body = ('{"BillNumber": "H135", "GeneralCourtNumber": %s}' % gc).encode()
    with pytest.raises(ParseError, match="no usable GeneralCourtNumber"):
        parse_api_document(body, DOC_URL)


def test_api_history_nested_too_deeply_is_a_parse_error():
    with pytest.raises(ParseError, match="nested too deeply"):
        parse_api_history(b"[" * 100_000 + b"]" * 100_000, HISTORY_URL)


@pytest.mark.parametrize("date", ["2021-13-01", "2021-02-30", "2021-01-01T25:00:00", "\u0662\u0660\u0662\u0661-01-01"])
def test_api_history_impossible_date_is_a_parse_error(date):
    body = json.dumps([{"Date": date, "Branch": "House", "Action": "Read"}]).encode()
    with pytest.raises(ParseError, match="row 0"):
        parse_api_history(body, HISTORY_URL)


def test_html_history_impossible_date_is_layout_changed():
    body = b"<table><tr><td>2/30/2021</td><td>House</td><td>Read</td></tr></table>"
    with pytest.raises(ParseError, match="impossible date '2/30/2021'") as err:
        parse_html_history_page(body, PAGE_URL)
    assert err.value.layout_changed


ROW = b"<table><tr><td>1/2/2021</td><td>House</td><td>Read</td></tr></table>"


def test_html_pagination_with_non_ascii_digits_is_ignored():
    rows, pages = parse_html_history_page(ROW + '<ul class="pagination-sm"><li>\u00b2</li></ul>'.encode(), PAGE_URL)
    assert pages == 1 and rows == [HistoryAction("2021-01-02", "House", "Read")]


@pytest.mark.parametrize("bar", [b'<li onclick="go(' + b"9" * 5000 + b')">last</li>', b"<li>20000</li>"])
def test_html_pagination_naming_an_absurd_page_is_layout_changed(bar):
    with pytest.raises(ParseError, match="pagination") as err:
        parse_html_history_page(ROW + b'<ul class="pagination-sm">' + bar + b"</ul>", PAGE_URL)
    assert err.value.layout_changed


def test_a_control_character_attribute_name_does_not_break_the_sponsor_or_petitioners():
    # libxml2 keeps an attribute named "\x01"; parsel's .attrib then raised ValueError.
    link = b"<a href='/Legislators/Profile/DMR1' \x01>Dave Rogers</a>"
    people = parse_html_petitioners(b"<table><tr><td>" + link + b"</td></tr></table>", PAGE_URL + "/Cosponsor")
    assert people == [Sponsor("Dave Rogers", "DMR1")]
    page = parse_html_bill_page(b"<div class='followable'><h1>Bill H.135<span class='subTitle'>192nd</span></h1></div>"
                                b"<dl><dt>Sponsor:</dt><dd>" + link + b"</dd></dl>" + ROW, PAGE_URL)
    assert page.detail.sponsor == Sponsor("Dave Rogers", "DMR1")
