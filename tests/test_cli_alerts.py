"""The alert commands as a user types them: subscribe, subscribers, digest (dry run, preview), status."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from db.engine import make_engine, session_factory
from db.migrate import upgrade
from tests.alerts_world import CONFIG, add_action, add_bill
from tracker.cli import main


@pytest.fixture
def here(tmp_path, monkeypatch, db_url):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRACKER_SMTP_URL", raising=False)
    monkeypatch.setenv("TRACKER_SECRET_KEY", "cli-secret")
    monkeypatch.setenv("TRACKER_DATABASE_URL", db_url)  # every command here runs on both backends
    (tmp_path / "feeds.yaml").write_text(CONFIG)
    engine = make_engine(db_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def maildir(tmp_path):
    box = tmp_path / "var" / "outbox" / "new"
    return sorted(box.iterdir()) if box.exists() else []


def test_subscribe_sends_a_confirmation_to_the_maildir_without_a_server(here, tmp_path):
    out = run("subscribe", "ann@example.org", "--bill", "H.135", "--name", "Ann")
    assert out.exit_code == 0 and "ann@example.org added: a confirmation email was sent" in out.output
    [mail] = maildir(tmp_path)
    assert b"Subject: Please confirm" in mail.read_bytes()
    again = run("subscribe", "ann@example.org", "--bill", "S.47")
    assert again.exit_code == 0 and "one confirmation email a day" in again.output
    assert len(maildir(tmp_path)) == 1


@pytest.mark.parametrize("args, message", [
    (["not an address"], "is not a valid email address"),
    (["ann@example.org", "--bill", "H.9999"], "not a bill this campaign follows"),
    (["ann@example.org", "--name", "Ann\nBcc: x@example.org"], "line break"),
])
def test_subscribe_refuses_bad_input_with_exit_2(here, args, message):
    out = run("subscribe", *args)
    assert out.exit_code == 2 and message in out.output


def test_import_list_and_remove(here, tmp_path):
    (tmp_path / "people.csv").write_text("email,name,bills,frequency,house_district,senate_district\n"
                                         "ann@example.org,Ann,H.135,weekly,,\n"
                                         "nonsense,Bob,,,,\n"
                                         "cat@example.org,Cat,,immediate,,\n")
    out = run("subscribers", "import", "people.csv", "--confirmed")
    assert out.exit_code == 1  # a row was refused; the others are in
    assert "people.csv:3:" in out.output and "2 added, 0 updated, 1 rows refused; 0 confirmation emails" in out.output
    assert maildir(tmp_path) == []  # --confirmed sends nothing by itself
    listed = json.loads(run("subscribers", "list", "--format", "json").output)
    assert [(r["email"], r["status"], r["frequency"], r["topics"]) for r in listed] == [
        ("ann@example.org", "active", "weekly", ["ma/192/H135"]), ("cat@example.org", "active", "immediate", ["campaign"])]
    assert run("subscribers", "remove", "cat@example.org").exit_code == 0
    assert run("subscribers", "remove", "cat@example.org").exit_code == 1
    assert len(json.loads(run("subscribers", "list", "--format", "json").output)) == 1
    missing = run("subscribers", "import", "nowhere.csv")
    assert missing.exit_code == 2 and "nowhere.csv: cannot read" in missing.output


def test_digest_dry_run_then_send_then_nothing(here, tmp_path):
    with here.begin() as s:
        bill = add_bill(s, "H135")
    (tmp_path / "one.csv").write_text("email,frequency\nann@example.org,immediate\n")
    assert run("subscribers", "import", "one.csv", "--confirmed").exit_code == 0
    now = datetime.now(timezone.utc)
    with here.begin() as s:
        add_action(s, s.get(type(bill), bill.id), "Reported favorably", ["reported-favorably"],
                   (now - timedelta(days=1)).date(), at=now)
    dry = run("digest", "--dry-run", "--kind", "supporters")
    assert dry.exit_code == 0 and "ann@example.org" in dry.output and "H.135: reported favorably" in dry.output
    assert maildir(tmp_path) == []
    sent = run("digest", "--kind", "supporters")
    assert sent.exit_code == 0 and "composed: 1 alert; sent 1" in sent.output
    assert len(maildir(tmp_path)) == 1
    again = run("digest", "--kind", "supporters", "--format", "json")
    assert json.loads(again.output)["composed"] == {}
    status = json.loads(run("status", "--format", "json").output)
    assert status["outbox"]["sent"] == 1 and status["outbox"]["queued"] == 0


def test_digest_preview_writes_the_html_for_a_bill(here, tmp_path):
    with here.begin() as s:
        add_action(s, add_bill(s, "H135"), "Hearing scheduled for 12/10/2026", ["hearing-scheduled"], date(2026, 11, 29))
    out = run("digest", "--preview", "H.135", "--output", "preview.html")
    assert out.exit_code == 0 and "preview.html: H.135" in out.output
    html = (tmp_path / "preview.html").read_text()
    assert "Hearing scheduled for 12/10/2026" in html and "What happened" in html
    assert run("digest", "--preview", "S.47").exit_code == 1  # no events yet: says so


def test_a_bad_smtp_url_is_a_usage_error(here, monkeypatch):
    monkeypatch.setenv("TRACKER_SMTP_URL", "http://mail.example.org")
    out = run("digest")
    assert out.exit_code == 2 and "expected smtp://" in out.output


def test_digest_to_one_address_sends_only_their_mail(here, tmp_path):
    (tmp_path / "two.csv").write_text("email,frequency\nann@example.org,immediate\nbob@example.org,immediate\n")
    assert run("subscribers", "import", "two.csv", "--confirmed").exit_code == 0
    now = datetime.now(timezone.utc)
    with here.begin() as s:
        add_action(s, add_bill(s, "H135"), "Reported favorably", ["reported-favorably"], now.date(), at=now)
    out = run("digest", "--kind", "supporters", "--to", "BOB@example.org")
    assert out.exit_code == 0 and "composed: 1 alert; sent 1" in out.output
    [mail] = maildir(tmp_path)
    assert b"To: bob@example.org" in mail.read_bytes()
    assert "composed: 1 alert; sent 1" in run("digest", "--kind", "supporters").output  # Ann's turn
