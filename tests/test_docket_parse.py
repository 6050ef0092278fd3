"""The docket's pure parsers: the document list of a General Court and a document's detail, on inline
bodies shaped like the official API's (``../shared/reference/sources.md`` §2)."""

from __future__ import annotations

import json

import pytest

from spiders.docket_parse import parse_document_detail, parse_document_list, parse_similar, plain_text, similar_url
from spiders.records import BillNotFound, DocumentRow, ParseError

API = "http://malegislature.gov/api/GeneralCourts"
LIST_URL = f"{API}/194/Documents"


def member(code: str, name: str, gc: int = 194) -> dict:
    return {"Id": code, "Name": name, "Type": 1, "Details": f"{API}/{gc}/LegislativeMembers/{code}"}


def row(number: str | None, docket: str | None, title: str | None = "An Act relative to things", **over) -> dict:
    out = {
        "BillNumber": number,
        "DocketNumber": docket,
        "Title": title,
        "PrimarySponsor": member("O_R1", "Orlando Ramos"),
        "GeneralCourtNumber": 194,
        "Details": f"{API}/194/Documents/{number or docket}",
        "IsDocketBookOnly": False,
    }
    out.update(over)
    return out


def body(value) -> bytes:
    return json.dumps(value).encode()


H1946 = row("H1946", "HD2304", "An Act to implement the recommendations of the special commission on facial "
                               "recognition technology")


# ---------------------------------------------------------------- the list


def test_a_list_row_becomes_a_document_row():
    rows, problems = parse_document_list(body([H1946]), LIST_URL, 194)
    assert problems == []
    (r,) = rows
    assert (r.session, r.number, r.docket, r.id) == (194, "H1946", "HD2304", "H1946")
    assert r.title.startswith("An Act to implement the recommendations")
    assert (r.sponsor, r.sponsor_code, r.sponsor_type) == ("Orlando Ramos", "O_R1", 1)
    assert r.details_url == f"{API}/194/Documents/H1946" and r.docket_book_only is False
    assert set(r.to_dict()) == {"session", "number", "docket", "title", "sponsor", "sponsor_code", "sponsor_type",
                                "details_url", "docket_book_only", "row_hash"}
    assert len(r.row_hash) == 64 and int(r.row_hash, 16) >= 0


def test_docket_only_rows_null_fields_and_details_null():
    docket_only = row(None, "SD503", None, PrimarySponsor=None, Details=None, IsDocketBookOnly=True)
    nulls = {"BillNumber": "S1053", "DocketNumber": None, "Title": "   ", "PrimarySponsor": None,
             "GeneralCourtNumber": None, "Details": None, "IsDocketBookOnly": None}
    bare = {"DocketNumber": "hd 77"}  # every other key absent
    rows, problems = parse_document_list(body([docket_only, nulls, bare]), LIST_URL, 194)
    assert problems == []
    a, b, c = rows
    assert (a.number, a.docket, a.id, a.title, a.sponsor, a.details_url, a.docket_book_only) == \
        (None, "SD503", "SD503", None, None, None, True)
    assert (b.number, b.docket, b.title, b.sponsor_code, b.sponsor_type, b.docket_book_only) == \
        ("S1053", None, None, None, None, False)
    assert (c.number, c.docket, c.session) == (None, "HD77", 194)


def test_numbers_in_any_accepted_spelling_become_canonical():
    rows, problems = parse_document_list(body([row("H.1946", "HD.2304"), row("s 47", "sd2134"),
                                               row("SRes12", None)]), LIST_URL, 194)
    assert problems == []
    assert [(r.number, r.docket) for r in rows] == [("H1946", "HD2304"), ("S47", "SD2134"), ("SRes12", None)]


def test_titles_lose_entities_and_odd_whitespace():
    titles = ["An Act&nbsp;relative to  the\r\n\tCommonwealth&#8217;s  schools",
              "An Act relative to Hunters &amp; Anglers\u00a0 ",
              "  \u2003 ",
              "Resolve providing for an investigation &amp;amp; study"]
    rows, problems = parse_document_list(body([row(f"H{i + 1}", None, t) for i, t in enumerate(titles)]),
                                         LIST_URL, 194)
    assert problems == []
    assert [r.title for r in rows] == ["An Act relative to the Commonwealth\u2019s schools",
                                       "An Act relative to Hunters & Anglers",
                                       None,
                                       "Resolve providing for an investigation &amp; study"]  # decoded once


def test_a_committee_or_a_missing_sponsor():
    committee = row("H4359", None, PrimarySponsor={"Id": "J19", "Name": "Joint Committee on the Judiciary",
                                                   "Type": 2, "Details": f"{API}/194/Committees/J19"})
    public = row("H5", None, PrimarySponsor={"Id": None, "Name": "Jane Q. Public", "Type": 3, "Details": None})
    nameless = row("H6", None, PrimarySponsor={"Id": None, "Name": None, "Type": None, "Details": None})
    rows, problems = parse_document_list(body([committee, public, nameless]), LIST_URL, 194)
    assert problems == []
    assert [(r.sponsor, r.sponsor_code, r.sponsor_type) for r in rows] == [
        ("Joint Committee on the Judiciary", "J19", 2), ("Jane Q. Public", None, 3), (None, None, None)]


def test_a_bad_row_is_a_problem_for_that_row_only():
    good = [row(f"H{n}", f"HD{n + 1000}") for n in range(1, 6)]
    bad = [
        row(None, None),                              # row 5
        "H7",                                         # row 6: not an object
        row("X99", None),                             # row 7: not a number
        row("HD12", None),                            # row 8: a docket number as BillNumber
        row("H13", "H14"),                            # row 9: a bill number as DocketNumber
        row("H15", None, Title=["a", "list"]),        # row 10: a title of the wrong type
        row("H16", None, GeneralCourtNumber=193),     # row 11: another session's row
        row("H2", None),                              # row 12: H2 again
        row("H17", None, PrimarySponsor=42),          # row 13
        row("H18", None, IsDocketBookOnly="maybe"),   # row 14
    ]
    rows, problems = parse_document_list(body(good + bad + [row("H20", "HD3000")]), LIST_URL, 194)
    assert [r.number for r in rows] == ["H1", "H2", "H3", "H4", "H5", "H20"]
    assert all(p["url"] == LIST_URL for p in problems)
    errors = [p["error"] for p in problems]
    assert [e.split(":")[0] for e in errors] == [f"row {i}" for i in range(5, 15)]
    assert errors[0] == "row 5: no BillNumber and no DocketNumber"
    assert "expected an object" in errors[1]
    assert "'X99' is not a bill or docket number" in errors[2]
    assert "is a docket number" in errors[3] and "is not a docket number" in errors[4]
    assert "Title is a list" in errors[5]
    assert "GeneralCourtNumber is 193, not 194" in errors[6]
    assert "H2 is listed again (first in row 1)" in errors[7]
    assert "PrimarySponsor is a number" in errors[8] and "IsDocketBookOnly" in errors[9]


def test_a_docket_listed_twice_keeps_the_row_with_the_bill_number():
    rows, problems = parse_document_list(body([row(None, "SD503"), row("S1053", "SD503"), row("S2000", "SD503")]),
                                         LIST_URL, 194)
    assert [(r.number, r.docket) for r in rows] == [("S1053", "SD503")]
    assert [p["error"].split(":")[0] for p in problems] == ["row 0", "row 2"]


def test_the_row_hash_is_stable_and_follows_every_field():
    def one(value: dict, url: str = LIST_URL) -> DocumentRow:
        return parse_document_list(body([value]), url, 194)[0][0]

    base = one(H1946)
    # the same row, keys in another order, spaces and entities spelled otherwise: the same hash
    shuffled = dict(reversed(list(H1946.items())))
    shuffled["Title"] = "  An Act to implement the recommendations of the special commission on facial&#32;" \
                        "recognition\n technology "
    shuffled["BillNumber"] = "H.1946"
    assert one(shuffled).row_hash == base.row_hash
    assert one(H1946, "https://mirror.example/api/GeneralCourts/194/Documents").row_hash == base.row_hash
    # the API's own host changing (http -> https) says nothing new about the document
    assert one(dict(H1946, Details=H1946["Details"].replace("http://", "https://"))).row_hash == base.row_hash
    changes = [
        {"Title": "An Act to implement the recommendations"},
        {"BillNumber": None},
        {"DocketNumber": "HD2305"},
        {"PrimarySponsor": member("DMR1", "David M. Rogers")},
        {"PrimarySponsor": dict(member("O_R1", "Orlando Ramos"), Type=4)},
        {"PrimarySponsor": None},
        {"Details": None},
        {"IsDocketBookOnly": True},
    ]
    hashes = {one(dict(H1946, **change)).row_hash for change in changes}
    assert len(hashes) == len(changes) and base.row_hash not in hashes


def test_an_empty_list_is_no_documents():
    assert parse_document_list(b"[]", LIST_URL, 195) == ([], [])


@pytest.mark.parametrize("raw, error, reason", [
    (b'{"Message": "The request is invalid."}', ParseError, r"is an object, expected a list \(The request is invalid"),
    (b'<?xml version="1.0"?><ArrayOfDocumentSummary xmlns="http://schemas.datacontract.org/2004/07/x">'
     b'<DocumentSummary><BillNumber>H1</BillNumber></DocumentSummary></ArrayOfDocumentSummary>',
     ParseError, "is XML, not JSON"),
    (b'<ArrayOfDocumentSummary xmlns:i="http://www.w3.org/2001/XMLSchema-instance"></ArrayOfDocumentSummary>',
     ParseError, "is XML, not JSON"),
    (b"<!DOCTYPE html><html><head><title>Maintenance</title></head><body>Back soon</body></html>",
     ParseError, "is HTML, not JSON"),
    (b"<html><head><title>Oh My Cod!</title></head><body><h1>Oh My Cod!</h1></body></html>",
     BillNotFound, "Oh My Cod"),
    (b"", ParseError, "empty document list body"),
    (b'[{"BillNumber": "H1", ', ParseError, "malformed JSON"),
    (b"[" * 100_000, ParseError, "malformed JSON"),
])
def test_a_body_that_is_not_a_json_list_fails_with_the_reason(raw, error, reason):
    with pytest.raises(error, match=reason) as info:
        parse_document_list(raw, LIST_URL, 194)
    assert info.value.url == LIST_URL


# ---------------------------------------------------------------- the detail

DETAIL_URL = f"{API}/194/Documents/S1053"
S1053 = {
    "Title": "An Act to implement the recommendations of the special commission on facial recognition technology",
    "BillNumber": "S1053",
    "DocketNumber": "SD503",
    "GeneralCourtNumber": 194,
    "PrimarySponsor": dict(member("CSC0", "Cynthia Stone Creem"), ResponseDate="2025-01-13T10:04:09.56"),
    "JointSponsor": dict(member("JBE0", "James B. Eldridge"), ResponseDate="2025-01-14T09:00:00"),
    "Cosponsors": [
        member("CSC0", "Cynthia Stone Creem"),
        member("JMC0", "Joanne M. Comerford"),
        {"Id": None, "Name": "Kade Crockford", "Type": 3, "Details": None},
        member("JMC0", "Joanne M. Comerford"),  # listed twice
        None,
    ],
    "BillHistory": f"{API}/194/Documents/S1053/DocumentHistoryActions",
    "LegislationTypeName": "Bill",
    "Pinslip": "By Ms. Creem, a petition (accompanied by bill, Senate, No. 1053) of Cynthia Stone Creem, "
               "Joanne M. Comerford &amp; others for legislation to implement the recommendations of the special "
               "commission on facial recognition technology. The Judiciary. [SIMILAR MATTER FILED IN PREVIOUS "
               "SESSION SEE SENATE, NO. 927 OF 2023-2024.]",
    "DocumentText": "<p>SECTION 1. Chapter 6 of the General Laws is hereby amended by inserting after section "
                    "220 the following section:-</p><p>Section 221. (a) As used in this section&nbsp;the "
                    "following words shall,<br/>unless the context clearly requires otherwise, have the "
                    "following meanings:-</p>\r\n<p>&quot;Face surveillance&quot;, an automated&nbsp;or "
                    "semi-automated process.</p><p>SECTION 2. This act shall take effect upon its passage.</p>",
    "EmergencyPreamble": None,
    "RollCalls": [],
    "Attachments": [],
    "CommitteeRecommendations": [],
    "Amendments": [],
}


def test_a_detail_with_sponsors_pinslip_and_text():
    d = parse_document_detail(body(S1053), DETAIL_URL, 194)
    assert (d.session, d.number, d.docket, d.id, d.legislation_type) == (194, "S1053", "SD503", "S1053", "Bill")
    assert (d.sponsor, d.sponsor_code, d.sponsor_type) == ("Cynthia Stone Creem", "CSC0", 1)
    assert d.joint_sponsors == [{"name": "James B. Eldridge", "member_code": "JBE0"}]
    assert d.cosponsors == [{"name": "Cynthia Stone Creem", "member_code": "CSC0"},
                            {"name": "Joanne M. Comerford", "member_code": "JMC0"},
                            {"name": "Kade Crockford", "member_code": None}]
    assert d.pinslip.startswith("By Ms. Creem, a petition") and "Comerford & others" in d.pinslip
    assert d.pinslip.endswith("[SIMILAR MATTER FILED IN PREVIOUS SESSION SEE SENATE, NO. 927 OF 2023-2024.]")
    lines = d.text.splitlines()
    sections = [line for line in lines if line.startswith("SECTION ")]
    assert [s.split(".")[0] for s in sections] == ["SECTION 1", "SECTION 2"]
    assert "<" not in d.text and "&nbsp;" not in d.text and "&quot;" not in d.text
    assert "\u201c" not in d.text and '"Face surveillance", an automated or semi-automated process.' in lines
    assert "Section 221. (a) As used in this section the following words shall," in lines
    assert set(d.to_dict()) == {"session", "number", "docket", "title", "sponsor", "sponsor_code", "sponsor_type",
                                "joint_sponsors", "cosponsors", "pinslip", "text", "legislation_type"}
    json.dumps(d.to_dict())  # what the child sends the parent


@pytest.mark.parametrize("joint, expected", [
    (None, []),
    ({"Id": "JBE0", "Name": "James B. Eldridge", "Type": 1, "Details": None},
     [{"name": "James B. Eldridge", "member_code": "JBE0"}]),
    ([member("JBE0", "James B. Eldridge"), member("PMR0", "Rebecca L. Rausch")],
     [{"name": "James B. Eldridge", "member_code": "JBE0"}, {"name": "Rebecca L. Rausch", "member_code": "PMR0"}]),
    ([], []),
    ({"Id": "J19", "Name": "Joint Committee on the Judiciary", "Type": 2},
     [{"name": "Joint Committee on the Judiciary", "member_code": None}]),
    ({"Id": None, "Name": None, "Type": 1}, []),
])
def test_joint_sponsor_null_an_object_or_a_list(joint, expected):
    d = parse_document_detail(body(dict(S1053, JointSponsor=joint)), DETAIL_URL, 194)
    assert d.joint_sponsors == expected


def test_a_192nd_detail_has_no_joint_sponsor_and_null_fields():
    old = {k: v for k, v in S1053.items() if k != "JointSponsor"}
    old.update(GeneralCourtNumber=192, BillNumber="H.135", DocketNumber="HD3228", PrimarySponsor=None,
               Cosponsors=None, Pinslip=None, DocumentText=None, LegislationTypeName=None, Title="")
    d = parse_document_detail(body(old), f"{API}/192/Documents/H135", 192)
    assert (d.number, d.docket, d.title, d.sponsor, d.sponsor_code, d.sponsor_type) == \
        ("H135", "HD3228", None, None, None, None)
    assert (d.joint_sponsors, d.cosponsors, d.pinslip, d.text, d.legislation_type) == ([], [], None, None, None)


def test_a_docket_only_detail_and_a_committee_sponsor():
    docket = dict(S1053, BillNumber=None, DocketNumber="HD4001", DocumentText="   ",
                  PrimarySponsor={"Id": "J19", "Name": "Joint Committee on the Judiciary", "Type": 2,
                                  "Details": None})
    d = parse_document_detail(body(docket), f"{API}/194/Documents/HD4001", 194)
    assert (d.number, d.docket, d.id, d.text) == (None, "HD4001", "HD4001", None)
    assert (d.sponsor, d.sponsor_code, d.sponsor_type) == ("Joint Committee on the Judiciary", "J19", 2)


@pytest.mark.parametrize("raw, error, reason", [
    (b"<!DOCTYPE html><html><head><title>Oh My Cod! - Massachusetts Legislature</title></head>"
     b"<body><h1>Oh My Cod!</h1><p>That page does not exist.</p></body></html>", BillNotFound, "Oh My Cod"),
    (b'<?xml version="1.0"?><Document xmlns="http://schemas.datacontract.org/2004/07/x"><BillNumber>S1053'
     b"</BillNumber></Document>", ParseError, "is XML, not JSON: send 'Accept: application/json'"),
    (b"<html><body>Service unavailable</body></html>", ParseError, "is HTML, not JSON"),
    (b"[]", ParseError, "is a list, expected an object"),
    (b'{"Message": "No HTTP resource was found"}', ParseError, "neither BillNumber nor DocketNumber "
                                                              r"\(No HTTP resource was found\)"),
    (b"not json at all", ParseError, "malformed JSON"),
    (body(dict(S1053, GeneralCourtNumber=193)), ParseError, "GeneralCourtNumber is 193, not 194"),
    (body(dict(S1053, BillNumber="Senate 1053")), ParseError, "is not a bill or docket number"),
    (body(dict(S1053, Cosponsors="CSC0")), ParseError, "Cosponsors is a string, expected a list"),
    (body(dict(S1053, DocumentText={"Html": "x"})), ParseError, "DocumentText is an object"),
])
def test_a_detail_that_is_not_a_document_fails_with_the_reason(raw, error, reason):
    with pytest.raises(error, match=reason) as info:
        parse_document_detail(raw, DETAIL_URL, 194)
    assert info.value.url == DETAIL_URL


def test_text_keeps_its_lines_in_plain_text_too():
    raw = "SECTION 1.  Chapter 6 of the\r\nGeneral Laws &amp; more\r\n\r\n\r\n\r\n  SECTION 2. If x < 5 then\u00a0y.\r\n"
    assert plain_text(raw) == "SECTION 1. Chapter 6 of the\nGeneral Laws & more\n\nSECTION 2. If x < 5 then y."
    assert plain_text("<div>a<!-- note -->b<script>alert(1)</script></div><pre>c\n d</pre>e") == "ab\nc\nd\ne"
    assert plain_text("bad \x00 char and a lone \ud800 surrogate") == "bad char and a lone \ufffd surrogate"
    assert plain_text("") is None and plain_text("<p> </p>") is None and plain_text(None) is None


# ---------------------------------------------------------------- the Similar list

SIMILAR_URL = "http://x/api/GeneralCourts/194/Documents/H1946/Similar"


def test_a_similar_list_becomes_canonical_ids_of_any_general_court():
    assert similar_url("http://x/", 194, "H1946") == SIMILAR_URL
    body = json.dumps([
        {"BillNumber": "S1053", "DocketNumber": "SD503", "GeneralCourtNumber": 194},
        {"BillNumber": "H.1728", "DocketNumber": "HD2304", "GeneralCourtNumber": "193"},
        {"BillNumber": None, "DocketNumber": "hd 12", "GeneralCourtNumber": 194},
        {"BillNumber": "H1728", "DocketNumber": None, "GeneralCourtNumber": 193},  # again: kept once
    ])
    assert parse_similar(body, SIMILAR_URL) == (["ma/194/S1053", "ma/193/H1728", "ma/194/HD12"], [])
    assert parse_similar(b"[]", SIMILAR_URL) == ([], [])


def test_similar_rows_that_cannot_be_read_are_left_out_and_reported():
    body = json.dumps([
        7,
        {"BillNumber": "H1", "DocketNumber": None},  # no General Court
        {"BillNumber": "H1", "GeneralCourtNumber": "one hundred"},
        {"BillNumber": "H1", "GeneralCourtNumber": 12},
        {"BillNumber": None, "DocketNumber": None, "GeneralCourtNumber": 193},
        {"BillNumber": "Senate twelve", "GeneralCourtNumber": 193},
        {"BillNumber": "HD4", "GeneralCourtNumber": 193},
        {"BillNumber": "S47", "DocketNumber": "SD2134", "GeneralCourtNumber": 192},
    ])
    ids, problems = parse_similar(body, SIMILAR_URL)
    assert ids == ["ma/192/S47"]
    assert all(p["url"] == SIMILAR_URL for p in problems)
    assert [p["error"] for p in problems] == [
        "row 0: is a number, expected an object",
        "row 1: no GeneralCourtNumber",
        "row 2: GeneralCourtNumber is not a number: 'one hundred'",
        "row 3: GeneralCourtNumber 12 is not a General Court",
        "row 4: no BillNumber and no DocketNumber",
        "row 5: BillNumber 'Senate twelve' is not a bill or docket number",
        "row 6: BillNumber 'HD4' is a docket number",
    ]


@pytest.mark.parametrize("body, error", [
    (b'{"Message": "Could not locate any public Documents"}',
     "is an object, expected a list (Could not locate any public Documents)"),
    (b"", "empty Similar list body"),
    (b"[{", "malformed JSON in Similar list"),
    (b'<?xml version="1.0"?><ArrayOfDocumentReference xmlns="urn:x"/>', "is XML, not JSON"),
])
def test_a_similar_body_that_is_no_json_list_raises(body, error):
    with pytest.raises(ParseError, match=error.replace("(", r"\(").replace(")", r"\)")):
        parse_similar(body, SIMILAR_URL)


def test_a_similar_list_that_is_the_oh_my_cod_page_is_not_found():
    page = (b"<!DOCTYPE html><html><head><title>Oh My Cod! - Massachusetts Legislature</title></head>"
            b"<body><h1>Oh My Cod!</h1></body></html>")
    with pytest.raises(BillNotFound):
        parse_similar(page, SIMILAR_URL)
