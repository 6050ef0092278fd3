"""The legislature's directory: the replica's Committees and LegislativeMembers endpoints,
the pure parsers, the directory spider in its child process, storage and the lookups."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from db.models import Bill, Committee, Legislator
from spiders.directory_parse import (
    DirectoryNotFound,
    DirectoryParseError,
    parse_committee,
    parse_committee_list,
    parse_member,
    parse_member_list,
)
from spiders.malegislature_parse import is_oh_my_cod
from tracker.config import parse_config
from tracker.crawl import crawl
from db.directory import chairs, committee_for, districts, legislators_for, member, normalize_district
from tracker.directory import refresh_directory
from tracker.replica import Replica, ReplicaServer
from tracker.replica.model import ReplicaMember, sponsor_type

JSON = {"Accept": "application/json"}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """GET without raising on 4xx/5xx; header names lower-cased."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def get_json(url: str):
    status, headers, body = get(url, JSON)
    assert status == 200 and headers["content-type"].startswith("application/json"), (url, status, body[:200])
    return json.loads(body)


def api(base: str, path: str) -> str:
    return f"{base}/api/GeneralCourts/{path}"


# ---------------------------------------------------------------- the replica's endpoints


def test_committee_list_and_detail(replica_server):
    base = replica_server.base_url
    rows = get_json(api(base, "192/Committees"))
    codes = {r["CommitteeCode"] for r in rows}
    assert {"J33", "J19", "H33", "S30", "S29", "J34"} <= codes
    j19 = next(r for r in rows if r["CommitteeCode"] == "J19")
    assert j19 == {"CommitteeCode": "J19", "GeneralCourtNumber": 192, "Details": api(base, "192/Committees/J19")}

    detail = get_json(j19["Details"])
    assert detail["FullName"] == "Joint Committee on the Judiciary" and detail["Branch"] == "Joint"
    assert detail["HouseChairperson"] == {"GeneralCourtNumber": 192, "MemberCode": "MSD1",
                                          "Details": api(base, "192/LegislativeMembers/MSD1")}
    assert detail["SenateChairperson"]["MemberCode"] == "JBE0"
    for key in ("CommitteeCode", "ShortName", "Description", "GeneralCourtNumber", "Hearings",
                "DocumentsBeforeCommittee", "ReportedOutDocuments"):
        assert key in detail
    # a House committee has no Senate chair
    house_wm = get_json(api(base, "192/Committees/H33"))
    assert house_wm["FullName"] == "House Committee on Ways and Means" and house_wm["SenateChairperson"] is None


def test_member_list_and_detail(replica_server):
    base = replica_server.base_url
    rows = get_json(api(base, "192/LegislativeMembers"))
    assert {"GeneralCourtNumber": 192, "MemberCode": "DMR1", "Details": api(base, "192/LegislativeMembers/DMR1")} in rows

    rogers = get_json(api(base, "192/LegislativeMembers/DMR1"))
    assert rogers["Name"] == "David M. Rogers" and rogers["Branch"] == "House"
    assert rogers["District"] == "Twenty-Fourth Middlesex"
    assert rogers["EmailAddress"].endswith("@example.org") and rogers["PhoneNumber"].startswith("617-555-01")
    assert [b["BillNumber"] for b in rogers["SponsoredBills"]] == ["H135"]
    for key in ("GeneralCourtNumber", "LeadershipPosition", "MemberCode", "Party", "RoomNumber", "FaxNumber",
                "CoSponsoredBills", "Committees"):
        assert key in rogers
    # a chair sits on the committee it chairs
    day = get_json(api(base, "192/LegislativeMembers/MSD1"))
    assert {"CommitteeCode": "J19", "GeneralCourtNumber": 192, "Details": api(base, "192/Committees/J19")} \
        in day["Committees"]


def test_every_sponsor_petitioner_and_chair_is_a_member(replica_server, replica):
    base = replica_server.base_url
    members = {r["MemberCode"] for r in get_json(api(base, "192/LegislativeMembers"))}
    wanted = set()
    for bill in replica.bills.values():
        for code, _name in [bill.sponsor, *bill.petitioners]:
            if sponsor_type(code) == 1:  # a legislator, not a committee (J19) or a citizen
                wanted.add(code)
    for row in get_json(api(base, "192/Committees")):
        detail = get_json(row["Details"])
        for chair in (detail["HouseChairperson"], detail["SenateChairperson"]):
            if chair:
                wanted.add(chair["MemberCode"])
    assert {"DMR1", "O_R1", "CSC0", "ZZA1", "ZZB1", "ZZC1", "ZZD1", "MSD1", "JBE0"} <= wanted
    assert wanted <= members


def test_xml_for_a_browser_like_the_document_endpoints(replica_server):
    status, headers, body = get(api(replica_server.base_url, "192/Committees/J19"), {"Accept": BROWSER_ACCEPT})
    assert status == 200 and headers["content-type"].startswith("application/xml")
    assert b"<Committee " in body and b"<MemberCode>MSD1</MemberCode>" in body
    status, headers, body = get(api(replica_server.base_url, "192/LegislativeMembers"), {"Accept": BROWSER_ACCEPT})
    assert status == 200 and body.startswith(b"<?xml") and b"<MemberCode>DMR1</MemberCode>" in body


def test_unknown_code_or_court_is_500_oh_my_cod_like_an_unknown_document(replica_server):
    for path in ("192/Committees/J99", "192/LegislativeMembers/NOBODY", "150/Committees", "150/LegislativeMembers"):
        status, headers, body = get(api(replica_server.base_url, path), JSON)
        assert status == 500 and headers["content-type"].startswith("text/html") and is_oh_my_cod(body), path


def test_the_directory_is_mutable_and_has_its_own_faults(replica_server, replica):
    base = replica_server.base_url
    replica.set_chair(192, "J19", "House", "DMR1")
    assert get_json(api(base, "192/Committees/J19"))["HouseChairperson"]["MemberCode"] == "DMR1"
    replica.add_member(ReplicaMember(session=192, code="ZZN1", name="Placeholder Newcomer", branch="House",
                                     district="Fourth Essex"))
    assert "ZZN1" in {r["MemberCode"] for r in get_json(api(base, "192/LegislativeMembers"))}
    replica.update_member(192, "ZZN1", district="Fifth Essex")
    assert get_json(api(base, "192/LegislativeMembers/ZZN1"))["District"] == "Fifth Essex"

    replica.directory_errors.add((192, "JBE0"))
    assert get(api(base, "192/LegislativeMembers/JBE0"), JSON)[0] == 500
    assert get(api(base, "192/LegislativeMembers/MSD1"), JSON)[0] == 200
    replica.directory_status = 503
    assert get(api(base, "192/Committees"), JSON)[0] == 503
    assert get(api(base, "192/Documents/H135"), JSON)[0] == 200  # bills are unaffected
    with pytest.raises(KeyError):
        replica.update_committee(192, "J99", full_name="x")


def test_an_empty_directory_replica():
    replica = Replica(directory={})
    with ReplicaServer(replica) as srv:
        assert get(api(srv.base_url, "192/Committees"), JSON)[0] == 500


# ---------------------------------------------------------------- parsers (inline JSON, no network)

URL = "https://malegislature.gov/api/GeneralCourts/192/Committees"


def test_parse_lists_skip_rows_without_a_code_and_duplicates():
    body = json.dumps([
        {"CommitteeCode": "J19", "GeneralCourtNumber": 192, "Details": f"{URL}/J19"},
        {"CommitteeCode": None, "GeneralCourtNumber": 192, "Details": None},
        {"CommitteeCode": "J19", "GeneralCourtNumber": 192},
        {"CommitteeCode": "H33"},
    ])
    refs = parse_committee_list(body.encode(), URL)
    assert [(r.code, r.session) for r in refs] == [("J19", 192), ("H33", 192)]  # the session from the URL
    members = parse_member_list(b'[{"MemberCode": "DMR1", "GeneralCourtNumber": 192, "Details": null}]',
                                URL.replace("Committees", "LegislativeMembers"))
    assert [m.code for m in members] == ["DMR1"]
    assert parse_member_list(b"[]", URL) == []


def test_parse_committee_tolerates_null_chairs_and_missing_fields():
    rec = parse_committee(json.dumps({
        "CommitteeCode": "J19", "FullName": " Joint Committee on   the Judiciary ", "Branch": "Joint",
        "GeneralCourtNumber": 192, "HouseChairperson": {"GeneralCourtNumber": 192, "MemberCode": "MSD1"},
        "SenateChairperson": None,
    }).encode(), f"{URL}/J19")
    assert (rec.code, rec.session, rec.full_name, rec.branch) == ("J19", 192, "Joint Committee on the Judiciary", "Joint")
    assert (rec.house_chair, rec.senate_chair, rec.short_name, rec.description) == ("MSD1", None, None, None)

    sparse = parse_committee(b'{"ShortName": "Rules (S)", "HouseChairperson": {"MemberCode": null}}', f"{URL}/S29")
    assert (sparse.code, sparse.full_name, sparse.house_chair) == ("S29", "Rules (S)", None)


def test_parse_member_reads_contact_details_and_committee_codes():
    url = "https://malegislature.gov/api/GeneralCourts/192/LegislativeMembers/JBE0"
    rec = parse_member(json.dumps({
        "Name": "James B. Eldridge", "GeneralCourtNumber": 192, "LeadershipPosition": None, "Branch": "Senate",
        "MemberCode": "JBE0", "District": "Middlesex and  Worcester", "Party": "Democrat",
        "EmailAddress": "james.eldridge@example.org", "RoomNumber": 413, "PhoneNumber": "617-555-0105",
        "FaxNumber": "", "SponsoredBills": [{"BillNumber": "S1"}], "CoSponsoredBills": None,
        "Committees": [{"CommitteeCode": "J19", "GeneralCourtNumber": 192}, {"CommitteeCode": None}, "junk"],
    }).encode(), url)
    assert (rec.name, rec.branch, rec.district, rec.room, rec.fax) == \
        ("James B. Eldridge", "Senate", "Middlesex and Worcester", "413", None)
    assert rec.committees == ["J19"] and rec.email == "james.eldridge@example.org"
    bare = parse_member(b"{}", url)
    assert (bare.code, bare.session, bare.name, bare.committees) == ("JBE0", 192, None, [])


@pytest.mark.parametrize("parser", [parse_committee_list, parse_member_list, parse_committee, parse_member])
@pytest.mark.parametrize("body, fragment", [
    (b"", "empty"),
    (b'[{"CommitteeCode": "J19"', "malformed JSON"),
    (b"<!DOCTYPE html><html><body><h1>Oh My Cod!</h1></body></html>", "not found"),
    (b'<?xml version="1.0"?><ArrayOfCommitteeSummary/>', "Accept: application/json"),
    (b"<html><body>Maintenance</body></html>", "HTML, not JSON"),
    (b"42", "expected"),
])
def test_malformed_bodies_are_errors_naming_the_url(parser, body, fragment):
    url = "https://malegislature.gov/api/GeneralCourts/192/Committees/J19"
    with pytest.raises(DirectoryParseError) as err:
        parser(body, url)
    assert isinstance(err.value, ValueError) and err.value.url == url
    assert url in str(err.value) and fragment in str(err.value)
    if b"Oh My Cod" in body:
        assert isinstance(err.value, DirectoryNotFound)


def test_wrong_shapes_are_errors():
    with pytest.raises(DirectoryParseError, match="expected a list"):
        parse_committee_list(b'{"CommitteeCode": "J19"}', URL)
    with pytest.raises(DirectoryParseError, match="expected an object"):
        parse_committee(b'[{"CommitteeCode": "J19"}]', f"{URL}/J19")
    with pytest.raises(DirectoryParseError, match="row 1"):
        parse_member_list(b'[{"MemberCode": "DMR1"}, "DMR2"]', URL)
    with pytest.raises(DirectoryParseError, match="has a MemberCode"):
        parse_member_list(b'[{"Name": "Nobody"}]', URL)
    with pytest.raises(DirectoryParseError, match="no CommitteeCode"):
        parse_committee(b'{"FullName": "x"}', "https://malegislature.gov/api/Committees")
    with pytest.raises(DirectoryParseError, match="Committees is"):
        parse_member(b'{"MemberCode": "DMR1", "Committees": "J19"}', URL)


# ---------------------------------------------------------------- the spider in its child process


def test_the_spider_reports_every_record_or_the_failure(replica_server, replica):
    from tracker.child import run_spider

    settings = {"base_url": replica_server.base_url, "delay_s": 0, "concurrency": 4, "timeout_s": 5,
                "user_agent": "directory-test/1"}
    items = list(run_spider("directory", settings, [192], 60))
    kinds = [i["type"] for i in items]
    assert kinds.count("committee-list") == 1 and kinds.count("member-list") == 1
    assert kinds.count("committee") == len(replica.committees_of(192)) == 6
    assert kinds.count("member") == len(replica.members_of(192)) == 15
    j19 = next(i["record"] for i in items if i["type"] == "committee" and i["code"] == "J19")
    assert (j19["house_chair"], j19["senate_chair"]) == ("MSD1", "JBE0")
    # polite like the bill spider: its User-Agent, JSON asked for
    seen = [h for _m, p, h in replica.requests if "/LegislativeMembers" in p or "/Committees" in p]
    assert len(seen) == 2 + 6 + 15
    assert all(h.get("User-Agent") == "directory-test/1" and h.get("Accept") == "application/json" for h in seen)

    replica.directory_errors.add((192, "ZZK1"))
    items = list(run_spider("directory", settings, [192], 60))
    errors = [i for i in items if i["type"] == "directory-error"]
    assert len(errors) == 1 and errors[0]["url"].endswith("/LegislativeMembers/ZZK1")
    assert "Oh My Cod" in errors[0]["error"]


# ---------------------------------------------------------------- storage, the crawl, the lookups

CONFIG = """
sources:
  malegislature:
    session: 192
    delay_s: 0
    concurrency: 4
    timeout_s: 5
bills:
  - id: H.135
  - id: S.47
"""


def make_config(base_url: str, **overrides):
    return parse_config(CONFIG, "test").with_overrides(base_url=base_url, **overrides)


def later(days: float):
    return lambda: datetime.now(timezone.utc) + timedelta(days=days)


def directory_requests(replica, since: int = 0) -> list[str]:
    return [p for _m, p, _h in replica.requests[since:] if "/Committees" in p or "/LegislativeMembers" in p]


def stored(sessions) -> list[tuple]:
    with sessions() as s:
        rows = [(c.code, c.full_name, c.house_chair_code, c.senate_chair_code, c.fetched_at)
                for c in s.scalars(select(Committee).order_by(Committee.code))]
        rows += [(m.member_code, m.name, m.district, m.email, m.fetched_at)
                 for m in s.scalars(select(Legislator).order_by(Legislator.member_code))]
        return rows


def test_a_crawl_stores_the_directory_and_knows_who_holds_each_bill(sessions, replica_server):
    result = crawl(make_config(replica_server.base_url), sessions)
    assert result.errors == [] and result.directory.refreshed == [192]
    with sessions() as s:
        judiciary = committee_for(s, 192, "The Judiciary")
        assert judiciary.code == "J19" and judiciary.full_name == "Joint Committee on the Judiciary"
        assert [(c.name, c.branch) for c in chairs(s, judiciary)] == [("Michael S. Day", "House"),
                                                                    ("James B. Eldridge", "Senate")]
        # the committees the crawl stored for the new drafts
        held = {b.number: committee_for(s, 192, b.committee) for b in s.scalars(select(Bill)) if b.committee}
        assert {n: c.code for n, c in held.items()} == {"H5091": "H33", "S3063": "S29"}
        assert [c.member_code for c in chairs(s, held["H5091"])] == ["ZZG1"]  # no Senate chair
        # the sponsors to thank, with their contact details
        h135 = s.scalar(select(Bill).where(Bill.number == "H135"))
        rogers = member(s, 192, h135.sponsor_code)
        assert (rogers.name, rogers.district, rogers.phone) == ("David M. Rogers", "Twenty-Fourth Middlesex",
                                                                "617-555-0101")
        assert rogers.email == "david.rogers@example.org"
        assert [member(s, 192, p["member_code"]).name for p in h135.petitioners if p["member_code"]][:2] == \
            ["David M. Rogers", "Orlando Ramos"]
        assert member(s, 192, "dmr1") is rogers and member(s, 193, "DMR1") is None


def test_a_second_crawl_within_directory_every_asks_nothing_more(sessions, replica_server, replica):
    config = make_config(replica_server.base_url)
    crawl(config, sessions)
    assert len(directory_requests(replica)) == 2 + 6 + 15
    before = stored(sessions)
    n = len(replica.requests)
    again = crawl(config, sessions, now=later(6))
    assert again.errors == [] and again.directory is None
    assert directory_requests(replica, n) == []
    assert all("/Documents/" in p for _m, p, _h in replica.requests[n:])  # only the bills were asked for
    assert stored(sessions) == before


def test_a_stale_directory_is_fetched_again_with_its_changes(sessions, replica_server, replica):
    config = make_config(replica_server.base_url)
    crawl(config, sessions)
    replica.set_chair(192, "J19", "House", "DMR1")
    replica.update_member(192, "JBE0", phone="617-555-0199")
    replica.remove_member(192, "ZZB1")
    n = len(replica.requests)
    result = crawl(config, sessions, now=later(8))
    assert result.errors == [] and result.directory.refreshed == [192] and result.directory.changed == 1
    assert directory_requests(replica, n)
    with sessions() as s:
        judiciary = committee_for(s, 192, "The Judiciary")
        assert [c.member_code for c in chairs(s, judiciary)] == ["DMR1", "JBE0"]
        assert member(s, 192, "JBE0").phone == "617-555-0199"
        assert member(s, 192, "ZZB1") is None  # no longer listed: gone from the directory


def test_directory_every_is_a_validated_setting(sessions, replica_server, replica):
    from tracker.config import ConfigError

    assert parse_config("").sources.malegislature.directory_every == timedelta(days=7)
    with pytest.raises(ConfigError, match="sources.malegislature.directory_every"):
        parse_config("sources: {malegislature: {directory_every: weekly}}\n")
    config = make_config(replica_server.base_url, directory_every="1d")
    crawl(config, sessions)
    n = len(replica.requests)
    crawl(config, sessions, now=later(1.5))
    assert directory_requests(replica, n)


def test_a_failing_directory_keeps_the_stored_one_and_is_reported(sessions, replica_server, replica):
    config = make_config(replica_server.base_url)
    crawl(config, sessions)
    before = stored(sessions)
    replica.directory_status = 500
    replica.set_chair(192, "J19", "House", "DMR1")
    result = crawl(config, sessions, now=later(8))
    assert result.events == [] and result.checked == 4  # the bills were crawled as usual
    assert len(result.errors) == 1
    err = result.errors[0]
    assert err["source"] == "malegislature" and "bill" not in err
    assert err["url"].startswith(replica_server.base_url) and "/api/GeneralCourts/192/" in err["url"]
    assert "HTTP 500" in err["error"] and "192nd General Court" in err["error"]
    assert stored(sessions) == before  # nothing written, not even fetched_at

    # once the API answers again, the next crawl fetches it (it is still due)
    replica.directory_status = None
    again = crawl(config, sessions, now=later(8))
    assert again.errors == []
    with sessions() as s:
        assert chairs(s, committee_for(s, 192, "The Judiciary"))[0].member_code == "DMR1"


def test_one_failing_detail_writes_nothing_of_that_general_court(sessions, replica_server, replica):
    replica.directory_errors.add((192, "JBE0"))
    result = refresh_directory(make_config(replica_server.base_url), sessions, [192])
    assert result.refreshed == [] and len(result.errors) == 1
    assert result.errors[0]["url"].endswith("/api/GeneralCourts/192/LegislativeMembers/JBE0")
    assert "not found" in result.errors[0]["error"]
    assert stored(sessions) == []  # no committee, no member: never half-written

    replica.directory_errors.clear()
    ok = refresh_directory(make_config(replica_server.base_url), sessions)  # default: the tracked bills' courts
    assert ok.refreshed == [192] and ok.errors == []
    assert len(stored(sessions)) == 6 + 15


def test_an_unknown_general_court_is_an_error_the_others_are_stored(sessions, replica_server):
    result = refresh_directory(make_config(replica_server.base_url), sessions, [192, 150])
    assert result.refreshed == [192] and result.checked == 2
    # both lists of the 150th fail; whichever answers first is the one reported
    [error] = result.errors
    assert error["url"] in {f"{replica_server.base_url}/api/GeneralCourts/150/{what}"
                            for what in ("Committees", "LegislativeMembers")}
    assert "150th General Court" in error["error"]


def test_an_unreachable_site_is_an_error_with_its_url(sessions):
    result = refresh_directory(make_config("http://127.0.0.1:9", timeout_s=2), sessions, [192])
    assert result.refreshed == [] and len(result.errors) == 1
    assert result.errors[0]["url"].startswith("http://127.0.0.1:9/api/GeneralCourts/192/")


def test_no_directory_while_the_api_is_down_or_in_html_mode(sessions, replica_server, replica):
    replica.api_status = 500  # the bills fall back to the pages; the directory has no pages to fall back to
    result = crawl(make_config(replica_server.base_url), sessions)
    assert result.errors == [] and result.fallbacks and result.directory is None
    assert directory_requests(replica) == []
    replica.api_status = None
    crawl(make_config(replica_server.base_url, mode="html"), sessions)
    assert directory_requests(replica) == []  # html mode: the pages only
    crawl(make_config(replica_server.base_url), sessions)  # the API is back: the directory was still due
    assert len(directory_requests(replica)) == 2 + 6 + 15


def test_committee_names_match_whatever_the_spelling(sessions, replica_server):
    refresh_directory(make_config(replica_server.base_url), sessions, [192])
    with sessions() as s:
        def code(name):
            c = committee_for(s, 192, name)
            return c.code if c else None

        assert code("the judiciary") == code("JOINT COMMITTEE ON THE JUDICIARY") == code("Judiciary") == "J19"
        assert code("Advanced Information Technology, the Internet and Cybersecurity") == "J33"
        assert code("Advanced Information Technology the Internet & Cybersecurity") == "J33"
        assert code("House Ways and Means") == "H33" and code("Senate Ways and Means") == "S30"
        assert code("Senate Committee on Ways and Means") == "S30"
        assert code("Senate Rules") == "S29"
        assert code("Rules of the two branches, acting concurrently") == "J34"
        assert code("J19") == "J19"
        assert code("Ways and Means") is None  # House or Senate? not a guess
        assert code("House Judiciary") is None  # the Judiciary is joint
        assert code("Public Health") is None and code(None) is None and code("") is None
        assert committee_for(s, 193, "The Judiciary") is None  # another General Court


def test_a_supporters_legislators_by_district(sessions, replica_server):
    refresh_directory(make_config(replica_server.base_url), sessions, [192])
    with sessions() as s:
        rep, sen = legislators_for(s, 192, "Twenty-Fourth Middlesex", "Middlesex and Worcester")
        assert (rep.name, sen.name) == ("David M. Rogers", "James B. Eldridge")
        again = legislators_for(s, 192, "  twenty-fourth   MIDDLESEX ", "middlesex AND worcester")
        assert again == (rep, sen)
        assert legislators_for(s, 192, "24th Middlesex", "First Middlesex & Norfolk").senator.name == \
            "Cynthia Stone Creem"
        nobody = legislators_for(s, 192, "Ninety-Ninth Middlesex", None)
        assert nobody.representative is None and nobody.senator is None
        # a House district is not a Senate one
        assert legislators_for(s, 192, "Second Middlesex", "Second Middlesex").representative is None
        assert legislators_for(s, 193, "Twenty-Fourth Middlesex", None).representative is None

        listed = districts(s, 192)
        assert "Twenty-Fourth Middlesex" in listed["House"] and "Second Middlesex" in listed["Senate"]
        assert listed["House"] == sorted(listed["House"]) and len(listed["Senate"]) == 7
        assert districts(s, 193) == {"House": [], "Senate": []}


def test_district_spellings_fold_to_one_form():
    assert normalize_district("Twenty-Fourth Middlesex") == "24 middlesex"
    assert normalize_district("24th Middlesex District") == "24 middlesex"
    assert normalize_district("Thirtieth  middlesex") == "30 middlesex"
    assert normalize_district("Berkshire, Hampshire, Franklin and Hampden") == \
        normalize_district("berkshire hampshire franklin & hampden")
    assert normalize_district(None) == ""
