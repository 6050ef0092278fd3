"""``tracker export``: the public archive as a SQLite file Datasette serves, or CSV / JSON Lines folders, from
either backend -- and never a subscriber's address, name or mail (each test here runs on SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlite_utils

from db.texts import record_text
from db.models import (Article, ArticleBill, ArticleSource, Bill, BillAction, Cluster, Committee, Delivery, Document,
                       Event, Feed, Hearing, Lease, Legislator, OutboxMessage, Run, Snapshot, Subscriber, Subscription,
                       Successor)
from tracker.export import PUBLIC_TABLES, ExportError, export

T = datetime(2022, 7, 1, 12, 0, tzinfo=timezone.utc)
H135_TITLE = "An Act establishing a moratorium on face recognition and other remote biometric surveillance systems"
LEGISLATOR_EMAIL = "David.Rogers@mahouse.gov"  # a public official's office address: part of the archive

# Everything below belongs to supporters, the mail system or the machinery, and must appear in no export.
SECRETS = [
    "zelda.quillfeather@example.org", "Zelda Quillfeather", "quillfeather", "Twenty-Fourth Middlesex",
    "hidden-staff@example.org", "Marguerite Oyelaran-Staff", "oyelaran",
    "OUTBOX-SUBJECT-6d1e", "OUTBOX-BODY-9c2b", "<msg-4411@example.org>", "RUN-ERROR-51aa", "LEASE-HOLDER-0b7f",
    "RAW-SNAPSHOT-BODY-7f3a", "ROW-HASH-",
]

EXPECTED = {"snapshots": 2, "clusters": 1, "feeds": 2, "committees": 1, "legislators": 2, "bills": 2,
            "bill_actions": 5, "hearings": 1, "articles": 3, "article_sources": 4, "article_bills": 2, "events": 7,
            "documents": 3, "successors": 2, "lineage": 2, "bill_texts": 2, "bill_text_versions": 2}
EVIDENCE = {"pinslip_reference": True, "text": 0.91, "shared_sponsors": ["David M. Rogers"], "similar_api": False,
            "title": 0.4}
H1946_TEXT = "SECTION 1. A government agency shall not use a face recognition system.\n\nSECTION 2. Café data."


@pytest.fixture
def world(sessions):
    """A small archive, plus supporters, their mail and the daemon's records, all with recognisable values."""
    with sessions.begin() as s:
        snap = Snapshot(sha256="a" * 64, url="https://malegislature.gov/api/GeneralCourts/192/Documents/H135",
                        status=200, content_type="application/json", fetched_at=T, size=22,
                        body=b"RAW-SNAPSHOT-BODY-7f3a")
        feed_snap = Snapshot(sha256="b" * 64, url="https://www.wwlp.com/feed/", status=200,
                             content_type="application/rss+xml", fetched_at=T, size=22, body=b"RAW-SNAPSHOT-BODY-7f3a!")
        s.add_all([snap, feed_snap])
        h135 = Bill(canonical="ma/192/H135", session=192, number="H135", title=H135_TITLE, sponsor="David M. Rogers",
                    sponsor_code="DMR1", petitioners=[{"name": "David M. Rogers", "member_code": "DMR1"}],
                    committee="Joint Committee on the Judiciary", status="in-committee",
                    url="https://malegislature.gov/Bills/192/H135", tracked=True, tracked_reason="listed in feeds.yaml",
                    error_count=0, created_at=T, last_checked_at=T, last_success_at=T, etag='W/"etag-secret"')
        s47 = Bill(canonical="ma/192/S47", session=192, number="S47", title="An Act to regulate face surveillance",
                   status="study-order", tracked=False, error_count=0, created_at=T)
        s.add_all([h135, s47])
        s.flush()
        referral = BillAction(bill_id=h135.id, position=0, occurrence=0, date=date(2021, 3, 29), branch="House",
                              action="Referred to the committee on the Judiciary", kinds=["referral"],
                              snapshot_id=snap.id, first_seen_at=T)
        hearing_action = BillAction(bill_id=h135.id, position=1, occurrence=0, date=date(2021, 11, 16),
                                    branch="Joint", action="Hearing scheduled for 11/23/2021 from 10:00 AM-02:00 PM "
                                    "in Virtual Hearing", kinds=["hearing-scheduled"], snapshot_id=snap.id,
                                    first_seen_at=T)
        stricken = BillAction(bill_id=h135.id, position=2, occurrence=0, date=date(2022, 2, 3), branch="Joint",
                              action="Reporting date extended to Monday May 2, 2022", kinds=["reporting-extended"],
                              first_seen_at=T, removed_at=T + timedelta(days=1))
        s.add_all([referral, hearing_action, stricken,
                   BillAction(bill_id=h135.id, position=3, occurrence=0, date=None, branch="House",
                              action="Accompanied a new draft, see H5091", kinds=["new-draft"], first_seen_at=T),
                   BillAction(bill_id=s47.id, position=0, occurrence=0, date=date(2022, 7, 28), branch="Senate",
                              action="Accompanied a study order, see S3063", kinds=["study-order"], first_seen_at=T)])
        s.flush()
        s.add(Hearing(bill_id=h135.id, action_id=hearing_action.id, starts_at=datetime(2021, 11, 23, 15, tzinfo=timezone.utc),
                      ends_at=datetime(2021, 11, 23, 19, tzinfo=timezone.utc), location="Virtual Hearing",
                      status="scheduled", updated_at=T))
        wwlp = Feed(name="WWLP", url="https://www.wwlp.com/feed/", active=True, error_count=0, created_at=T,
                    last_success_at=T)
        gnews = Feed(name="Google News", url="https://news.google.com/rss/search?q=face+surveillance",
                     query='"face surveillance" Massachusetts', active=True, error_count=3, created_at=T,
                     failing_since=T)
        cluster = Cluster(title="Lawmakers weigh limits on facial recognition", created_at=T)
        s.add_all([wwlp, gnews, cluster])
        s.flush()
        a1 = Article(url="https://www.wwlp.com/news/facial-recognition", link="https://www.wwlp.com/news/"
                     "facial-recognition?utm_source=rss", title="Lawmakers weigh limits on facial recognition",
                     publisher="WWLP", author="Alanna Flood", summary_text="The bill H.135 would regulate face "
                     "surveillance.", full_text="Police would need a warrant under H.135.", published_at=T,
                     first_seen_at=T, cluster_id=cluster.id)
        a2 = Article(url="https://example.com/cafe", link="https://example.com/cafe",
                     title="Café owners and police: reconnaissance faciale", publisher="Example",
                     summary_text="A story about Zoë's café.", published_at=T - timedelta(days=2), first_seen_at=T)
        a3 = Article(url="https://example.com/budget", link="https://example.com/budget", title="Budget talks stall",
                     summary_text="Nothing here.", published_at=None, first_seen_at=T)
        s.add_all([a1, a2, a3])
        s.flush()
        s.add_all([ArticleSource(article_id=a1.id, feed_id=wwlp.id, entry_url=a1.link, guid="wwlp-1", publisher="WWLP",
                                 seen_at=T, snapshot_id=feed_snap.id),
                   ArticleSource(article_id=a1.id, feed_id=gnews.id, entry_url="https://news.google.com/rss/articles/x",
                                 publisher="WWLP", seen_at=T),
                   ArticleSource(article_id=a2.id, feed_id=gnews.id, entry_url=a2.url, seen_at=T),
                   ArticleSource(article_id=a3.id, feed_id=wwlp.id, entry_url=a3.url, seen_at=T),
                   ArticleBill(article_id=a1.id, bill_id=h135.id, reason='number "H.135" in summary', term="H.135",
                               field="summary", kind="number", created_at=T),
                   ArticleBill(article_id=a2.id, bill_id=s47.id, reason='keyword "face surveillance" in title',
                               term="face surveillance", field="title", kind="keyword", created_at=T)])
        events = [
            Event(kind="bill.tracked", at=T, bill_id=h135.id, summary="H.135 tracked: in committee",
                  payload={"status": "in-committee", "reason": "listed in feeds.yaml"}, snapshot_id=snap.id),
            Event(kind="bill.action", at=T, occurred_on=date(2021, 11, 16), bill_id=h135.id,
                  summary="H.135: Hearing scheduled", payload={"date": "2021-11-16", "branch": "Joint",
                                                               "action": "Hearing scheduled", "kinds": ["hearing-scheduled"]},
                  snapshot_id=snap.id),
            Event(kind="hearing.scheduled", at=T, occurred_at=datetime(2021, 11, 23, 15, tzinfo=timezone.utc),
                  bill_id=h135.id, summary="H.135: hearing on 2021-11-23", payload={"location": "Virtual Hearing"}),
            Event(kind="bill.status", at=T, bill_id=s47.id, summary="S.47: study order",
                  payload={"status": "study-order", "previous_status": "in-committee"}),
            Event(kind="article.new", at=T, occurred_at=T, article_id=a1.id, summary="WWLP: Lawmakers weigh limits",
                  payload={"url": a1.url, "feed": "WWLP"}),
            Event(kind="article.matched", at=T, article_id=a1.id, bill_id=h135.id, summary="H.135 in WWLP",
                  payload={"bill": "ma/192/H135", "reason": 'number "H.135" in summary'}),
            Event(kind="source.failing", at=T + timedelta(hours=7), summary="Google News failing for 7 hours",
                  payload={"source": "Google News", "since": T.isoformat()}),
        ]
        s.add_all(events)
        s.add_all([Committee(session=192, code="J19", full_name="Joint Committee on the Judiciary",
                             short_name="Judiciary", branch="Joint", house_chair_code="MMD1", senate_chair_code="JBE0",
                             fetched_at=T),
                   Legislator(session=192, member_code="DMR1", name="David M. Rogers", branch="House",
                              district="24th Middlesex", party="Democrat", email=LEGISLATOR_EMAIL,
                              phone="(617) 722-2000", room="Room 136", fetched_at=T),
                   Legislator(session=192, member_code="JBE0", name="James B. Eldridge", branch="Senate",
                              district="Middlesex and Worcester", party="Democrat", email="James.Eldridge@masenate.gov",
                              fetched_at=T)])
        s.add_all([  # the docket: public records, with what the sync keeps for itself (hashes) left out
            Document(canonical="ma/194/H1946", session=194, number="H1946", docket="HD3870",
                     title="An Act to implement the recommendations of the special commission on facial recognition "
                           "technology", sponsor="Orlando Ramos", sponsor_code="OLR1",
                     joint_sponsors=[{"name": "David M. Rogers", "member_code": "DMR1"}],
                     cosponsors=[{"name": "Mike Connolly", "member_code": "MMC1"}],
                     pinslip="By Representative Ramos of Springfield, a petition relative to facial recognition.",
                     text=H1946_TEXT, legislation_type="Bill", row_hash="ROW-HASH-3c9d",
                     detail_row_hash="ROW-HASH-3c9d", detail_fetched_at=T, first_seen_at=T, last_seen_at=T),
            Document(canonical="ma/194/SD503", session=194, docket="SD503", title="An Act relative to schools",
                     sponsor="Jason M. Lewis", pinslip="A petition relative to face surveillance in public schools.",
                     docket_book_only=True, row_hash="ROW-HASH-77e0", detail_error="HTTP 500: Oh My Cod!",
                     first_seen_at=T + timedelta(days=1), last_seen_at=T + timedelta(days=1)),
            Document(canonical="ma/194/H4000", session=194, number="H4000", title="An Act withdrawn",
                     row_hash="ROW-HASH-1b2c", first_seen_at=T, last_seen_at=T, removed_at=T + timedelta(days=2)),
        ])
        s.add_all([  # H.135 re-filed as H.1728 (accepted); S.47's best candidate is still for staff to decide
            Successor(bill="ma/192/H135", candidate="ma/193/H1728", session=193, rank=1, score=0.95, evidence=EVIDENCE,
                      state="accepted", decided_by="auto", decided_at=T, found_at=T),
            Successor(bill="ma/192/S47", candidate="ma/193/S927", session=193, rank=1, score=0.5,
                      evidence=EVIDENCE | {"pinslip_reference": False}, state="proposed", found_at=T),
        ])
        h135.position = "support"
        record_text(s, h135, "SECTION 1. No agency shall use face surveillance.", "document", T)
        record_text(s, h135, "SECTION 1. No agency shall use face surveillance without a zymurgic warrant.",
                    "html", T + timedelta(days=3), ["html"])
        # -- never exported ---------------------------------------------------------------------------------------
        zelda = Subscriber(email="zelda.quillfeather@example.org", name="Zelda Quillfeather", role="supporter",
                           status="active", frequency="daily", house_district="Twenty-Fourth Middlesex", source="web",
                           start_event_id=0, created_at=T, confirmed_at=T)
        staff = Subscriber(email="hidden-staff@example.org", name="Marguerite Oyelaran-Staff", role="staff",
                           status="active", frequency="daily", source="config", start_event_id=0, created_at=T)
        s.add_all([zelda, staff])
        s.flush()
        s.add_all([Subscription(subscriber_id=zelda.id, topic="bill:ma/192/H135", bill_id=h135.id, active=True,
                                created_at=T),
                   Subscription(subscriber_id=staff.id, topic="campaign", active=True, created_at=T)])
        message = OutboxMessage(subscriber_id=zelda.id, kind="daily", period="2022-07-01", state="sent",
                                to_addr="zelda.quillfeather@example.org",
                                subject="Zelda Quillfeather, H.135 moved OUTBOX-SUBJECT-6d1e",
                                message_id="<msg-4411@example.org>", body=b"To: Zelda Quillfeather OUTBOX-BODY-9c2b",
                                events=1, next_attempt_at=T, created_at=T, sent_at=T)
        s.add(message)
        s.flush()
        s.add_all([Delivery(subscriber_id=zelda.id, event_id=events[0].id, message_id=message.id),
                   Run(job="dispatch", started_at=T, finished_at=T, ok=False,
                       error="smtp refused zelda.quillfeather@example.org RUN-ERROR-51aa", counts={"sent": 1}),
                   Lease(name="job:crawl", holder="LEASE-HOLDER-0b7f", expires_at=T)])
    return sessions


def _files(path: Path) -> list[Path]:
    return [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())


def _assert_no_secrets(path: Path) -> None:
    files = _files(path)
    assert files
    for f in files:
        data = f.read_bytes().lower()
        for secret in SECRETS:
            assert secret.lower().encode() not in data, f"{secret!r} found in {f}"
    # the grep would prove nothing if the archive were empty: public values are there, in the same files
    everything = b"".join(f.read_bytes() for f in files)
    assert LEGISLATOR_EMAIL.encode() in everything and H135_TITLE.encode() in everything


def _sqlite_tables(conn) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                       "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_fts%'")}


# -- SQLite -----------------------------------------------------------------------------------------------------


def test_sqlite_export_holds_every_public_table_and_nothing_else(world, tmp_path):
    out = tmp_path / "archive.sqlite"
    counts = export(world, "sqlite", out, batch_size=2)  # small batches: several per table
    assert counts == EXPECTED
    assert list(counts) == list(PUBLIC_TABLES)
    assert not Path(str(out) + ".tmp").exists()

    conn = sqlite3.connect(out)
    conn.row_factory = sqlite3.Row
    assert _sqlite_tables(conn) == set(EXPECTED)
    for table, n in EXPECTED.items():
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == n, table
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file, no -wal beside it
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []

    # bills are keyed by their canonical id; rows that point to a bill name it the same way
    bill_cols = {r["name"]: r for r in conn.execute("PRAGMA table_info(bills)")}
    assert bill_cols["id"]["pk"] == 1 and bill_cols["id"]["type"] == "TEXT"
    assert bill_cols["session"]["type"] == "INTEGER" and bill_cols["tracked"]["type"] == "INTEGER"
    assert "etag" not in bill_cols and "content_hash" not in bill_cols
    bills = {r["id"]: dict(r) for r in conn.execute("SELECT * FROM bills")}
    assert bills["ma/192/H135"]["title"] == H135_TITLE and bills["ma/192/H135"]["tracked"] == 1
    assert bills["ma/192/S47"]["tracked"] == 0 and bills["ma/192/H135"]["jurisdiction"] == "ma"
    assert json.loads(bills["ma/192/H135"]["petitioners"]) == [{"name": "David M. Rogers", "member_code": "DMR1"}]
    assert bills["ma/192/H135"]["created_at"] == "2022-07-01T12:00:00+00:00"

    actions = [dict(r) for r in conn.execute("SELECT * FROM bill_actions WHERE bill = 'ma/192/H135' ORDER BY position")]
    assert [a["date"] for a in actions] == ["2021-03-29", "2021-11-16", "2022-02-03", None]
    assert json.loads(actions[1]["kinds"]) == ["hearing-scheduled"]
    assert [a["removed_at"] for a in actions] == [None, None, "2022-07-02T12:00:00+00:00", None]

    fks = {(r["table"], r["from"], r["to"]) for t in EXPECTED
           for r in conn.execute(f"PRAGMA foreign_key_list({t})")}
    assert {("bills", "bill", "id"), ("articles", "article_id", "id"), ("feeds", "feed_id", "id"),
            ("snapshots", "snapshot_id", "id"), ("bill_actions", "action_id", "id"),
            ("clusters", "cluster_id", "id")} <= fks
    for table, column in [("bill_actions", "bill"), ("events", "bill"), ("events", "article_id"),
                          ("article_bills", "bill"), ("article_bills", "article_id"), ("article_sources", "article_id"),
                          ("article_sources", "feed_id"), ("hearings", "bill")]:
        indexed = {conn.execute(f"PRAGMA index_info({ix['name']})").fetchone()["name"]
                   for ix in conn.execute(f"PRAGMA index_list({table})")}
        assert column in indexed, f"{table}.{column} has no index"

    sources = [dict(r) for r in conn.execute("SELECT feed, entry_url FROM article_sources ORDER BY id")]
    assert [s["feed"] for s in sources] == ["WWLP", "Google News", "Google News", "WWLP"]
    assert [r[0] for r in conn.execute("SELECT reason FROM article_bills ORDER BY id")] == [
        'number "H.135" in summary', 'keyword "face surveillance" in title']

    events = {r["kind"]: dict(r) for r in conn.execute("SELECT * FROM events")}
    assert events["bill.action"]["bill"] == "ma/192/H135" and events["bill.action"]["occurred_on"] == "2021-11-16"
    assert json.loads(events["bill.action"]["payload"])["kinds"] == ["hearing-scheduled"]
    assert events["source.failing"]["bill"] is None and events["article.new"]["article_id"] is not None
    assert events["bill.tracked"]["snapshot_id"] is not None

    snapshot_cols = [r["name"] for r in conn.execute("PRAGMA table_info(snapshots)")]
    assert "body" not in snapshot_cols and "sha256" in snapshot_cols and "size" in snapshot_cols

    # full-text search over articles (title, summary, full text) and actions, accents folded like tracker search
    def search(table, query):
        return [r[0] for r in conn.execute(
            f"SELECT t.id FROM {table}_fts JOIN {table} t ON t.id = {table}_fts.rowid WHERE {table}_fts MATCH ?",
            (query,))]

    assert len(search("articles", "cafe")) == 1 and len(search("articles", "warrant")) == 1
    assert search("articles", '"facial recognition"') == search("articles", "warrant")
    assert len(search("bill_actions", "hearing virtual")) == 1

    # the docket: every document, keyed by its id, with its canonical id; full-text search over title, pinslip, text
    documents = {r["canonical"]: dict(r) for r in conn.execute("SELECT * FROM documents")}
    assert set(documents) == {"ma/194/H1946", "ma/194/SD503", "ma/194/H4000"}
    h1946 = documents["ma/194/H1946"]
    assert json.loads(h1946["joint_sponsors"]) == [{"name": "David M. Rogers", "member_code": "DMR1"}]
    assert json.loads(h1946["cosponsors"]) == [{"name": "Mike Connolly", "member_code": "MMC1"}]
    assert (h1946["text"], h1946["docket"], h1946["session"], h1946["docket_book_only"]) == (H1946_TEXT, "HD3870",
                                                                                            194, 0)
    assert h1946["first_seen_at"] == "2022-07-01T12:00:00+00:00" and h1946["removed_at"] is None
    sd503 = documents["ma/194/SD503"]
    assert (sd503["number"], sd503["docket_book_only"], sd503["detail_error"]) == (None, 1, "HTTP 500: Oh My Cod!")
    assert documents["ma/194/H4000"]["removed_at"] == "2022-07-03T12:00:00+00:00"
    doc_cols = [r["name"] for r in conn.execute("PRAGMA table_info(documents)")]
    assert doc_cols[:2] == ["id", "canonical"] and "row_hash" not in doc_cols and "detail_row_hash" not in doc_cols
    assert next(r for r in conn.execute("PRAGMA table_info(documents)") if r["name"] == "id")["pk"] == 1
    by_id = {d["id"]: c for c, d in documents.items()}
    assert [by_id[i] for i in search("documents", '"face recognition"')] == ["ma/194/H1946"]  # in its text
    assert [by_id[i] for i in search("documents", "schools surveillance")] == ["ma/194/SD503"]  # its pinslip
    assert [by_id[i] for i in search("documents", "withdrawn")] == ["ma/194/H4000"]  # its title
    assert [by_id[i] for i in search("documents", "cafe")] == ["ma/194/H1946"]  # accents folded
    assert bills["ma/192/H135"]["position"] == "support" and bills["ma/192/S47"]["position"] is None

    # the lineage, one row per typed edge, and every ranked successor with its evidence
    assert [tuple(r) for r in conn.execute('SELECT "from", "to", relation FROM lineage ORDER BY relation')] == [
        ("ma/194/HD3870", "ma/194/H1946", "docket"), ("ma/192/H135", "ma/193/H1728", "successor")]
    successors = {r["bill"]: dict(r) for r in conn.execute("SELECT * FROM successors")}
    h135 = successors["ma/192/H135"]
    assert (h135["candidate"], h135["session"], h135["rank"], h135["score"], h135["state"], h135["decided_by"],
            h135["decided_at"]) == ("ma/193/H1728", 193, 1, 0.95, "accepted", "auto", "2022-07-01T12:00:00+00:00")
    assert json.loads(h135["evidence"]) == EVIDENCE and successors["ma/192/S47"]["decided_at"] is None
    conn.close()
    _assert_no_secrets(out)


def test_bill_texts_are_exported_as_text_with_their_versions_and_searchable(world, tmp_path):
    out = tmp_path / "archive.sqlite"
    export(world, "sqlite", out)
    conn = sqlite3.connect(out)
    rows = conn.execute("SELECT v.bill, v.version, v.source, v.flags, t.words, t.text FROM bill_text_versions v "
                        "JOIN bill_texts t ON t.sha256 = v.sha256 ORDER BY v.version").fetchall()
    assert [r[:5] for r in rows] == [("ma/192/H135", 1, "document", "[]", 8), ("ma/192/H135", 2, "html", '["html"]', 12)]
    assert rows[1][5].endswith("without a zymurgic warrant.")
    hits = conn.execute("SELECT t.sha256 FROM bill_texts_fts f JOIN bill_texts t ON t.rowid = f.rowid "
                        "WHERE bill_texts_fts MATCH 'zymurgic'").fetchall()
    assert len(hits) == 1


FTS = {"articles": ["title", "summary_text", "full_text"], "bill_actions": ["action"],
       "documents": ["title", "pinslip", "text"], "bill_texts": ["text"]}


def test_the_archive_keeps_the_schema_users_query(world, tmp_path):
    """What saved queries and tools rely on beyond the columns: unique columns are their table's own constraints,
    and each full-text table is ``<table>_fts``, an external-content FTS5 table over the table's rowid (its integer
    id where it has one) with the database search's tokenizer (accents folded)."""
    out = tmp_path / "archive.sqlite"
    export(world, "sqlite", out)
    conn = sqlite3.connect(out)
    unique = {(t, conn.execute(f"PRAGMA index_info({ix[1]})").fetchone()[2]): ix[3]
              for t in EXPECTED for ix in conn.execute(f"PRAGMA index_list({t})") if ix[2]}
    for table, column in [("snapshots", "sha256"), ("feeds", "name"), ("articles", "url"),
                          ("documents", "canonical")]:
        assert unique.get((table, column)) == "u", f"{table}.{column} is not a UNIQUE column"
    for table, columns in FTS.items():
        assert [r[1] for r in conn.execute(f"PRAGMA table_info({table}_fts)")] == columns
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (f"{table}_fts",)).fetchone()[0]
        rowid = "rowid" if table == "bill_texts" else "id"
        for option in ("USING fts5(", f'content="{table}"', f'content_rowid="{rowid}"',
                       'tokenize="unicode61 remove_diacritics 2"'):
            assert option in sql, (table, option, sql)
        assert conn.execute(f"INSERT INTO {table}_fts({table}_fts, rank) VALUES ('integrity-check', 1)")
    conn.close()


def test_sqlite_utils_finds_the_full_text_tables_and_keys(world, tmp_path):
    """The archive is what sqlite-utils (Datasette's companion: ``sqlite-utils search``, ``rebuild-fts``) expects
    of a database it did not write: it finds each table's full-text table, searches through it, rebuilds it, and
    reads the tables' keys."""
    out = tmp_path / "archive.sqlite"
    export(world, "sqlite", out)
    db = sqlite_utils.Database(out, execute_plugins=False)
    assert {t: db[t].detect_fts() for t in FTS} == {t: f"{t}_fts" for t in FTS}

    def search(table, query, column):
        return [row[column] for row in db[table].search(query)]

    assert search("articles", "cafe", "title") == ["Café owners and police: reconnaissance faciale"]
    assert search("bill_actions", "study order", "bill") == ["ma/192/S47"]
    assert search("documents", "schools surveillance", "canonical") == ["ma/194/SD503"]
    assert search("bill_texts", "zymurgic", "words") == [12]
    db["articles"].rebuild_fts()
    assert search("articles", "warrant", "title") == ["Lawmakers weigh limits on facial recognition"]

    assert db["bills"].pks == ["id"] and db["bill_texts"].pks == ["sha256"] and db["documents"].pks == ["id"]
    fks = {(fk.table, fk.column, fk.other_table, fk.other_column) for t in EXPECTED for fk in db[t].foreign_keys}
    assert {("bill_actions", "bill", "bills", "id"), ("bill_text_versions", "sha256", "bill_texts", "sha256"),
            ("hearings", "action_id", "bill_actions", "id"), ("article_bills", "article_id", "articles", "id"),
            ("events", "snapshot_id", "snapshots", "id")} <= fks
    db.close()


def test_an_export_taken_while_the_tracker_writes_is_one_consistent_snapshot(world, tmp_path):
    """Rows committed after the export started are in no table of it (no link to an article it lacks)."""
    def write_meanwhile(table, _n):
        if table == "bills":
            with world.begin() as s:
                article = Article(url="https://example.com/late", link="https://example.com/late", title="Late news",
                                  summary_text="", first_seen_at=T)
                s.add(article)
                s.flush()
                bill = s.query(Bill).filter_by(canonical="ma/192/H135").one()
                s.add(ArticleBill(article_id=article.id, bill_id=bill.id, reason="late", term="H.135",
                                  field="title", kind="number", created_at=T))

    out = tmp_path / "archive.sqlite"
    counts = export(world, "sqlite", out, on_table=write_meanwhile)
    assert counts["articles"] == EXPECTED["articles"] and counts["article_bills"] == EXPECTED["article_bills"]
    with sqlite3.connect(out) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert export(world, "sqlite", out, force=True)["articles"] == EXPECTED["articles"] + 1  # the next one has it


# -- CSV and JSON Lines -------------------------------------------------------------------------------------------


def test_csv_and_jsonl_write_one_file_per_public_table(world, tmp_path):
    assert export(world, "csv", tmp_path / "csv") == EXPECTED
    assert export(world, "jsonl", tmp_path / "jsonl", batch_size=3) == EXPECTED
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == sorted(f"{t}.csv" for t in EXPECTED)
    assert sorted(p.name for p in (tmp_path / "jsonl").iterdir()) == sorted(f"{t}.jsonl" for t in EXPECTED)
    for table, n in EXPECTED.items():
        with open(tmp_path / "csv" / f"{table}.csv", newline="", encoding="utf-8") as f:
            csv_rows = list(csv.DictReader(f))
        json_rows = [json.loads(line) for line in (tmp_path / "jsonl" / f"{table}.jsonl").read_text("utf-8")
                     .splitlines()]
        assert len(csv_rows) == len(json_rows) == n, table
        assert list(csv_rows[0]) == list(json_rows[0]), table  # the same columns, in the same order

    actions = [json.loads(line) for line in (tmp_path / "jsonl" / "bill_actions.jsonl").read_text().splitlines()]
    hearing = next(a for a in actions if a["kinds"] == ["hearing-scheduled"])  # JSON values stay JSON in jsonl
    assert hearing["bill"] == "ma/192/H135" and hearing["date"] == "2021-11-16" and hearing["removed_at"] is None
    with open(tmp_path / "csv" / "bill_actions.csv", newline="", encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["id"] == str(hearing["id"]))
    assert json.loads(row["kinds"]) == ["hearing-scheduled"] and row["removed_at"] == ""  # JSON text, empty = null

    bills = {b["id"]: b for b in map(json.loads, (tmp_path / "jsonl" / "bills.jsonl").read_text().splitlines())}
    assert bills["ma/192/H135"]["tracked"] is True and bills["ma/192/S47"]["tracked"] is False
    articles = {a["title"]: a for a in map(json.loads, (tmp_path / "jsonl" / "articles.jsonl").read_text().splitlines())}
    assert articles["Café owners and police: reconnaissance faciale"]["summary_text"] == "A story about Zoë's café."
    assert articles["Budget talks stall"]["published_at"] is None
    with open(tmp_path / "csv" / "article_sources.csv", newline="", encoding="utf-8") as f:
        assert [r["feed"] for r in csv.DictReader(f)] == ["WWLP", "Google News", "Google News", "WWLP"]
    documents = {d["canonical"]: d for d in map(json.loads, (tmp_path / "jsonl" / "documents.jsonl").read_text()
                                                  .splitlines())}
    assert documents["ma/194/H1946"]["joint_sponsors"] == [{"name": "David M. Rogers", "member_code": "DMR1"}]
    assert documents["ma/194/H1946"]["text"] == H1946_TEXT and documents["ma/194/SD503"]["docket_book_only"] is True
    with open(tmp_path / "csv" / "documents.csv", newline="", encoding="utf-8") as f:
        rows = {r["canonical"]: r for r in csv.DictReader(f)}
    assert json.loads(rows["ma/194/H1946"]["cosponsors"]) == [{"name": "Mike Connolly", "member_code": "MMC1"}]
    assert rows["ma/194/H1946"]["text"] == H1946_TEXT  # line breaks survive the CSV
    assert rows["ma/194/SD503"]["number"] == "" and rows["ma/194/SD503"]["docket_book_only"] == "1"
    assert bills["ma/192/H135"]["position"] == "support"
    for fmt in ("csv", "jsonl"):
        _assert_no_secrets(tmp_path / fmt)


# -- where it writes ----------------------------------------------------------------------------------------------


def test_an_existing_archive_is_kept_unless_forced_and_a_failed_export_leaves_it_whole(world, tmp_path):
    out = tmp_path / "archive.sqlite"
    export(world, "sqlite", out)
    before = out.read_bytes()
    with pytest.raises(ExportError, match="already exists; use --force"):
        export(world, "sqlite", out)
    assert out.read_bytes() == before

    def fail_half_way(table, _n):
        if table == "articles":
            raise RuntimeError("disk full")

    with world.begin() as s:
        s.add(Bill(canonical="ma/192/H1728", session=192, number="H1728", tracked=True, error_count=0, created_at=T))
    with pytest.raises(RuntimeError, match="disk full"):
        export(world, "sqlite", out, force=True, on_table=fail_half_way)
    assert out.read_bytes() == before  # the previous archive, untouched
    assert not Path(str(out) + ".tmp").exists()

    assert export(world, "sqlite", out, force=True)["bills"] == 3
    with sqlite3.connect(out) as conn:
        assert conn.execute("SELECT count(*) FROM bills").fetchone()[0] == 3
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("archive")) == ["archive.sqlite"]

    folder = tmp_path / "csv"
    export(world, "csv", folder)
    with pytest.raises(ExportError, match="already exists"):
        export(world, "csv", folder)
    (folder / "bills.csv").write_text("stale\n")
    export(world, "csv", folder, force=True)
    assert (folder / "bills.csv").read_text().startswith("id,")
    assert [p.name for p in tmp_path.iterdir() if "csv" in p.name] == ["csv"]  # nothing left beside it

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    with pytest.raises(ExportError, match="not an export"):
        export(world, "jsonl", mine, force=True)  # --force never deletes a folder that is not an export
    assert (mine / "notes.txt").read_text() == "my notes"

    empty = tmp_path / "empty"
    empty.mkdir()
    assert export(world, "jsonl", empty) == EXPECTED | {"bills": 3}  # an empty folder is filled without --force
    with pytest.raises(ExportError, match="is a folder"):
        export(world, "sqlite", empty, force=True)
    with pytest.raises(ExportError, match="is a file"):
        export(world, "csv", out, force=True)
    with pytest.raises(ExportError, match="unknown export format"):
        export(world, "xml", tmp_path / "x.xml")
    nested = tmp_path / "a" / "b" / "archive.sqlite"
    assert export(world, "sqlite", nested)["events"] == EXPECTED["events"]  # missing folders are made


def test_every_document_comes_back_from_each_format_as_the_database_has_it(world, tmp_path):
    """The round trip of the documents table: each exported column read back from SQLite, CSV and JSON Lines
    equals the source row (JSON values as JSON, times as ISO 8601 in UTC, booleans as 0/1 outside JSON Lines)."""
    from sqlalchemy import select

    from tracker.export import TABLES

    columns = [c.name for c in next(t for t in TABLES if t.name == "documents").columns]
    with world() as s:
        source = {d.canonical: {c: getattr(d, c) for c in columns} for d in s.scalars(select(Document))}
    assert len(source) == 3

    def plain(value):  # the JSON Lines form of a value
        return value.isoformat() if isinstance(value, datetime) else value

    export(world, "sqlite", tmp_path / "a.sqlite")
    export(world, "csv", tmp_path / "csv")
    export(world, "jsonl", tmp_path / "jsonl")
    conn = sqlite3.connect(tmp_path / "a.sqlite")
    conn.row_factory = sqlite3.Row
    from_sqlite = {r["canonical"]: dict(r) for r in conn.execute("SELECT * FROM documents")}
    conn.close()
    from_jsonl = {d["canonical"]: d for d in map(json.loads, (tmp_path / "jsonl" / "documents.jsonl").read_text()
                                                 .splitlines())}
    with open(tmp_path / "csv" / "documents.csv", newline="", encoding="utf-8") as f:
        from_csv = {r["canonical"]: r for r in csv.DictReader(f)}
    for canonical, row in source.items():
        assert list(from_jsonl[canonical]) == columns == list(from_sqlite[canonical]) == list(from_csv[canonical])
        for c, value in row.items():
            want = plain(value)
            assert from_jsonl[canonical][c] == want, (canonical, c)
            got_sqlite, got_csv = from_sqlite[canonical][c], from_csv[canonical][c]
            if isinstance(value, bool):
                want = int(value)
            if c in ("joint_sponsors", "cosponsors"):  # JSON text; empty for null in CSV
                got_sqlite = None if got_sqlite is None else json.loads(got_sqlite)
                got_csv = None if got_csv == "" else json.loads(got_csv)
                assert got_csv == want, (canonical, c)
            else:
                assert got_csv == ("" if want is None else str(want)), (canonical, c)
            assert got_sqlite == want, (canonical, c)


def test_the_source_database_is_never_overwritten(tmp_path):
    """Only a SQLite source is a file an export could overwrite, so this one test has no PostgreSQL half."""
    from db.engine import make_engine, session_factory
    from db.migrate import upgrade

    source = tmp_path / "tracker.sqlite"
    engine = make_engine(f"sqlite:///{source}")
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        s.add(Bill(canonical="ma/192/H135", session=192, number="H135", tracked=True, error_count=0, created_at=T))
    for target in (source, tmp_path / "." / "tracker.sqlite"):
        with pytest.raises(ExportError, match="is the database being exported"):
            export(sessions, "sqlite", target, force=True)
    with sessions() as s:
        assert s.query(Bill).count() == 1
    engine.dispose()


# -- the command ----------------------------------------------------------------------------------------------------


def _tracker(args, cwd, db_url):
    return subprocess.run([sys.executable, "-m", "tracker.cli", "--db", db_url, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "TRACKER_CONFIG": ""})


def test_tracker_export_command(world, db_url, tmp_path):
    done = _tracker(["export", "--format", "sqlite", "out/archive.sqlite"], tmp_path, db_url)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert {line.split()[0]: int(line.split()[1]) for line in lines[:-1]} == EXPECTED  # a count per table
    total = sum(EXPECTED.values())
    assert lines[-1] == f"exported {total} rows in {len(EXPECTED)} tables to the sqlite file out/archive.sqlite"
    with sqlite3.connect(tmp_path / "out" / "archive.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == EXPECTED["events"]

    again = _tracker(["export", "--format", "sqlite", "out/archive.sqlite"], tmp_path, db_url)
    assert again.returncode == 2 and again.stdout == ""
    assert again.stderr == "tracker: out/archive.sqlite already exists; use --force to replace it\n"
    assert _tracker(["export", "--force", "out/archive.sqlite"], tmp_path, db_url).returncode == 0  # sqlite is default

    bad = _tracker(["export", "--format", "xml", "out/x"], tmp_path, db_url)
    assert bad.returncode == 2 and bad.stderr == "tracker: --format 'xml': expected sqlite, csv or jsonl\n"
    folder = _tracker(["export", "--format", "sqlite", "out"], tmp_path, db_url)
    assert folder.returncode == 2 and len(folder.stderr.splitlines()) == 1 and "is a folder" in folder.stderr
    as_file = _tracker(["export", "--format", "csv", "out/archive.sqlite"], tmp_path, db_url)
    assert as_file.returncode == 2 and len(as_file.stderr.splitlines()) == 1 and "is a file" in as_file.stderr

    jsonl = _tracker(["export", "--format", "jsonl", "out/jsonl"], tmp_path, db_url)
    assert jsonl.returncode == 0, jsonl.stderr
    assert sorted(p.stem for p in (tmp_path / "out" / "jsonl").iterdir()) == sorted(EXPECTED)
    _assert_no_secrets(tmp_path / "out")


# -- Datasette ------------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_json(base: str, path: str, **params):
    url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


def test_datasette_serves_the_export_with_search_and_links(world, tmp_path):
    db = tmp_path / "archive.sqlite"
    export(world, "sqlite", db)
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "datasette", "serve", str(db), "--port", str(port),
                             "--host", "127.0.0.1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get_json(base, "/-/versions.json")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("datasette did not start: " + proc.stdout.read().decode(errors="replace"))
                time.sleep(0.2)

        assert _get_json(base, "/archive.json", sql="select count(*) as n from bills", _shape="array") == [{"n": 2}]

        tables = {t["name"]: t for t in _get_json(base, "/archive.json")["tables"]}
        visible = {name for name, t in tables.items() if not t["hidden"]}
        assert visible == set(EXPECTED)
        assert tables["articles"]["fts_table"] == "articles_fts"
        assert tables["bill_actions"]["fts_table"] == "bill_actions_fts"

        # the search box on articles and actions, accents folded
        found = _get_json(base, "/archive/articles.json", _search="cafe", _shape="array")
        assert [a["title"] for a in found] == ["Café owners and police: reconnaissance faciale"]
        found = _get_json(base, "/archive/bill_actions.json", _search="study order", _shape="array")
        assert [a["bill"] for a in found] == ["ma/192/S47"]

        # foreign keys: an action's bill is shown with the bill's title, and a bill's page is reached by its id
        rows = _get_json(base, "/archive/bill_actions.json", bill="ma/192/H135", _labels="on", _shape="array",
                         _sort="position")
        assert len(rows) == 4 and rows[0]["bill"] == {"value": "ma/192/H135", "label": H135_TITLE}
        [bill] = _get_json(base, "/archive/bills/ma~2F192~2FH135.json", _shape="array")
        assert bill["status"] == "in-committee"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()
