"""A redline as its readers see it: `tracker text`, the compare page (in process, and in Chromium at 1280 and
390 px), its API, the bill page's list of versions, and the staff digest's "New texts". The texts are the
replica's (H.135 and its new draft H.5091), stored by a real crawl."""

from __future__ import annotations

import json
from email import message_from_bytes
from email.policy import default
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.alerts_world import KEY, application, config as web_config
from tests.test_bill_texts import config as crawl_config
from tests.web_client import caller, served
from tracker.cli import main
from tracker.crawl import crawl
from tracker.replica.texts import draft_changes
from tracker.web.app import create_app

T0 = datetime(2022, 9, 1, 12, 0, tzinfo=timezone.utc)
CHROMIUM = shutil.which("chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture
def texts(sessions, replica_server):
    """H.135 crawled (its history names the new draft H.5091, followed and crawled in the same run), then H.135's
    text changed once (version 2)."""
    result = crawl(crawl_config(replica_server.base_url), sessions, now=lambda: T0)
    assert not result.errors, result.errors
    return sessions


def _sections(redline: dict) -> list[tuple]:
    return [(c["change"], c["from_section"], c["to_section"]) for c in redline["sections"]
            if c["change"] != "same" or c["from_section"] != c["to_section"]]


def _expected() -> list[tuple]:
    """What the replica's manifest says the new draft did, in the same shape."""
    out = []
    for c in draft_changes("192/H135", "192/H5091"):
        if c["change"] == "same" and c["old"] == c["new"]:
            continue
        out.append(({"same": "same"}.get(c["change"], c["change"]), c["old"], c["new"]))
    return out


def test_tracker_text_prints_a_version_and_the_redline(texts, db_url):
    runner = CliRunner()
    shown = runner.invoke(main, ["--db", db_url, "text", "192/H135"])
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("H.135 (version 1): ") and "SECTION 1." in shown.output

    redline = runner.invoke(main, ["--db", db_url, "text", "192/H5091", "--compare", "192/H135", "--format", "json"])
    assert redline.exit_code == 0, redline.output
    data = json.loads(redline.output)
    assert (data["from"], data["to"]) == ("ma/192/H135@1", "ma/192/H5091@1")
    assert _sections(data) == _expected()
    inserted = sum(len(re.findall(r"[\w'’]+", h["to"])) for h in data["hunks"] if h["op"] in ("insert", "replace"))
    assert inserted == data["added_words"] > 0 and {h["op"] for h in data["hunks"]} >= {"equal", "insert", "delete"}

    table = runner.invoke(main, ["--db", db_url, "text", "192/H5091", "--compare", "192/H135@1"])
    assert table.exit_code == 0
    assert "From H.135 (version 1) to H.5091 (version 1)" in table.output
    assert "section 3 removed" in table.output and "[+" in table.output and "[-" in table.output


@pytest.mark.parametrize("args, words", [
    (["text", "192/H135@9"], "H.135 has 1 stored version of its text: no version 9"),
    (["text", "192/H135@x"], "after @ comes a version number"),
    (["text", "192/H4000"], "H.4000 has no stored text"),
])
def test_tracker_text_says_what_is_missing(texts, db_url, args, words):
    out = CliRunner().invoke(main, ["--db", db_url, *args])
    assert out.exit_code == 2 and words in out.output


def test_the_compare_page_and_its_api(texts):
    web = caller(create_app(application(web_config(), texts, KEY, transport_factory=lambda: None)))
    page = web("GET", "/bills/192/H5091/compare/192/H135")
    assert page.status_code == 200
    assert "What changed from H.135 (version 1) to H.5091 (version 1)" in page.text
    assert "<ins>" in page.text and "<del>" in page.text and "section 3 removed" in page.text
    api = web("GET", "/api/bills/192/H5091/compare/192/H135@1")
    assert api.status_code == 200 and _sections(api.json()) == _expected()
    assert web("GET", "/bills/192/H5091/compare/192/H135@7").status_code == 404
    assert web("GET", "/bills/192/H5091/compare/192/H135@0").status_code == 400

    bill = web("GET", "/bills/192/H5091").text
    assert 'id="texts"' in bill and "/bills/192/H5091/compare/192/H135" in bill  # what the new draft changed
    old = web("GET", "/bills/192/H135").text
    assert "/bills/192/H5091/compare/192/H135" in old  # and from the bill it replaced


def test_the_staff_digest_says_what_the_new_draft_changed(texts):
    from sqlalchemy import select

    from alerts.compose import Composer
    from db.models import Event, Subscriber
    from tests.alerts_world import settings_of

    with texts.begin() as s:
        ev = s.scalar(select(Event).where(Event.kind == "bill.text", Event.payload["number"].as_string() == "H.5091"))
        assert ev.payload["relation"] == "new-draft" and ev.payload["compared_with"] == "ma/192/H135@1"
        staff = Subscriber(email="staff@example.org", status="active", frequency="daily", role="staff",
                           created_at=T0)
        s.add(staff)
        s.flush()
        composer = Composer(s, settings_of(web_config(), KEY, "https://tracker.example"), T0 + timedelta(hours=1))
        mail = composer.staff(staff, "2022-09-01", [ev], [])
    body = message_from_bytes(mail.data, policy=default).get_body(("plain",)).get_content()
    assert "== New texts" in body and "H.5091, the new draft of H.135:" in body
    assert "section 3 removed" in body
    assert "the full redline: https://tracker.example/bills/192/H5091@1/compare/192/H135@1" in body
    assert "new text" in mail.subject


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
@pytest.mark.parametrize("width", (1280, 390))
def test_the_compare_page_in_a_browser_marks_changes_without_colour_and_fits_a_phone(texts, width):
    from playwright.sync_api import sync_playwright

    app = lambda base: create_app(application(web_config(), texts, KEY, public_url=base,  # noqa: E731
                                              transport_factory=lambda: None))
    with served(app) as base:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(f"{base}/bills/192/H5091/compare/192/H135")
            first_ins = page.locator("#redline ins").first
            marker = first_ins.evaluate("e => getComputedStyle(e, '::before').content")
            assert marker == '"[+"'  # visible without colour
            assert page.locator("#redline del").first.evaluate("e => getComputedStyle(e, '::before').content") \
                == '"[−"'
            assert page.locator("#summary li").count() >= 3
            assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"compare-{width}.png"), full_page=True)
            browser.close()


def test_a_supporter_hears_what_the_new_draft_changed_in_one_sentence_and_not_of_a_first_text(texts):
    from zoneinfo import ZoneInfo

    from sqlalchemy import select

    from alerts.selection import SUPPORTER_KINDS, Interest, bill_families
    from alerts.wording import sentence
    from db.models import Bill, Event

    with texts() as s:
        h135 = s.scalar(select(Bill.id).where(Bill.canonical == "ma/192/H135"))
        interest = Interest(frozenset(bill_families(s)[h135]), frozenset(SUPPORTER_KINDS))
        events = {e.payload["number"]: e for e in s.scalars(select(Event).where(Event.kind == "bill.text"))}
    assert interest.concerns(events["H.5091"]) and not interest.concerns(events["H.135"])
    said = sentence(events["H.5091"], ZoneInfo("America/New_York"))
    assert said.startswith("The new draft H.5091 has its text. Compared with H.135, it removes 1 section, changes ")
    assert "bill.text" not in said and "section_lines" not in said
