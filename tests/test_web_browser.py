"""A supporter in a real browser (Debian's Chromium driven by Playwright): sign up, confirm from the link
in the email caught by a local SMTP server, change preferences, unsubscribe. A researcher searches the docket
and reads a document. Every page fits a desktop (1280 px) and a phone (390 px) without scrolling sideways;
the screenshots are kept under artifacts/."""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from alerts.transport import SmtpTransport, parse_smtp_url
from alerts.subscribers import subscribe
from alerts.tokens import make_token
from db.models import Article, ArticleBill, BillAction, Event, Legislator, Subscriber, Subscription, Successor
from tests.alerts_world import (KEY, NOW, add_action, add_bill, add_document, add_hearing, config, application,
                                live_session, settings_of)
from tests.smtp_sink import SmtpSink
from tests.web_client import served

CHROMIUM = shutil.which("chromium")
LIVE = live_session()  # the sitting General Court: the forms offer its bills, not the 192nd's
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")


@pytest.fixture(params=["sqlite"])
def backend(request) -> str:
    """The browser need not run twice: the pages it drives are tested on both backends in process."""
    return request.param


@pytest.fixture
def site(sessions, monkeypatch):
    from tracker.web.app import create_app

    with sessions.begin() as s:
        bill = add_bill(s, "H135", sponsor="David M. Rogers", position="support", docket="HD3228")
        add_bill(s, "S47", position="oppose")
        add_bill(s, "S1053", session=LIVE, position="support", title="An Act to regulate face surveillance and "
                 "other remote biometric surveillance systems in the Commonwealth")
        for code, branch, district in (("DMR1", "House", "Twenty-Fourth Middlesex"),
                                       ("JBE0", "Senate", "Middlesex and Worcester")):
            s.add(Legislator(session=LIVE, member_code=code, name=code, branch=branch, district=district,
                             fetched_at=NOW))
        add_docket(s)
        add_lineage(s)
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
        def make_app(base):
            return create_app(application(config(), sessions, KEY, public_url=base,
                                          transport_factory=lambda: SmtpTransport(parse_smtp_url(sink.url))))

        with served(make_app) as base:
            yield base, sink


H135_TEXT = """SECTION 1. Chapter 6 of the General Laws is hereby amended by inserting after section 219 the following section:-
    Section 220. (a) As used in this section, the following words shall, unless the context clearly requires otherwise, have the following meanings:-
    "Biometric surveillance system", any computer software that performs facial recognition or other remote biometric recognition.
    "Facial recognition", an automated or semi-automated process that assists in identifying an individual, capturing information about an individual, or otherwise generating or assisting in generating surveillance information about an individual based on the physical characteristics of the individual's face.
    (b) It shall be unlawful for any public agency or any public official to acquire, possess, access, use, assist with the use of, or provide resources for the development or use of any biometric surveillance system.
https://malegislature.gov/Bills/192/H135/and/a/very/long/unbroken/address/that/would/push/a/narrow/screen/sideways/if/it/did/not/wrap

SECTION 2. This act shall take effect upon its passage."""


def add_docket(s):
    """The 192nd's docket: H.135 (followed, support), a docket without a bill number, and other members' bills."""
    add_document(s, 192, "H135", "HD3228", seen=datetime(2021, 2, 16, 14, 0, tzinfo=timezone.utc),
                 title="An Act establishing a moratorium on face recognition and other remote biometric surveillance "
                       "systems", sponsor="David M. Rogers", sponsor_code="DMR1",
                 joint_sponsors=[{"name": "Orlando Ramos", "member_code": "OLR1"}],
                 cosponsors=[{"name": n, "member_code": f"C{i}"} for i, n in enumerate((
                     "Lindsay N. Sabadosa", "Mike Connolly", "Jack Patrick Lewis", "Tami L. Gouveia",
                     "Natalie M. Higgins", "Erika Uyterhoeven", "Mary S. Keefe", "Christine P. Barber"))],
                 pinslip="By Representatives Rogers of Cambridge and Ramos of Springfield, a petition (accompanied by "
                         "bill, House, No. 135) of David M. Rogers, Orlando Ramos and others for legislation to "
                         "establish a moratorium on face recognition systems. The Judiciary.",
                 text=H135_TEXT, legislation_type="Bill")
    add_document(s, 192, None, "HD4321", seen=datetime(2021, 3, 1, tzinfo=timezone.utc),
                 title="An Act relative to facial recognition and other biometric surveillance in public schools",
                 sponsor="Jason M. Lewis", sponsor_code="JML1", docket_book_only=True,
                 pinslip="By Mr. Lewis, a petition relative to face surveillance in public schools. Education.",
                 text="SECTION 1. No school district shall use a face surveillance system.")
    for i in range(30):
        add_document(s, 192, f"H{2000 + i}", f"HD{1000 + i}", seen=datetime(2021, 2, 1, tzinfo=timezone.utc),
                     title=f"An Act relative to the regulation of public surveillance cameras in municipality {i} "
                           "and the establishment of a commission to study their effects",
                     sponsor="Representative Bartholomew Featherstonehaugh-Worthington")


def add_lineage(s):
    """H.135 re-filed as H.1728 in the 193rd, taken over there by the new draft H.4359, and re-filed as H.1946
    in the 194th (not followed here, not in a synced docket: shown without a link)."""
    add_bill(s, "H1728", session=193, docket="HD2304", title="An Act to implement the recommendations of the special "
             "commission on facial recognition technology")
    h4359 = add_bill(s, "H4359", session=193, title="An Act establishing a commission on government "
                     "use of face recognition and other remote biometric surveillance systems")
    s.add(Event(kind="bill.tracked", at=NOW, bill_id=h4359.id, summary="H.4359 tracked: new draft of H.1728",
                payload={"discovered_from": {"bill": "ma/193/H1728", "reason": "new-draft",
                                             "action": "Accompanied a new draft, see H4359"}}))
    for bill, candidate in (("ma/192/H135", "ma/193/H1728"), ("ma/193/H1728", "ma/194/H1946")):
        s.add(Successor(bill=bill, candidate=candidate, session=int(candidate.split("/")[1]), rank=1, score=0.95,
                        evidence={"pinslip_reference": True}, state="accepted", decided_by="auto", decided_at=NOW,
                        found_at=NOW))


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
    page.get_by_label("Email").fill("jane@example.org")
    page.get_by_label("Name (optional)").fill("Jane Doe")
    page.get_by_label("Every bill of the campaign").uncheck()
    page.get_by_label("S.1053 An Act to regulate face surveillance").check()
    page.get_by_label("As it happens").check()
    page.click("button[type=submit]")
    assert "Check your email" in page.inner_text("main")

    [mail] = sink.state.to("jane@example.org")
    link = re.search(r"(http://127\.0\.0\.1:\d+/confirm\?token=\S+)", mail.get_body(("plain",)).get_content())
    page.goto(link.group(1))
    assert "You are subscribed" in page.inner_text("h1") and "S.1053" in page.inner_text("main")
    with sessions() as s:
        assert s.scalar(select(Subscriber.status)) == "active"

    page.click("text=Change your preferences")
    assert "Your alerts" in page.inner_text("h1")
    assert page.get_by_label("S.1053 An Act to regulate face surveillance").is_checked()
    page.get_by_label("Once a week").check()
    page.get_by_label("Every bill of the campaign").check()
    page.get_by_label("State representative's district (House)").select_option("Twenty-Fourth Middlesex")
    page.click("text=Save my choices")
    assert page.inner_text("#saved") == ("Saved: you will get weekly alerts about every bill of Regulate face "
                                         "surveillance and S.1053. House district: Twenty-Fourth Middlesex; "
                                         "Senate district: not given.")
    page.reload()  # what the page shows is what was stored
    assert page.get_by_label("Once a week").is_checked() and page.get_by_label("Every bill of the campaign").is_checked()
    assert page.get_by_label("State representative's district (House)").input_value() == "Twenty-Fourth Middlesex"
    page.get_by_label("S.1053 An Act to regulate face surveillance").uncheck()
    page.click("text=Save my choices")
    assert "about every bill of Regulate face surveillance." in page.inner_text("#saved")
    with sessions() as s:
        assert list(s.scalars(select(Subscription.topic).where(Subscription.active.is_(True)))) == ["campaign"]
    page.click("text=Unsubscribe from everything")
    assert "no more alerts" in page.inner_text("main")
    with sessions() as s:
        sub = s.scalar(select(Subscriber))
        assert (sub.status, sub.frequency, sub.house_district) == ("unsubscribed", "weekly", "Twenty-Fourth Middlesex")


def test_the_bill_page_as_a_person_sees_it(site, browser):
    base, _ = site
    page = browser.new_page(viewport={"width": 1000, "height": 1400})
    page.goto(f"{base}/bills/192/H135?as_of=2021-12-01")
    assert "On Dec 1, 2021" in page.inner_text("#as-of")
    assert page.locator("#timeline tr").count() == 3  # the header and two actions
    assert page.locator("svg rect").count() == 2  # Nov 20 is in the week of Nov 15; Nov 24 and 25 in the next
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "bill-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000


# -- the docket, and every page at a desktop's and a phone's width -------------------------------------------

WIDTHS = (1280, 390)
PAGES = {
    "home": "/", "bill": "/bills/192/H135", "search": "/search?q=surveillance", "events": "/events",
    "signup": "/signup", "docket": "/docket", "docket-search": "/docket?q=%22face+surveillance%22&session=192",
    "document": "/documents/192/H135", "docket-only-document": "/documents/192/HD4321",
    "search-documents": "/search?q=surveillance&kind=document",
}


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= innerWidth")


# the other pages a person can reach, with the status each answers: as of a date, a lineage, the errors, the pages
# an email links to (signed), the API's docs
MORE_PAGES = {
    "bill-as-of": ("/bills/192/H135?as_of=2021-12-01", 200), "lineage": ("/bills/193/H1728", 200),
    "not-followed": ("/bills/192/H9999", 404), "bad-id": ("/bills/192/zzz", 400),
    "bad-kind": ("/events?kind=nope", 400), "bad-date": ("/search?q=x&since=yesterday", 400),
    "api-docs": ("/api/docs", 200),
}


def _signed_pages(sessions) -> dict:
    with sessions.begin() as s:
        sub = subscribe(s, settings_of(config()), "pat@example.org", bills=[f"ma/{LIVE}/S1053"], confirmed=True,
                        now=datetime.now(timezone.utc)).subscriber
        token = {purpose: make_token(KEY, purpose, sub.id) for purpose in ("preferences", "unsubscribe")}
    return {"preferences-page": (f"/preferences?token={token['preferences']}", 200),
            "unsubscribe-page": (f"/unsubscribe?token={token['unsubscribe']}", 200),
            "bad-token": ("/preferences?token=forged", 400)}


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_screen_without_scrolling_sideways(site, browser, sessions, width):
    base, _ = site
    page = browser.new_page(viewport={"width": width, "height": 900})
    ARTIFACTS.mkdir(exist_ok=True)
    too_wide = []
    pages = {name: (path, 200) for name, path in PAGES.items()} | MORE_PAGES | _signed_pages(sessions)
    for name, (path, status) in pages.items():
        response = page.goto(base + path)
        assert response.status == status, (path, response.status)
        if name == "api-docs":
            page.wait_for_selector(".opblock", timeout=15_000)
        shot = ARTIFACTS / f"{name}-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000, name  # a blank page compresses to a few KB
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}-first-screen.png"))  # what is seen before scrolling
        if not _fits(page):
            too_wide.append((path[:60], page.evaluate("document.documentElement.scrollWidth")))
    assert not too_wide, f"wider than {width} px: {too_wide}"


@pytest.mark.parametrize("width", WIDTHS)
def test_a_researcher_searches_the_docket_and_reads_a_document(site, browser, width):
    base, _ = site
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(base + "/")
    page.click("header >> text=Docket")
    assert page.inner_text("h1") == "Every bill and docket filed"
    assert page.locator("#documents tbody tr").count() == 32
    page.get_by_label('Words or "a phrase"').fill('"face surveillance" schools')
    page.get_by_label("General Court").select_option("192")
    page.get_by_label("Sponsor").fill("lewis")
    page.click("#docket-search button[type=submit]")
    assert page.locator("#documents tbody tr").count() == 1
    row = page.inner_text("#documents tbody tr")
    assert "HD.4321" in row and "no bill number yet" in row and "Jason M. Lewis" in row
    page.click("#documents >> text=HD.4321")
    assert page.url == f"{base}/documents/192/HD4321"
    assert "none yet: a docket only" in page.inner_text("dl.facts")
    assert _fits(page)

    page.goto(base + "/docket?q=moratorium")
    page.click("#documents >> text=H.135")
    assert page.inner_text("h1").startswith("H.135: An Act establishing a moratorium")
    assert page.inner_text(".position") == "support"
    assert "Tami L. Gouveia" in page.inner_text("dl.facts")
    text = page.locator("#text")
    assert "Section 220. (a)" in text.inner_text() and text.evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"
    assert text.evaluate("e => e.scrollWidth <= e.clientWidth")  # long lines wrap inside the box
    assert page.locator("#history tbody tr").count() == 2
    if width < 640:  # on a phone the history's rows stack, each cell named
        assert page.locator("#history thead").evaluate("e => getComputedStyle(e).display") == "none"
    assert _fits(page)
    page.click("#bill-link")
    assert page.url == f"{base}/bills/192/H135" and page.inner_text("#position") == "we support it"
    page.screenshot(path=str(ARTIFACTS / f"bill-with-position-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_lineage_reads_in_order_and_fits_a_phone(site, browser, width):
    base, _ = site
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{base}/bills/193/H1728")
    steps = page.locator("#lineage li.step")
    assert steps.count() == 4
    assert [steps.nth(i).locator(".bill-number").inner_text() for i in range(4)] == [
        "H.135", "H.1728 (this bill)", "H.4359", "H.1946"]
    assert "H.135 re-filed as H.1728" in steps.nth(1).inner_text()
    assert "new draft of H.1728" in steps.nth(2).inner_text()
    assert "docket number HD.3228" in steps.nth(0).inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#lineage").screenshot(path=str(ARTIFACTS / f"lineage-{width}.png"))
    assert page.evaluate(f"document.documentElement.scrollWidth <= {width}")
    box = page.locator("#lineage").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    page.click("#lineage >> text=H.135")
    assert page.url == f"{base}/bills/192/H135"


# -- every form control has a label a screen reader announces ---------------------------------------------------

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
    .filter(el => el.type !== 'hidden' && el.type !== 'submit' && el.type !== 'button')
    .filter(el => !el.labels.length || ![...el.labels].some(l => l.innerText.trim()))
    .map(el => el.outerHTML.slice(0, 120))"""
UNGROUPED = """() => [...document.querySelectorAll('input[type=radio], input[type=checkbox]')]
    .filter(el => !(el.closest('fieldset') && el.closest('fieldset').querySelector('legend')?.innerText.trim()))
    .map(el => el.outerHTML.slice(0, 120))"""


def _preferences_link(sessions) -> str:
    with sessions.begin() as s:
        sub = subscribe(s, settings_of(config()), "lee@example.org", bills=[f"ma/{LIVE}/S1053"], confirmed=True,
                        now=datetime.now(timezone.utc)).subscriber
        return "/preferences?token=" + make_token(KEY, "preferences", sub.id)


def test_every_form_control_has_a_visible_label_and_choices_are_grouped(site, browser, sessions):
    base, _ = site
    forms = ["/search", "/events", "/signup", "/docket", _preferences_link(sessions)]
    page = browser.new_page()
    for path in forms:
        page.goto(base + path)
        assert page.locator("form input:not([type=hidden]), form select").count() > 0, path
        assert page.evaluate(UNLABELLED) == [], path
        assert page.evaluate(UNGROUPED) == [], path
    page.goto(base + "/search")
    for label, kind in (('Words or "a phrase"', "text"), ("Bill", "text"), ("Since", "date"), ("Until", "date"),
                        ("Outlet", "text")):
        assert page.get_by_label(label, exact=True).get_attribute("type") == kind
    page.get_by_label("Results").select_option("document")
    page.goto(base + "/events")
    assert page.get_by_label("Kind").evaluate("e => e.tagName") == "SELECT"
    page.goto(base + "/signup")
    for label in ("Email", "Name (optional)", "Every bill of the campaign", "Once a day",
                  "State representative's district (House)", "State senator's district (Senate)"):
        assert page.get_by_label(label).count() == 1, label
    assert page.locator("fieldset legend").all_inner_texts() == ["Which bills", "How often", "Your districts (optional)"]


@pytest.mark.parametrize("width", WIDTHS)
def test_the_preferences_page_fits_a_desktop_and_a_phone(site, browser, sessions, width):
    base, _ = site
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(base + _preferences_link(sessions))
    assert page.inner_text("h1") == "Your alerts"
    assert page.get_by_label("S.1053 An Act to regulate face surveillance").is_checked()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"preferences-{width}.png"), full_page=True)
    assert page.evaluate(f"document.documentElement.scrollWidth <= {width}")
    box = page.locator("#preferences").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
