"""Pages a person can read (issue 17): the coverage chart fits a phone with its axes named and its milestones
legible, a replaced bill names and links the bill that took its place, ``as_of`` shows the bill as it stood
that day, a hearing in the past says it was held, every time is in Boston's zone, event kinds are words.
In Debian's Chromium where sizes matter (screenshots under artifacts/), in process otherwise."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from db.models import Article, ArticleBill, BillAction, Event
from tests.alerts_world import CONFIG, KEY, NOW, add_action, add_bill, add_document, add_hearing, application, config
from tests.test_web_browser import ARTIFACTS, CHROMIUM, browser  # noqa: F401 (the browser fixture)
from tests.web_client import caller, served
from tracker.web.chart import x_ticks, y_ticks

SOON = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=30)
H135_ACTIONS = [("Referred to the committee on The Judiciary", ["referral"], date(2021, 3, 29)),
                ("Hearing scheduled for 11/23/2021 from 10:00 AM-02:00 PM in Virtual Hearing", ["hearing-scheduled"],
                 date(2021, 11, 16)),
                ("Accompanied a new draft, see H5091", ["new-draft"], date(2022, 2, 10))]


def _actions(s, bill, rows):
    for i, (text, kinds, day) in enumerate(rows):
        s.add(BillAction(bill_id=bill.id, position=i, occurrence=0, date=day, branch="Joint", action=text,
                         kinds=kinds, first_seen_at=NOW))
        add_action(s, bill, text, kinds, day)


def _world(sessions):
    """H.135 (192nd) heard on Nov 23, 2021 and replaced on Feb 10, 2022 by its new draft H.5091 (followed, heard
    in a month), with articles from November to February; S.47 has no article and names H.4000, a document of
    the docket only, and H.9999, known nowhere."""
    with sessions.begin() as s:
        h135 = add_bill(s, "H135", status="replaced")
        h5091 = add_bill(s, "H5091", title="An Act to regulate face surveillance (new draft)")
        s47 = add_bill(s, "S47")
        s.add(Event(kind="bill.tracked", at=NOW, bill_id=h5091.id, summary="Now following H.5091",
                    payload={"discovered_from": {"bill": "ma/192/H135", "reason": "new-draft"}}))
        _actions(s, h135, H135_ACTIONS)
        _actions(s, s47, [("Accompanied by H4000 and H9999", ["accompanied"], date(2021, 5, 3))])
        add_document(s, 192, "H4000", "HD4000", seen=NOW, title="A docket document")
        add_hearing(s, h135, datetime(2021, 11, 23, 15, 0, tzinfo=timezone.utc))
        add_hearing(s, h5091, SOON)
        for i, day in enumerate((date(2021, 11, 20), date(2021, 11, 24), date(2021, 11, 25), date(2021, 12, 14),
                                 date(2022, 1, 18), date(2022, 1, 19), date(2022, 1, 20), date(2022, 2, 11))):
            a = Article(url=f"https://news.example/{i}", link=f"https://news.example/{i}", publisher="WWLP",
                        title=f"Face surveillance story {i}", summary_text="", first_seen_at=NOW,
                        published_at=datetime(day.year, day.month, day.day, 15, tzinfo=timezone.utc))
            s.add(a)
            s.flush()
            s.add(ArticleBill(article_id=a.id, bill_id=h135.id, reason="keyword", term="face surveillance",
                              field="title", kind="keyword", created_at=NOW))


@pytest.fixture
def web(sessions):
    _world(sessions)
    return caller(_app(sessions, "http://test"))


def _app(sessions, base):
    from tracker.web.app import create_app

    return create_app(application(config(), sessions, KEY, public_url=base, transport_factory=lambda: None))


@pytest.fixture
def site(sessions):
    _world(sessions)
    with served(lambda base: _app(sessions, base)) as base:
        yield base


# -- in a browser ---------------------------------------------------------------------------------------------

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
INSIDE = """svg => { const box = svg.getBoundingClientRect();
  return [...svg.querySelectorAll('text')].filter(t => { const r = t.getBoundingClientRect();
    return r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5;
  }).map(t => t.textContent); }"""


@needs_chromium
@pytest.mark.parametrize("width", (1280, 390))
def test_the_chart_fits_the_screen_names_its_axes_and_shows_every_milestone_whole(site, browser, width):  # noqa: F811
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{site}/bills/192/H135")
    svg = page.locator("#chart svg")
    box = svg.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["height"] > 100
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert svg.locator("text.axis-title").text_content() == "articles per week"
    assert svg.locator("text.y-tick").all_text_contents() == ["0", "1", "2", "3"]  # the busiest week had 3
    months = svg.locator("text.x-tick").all_text_contents()
    assert months == ["Dec 2021", "Jan 2022", "Feb"]  # the first of each month in the range
    assert svg.evaluate(INSIDE) == []  # no label, tick or milestone number drawn outside the chart
    legend = page.locator("#chart ol.milestones li").all_inner_texts()
    assert [re.sub(r"\s+", " ", t) for t in legend] == ["1 hearing scheduled · Nov 16, 2021",
                                                        "2 new draft · Feb 10, 2022"]
    assert svg.locator("text.mark-number").all_text_contents() == ["1", "2"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"bill-{width}.png"), full_page=True)


@needs_chromium
def test_a_bill_without_coverage_draws_no_chart_but_says_so(site, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 390, "height": 900})
    page.goto(f"{site}/bills/192/S47")
    assert page.locator("svg").count() == 0
    assert "No article about this bill yet" in page.inner_text("#no-chart")


@needs_chromium
def test_a_replaced_bill_links_the_new_draft_from_its_status_and_its_timeline(site, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 390, "height": 900})
    page.goto(f"{site}/bills/192/H135")
    assert page.inner_text("#status") == "replaced by H.5091"
    assert page.locator("#timeline a", has_text="H5091").get_attribute("href") == "/bills/192/H5091"
    page.click("#status a")
    assert page.url == f"{site}/bills/192/H5091"
    page.goto(f"{site}/bills/192/S47")
    assert page.locator("#timeline a", has_text="H4000").get_attribute("href") == "/documents/192/H4000"
    assert page.locator("#timeline a", has_text="H9999").count() == 0 and "H9999" in page.inner_text("#timeline")


@needs_chromium
def test_as_of_shows_the_bill_as_it_stood_that_day(site, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 390, "height": 900})
    page.goto(f"{site}/bills/192/H135?as_of=2021-12-01")
    assert page.inner_text("#status") == "in committee"  # not "replaced": that came in February
    assert page.locator("#timeline tr").count() == 3  # the header, the referral, the hearing
    assert "New draft" not in page.inner_text("#timeline") and "H5091" not in page.inner_text("main")
    cut = page.locator("#timeline-cut")
    assert "up to Dec 1, 2021" in cut.inner_text()
    assert page.locator("#chart ol.milestones li").count() == 1  # the new draft's mark is left out
    assert page.locator("#chart svg rect").count() == 2  # the weeks of Nov 15 and Nov 22 only
    cut.locator("a").click()
    assert page.url == f"{site}/bills/192/H135" and page.locator("#timeline tr").count() == 4
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@needs_chromium
def test_hearings_say_held_once_past_and_times_carry_the_zone(site, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{site}/bills/192/H135")
    assert page.inner_text("#hearings") == "Nov 23, 2021, 10:00 AM EST · Virtual Hearing · held"
    assert page.locator("#hearings time").get_attribute("datetime") == "2021-11-23T10:00:00-05:00"
    page.goto(f"{site}/bills/192/H5091")
    assert page.inner_text("#hearings").endswith("· scheduled")
    assert re.search(r"(EST|EDT) · Virtual Hearing", page.inner_text("#hearings"))
    for path in ("/", "/events", "/bills/192/H135", "/documents/192/H4000"):
        page.goto(site + path)
        text = page.inner_text("main")
        assert not re.search(r"\d{4}-\d\d-\d\d", text), path  # no ISO date left for a person to read
        assert "Nov 30, 2026, 10:00 AM EST" in text or path == "/bills/192/H5091", path


# -- in process -----------------------------------------------------------------------------------------------


def test_the_home_page_names_each_bill_once_and_kinds_in_words(web):
    html = web("GET", "/").text
    changes = re.search(r'<ul class="changes" id="changes">(.*?)\n</ul>', html, re.S).group(1)
    assert "bill.action" not in html and "hearing.scheduled" not in html
    assert changes.count('<strong>H.135</strong>') == 1 and changes.count("<strong>S.47</strong>") == 1
    assert "· action</span> Accompanied a new draft" in changes and "· action</span> Referred" not in changes
    assert changes.count("· action</span>") == 2  # the run of H.135's actions and S.47's one
    assert "hearing scheduled" in changes


def test_the_event_log_and_the_atom_feed_name_kinds_in_words(web):
    html = web("GET", "/events").text
    assert '<option value="bill.action" >action</option>' in html
    assert "<td data-label=\"Kind\">hearing scheduled</td>" in html and ">bill.action<" not in html
    atom = web("GET", "/events.atom").text
    assert "What: action, recorded Nov 30, 2026, 10:00 AM EST" in atom and "Event: bill.action" not in atom


def test_the_api_names_the_bill_that_replaced_another(web):
    assert web("GET", "/api/bills/192/H135").json()["replaced_by"] == "ma/192/H5091"
    assert web("GET", "/api/bills/192/S47").json()["replaced_by"] is None


def test_tracker_bill_says_replaced_by(sessions, tmp_path, monkeypatch, db_url):
    from tracker.cli import main

    _world(sessions)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRACKER_DATABASE_URL", db_url)
    (tmp_path / "feeds.yaml").write_text(CONFIG)
    table = CliRunner().invoke(main, ["bill", "H.135"], catch_exceptions=False)
    assert table.exit_code == 0 and "status: replaced by H.5091" in table.output
    data = json.loads(CliRunner().invoke(main, ["bill", "H.135", "--format", "json"]).output)
    assert data["status"] == "replaced" and data["replaced_by"] == "ma/192/H5091"


def test_axis_ticks_are_few_and_round():
    assert y_ticks(3) == (3, [0, 1, 2, 3])
    assert y_ticks(7) == (8, [0, 2, 4, 6, 8])
    assert y_ticks(23) == (25, [0, 5, 10, 15, 20, 25])
    assert y_ticks(140) == (150, [0, 50, 100, 150])
    long = x_ticks(date(2021, 1, 10), date(2022, 12, 20))
    assert 3 <= len(long) <= 4 and long[0][1] == "Feb 2021"
    assert [label for _, label in x_ticks(date(2021, 11, 10), date(2021, 12, 20))] == ["Nov 15", "Nov 29", "Dec 13"]
