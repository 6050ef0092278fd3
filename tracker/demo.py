"""``tracker demo``: the whole cycle offline, against the bundled replicas.

It starts replicas of malegislature.gov and of the news sources on 127.0.0.1, a
fresh database and a maildir in a temporary folder, signs a supporter up (and
confirms her from the link in the email), and runs one full cycle of the
scheduler's jobs: crawl, poll, health, dispatch (the staff digest and her first
alert). The 192nd's bills died long ago: the sync's successor search follows H.135
into the 193rd (H.1728) and the 194th (H.1946), and tells her. Then the sources move --
H.1946, the live bill, gets a hearing next week before the Joint Committee on the
Judiciary, and WWLP reports it, both dated today so the backfill cap lets them through --
and a second cycle sends her the alert that asks her to testify. Last, the demo's clock moves on past the
hearing: the committee reports a new draft of H.1946 (H.4420), and a third cycle follows it, stores its
text against H.1946's, and sends staff the digest whose "New texts" shows the redline in a few lines (and
Jane an alert that says, in one sentence, what the new draft changed).
"""

from __future__ import annotations

import email
import re
import tempfile
from datetime import datetime, timedelta, timezone
from email.policy import default
from pathlib import Path
from textwrap import wrap
from typing import Callable

from sqlalchemy import func, select, update

from alerts.dispatch import queue_confirmation
from alerts.subscribers import confirm, subscribe
from alerts.transport import MaildirTransport
from db.migrate import upgrade
from db.models import Bill, Event, Feed, Run
from tracker.application import Application, stored_secret_key
from tracker.config import parse_config
from tracker.jobs import ONCE_ORDER
from db.bills import list_bills
from spiders.billids import STATE_HOUSE_TZ, dotted
from tracker.replica import ReplicaServer
from tracker.replica.docket import with_dockets
from tracker.replica.drafts import NEW_DRAFTS, report_new_draft
from tracker.replica.texts import draft_changes
from tracker.replica.news_model import NewsItem, NewsReplica
from tracker.replica.news_server import NewsServer
from tracker.scheduler import Daemon

DEMO_CONFIG = """
campaign:
  name: Regulate face surveillance
  action_url: https://example.org/act
sources:
  malegislature:
    base_url: {bills}
    session: 192
    sessions: [193, 194]  # the two General Courts after the campaign's first bills: their whole dockets
    delay_s: 0
    concurrency: 8
  google_news:
    base_url: {news}
  news:
    delay_s: 0
    concurrency: 4
    # the replica's article pages are on 127.0.0.1: fetched only because this allows it
    allow_private_networks: ["127.0.0.1/32"]
bills:
  - id: H.135
    keywords: ["face surveillance", "facial recognition"]
  - id: S.47
    keywords: ["face surveillance", "facial recognition"]
watches:
  - name: facial recognition
    terms: ["facial recognition", "face surveillance"]
feeds:
  - name: WWLP
    url: {news}/wwlp/feed/
  - name: MassLive
    url: {news}/masslive/arc/outboundfeeds/rss/
  - name: CommonWealth Beacon
    url: {news}/beacon/feed/atom/
  - name: ACLU of Massachusetts
    url: {news}/aclum/rdf/
  - name: Google News
    google_news: '"face surveillance" Massachusetts'
    fetch_article: true
asks:
  - name: testify
    kind: testimony
    title: Testify for the hearing
    subject: "Testimony in support of {{{{ bill.label }}}}"
    letter: |
      Dear Chair {{{{ recipient.name }}}},

      I write in support of {{{{ bill.label }}}}, which the {{{{ committee }}}} hears on {{{{ hearing.when }}}}.

      Government use of face surveillance needs clear limits, and this bill sets them. Please report it favorably.

      Respectfully,
  - name: write-your-legislators
    kind: letter
    subject: "Please support {{{{ bill.label }}}}"
    letter: |
      Dear {{{{ recipient.title }}}} {{{{ recipient.name }}}},

      As your constituent, I ask you to support {{{{ bill.label }}}}, {{{{ bill.title }}}}.

      Please tell the chairs of the {{{{ bill.committee }}}} that you want it reported favorably.

      Sincerely,
    thanks: |
      Dear {{{{ recipient.title }}}} {{{{ recipient.name }}}},

      Thank you for co-sponsoring {{{{ bill.label }}}}. Please keep pushing for a vote this session.

      Sincerely,
digests:
  staff:
    to: [staff@example.org]
    at: "00:00"
  supporters:
    from: "Face Surveillance Campaign <alerts@example.org>"
mail:
  messages_per_second: 100
"""
SUPPORTER = "jane@example.org"
DEMO_DOCKETS = {193: 250, 194: 250}
HEARING_IN = timedelta(days=6)  # H.1946's hearing: next week
LATER = timedelta(days=13)  # the committee's new draft: a week after the hearing


class DemoClock:
    """The demo's time: the real one, moved on by ``shift`` once the story skips ahead. The application's jobs
    and its delivery read it, so the new draft is reported, crawled, digested and mailed on the same later day.
    The pages ``--serve`` answers keep the real time (a confirmation link stays valid a week from the real now)."""

    def __init__(self) -> None:
        self.shift = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + self.shift

    def local(self) -> datetime:
        return self().astimezone(STATE_HOUSE_TZ)


def draft_words(old: str, new: str) -> str:
    """What the replica's new draft does to the bill, from its manifest: "section 2 (prohibition) changed,
    section 4 (commission) removed and a new section 5 (destruction of images)"."""
    said = []
    for c in draft_changes(old, new):
        if c["change"] == "removed":
            said.append(f"section {c['old']} ({c['topic']}) removed")
        elif c["change"] == "changed":
            said.append(f"section {c['new']} ({c['topic']}) changed")
        elif c["change"] == "added":
            said.append(f"a new section {c['new']} ({c['topic']})")
    return ", ".join(said[:-1]) + " and " + said[-1] if len(said) > 1 else "".join(said)


def _mail(box: Path, seen: set[str]) -> list[tuple[Path, email.message.EmailMessage]]:
    new = []
    files = sorted((box / "new").glob("*"), key=lambda p: p.stat().st_mtime_ns) if (box / "new").exists() else []
    for path in files:
        if path.name not in seen:
            seen.add(path.name)
            new.append((path, email.message_from_bytes(path.read_bytes(), policy=default)))
    return new


def run_demo(db_url: str | None = None, echo: Callable[[str], None] = print, workdir: str | None = None,
             serve: bool = False, port: int = 8000) -> int:
    """Run the demo; with ``serve``, then serve the web app on 127.0.0.1:``port`` (where the emails' links
    point) with the replicas still up, so every link of its emails answers, until interrupted."""
    folder = Path(workdir or tempfile.mkdtemp(prefix="tracker-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_url = db_url or f"sqlite:///{folder / 'demo.sqlite'}"
    box = folder / "outbox"
    seen: set[str] = set()
    # a sample of each General Court's docket around the real documents (the real ones hold 6,000 to 7,000)
    bills_site, news_site = with_dockets(DEMO_DOCKETS), NewsReplica.bundled()

    def show_mail(label: str) -> None:
        for path, msg in _mail(box, seen):
            echo(f"   {label} to {msg['To']}: {msg['Subject']}\n      {path}")

    def due_now(now: datetime) -> None:
        """Every bill and feed due again (no waiting hours for the next check)."""
        with sessions.begin() as s:
            s.execute(update(Bill).values(next_check_at=now))
            s.execute(update(Feed).values(next_check_at=now))

    def cycle(daemon: Daemon, number: int) -> bool:
        ok = True
        for job in ONCE_ORDER:
            ok = daemon.run_job(job) and ok
        with sessions() as s:
            runs = list(s.scalars(select(Run).order_by(Run.id.desc()).limit(len(ONCE_ORDER))))
        for r in reversed(runs):
            counts = " ".join(f"{k}={v}" for k, v in (r.counts or {}).items() if k != "duration_s")
            echo(f"   job={r.job:10} {'ok' if r.ok else 'FAILED: ' + (r.error or '')}  {counts}")
        show_mail("mail")
        return ok

    clock = DemoClock()
    with ReplicaServer(bills_site) as bills_server, NewsServer(news_site) as news_server:
        config = parse_config(DEMO_CONFIG.format(bills=bills_server.base_url, news=news_server.base_url), "demo")
        # the demo's own application: its config, database, key and maildir; never TRACKER_SMTP_URL
        # its key is kept in the demo's folder (secret_key), so `tracker serve` with it opens the emails' links
        app = Application(config=config, database_url=db_url, secret_key=stored_secret_key(folder),
                          transport_factory=lambda: MaildirTransport(box), var_dir=folder,
                          public_url=f"http://127.0.0.1:{port}", clock=clock)
        upgrade(app.engine)
        sessions, settings, key = app.sessions, app.settings, app.secret_key
        echo(f"Replicas of malegislature.gov at {bills_server.base_url} and of the news at {news_server.base_url}")
        echo(f"Database {db_url}; emails in the maildir {box}\n")

        echo(f"1. {SUPPORTER} signs up for alerts about H.135, and confirms from the link in the email.")
        now = clock()
        with sessions.begin() as s:
            sub = subscribe(s, settings, SUPPORTER, bills=["H.135"], name="Jane Doe", frequency="immediate",
                            house_district="Twenty-Fourth Middlesex", senate_district="Middlesex and Worcester",
                            source="demo", now=now).subscriber
            queue_confirmation(s, settings, sub, now)
        daemon = Daemon(app)
        daemon.run_job("dispatch")
        [(path, msg)] = _mail(box, seen)
        echo(f"   mail to {msg['To']}: {msg['Subject']}\n      {path}")
        token = re.search(r"/confirm\?token=(\S+)", msg.get_body(("plain",)).get_content()).group(1)
        with sessions.begin() as s:
            echo(f"   confirmed: {confirm(s, key, token, clock()).status}\n")

        echo("2. First cycle (crawl, sync, poll, health, dispatch, retention): the bills and the news are new; the")
        echo(f"   sync stores the dockets of the 193rd and 194th General Courts (a sample of {DEMO_DOCKETS[194]} documents")
        echo("   each) and the watch on \"facial recognition\" finds other members' bills. The 192nd's bills died long")
        echo("   ago: the successor search finds H.135 re-filed as H.1728 in the 193rd, and H.1728 as H.1946 in the")
        echo("   194th (each pinslip names the bill before it), and follows them. Staff get their digest with all")
        echo("   of it; Jane an alert that we now follow H.135, and that it was re-filed as H.1728, then H.1946.")
        ok = cycle(daemon, 1)
        with sessions() as s:
            for ev in s.scalars(select(Event).where(Event.kind == "bill.discovered").order_by(Event.id)):
                echo(f"   discovered {ev.payload['number']:8} {ev.payload['reason']}: {ev.payload['title']}")
            for ev in s.scalars(select(Event).where(Event.kind == "bill.successor").order_by(Event.id)):
                echo(f"   re-filed   {ev.summary}")

        echo("\n3. The sources move, dated today: H.1946, the campaign's bill in the 194th General Court, gets a")
        echo("   hearing next week before the Joint Committee on the Judiciary, and WWLP reports it. The demo makes")
        echo("   every bill and feed due again (no waiting 6 hours).")
        today = clock.local()
        hearing_day = today + HEARING_IN
        bills_site.add_action(194, "H1946", today.replace(tzinfo=None, microsecond=0), "Joint",
                              f"Hearing scheduled for {hearing_day:%m/%d/%Y} from 01:00 PM-03:00 PM in Virtual Hearing")
        news_site.add_item("/wwlp/feed/", NewsItem(
            guid="demo-1", title="Judiciary sets hearing on H.1946, the face surveillance bill",
            link="/wwlp/news/state-politics/judiciary-sets-hearing-on-h1946/",
            published=clock().replace(microsecond=0), author="Demo",
            summary_html="<p>Demo text: the face surveillance bill of the 194th General Court gets a hearing "
                         "date.</p>"))
        due_now(clock())

        echo("\n4. Second cycle: Jane's alert asks her to testify at the hearing and names the committee's chairs;")
        echo("   the staff digest waits for tomorrow (one a day).")
        before_alert = set(seen)
        ok = cycle(daemon, 2) and ok

        echo("\n5. Jane presses the alert's \"Send your testimony\" button: the page (her name filled in from the signed")
        echo("   link) names both chairs of the Joint Committee on the Judiciary; she adds a sentence and sends it.")
        echo("   Then \"Write your letter\": her own Representative and Senator, each with a letter; she sends it too.")
        echo("   Each office gets its own letter From the campaign, Reply-To Jane; she gets a copy of each.")
        alert = next(msg for path, msg in _mail(box, before_alert) if msg["To"].addresses[0].addr_spec == SUPPORTER)
        ok = _act(app, alert, echo) and ok
        show_mail("mail")

        # the committee's new draft, a week after the hearing: the demo's clock moves on, so the crawl, the
        # digest's day and the emails are all of that later day (the replica's history dates the report too)
        draft = NEW_DRAFTS[(194, "H1946")]
        clock.shift = LATER
        reported = clock.local().replace(microsecond=0) - timedelta(hours=1)
        echo(f"\n6. A week after the hearing of {hearing_day:%b} {hearing_day.day} (the demo moves its clock "
             f"{LATER.days} days on, to {reported:%b} {reported.day}), the Joint")
        echo(f"   Committee on the Judiciary reports a new draft of H.1946: {dotted(draft)}. Compared with H.1946, "
             "its text has")
        for line in wrap(draft_words("194/H1946", f"194/{draft}") + ".", 100):
            echo(f"   {line}")
        report_new_draft(bills_site, 194, "H1946", when=reported.replace(tzinfo=None))
        due_now(clock())

        echo(f"\n7. Third cycle: the crawl reads \"Accompanied a new draft, see {draft}\" in H.1946's history, "
             f"follows {dotted(draft)}")
        echo("   as its new draft and stores its text compared with H.1946's. Staff get that day's digest: its \"New")
        echo("   texts\" shows the redline in a few lines, with a link to the whole of it. Jane hears of the new draft,")
        echo("   with one sentence on what it changed. The digest counts the letters and testimony sent.")
        with sessions() as s:
            before = s.scalar(select(func.max(Event.id))) or 0
        ok = cycle(daemon, 3) and ok
        with sessions() as s:
            for ev in s.scalars(select(Event).where(Event.kind == "bill.text", Event.id > before).order_by(Event.id)):
                echo(f"   new text   {ev.summary}")
                for line in (ev.payload or {}).get("summary_lines") or []:
                    echo(f"              {line}")

        echo("\nTracked bills:")
        with sessions() as s:
            for b in list_bills(s):
                echo(f"   {b['id']:14} {b['status'] or '':12} {b['title'] or ''}")
        echo(f"\nEmails: {box}/new   Database: {db_url}")
        echo(f"Try: tracker --db {db_url} status  |  tracker --db {db_url} events --kind hearing.scheduled"
             f"  |  tracker --db {db_url} successors  |  tracker --db {db_url} subscribers list"
             f"  |  tracker --db {db_url} text H.4420 --compare H.1946  |  tracker --db {db_url} asks")
        if serve:
            echo(f"\nServing the web app at http://127.0.0.1:{port}/ with the demo's database and key, and the "
                 "replicas: every link of the emails works until Ctrl-C.")
            _serve(app, port)
        else:
            echo(f"The emails' links work once the web app runs with the demo's key: tracker demo --serve, or "
                 f"TRACKER_SECRET_KEY=$(cat {folder / 'secret_key'}) tracker --db {db_url} serve --port {port} "
                 "(the replicas, and so the links to the legislature's and the news' pages, stop with the demo)")
    app.close()
    return 0 if ok else 1


def _act(app: Application, alert: email.message.EmailMessage, echo: Callable[[str], None]) -> bool:
    """Jane follows each ask's button of her alert to its page, adds a sentence to the letter, and sends it:
    the pages answer in-process (the same app ``tracker serve`` runs), by the links' paths."""
    import asyncio

    import httpx
    from bs4 import BeautifulSoup  # lazy, like the next: only this step reads pages

    from tracker.web.app import create_app

    text = alert.get_body(("plain",)).get_content()
    links = list({link.split("?")[0]: link for link in reversed(  # the first link to each page: H.1946's
        re.findall(r"(?:Send your testimony|Write your letter): (\S+)", text))}.values())[::-1]
    ok = bool(links)
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(app)), base_url=app.public_url)
    try:
        for link in links:
            page = loop.run_until_complete(client.get(link.removeprefix(app.public_url)))
            form = BeautifulSoup(page.text, "html.parser").find("form", id="letter")
            if page.status_code != 200 or form is None:
                echo(f"   the page {link.split('?')[0]} answered {page.status_code}")
                ok = False
                continue
            fields = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("type") != "checkbox"}
            for area in form.find_all("textarea"):  # her sentence before the closing ("Sincerely,")
                *body, closing = area.get_text().strip().split("\n\n")
                fields[area["name"]] = "\n\n".join(body + ["I live here, and I want this done right.", closing])
            fields |= {"town": "Arlington", "show_public": "yes"}
            sent = loop.run_until_complete(client.post(form["action"], data=fields))
            heading = BeautifulSoup(sent.text, "html.parser").find("h1").get_text(" ", strip=True)
            echo(f"   {link.split('?')[0].removeprefix(app.public_url)}: {heading}")
            ok = ok and sent.status_code == 200
    finally:
        loop.run_until_complete(client.aclose())
        loop.close()
    return ok


def _serve(app: Application, port: int) -> None:
    import uvicorn  # lazy, like the next: only --serve needs them

    from tracker.web.app import create_app  # lazy: it imports FastAPI and the pages

    try:
        uvicorn.run(create_app(app), host="127.0.0.1", port=port, log_level="warning")
    except KeyboardInterrupt:
        pass
