"""The directories of the replica's generated General Courts (``tracker.replica.docket.directory``):
the 193rd's and 194th's Committees and LegislativeMembers over HTTP, in the shapes the tracker
parses, and the tracker's directory refresh storing them."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest
from sqlalchemy import select

from db.directory import chairs, committee_for, legislators_for, member
from db.models import Committee, Legislator
from spiders.directory_parse import parse_committee, parse_committee_list, parse_member, parse_member_list
from tracker.config import parse_config
from tracker.directory import refresh_directory
from tracker.replica import Replica, ReplicaServer
from tracker.replica import docket as gen
from tracker.replica.docket import add_docket, with_dockets
from tracker.replica.model import ReplicaMember, sponsor_type

JSON = {"Accept": "application/json"}
SIZE = 150
MEMBERS = 200 + len(gen.REAL_MEMBERS)  # the roster's 160 + 40, and the seven real members
COMMITTEES = len(gen._COMMITTEES) + 2  # the joint committees, and House and Senate Ways and Means


@pytest.fixture(scope="module")
def site():
    replica = with_dockets({193: SIZE, 194: SIZE})
    with ReplicaServer(replica) as srv:
        yield replica, srv
    assert replica.errors == []


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=JSON), timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def get_json(url: str):
    status, body = get(url)
    assert status == 200, (url, status, body[:200])
    return json.loads(body)


def api(srv, path: str) -> str:
    return f"{srv.base_url}/api/GeneralCourts/{path}"


@pytest.mark.parametrize("gc", [193, 194])
def test_committees_list_and_details_in_the_shapes_the_tracker_parses(site, gc):
    _replica, srv = site
    url = api(srv, f"{gc}/Committees")
    status, body = get(url)
    assert status == 200
    refs = parse_committee_list(body, url)
    assert len(refs) == COMMITTEES and all(r.session == gc for r in refs)
    members = {m.code for m in parse_member_list(get(api(srv, f"{gc}/LegislativeMembers"))[1], "members")}
    for ref in refs:
        status, body = get(ref.details)
        assert status == 200, ref
        record = parse_committee(body, ref.details)
        assert record.code == ref.code and record.session == gc and record.full_name
        if record.branch == "Joint":
            assert record.house_chair in members and record.senate_chair in members
        # chairs are fictional: no real member is named chair of anything
        assert not {record.house_chair, record.senate_chair} & set(gen.REAL_MEMBERS)
    j19 = parse_committee(get(api(srv, f"{gc}/Committees/J19"))[1], "J19")
    assert (j19.full_name, j19.short_name, j19.branch) == ("Joint Committee on the Judiciary", "Judiciary (J)", "Joint")
    assert j19.house_chair and j19.senate_chair
    house_chair = parse_member(get(api(srv, f"{gc}/LegislativeMembers/{j19.house_chair}"))[1], "chair")
    senate_chair = parse_member(get(api(srv, f"{gc}/LegislativeMembers/{j19.senate_chair}"))[1], "chair")
    assert (house_chair.branch, senate_chair.branch) == ("House", "Senate")
    assert "J19" in house_chair.committees and "J19" in senate_chair.committees


@pytest.mark.parametrize("gc", [193, 194])
def test_members_list_and_details_ramos_and_creem_with_their_districts(site, gc):
    replica, srv = site
    url = api(srv, f"{gc}/LegislativeMembers")
    refs = parse_member_list(get(url)[1], url)
    assert len(refs) == MEMBERS and len({r.code for r in refs}) == MEMBERS
    records = {}
    for ref in refs:
        status, body = get(ref.details)
        assert status == 200, ref
        records[ref.code] = parse_member(body, ref.details)
    ramos, creem = records["O_R1"], records["CSC0"]
    assert (ramos.name, ramos.branch, ramos.district, ramos.party) == \
        ("Orlando Ramos", "House", "Ninth Hampden", "Democrat")
    assert (creem.name, creem.branch, creem.district) == ("Cynthia Stone Creem", "Senate", "First Middlesex and Norfolk")
    assert records["DMR1"].district == "Twenty-Fourth Middlesex"
    assert {r.branch for r in records.values()} == {"House", "Senate"}
    for r in records.values():  # the 192nd's shapes
        assert r.name and r.district and r.party in ("Democrat", "Republican")
        assert re.fullmatch(r"[a-z-]+\.[a-z-]+@example\.org", r.email), r.email
        assert re.fullmatch(r"617-555-01\d\d", r.phone), r.phone
    # one member a district, in each branch
    for branch in ("House", "Senate"):
        names = [r.district for r in records.values() if r.branch == branch]
        assert len(names) == len(set(names)), branch
    # every sponsor and petitioner who is a legislator is in the directory
    wanted = {code for doc in replica.documents_of(gc) for code, _ in [doc.sponsor or (None, ""), *doc.petitioners]
              if code and sponsor_type(code) == 1}
    assert wanted <= set(records)
    # the campaign's sponsors are credited with their bills
    sponsored = json.loads(get(api(srv, f"{gc}/LegislativeMembers/CSC0"))[1])["SponsoredBills"]
    assert {"193": ["S927"], "194": ["S1053"]}[str(gc)] == [b["BillNumber"] for b in sponsored]


def test_every_generated_documents_committee_is_in_its_directory(site):
    replica, _srv = site
    for gc in (193, 194):
        names = {c.full_name for c in replica.committees_of(gc)}
        codes = {c.code for c in replica.committees_of(gc)}
        for doc in replica.documents_of(gc, listed=False):
            if doc.sponsor and doc.sponsor[0] and sponsor_type(doc.sponsor[0]) == 2:
                assert doc.sponsor[0] in codes, (gc, doc.ident)
            if doc.number in ("H4359",) or not doc.pinslip or doc.pinslip.startswith("Text of"):
                continue
            ending = re.sub(r"\s*\[SIMILAR MATTER[^\]]*\]$", "", doc.pinslip).removesuffix(".")
            committee = ending.rsplit(". ", 1)[-1]
            assert gen.committee_full_name(committee) in names, (gc, doc.ident, committee)


def test_deterministic_and_independent_of_the_dockets_size_and_seed():
    assert gen.directory(194) == gen.directory(194)
    small, other = with_dockets({194: 60}), with_dockets({194: 80}, seed=3)
    def view(r):
        return ([(c.code, c.house_chair, c.senate_chair) for c in r.committees_of(194)],
                [(m.code, m.district, m.email, m.committees) for m in r.members_of(194)])
    assert view(small) == view(other)
    assert gen.directory(193) != gen.directory(194)  # another roster, other chairs
    # a session without real documents: its roster only
    later = gen.directory(195)
    assert len(later["members"]) == 200 and not {m["code"] for m in later["members"]} & set(gen.REAL_MEMBERS)


def test_the_192nd_directory_stays_as_bundled_and_a_held_directory_is_kept():
    bundled = Replica.bundled()
    replica = with_dockets({192: 60, 193: 60})
    def view(r, gc):
        return (sorted((c.code, c.full_name, c.house_chair, c.senate_chair) for c in r.committees_of(gc)),
                sorted((m.code, m.name, m.district, m.email, m.phone, tuple(m.committees)) for m in r.members_of(gc)))
    assert view(replica, 192) == view(bundled, 192)
    assert len(replica.members_of(193)) == MEMBERS

    # a test's own directory of a General Court is not replaced by a docket added later
    own = Replica.bundled()
    own.add_member(ReplicaMember(session=194, code="ZZN1", name="Placeholder Newcomer", branch="House"))
    add_docket(own, 194, 40)
    assert [m.code for m in own.members_of(194)] == ["ZZN1"] and own.committees_of(194) == []
    assert not gen.add_directory(replica, 193)  # already there


def test_directory_faults_can_still_be_forced(site):
    replica, srv = site
    try:
        replica.directory_errors.add((194, "J19"))
        assert get(api(srv, "194/Committees/J19"))[0] == 500
        assert get(api(srv, "193/Committees/J19"))[0] == 200
        replica.directory_status = 503
        assert get(api(srv, "194/LegislativeMembers"))[0] == 503
    finally:
        replica.directory_status = None
        replica.directory_errors.clear()
    assert get(api(srv, "194/Committees/J19"))[0] == 200


CONFIG = """
sources:
  malegislature:
    session: 194
    delay_s: 0
    concurrency: 4
    timeout_s: 10
bills:
  - id: H.1946
  - id: S.1053
"""


def test_refresh_directory_stores_the_194th_directory(sessions, site):
    replica, srv = site
    config = parse_config(CONFIG, "test").with_overrides(base_url=srv.base_url)
    result = refresh_directory(config, sessions, [194])
    assert result.errors == [] and result.refreshed == [194]
    [outcome] = result.outcomes
    assert (outcome.committees, outcome.legislators) == (COMMITTEES, MEMBERS)
    with sessions() as s:
        assert s.scalar(select(Committee.session).distinct()) == 194
        assert len(s.scalars(select(Legislator)).all()) == MEMBERS
        judiciary = committee_for(s, 194, "The Judiciary")
        assert judiciary is not None and judiciary.code == "J19"
        want = replica.committee(194, "J19")
        assert [c.member_code for c in chairs(s, judiciary)] == [want.house_chair, want.senate_chair]
        assert all(c.email and c.phone and c.district for c in chairs(s, judiciary))
        # each generated pinslip's committee resolves to a stored committee
        for name, _code, _agency, _topics in gen._COMMITTEES:
            assert committee_for(s, 194, name).code == _code, name
        assert committee_for(s, 194, "House Ways and Means").code == "H33"
        assert member(s, 194, "O_R1").district == "Ninth Hampden"
        rep, sen = legislators_for(s, 194, "Ninth Hampden", "First Middlesex and Norfolk")
        assert (rep.name, sen.name) == ("Orlando Ramos", "Cynthia Stone Creem")
    # nothing moved: a second refresh stores the same and changes nothing
    again = refresh_directory(config, sessions, [194])
    assert again.errors == [] and again.refreshed == [194] and not again.outcomes[0].changed
