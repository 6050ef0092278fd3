"""Commands a person can read: piped at 80 columns, with no result, with a typo, with a wrong database path."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta, timezone

import pytest

from db.models import Article, ArticleBill, Bill, Event

NOW = datetime.now(timezone.utc).replace(microsecond=0)
LONG_URL = "https://www.example-newsroom.org/politics/2026/11/lawmakers-weigh-limits-on-face-surveillance"
SUMMARY = ("Hearing scheduled for 11/23/2021 from 10:00 AM-02:00 PM in Virtual Hearing before the Joint Committee on "
           "the Judiciary, with testimony from the sponsors and the public on the face surveillance bill")


def run(args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "tracker.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "80", **(env or {})}, timeout=120)


def _bill(s, number: str, session: int = 192, title: str = "An Act to regulate face surveillance") -> Bill:
    bill = Bill(canonical=f"ma/{session}/{number}", session=session, number=number, tracked=True, error_count=0,
                created_at=NOW - timedelta(days=30), title=title, status="in-committee",
                committee="Joint Committee on Advanced Information Technology, the Internet and Cybersecurity",
                sponsor="Representative David M. Rogers of Cambridge",
                url=f"https://malegislature.gov/Bills/{session}/{number}")
    s.add(bill)
    s.flush()
    return bill


@pytest.fixture
def home(tmp_path, db_url, sessions, monkeypatch):
    """A folder with no feeds.yaml (the defaults) and a database of bills whose ids share their first characters,
    long summaries, and articles with long URLs."""
    monkeypatch.setenv("TRACKER_DATABASE_URL", db_url)
    with sessions.begin() as s:
        bills = [_bill(s, n) for n in ("H1001", "H1002", "H1003", "H1004")]
        _bill(s, "S2001", title="Order relative to [x] and [bold]markup[/bold] in a title")
        for i in range(20):
            s.add(Event(kind="bill.action", at=NOW - timedelta(hours=i), occurred_on=date(2021, 11, 16),
                        bill_id=bills[i % 4].id, summary=f"{bills[i % 4].number} (Joint): {SUMMARY} #{i}",
                        payload={"date": "2021-11-16", "branch": "Joint", "action": SUMMARY, "kinds": []}))
        for i in range(3):
            article = Article(url=f"{LONG_URL}-{i}", link=f"{LONG_URL}-{i}", title=f"Lawmakers weigh limits, part {i}",
                              summary_text="Police would need a warrant under the face surveillance bill.",
                              published_at=NOW - timedelta(days=i), first_seen_at=NOW)
            s.add(article)
            s.flush()
            s.add(ArticleBill(article_id=article.id, bill_id=bills[0].id, reason="keyword", term="face surveillance",
                              field="summary", kind="keyword", created_at=NOW))
    return tmp_path


def test_piped_tables_at_80_columns_keep_ids_and_urls_whole_and_summaries_readable(home):
    bills = run(["bills"], home)
    assert bills.returncode == 0, bills.stderr
    for number in ("H1001", "H1002", "H1003", "H1004", "S2001"):
        assert f"ma/192/{number}" in bills.stdout and f"https://malegislature.gov/Bills/192/{number}" in bills.stdout
    assert "…" not in bills.stdout

    events = run(["events"], home)
    assert events.returncode == 0, events.stderr
    lines = events.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert len(lines) <= 20 * 7  # was 20 lines an event: summaries squeezed into an 11-character column
    for i in range(20):
        assert f"#{i}" in events.stdout
    words = [w for line in lines for w in line.split()]
    assert " ".join(words).count("with testimony from the sponsors and the public on the face surveillance bill") == 20

    articles = run(["articles"], home)
    assert articles.returncode == 0, articles.stderr
    for i in range(3):
        assert any(line.strip().endswith(f"{LONG_URL}-{i}") for line in articles.stdout.splitlines())

    wide = run(["bills"], home, env={"COLUMNS": "250"})  # room enough: a table, one line a bill
    [row] = [line for line in wide.stdout.splitlines() if "ma/192/H1002" in line]
    assert row.startswith("│ ma/192/H1002 ") and "https://malegislature.gov/Bills/192/H1002 │" in row

    assert {b["id"] for b in json.loads(run(["bills", "--format", "json"], home).stdout)} >= {"ma/192/H1001"}
    rows = list(csv.DictReader(io.StringIO(run(["events", "--format", "csv"], home).stdout)))
    assert len(rows) == 20 and rows[0]["summary"].endswith("#0")


def test_search_snippets_keep_the_matched_words_and_cell_text_is_never_markup(home):
    found = run(["search", "face surveillance"], home)
    assert found.returncode == 0, found.stderr
    assert "[face] [surveillance]" in found.stdout.lower()
    assert "the [face] [surveillance] bill" in " ".join(found.stdout.split()).lower()

    titles = run(["bills"], home).stdout + run(["bills"], home, env={"COLUMNS": "250"}).stdout
    assert titles.count("Order relative to [x] and [bold]markup[/bold] in a title") == 2


def test_an_unknown_event_kind_is_refused_naming_the_kinds(home):
    bogus = run(["events", "--kind", "bogus"], home)
    assert bogus.returncode == 2 and bogus.stdout == ""
    assert "--kind 'bogus'" in bogus.stderr and "bill.action" in bogus.stderr and "source.failing" in bogus.stderr
    assert len(bogus.stderr.strip().splitlines()) == 1

    none_yet = run(["events", "--kind", "source.failing"], home)  # a kind that exists, with no event yet
    assert none_yet.returncode == 0 and none_yet.stdout.strip() == "No events of kind source.failing."


def test_an_empty_or_inverted_time_range_is_an_error(home):
    inverted = run(["search", "face", "--since", "2023-01-01", "--until", "2020-01-01"], home)
    assert inverted.returncode == 2
    assert "--since 2023-01-01 00:00 UTC is after --until 2020-01-01 00:00 UTC" in inverted.stderr
    future = (NOW + timedelta(days=3)).date().isoformat()
    for command in (["events"], ["articles"], ["search", "face"]):
        result = run([*command, "--since", future], home)
        assert result.returncode == 2 and "is in the future" in result.stderr, command


def test_an_empty_result_says_so_in_words(home, tmp_path, monkeypatch):
    assert run(["events", "--since", "10m", "--kind", "bill.tracked"], home).stdout.startswith(
        "No events of kind bill.tracked since ")
    assert run(["search", "zebra"], home).stdout.strip() == "No results for 'zebra'."
    assert run(["articles", "--bill", "ma/192/H1002"], home).stdout.strip() == "No articles about ma/192/H1002."
    assert run(["search", "zebra", "--format", "json"], home).stdout.strip() == "[]"
    assert run(["search", "zebra", "--format", "csv"], home).stdout.strip() == \
        "type,bill,date,published_at,title,url,snippet,id,version"

    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{empty / 'tracker.sqlite'}")
    assert run(["init"], empty).returncode == 0
    assert run(["bills"], empty).stdout.strip() == "No bills tracked: list them in feeds.yaml and run tracker crawl."
    assert run(["subscribers", "list"], empty).stdout.strip() == "No supporters."


def test_a_read_command_never_creates_the_database_file(tmp_path):
    path = tmp_path / "nonexist" / "x.sqlite"
    for command in (["bills"], ["events"], ["status"], ["search", "face"]):
        result = run(["--db", f"sqlite:///{path}", *command], tmp_path)
        assert result.returncode == 2, command
        assert f"there is no database file {path}: run `tracker init`" in result.stderr
        assert not path.exists() and not path.parent.exists()
    assert run(["--db", f"sqlite:///{path}", "init"], tmp_path).returncode == 0 and path.exists()


def test_serve_says_where_it_listens_and_logs_each_request(home, db_url):
    proc = subprocess.Popen([sys.executable, "-m", "tracker.cli", "--db", db_url, "serve", "--port", "0"], cwd=home,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stderr.readline()
        assert "Serving on http://127.0.0.1:" in first, first
        url = first.split("Serving on ")[1].split()[0]
        with urllib.request.urlopen(url + "bills/192/H1001", timeout=30) as page:
            assert page.status == 200
        try:
            urllib.request.urlopen(url + "confirm?token=SECRET-TOKEN", timeout=30)
        except urllib.error.HTTPError:
            pass
        deadline, lines = time.monotonic() + 30, []
        while time.monotonic() < deadline and len(lines) < 2:
            lines.append(proc.stderr.readline())
        assert "method=GET path=/bills/192/H1001 status=200" in lines[0]
        assert "path=/confirm?token=…" in lines[1] and "SECRET-TOKEN" not in lines[1]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_answers_on_connections_without_nagles_delay():
    """asyncio sets TCP_NODELAY on an accepted connection only when the listening socket says IPPROTO_TCP; without
    it every answer after the first on a kept-alive connection waited ~40 ms for the client's delayed ACK."""
    import asyncio
    import socket

    from tracker.cli.serving import listen

    sock = listen("127.0.0.1", 0)

    async def accepted_nodelay() -> int:
        seen = asyncio.get_running_loop().create_future()

        def connected(reader, writer):
            seen.set_result(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(connected, sock=sock)
        async with server:
            _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
            value = await asyncio.wait_for(seen, 10)
            writer.close()
        return value

    assert asyncio.run(accepted_nodelay()) != 0


def test_limits_are_told_never_silently_applied(home):
    cut = run(["articles", "--limit", "2"], home)
    assert cut.returncode == 0 and f"{LONG_URL}-1" in cut.stdout and f"{LONG_URL}-2" not in cut.stdout
    assert "the newest 2 articles shown (--limit 2); there are more: raise --limit (at most 500)" in cut.stderr
    assert run(["articles", "--limit", "3"], home).stderr == ""  # all there is: nothing to say

    too_many = run(["articles", "--limit", "501"], home)
    assert too_many.returncode == 2 and "1<=x<=500" in too_many.stderr
    assert "at most 500" in run(["articles", "--help"], home).stdout
    assert "the newest 5 events shown" in run(["events", "--limit", "5"], home).stderr
    words = " ".join(f"w{i}" for i in range(34))
    assert "ignored: w32 w33" in run(["search", words], home).stderr


def test_a_bill_shows_its_hearings_in_boston_time_with_their_state(home, sessions):
    from db.models import Hearing

    with sessions.begin() as s:
        bill = s.query(Bill).filter_by(number="H1001").one()
        s.add(Hearing(bill_id=bill.id, starts_at=datetime(2021, 11, 23, 15, 0, tzinfo=timezone.utc), ends_at=None,
                      location="Virtual Hearing", status="scheduled", updated_at=NOW))
        s.add(Hearing(bill_id=bill.id, starts_at=NOW + timedelta(days=30), ends_at=None, location="Room A-1",
                      status="rescheduled", updated_at=NOW))
    shown = run(["bill", "192/H1001"], home)
    assert shown.returncode == 0, shown.stderr
    assert "Nov 23, 2021, 10:00 AM EST" in shown.stdout  # 15:00 UTC, in Boston's zone, named
    rows = [line for line in shown.stdout.splitlines() if "Virtual Hearing" in line or "Room A-1" in line]
    assert "held" in rows[0] and "scheduled" not in rows[0]  # a past hearing was held, whatever was announced
    assert "rescheduled" in rows[1]
