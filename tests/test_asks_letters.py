"""The ask pages end to end: a supporter (or a visitor) writes from ``/act/NAME`` and the letters reach a real
SMTP server (``tests.smtp_sink``): to whom, saying what, once, within an office's daily limit, never with a
supporter's name or address anywhere public. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import html
import json
import re
import threading
import zlib
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from alerts import ask_letters
from alerts.ask_report import staff_section
from alerts.deliver import deliver_outbox
from alerts.dispatch import dispatch
from alerts.tokens import make_token
from alerts.transport import SmtpTransport, parse_smtp_url
from db.asks import record_daily_counts, sent_count
from db.models import (AskLetter, AskResponse, Bill, BillAction, Committee, Event, FailingAddress, Hearing, Legislator,
                       OutboxMessage, Subscriber)
from tests import asks_world as w
from tests.alerts_world import CONFIG, KEY, settings_of
from tests.smtp_sink import SmtpSink, free_port
from tracker.cli import main

WRITE, TESTIFY = "write-your-legislators", "testify"
DAY, ELDRIDGE, ROGERS, JEHLEN = (w.PEOPLE[c][3] for c in ("MSD1", "JBE0", "DMR1", "PDJ0"))
JANE = "jane@example.org"
CAMPAIGN_ADDR = "alerts@example.org"
LINK = re.compile(r"http://127\.0\.0\.1:8000(/act/[a-z-]+\?token=[\w.%-]+)")


class World:
    """H.1946 and its directory, Jane (a supporter with both districts), the web app sending through ``url``."""

    def __init__(self, sessions, sink: SmtpSink, cfg=None, url: str | None = None, **build):
        self.sessions, self.sink = sessions, sink
        w.build(sessions, **build)
        self.cfg = cfg or w.cfg()
        self.settings = settings_of(self.cfg)
        self.url = url or sink.url
        self.client = w.client(sessions, self.cfg, self.transport)
        self.jane = w.supporter(sessions, self.cfg)

    def transport(self):
        return SmtpTransport(parse_smtp_url(self.url))

    def link(self, sid: int, ask: str = WRITE, key: bytes = KEY, at: datetime | None = None) -> str:
        return f"/act/{ask}?token=" + make_token(key, "act", sid, at, a=ask, b=w.BILL, e=None, k="alert")

    def open(self, sid: int, ask: str = WRITE, query: str = ""):
        page = self.client("GET", self.link(sid, ask) + query)
        assert page.status_code == 200, page.text
        return page

    def write(self, sid: int, ask: str = WRITE, **fields):
        """Open her link, keep the drafted letters, change ``fields``, press send."""
        form = w.form_of(self.open(sid, ask).text)
        return self.client("POST", f"/act/{ask}", data=form | fields)

    def to(self, addr: str) -> list:
        return self.sink.state.to(addr)

    def envelopes(self) -> list[str]:
        return sorted(rcpt for rcpt, _ in self.sink.state.messages)


@pytest.fixture
def sink():
    with SmtpSink() as server:
        yield server


@pytest.fixture
def make_world(sessions, sink):
    made: list[World] = []

    def make(**kw) -> World:
        made.append(World(sessions, kw.pop("sink", sink), **kw))
        return made[-1]

    yield make
    for found in made:
        found.client.close()


@pytest.fixture
def world(make_world):
    return make_world()


def body(msg) -> str:
    return msg.get_content().replace("\r\n", "\n")


def main_of(page) -> str:
    """The page's main part, its spaces collapsed and its entities unescaped."""
    return html.unescape(" ".join(page.text[page.text.index("<main>"):].split()))


# -- who receives what ----------------------------------------------------------------------------------------

def test_a_letter_reaches_exactly_her_senator_and_representative_from_the_campaign_replying_to_her(world):
    # a form naming another legislator's code adds no recipient: whom a letter reaches is the directory's say
    page = world.write(world.jane, town="Arlington", **{"letter-MSD1": "Dear Chair, ...", "letter-X": "..."})
    assert page.status_code == 200 and "Thank you: your letters are on their way" in page.text
    assert world.envelopes() == sorted([ROGERS, JEHLEN, JANE])  # the directory's addresses, one each
    for addr in (ROGERS, JEHLEN):
        [msg] = world.to(addr)
        assert msg["From"].addresses[0].addr_spec == CAMPAIGN_ADDR
        assert msg["To"].addresses[0].addr_spec == addr
        assert (msg["Reply-To"].addresses[0].addr_spec, msg["Reply-To"].addresses[0].display_name) == (JANE, "Jane Doe")
        assert msg["List-Unsubscribe"] is None and msg["List-Id"] is None  # a personal letter, not list mail
        assert "\nJane Doe\nArlington, Massachusetts\n" in body(msg)
        assert msg["Subject"] == "Please support H.1946"
    [copy] = world.to(JANE)
    text = body(copy)
    assert "Representative Dave Rogers" in text and "Senator Patricia D. Jehlen" in text and "Jane Doe" in text
    assert copy["From"].addresses[0].addr_spec == CAMPAIGN_ADDR


def test_her_cosponsoring_representative_is_thanked_and_her_senator_asked(world):
    world.write(world.jane)
    [rep], [sen] = world.to(ROGERS), world.to(JEHLEN)
    assert "Thank you for co-sponsoring H.1946" in body(rep) and "Please support" not in body(rep)
    assert "Please support H.1946, An Act to regulate face surveillance" in body(sen)
    assert "co-sponsoring" not in body(sen)
    assert "Dear Senator Patricia D. Jehlen" in body(sen) and "Dear Representative Dave Rogers" in body(rep)
    assert "\nJane Doe\n" in body(rep) and "Massachusetts" not in body(rep)  # no town given, none signed


def _reported_to_ways_and_means(sessions):
    """H.1946 heard by the Judiciary (a Joint hearing after its referral there), since reported to House Ways and
    Means, whose chair has an address too: the hearing's chairs are still the Judiciary's."""
    with sessions.begin() as s:
        bill = s.scalar(select(Bill).where(Bill.canonical == w.BILL))
        bill.committee = "House Ways and Means"
        s.add(Legislator(session=w.LIVE, member_code="AMM1", name="Aaron Michlewitz", branch="House",
                         district="Third Suffolk", email="aaron.m.michlewitz@mahouse.gov", fetched_at=w.now()))
        s.add(Committee(session=w.LIVE, code="H33", full_name="House Committee on Ways and Means", branch="House",
                        house_chair_code="AMM1", fetched_at=w.now()))
        rows = [BillAction(bill_id=bill.id, position=i, occurrence=0, date=w.now().date(), branch=branch, action=text,
                           kinds=kinds, first_seen_at=w.now()) for i, (branch, text, kinds) in enumerate([
                               ("House", "Referred to the committee on The Judiciary", ["referral"]),
                               ("Joint", "Hearing scheduled in Virtual Hearing", ["hearing-scheduled"]),
                               ("House", "Reported favorably by committee and referred to the committee on House "
                                         "Ways and Means", ["referral", "reported-favorably"])])]
        s.add_all(rows)
        s.flush()
        s.scalar(select(Hearing).where(Hearing.bill_id == bill.id)).action_id = rows[1].id


@pytest.mark.parametrize("moved_on", [False, True], ids=["in-judiciary", "since-in-ways-and-means"])
def test_testimony_goes_to_both_chairs_of_the_committee_holding_the_hearing_and_no_one_else(world, moved_on):
    if moved_on:
        _reported_to_ways_and_means(world.sessions)
    page = world.open(world.jane, TESTIFY)
    assert "Michael S. Day" in page.text and "James B. Eldridge" in page.text
    assert "Dave Rogers" not in page.text and "Michlewitz" not in page.text
    sent = world.client("POST", f"/act/{TESTIFY}", data=w.form_of(page.text))
    assert sent.status_code == 200 and "Michael S. Day" in main_of(sent)
    assert world.envelopes() == sorted([DAY, ELDRIDGE, JANE])
    for addr in (DAY, ELDRIDGE):
        [msg] = world.to(addr)
        assert msg["Subject"] == "Testimony in support of H.1946"
        assert "Dear Chairs of the Joint Committee on the Judiciary" in body(msg)
        assert msg["Reply-To"].addresses[0].addr_spec == JANE


# -- once ------------------------------------------------------------------------------------------------------

def test_a_second_click_sends_nothing_more_and_says_so(world):
    form = w.form_of(world.open(world.jane).text)
    first = world.client("POST", f"/act/{WRITE}", data=form)
    assert first.status_code == 200 and len(world.sink.state.messages) == 3
    again = world.client("POST", f"/act/{WRITE}", data=form)
    assert again.status_code == 200 and "nothing was sent twice" in main_of(again)
    assert len(world.sink.state.messages) == 3
    later = world.write(world.jane)  # a second visit from the alert, another day's mood: the same
    assert "nothing was sent twice" in main_of(later) and len(world.sink.state.messages) == 3


def test_two_posts_at_the_same_moment_send_one_letter_to_each(world, monkeypatch):
    form = w.form_of(world.open(world.jane).text)
    c = world.client
    meet, calls = threading.Barrier(2, timeout=5), []
    checked = ask_letters.already_written

    def both_check_before_either_writes(*args):
        found = checked(*args)
        calls.append(found)
        if len(calls) <= 2:
            meet.wait()  # the two requests have both found nothing written yet
        return found

    monkeypatch.setattr(ask_letters, "already_written", both_check_before_either_writes)

    async def both():
        return await asyncio.gather(*(c.c.post(f"/act/{WRITE}", data=form) for _ in range(2)))

    answers = c.loop.run_until_complete(both())
    assert [a.status_code for a in answers] == [200, 200], [main_of(a)[:300] for a in answers]
    assert calls[:2] == [set(), set()]
    headings = sorted(re.search(r'<h1 id="thanks">(.*?)</h1>', a.text).group(1) for a in answers)
    assert headings == ["Already sent", "Thank you: your letters are on their way"]
    assert world.envelopes() == sorted([ROGERS, JEHLEN, JANE])
    with world.sessions() as s:
        assert len(s.scalars(select(AskLetter)).all()) == 2
        assert len(s.scalars(select(AskResponse)).all()) == 1


# -- the per-office daily limit ------------------------------------------------------------------------------

def test_an_office_gets_its_daily_limit_and_the_rest_waits_for_the_next_local_day(make_world, sessions):
    world = make_world(cfg=w.cfg(mail="  asks_per_recipient_per_day: 2"))
    others = [w.supporter(sessions, world.cfg, f"{n.lower()}@example.org", f"{n} Roe") for n in ("Ann", "Bea")]
    world.write(world.jane)
    world.write(others[0])
    assert len(world.to(ROGERS)) == 2 and len(world.to(JEHLEN)) == 2
    third = world.write(others[1])
    assert third.status_code == 200 and "the office gets its letters tomorrow" in main_of(third)
    assert len(world.to(ROGERS)) == 2 and len(world.to(JEHLEN)) == 2
    assert len(world.to("bea@example.org")) == 1  # her copy is not a letter to an office: it goes now
    tz = world.settings.tz
    midnight = datetime.combine(w.now().astimezone(tz).date() + timedelta(days=1), time(0), tzinfo=tz)
    with sessions() as s:
        waiting = s.scalars(select(OutboxMessage).where(OutboxMessage.state == "queued")).all()
        assert sorted(m.to_addr for m in waiting) == sorted([ROGERS, JEHLEN])
        assert {m.next_attempt_at for m in waiting} == {midnight.astimezone(timezone.utc)}
    report = deliver_outbox(world.settings, sessions, world.transport(), now=lambda: w.now())
    assert report.sent == 0 and len(world.to(ROGERS)) == 2  # still today: still waiting
    tomorrow = midnight.astimezone(timezone.utc) + timedelta(minutes=5)
    report = deliver_outbox(world.settings, sessions, world.transport(), now=lambda: tomorrow)
    assert report.sent == 2 and len(world.to(ROGERS)) == 3 and len(world.to(JEHLEN)) == 3
    assert "\nBea Roe\n" in body(world.to(ROGERS)[-1])


# -- a visitor ---------------------------------------------------------------------------------------------------

def test_a_visitor_sends_nothing_until_she_confirms_and_confirming_twice_sends_once(world):
    page = world.client("GET", f"/act/{WRITE}?house_district={w.HOUSE}&senate_district={w.SENATE}")
    form = w.form_of(page.text)
    assert 'id="email"' in page.text and "token" not in form
    held = world.client("POST", f"/act/{WRITE}", data=form | {"first_name": "Vic", "last_name": "Visitor",
                                                              "email": "vic@example.org"})
    assert held.status_code == 200 and "Check your email" in held.text
    assert world.envelopes() == ["vic@example.org"]  # the link, and no letter yet
    [mail] = world.to("vic@example.org")
    assert mail["Subject"].startswith("Please confirm")
    path = LINK.search(body(mail)).group(1)
    assert path.startswith("/act/confirm?token=")
    for _ in range(2):  # a mail scanner opening the link sends nothing
        shown = world.client("GET", path)
        assert shown.status_code == 200 and '<form method="post" action="/act/confirm">' in shown.text
        assert "Dear Senator Patricia D. Jehlen" in shown.text
    assert world.envelopes() == ["vic@example.org"]
    token = path.split("token=", 1)[1]
    sent = world.client("POST", "/act/confirm", data={"token": token})
    assert sent.status_code == 200 and "on its way" in sent.text
    assert world.envelopes() == sorted([ROGERS, JEHLEN, "vic@example.org", "vic@example.org"])
    [letter] = world.to(JEHLEN)
    assert letter["Reply-To"].addresses[0].addr_spec == "vic@example.org" and "\nVic Visitor\n" in body(letter)
    again = world.client("POST", "/act/confirm", data={"token": token})
    assert "nothing is sent twice" in main_of(again) and len(world.sink.state.messages) == 4
    assert "Already sent" in main_of(world.client("GET", path)) and len(world.sink.state.messages) == 4


# -- an office's bounce -------------------------------------------------------------------------------------

def test_an_office_that_bounces_is_marked_failing_not_the_supporter_and_is_written_to_no_more(world, sessions):
    world.sink.state.reject[JEHLEN] = "550 5.1.1 no such user"
    page = world.write(world.jane)
    assert page.status_code == 200
    assert world.envelopes() == sorted([ROGERS, JANE])  # her copy still reached her
    with sessions() as s:
        failing = s.get(FailingAddress, JEHLEN)
        assert failing is not None and "5.1.1" in failing.last_error
        assert s.get(Subscriber, world.jane).status == "active"
        assert s.scalar(select(AskLetter.state).where(AskLetter.recipient_code == "PDJ0")) == "failed"
        section = staff_section(s, world.settings, w.now())
    assert [(f["name"], f["address"]) for f in section["failing"]] == [("Patricia D. Jehlen", JEHLEN)]
    assert section["asks"][0]["failed"] == 1 and section["asks"][0]["sent"] == 1
    tz = world.settings.tz
    morning = datetime.combine(w.now().astimezone(tz).date() + timedelta(days=1), time(7, 30), tzinfo=tz)
    dispatch(world.settings, sessions, world.transport(), now=morning, kinds=("staff",))
    [digest] = world.to("staff@example.org")
    assert (f"The address of Patricia D. Jehlen (Second Middlesex), {JEHLEN}, returned a letter as undeliverable"
            in " ".join(digest.get_body(("plain",)).get_content().split()))
    # Jane keeps getting her mail: her testimony's copy, and her alerts
    world.write(world.jane, TESTIFY)
    assert len(world.to(JANE)) == 2
    with sessions.begin() as s:
        s.get(Subscriber, world.jane).start_event_id = 0
    dispatch(world.settings, sessions, world.transport(), now=w.now(), kinds=("supporters",))
    assert len(world.to(JANE)) == 3 and "H.1946" in world.to(JANE)[-1]["Subject"]
    # the next supporter sees the office as unreachable, and nothing is sent to it
    mary = w.supporter(sessions, world.cfg, "mary@example.org", "Mary Major")
    shown = world.open(mary)
    assert "returned our last letter as undeliverable" in main_of(shown)
    assert 'name="letter-PDJ0"' not in shown.text and 'name="letter-DMR1"' in shown.text
    world.client("POST", f"/act/{WRITE}", data=w.form_of(shown.text))
    assert len(world.to(JEHLEN)) == 0 and len(world.to(ROGERS)) == 2 and len(world.to("mary@example.org")) == 1


# -- bad input ----------------------------------------------------------------------------------------------

def test_a_forged_or_expired_link_says_so_and_sends_nothing(world):
    form = w.form_of(world.open(world.jane).text)
    forged = world.link(world.jane, key=b"another-key").split("=", 1)[1]
    expired = world.link(world.jane, at=w.now() - timedelta(days=61)).split("=", 1)[1]
    other_page = world.link(world.jane, TESTIFY).split("=", 1)[1]
    other_purpose = make_token(KEY, "unsubscribe", world.jane)
    for token, words in ((forged, "not one we sent"), (expired, "expired"), (other_page, "for another page"),
                         (other_purpose, "for another page")):
        opened = world.client("GET", f"/act/{WRITE}?token={token}")
        assert opened.status_code == 400 and words in main_of(opened)
        posted = world.client("POST", f"/act/{WRITE}", data=form | {"token": token})
        assert posted.status_code == 400 and words in main_of(posted) and "Nothing was sent" in main_of(posted)
    assert world.sink.state.messages == []


def test_districts_the_directory_does_not_know_name_no_one_and_offer_the_pickers(world):
    query = "&house_district=Ninth+Nowhere&senate_district=Nowhere+and+Elsewhere"
    page = world.open(world.jane, query=query)
    text = main_of(page)
    assert "has no member for the districts you gave" in text
    assert '<select id="house_district"' in page.text and "Twenty-Fourth Middlesex" in page.text
    assert 'id="letter"' not in page.text
    form = w.form_of(world.open(world.jane).text)
    posted = world.client("POST", f"/act/{WRITE}", data=form | {"house_district": "Ninth Nowhere",
                                                                "senate_district": "Nowhere and Elsewhere"})
    assert posted.status_code == 400 and "has no member for the districts you gave" in main_of(posted)
    assert world.sink.state.messages == []


@pytest.mark.parametrize("field, value, status, words", [
    ("letter-PDJ0", "x" * 100_000, 400, "100,000 characters long; keep it under 10,000"),
    ("letter-PDJ0", "é" * 100_000, 413, "keep each letter under 10,000"),  # 600 kB encoded: refused unread
    ("first_name", "Jane\r\nBcc: x@evil.example", 400, "line break"),
    ("town", "Arlington\nBcc: x@evil.example", 400, "line break"),
    ("letter-DMR1", " \r\n ", 400, "is empty"),
])
def test_bad_input_is_refused_with_a_message_and_nothing_is_sent(world, field, value, status, words):
    form = w.form_of(world.open(world.jane).text)
    posted = world.client("POST", f"/act/{WRITE}", data=form | {field: value})
    assert posted.status_code == status and words in main_of(posted)
    assert world.sink.state.messages == []
    with world.sessions() as s:
        assert s.scalars(select(OutboxMessage)).all() == [] and s.scalars(select(AskLetter)).all() == []


def test_a_legislator_without_an_address_is_named_and_not_written_to(world, sessions):
    bob = w.supporter(sessions, world.cfg, "bob@example.org", "Bob Roe", house="First Barnstable")
    page = world.open(bob)
    assert "Nobody Mailable" in page.text and "has no email address for this office" in page.text
    assert "617-722-2000" in main_of(page) and 'name="letter-NOM1"' not in page.text
    world.client("POST", f"/act/{WRITE}", data=w.form_of(page.text))
    assert world.envelopes() == sorted([JEHLEN, "bob@example.org"])
    with sessions() as s:
        assert s.scalars(select(AskLetter.recipient_code)).all() == ["PDJ0"]


def test_with_the_mail_server_down_the_letter_waits_and_goes_when_it_is_back(make_world, sessions):
    port = free_port()  # nothing listens there yet
    world = make_world(sink=SmtpSink(port=port), url=f"smtp://127.0.0.1:{port}")
    page = world.write(world.jane)
    assert page.status_code == 200 and "It waits in our outbox" in main_of(page)
    with sessions() as s:
        assert sorted(s.scalars(select(OutboxMessage.to_addr).where(OutboxMessage.state == "queued"))) == \
            sorted([ROGERS, JEHLEN, JANE])
    with world.sink:
        report = deliver_outbox(world.settings, sessions, world.transport())
        assert report.sent == 3 and world.envelopes() == sorted([ROGERS, JEHLEN, JANE])
    with sessions() as s:
        assert set(s.scalars(select(AskLetter.state))) == {"sent"}


# -- privacy -------------------------------------------------------------------------------------------------

def test_nothing_public_holds_a_supporters_name_or_address_and_removing_her_erases_it(world, sessions, db_url,
                                                                                      tmp_path, monkeypatch):
    bob = w.supporter(sessions, world.cfg, "bob.smithers@example.org", "Robert Smithers")
    world.write(world.jane, town="Arlington", show_public="yes")
    world.write(bob, town="Somerville")
    secrets = [JANE, "bob.smithers@example.org", "Doe", "Robert", "Smithers", "Somerville"]
    public = world.client("GET", f"/act/{WRITE}")
    assert re.search(r'<p id="participants">Jane from Arlington</p>', public.text)
    assert "4 letters sent by 2 supporters" in public.text and not [x for x in secrets if x in public.text]
    with sessions.begin() as s:
        events = record_daily_counts(s, w.now() + timedelta(days=1), world.settings.tz)
        assert [e.payload["letters"] for e in events] == [4]
        assert set(events[0].payload) == {"ask", "day", "letters", "supporters", "bills"}
    for path in (f"/act/{TESTIFY}", "/", f"/bills/{w.LIVE}/H1946", "/events", "/api/bills", "/api/events",
                 "/api/search?q=Smithers", "/api/search?q=Jane", f"/api/bills/{w.LIVE}/H1946"):
        answer = world.client("GET", path)
        assert answer.status_code == 200, path
        assert not [x for x in secrets + ["Jane"] if x in answer.text], path
    api_events = world.client("GET", "/api/events").text
    assert "ask.sent" in api_events and '"letters":4' in api_events.replace(" ", "")
    # the organiser's list names them; the export does not
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRACKER_SECRET_KEY", KEY.decode())
    Path("feeds.yaml").write_text(CONFIG + w.ASKS)
    run = lambda *args: CliRunner().invoke(main, ["--db", db_url, *args], catch_exceptions=False)  # noqa: E731
    csv_out = run("asks", "--letters", "--format", "csv")
    assert csv_out.exit_code == 0 and "Jane,Doe," in csv_out.output and JANE in csv_out.output
    assert run("export", "--format", "jsonl", "out").exit_code == 0
    exported = "".join(p.read_text() for p in sorted((tmp_path / "out").iterdir()) if p.is_file())
    assert '"ask.sent"' in exported and not [x for x in secrets + ["Jane"] if x in exported]
    # removing her erases her names and town from her letters; the counts stay
    gone = run("subscribers", "remove", JANE)
    assert gone.exit_code == 0, gone.output
    with sessions() as s:
        rows = s.scalars(select(AskResponse).order_by(AskResponse.id)).all()
        assert [(r.first_name, r.last_name, r.town, r.show_public) for r in rows] == \
            [(None, None, None, False), ("Robert", "Smithers", "Somerville", False)]
        assert sent_count(s, WRITE) == (4, 2)
        kept = [zlib.decompress(m.body).decode() for m in s.scalars(select(OutboxMessage)) if m.body]
        assert kept and not [m for m in kept if JANE in m or "Jane Doe" in m]  # her letters' messages went too
    assert "Jane" not in world.client("GET", f"/act/{WRITE}").text
    after = run("asks", "--letters", "--format", "csv").output
    assert "Doe" not in after and JANE not in after and "Smithers" in after


def test_ask_sent_events_hold_counts_only(world, sessions):
    world.write(world.jane, town="Arlington", show_public="yes")
    world.write(world.jane, TESTIFY)
    with sessions.begin() as s:
        record_daily_counts(s, w.now() + timedelta(days=1), world.settings.tz)
    with sessions() as s:
        events = s.scalars(select(Event).where(Event.kind == "ask.sent").order_by(Event.id)).all()
    assert sorted((e.payload["ask"], e.payload["letters"], e.payload["supporters"]) for e in events) == \
        [(TESTIFY, 2, 1), (WRITE, 2, 1)]
    dumped = json.dumps([[e.summary, e.payload] for e in events])
    assert not [x for x in (JANE, "Jane", "Doe", "Arlington", ROGERS, "Rogers") if x in dumped]


# -- the alerts' links -------------------------------------------------------------------------------------

def _alert_links(world, sessions, sid) -> dict[str, str]:
    """The /act links of the alert dispatch sends her about the hearing's news, by ask."""
    with sessions.begin() as s:
        sub = s.get(Subscriber, sid)
        sub.start_event_id, addr = 0, sub.email  # the hearing's news is new to her
    dispatch(world.settings, sessions, world.transport(), now=w.now(), kinds=("supporters",))
    [alert] = world.to(addr)
    text = alert.get_body(("plain",)).get_content()
    rich = alert.get_body(("html",)).get_content()
    links = {m.group(1).split("?")[0].rsplit("/", 1)[1]: m.group(1) for m in LINK.finditer(text)}
    assert set(links) == {m.group(1).split("?")[0].rsplit("/", 1)[1] for m in LINK.finditer(rich)}
    return links


def test_an_alert_about_a_hearing_links_to_the_testimony_and_letter_pages_with_her_name_filled_in(world, sessions):
    links = _alert_links(world, sessions, world.jane)
    assert {TESTIFY, WRITE} <= set(links)
    for ask in (TESTIFY, WRITE):
        page = world.client("GET", links[ask])
        assert page.status_code == 200 and 'id="letter"' in page.text
        form = w.form_of(page.text)
        assert (form["first_name"], form["last_name"]) == ("Jane", "Doe") and form["token"]
    sent = world.client("POST", f"/act/{TESTIFY}", data=w.form_of(world.client("GET", links[TESTIFY]).text))
    assert sent.status_code == 200 and sorted(world.envelopes()) == sorted([JANE, JANE, DAY, ELDRIDGE])
    with sessions() as s:
        response = s.scalar(select(AskResponse))
        assert response.alert_event_id is not None and response.via == "alert"


def test_an_alert_after_the_hearing_carries_no_testimony_link(make_world, sessions):
    world = make_world(hearing_in=-timedelta(days=1))
    links = _alert_links(world, sessions, world.jane)
    assert TESTIFY not in links and WRITE in links


def test_an_alert_to_a_supporter_without_districts_offers_the_letter_page_which_asks_for_them(world, sessions):
    nia = w.supporter(sessions, world.cfg, "nia@example.org", "Nia Noplace", house=None, senate=None)
    links = _alert_links(world, sessions, nia)
    assert WRITE in links
    page = world.client("GET", links[WRITE])
    assert page.status_code == 200 and "Tell us your districts" in main_of(page)
    assert '<select id="house_district"' in page.text and 'id="letter"' not in page.text
    chosen = world.client("GET", links[WRITE] + f"&house_district={w.HOUSE}&senate_district={w.SENATE}")
    assert w.form_of(chosen.text)["first_name"] == "Nia"
    world.client("POST", f"/act/{WRITE}", data=w.form_of(chosen.text))
    assert sorted(world.envelopes()) == sorted([ROGERS, JEHLEN, "nia@example.org", "nia@example.org"])
    with sessions() as s:  # her alerts name her districts from now on
        assert s.get(Subscriber, nia).house_district == w.HOUSE
