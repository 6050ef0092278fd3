"""A supporter's alert body is rendered once per batch for every supporter it fits and personalised with her own
links (``Composer.supporter``): every byte of every message equals what rendering each in full gives."""

from __future__ import annotations

import itertools
import zlib
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

import alerts.compose as compose
import alerts.mime as mime
import alerts.render as render
from alerts.dispatch import compose_due
from alerts.subscribers import subscribe
from db.models import Bill, Delivery, OutboxMessage
from tests.alerts_world import KEY, add_action, add_hearing, settings_of
from tests.asks_world import BILL, HOUSE, SENATE, build, cfg, now

PEOPLE = [  # email, name, frequency, followed bills ([]: the whole campaign), House district, Senate district
    ("ana@example.org", "Ana Lopes", "immediate", [BILL], HOUSE, SENATE),
    ("ben@example.org", "Ben Chen", "immediate", [BILL], HOUSE, SENATE),  # the same body as Ana's
    ("zoe@example.org", "Zoë Ñúñez-Ødegård", "immediate", [BILL], HOUSE, SENATE),
    ("li@example.org", "李小龍", "immediate", [], HOUSE, SENATE),
    ("quote@example.org", 'Mary "Molly" O\'Brien', "daily", [BILL], HOUSE, SENATE),
    ("dev@example.org", "Dev Patel", "daily", [BILL], None, None),  # districts unknown: a letter page offered
    ("wen@example.org", "Wen", "weekly", [BILL], "First Barnstable", SENATE),  # another Representative
    ("nameless@example.org", None, "weekly", [], None, None),
    ("uma@example.org", "Uma Haddad", "immediate", [BILL], "First Barnstable", SENATE),
    ("sam@example.org", "Sam Tran", "immediate", [BILL], None, None),
]


def _outbox(sessions) -> dict[str, tuple[str, bytes]]:
    with sessions() as s:
        return {to: (subject, zlib.decompress(body)) for to, subject, body in s.execute(
            select(OutboxMessage.to_addr, OutboxMessage.subject, OutboxMessage.body).order_by(OutboxMessage.id))}


def _compose(sessions, settings, at, monkeypatch) -> dict[str, tuple[str, bytes]]:
    """Compose for everyone (Message-IDs and MIME boundaries numbered from 1, so two runs can be compared)."""
    ids, boundaries = itertools.count(1), itertools.count(1)
    monkeypatch.setattr(render, "make_msgid", lambda domain: f"<{next(ids)}@{domain}>")
    monkeypatch.setattr(mime.secrets, "token_hex", lambda n: f"{next(boundaries):0{2 * n}d}")
    compose_due(settings, sessions, at, kinds=("supporters",))
    out = _outbox(sessions)
    with sessions.begin() as s:
        s.execute(delete(Delivery))
        s.execute(delete(OutboxMessage))
    return out


def _full(self, sub, topics, kind, events):
    """The reference: each message rendered in full, as before bodies were shared."""
    subject, ctx = self._supporter_context(sub, topics, kind, events)
    return self._message(sub, subject, "alert", ctx)


@pytest.mark.parametrize("hearing_in", [timedelta(hours=30), timedelta(days=6)], ids=["urgent", "next-week"])
def test_a_body_rendered_once_gives_every_byte_of_every_message_rendering_each_gives(sessions, monkeypatch,
                                                                                       hearing_in):
    build(sessions, hearing_in=hearing_in)
    c = cfg(mail="  reply_to: \"Campaign Office <office@example.org>\"\n")
    settings = settings_of(c, KEY)
    with sessions.begin() as s:
        for email, name, frequency, bills, house, senate in PEOPLE:
            subscribe(s, settings, email, bills=bills, name=name, frequency=frequency, house_district=house,
                      senate_district=senate, confirmed=True, now=now() - timedelta(days=1))
        bill = s.scalar(select(Bill).where(Bill.canonical == BILL))
        add_action(s, bill, "Hearing scheduled for next week", ["hearing-scheduled"], now().date(), at=now())
        add_hearing(s, bill, now() + hearing_in, at=now())
    at = now() + timedelta(minutes=1)
    renders = []
    real_render_html = compose.render_html
    monkeypatch.setattr(compose, "render_html", lambda *a: renders.append(a) or real_render_html(*a))
    shared = _compose(sessions, settings, at, monkeypatch)
    rendered_once = len(renders)
    monkeypatch.setattr(compose.Composer, "supporter", _full)
    reference = _compose(sessions, settings, at, monkeypatch)

    assert len(reference) >= 8 and set(shared) == set(reference)
    assert rendered_once < len(reference)  # some bodies were shared
    for to in reference:
        assert shared[to] == reference[to], to
    # each has her own links, not another supporter's
    ana, ben = shared["ana@example.org"][1], shared["ben@example.org"][1]
    assert ana != ben and b"zqxlink" not in ana and b"zqxlink" not in ben


def test_templates_of_mail_templates_are_rendered_for_each_message(sessions, tmp_path, monkeypatch):
    """An override may show anything of the supporter's (here her name): no body is shared then."""
    build(sessions)
    text = open(f"{render.PACKAGE_TEMPLATES}/alert.txt", encoding="utf-8").read()
    (tmp_path / "alert.txt").write_text("Dear {{ subscriber.name }},\n" + text, encoding="utf-8")
    c = cfg(mail=f"  templates: {tmp_path}\n")
    settings = settings_of(c, KEY)
    with sessions.begin() as s:
        for email, name in (("ana@example.org", "Ana Lopes"), ("ben@example.org", "Ben Chen")):
            subscribe(s, settings, email, bills=[BILL], name=name, frequency="immediate", house_district=HOUSE,
                      senate_district=SENATE, confirmed=True, now=now() - timedelta(days=1))
        bill = s.scalar(select(Bill).where(Bill.canonical == BILL))
        add_hearing(s, bill, now() + timedelta(days=2), at=now())
    out = _compose(sessions, settings, now() + timedelta(minutes=1), monkeypatch)
    assert b"Dear Ana Lopes," in out["ana@example.org"][1] and b"Dear Ben Chen," in out["ben@example.org"][1]
