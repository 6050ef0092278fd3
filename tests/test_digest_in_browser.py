"""The rendered emails looked at as a person would: headless Chromium (Debian's package) opens the HTML
part and takes a screenshot, kept under artifacts/ (ignored by git)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from alerts.dispatch import dispatch
from alerts.subscribers import subscribe
from alerts.transport import MaildirTransport
from db.models import Cluster
from tests.alerts_world import KEY, NOW, add_action, add_bill, add_hearing, config, settings_of
from tests.test_alerts import _article, _mail

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")


def chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                           f"--user-data-dir={profile}", *args], capture_output=True, timeout=120)


def test_the_digest_and_an_alert_render_in_chromium(sessions, tmp_path):
    cfg = config()
    with sessions.begin() as s:
        subscribe(s, settings_of(cfg), "jane@example.org", bills=["H.135"], frequency="immediate", confirmed=True,
                  name="Jane", now=NOW - timedelta(days=1))
        bill = add_bill(s, "H135", sponsor="David M. Rogers")
        add_action(s, bill, "Reporting date extended to Friday January 15, 2027, pending concurrence",
                   ["reporting-date-extended"], date(2026, 11, 29), branch="House")
        add_hearing(s, bill, NOW + timedelta(days=9), location="Room A-2, State House")
        story = Cluster(title="Judiciary sets hearing on face surveillance bill", created_at=NOW)
        s.add(story)
        s.flush()
        _article(s, bill, "Judiciary sets hearing on face surveillance bill", "WWLP", "https://wwlp.example/h", story)
        _article(s, bill, "Judiciary sets hearing on face surveillance bill", "MassLive", "https://ml.example/h", story)
    dispatch(settings_of(cfg, KEY), sessions, MaildirTransport(tmp_path / "outbox"), now=NOW)
    messages = {m["To"].addresses[0].addr_spec: m for m in _mail(tmp_path)}
    ARTIFACTS.mkdir(exist_ok=True)
    for name, who in (("staff-digest", "staff@example.org"), ("supporter-alert", "jane@example.org")):
        html = messages[who].get_body(("html",)).get_content()
        page = ARTIFACTS / f"{name}.html"
        page.write_text(html, encoding="utf-8")
        shot = ARTIFACTS / f"{name}.png"
        shot.unlink(missing_ok=True)
        done = chromium([f"--screenshot={shot}", "--window-size=720,1600", page.as_uri()], tmp_path / f"p-{name}")
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        assert shot.stat().st_size > 20_000  # a blank or broken page compresses to a few KB
        dom = chromium(["--dump-dom", page.as_uri()], tmp_path / f"d-{name}").stdout.decode()
        assert "Judiciary sets hearing on face surveillance bill" in dom and "MassLive" in dom
        assert "Room A-2, State House" in dom
