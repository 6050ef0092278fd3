"""A supporter in a real browser (Debian's Chromium driven by Playwright): sign up, confirm from the link
in the email caught by a local SMTP server, change preferences, unsubscribe. The bill page's screenshot
is kept under artifacts/."""

from __future__ import annotations

import re
import shutil
import threading
import time
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from alerts.transport import SmtpTransport, parse_smtp_url
from db.models import Article, ArticleBill, BillAction, Subscriber
from tests.alerts_world import KEY, NOW, add_action, add_bill, add_hearing, config, application
from tests.smtp_sink import SmtpSink, free_port

CHROMIUM = shutil.which("chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")


@pytest.fixture(params=["sqlite"])
def backend(request) -> str:
    """The browser need not run twice: the pages it drives are tested on both backends in process."""
    return request.param


@pytest.fixture
def site(sessions, monkeypatch):
    import uvicorn

    from tracker.web.app import create_app

    with sessions.begin() as s:
        bill = add_bill(s, "H135", sponsor="David M. Rogers")
        add_bill(s, "S47")
        for text, kinds, day in (("Referred to the committee on The Judiciary", ["referral"], date(2021, 3, 29)),
                                 ("Hearing scheduled for 11/23/2021 from 10:00 AM-02:00 PM in Virtual Hearing",
                                  ["hearing-scheduled"], date(2021, 11, 16))):
            add_action(s, bill, text, kinds, day)
            s.add(BillAction(bill_id=bill.id, position=day.month, occurrence=0, date=day, branch="Joint", action=text,
                             kinds=kinds, first_seen_at=NOW))
        add_hearing(s, bill, datetime(2021, 11, 23, 15, 0, tzinfo=timezone.utc))
        for i, when in enumerate((datetime(2021, 11, 20), datetime(2021, 11, 24), datetime(2021, 11, 25))):
            a = Article(url=f"https://news.example/{i}", link=f"https://news.example/{i}", publisher="WWLP",
                        title=f"Face surveillance hearing story {i}", summary_text="", first_seen_at=NOW,
                        published_at=when.replace(tzinfo=timezone.utc))
            s.add(a)
            s.flush()
            s.add(ArticleBill(article_id=a.id, bill_id=bill.id, reason="keyword", term="face surveillance",
                              field="title", kind="keyword", created_at=NOW))
    with SmtpSink() as sink:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        app = create_app(application(config(), sessions, KEY, public_url=base,
                                     transport_factory=lambda: SmtpTransport(parse_smtp_url(sink.url))))
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started
        yield base, sink
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def test_a_supporter_signs_up_confirms_changes_preferences_and_unsubscribes(site, browser, sessions):
    base, sink = site
    page = browser.new_page()
    page.goto(f"{base}/signup")
    page.fill("#email", "jane@example.org")
    page.fill("#name", "Jane Doe")
    page.uncheck("input[value=campaign]")
    page.check("input[value='ma/192/H135']")
    page.check("input[name=frequency][value=immediate]")
    page.click("button[type=submit]")
    assert "Check your email" in page.inner_text("main")

    [mail] = sink.state.to("jane@example.org")
    link = re.search(r"(http://127\.0\.0\.1:\d+/confirm\?token=\S+)", mail.get_body(("plain",)).get_content())
    page.goto(link.group(1))
    assert "You are subscribed" in page.inner_text("h1") and "H.135" in page.inner_text("main")
    with sessions() as s:
        assert s.scalar(select(Subscriber.status)) == "active"

    page.click("text=Change your preferences")
    assert "Your alerts" in page.inner_text("h1") and "H.135" in page.inner_text("main")
    page.check("input[name=frequency][value=weekly]")
    page.click("text=Save")
    assert "Saved: you will get weekly alerts" in page.inner_text("main")
    page.click("text=Unsubscribe from everything")
    assert "no more alerts" in page.inner_text("main")
    with sessions() as s:
        sub = s.scalar(select(Subscriber))
        assert (sub.status, sub.frequency) == ("unsubscribed", "weekly")


def test_the_bill_page_as_a_person_sees_it(site, browser):
    base, _ = site
    page = browser.new_page(viewport={"width": 1000, "height": 1400})
    page.goto(f"{base}/bills/192/H135?as_of=2021-12-01")
    assert "On 2021-12-01" in page.inner_text("#as-of")
    assert page.locator("#timeline tr").count() == 3  # the header and two actions
    assert page.locator("svg rect").count() == 2  # Nov 20 is in the week of Nov 15; Nov 24 and 25 in the next
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "bill-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
