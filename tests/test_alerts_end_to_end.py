"""The whole path as a supporter lives it: subscribe, confirm from the email, a crawl sees the bill move,
the alert arrives, and a second run sends nothing. Real crawl, real SMTP server, the real web app."""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from click.testing import CliRunner

from tracker.cli import main
from tests.smtp_sink import SmtpSink
from tests.alerts_world import application

BOSTON = ZoneInfo("America/New_York")


@pytest.fixture
def env(tmp_path, monkeypatch, replica_server, db_url):
    with SmtpSink() as sink:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("TRACKER_DATABASE_URL", db_url)
        monkeypatch.setenv("TRACKER_SMTP_URL", sink.url)
        monkeypatch.setenv("TRACKER_SECRET_KEY", "end-to-end-secret")
        monkeypatch.setenv("TRACKER_PUBLIC_URL", "https://alerts.example.org")
        (tmp_path / "feeds.yaml").write_text(f"""
campaign:
  name: Regulate face surveillance
  action_url: https://example.org/act
sources:
  malegislature:
    base_url: {replica_server.base_url}
    session: 192
    delay_s: 0
    concurrency: 4
    timeout_s: 5
bills:
  - id: H.135
  - id: S.47
digests:
  staff:
    to: [staff@example.org]
  supporters:
    from: "Face Surveillance Campaign <alerts@example.org>"
""")
        yield sink


def run(*args):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


def confirm_with_the_link(sink, address):
    [msg] = sink.state.to(address)
    link = re.search(r"https://alerts\.example\.org(/confirm\?token=\S+)", msg.get_body(("plain",)).get_content())
    from tracker.web.app import create_app
    from tracker.config import load_config
    from db.engine import make_engine, session_factory

    config, _ = load_config()
    app = create_app(application(config, session_factory(make_engine(os.environ["TRACKER_DATABASE_URL"])), b"end-to-end-secret"))

    async def go():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            return await client.get(link.group(1))

    import asyncio

    return asyncio.run(go())


def test_subscribe_confirm_crawl_alert_and_nothing_twice(env, replica):
    sink = env
    assert run("init").exit_code == 0
    out = run("subscribe", "jane@example.org", "--bill", "H.135", "--frequency", "immediate", "--name", "Jane",
              "--house-district", "24th Middlesex", "--senate-district", "Middlesex and Worcester")
    assert out.exit_code == 0, out.output
    assert "confirmation email was sent" in out.output
    page = confirm_with_the_link(sink, "jane@example.org")
    assert page.status_code == 200 and "You are subscribed" in page.text and "H.135" in page.text

    # first crawl: the bills are new, their history old: one alert says we now follow them
    assert run("crawl").exit_code == 0
    first = run("digest", "--kind", "supporters")
    assert first.exit_code == 0, first.output
    alerts = sink.state.to("jane@example.org")[1:]
    assert len(alerts) == 1
    assert "now followed" in alerts[0]["Subject"] and "S.47" not in alerts[0].get_body(("plain",)).get_content()

    # the new draft of H.135 gets a hearing next week: the supporter of H.135 hears of it, with what to do
    now = datetime.now(BOSTON)
    day = (now + timedelta(days=7)).strftime("%m/%d/%Y")
    replica.add_action(192, "H5091", now.replace(tzinfo=None, microsecond=0), "Joint",
                       f"Hearing scheduled for {day} from 10:00 AM-01:00 PM in A-2")
    crawl = run("crawl")
    assert crawl.exit_code == 0 and "hearing.scheduled" in crawl.output
    second = run("digest", "--kind", "supporters")
    assert second.exit_code == 0, second.output
    [alert] = sink.state.to("jane@example.org")[2:]
    text = alert.get_body(("plain",)).get_content()
    assert alert["Subject"].startswith("H.5091: hearing scheduled for")
    assert "A-2" in text
    assert "You get this because you follow H.135." in text
    assert alert["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # the 192nd General Court has ended: no testimony, no lobbying for a dead bill; the alert says what ended
    assert "Now dead (the session ended)" in text and "Write to your legislators" not in text
    assert "Testify" not in text and "Ways and Means hears" not in text
    assert "The 192nd General Court ended on Jan 4, 2023; this bill died with it." in text
    assert text.count("10:00 AM") == 1  # the hearing under what happened, and no ask for it

    # nothing new: nothing sent
    third = run("digest")
    assert third.exit_code == 0
    assert len(sink.state.to("jane@example.org")) == 3
    status = run("status", "--format", "json")
    assert '"sent": ' in status.output


OPERATOR_WORDS = re.compile(r"feeds\.yaml|\btracker \w|\b(?:bill|article|hearing|source|ask)\.[a-z]+")


def test_what_supporters_read_never_names_the_config_a_command_or_an_event_kind(env, replica):
    """A real first crawl (the bills listed in the campaign's file, a new draft found by the crawl), then a
    hearing on the new draft: every message a supporter gets (the confirmation, the alerts) is read."""
    sink = env
    assert run("init").exit_code == 0
    assert run("subscribe", "jane@example.org", "--frequency", "immediate", "--confirmed").exit_code == 0
    assert run("subscribe", "raj@example.org", "--bill", "H.135").exit_code == 0  # a confirmation email
    assert run("crawl").exit_code == 0
    assert run("digest", "--kind", "supporters").exit_code == 0
    now = datetime.now(BOSTON)
    replica.add_action(192, "H5091", now.replace(tzinfo=None, microsecond=0), "Joint",
                       f"Hearing scheduled for {(now + timedelta(days=7)):%m/%d/%Y} from 10:00 AM-01:00 PM in A-2")
    assert run("crawl").exit_code == 0
    assert run("digest", "--kind", "supporters").exit_code == 0
    jane, raj = sink.state.to("jane@example.org"), sink.state.to("raj@example.org")
    assert len(jane) == 2 and len(raj) == 1
    followed = jane[0].get_body(("plain",)).get_content()
    assert "The campaign now follows this bill. It is" in followed  # H.135 and S.47, listed by the campaign
    assert "The campaign now follows this bill, the new draft of H.135. It is" in followed  # H.5091
    for msg in jane + raj:
        for part in (msg["Subject"], msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()):
            assert not OPERATOR_WORDS.search(part), (OPERATOR_WORDS.search(part), msg["Subject"])
