"""The demo's emails, opened as a new user would: `tracker demo --serve` keeps the web app (with the demo's key,
on the port the links name) and the replicas up, and every link of every email answers, in Chromium too. The
story's last step: after the hearing the committee reports a new draft of H.1946, and the staff digest shows
its redline in a few lines (the sections the replica's new draft changed), with a link to the whole redline."""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import date, datetime
from email.policy import default
from pathlib import Path

import httpx
import pytest

from tests.smtp_sink import free_port

CHROMIUM = shutil.which("chromium")
LINK = re.compile(r"https?://[^\s\"'<>)]+")


def _emails(box: Path) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=default) for p in sorted((box / "new").iterdir())]


def _links(msg) -> set[str]:
    found = set()
    for part in ("plain", "html"):
        body = msg.get_body((part,))
        if body is not None:
            found |= {u.replace("&amp;", "&").rstrip(".,;") for u in LINK.findall(body.get_content())}
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("demo")  # one demo for the module: it takes half a minute
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tracker.cli", "demo", "--dir", str(tmp_path / "demo"),
                             "--serve", "--port", str(port)], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=os.environ.copy())
    out = []
    deadline = time.monotonic() + 240
    try:
        for line in proc.stdout:
            out.append(line)
            if "Serving the web app" in line:
                break
            assert time.monotonic() < deadline, "".join(out)
        else:
            pytest.fail("the demo ended without serving:\n" + "".join(out))
        while True:  # uvicorn starts after the line
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        yield tmp_path / "demo", port, "".join(out)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_every_link_of_the_demos_emails_answers_while_it_serves(demo):
    folder, port, out = demo
    mails = _emails(folder / "outbox")
    # confirmation, two digests, three alerts; her testimony to two chairs and her letter to two legislators, a
    # copy of each to her
    assert len(mails) == 12, out
    checked = 0
    for msg in mails:
        for url in sorted(_links(msg)):
            if not url.startswith("http://127.0.0.1:"):
                continue  # the campaign's own action page (example.org) is not ours to serve
            # a POST-only unsubscribe link answers its confirmation page to a GET
            r = httpx.get(url, follow_redirects=False, timeout=10)
            assert r.status_code < 400, (msg["Subject"], url, r.status_code, r.text[:300])
            checked += 1
    assert checked >= 10
    # the confirmation link names the web app's port and works: it was answered above, and says so
    [confirm] = [u for m in mails for u in _links(m) if "/confirm?token=" in u]
    assert confirm.startswith(f"http://127.0.0.1:{port}/confirm")
    assert "not one we sent" not in httpx.get(confirm, timeout=10).text


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
def test_the_testify_alert_opened_in_chromium_links_to_pages_that_answer(demo, tmp_path):
    from playwright.sync_api import sync_playwright

    folder, port, _ = demo
    alert = next(m for m in _emails(folder / "outbox") if "hearing scheduled" in m["Subject"])
    page_file = tmp_path / "alert.html"
    page_file.write_text(alert.get_body(("html",)).get_content(), encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 390, "height": 800})
        page.goto(page_file.as_uri())
        assert "H.1946" in page.inner_text("body")
        hrefs = [a.get_attribute("href") for a in page.query_selector_all("a")]
        ours = [h for h in hrefs if h and h.startswith(f"http://127.0.0.1:{port}/")]
        assert ours, hrefs
        for href in ours:
            response = page.goto(href)
            assert response is not None and response.status < 400, (href, response and response.status)
        browser.close()


def _plain(msg) -> str:
    return msg.get_body(("plain",)).get_content()


def _new_texts(digest) -> str:
    """The "New texts" section of a staff digest's plain text (up to the next section)."""
    body = _plain(digest)
    assert "== New texts" in body, body
    return body.split("== New texts", 1)[1].split("\n== ", 1)[0]


def _date(words: str) -> date:
    return datetime.strptime(words, "%b %d, %Y").date()


def test_the_staff_digest_after_the_hearing_shows_the_new_drafts_redline(demo):
    from tracker.replica.texts import draft_changes, texts_for
    from tracker.texts.compare import compare

    folder, port, out = demo
    mails = _emails(folder / "outbox")
    digests = [m for m in mails if m["To"] == "staff@example.org"]
    testify = next(m for m in mails if "hearing scheduled" in m["Subject"])
    assert len(digests) == 2, [m["Subject"] for m in mails]
    later = digests[-1]
    # reported after the hearing: the digest is of a later day than the one the hearing was held on
    hearing = re.search(r"Hearing scheduled for \w+ (\w+ \d+, \d{4})", _plain(testify)).group(1)
    digest_day = re.search(r"staff digest for (\w+ \d+, \d{4})", later["Subject"]).group(1)
    assert _date(digest_day) > _date(hearing), (hearing, later["Subject"])
    assert "1 new text" in later["Subject"]

    section = _new_texts(later)
    assert "H.4420, the new draft of H.1946" in section, section
    # the sections the replica's new draft removed, changed and added, exactly; none of those it left alone
    expected = {(c["old"] if c["change"] == "removed" else c["new"], c["change"])
                for c in draft_changes("194/H1946", "194/H4420") if c["change"] != "same"}
    shown = {(m.group(2) or m.group(1), m.group(3))
             for m in re.finditer(r"section (\d+)(?:, now (\d+),)? (changed|removed|added)", section)}
    assert shown == expected == {("2", "changed"), ("4", "removed"), ("5", "added")}, section
    # the word counts are those of the two texts on file
    redline = compare(texts_for(194, "H1946")["text"], texts_for(194, "H4420")["text"])
    assert f"{redline.added_words} words added, {redline.removed_words} removed" in section
    assert "bill.text" not in section and "new-draft" not in section

    # the redline's link, in the text and the HTML, opens the compare page while the demo serves
    [link] = LINK.findall(section)
    assert link.startswith(f"http://127.0.0.1:{port}/bills/194/H4420") and "/compare/194/H1946" in link
    assert f'href="{link}"' in later.get_body(("html",)).get_content()
    page = httpx.get(link, timeout=10)
    assert page.status_code == 200, page.text[:300]
    assert "<ins" in page.text and "<del" in page.text
    assert "H.4420" in page.text and "H.1946" in page.text
    assert "destroyed by the agency that performed the search" in page.text  # section 5, added


def test_the_supporter_hears_of_the_new_draft_in_a_plain_sentence(demo):
    from tracker.replica.texts import texts_for
    from tracker.texts.compare import compare

    folder, _, out = demo
    redline = compare(texts_for(194, "H1946")["text"], texts_for(194, "H4420")["text"])
    mails = _emails(folder / "outbox")
    alert = next(m for m in mails if m["To"].addresses[0].addr_spec == "jane@example.org"
                 and "new draft" in m["Subject"])
    assert alert["Subject"].startswith("H.1946: replaced by a new draft")
    body = _plain(alert)
    assert ("The new draft H.4420 has its text. Compared with H.1946, it removes 1 section, changes 1 and adds 1 "
            f"({redline.added_words} words added, {redline.removed_words} removed).") in body
    html = alert.get_body(("html",)).get_content()
    assert "Compared with H.1946, it removes 1 section, changes 1 and adds 1" in html
    for internal in ("bill.text", "new-draft", "compared_with", "feeds.yaml", "tracker ", "summary_lines"):
        assert internal not in body and internal not in html, internal


def test_jane_sends_testimony_and_a_letter_from_her_alert_and_the_staff_digest_counts_them(demo):
    folder, _, out = demo
    mails = _emails(folder / "outbox")
    letters = [m for m in mails if m["Reply-To"] is not None and "jane@example.org" in str(m["Reply-To"])]
    to = {m["To"].addresses[0].addr_spec: m for m in letters}
    # testimony: both chairs of the Joint Committee on the Judiciary (the alert named them); the letter: her own
    # Representative (Twenty-Fourth Middlesex) and Senator (Middlesex and Worcester)
    assert set(to) == {"maria.langford@example.org", "kevin.galloway@example.org", "david.rogers@example.org",
                       "james.eldridge@example.org"}, out
    for m in letters:
        assert m["From"].addresses[0].addr_spec == "alerts@example.org" and m["List-Unsubscribe"] is None
        body = m.get_content().replace("\r\n", "\n")
        assert "I live here, and I want this done right." in body and "Jane Doe\nArlington, Massachusetts" in body
    assert to["maria.langford@example.org"]["Subject"] == "Testimony in support of H.1946"
    copies = [m for m in mails if m["To"].addresses[0].addr_spec == "jane@example.org"
              and str(m["Subject"]).startswith("Your ")]
    assert len(copies) == 2 and any("testimony" in str(m["Subject"]) for m in copies)
    digest = [m for m in mails if m["To"] == "staff@example.org"][-1]
    section = _plain(digest).split("== Letters and testimony", 1)[1].split("\n== ", 1)[0]
    assert "testify: 2 sent, by 1 supporter to 2 legislators" in section
    assert "write-your-legislators: 2 sent, by 1 supporter to 2 legislators" in section
    assert 'from "H.1946: hearing scheduled for' in section
