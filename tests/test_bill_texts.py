"""Bill texts: the real spider in its child process against the replica, each distinct text of a tracked bill
stored once as a version with one ``bill.text`` event, the text page asked for when DocumentText is empty (no
more often than ``text_every``, at once after a text-changing action), and the texts in the search of both
backends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from click.testing import CliRunner
from sqlalchemy import func, select

from db.bills import get_bill
from db.models import Bill, BillTextBlob, BillTextVersion, Event
from db.search import search
from db.texts import count_words, find_version, record_text, version_text, versions
from tracker.cli import main
from tracker.config import parse_config
from tracker.crawl import crawl
from tracker.replica.texts import draft_changes, text_of
from tracker.retention import apply_retention
from tracker.text_writer import record_bill_text

T0 = datetime(2022, 9, 1, 12, 0, tzinfo=timezone.utc)
CONFIG = """
sources:
  malegislature:
    session: 192
    delay_s: 0
    concurrency: 4
    timeout_s: 5
bills:
  - id: H.135
"""
H135 = ("Be it enacted by the Senate and House of Representatives in General Court assembled, and by the "
        "authority of the same, as follows:\n"
        "SECTION 1. No public agency shall acquire or use a face surveillance system, except as this act allows.\n"
        "SECTION 2. Schools shall not use biometric surveillance on students or staff under any circumstance.\n"
        "SECTION 3. A quixotic zephyr clause that only this bill's text holds.\n"
        "SECTION 4. This act shall take effect 90 days after its passage.")
H5091 = ("Be it enacted by the Senate and House of Representatives in General Court assembled, and by the "
         "authority of the same, as follows:\n"
         "SECTION 1. No public agency shall acquire or use a face surveillance system, except as this act allows.\n"
         "SECTION 2. A quixotic zephyr clause that only this bill's text holds.\n"
         "SECTION 3. A police department may search a database only with a warrant issued by a court.\n"
         "SECTION 4. This act shall take effect on January 1, 2023.")


def config(base_url: str, **overrides):
    return parse_config(CONFIG, "test").with_overrides(base_url=base_url, **overrides)


def at(days: float):
    return lambda: T0 + timedelta(days=days)


def text_events(sessions, canonical: str) -> list[Event]:
    with sessions() as s:
        return list(s.scalars(select(Event).join(Bill, Bill.id == Event.bill_id)
                              .where(Event.kind == "bill.text", Bill.canonical == canonical).order_by(Event.id)))


def bill_versions(sessions, canonical: str):
    with sessions() as s:
        return versions(s, s.scalar(select(Bill.id).where(Bill.canonical == canonical)))


def with_texts(replica, h135: str = H135, h5091: str = H5091):
    replica.update_bill(192, "H135", text=h135)
    replica.update_bill(192, "H5091", text=h5091)


def test_a_first_crawl_stores_one_version_and_one_event_and_a_new_draft_is_compared_with_its_bill(
        sessions, replica_server, replica):
    result = crawl(config(replica_server.base_url), sessions, now=at(0))  # the replica's own texts
    assert result.errors == []
    [v1] = bill_versions(sessions, "ma/192/H135")
    assert (v1.version, v1.source, v1.words) == (1, "document", count_words(text_of(192, "H135")))
    [ev] = text_events(sessions, "ma/192/H135")
    assert ev.payload["previous_version"] is None and ev.payload["added_words"] == ev.payload["words"] == v1.words
    assert ev.payload["removed_words"] == 0 and ev.payload["sha256"] == v1.sha256 and "compared_with" not in ev.payload
    assert ev.summary == f"H.135 text: version 1, {v1.words:,} words"

    [draft] = text_events(sessions, "ma/192/H5091")  # the new draft, followed in the same crawl
    p = draft.payload
    assert (p["version"], p["previous_version"], p["compared_with"]) == (1, None, "ma/192/H135@1")
    assert p["removed_words"] > 0 and p["added_words"] > 0 and "against H.135" in draft.summary
    # the sections the replica's new draft removed, changed and added, and no other
    changes = draft_changes("192/H135", "192/H5091")
    named = [(c["old"], c["new"]) for c in changes if c["change"] != "same"]
    assert named == [("3", None), ("5", "4"), (None, "5")]
    lines = p["summary_lines"]
    assert lines[0].startswith("section 3 removed") and lines[1].startswith("section 5, now 4, changed")
    assert lines[2].startswith("section 5 added") and len([line for line in lines if "renumbered" not in line]) == 3
    with sessions() as s:
        assert get_bill(s, "ma/192/H135")["text_versions"] == 1
        assert version_text(s, v1.bill_id) == text_of(192, "H135").strip()


def test_a_bill_whose_text_is_only_on_its_html_page_gets_it_from_there(sessions, replica_server, replica):
    replica.set_text(192, "H135", "")
    replica.set_text(192, "H135", text_of(192, "H135"), where="page")
    crawl(config(replica_server.base_url), sessions, now=at(0))
    assert replica.path_count("/Bills/192/H135.Html") == 1
    [v1] = bill_versions(sessions, "ma/192/H135")
    [ev] = text_events(sessions, "ma/192/H135")
    assert (v1.source, ev.payload["source"], ev.payload["version"]) == ("html", "html", 1)
    with sessions() as s:
        assert version_text(s, v1.bill_id) == text_of(192, "H135").strip()
        assert ev.snapshot_id is not None  # the page it came from is kept (retention keeps what events point to)
    crawl(config(replica_server.base_url), sessions, now=at(2))  # DocumentText still empty: the version stands
    assert len(bill_versions(sessions, "ma/192/H135")) == 1
    with sessions() as s:
        assert s.scalar(select(Bill.text_empty_since).where(Bill.canonical == "ma/192/H135")) is None


def test_an_unchanged_refetch_records_nothing_and_a_changed_text_is_version_2_with_its_word_counts(
        sessions, replica_server, replica):
    with_texts(replica)
    cfg = config(replica_server.base_url)
    crawl(cfg, sessions, now=at(0))
    detail = "/api/GeneralCourts/192/Documents/H135"
    asked = replica.path_count(detail)
    crawl(cfg, sessions, now=at(2))  # the detail is due again (detail_every 1d): the same text
    assert replica.path_count(detail) == asked + 1
    assert len(bill_versions(sessions, "ma/192/H135")) == 1 and len(text_events(sessions, "ma/192/H135")) == 1

    changed = H135.replace("use biometric surveillance", "use surveillance").replace(
        "under any circumstance.", "under any circumstance. Parents may object in writing.")
    replica.update_bill(192, "H135", text=changed)
    crawl(cfg, sessions, now=at(4))
    old, new = bill_versions(sessions, "ma/192/H135")
    assert (new.version, new.words) == (2, count_words(changed))
    ev = text_events(sessions, "ma/192/H135")[-1]
    # "biometric" removed; "Parents may object in writing." added
    assert (ev.payload["added_words"], ev.payload["removed_words"]) == (5, 1)
    assert (ev.payload["previous_version"], ev.payload["compared_with"]) == (1, "ma/192/H135@1")
    assert ev.summary == "H.135 text: version 2, 5 words added, 1 removed"
    assert ev.payload["summary_lines"] == ["section 2 changed: 5 words added, 1 word removed"]
    with sessions() as s:
        assert get_bill(s, "ma/192/H135")["text_versions"] == 2
        assert find_version(s, "ma/192/H135", 1).sha256 == old.sha256


def test_an_empty_text_after_a_real_one_records_nothing_is_flagged_and_its_return_is_no_new_version(
        sessions, replica_server, replica):
    with_texts(replica)
    cfg = config(replica_server.base_url)
    crawl(cfg, sessions, now=at(0))
    replica.update_bill(192, "H135", text="")
    crawl(cfg, sessions, now=at(2))
    with sessions() as s:
        assert s.scalar(select(Bill.text_empty_since).where(Bill.canonical == "ma/192/H135")) == T0 + timedelta(days=2)
    assert len(bill_versions(sessions, "ma/192/H135")) == 1 and len(text_events(sessions, "ma/192/H135")) == 1
    replica.update_bill(192, "H135", text=H135)  # back, days later, as it was
    crawl(cfg, sessions, now=at(5))
    assert len(bill_versions(sessions, "ma/192/H135")) == 1 and len(text_events(sessions, "ma/192/H135")) == 1
    with sessions() as s:
        assert s.scalar(select(Bill.text_empty_since).where(Bill.canonical == "ma/192/H135")) is None


def test_search_finds_a_phrase_only_in_a_bills_text_by_bill_and_session(sessions, replica_server, replica):
    with_texts(replica, h5091=H5091.replace("quixotic zephyr", "plain"))
    crawl(config(replica_server.base_url), sessions, now=at(0))
    with sessions() as s:
        hits = search(s, '"quixotic zephyr"')
        assert [(h["type"], h["bill"], h["version"]) for h in hits] == [("text", "ma/192/H135", 1)]
        snippet = hits[0]["snippet"]
        assert "[quixotic" in snippet and "zephyr]" in snippet and hits[0]["date"].startswith("2022-09-01")
        assert [h["bill"] for h in search(s, "warrant issued court", kind="text")] == ["ma/192/H5091"]
        assert search(s, '"quixotic zephyr"', bill="ma/192/H5091") == []
        assert search(s, '"quixotic zephyr"', session=193) == []
        assert len(search(s, '"quixotic zephyr"', session=192, kind="text")) == 1


def test_the_cli_search_gives_texts_as_results_of_type_text(sessions, replica_server, replica, db_url, tmp_path):
    with_texts(replica)
    crawl(config(replica_server.base_url), sessions, now=at(0))
    out = CliRunner().invoke(main, ["--db", db_url, "search", "quixotic", "--kind", "text", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert '"type": "text"' in out.output and '"version": 1' in out.output and "ma/192/H135" in out.output


def test_the_text_page_is_asked_for_when_documenttext_is_empty_no_more_than_weekly_and_at_once_after_a_new_draft(
        sessions, replica_server, replica):
    replica.set_text(192, "H135", "")
    cfg = config(replica_server.base_url)
    page = "/Bills/192/H135.Html"
    crawl(cfg, sessions, now=at(0))
    assert replica.path_count(page) == 1
    crawl(cfg, sessions, now=at(2))  # the detail again, the page not yet
    assert replica.path_count(page) == 1
    replica.add_action(192, "H135", "2022-09-03T10:00:00", "House", "New draft substituted, see H5091")
    crawl(cfg, sessions, now=at(3))  # a text-changing action: at once
    assert replica.path_count(page) == 2
    crawl(cfg, sessions, now=at(4))
    assert replica.path_count(page) == 2
    crawl(cfg, sessions, now=at(11))  # a week after the last ask
    assert replica.path_count(page) == 3


def test_a_documenttext_in_html_is_stored_as_plain_text_with_its_sections_and_flagged(sessions, replica_server,
                                                                                     replica):
    html_text = ("<p>Be it enacted by the Senate and House&nbsp;of Representatives, as follows:</p>"
                 "<p>SECTION 1. No agency shall use face surveillance.</p><p>SECTION 2. Effective at once.</p>")
    with_texts(replica, h135=html_text)
    crawl(config(replica_server.base_url), sessions, now=at(0))
    [ev] = text_events(sessions, "ma/192/H135")
    assert "html" in ev.payload["flags"] and ev.payload["source"] == "document"
    with sessions() as s:
        stored = version_text(s, ev.bill_id)
    assert "<p>" not in stored and "&nbsp;" not in stored
    assert [line.split(".")[0] for line in stored.splitlines() if line.startswith("SECTION")] == ["SECTION 1",
                                                                                                 "SECTION 2"]


def _bill(s, number="H135") -> Bill:
    bill = Bill(canonical=f"ma/192/{number}", session=192, number=number, tracked=True, error_count=0, created_at=T0)
    s.add(bill)
    s.flush()
    return bill


def test_a_text_of_several_megabytes_is_stored_compared_and_searched_whole(sessions):
    words = " ".join(f"w{i % 5000}" for i in range(600_000))  # about 3.6 MB, no sections
    big = words + " a needle phrase at the very end"
    with sessions.begin() as s:
        bill = _bill(s)
        record_bill_text(s, bill, big, "document", ["large"], T0)
        ev = record_bill_text(s, bill, big.replace("needle phrase", "other phrase"), "document", ["large"], T0)
    assert (ev.payload["version"], ev.payload["added_words"], ev.payload["removed_words"]) == (2, 1, 1)
    with sessions() as s:
        assert s.scalar(select(BillTextBlob.size).order_by(BillTextBlob.size.desc()).limit(1)) > 3_000_000
        hits = search(s, '"needle phrase at the very end"')
        assert [(h["bill"], h["version"]) for h in hits] == [("ma/192/H135", 1)]


def test_record_text_ignores_empty_and_unchanged_texts_and_retention_never_deletes_a_text(sessions):
    with sessions.begin() as s:
        bill = _bill(s)
        assert record_text(s, bill, "   ", "document", T0) is None  # nothing yet, and nothing recorded
        first = record_text(s, bill, "SECTION 1. One.", "document", T0)
        assert first.version == 1 and record_text(s, bill, "SECTION 1. One.", "html", T0) is None
        assert record_text(s, bill, "", "document", T0 + timedelta(days=1)) is None
        second = record_text(s, bill, "SECTION 1. Two.", "document", T0 + timedelta(days=3))
        assert (second.version, second.flags) == (2, ["after-empty"])
    cfg = parse_config(CONFIG, "test")
    apply_retention(cfg, sessions, T0 + timedelta(days=3650))
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(BillTextVersion)) == 2
        assert s.scalar(select(func.count()).select_from(BillTextBlob)) == 2
        assert version_text(s, second.bill_id, 1) == "SECTION 1. One."
