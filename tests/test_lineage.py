"""The lineage of a bill as a graph with typed edges: H.135 (192nd) re-filed as H.1728 (193rd), which a new
draft H.4359 took over in its session and which was re-filed as H.1946 (194th), each filed under a docket
number. Read by ``db.lineage``; shown by ``tracker bill``, the API, the bill page and the export. Every test runs
on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import timedelta

import pytest
from click.testing import CliRunner

from db.lineage import chain, edges, lineage_of, steps
from db.models import Event, Successor
from tests.alerts_world import KEY, NOW, add_bill, add_document, application, config
from tests.web_client import caller
from tracker.export import export
from tracker.web.app import create_app

H1728_TITLE = "An Act to implement the recommendations of the special commission on facial recognition technology"
EVIDENCE = {"pinslip_reference": True, "text": 0.93, "shared_sponsors": ["Orlando Ramos"], "similar_api": False,
            "title": 1.0}

# H.1728's direct edges, in the order of the contract: where it comes from first, then by session and number
H1728_LINEAGE = [
    {"bill": "ma/192/H135", "relation": "successor", "direction": "from"},
    {"bill": "ma/193/HD2304", "relation": "docket", "direction": "from"},
    {"bill": "ma/193/H4359", "relation": "new-draft", "direction": "to"},
    {"bill": "ma/194/H1946", "relation": "successor", "direction": "to"},
]


def successor(bill, candidate, state, rank=1, score=0.9, decided_by="auto"):
    return Successor(bill=bill, candidate=candidate, session=int(candidate.split("/")[1]), rank=rank, score=score,
                     evidence=EVIDENCE, state=state, decided_by=decided_by if state in ("accepted", "rejected") else None,
                     decided_at=NOW - timedelta(days=3) if state in ("accepted", "rejected") else None,
                     found_at=NOW - timedelta(days=5))


@pytest.fixture
def world(sessions):
    with sessions.begin() as s:
        add_bill(s, "H135", session=192, docket="HD3228", title="An Act to regulate face surveillance",
                 position="support")
        h1728 = add_bill(s, "H1728", session=193, docket="HD2304", title=H1728_TITLE, position="support")
        h4359 = add_bill(s, "H4359", session=193, title="An Act establishing a commission on facial recognition",
                         position="support")
        add_bill(s, "S47", session=192, title="An Act relative to something else")
        s.add(Event(kind="bill.tracked", at=NOW, bill_id=h4359.id, summary="H.4359 tracked: new draft of H.1728",
                    payload={"status": "in-committee", "discovered_from": {
                        "bill": "ma/193/H1728", "reason": "new-draft",
                        "action": "Bill reported favorably by committee and referred to the committee on House "
                                  "Ways and Means, see H4359"}}))
        s.add(Event(kind="bill.tracked", at=NOW, bill_id=h1728.id, summary="H.1728 tracked",
                    payload={"status": "in-committee", "reason": "listed in feeds.yaml"}))
        add_document(s, 192, "H135", "HD3228", title="An Act to regulate face surveillance")
        add_document(s, 193, "H1728", "HD2304", title=H1728_TITLE)
        add_document(s, 194, "H1946", "HD3870", title=H1728_TITLE, sponsor="Orlando Ramos")
        add_document(s, 194, "H2100", "HD4000", title="An Act proposed to staff only")
        add_document(s, 194, None, "SD503", title="A docket with no bill number yet")
        s.add_all([successor("ma/192/H135", "ma/193/H1728", "accepted"),
                   successor("ma/193/H1728", "ma/194/H1946", "accepted", decided_by="staff"),
                   successor("ma/193/H1728", "ma/194/H2100", "rejected", rank=2, score=0.4, decided_by="staff"),
                   successor("ma/192/S47", "ma/194/SD503", "proposed", score=0.5)])
    return sessions


# -- reading --------------------------------------------------------------------------------------------------


def test_the_direct_edges_of_a_bill_in_both_directions(world):
    with world() as s:
        assert lineage_of(s, "ma/193/H1728") == H1728_LINEAGE
        assert lineage_of(s, "ma/193/H4359") == [{"bill": "ma/193/H1728", "relation": "new-draft",
                                                  "direction": "from"}]
        assert lineage_of(s, "ma/192/H135") == [
            {"bill": "ma/192/HD3228", "relation": "docket", "direction": "from"},
            {"bill": "ma/193/H1728", "relation": "successor", "direction": "to"}]
        assert lineage_of(s, "ma/192/S47") == []  # a proposed successor is no edge
        every = edges(s)
        assert len(every) == len(set(every))  # the bill's docket number and its document's are one edge
        assert ("ma/193/H1728", "ma/194/H2100", "successor") not in every


def test_the_chain_holds_the_whole_connected_graph_in_order_from_any_bill(world):
    with world() as s:
        graph = chain(s, "ma/193/H4359")
        assert chain(s, "ma/192/H135")["nodes"] == graph["nodes"]  # the same graph, whichever bill asks
    assert [n["bill"] for n in graph["nodes"]] == [
        "ma/192/HD3228", "ma/192/H135", "ma/193/HD2304", "ma/193/H1728", "ma/193/H4359", "ma/194/HD3870",
        "ma/194/H1946"]
    nodes = {n["bill"]: n for n in graph["nodes"]}
    assert nodes["ma/194/H1946"] | {} == {"bill": "ma/194/H1946", "session": 194, "number": "H1946",
                                          "title": H1728_TITLE, "followed": False, "in_docket": True,
                                          "docket_of": None}
    assert nodes["ma/193/HD2304"]["docket_of"] == "ma/193/H1728" and nodes["ma/193/H1728"]["followed"]
    assert {(e["from"], e["to"], e["relation"]) for e in graph["edges"]} == {
        ("ma/192/H135", "ma/193/H1728", "successor"), ("ma/193/H1728", "ma/193/H4359", "new-draft"),
        ("ma/193/H1728", "ma/194/H1946", "successor"), ("ma/192/HD3228", "ma/192/H135", "docket"),
        ("ma/193/HD2304", "ma/193/H1728", "docket"), ("ma/194/HD3870", "ma/194/H1946", "docket")}
    shown = steps(graph)
    assert [(x["number"], x["current"], x["dockets"]) for x in shown] == [
        ("H135", False, ["HD3228"]), ("H1728", False, ["HD2304"]), ("H4359", True, []), ("H1946", False, ["HD3870"])]
    assert shown[2]["came_from"] == [{"bill": "ma/193/H1728", "relation": "new-draft"}]


def test_a_successor_still_named_by_its_docket_number_joins_the_bill_it_became(world):
    with world.begin() as s:
        add_document(s, 195, "S1053", "SD9", title="Re-filed again")
        s.add(successor("ma/194/H1946", "ma/195/SD9", "accepted"))
    with world() as s:
        ids = [n["bill"] for n in chain(s, "ma/192/H135")["nodes"]]
    assert ids[-2:] == ["ma/195/SD9", "ma/195/S1053"]


# -- tracker bill -----------------------------------------------------------------------------------------------


def run_cli(db_url, tmp_path, monkeypatch, *args):
    from tracker.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRACKER_DATABASE_URL", db_url)
    (tmp_path / "feeds.yaml").write_text("sources:\n  malegislature:\n    session: 193\n")
    out = CliRunner().invoke(main, list(args))
    assert out.exit_code == 0, out.output
    return out.output


def test_tracker_bill_gives_the_lineage_position_and_docket(world, db_url, tmp_path, monkeypatch):
    data = json.loads(run_cli(db_url, tmp_path, monkeypatch, "bill", "193/H1728", "--format", "json"))
    assert data["lineage"] == H1728_LINEAGE
    assert (data["position"], data["docket"]) == ("support", "HD2304")
    assert "successors" not in data  # proposed and rejected candidates are `tracker successors`' business

    table = run_cli(db_url, tmp_path, monkeypatch, "bill", "193/H4359")
    line = " ".join(table.split("Lineage:", 1)[1].split("\n\n")[0].split())
    assert line.startswith("H.135 (192nd, docket HD.3228) → H.1728 (193rd, successor, docket HD.2304) → "
                           "H.4359 (193rd, new draft, this bill) → H.1946 (194th, successor of H.1728, "
                           "docket HD.3870)")
    for lineage_line in table.split("Lineage:", 1)[1].splitlines()[:3]:
        assert not re.search(r"\bH\.?\s*$", lineage_line)  # wrapped at spaces: no id is cut


# -- the API and the page ---------------------------------------------------------------------------------------


@pytest.fixture
def web(world):
    return caller(create_app(application(config(), world, KEY, transport_factory=lambda: None)))


def test_the_api_gives_the_lineage_and_only_accepted_successors(web):
    data = web("GET", "/api/bills/193/H1728").json()
    assert data["lineage"] == H1728_LINEAGE
    assert [(x["candidate"], x["state"], x["decided_by"], x["evidence"]) for x in data["successors"]] == [
        ("ma/194/H1946", "accepted", "staff", EVIDENCE)]
    assert set(data["successors"][0]) == {"bill", "candidate", "session", "rank", "score", "state", "decided_by",
                                          "decided_at", "evidence"}
    s47 = web("GET", "/api/bills/192/S47").json()
    assert s47["lineage"] == [] and s47["successors"] == []  # its proposed candidate stays with staff


def test_the_bill_page_shows_the_chain_in_order_with_words_and_links(web):
    html = web("GET", "/bills/193/H4359").text
    section = html.split('<section id="lineage"', 1)[1].split("</section>", 1)[0]
    items = re.findall(r'<li class="step[^"]*" id="lineage-(\d+)-(\w+)">(.*?)</li>', section, re.S)
    assert [(gc, n) for gc, n, _ in items] == [("192", "H135"), ("193", "H1728"), ("193", "H4359"), ("194", "H1946")]
    text = {n: " ".join(re.sub(r"<[^>]+>", " ", body).split()) for _, n, body in items}
    assert text["H135"].startswith("H.135 192nd General Court (2021–2022) An Act to regulate face surveillance")
    assert "docket number HD.3228" in text["H135"]
    assert "H.135 re-filed as H.1728" in text["H1728"] and "docket number HD.2304" in text["H1728"]
    assert "H.4359 (this bill)" in text["H4359"] and "new draft of H.1728" in text["H4359"]
    assert "H.1728 re-filed as H.1946" in text["H1946"] and "194th General Court (2025–2026)" in text["H1946"]
    assert '<a href="/bills/192/H135">H.135</a>' in section and '<a href="/bills/193/H1728">H.1728</a>' in section
    assert '<a href="/documents/194/H1946">H.1946</a>' in section  # only in the docket: its document's page
    assert "/bills/193/H4359" not in section  # no link to the page one is on
    for word in ("tracker", "feeds.yaml", "bill.successor", "new-draft", "study-order"):
        assert word not in re.sub(r'(id|class)="[^"]*"', "", section), word

    assert web("GET", "/bills/194/H1946").status_code == 404  # not followed: no bill page to link to
    assert 'id="lineage"' not in web("GET", "/bills/192/S47").text  # nothing to show


# -- the export ---------------------------------------------------------------------------------------------------


def test_the_export_holds_the_lineage_and_the_successors_in_each_format(world, tmp_path):
    counts = export(world, "sqlite", tmp_path / "a.sqlite")
    assert (counts["lineage"], counts["successors"]) == (7, 4)  # H.2100 has a bill and a docket number too
    conn = sqlite3.connect(tmp_path / "a.sqlite")
    conn.row_factory = sqlite3.Row
    lineage = {tuple(r) for r in conn.execute('SELECT "from", "to", relation FROM lineage')}
    assert ("ma/193/H1728", "ma/193/H4359", "new-draft") in lineage and ("ma/193/HD2304", "ma/193/H1728",
                                                                         "docket") in lineage
    rows = {r["candidate"]: dict(r) for r in conn.execute("SELECT * FROM successors")}
    h1946 = rows["ma/194/H1946"]
    assert (h1946["bill"], h1946["session"], h1946["rank"], h1946["state"], h1946["decided_by"]) == (
        "ma/193/H1728", 194, 1, "accepted", "staff")
    assert h1946["score"] == 0.9 and json.loads(h1946["evidence"]) == EVIDENCE
    assert h1946["decided_at"] == (NOW - timedelta(days=3)).isoformat()
    assert rows["ma/194/SD503"]["decided_at"] is None
    conn.close()

    export(world, "jsonl", tmp_path / "jsonl")
    export(world, "csv", tmp_path / "csv")
    jsonl = [json.loads(line) for line in (tmp_path / "jsonl" / "successors.jsonl").read_text().splitlines()]
    assert next(r for r in jsonl if r["candidate"] == "ma/194/H1946")["evidence"] == EVIDENCE
    lines = (tmp_path / "jsonl" / "lineage.jsonl").read_text().splitlines()
    assert {"from": "ma/192/H135", "to": "ma/193/H1728", "relation": "successor"} in map(json.loads, lines)
    header, *csv_rows = (tmp_path / "csv" / "lineage.csv").read_text().splitlines()
    assert header == "from,to,relation" and len(csv_rows) == 7
