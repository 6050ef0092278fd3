"""The tracker command as a user runs it: a real process, the replica as the site."""

from __future__ import annotations

import csv
import io
import json
import re
import os
import subprocess
import sys
from pathlib import Path

import pytest

FEEDS = """
sources:
  malegislature:
    base_url: {base}
    session: 192
    delay_s: 0
    concurrency: 4
    timeout_s: 5
bills:
  - id: H.135
  - id: S.47
{extra}
"""


def run(args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "tracker.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


@pytest.fixture
def workdir(tmp_path, replica_server, db_url, monkeypatch):
    monkeypatch.setenv("TRACKER_DATABASE_URL", db_url)  # every command of these tests, on both backends
    (tmp_path / "feeds.yaml").write_text(FEEDS.format(base=replica_server.base_url, extra=""))
    assert run(["init"], tmp_path).returncode == 0
    return tmp_path


def test_crawl_json_then_bill_and_events(workdir):
    first = run(["crawl", "--format", "json"], workdir)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report == {"checked": 4, "changed": 4, "events": report["events"], "errors": [], "throttled": None}
    assert report["events"] >= 4 + 12 + 13

    again = json.loads(run(["crawl", "--format", "json"], workdir).stdout)
    assert again["events"] == 0 and again["changed"] == 0

    bill = json.loads(run(["bill", "H.135", "--format", "json"], workdir).stdout)
    for key in ("id", "jurisdiction", "session", "number", "title", "sponsor", "committee", "status", "url",
                "actions", "hearings", "articles"):
        assert key in bill
    assert bill["id"] == "ma/192/H135" and bill["jurisdiction"] == "ma" and bill["session"] == 192
    assert bill["actions"][-1] == {"date": "2022-07-26", "branch": "House",
                                   "action": "Accompanied a new draft, see H5091", "kinds": ["new-draft"]}
    assert bill["url"].endswith("/Bills/192/H135")
    assert bill["position"] == "support"  # listed in feeds.yaml without a position: the campaign supports it
    assert bill["docket"] == "HD3228"  # the docket number it was filed under

    bills = json.loads(run(["bills", "--format", "json"], workdir).stdout)
    assert {b["id"] for b in bills} == {"ma/192/H135", "ma/192/S47", "ma/192/H5091", "ma/192/S3063"}
    assert all("actions" not in b for b in bills)
    assert {b["id"]: b["position"] for b in bills}["ma/192/S47"] == "support"

    events = json.loads(run(["events", "--bill", "192/S47", "--format", "json"], workdir).stdout)
    assert events[0]["kind"] == "bill.tracked" and events[0]["bill"] == "ma/192/S47"
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert set(events[0]) >= {"id", "kind", "at", "occurred_at", "bill", "article", "summary", "payload"}

    newest = json.loads(run(["events", "--limit", "2", "--format", "json"], workdir).stdout)
    assert len(newest) == 2 and newest[1]["id"] == max(e["id"] for e in json.loads(
        run(["events", "--format", "json"], workdir).stdout))

    hearings = json.loads(run(["events", "--kind", "hearing.scheduled", "--format", "json"], workdir).stdout)
    assert {e["bill"] for e in hearings} == {"ma/192/H135", "ma/192/S47"}

    rows = list(csv.DictReader(io.StringIO(run(["events", "--kind", "bill.tracked", "--format", "csv"], workdir).stdout)))
    assert len(rows) == 4 and rows[0]["kind"] == "bill.tracked"


def test_crawl_exits_1_and_names_bill_and_url_when_a_source_fails(tmp_path, replica_server):
    (tmp_path / "feeds.yaml").write_text(FEEDS.format(base=replica_server.base_url, extra="  - id: H.9999"))
    run(["init"], tmp_path)
    result = run(["crawl"], tmp_path)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if "H9999" in line]
    assert len(lines) == 1 and "/Bills/192/H9999" in lines[0] and "not found" in lines[0]
    # the other bills were stored
    assert json.loads(run(["bill", "S47", "--format", "json"], tmp_path).stdout)["actions"]


def test_a_throttled_crawl_says_so_and_exits_1(tmp_path, replica_server, replica):
    from tracker.replica.wire import Fault

    (tmp_path / "feeds.yaml").write_text(FEEDS.format(base=replica_server.base_url, extra=""))
    run(["init"], tmp_path)
    replica.wire.arm("/api/", Fault("status", status=429, retry_after="3600"))
    result = run(["crawl"], tmp_path)
    assert result.returncode == 1
    assert "HTTP 429: the site is throttling us, Retry-After 3600 s; crawl stopped" in result.stderr
    report = json.loads(run(["crawl", "--format", "json"], tmp_path).stdout)
    assert report["throttled"]["retry_after_s"] == 3600 and report["errors"][-1]["source"] == "malegislature"


def test_status_after_a_429_before_any_bill_says_throttled_then_ok(workdir, replica):
    from datetime import datetime, timedelta, timezone

    from tracker.replica.wire import Fault

    def source():
        [src] = json.loads(run(["status", "--format", "json"], workdir).stdout)["sources"]
        return src

    never = source()  # feeds.yaml lists bills, no crawl has run
    assert (never["name"], never["state"], never["ok"], never["throttled_until"]) == \
        ("malegislature", "never-fetched", False, None)
    replica.wire.arm("/", Fault("status", status=429, retry_after="3600"))  # the site throttles everything
    before = datetime.now(timezone.utc)
    assert run(["crawl"], workdir).returncode == 1
    src = source()
    assert (src["state"], src["ok"], src["error"], src["last_success"]) == ("throttled", False, None, None)
    until = datetime.fromisoformat(src["throttled_until"])
    assert before + timedelta(minutes=59) < until < datetime.now(timezone.utc) + timedelta(minutes=61)
    table = run(["status"], workdir, env={"COLUMNS": "250"}).stdout  # wide enough that no cell wraps
    assert "throttled until " + until.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") in table
    replica.wire.clear()  # the hour passes; the next crawl is answered
    assert run(["crawl"], workdir).returncode == 0
    ok = source()
    assert (ok["state"], ok["ok"], ok["throttled_until"]) == ("ok", True, None) and ok["last_success"]
    [row] = [line for line in run(["status"], workdir, env={"COLUMNS": "250"}).stdout.splitlines()
             if "malegislature" in line]
    assert [cell.strip() for cell in row.split("│")][1:4] == ["malegislature", "bills", "ok"]


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["bill", "Q.12"], "not a bill number"),
        (["events", "--since", "last tuesday"], "--since"),
        (["crawl", "--bill", "H.1"], "not tracked"),
        (["bill", "H.1"], "not in the database"),
    ],
)
def test_bad_usage_exits_2_with_one_line(workdir, args, fragment):
    result = run(args, workdir)
    assert result.returncode == 2
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_config_error_exits_2_naming_file_and_line(tmp_path):
    (tmp_path / "feeds.yaml").write_text("bills:\n  - id: H.135\n    keyword: [x]\n")
    result = run(["bills"], tmp_path)
    assert result.returncode == 2
    assert "feeds.yaml:3" in result.stderr and "did you mean 'keywords'" in result.stderr


def test_database_url_from_environment(workdir, tmp_path):
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite'}"
    assert run(["init"], workdir, env={"TRACKER_DATABASE_URL": url}).returncode == 0
    assert Path(tmp_path / "elsewhere.sqlite").exists()


def test_demo_runs_offline(tmp_path):
    result = run(["demo", "--dir", str(tmp_path / "demo")], tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "confirmed: active" in out
    # the first crawl follows the four 192nd bills; the sync follows H.135 and S.47 re-filed into the 193rd and
    # 194th; the second crawl reads those five too (and the 193rd's and 194th's directories) without an error
    assert "job=crawl      ok  bills=4 changed=4" in out and re.search(r"job=crawl +ok +bills=9 .*errors=0", out)
    assert "re-filed   H.1728 was re-filed as H.1946 in the 194th General Court" in out
    assert out.count("job=retention  ok  snapshots_deleted=0") == 3 and "FAILED" not in out  # three cycles
    assert "staff digest for" in out and "H.1946: hearing scheduled for" in out and "H.135: now followed" in out
    assert "ma/192/H135    replaced" in out
    # after the hearing the committee reports a new draft: the third crawl follows it and compares its text
    assert "ma/194/H1946   replaced" in out and "ma/194/H4420   reported" in out
    assert re.search(r"new text   H\.4420 text: version 1, [\d,]+ words; against H\.1946: \d+ words added", out)
    assert "section 4 removed" in out and "section 5 added" in out
    assert "directory not refreshed" not in result.stderr
    mail = sorted((tmp_path / "demo" / "outbox" / "new").iterdir())
    # confirmation, two staff digests, three alerts; Jane's testimony to two chairs and letter to two legislators,
    # with a copy of each to her: nothing twice
    assert len(mail) == 12
    assert "/act/testify: Thank you: your testimony is on its way" in out
    assert "/act/write-your-legislators: Thank you: your letters are on their way" in out
    assert (tmp_path / "demo" / "demo.sqlite").exists()


def test_poll_articles_and_search_from_the_command_line(tmp_path):
    from tracker.replica.news_model import NewsReplica
    from tracker.replica.news_server import NewsServer

    with NewsServer(NewsReplica.bundled()) as news:
        (tmp_path / "feeds.yaml").write_text(f"""
sources:
  malegislature: {{session: 192}}
  news: {{delay_s: 0}}
bills:
  - id: H.135
    keywords: ["facial recognition"]
feeds:
  - name: WWLP
    url: {news.base_url}/wwlp/feed/
  - name: Broken
    url: {news.base_url}/no/such/feed/
""")
        assert run(["init"], tmp_path).returncode == 0
        polled = run(["poll", "--format", "json"], tmp_path)
        assert polled.returncode == 1  # one feed failed
        report = json.loads(polled.stdout)
        assert report["checked"] == 2 and report["changed"] == 1 and report["events"] >= 2
        assert [e["source"] for e in report["errors"]] == ["Broken"]
        assert "404" in report["errors"][0]["error"]

        arts = json.loads(run(["articles", "--bill", "H.135", "--format", "json"], tmp_path).stdout)
        seed = next(a for a in arts if a["title"].startswith("ACLU urges"))
        assert set(seed) >= {"id", "url", "title", "published_at", "source", "sources", "bills", "snippet"}
        assert seed["sources"][0]["feed"] == "WWLP"
        assert seed["bills"] == [{"id": "ma/192/H135", "reason": 'keyword "facial recognition" in title'}]

        hits = json.loads(run(["search", "stand firm", "--format", "json"], tmp_path).stdout)
        assert hits[0]["type"] == "article" and "[stand] [firm]" in hits[0]["snippet"].lower()

        bad = run(["search", "***"], tmp_path)
        assert bad.returncode == 2 and "no words" in bad.stderr
        unknown = run(["poll", "--feed", "Nope"], tmp_path)
        assert unknown.returncode == 2 and "no feed named 'Nope'" in unknown.stderr
