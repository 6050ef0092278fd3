"""A world for the ask tests: the sitting General Court's H.1946 in the Joint Committee on the Judiciary with a
hearing next week, the committee's chairs, a supporter's own Representative (who co-sponsors H.1946) and
Senator (who does not), an ask of each kind, and the web app in front of it."""

from __future__ import annotations

import asyncio
import email
import re
from datetime import datetime, timedelta, timezone
from email.policy import default

import httpx

from alerts.subscribers import subscribe
from db.models import Committee, Legislator
from tests.alerts_world import CONFIG, KEY, add_bill, add_hearing, application, config, live_session
from tracker.config import parse_config
from tracker.web.app import create_app

LIVE = live_session()
BILL = f"ma/{LIVE}/H1946"
HOUSE, SENATE = "Twenty-Fourth Middlesex", "Second Middlesex"
PEOPLE = {  # code: (name, branch, district, email)
    "MSD1": ("Michael S. Day", "House", "Thirty-First Middlesex", "michael.day@mahouse.gov"),
    "JBE0": ("James B. Eldridge", "Senate", "Middlesex and Worcester", "james.eldridge@masenate.gov"),
    "DMR1": ("Dave Rogers", "House", HOUSE, "dave.rogers@mahouse.gov"),
    "PDJ0": ("Patricia D. Jehlen", "Senate", SENATE, "patricia.jehlen@masenate.gov"),
    "NOM1": ("Nobody Mailable", "House", "First Barnstable", None),
}
ASKS = f"""
asks:
  - name: write-your-legislators
    kind: letter
    bills: [{BILL}]
    subject: "Please support {{{{ bill.label }}}}"
    letter: |
      Dear {{{{ recipient.title }}}} {{{{ recipient.name }}}},

      I live in the {{{{ recipient.district }}}} district. Please support {{{{ bill.label }}}}, {{{{ bill.title }}}}.

      Sincerely,
    thanks: |
      Dear {{{{ recipient.title }}}} {{{{ recipient.name }}}},

      Thank you for co-sponsoring {{{{ bill.label }}}}. Please keep pushing for a vote.

      Sincerely,
  - name: testify
    kind: testimony
    bills: [{BILL}]
    subject: "Testimony in support of {{{{ bill.label }}}}"
    letter: |
      Dear Chairs of the {{{{ committee }}}},

      I write in support of {{{{ bill.label }}}}, heard on {{{{ hearing.when }}}}.
  - name: call-the-chairs
    kind: chairs
    subject: "Report {{{{ bill.label }}}} favorably"
    letter: |
      Dear {{{{ recipient.name }}}}, please report {{{{ bill.label }}}} favorably.
"""


def now() -> datetime:
    return datetime.now(timezone.utc)


def build(sessions, hearing_in: timedelta | None = timedelta(days=6), people=PEOPLE, with_chairs: bool = True):
    """The bill, its hearing, the directory; returns the hearing's start."""
    starts = (now() + hearing_in).replace(microsecond=0) if hearing_in is not None else None
    with sessions.begin() as s:
        bill = add_bill(s, "H1946", session=LIVE, title="An Act to regulate face surveillance",
                        petitioners=[{"name": "Dave Rogers", "member_code": "DMR1"}], sponsor="Dave Rogers",
                        sponsor_code="DMR1", position="support")
        if starts is not None:
            add_hearing(s, bill, starts, at=now() - timedelta(hours=1))
        s.add(Committee(session=LIVE, code="J19", full_name="Joint Committee on the Judiciary", short_name="Judiciary",
                        branch="Joint", house_chair_code="MSD1" if with_chairs else None,
                        senate_chair_code="JBE0" if with_chairs else None, fetched_at=now()))
        for code, (name, branch, district, addr) in people.items():
            s.add(Legislator(session=LIVE, member_code=code, name=name, branch=branch, district=district, email=addr,
                             phone="617-722-2000", fetched_at=now()))
    return starts


def cfg(extra: str = "", mail: str = ""):
    """The configuration with the asks; ``mail``: more keys of its ``mail:`` section (indented lines)."""
    if not mail:
        return config(ASKS + extra)
    assert "\nmail:\n" in CONFIG
    return parse_config(CONFIG.replace("\nmail:\n", "\nmail:\n" + mail.rstrip("\n") + "\n") + ASKS + extra,
                        "test-feeds.yaml")


def supporter(sessions, cfg_, email_addr="jane@example.org", name="Jane Doe", house=HOUSE, senate=SENATE,
              frequency="immediate"):
    from tests.alerts_world import settings_of
    with sessions.begin() as s:
        out = subscribe(s, settings_of(cfg_), email_addr, bills=[BILL], name=name, frequency=frequency,
                        house_district=house, senate_district=senate, confirmed=True, now=now() - timedelta(days=1))
        return out.subscriber.id


class Client:
    """The web app over ASGI, as one browser (its cookies kept)."""

    def __init__(self, app_):
        self.app = app_
        self.loop = asyncio.new_event_loop()
        self.c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app_, client=("203.0.113.7", 5555)),
                                   base_url="http://test")

    def __call__(self, method, url, **kw):
        return self.loop.run_until_complete(self.c.request(method, url, **kw))

    def close(self):
        self.loop.run_until_complete(self.c.aclose())
        self.loop.close()


def client(sessions, cfg_, transport_factory) -> Client:
    return Client(create_app(application(cfg_, sessions, KEY, transport_factory=transport_factory,
                                         public_url="http://127.0.0.1:8000")))


def form_of(page_text: str) -> dict:
    """The fields of the letter form as the page gives them (hidden fields, the drafted letters)."""
    form = re.search(r'<form method="post" action="/act/[^"]+" id="letter">(.*?)</form>', page_text, re.S).group(1)
    fields = {m.group(1): _unescape(m.group(2)) for m in re.finditer(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form)}
    for m in re.finditer(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        fields[m.group(1)] = _unescape(m.group(2))
    for m in re.finditer(r'<input type="text" id="([^"]+)" name="[^"]+" value="([^"]*)"', form):
        fields[m.group(1)] = _unescape(m.group(2))
    return fields


def _unescape(text: str) -> str:
    import html
    return html.unescape(text)


def parse(raw) -> email.message.EmailMessage:
    return raw if isinstance(raw, email.message.Message) else email.message_from_bytes(raw, policy=default)
