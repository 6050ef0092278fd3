"""An ask answered in a real browser (Debian's Chromium driven by Playwright): a supporter opens her alert about
H.1946's hearing, presses "Send your testimony", finds her name filled in and the committee's chairs named, adds
a sentence of her own and sends it; the chairs get it with her sentence. A visitor writes too, and her letter goes
once she confirms by the link in her email. Every ask page fits a desktop (1280 px) and a phone (390 px) without
scrolling sideways; the screenshots are kept under artifacts/asks/ (ignored by git)."""

from __future__ import annotations

import email
import mailbox
import re
from datetime import timedelta
from email.policy import default
from pathlib import Path

import pytest
from sqlalchemy import select

from alerts.dispatch import dispatch
from alerts.transport import MaildirTransport
from db.models import Bill
from tests import asks_world as world
from tests.alerts_world import KEY, add_hearing, application, settings_of
from tests.test_web_browser import ARTIFACTS, CHROMIUM, browser  # noqa: F401 (browser: the fixture)
from tests.web_client import served

SHOTS = ARTIFACTS / "asks"
WIDTHS = (1280, 390)
OWN_WORDS = "My daughter's school put face surveillance cameras in its halls without asking a single parent."
# what a supporter never reads on a page: the configuration's file and keys, commands, the events' kinds
INTERNAL = re.compile(r"feeds\.yaml|asks:|tracker |hearing\.scheduled|bill\.action|ask-confirm|act-confirm|"
                      r"Traceback|None\b|\{\{|\{%")
pytestmark = pytest.mark.skipif(CHROMIUM is None,
                                reason="Debian's chromium is not installed (apt-get install chromium)")


@pytest.fixture(params=["sqlite"])
def backend(request) -> str:
    """The pages are tested on both backends in process; the browser need not run twice."""
    return request.param


@pytest.fixture
def site(sessions, tmp_path):
    """H.1946 with the committee's chairs and Jane's legislators; Jane follows it, then its hearing is scheduled
    (the news her alert tells). The app is served on 127.0.0.1 with its public URL, the one the alert's links
    name; the offices' letters (and the visitors' emails) go to the maildir ``letters``."""
    world.build(sessions, hearing_in=None)
    cfg = world.cfg()
    world.supporter(sessions, cfg)
    with sessions.begin() as s:
        bill = s.scalar(select(Bill).where(Bill.canonical == world.BILL))
        add_hearing(s, bill, (world.now() + timedelta(days=6)).replace(microsecond=0),
                    at=world.now() - timedelta(minutes=5), location="Gardner Auditorium, State House")
    letters = tmp_path / "letters"

    def make_app(base):
        from tracker.web.app import create_app
        return create_app(application(cfg, sessions, KEY, public_url=base,
                                      transport_factory=lambda: MaildirTransport(letters)))

    with served(make_app) as base:
        yield {"base": base, "cfg": cfg, "letters": letters, "outbox": tmp_path / "outbox"}


def _maildir(folder: Path) -> list:
    """The messages in a maildir (in no particular order), each with its X-Envelope-To."""
    if not folder.exists():
        return []
    box = mailbox.Maildir(folder, factory=lambda f: email.message_from_bytes(f.read(), policy=default), create=False)
    return list(box.values())


def _fits(page, width: int) -> bool:
    return page.evaluate(f"document.documentElement.scrollWidth <= {width}")


def _visible_in_width(page, selector: str, width: int) -> bool:
    box = page.locator(selector).bounding_box()
    return box is not None and box["width"] > 0 and box["x"] >= 0 and box["x"] + box["width"] <= width


def _shoot(page, name: str, width: int) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"{name}-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000, name  # a blank page compresses to a few KB
    return shot


def _reads_well(page) -> None:
    text = page.inner_text("body")
    assert not INTERNAL.search(text), INTERNAL.search(text).group(0)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_supporter_sends_testimony_from_her_alert(site, browser, sessions, width):  # noqa: F811
    base = site["base"]
    report = dispatch(settings_of(site["cfg"], KEY, public_url=base), sessions, MaildirTransport(site["outbox"]),
                      now=world.now())
    assert report.composed["alert"] == 1
    [alert] = [m for m in _maildir(site["outbox"]) if m["To"].addresses[0].addr_spec == "jane@example.org"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    email_file = SHOTS / f"alert-{width}.html"
    email_file.write_text(alert.get_body(("html",)).get_content(), encoding="utf-8")

    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(email_file.as_uri())
    page.screenshot(path=str(SHOTS / f"alert-{width}.png"), full_page=True)
    _reads_well(page)
    button = page.get_by_role("link", name="Send your testimony")
    assert button.count() == 1
    assert button.get_attribute("href").startswith(f"{base}/act/testify?token=")
    button.click()
    page.wait_for_load_state()

    # the ask page: her name filled in, the chairs named, a letter to each to edit
    assert page.url.startswith(f"{base}/act/testify?token=")
    assert page.inner_text("h1") == "Send testimony for the hearing: H.1946"
    assert "Gardner Auditorium, State House" in page.inner_text(".meta >> nth=0")
    assert page.get_by_label("First name", exact=True).input_value() == "Jane"
    assert page.get_by_label("Last name", exact=True).input_value() == "Doe"
    assert page.locator("#email").count() == 0  # a supporter from her alert is known: no email to confirm
    recipients = page.inner_text("#recipients")
    assert "Michael S. Day" in recipients and "James B. Eldridge" in recipients and "House chair" in recipients
    letters = page.locator("#letter textarea")
    assert letters.count() == 2
    first = page.get_by_label("Your testimony to Representative Michael S. Day")
    assert "I write in support of H.1946" in first.input_value()
    assert _fits(page, width), page.evaluate("document.documentElement.scrollWidth")
    assert _visible_in_width(page, "#letter-MSD1", width) and _visible_in_width(page, "#send", width)
    _reads_well(page)
    _shoot(page, "act", width)

    # her own sentence, typed into the letter to the House chair, after the greeting
    first.click()
    first.press("Control+End")
    first.press_sequentially("\n" + OWN_WORDS)
    page.get_by_label("Town (optional)").fill("Somerville")
    page.get_by_label("Show my first name and town among recent participants on this page").check()
    page.click("#send")
    page.wait_for_load_state()

    assert page.inner_text("h1") == "Thank you: your testimony is on its way"
    sent = page.inner_text("main")
    assert "Michael S. Day" in sent and "James B. Eldridge" in sent and "H.1946" in sent
    assert _fits(page, width)
    _reads_well(page)
    _shoot(page, "sent", width)

    # the chairs' letters arrived (one each, hers only to the House chair), and her copy
    mail = _maildir(site["letters"])
    to = {m["X-Envelope-To"]: m for m in mail}
    assert {"michael.day@mahouse.gov", "james.eldridge@masenate.gov"} <= set(to)
    day = to["michael.day@mahouse.gov"].get_body(("plain",)).get_content()
    assert OWN_WORDS in day and "Jane Doe" in day and "Somerville" in day
    assert OWN_WORDS not in to["james.eldridge@masenate.gov"].get_body(("plain",)).get_content()
    assert to["michael.day@mahouse.gov"]["Reply-To"].addresses[0].addr_spec == "jane@example.org"
    assert any(OWN_WORDS in m.get_body(("plain",)).get_content() for m in mail
               if m["X-Envelope-To"] == "jane@example.org")  # her copy

    # back on the page, she is among the recent participants
    page.goto(f"{base}/act/testify")
    assert "Jane from Somerville" in page.inner_text("#participants")


# -- every ask page at a desktop's and a phone's width ------------------------------------------------------------

def _signed(sessions, cfg, ask: str, email_addr: str = "jane@example.org", **who) -> str:
    """The link an alert gives a supporter (``who``: a new supporter's name and districts)."""
    from alerts.tokens import make_token
    from db.models import Subscriber

    if who:
        world.supporter(sessions, cfg, email_addr, **who)
    with sessions() as s:
        sub_id = s.scalar(select(Subscriber.id).where(Subscriber.email == email_addr))
    return f"/act/{ask}?token=" + make_token(KEY, "act", sub_id, world.now(), a=ask, b=world.BILL, k="alert")


@pytest.mark.parametrize("width", WIDTHS)
def test_every_ask_page_fits_the_screen_and_a_visitor_confirms_her_letter(site, browser, sessions, width):  # noqa: F811
    from tests.test_web_browser import UNLABELLED

    base, cfg = site["base"], site["cfg"]
    page = browser.new_page(viewport={"width": width, "height": 900})
    too_wide, seen = [], {}

    def look(name: str, status: int, path: str | None = None, form: bool = False):
        """Open ``path`` (else: the page as it is), check its status, width and words; keep its screenshot."""
        if path is not None:
            response = page.goto(base + path)
            assert response.status == status, (name, response.status)
        _reads_well(page)
        if not _fits(page, width):
            too_wide.append((name, page.evaluate("document.documentElement.scrollWidth")))
        if form:  # the letter, its labels, and the button within the screen's width
            assert page.evaluate(UNLABELLED) == [], name
            for selector in ("#letter textarea >> nth=0", "#send"):
                assert _visible_in_width(page, selector, width), (name, selector)
        _shoot(page, name, width)
        seen[name] = page.inner_text("main")

    # a supporter's letter page: her representative co-sponsors (a thank-you), her senator is asked
    look("act-letter", 200, _signed(sessions, cfg, "write-your-legislators"), form=True)
    assert "co-sponsors H.1946: you thank them" in page.inner_text("#recipients")
    assert "Dave Rogers" in seen["act-letter"] and "Patricia D. Jehlen" in seen["act-letter"]
    thanks = page.get_by_label("Your letter to Representative Dave Rogers").input_value()
    assert "Thank you for co-sponsoring H.1946" in thanks
    assert "Please support H.1946" in page.get_by_label("Your letter to Senator Patricia D. Jehlen").input_value()
    assert page.get_by_label("State representative's district (House)").input_value() == world.HOUSE
    look("act-chairs", 200, _signed(sessions, cfg, "call-the-chairs"), form=True)
    # a supporter whose districts we do not know: the pickers first, no letter yet
    look("act-pickers-signed", 200, _signed(sessions, cfg, "write-your-legislators", "sam@example.org",
                                            name="Sam Lee", house=None, senate=None))
    assert page.locator("#letter").count() == 0 and page.inner_text("#districts button") == "Show my legislators"
    look("act-pickers", 200, "/act/write-your-legislators")
    assert page.locator("#letter").count() == 0
    page.get_by_label("State representative's district (House)").select_option(world.HOUSE)
    page.get_by_label("State senator's district (Senate)").select_option(world.SENATE)
    page.click("#districts button")
    assert "house_district=" in page.url
    look("act-visitor", 200, form=True)
    assert page.get_by_label("Email").count() == 1 and page.get_by_label("First name", exact=True).input_value() == ""

    # the visitor writes: her letters wait for the link in her email
    page.get_by_label("First name", exact=True).fill("Ana")
    page.get_by_label("Last name", exact=True).fill("Silva")
    page.get_by_label("Email").fill("ana@example.org")
    page.click("#send")
    look("act-check-email", 200)
    assert page.inner_text("h1") == "Check your email" and "ana@example.org" in seen["act-check-email"]
    [confirm] = [m for m in _maildir(site["letters"]) if m["X-Envelope-To"] == "ana@example.org"]
    link = re.search(r"http://127\.0\.0\.1:\d+(/act/confirm\?token=\S+)", confirm.get_body(("plain",)).get_content())
    assert link and confirm["Subject"].startswith("Please confirm: your letter about H.1946")
    assert not INTERNAL.search(confirm.get_body(("plain",)).get_content())
    look("act-confirm", 200, link.group(1))
    assert page.locator("pre.letter").count() == 2 and "Dear Representative Dave Rogers" in seen["act-confirm"]
    assert not {m["X-Envelope-To"] for m in _maildir(site["letters"])} & {"dave.rogers@mahouse.gov",
                                                                          "patricia.jehlen@masenate.gov"}
    assert _visible_in_width(page, "#send", width)
    page.click("#send")
    look("act-confirm-sent", 200)
    assert page.inner_text("h1") == "Thank you: your letters are on their way"
    to = {m["X-Envelope-To"]: m.get_body(("plain",)).get_content() for m in _maildir(site["letters"])}
    assert "Thank you for co-sponsoring H.1946" in to["dave.rogers@mahouse.gov"] and "Ana Silva" in to[
        "dave.rogers@mahouse.gov"]
    assert "Please support H.1946" in to["patricia.jehlen@masenate.gov"]
    look("act-confirm-again", 200, link.group(1))
    assert page.inner_text("h1") == "Already sent"

    # the errors a person can meet
    look("act-no-such-ask", 404, "/act/no-such-letter")
    look("act-bad-link", 400, "/act/testify?token=forged")
    assert page.get_by_role("link", name="Open the letter page").count() == 1
    look("act-confirm-bad-link", 400, "/act/confirm?token=forged")
    look("act-confirm-wrong-link", 400, "/act/confirm?" + _signed(sessions, cfg, "testify").split("?", 1)[1])
    assert not too_wide, f"wider than {width} px: {too_wide}"
