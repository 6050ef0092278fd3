"""The demo's emails, opened as a new user would: `tracker demo --serve` keeps the web app (with the demo's key,
on the port the links name) and the replicas up, and every link of every email answers, in Chromium too."""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import time
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
    assert len(mails) == 4, out
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
