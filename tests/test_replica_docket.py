"""The replica's whole dockets: generated sessions around the real documents, in the API's shapes,
and the mutations and faults a docket sync is tested against."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from spiders.malegislature_parse import api_document_url, is_oh_my_cod, parse_api_document
from spiders.records import BillNotFound, Sponsor
from tracker.replica import ReplicaServer
from tracker.replica import docket as gen
from tracker.replica.docket import add_docket, with_dockets
from tracker.replica.texts import text_of

JSON = {"Accept": "application/json"}
ROW_KEYS = {"BillNumber", "DocketNumber", "Title", "PrimarySponsor", "GeneralCourtNumber", "Details", "IsDocketBookOnly"}
DETAIL_KEYS = {"Title", "BillNumber", "DocketNumber", "GeneralCourtNumber", "PrimarySponsor", "Cosponsors",
               "JointSponsor", "BillHistory", "LegislationTypeName", "Pinslip", "DocumentText", "EmergencyPreamble",
               "RollCalls", "Attachments", "CommitteeRecommendations", "Amendments"}
CAMPAIGN_CODES = {"O_R1", "DMR1", "CSC0", "JMC0", "RLR0", "MJB0", "JBE0"}
# the documents written for the replica that fictional members sponsor (the watches' and the successor
# search's near-misses): the only ones of theirs that speak of faces
WRITTEN = {(193, "H495"), (193, "S1410"), (194, "H612"), (194, "S1587"), (194, "H3120")}


@pytest.fixture
def replica():
    return with_dockets({193: 200, 194: 200})


@pytest.fixture
def server(replica):
    with ReplicaServer(replica) as srv:
        yield srv
    assert replica.errors == []


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def rows(server, gc: int) -> list[dict]:
    status, _, body = get(f"{server.base_url}/api/GeneralCourts/{gc}/Documents", JSON)
    assert status == 200
    return json.loads(body)


def detail(server, gc: int, ident: str) -> dict:
    status, _, body = get(api_document_url(server.base_url, gc, ident), JSON)
    assert status == 200, (gc, ident, status)
    return json.loads(body)


def ident(row: dict) -> str:
    return row["BillNumber"] or row["DocketNumber"]


def words_of(doc) -> dict[str, str]:
    return {"title": doc.title or "", "pinslip": doc.pinslip or "", "text": doc.text or ""}


# ---------------------------------------------------------------- the list


def test_list_has_the_requested_size_unique_ids_and_the_real_shape(server, replica):
    for gc in (193, 194):
        got = rows(server, gc)
        assert len(got) == 200 and len({ident(r) for r in got}) == 200
        assert all(set(r) == ROW_KEYS and r["GeneralCourtNumber"] == gc for r in got)
        assert len({r["DocketNumber"] for r in got if r["DocketNumber"]}) == sum(1 for r in got if r["DocketNumber"])
        assert {ident(r) for r in got} == {b.ident for b in replica.documents_of(gc)}
        for r in got:
            sponsor = r["PrimarySponsor"]
            assert sponsor is None or (set(sponsor) == {"Id", "Name", "Type", "Details"} and sponsor["Type"] in (1, 2, 3, 4))
            assert r["Details"] is None or r["Details"].endswith(f"/api/GeneralCourts/{gc}/Documents/{ident(r)}")
            assert r["IsDocketBookOnly"] is (r["BillNumber"] is None)
    # the bundled 192nd is still there, alone in its list
    assert {r["BillNumber"] for r in rows(server, 192)} == {"H135", "S47", "H5091", "S3063"}


def test_default_sizes_and_only_the_real_documents_speak_of_faces():
    replica = with_dockets()
    assert {gc: len(replica.documents_of(gc)) for gc in (192, 193, 194)} == {192: 4, 193: 6500, 194: 7000}
    matching = {}
    for gc in (193, 194):
        for doc in replica.documents_of(gc):
            where = [k for k, v in words_of(doc).items() if "facial recognition" in v.lower()]
            if where:
                matching[(gc, doc.ident)] = where
            if doc.sponsor is None or doc.sponsor[0] is None or not doc.sponsor[0].startswith("Z"):
                continue
            blob = " ".join(words_of(doc).values()).lower()
            if (gc, doc.ident) not in WRITTEN:  # a generated document
                assert not any(w in blob for w in gen.RESERVED_WORDS), (gc, doc.ident)
                for lineage in ("HOUSE, NO. 135 OF 2021-2022", "SENATE, NO. 47 OF 2021-2022",
                                "HOUSE, NO. 1728 OF 2023-2024", "SENATE, NO. 927 OF 2023-2024"):
                    assert lineage not in (doc.pinslip or ""), (gc, doc.ident)
    assert matching == {
        (193, "H1728"): ["title", "pinslip", "text"], (193, "S927"): ["title", "pinslip", "text"],
        (193, "H4359"): ["title", "text"],
        (194, "H1946"): ["title", "pinslip", "text"], (194, "S1053"): ["title", "pinslip", "text"],
        (193, "H495"): ["title", "pinslip", "text"],  # the 193rd's schools ban (a near-miss for H.135)
        (194, "H612"): ["title", "pinslip", "text"],
        (194, "H3120"): ["pinslip"],  # matches "facial recognition" only in its pinslip
    }
    kinds = {d.legislation_type for d in replica.documents_of(194)}
    assert kinds == {"Bill", "Resolve", "Order"}
    numbers = [int(d.number[1:]) for d in replica.documents_of(194) if d.number and d.number[0] == "H"]
    assert max(numbers) < 5000 and sum(1 for d in replica.documents_of(194) if d.docket_only) == 140


def test_a_full_size_list_over_http():
    replica = with_dockets({194: None})
    with ReplicaServer(replica) as srv:
        t0 = time.monotonic()
        got = rows(srv, 194)
        first = time.monotonic() - t0
        t0 = time.monotonic()
        assert rows(srv, 194) == got
        again = time.monotonic() - t0
    assert len(got) == 7000 and len({ident(r) for r in got}) == 7000
    nulls = sum(1 for r in got if r["Details"] is None)
    assert 0.01 < nulls / len(got) < 0.02  # about 1.6% of the real rows have Details: null
    assert 0.015 < sum(1 for r in got if r["BillNumber"] is None) / len(got) < 0.025
    assert again < 2 and first < 10  # the second is the cached rendering


# ---------------------------------------------------------------- the real documents


def test_the_campaigns_bills_as_the_real_ones(server):
    by_id = {(gc, ident(r)): r for gc in (193, 194) for r in rows(server, gc)}
    h1728 = by_id[(193, "H1728")]
    assert h1728["DocketNumber"] == "HD2304" and h1728["Title"] == gen.TITLE
    assert (h1728["PrimarySponsor"]["Id"], h1728["PrimarySponsor"]["Name"], h1728["PrimarySponsor"]["Type"]) == (
        "O_R1", "Orlando Ramos", 1)
    assert by_id[(193, "S927")]["DocketNumber"] == "SD750"
    assert by_id[(193, "S927")]["PrimarySponsor"]["Name"] == "Cynthia Stone Creem"
    assert by_id[(194, "H1946")]["PrimarySponsor"]["Id"] == "O_R1"
    assert by_id[(194, "S1053")]["DocketNumber"] == "SD503"

    doc = detail(server, 193, "H1728")
    assert set(doc) == DETAIL_KEYS
    assert doc["JointSponsor"]["Name"] == "David M. Rogers" and doc["JointSponsor"]["Id"] == "DMR1"
    assert [c["Name"] for c in doc["Cosponsors"][:2]] == ["Orlando Ramos", "David M. Rogers"]
    assert doc["Pinslip"].startswith("By Representatives Ramos of Springfield and Rogers of Cambridge")
    assert "The Judiciary." in doc["Pinslip"] and doc["LegislationTypeName"] == "Bill"
    assert doc["BillHistory"].endswith("/api/GeneralCourts/193/Documents/H1728/DocumentHistoryActions")
    assert doc["Cosponsors"][0]["ResponseDate"].startswith("2023-01-")
    assert "SECTION 1." in doc["DocumentText"] and "facial recognition" in doc["DocumentText"]

    s1053 = detail(server, 194, "S1053")
    assert s1053["Pinslip"].endswith(
        "The Judiciary. [SIMILAR MATTER FILED IN PREVIOUS SESSION SEE SENATE, NO. 927 OF 2023-2024.]")
    assert [c["Name"] for c in s1053["Cosponsors"]] == [
        "Cynthia Stone Creem", "Joanne M. Comerford", "Rebecca L. Rausch", "Michael J. Barrett", "James B. Eldridge"]
    assert s1053["JointSponsor"] is None and s1053["Title"] == gen.TITLE
    h1946 = detail(server, 194, "H1946")
    assert "SEE HOUSE, NO. 1728 OF 2023-2024" in h1946["Pinslip"]

    url = api_document_url(server.base_url, 194, "S1053")
    parsed = parse_api_document(get(url, JSON)[2], url)
    assert (parsed.number, parsed.docket, parsed.session) == ("S1053", "SD503", 194)
    assert parsed.sponsor == Sponsor("Cynthia Stone Creem", "CSC0")

    # the 192nd's details keep their shape: no JointSponsor before the 193rd
    assert "JointSponsor" not in detail(server, 192, "H135")


def test_the_watches_documents(server):
    schools = detail(server, 194, "H612")
    assert schools["Title"] == gen.SCHOOLS_TITLE
    assert schools["PrimarySponsor"]["Id"] not in CAMPAIGN_CODES
    old = detail(server, 194, "S1587")
    assert old["Title"] == "An Act to regulate face surveillance"
    assert not {c["Id"] for c in old["Cosponsors"]} & CAMPAIGN_CODES
    assert "facial recognition" not in (old["DocumentText"] + old["Pinslip"]).lower()
    pin = detail(server, 194, "H3120")
    assert "facial recognition" in pin["Pinslip"]
    assert "facial recognition" not in (pin["Title"] + pin["DocumentText"]).lower()


def test_docket_only_rows(server, replica):
    only = [r for r in rows(server, 194) if r["BillNumber"] is None]
    assert only and all(r["IsDocketBookOnly"] and r["DocketNumber"].startswith(("HD", "SD")) for r in only)
    row = next(r for r in only if r["Details"])
    doc = detail(server, 194, row["DocketNumber"])
    assert doc["BillNumber"] is None and doc["DocketNumber"] == row["DocketNumber"]
    assert "subject to Joint Rule 12" in doc["Pinslip"] and "accompanied by bill" not in doc["Pinslip"]
    status, _, body = get(f"{server.base_url}/api/GeneralCourts/194/Documents/{row['DocketNumber']}"
                          "/DocumentHistoryActions", JSON)
    assert status == 200 and json.loads(body) == []
    status, _, xml = get(f"{server.base_url}/api/GeneralCourts/194/Documents", {"Accept": "application/xml"})
    assert b'<BillNumber i:nil="true"/>' in xml and b"<IsDocketBookOnly>true</IsDocketBookOnly>" in xml
    assert get(f"{server.base_url}/Bills/194/{row['DocketNumber']}")[0] == 200


# ---------------------------------------------------------------- mutations


def test_a_docket_gains_its_bill_number(server, replica):
    before = rows(server, 194)
    docket = next(r["DocketNumber"] for r in before if r["BillNumber"] is None and r["DocketNumber"].startswith("HD"))
    replica.assign_bill_number(194, docket, "H4990")
    after = rows(server, 194)
    assert len(after) == len(before)
    assert [r["DocketNumber"] for r in after] == [r["DocketNumber"] for r in before]  # it keeps its place
    row = next(r for r in after if r["DocketNumber"] == docket)
    assert row["BillNumber"] == "H4990" and row["IsDocketBookOnly"] is False
    assert row["Details"].endswith("/api/GeneralCourts/194/Documents/H4990")
    by_number, by_docket = detail(server, 194, "H4990"), detail(server, 194, docket)
    assert by_number == by_docket  # the docket number answers the same document (the replica's choice)
    assert (by_number["BillNumber"], by_number["DocketNumber"]) == ("H4990", docket)
    assert "(accompanied by bill, House, No. 4990) of" in by_number["Pinslip"]
    assert replica.bill(194, docket) is replica.bill(194, "H4990")
    with pytest.raises(ValueError, match="already has"):
        replica.assign_bill_number(194, docket, "H4991")
    other = next(r["DocketNumber"] for r in after if r["BillNumber"] is None)
    with pytest.raises(ValueError, match="already in"):
        replica.assign_bill_number(194, other, "H1946")
    # a real bill's docket number answers the bill too
    assert detail(server, 193, "HD2304")["BillNumber"] == "H1728"


def test_add_retitle_and_remove_documents(server, replica):
    _, headers, _ = get(f"{server.base_url}/api/GeneralCourts/194/Documents", JSON)
    replica.add_document(194, docket="HD9001", title="An Act relative to late filings",
                         sponsor=("ZAA1", "Someone Fictional"), pinslip="By Representative Fictional of Lowell, "
                         "a petition of Someone Fictional relative to late filings. Rules.")
    got = rows(server, 194)
    assert len(got) == 201 and got[-1]["DocketNumber"] == "HD9001" and got[-1]["BillNumber"] is None
    with pytest.raises(ValueError):
        replica.add_document(194, docket="HD9001", title="again")
    with pytest.raises(ValueError):
        replica.add_document(194, "H1946", title="again")

    replica.retitle(194, "H1946", "An Act to implement the recommendations of the facial recognition commission")
    status, headers2, body = get(f"{server.base_url}/api/GeneralCourts/194/Documents", JSON)
    assert headers2["etag"] != headers["etag"]
    assert next(r for r in json.loads(body) if r["BillNumber"] == "H1946")["Title"].endswith("commission")
    assert detail(server, 194, "H1946")["Title"].endswith("commission")

    replica.remove_document(194, "S1587")
    assert "S1587" not in {ident(r) for r in rows(server, 194)}
    status, _, body = get(api_document_url(server.base_url, 194, "S1587"), JSON)
    assert status == 500 and is_oh_my_cod(body)
    replica.remove_document(194, "H612", keep_detail=True)
    assert "H612" not in {ident(r) for r in rows(server, 194)}
    assert detail(server, 194, "H612")["Title"] == gen.SCHOOLS_TITLE
    assert len(rows(server, 194)) == 199


@pytest.mark.parametrize("status", [500, 400])
def test_a_detail_that_fails(server, replica, status):
    replica.fail_detail(194, "H1946", status)
    url = api_document_url(server.base_url, 194, "H1946")
    got, headers, body = get(url, JSON)
    assert got == status
    if status == 500:
        assert is_oh_my_cod(body) and headers["content-type"].startswith("text/html")
        with pytest.raises(BillNotFound):
            parse_api_document(body, url)
    else:
        assert json.loads(body) == {"Message": "The request is invalid."}
    assert get(f"{url}/DocumentHistoryActions", JSON)[0] == status
    assert "H1946" in {ident(r) for r in rows(server, 194)}  # the list row is as it was
    assert detail(server, 194, "S1053")["BillNumber"] == "S1053"  # the others answer
    replica.heal_detail(194, "H1946")
    assert detail(server, 194, "H1946")["BillNumber"] == "H1946"
    with pytest.raises(ValueError):
        replica.fail_detail(194, "H1946", 503)


@pytest.mark.parametrize("status", [400, 500])
def test_a_session_the_api_does_not_know(server, replica, status):
    base = server.base_url
    got, _, body = get(f"{base}/api/GeneralCourts/195/Documents", JSON)  # no documents: not convened
    assert got == 500 and is_oh_my_cod(body)

    replica.set_session_unknown(195, status)
    add_docket(replica, 195, 30)  # dockets filed, but the API does not serve them yet
    replica.set_session_unknown(194, status)
    for path in ("/api/GeneralCourts/195/Documents", "/api/GeneralCourts/194/Documents",
                 "/api/GeneralCourts/194/Documents/H1946", "/api/GeneralCourts/194/Documents/H1946/DocumentHistoryActions"):
        got, headers, body = get(base + path, JSON)
        assert got == status, path
        assert is_oh_my_cod(body) if status == 500 else json.loads(body)["Message"]
    assert len(rows(server, 193)) == 200  # the others answer
    replica.set_session_known(194)
    replica.set_session_known(195)
    assert len(rows(server, 194)) == 200
    assert len(rows(server, 195)) == 30


# ---------------------------------------------------------------- counting, latency, determinism


def test_request_counts_per_kind_and_path(server, replica):
    rows(server, 194)
    rows(server, 194)
    rows(server, 193)
    detail(server, 194, "H1946")
    detail(server, 194, "S1053")
    get(f"{server.base_url}/api/GeneralCourts/194/Documents/H1946/DocumentHistoryActions", JSON)
    get(f"{server.base_url}/api/GeneralCourts/194/Documents?x=1", JSON)
    assert replica.document_requests(194) == {"list": 3, "detail": 2, "history": 1}
    assert replica.document_requests(193) == {"list": 1, "detail": 0, "history": 0}
    assert replica.document_requests() == {"list": 4, "detail": 2, "history": 1}
    assert replica.path_count("/api/GeneralCourts/194/Documents") == 3
    assert replica.path_count("/API/generalcourts/194/documents/h1946/") == 1
    replica.log_limit = 1  # the log is trimmed; the counts are not
    for _ in range(5):
        detail(server, 194, "H1946")
    assert len(replica.requests) <= 2 and replica.document_requests(194)["detail"] == 7


def test_latency_is_per_request_and_concurrent(server, replica):
    replica.delay_s = 0.25
    url = api_document_url(server.base_url, 194, "H1946")
    done = []

    def fetch():
        done.append(get(url, JSON)[0])

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    assert done == [200] * 8
    assert 0.25 <= elapsed < 1.5  # side by side, not 8 x 0.25 s one after the other


def _fingerprint(docs) -> list[tuple]:
    return [(d.number, d.docket, d.title, d.sponsor, d.sponsor_kind, tuple(d.petitioners), d.joint_sponsor, d.pinslip,
             d.text, d.legislation_type, d.filed, d.details_null, d.emergency_preamble, tuple(map(str, d.history)))
            for d in docs]


def test_the_generator_is_deterministic():
    a = _fingerprint(gen.generate(194, 300, seed=7))
    assert a == _fingerprint(gen.generate(194, 300, seed=7))
    assert a != _fingerprint(gen.generate(194, 300, seed=8))
    assert _fingerprint(with_dockets({193: 250}).documents_of(193)) == _fingerprint(gen.generate(193, 250))
    assert gen.roster(194) == gen.roster(194) and gen.roster(194) != gen.roster(193)
    # the real documents do not depend on the seed
    for seed in (7, 8):
        docs = {d.ident: d for d in gen.generate(194, 300, seed=seed)}
        assert docs["H612"].sponsor == docs["H612"].sponsor and docs["S1053"].docket == "SD503"
    assert gen.generate(194, 300, seed=7)[0].sponsor == gen.generate(194, 300, seed=7)[0].sponsor
    with pytest.raises(ValueError):
        gen.generate(194, 3)


def test_the_lists_bad_input_is_there_unless_asked_not_to():
    docs = gen.generate(194, 500)
    real = {"H1946", "S1053", "H612", "S1587", "H3120"}
    made = [d for d in docs if d.ident not in real]
    assert any(d.details_null for d in made) and any(d.sponsor is None for d in made)
    assert any("&amp;" in (d.title or "") for d in made)
    assert any((d.title or "") != " ".join((d.title or "").split()) for d in made)
    assert not any(d.details_null or d.sponsor is None for d in docs if d.ident in real)
    clean = gen.generate(194, 500, quirks=False)
    assert not any(d.details_null or d.sponsor is None or "&amp;" in (d.title or "") for d in clean)


def test_generating_a_session_is_fast():
    t0 = time.process_time()
    docs = gen.generate(194, 7000)
    elapsed = time.process_time() - t0
    assert len(docs) == 7000
    assert elapsed < 3, f"generating 7,000 documents took {elapsed:.2f} s of CPU"


# ---------------------------------------------------------------- the 192nd, and the successor search's near-misses


def test_the_192nd_docket_holds_the_campaigns_first_bills_once():
    docs = {d.ident: d for d in gen.generate(192, 300)}
    assert len(docs) == 300
    h135, s47, s3084 = docs["H135"], docs["S47"], docs["S3084"]
    assert (h135.title, h135.docket, h135.sponsor) == (gen.OLD_TITLE, "HD3228", ("DMR1", "David M. Rogers"))
    assert h135.petitioners[:2] == [("DMR1", "David M. Rogers"), ("O_R1", "Orlando Ramos")]
    assert (s47.title, s47.docket, s47.sponsor) == (gen.OLD_TITLE, "SD2134", ("CSC0", "Cynthia Stone Creem"))
    assert h135.text == s47.text == text_of(192, "H135") and h135.joint_sponsor is None
    assert s3084.text == "" and s3084.page_text == text_of(192, "S3084")  # its text is only on its HTML page
    assert (s3084.title, s3084.sponsor, s3084.docket) == ("Bill to regulate face surveillance",
                                                          ("S30", "Senate Committee on Ways and Means"), None)
    # no other document names S3084 or speaks of faces but the 192nd's own real ones
    for d in docs.values():
        if d.ident not in {"H135", "S47", "H5091", "S3063", "S3084"}:
            blob = " ".join(words_of(d).values()).lower()
            assert not any(w in blob for w in gen.RESERVED_WORDS), d.ident

    # on the bundled replica (the crawl tests' H135 and S47): one of each, as they were, with a text now
    bundled = with_dockets({})
    before = {n: (b.docket, b.pinslip, list(b.history), list(b.similar), b.sponsor, list(b.petitioners))
              for n in ("H135", "S47") for b in [bundled.bill(192, n)]}
    replica = with_dockets({192: 300})
    assert len(replica.documents_of(192)) == 300
    with ReplicaServer(replica) as srv:
        listed = [ident(r) for r in rows(srv, 192)]
        assert len(listed) == 300 and listed.count("H135") == 1 and listed.count("S47") == 1
        doc = detail(srv, 192, "H135")
        assert "JointSponsor" not in doc and doc["DocumentText"] == text_of(192, "H135")
        assert doc["DocketNumber"] == "HD3228" and detail(srv, 192, "HD3228")["BillNumber"] == "H135"
        assert detail(srv, 192, "S3084")["PrimarySponsor"]["Type"] == 2
    for n, was in before.items():
        b = replica.bill(192, n)
        assert (b.docket, b.pinslip, b.history, b.similar, b.sponsor, b.petitioners) == was
        assert b.text == text_of(192, n)
    add_docket(replica, 192, 300)  # again: nothing new
    assert len(replica.documents_of(192)) == 300


def test_the_near_misses_of_the_193rd(server):
    schools, old = detail(server, 193, "H495"), detail(server, 193, "S1410")
    assert schools["Title"] == gen.SCHOOLS_TITLE and old["Title"] == gen.OLD_TITLE
    for doc in (schools, old):
        assert not {c["Id"] for c in doc["Cosponsors"]} & CAMPAIGN_CODES
        assert "SIMILAR MATTER" not in doc["Pinslip"]
        assert "NO. 135 " not in doc["Pinslip"] and "NO. 47 " not in doc["Pinslip"]
        assert doc["DocumentText"] != detail(server, 193, "H1728")["DocumentText"]
    assert "school" in schools["DocumentText"] and "police department" in old["DocumentText"]
    assert "facial recognition" not in (old["DocumentText"] + old["Pinslip"]).lower()
    # nothing else in the 193rd names the 192nd's campaign bills but their real successors
    naming = [r for r in rows(server, 193)
              if any(n in (detail(server, 193, ident(r))["Pinslip"] or "") for n in ("HOUSE, NO. 135 OF",
                                                                                     "SENATE, NO. 47 OF"))]
    assert sorted(ident(r) for r in naming) == ["H1728", "S927"]


def test_generating_the_192nd_is_deterministic_and_fast():
    assert _fingerprint(gen.generate(192, 400)) == _fingerprint(gen.generate(192, 400))
    t0 = time.process_time()
    assert len(gen.generate(192, 7000)) == 7000
    assert time.process_time() - t0 < 3


# ---------------------------------------------------------------- the Similar endpoint


def similar(server, gc: int, ident: str, headers: dict | None = None) -> tuple[int, bytes]:
    status, _, body = get(f"{server.base_url}/api/GeneralCourts/{gc}/Documents/{ident}/Similar", headers or JSON)
    return status, body


def test_the_similar_endpoint_names_the_lineage_across_general_courts(server, replica):
    status, body = similar(server, 194, "H1946")
    assert status == 200 and json.loads(body) == [
        {"BillNumber": "S1053", "DocketNumber": "SD503", "GeneralCourtNumber": 194},
        {"BillNumber": "H1728", "DocketNumber": "HD2304", "GeneralCourtNumber": 193}]
    status, body = similar(server, 193, "h1728")
    assert status == 200 and [(r["GeneralCourtNumber"], r["BillNumber"]) for r in json.loads(body)] == [
        (193, "S927"), (192, "H135"), (194, "H1946")]
    assert json.loads(similar(server, 193, "HD2304")[1]) == json.loads(body)  # by its docket number too
    assert [(r["GeneralCourtNumber"], r["BillNumber"]) for r in json.loads(similar(server, 193, "S927")[1])] == [
        (193, "H1728"), (192, "S47"), (194, "S1053")]
    assert json.loads(similar(server, 192, "H135")[1]) == [
        {"BillNumber": "S47", "DocketNumber": "SD2134", "GeneralCourtNumber": 192}]
    assert json.loads(similar(server, 193, "H495")[1]) == [] == json.loads(similar(server, 193, "S1410")[1])
    status, body = similar(server, 194, "H1946", {"Accept": "application/xml"})
    assert status == 200 and b"<GeneralCourtNumber>193</GeneralCourtNumber>" in body

    # the API's answer for some real bills: 400 and a message
    status, body = similar(server, 194, "S1053")
    assert status == 400 and json.loads(body) == {
        "Message": 'Could not locate any public Documents in General Court "194"'}
    assert detail(server, 194, "S1053")["BillNumber"] == "S1053"  # the detail answers
    replica.fail_similar(194, "H1946", 500)
    status, body = similar(server, 194, "H1946")
    assert status == 500 and is_oh_my_cod(body)
    replica.fail_similar(194, "H1946", None)
    assert similar(server, 194, "H1946")[0] == 200
    with pytest.raises(ValueError):
        replica.fail_similar(194, "H1946", 503)
    status, body = similar(server, 194, "H9999")  # no such document
    assert status == 500 and is_oh_my_cod(body)

    # a document named but not held is left out; it appears once the replica holds it
    replica.update_bill(194, "H612", similar=["195/H1", "H1946"])
    assert [r["BillNumber"] for r in json.loads(similar(server, 194, "H612")[1])] == ["H1946"]
    add_docket(replica, 195, 30)
    assert [r["BillNumber"] for r in json.loads(similar(server, 194, "H612")[1])] == ["H1", "H1946"]
    # the bill page's sidebar lists the same documents
    status, _, page = get(f"{server.base_url}/Bills/193/H1728")
    assert status == 200 and b'href="/Bills/192/H135"' in page and b'href="/Bills/194/H1946"' in page
