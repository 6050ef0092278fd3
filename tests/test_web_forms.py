"""How the web pages read a POSTed form (``tracker.web.forms``): what Starlette's ``request.form()`` would change
for users stays as it was: any Content-Type read as urlencoded, multipart not read, raw bytes as UTF-8, the whole
body's limit, blank values kept, a repeated key's last value."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select
from starlette.requests import Request

from alerts.transport import MaildirTransport
from db.models import Subscriber, Subscription
from tests.alerts_world import KEY, add_bill, application, config, live_session
from tracker.web.app import create_app
from tracker.web.forms import read_body
from tracker.web.signup import MAX_FORM

LIVE = live_session()


@pytest.fixture
def client(sessions, tmp_path):
    with sessions.begin() as s:
        add_bill(s, "H135", session=LIVE)
    app = create_app(application(config(), sessions, KEY,
                                 transport_factory=lambda: MaildirTransport(tmp_path / "outbox")))
    loop = asyncio.new_event_loop()
    c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 5555)), base_url="http://t")
    yield lambda method, url, **kw: loop.run_until_complete(c.request(method, url, **kw))
    loop.run_until_complete(c.aclose())
    loop.close()


def _csrf(client) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', client("GET", "/signup").text).group(1)


def _signed_up(sessions) -> Subscriber | None:
    with sessions() as s:
        return s.scalar(select(Subscriber))


def test_raw_utf8_bytes_and_a_post_without_content_type_are_read_as_before(client, sessions):
    csrf = _csrf(client)
    body = f"csrf={csrf}&email=jose@example.org&name=José Núñez&frequency=daily&frequency=weekly".encode()
    r = client("POST", "/signup", content=body)  # curl -d sends raw UTF-8; this one sends no Content-Type at all
    assert r.status_code == 200 and "Check your email" in r.text
    sub = _signed_up(sessions)
    assert (sub.name, sub.frequency) == ("José Núñez", "weekly")  # UTF-8, not Latin-1; the last value wins


def test_bad_utf8_is_replaced_and_blank_values_are_kept(client, sessions):
    csrf = _csrf(client)
    body = f"csrf={csrf}&email=ann@example.org&name=Ann%FF&bill=ma/{LIVE}/H135&frequency=daily&house_district="
    r = client("POST", "/signup", content=(body + "&senate_district").encode(),
               headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    assert r.status_code == 200, r.text
    sub = _signed_up(sessions)
    assert sub.name == "Ann\N{REPLACEMENT CHARACTER}" and (sub.house_district, sub.senate_district) == (None, None)
    with sessions() as s:
        assert list(s.scalars(select(Subscription.topic))) == [f"bill:ma/{LIVE}/H135"]


def test_a_multipart_post_is_not_read_as_a_form(client, sessions):
    csrf = _csrf(client)
    r = client("POST", "/signup", data={"csrf": csrf, "email": "jane@example.org", "frequency": "weekly"},
               files={"name": ("name.txt", b"Jane")})
    assert r.status_code == 403 and "did not come from this site" in r.text  # no page takes a file
    assert _signed_up(sessions) is None


def test_a_form_over_the_limit_is_refused_whole(client, sessions):
    csrf = _csrf(client)
    body = urlencode({"csrf": csrf, "email": "jane@example.org", "name": "x" * MAX_FORM}).encode()
    r = client("POST", "/signup", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and "That form was too large" in r.text
    assert _signed_up(sessions) is None


@pytest.mark.parametrize("chunks", [[b"a" * 10] * 1000, [b"a=1&b=2"], [], [b"a" * 99, b"bc", b"d" * 500]])
def test_a_body_is_kept_up_to_one_byte_past_the_limit_and_read_to_its_end(chunks):
    sent = []

    async def receive():
        if len(sent) == len(chunks):
            return {"type": "http.request", "body": b"", "more_body": False}
        sent.append(chunks[len(sent)])
        return {"type": "http.request", "body": sent[-1], "more_body": True}

    request = Request({"type": "http", "method": "POST", "headers": [], "path": "/", "query_string": b""}, receive)
    body = asyncio.run(read_body(request, 100))
    assert body == b"".join(chunks)[:101] and len(sent) == len(chunks)  # nothing left unread on the connection

