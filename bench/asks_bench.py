#!/usr/bin/env python3
"""Asks benchmark: 2,000 supporters writing to their legislators within ten minutes through ``tracker serve``.

The issue's requirement: "2,000 supporters acting within ten minutes through `tracker serve` (a bounded
loopback client): no error, each letter once, p95 page time reported, the letters delivered at the configured
rates."

    .venv/bin/python bench/asks_bench.py                  # 2,000 supporters in 600 s, 8 users at once (~11 min)
    .venv/bin/python bench/asks_bench.py --quick          # 200 supporters in 60 s: a smoke run (~2 min)
    .venv/bin/python bench/asks_bench.py --rate 5 --quick # a send rate below the demand
    .venv/bin/python bench/asks_bench.py --db-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

What it builds (one SQLite file, or a fresh ``bench_asks_*`` database on ``--db-url``, migrated with
``db.migrate.upgrade``):

- the directory of a General Court (the one sitting now): 160 House and 40 Senate districts, one legislator
  each with an email address, four House districts in each Senate district; the Joint Committee on the
  Judiciary, chaired by the Representative of the First Barnstable and the Senator of the First Barnstable;
- H.1946, followed, supported, in that committee, one co-sponsor (whose constituents send the ``thanks``
  variant), a hearing in six days;
- ``asks:`` a ``letter`` ask (``write-your-legislators``) and a ``testimony`` ask (``testify``) on H.1946;
  ``mail.messages_per_second: --rate`` (50), ``mail.asks_per_recipient_per_day: --per-day`` (200);
- N confirmed supporters (``alerts.subscribers.subscribe``), spread evenly over the 160 House districts (so
  ~N/40 per Senator): 90% with both districts stored, 5% with none (they choose theirs on the page, then
  write: 2 letters), 5% with the House district only (1 letter, to their Representative).

Then it starts an SMTP sink (aiosmtpd, in this process, timing every message) and a real ``tracker serve``
subprocess with ``TRACKER_SMTP_URL`` pointing at the sink, ``TRACKER_SECRET_KEY`` (the key the links are
signed with) and ``TRACKER_PUBLIC_URL``, and drives it with a bounded client: ``--users`` threads (8), each
one httpx keep-alive connection, each taking the next supporter when her moment comes (arrival times drawn
uniformly over ``--window``: a Poisson-like stream with its bursts). A supporter GETs her signed link
(``/act/write-your-legislators?token=...``), reads the CSRF cookie and the form, adds a line of her own to
each letter and POSTs it; every 8th also testifies (``/act/testify``); every 40th double-clicks (two POSTs
at once, the second must write nothing). ``POST /act/NAME`` queues the letters and her copy; the web process's
one sender (``tracker.web.courier``) sends them at the configured rate while the request waits for its own
messages (at most 4 s), so a POST's time includes its SMTP sends.

Phases, in one run: the raw-SMTP floor (smtplib, one connection, 3 messages, as a POST sends them); the
baseline (visitors arriving at the supporters' rate on the same users, each GETs /signup then / at once on her
connection, as a supporter GETs her page then POSTs); the asks; the drain; a closed-loop capacity run (the users
back to back: /signup and the act page).

Checks (exit status 1 when one fails): no error (every answer 200 and the expected page, no connection
error, no traceback in the server log); each (recipient, supporter) letter once in ``ask_letters`` and at the
sink (counted per envelope recipient and Reply-To), the number expected, its text the one she sent; one copy
per submission; per office: sent = min(limit, written) and the rest deferred to tomorrow; the rate at the
sink within the token bucket's bound. See bench/README.md, "Asks: 2,000 supporters writing".
"""

from __future__ import annotations

import argparse
import email
import json
import os
import random
import re
import shutil
import signal
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from email.policy import default as default_policy
from email.utils import parseaddr
from html import unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/asks_bench.py` from anywhere, also without the editable install
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchdb, search_bench
import benchdb  # noqa: E402
import search_bench  # noqa: E402

SECRET = "asks-bench-secret-key-not-for-production"
THANKS = "Thank you: your "  # the sent page: "your letters are on their way", "your testimony is on its way"
LETTER_ASK, TESTIMONY_ASK = "write-your-legislators", "testify"
NUMBER = "H1946"
COUNTIES = ["Barnstable", "Berkshire", "Bristol", "Essex", "Franklin", "Hampden", "Hampshire", "Middlesex",
            "Norfolk", "Plymouth", "Suffolk", "Worcester"]
ORDINALS = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth",
            "Eleventh", "Twelfth", "Thirteenth", "Fourteenth"]
HOUSE = [f"{ORDINALS[i // 12]} {COUNTIES[i % 12]}" for i in range(160)]
SENATE = [f"{ORDINALS[i // 12]} {COUNTIES[i % 12]}" for i in range(40)]
FIRST = ["Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jamal", "Keiko", "Liam",
         "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Victor", "Wen", "Yusuf", "Zoe"]
LAST = ["Almeida", "Brennan", "Chen", "Duarte", "Egan", "Fitzgerald", "Gomes", "Haddad", "Ibrahim", "Joyce",
        "Kowalski", "Lopes", "Murphy", "Nguyen", "O'Brien", "Pereira", "Quinlan", "Rivera", "Sullivan", "Tran"]
TOWNS = ["Arlington", "Boston", "Cambridge", "Framingham", "Lowell", "Northampton", "Pittsfield", "Quincy",
         "Salem", "Springfield", "Worcester", ""]
COSPONSOR = 7  # the House district whose Representative co-sponsors the bill: "thanks" letters
CHAIRS = (0, 0)  # (House district, Senate district) of the committee's chairs

CONFIG = """\
campaign:
  name: Regulate face surveillance
  action_url: https://example.org/act
sources:
  malegislature:
    session: {session}
bills:
  - id: {canonical}
digests:
  supporters:
    from: "Face Surveillance Campaign <alerts@example.org>"
mail:
  messages_per_second: {rate}
  asks_per_recipient_per_day: {per_day}
asks:
  - name: {letter}
    kind: letter
    bills: [{canonical}]
    subject: "Please support {{{{ bill.label }}}}"
    letter: |
      Dear {{{{ recipient.title }}}} {{{{ recipient.name }}}},

      I live in the {{{{ recipient.district }}}} district. Please support {{{{ bill.label }}}}, {{{{ bill.title }}}}.

      Sincerely,
    thanks: |
      Dear {{{{ recipient.title }}}} {{{{ recipient.name }}}},

      Thank you for co-sponsoring {{{{ bill.label }}}}. Please keep pushing for a vote.

      Sincerely,
  - name: {testimony}
    kind: testimony
    bills: [{canonical}]
    subject: "Testimony in support of {{{{ bill.label }}}}"
    letter: |
      Dear Chairs of the {{{{ committee }}}},

      I write in support of {{{{ bill.label }}}}, heard on {{{{ hearing.when }}}}.
"""


# --------------------------------------------------------------------------- small helpers


def live_session(now: datetime) -> int:
    from spiders.sessions import has_ended

    return next(n for n in range(190, 400) if not has_ended(n, now))


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of ``values``; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))]


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def stats(values: list[float]) -> dict:
    return {"n": len(values), "p50": pct(values, 50), "p95": pct(values, 95), "p99": pct(values, 99),
            "max": max(values) if values else 0.0, "mean": statistics.fmean(values) if values else 0.0}


def proc_cpu_s(pid: int | str = "self") -> float:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def form_of(page: str, ask: str) -> dict | None:
    """The fields of the letter form as the page gives them (hidden fields, the drafted letters, the names)."""
    m = re.search(rf'<form method="post" action="/act/{re.escape(ask)}" id="letter">(.*?)</form>', page, re.S)
    if m is None:
        return None
    form = m.group(1)
    fields = {k: unescape(v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)}
    for name, text in re.findall(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        fields[name] = unescape(text)
    for name, value in re.findall(r'<input type="text" id="[^"]+" name="([^"]+)" value="([^"]*)"', form):
        fields[name] = unescape(value)
    return fields


# --------------------------------------------------------------------------- the world


def build_world(url: str, config_text: str, n: int, seed: int) -> dict:
    """Directory, bill, hearing, N supporters; returns what the client needs (tokens, expectations)."""
    from sqlalchemy import func, select

    from alerts.subscribers import subscribe
    from alerts.tokens import make_token
    from db.engine import make_engine, session_factory
    from db.migrate import upgrade
    from db.models import Bill, Committee, Event, Hearing, Legislator, Subscriber
    from tracker.application import alert_settings
    from tracker.config import parse_config

    t0 = time.perf_counter()
    now = datetime.now(timezone.utc)
    session = live_session(now)
    cfg = parse_config(config_text, "asks-bench-feeds.yaml")
    settings = alert_settings(cfg, secret_key=SECRET.encode(), public_url="http://127.0.0.1:8000")
    canonical = f"ma/{session}/{NUMBER}"
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    rng = random.Random(seed)
    people = {}  # (branch, district index) -> (code, name, email)
    with sessions.begin() as s:
        for branch, names, domain in (("House", HOUSE, "mahouse.gov"), ("Senate", SENATE, "masenate.gov")):
            for i, district in enumerate(names):
                code = f"{branch[0]}{i + 1:03d}"
                name = f"{rng.choice(FIRST)} {chr(65 + i % 26)}. {rng.choice(LAST)}"
                addr = f"{branch.lower()}.{code.lower()}@{domain}"
                people[(branch, i)] = (code, name, addr)
                s.add(Legislator(session=session, member_code=code, name=name, branch=branch, district=district,
                                 email=addr, phone="617-722-2000", fetched_at=now))
        house_chair, senate_chair = people[("House", CHAIRS[0])], people[("Senate", CHAIRS[1])]
        s.add(Committee(session=session, code="J19", full_name="Joint Committee on the Judiciary",
                        short_name="Judiciary", branch="Joint", house_chair_code=house_chair[0],
                        senate_chair_code=senate_chair[0], fetched_at=now))
        cosponsor = people[("House", COSPONSOR)]
        bill = Bill(canonical=canonical, session=session, number=NUMBER, tracked=True, error_count=0,
                    created_at=now - timedelta(days=30), title="An Act to regulate face surveillance",
                    status="in-committee", committee="The Judiciary", position="support",
                    url=f"https://malegislature.gov/Bills/{session}/{NUMBER}",
                    petitioners=[{"name": cosponsor[1], "member_code": cosponsor[0]}], sponsor=cosponsor[1],
                    sponsor_code=cosponsor[0])
        s.add(bill)
        s.flush()
        starts = (now + timedelta(days=6)).replace(minute=0, second=0, microsecond=0)
        s.add(Hearing(bill_id=bill.id, starts_at=starts, ends_at=starts + timedelta(hours=2),
                      location="Virtual Hearing", status="scheduled", updated_at=now))
        s.add(Event(kind="hearing.scheduled", at=now - timedelta(hours=1), occurred_on=now.date(), bill_id=bill.id,
                    summary=f"Hearing on {NUMBER} scheduled",
                    payload={"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=2)).isoformat(),
                             "location": "Virtual Hearing", "status": "scheduled"}))
    order = list(range(n))
    rng.shuffle(order)  # which supporters lack districts, testify, double-click: spread, not by district
    rank_of = {i: r for r, i in enumerate(order)}
    supporters = []
    with sessions.begin() as s:
        for i in range(n):
            h = i % len(HOUSE)
            sen = h % len(SENATE)  # four House districts in each Senate district
            rank = rank_of[i]
            known = "both" if rank % 20 not in (1, 2) else ("none" if rank % 20 == 1 else "house")
            first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
            address = f"{first}.{re.sub('[^a-z]', '', last.lower())}.{i:05d}@example.net".lower()
            out = subscribe(s, settings, address, bills=[canonical], name=f"{first} {last}", frequency="immediate",
                            house_district=HOUSE[h] if known != "none" else None,
                            senate_district=SENATE[sen] if known == "both" else None, confirmed=True,
                            source="bench", now=now - timedelta(days=2))
            supporters.append({"i": i, "id": None, "sub": out.subscriber, "email": address, "house": h,
                               "senate": sen, "known": known, "testify": rank % 8 == 3,
                               "double": rank % 40 == 5, "town": TOWNS[i % len(TOWNS)],
                               "public": rank % 3 == 0})
        s.flush()
        for sp in supporters:
            sp["id"] = sp.pop("sub").id
    key = SECRET.encode()
    for sp in supporters:
        sp["token"] = make_token(key, "act", sp["id"], a=LETTER_ASK, b=canonical, e=None, k="alert")
        sp["token_t"] = make_token(key, "act", sp["id"], a=TESTIMONY_ASK, b=canonical, e=None, k="alert")
        # whom she writes to (member code -> address), and how many letters
        letters = {people[("House", sp["house"])][0]: people[("House", sp["house"])][2]}
        if sp["known"] != "house":
            letters[people[("Senate", sp["senate"])][0]] = people[("Senate", sp["senate"])][2]
        sp["expect"] = letters
        sp["expect_t"] = {house_chair[0]: house_chair[2], senate_chair[0]: senate_chair[2]} if sp["testify"] else {}
    with engine.connect() as conn:
        counts = {"legislators": conn.execute(select(func.count()).select_from(Legislator)).scalar_one(),
                  "supporters": conn.execute(select(func.count()).select_from(Subscriber)
                                             .where(Subscriber.status == "active")).scalar_one()}
    info = benchdb.describe(engine)
    engine.dispose()
    return {"session": session, "canonical": canonical, "supporters": supporters, "counts": counts,
            "chairs": {"House": house_chair, "Senate": senate_chair}, "cosponsor": cosponsor,
            "hearing": starts.isoformat(), "build_s": time.perf_counter() - t0, "database": info,
            "addresses": {v[2]: v for v in people.values()}}


# --------------------------------------------------------------------------- the SMTP sink


class TimedSink:
    """aiosmtpd on 127.0.0.1 (like tests/smtp_sink.py's ``SmtpSink``) that keeps every message's arrival time,
    envelope recipient and raw bytes; parsing is left for the end, off the clock."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.records: list[tuple[float, str, bytes]] = []
        self.connections = 0
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        t = time.monotonic()
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.records.append((t, rcpt, envelope.content))
        return "250 Message accepted for delivery"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def __enter__(self) -> "TimedSink":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def smtp_floor(sink: TimedSink, rounds: int) -> dict:
    """What 3 messages cost over SMTP on loopback, as one POST sends them (connect, EHLO, 3 x MAIL/RCPT/DATA,
    QUIT), with smtplib: the floor under a POST's delivery."""
    body = (b"From: Campaign <alerts@example.org>\r\nTo: floor@example.org\r\nSubject: floor\r\n\r\n"
            + (b"x" * 75 + b"\r\n") * 20)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", sink.port, timeout=30) as smtp:
            smtp.ehlo()
            for k in range(3):
                smtp.sendmail("alerts@example.org", [f"floor{k}@floor.invalid"], body)
        times.append(time.perf_counter() - t0)
    with sink.lock:
        sink.records = [r for r in sink.records if not r[1].endswith("@floor.invalid")]
    return stats(times)


# --------------------------------------------------------------------------- the server


class Server:
    """``tracker serve`` in a subprocess (uvicorn, one process), in its own working directory."""

    def __init__(self, url: str, workdir: Path, config_path: Path, smtp_url: str):
        self.url, self.workdir, self.config_path, self.smtp_url = url, workdir, config_path, smtp_url
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "serve.log"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        env = dict(os.environ)
        env.update(PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""), TRACKER_SECRET_KEY=SECRET,
                   TRACKER_PUBLIC_URL=self.base, TRACKER_SMTP_URL=self.smtp_url)
        env.pop("TRACKER_DATABASE_URL", None)
        env.pop("TRACKER_CONFIG", None)
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tracker", "--config", str(self.config_path), "--db", self.url, "serve",
             "--host", "127.0.0.1", "--port", str(self.port)], cwd=self.workdir, env=env, stdout=self.log,
            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(self.base + "/signup", timeout=5) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise SystemExit(f"tracker serve did not start; its log:\n{self.log_path.read_text()}")
            time.sleep(0.2)

    def cpu_s(self) -> float:
        return proc_cpu_s(self.proc.pid) if self.proc else 0.0

    def problems(self) -> dict:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return {"tracebacks": text.count("Traceback (most recent call last)"),
                "database_locked": text.lower().count("database is locked"),
                "pool_timeouts": text.count("QueuePool limit"),
                "status_5xx": len(re.findall(r"status=5\d\d", text))}

    def log_size(self) -> int:
        self.log.flush()
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def access_ms(self, start: int, end: int) -> dict[str, list[float]]:
        """The server's own times (its access lines, ``ms=``) between two log offsets, per method and path."""
        with self.log_path.open("rb") as fh:
            fh.seek(start)
            text = fh.read(end - start).decode("utf-8", "replace")
        out: dict[str, list[float]] = defaultdict(list)
        for method, path, status, took in re.findall(r"access method=(\S+) path=([^?\s]+)\S* status=(\d+) ms=(\d+)",
                                                     text):
            out[f"{method} {path}"].append(int(took) / 1000)
        return out

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly on SIGINT
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if hasattr(self, "log"):
            self.log.close()


# --------------------------------------------------------------------------- the client


class Recorder:
    """Every request's (phase, kind, start, seconds, status, problem), from every user thread."""

    def __init__(self):
        self.rows: list[tuple[str, str, float, float, int, str | None]] = []
        self.lock = threading.Lock()
        self.lags: list[float] = []  # how long a supporter waited for a free user after her arrival time
        self.flags: list[tuple[str, str, str]] = []

    def add(self, phase: str, kind: str, t0: float, seconds: float, status: int, problem: str | None = None):
        with self.lock:
            self.rows.append((phase, kind, t0, seconds, status, problem))

    def times(self, phase: str, kind: str) -> list[float]:
        return [r[3] for r in self.rows if r[0] == phase and r[1] == kind]

    def flag(self, phase: str, kind: str, problem: str):
        """A problem seen in a page already timed (a wrong form, a missing 'thank you'): an error, not a request."""
        with self.lock:
            self.flags.append((phase, kind, problem))

    def problems(self, phase: str | None = None) -> list[tuple]:
        return [r for r in self.rows if r[5] and (phase is None or r[0] == phase)] + \
            [f for f in self.flags if phase is None or f[0] == phase]


def request(client, rec: Recorder, phase: str, kind: str, method: str, url: str, expect: str | None = None,
            **kw):
    """One timed request; a connection error, a status other than 200 or a page without ``expect`` is
    recorded as a problem. Returns the response or None."""
    t0 = time.perf_counter()
    try:
        r = client.request(method, url, **kw)
    except Exception as exc:  # a connection error or a timeout: an error of the run
        rec.add(phase, kind, t0, time.perf_counter() - t0, 0, f"{type(exc).__name__}: {exc}")
        return None
    seconds = time.perf_counter() - t0
    problem = None
    if r.status_code != 200:
        problem = f"status {r.status_code}"
    elif expect is not None and expect not in r.text:
        problem = f"page without {expect!r}"
    rec.add(phase, kind, t0, seconds, r.status_code, problem)
    return r


def run_paced(jobs: list[tuple[float, object]], users: int, make_client, rec: Recorder) -> float:
    """Run ``jobs`` ((offset s, job(client)) sorted by offset) on ``users`` threads, each job at its offset or
    as soon as a user is free; returns the wall time."""
    lock = threading.Lock()
    it = iter(jobs)
    start = time.perf_counter()

    def worker():
        client = make_client()
        try:
            while True:
                with lock:
                    nxt = next(it, None)
                if nxt is None:
                    return
                offset, job = nxt
                wait = start + offset - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                else:
                    with rec.lock:
                        rec.lags.append(-wait)
                client.cookies.clear()  # a new browser for each supporter
                job(client)
        finally:
            client.close()

    threads = [threading.Thread(target=worker, name=f"user-{k}") for k in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def run_closed(duration: float, users: int, make_client, job) -> tuple[float, int]:
    """``users`` threads doing ``job(client, k)`` back to back for ``duration`` s; (wall s, jobs done)."""
    stop = time.perf_counter() + duration
    done = [0] * users

    def worker(k: int):
        client = make_client()
        try:
            while time.perf_counter() < stop:
                job(client, done[k] * users + k)
                done[k] += 1
        finally:
            client.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, sum(done)


class Outcomes:
    """What the POSTs answered: letters written, already written, deferred, double-clicks."""

    def __init__(self):
        self.lock = threading.Lock()
        self.c = Counter()

    def add(self, key: str, n: int = 1):
        with self.lock:
            self.c[key] += n


def act(client, rec: Recorder, out: Outcomes, base: str, sp: dict, ask: str, token: str):
    """One supporter on one ask's page: GET her signed link (choose her districts first when none are stored),
    edit the letters, POST; a double-clicker POSTs twice at once."""
    phase = "asks"
    url = f"{base}/act/{ask}"
    r = request(client, rec, phase, "act GET", "GET", url, params={"token": token})
    if r is None or r.status_code != 200:
        return
    if ask == LETTER_ASK and sp["known"] == "none":
        if 'id="districts"' not in r.text or 'id="letter"' in r.text:
            rec.flag(phase, "act GET", "a supporter without districts got a letter form")
            return
        r = request(client, rec, phase, "act GET", "GET", url,
                    params={"token": token, "house_district": HOUSE[sp["house"]],
                            "senate_district": SENATE[sp["senate"]]})
        if r is None or r.status_code != 200:
            return
    fields = form_of(r.text, ask)
    if fields is None:
        rec.flag(phase, "act GET", f"no letter form on /act/{ask}")
        return
    codes = sorted(k.removeprefix("letter-") for k in fields if k.startswith("letter-"))
    expect = sorted(sp["expect"] if ask == LETTER_ASK else sp["expect_t"])
    if codes != expect:
        rec.flag(phase, "act GET", f"recipients {codes}, expected {expect}")
        return
    for k in list(fields):
        if k.startswith("letter-"):  # her own words: a line naming her and the office, checked at the sink
            fields[k] += f"\n\nbench-ref {sp['id']} {k.removeprefix('letter-')} {ask}"
    fields["town"] = sp["town"]
    if sp["public"]:
        fields["show_public"] = "yes"
    if not fields.get("first_name"):
        rec.flag(phase, "act GET", "the form did not fill in her name")
        return
    kind = "act POST" if ask == LETTER_ASK else "testify POST"

    def post(result: list):
        result.append(request(client, rec, phase, kind, "POST", url, data=fields))

    if sp["double"] and ask == LETTER_ASK:
        # two clicks at once: the same browser (cookie), two connections
        import httpx

        results: list = []
        other = httpx.Client(timeout=client.timeout, cookies=client.cookies)
        second = threading.Thread(target=lambda: results.append(
            request(other, rec, phase, kind, "POST", url, data=fields)))
        second.start()
        post(results)
        second.join()
        other.close()
        pages = [x.text for x in results if x is not None and x.status_code == 200]
        thanks = sum(THANKS in p for p in pages)
        already = sum(">Already sent<" in p for p in pages)
        out.add("double-clicks")
        if thanks == 1 and already == 1:
            out.add("double-clicks answered once")
        else:
            rec.flag(phase, kind, f"double click: {thanks} 'thank you', {already} 'already sent' pages "
                                  "(expected 1 and 1)")
        page = next((p for p in pages if "Thank you" in p), "")
    else:
        results = []
        post(results)
        res = results[0]
        if res is None or res.status_code != 200:
            return
        page = res.text
        if THANKS not in page:
            rec.flag(phase, kind, "no 'thank you' page: " +
                     re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split("<main", 1)[-1]))[:200])
            return
    out.add(f"{ask} submissions")
    if 'id="waiting"' in page:  # not sent within the page's wait: the rate, the server, or the day's limit
        out.add(f"{ask} pages saying 'waits in the outbox'")


# --------------------------------------------------------------------------- the checks


def wait_for_drain(url: str, timeout: float) -> tuple[float, dict]:
    """Wait until the outbox holds nothing due (queued now, or sending); returns (seconds waited, states)."""
    from sqlalchemy import func, select

    from db.engine import make_engine
    from db.models import OutboxMessage

    engine = make_engine(url)
    t0 = time.perf_counter()
    try:
        while True:
            now = datetime.now(timezone.utc)
            with engine.connect() as conn:
                due = conn.execute(select(func.count()).select_from(OutboxMessage).where(
                    (OutboxMessage.state == "sending") |
                    ((OutboxMessage.state == "queued") & (OutboxMessage.next_attempt_at <= now)))).scalar_one()
                states = dict(conn.execute(select(OutboxMessage.state, func.count())
                                           .group_by(OutboxMessage.state)).all())
            if not due or time.perf_counter() - t0 > timeout:
                return time.perf_counter() - t0, states | {"due": due}
            time.sleep(0.25)
    finally:
        engine.dispose()


def db_backends_cpu(url: str) -> dict[int, float]:
    """PostgreSQL on this machine: CPU s so far of each server backend connected to the database (empty for
    SQLite, whose work is in the server process)."""
    if not benchdb.is_server_url(url):
        return {}
    from db.engine import make_engine

    engine = make_engine(url)
    try:
        return benchdb.backend_cpu(engine)
    finally:
        engine.dispose()


def dispatch_like_tracker_run(url: str, config_path: Path, smtp_url: str, public_url: str) -> dict:
    """Deliver what is due in the outbox as ``tracker run``'s dispatch job does (``Application.deliver()``), in
    this process: the messages the pages left queued."""
    from tracker.application import Application, Environment

    app = Application(config_path=config_path, database_url=url,
                      env=Environment(smtp_url=smtp_url, secret_key=SECRET, public_url=public_url))
    t0 = time.perf_counter()
    try:
        report = app.deliver()
    finally:
        app.close()
    return {"seconds": time.perf_counter() - t0, **report.to_json()}


def check_database(url: str, world: dict, per_day: int) -> dict:
    """ask_letters and the outbox against what the supporters sent: each (supporter, ask, recipient) once, the
    number expected; per office, sent = min(limit, written) and the rest deferred to tomorrow."""
    from sqlalchemy import select

    from db.engine import make_engine
    from db.models import AskLetter, AskResponse, OutboxMessage

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            letters = conn.execute(select(AskLetter.subscriber_id, AskLetter.ask, AskLetter.recipient_code,
                                          AskLetter.recipient_addr, AskLetter.state, AskLetter.variant,
                                          OutboxMessage.state, OutboxMessage.next_attempt_at)
                                   .join(OutboxMessage, OutboxMessage.id == AskLetter.outbox_id)).all()
            responses = conn.execute(select(AskResponse.subscriber_id, AskResponse.ask, AskResponse.state)).all()
            copies = conn.execute(select(OutboxMessage.subscriber_id, OutboxMessage.state)
                                  .where(OutboxMessage.kind == "letter-copy")).all()
    finally:
        engine.dispose()
    problems = []
    by_key = Counter((r[0], r[1], r[2]) for r in letters)
    twice = sum(1 for v in by_key.values() if v > 1)
    if twice:
        problems.append(f"{twice} (supporter, ask, recipient) with more than one letter")
    expected = set()  # every supporter writes her letters, and the testimony when she testifies
    for sp in world["supporters"]:
        for ask, key in ((LETTER_ASK, "expect"), (TESTIMONY_ASK, "expect_t")):
            expected |= {(sp["id"], ask, code) for code in sp[key]}
    got = set(by_key)
    if got != expected:
        problems.append(f"letters: {len(got - expected)} unexpected, {len(expected - got)} missing")
    per_addr = defaultdict(Counter)
    tomorrow_ok = True
    now = datetime.now(timezone.utc)
    for sub, ask, code, addr, state, variant, out_state, next_at in letters:
        per_addr[addr][out_state] += 1
        if out_state == "queued":
            if next_at.tzinfo is None:
                next_at = next_at.replace(tzinfo=timezone.utc)
            tomorrow_ok &= next_at > now
        if (state == "sent") != (out_state == "sent"):
            problems.append(f"letter {sub}/{code}: ask_letters says {state}, the outbox {out_state}")
    offices = {"written": 0, "over": 0, "bad": []}
    for addr, c in per_addr.items():
        total = sum(c.values())
        if c["sent"] != min(per_day, total) or c["queued"] != total - c["sent"] or set(c) - {"sent", "queued"}:
            offices["bad"].append((addr, dict(c)))
        offices["over"] += total > per_day
    if offices["bad"]:
        problems.append(f"{len(offices['bad'])} offices with sent != min(limit, written): {offices['bad'][:3]}")
    if not tomorrow_ok:
        problems.append("a deferred letter is due before tomorrow")
    resp = Counter((r[1], r[2]) for r in responses)
    variants = Counter(r[5] for r in letters)
    submissions = sum(1 + sp["testify"] for sp in world["supporters"])
    copy_states = Counter(r[1] for r in copies)
    if len(copies) != submissions or copy_states.get("sent", 0) != len(copies):
        problems.append(f"{len(copies)} copies queued ({dict(copy_states)}) for {submissions} submissions")
    return {"letters": len(letters), "expected": len(expected), "states": dict(Counter(r[6] for r in letters)),
            "variants": dict(variants), "responses": {f"{a} {s}": v for (a, s), v in resp.items()},
            "copies": dict(copy_states), "offices": len(per_addr), "offices_over_limit": offices["over"],
            "max_per_office": max((sum(c.values()) for c in per_addr.values()), default=0),
            "deferred": sum(c["queued"] for c in per_addr.values()), "problems": problems}


def check_sink(sink: TimedSink, world: dict, since: float) -> dict:
    """The messages at the sink: letters counted per (envelope recipient, Reply-To, ask), each once, its text the
    supporter's; copies per supporter, one per submission. (A supporter whose own legislator chairs the committee
    and who testifies writes to that office twice: a letter and a testimony, two asks.)"""
    with sink.lock:
        records = [r for r in sink.records if r[0] >= since]
    by_email = {sp["email"]: sp for sp in world["supporters"]}
    offices = world["addresses"]
    pairs = Counter()
    copies = Counter()
    problems = []
    letters = 0
    for t, rcpt, raw in records:
        msg = email.message_from_bytes(raw, policy=default_policy)
        reply_to = parseaddr(str(msg.get("Reply-To", "")))[1].lower()
        if rcpt in offices:
            letters += 1
            body = msg.get_content()
            ref = re.search(r"bench-ref (\d+) (\S+) (\S+)", body)
            pairs[(rcpt, reply_to, ref.group(3) if ref else None)] += 1
            sp = by_email.get(reply_to)
            if sp is None or ref is None or int(ref.group(1)) != sp["id"] or offices[rcpt][0] != ref.group(2):
                problems.append(f"letter to {rcpt} Reply-To {reply_to}: not the text she wrote to this office")
            if msg.get("List-Unsubscribe"):
                problems.append(f"letter to {rcpt} has a List-Unsubscribe")
        elif rcpt in by_email:
            copies[rcpt] += 1
        else:
            problems.append(f"a message to an unknown address {rcpt}")
    twice = {k: v for k, v in pairs.items() if v > 1}
    if twice:
        problems.append(f"{len(twice)} (office, supporter, ask) received more than once: {list(twice.items())[:3]}")
    for sp in world["supporters"]:
        want = 1 + sp["testify"]
        if copies.get(sp["email"], 0) != want:
            problems.append(f"{sp['email']}: {copies.get(sp['email'], 0)} copies for {want} submissions")
            break
    times = sorted(r[0] for r in records)
    return {"messages": len(records), "letters": letters, "pairs": len(pairs), "copies": sum(copies.values()),
            "connections": sink.connections, "times": times, "problems": problems[:10],
            "problem_count": len(problems)}


def rate_figures(times: list[float], rate: float) -> dict:
    """Messages per second at the sink: mean over the sending span, the most in any 1 s window, and the
    bound a token bucket of ``rate`` (burst ``max(1, rate)``) allows in 1 s: burst + rate."""
    if not times:
        return {"span_s": 0.0, "mean": 0.0, "max_1s": 0, "bound_1s": 0}
    j, best = 0, 0
    for i, t in enumerate(times):
        while times[j] < t - 1.0:
            j += 1
        best = max(best, i - j + 1)
    span = times[-1] - times[0]
    burst = max(1.0, rate)
    # the sending seconds: 1 s buckets with at least one message
    busy = len({int(t - times[0]) for t in times})
    return {"span_s": span, "mean": len(times) / span if span > 0 else float(len(times)), "max_1s": best,
            "bound_1s": int(burst + rate), "busy_seconds": busy, "per_busy_second": len(times) / busy}


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--supporters", type=int, help="supporters who write (default 2000; --quick 200)")
    ap.add_argument("--window", type=float, help="seconds over which they arrive (default 600; --quick 60)")
    ap.add_argument("--users", type=int, default=8, help="concurrent users of the bounded client (default 8)")
    ap.add_argument("--quick", action="store_true", help="a smoke run: 200 supporters in 60 s")
    ap.add_argument("--rate", type=float, default=50.0, help="mail.messages_per_second (default 50)")
    ap.add_argument("--per-day", type=int, default=200, help="mail.asks_per_recipient_per_day (default 200)")
    ap.add_argument("--baseline-s", type=float, help="seconds of the paced baseline (default 60; --quick 15)")
    ap.add_argument("--capacity-s", type=float, default=10.0,
                    help="seconds of each closed-loop capacity run (default 10; 0: none)")
    ap.add_argument("--timeout", type=float, default=60.0, help="a request's timeout, an error (default 60 s)")
    ap.add_argument("--seed", type=int, default=19, help="seed of the world and the arrivals (default 19)")
    ap.add_argument("--db", metavar="PATH", type=Path, help="the SQLite file to create (must not exist; kept)")
    ap.add_argument("--db-url", "--database-url", dest="db_url", metavar="URL",
                    help="a PostgreSQL server: a fresh bench_asks_<UTC time>_<pid> database is created on it and "
                         "dropped at the end")
    ap.add_argument("--keep", action="store_true", help="keep the database and the working folder")
    ap.add_argument("--json", metavar="PATH", help="also write every figure as JSON")
    args = ap.parse_args(argv)
    n = args.supporters or (200 if args.quick else 2000)
    window = args.window or (60.0 if args.quick else 600.0)
    baseline_s = args.baseline_s if args.baseline_s is not None else (15.0 if args.quick else 60.0)
    import httpx

    m = search_bench.machine_info()
    print(f"machine: {m['cpu']}, nproc {m['nproc']} ({m['usable_cores']} usable), {m['memory_gb']} GB RAM, "
          f"{m['os']}; Python {m['python']}; httpx {httpx.__version__}; code {m['revision']}"
          + (f" + uncommitted changes in {', '.join(m['dirty'])}" if m["dirty"] else "")
          + f"; load average {search_bench.machine_load()}")
    print(f"{n:,} supporters in {window:.0f} s, {args.users} users at once; mail.messages_per_second {args.rate:g}, "
          f"mail.asks_per_recipient_per_day {args.per_day}")
    workdir = Path(tempfile.mkdtemp(prefix="asks-bench-"))
    result: dict = {"machine": m, "supporters": n, "window_s": window, "users": args.users, "rate": args.rate,
                    "per_day": args.per_day}
    failed: list[str] = []
    try:
        with benchdb.BenchDatabase("asks", path=args.db if not args.db_url else None,
                                   server_url=args.db_url, keep=args.keep) as bdb:
            session = live_session(datetime.now(timezone.utc))
            config_text = CONFIG.format(session=session, canonical=f"ma/{session}/{NUMBER}", rate=args.rate,
                                        per_day=args.per_day, letter=LETTER_ASK, testimony=TESTIMONY_ASK)
            config_path = workdir / "feeds.yaml"
            config_path.write_text(config_text)
            world = build_world(bdb.url, config_text, n, args.seed)
            sups = world["supporters"]
            kinds = Counter(sp["known"] for sp in sups)
            n_test = sum(sp["testify"] for sp in sups)
            n_double = sum(sp["double"] for sp in sups)
            per_senator = Counter(sp["senate"] for sp in sups if sp["known"] != "house")
            chairs = world["chairs"]
            chair_load = {b: n_test + sum(1 for sp in sups if b in [c for c in sp["expect"].values()])
                          for b in (chairs["House"][2], chairs["Senate"][2])}
            print(f"database: {world['database']['label']} at {bdb.where()}{benchdb.settings_note(world['database'])}")
            print(f"built in {world['build_s']:.1f} s: General Court {session}, {world['counts']['legislators']} "
                  f"legislators (160 House, 40 Senate districts), {world['canonical']} with a hearing on "
                  f"{world['hearing'][:16]}, {world['counts']['supporters']:,} active supporters: "
                  f"{kinds['both']:,} with both districts, {kinds['none']:,} with none (choose on the page), "
                  f"{kinds['house']:,} with the House district only; {n_test:,} also testify, {n_double:,} "
                  f"double-click")
            print(f"letters per office: Senators {min(per_senator.values())}-{max(per_senator.values())}, the "
                  f"chairs {', '.join(f'{v:,}' for v in chair_load.values())} (testimony + their district's "
                  f"letters), limit {args.per_day} a day")
            result["world"] = {k: v for k, v in world.items() if k not in ("supporters", "addresses")}
            with TimedSink() as sink:
                floor = smtp_floor(sink, 50)
                result["smtp_floor"] = floor
                print(f"raw SMTP floor (smtplib, connect + 3 messages + QUIT, 50 times): p50 {ms(floor['p50'])} ms, "
                      f"p95 {ms(floor['p95'])} ms")
                with Server(bdb.url, workdir, config_path, sink.url) as server:
                    print(f"tracker serve (uvicorn, one process) at {server.base}, pid {server.proc.pid}, "
                          f"{rss_mb(server.proc.pid):.0f} MB RSS after start; SMTP sink {sink.url}")

                    def make_client():
                        return httpx.Client(base_url=server.base, timeout=args.timeout,
                                            limits=httpx.Limits(max_connections=2, max_keepalive_connections=1))

                    rec = Recorder()
                    with make_client() as c:  # warm-up, not counted
                        for k in range(10):
                            c.get("/signup")
                            c.get("/")
                            c.get(f"/act/{LETTER_ASK}", params={"token": sups[k % n]["token"]})
                    # the baseline: a visitor GETs /signup then / at once on her connection, as a supporter GETs
                    # her page then POSTs; visitors arrive as the supporters will
                    rng = random.Random(args.seed + 1)
                    count = max(1, int((n + n_test) / window * baseline_s))
                    offsets = sorted(rng.uniform(0, baseline_s) for _ in range(count))

                    def visitor(c):
                        for path in ("/signup", "/"):
                            request(c, rec, "baseline", f"GET {path}", "GET", path, expect="</html>")

                    run_paced([(o, visitor) for o in offsets], args.users, make_client, rec)
                    rec.lags.clear()

                    # the asks
                    out = Outcomes()
                    rng = random.Random(args.seed + 2)
                    arrivals = sorted((rng.uniform(0, window), k) for k in range(n))
                    base = server.base

                    def supporter_job(sp):
                        def job(client):
                            act(client, rec, out, base, sp, LETTER_ASK, sp["token"])
                            if sp["testify"]:
                                act(client, rec, out, base, sp, TESTIMONY_ASK, sp["token_t"])
                        return job

                    jobs = [(o, supporter_job(sups[k])) for o, k in arrivals]
                    cpu0, srv0, busy0 = proc_cpu_s(), server.cpu_s(), search_bench.machine_busy_s()
                    db0 = db_backends_cpu(bdb.url)
                    sink_mark = time.monotonic()
                    with sink.lock:
                        sink.connections = 0
                    log0 = server.log_size()
                    load0 = search_bench.machine_load()
                    wall = run_paced(jobs, args.users, make_client, rec)
                    last_post = time.monotonic()
                    time.sleep(1.0)  # the access lines of the last answers
                    server_ms = server.access_ms(log0, server.log_size())
                    drain_wait, outbox = wait_for_drain(bdb.url, 5)
                    dispatched = None
                    if outbox["due"]:  # what the pages left queued: `tracker run`'s dispatch sends it
                        dispatched = dispatch_like_tracker_run(bdb.url, config_path, sink.url, server.base)
                        drain_wait, outbox = wait_for_drain(bdb.url, 5)
                    cpu = {"client_and_sink": proc_cpu_s() - cpu0, "server": server.cpu_s() - srv0,
                           "db_server": benchdb.backend_cpu_delta(db0, db_backends_cpu(bdb.url)),
                           "machine": search_bench.machine_busy_s() - busy0}
                    load1 = search_bench.machine_load()
                    sink_times = [r[0] for r in sink.records if r[0] >= sink_mark]
                    drain = max(0.0, (max(sink_times) if sink_times else last_post) - last_post)

                    # closed-loop capacity at the same concurrency, after the asks (the database holds them)
                    capacity = {}
                    if args.capacity_s > 0:
                        for label, path_of in (("GET /signup", lambda k: ("/signup", {})),
                                               ("act GET", lambda k: (f"/act/{LETTER_ASK}",
                                                                      {"token": sups[k % n]["token"]}))):
                            def job(client, k, label=label, path_of=path_of):
                                path, params = path_of(k)
                                request(client, rec, "capacity", label, "GET", path, params=params,
                                        expect="</html>")
                            seconds, count = run_closed(args.capacity_s, args.users, make_client, job)
                            capacity[label] = {"requests": count, "per_s": count / seconds,
                                               **stats(rec.times("capacity", label))}
                    result["server_log"] = problems = server.problems()
                    server_rss = rss_mb(server.proc.pid)

                # the figures
                db_check = check_database(bdb.url, world, args.per_day)
                sink_check = check_sink(sink, world, sink_mark)
                rates = rate_figures(sink_check.pop("times"), args.rate)
            result.update(cpu=cpu, outbox=outbox, drain_s=drain, drain_wait_s=drain_wait, wall_s=wall,
                          dispatched=dispatched, server_ms={k: stats(v) for k, v in server_ms.items()},
                          capacity=capacity, database=db_check, sink=sink_check, rates=rates,
                          outcomes=dict(out.c), server_rss_mb=server_rss)
            rows = {}
            print("\n| phase | request | count | p50 ms | p95 ms | p99 ms | max ms | errors |")
            print("|---|---|---:|---:|---:|---:|---:|---:|")
            for phase, kind in (("baseline", "GET /signup"), ("baseline", "GET /"), ("asks", "act GET"),
                                ("asks", "act POST"), ("asks", "testify POST")):
                times = rec.times(phase, kind)
                errs = sum(1 for r in rec.problems(phase) if r[1] == kind)
                rows[f"{phase} {kind}"] = s = stats(times) | {"errors": errs}
                print(f"| {phase} | {kind} | {s['n']:,} | {ms(s['p50'])} | {ms(s['p95'])} | {ms(s['p99'])} | "
                      f"{ms(s['max'])} | {errs} |")
            for label, cap in capacity.items():
                errs = sum(1 for r in rec.problems("capacity") if r[1] == label)
                print(f"| capacity (closed loop, {args.users} users, {args.capacity_s:g} s) | {label} | "
                      f"{cap['requests']:,} ({cap['per_s']:.0f}/s) | {ms(cap['p50'])} | {ms(cap['p95'])} | "
                      f"{ms(cap['p99'])} | {ms(cap['max'])} | {errs} |")
            for key, times in sorted(server_ms.items()):
                if key.startswith(("GET /act/", "POST /act/")):
                    st = stats(times)
                    print(f"| asks, the server's own time (access log) | {key} | {st['n']:,} | {ms(st['p50'])} | "
                          f"{ms(st['p95'])} | {ms(st['p99'])} | {ms(st['max'])} | |")
            result["pages"] = rows
            pages = sum(1 for r in rec.rows if r[0] == "asks")
            errors = rec.problems("asks") + rec.problems("baseline") + rec.problems("capacity")
            lags = rec.lags
            # per minute of the window: did the page times hold as the tables grew?
            t_first = min((r[2] for r in rec.rows if r[0] == "asks"), default=0.0)
            minutes = defaultdict(lambda: defaultdict(list))
            for phase, kind, t0, seconds, status, problem in rec.rows:
                if phase == "asks":
                    minutes[int((t0 - t_first) // 60)][kind].append(seconds)
            if len(minutes) > 1:
                print("\nper minute of the window (p95 ms): " + "; ".join(
                    f"{k}: GET {ms(pct(v['act GET'], 95))}, POST {ms(pct(v['act POST'], 95))}"
                    for k, v in sorted(minutes.items())))
            result["per_minute_p95"] = {k: {kk: pct(vv, 95) for kk, vv in v.items()} for k, v in minutes.items()}
            print(f"\nasks phase: {wall:.1f} s wall for a {window:.0f} s window; {pages:,} pages served "
                  f"({sum(1 for r in rec.rows if r[0] == 'asks' and 'GET' in r[1]):,} GET, "
                  f"{sum(1 for r in rec.rows if r[0] == 'asks' and 'POST' in r[1]):,} POST), "
                  f"{len(errors)} errors; a supporter waited for a free user {len(lags)} times "
                  f"(max {max(lags, default=0):.2f} s, p95 {pct(lags, 95):.2f} s)")
            oc = out.c
            waiting = sum(v for k, v in oc.items() if k.endswith("'waits in the outbox'"))
            print(f"submissions answered 'thank you': {oc[f'{LETTER_ASK} submissions']:,} letters, "
                  f"{oc[f'{TESTIMONY_ASK} submissions']:,} testimonies; double-clicks {oc['double-clicks']} "
                  f"(answered once: {oc['double-clicks answered once']}); pages saying the letters wait in the "
                  f"outbox: {waiting}")
            d = db_check
            print(f"ask_letters: {d['letters']:,} rows (expected {d['expected']:,}), outbox states {d['states']}, "
                  f"variants {d['variants']}; responses {d['responses']}; copies {d['copies']}; {d['offices']} "
                  f"offices written to, the most {d['max_per_office']} letters ({d['offices_over_limit']} over the "
                  f"limit of {args.per_day}: {d['deferred']} letters deferred to tomorrow)")
            s = sink_check
            print(f"sink: {s['messages']:,} messages on {s['connections']:,} SMTP connections: {s['letters']:,} "
                  f"letters to {s['pairs']:,} distinct (office, Reply-To, ask), {s['copies']:,} supporter copies")
            print(f"delivery rate at the sink: mean {rates['mean']:.1f} msg/s over {rates['span_s']:.0f} s "
                  f"({rates.get('per_busy_second', 0):.1f} per second with mail), the most in any 1 s "
                  f"{rates['max_1s']} (a bucket of {args.rate:g}/s allows {rates['bound_1s']}); configured "
                  f"{args.rate:g} msg/s")
            if dispatched:
                print(f"the pages left {dispatched['sent'] + dispatched['deferred']} messages queued; delivered as "
                      f"`tracker run`'s dispatch does in {dispatched['seconds']:.1f} s: {dispatched['sent']} sent, "
                      f"{dispatched['deferred']} deferred, {dispatched['failed']} failed")
            print(f"outbox drained {drain:.2f} s after the last POST was answered (waited {drain_wait:.2f} s for "
                  f"nothing due); outbox {outbox}")
            cpu["other"] = cpu["machine"] - cpu["server"] - cpu["client_and_sink"] - cpu["db_server"]
            db_cpu = f"{cpu['db_server']:.1f} s" if benchdb.is_server_url(bdb.url) else "in the server process"
            print(f"CPU during the asks phase: server {cpu['server']:.1f} s, this process (client + sink) "
                  f"{cpu['client_and_sink']:.1f} s, database server {db_cpu}, other processes {cpu['other']:.1f} s; "
                  f"the machine "
                  f"{cpu['machine']:.1f} s of {wall * (m['nproc'] or 1):.0f} core-s; load average {load0} → {load1}; "
                  f"server RSS {server_rss:.0f} MB")
            if cpu["other"] > 0.1 * wall:
                print("NOTE: other processes used more than 10% of a core during the asks phase: the page times "
                      "are pessimistic")
            print(f"server log: {problems['tracebacks']} tracebacks, {problems['status_5xx']} 5xx, "
                  f"{problems['database_locked']} 'database is locked', {problems['pool_timeouts']} pool timeouts")
            # verdict
            if errors:
                failed.append(f"{len(errors)} errors, e.g. {errors[:3]}")
            if any(problems.values()):
                failed.append(f"server log: {problems}")
            failed += d["problems"] + s["problems"]
            expected_letters_sent = d["expected"] - d["deferred"]
            if s["letters"] != expected_letters_sent:
                failed.append(f"{s['letters']} letters at the sink, expected {expected_letters_sent}")
            if s["pairs"] != s["letters"]:
                failed.append("a letter reached an office twice")
            if rates["max_1s"] > rates["bound_1s"]:
                failed.append(f"{rates['max_1s']} messages in one second: above the rate's bound "
                              f"{rates['bound_1s']}")
            if oc["double-clicks"] != oc["double-clicks answered once"]:
                failed.append("a double click was not answered once")
            if wall > window * 1.05 + 30:
                failed.append(f"the asks took {wall:.0f} s, more than the {window:.0f} s window")
            for f in failed:
                print(f"FAILED: {f}")
            print("no error, each letter once, every check passed" if not failed else "FAILED")
    finally:
        if args.keep:
            print(f"kept the working folder {workdir} (serve.log, feeds.yaml)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    result["failed"] = failed
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
