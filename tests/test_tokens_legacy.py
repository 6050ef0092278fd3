"""Links already sent keep working after the token format changed (issue 21): itsdangerous signs new links, and
links signed the old way (HMAC-SHA256 of the body under the key itself) are accepted until they expire."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone

import pytest

from alerts.subscribers import subscribe
from alerts.tokens import BadToken, make_token, read_token
from db.models import Subscriber
from tests.alerts_world import KEY, application, config, settings_of
from tests.web_client import caller
from tracker.web.app import create_app

# Made by the code of main at 8e817d4 (before itsdangerous), key OLD_KEY, at MADE, for subscriber 42.
OLD_KEY = b"old-links-key-0123456789abcdef"
MADE = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)
SENT = {
    "unsubscribe": "eyJleHAiOjE4Mjk3NDY4MDAsImlhdCI6MTc5NTE4NjgwMCwicCI6InVuc3Vic2NyaWJlIiwicyI6NDJ9"
                   ".gIe6dgjvoK3f3Sj7dF43gje2_cl6v-gF8FTpgr7yRRE",
    "preferences": "eyJleHAiOjE4Mjk3NDY4MDAsImlhdCI6MTc5NTE4NjgwMCwicCI6InByZWZlcmVuY2VzIiwicyI6NDJ9"
                   ".4R_FRKAyDn4KF9JWUvSgBMYC36_x8o_IptpNKqYsF1M",
    "confirm": "eyJleHAiOjE3OTU3OTE2MDAsImlhdCI6MTc5NTE4NjgwMCwicCI6ImNvbmZpcm0iLCJzIjo0Mn0"
               ".JP1oKMyNOGOVWzV2BdYhMXWatW98nNiKjV2yhCEEAaQ",
    "act": "eyJhIjoid3JpdGUteW91ci1sZWdpc2xhdG9ycyIsImV4cCI6MTgwMDM3MDgwMCwiaWF0IjoxNzk1MTg2ODAwLCJwIjoiYWN0IiwicyI6NDJ9"
           ".BZ1XWHQ73dXWY32raH6DgRFGeNPswsErKZ2_1wLTQT8",
}
LIFE = {"unsubscribe": 400, "preferences": 400, "confirm": 7, "act": 60}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def legacy_token(key: bytes, purpose: str, subscriber_id: int, now: datetime, days: int) -> str:
    """A link signed the old way, written out here so the test does not lean on the code it checks."""
    payload = {"p": purpose, "s": subscriber_id, "iat": int(now.timestamp()),
               "exp": int((now + timedelta(days=days)).timestamp())}
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return body + "." + _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())


@pytest.mark.parametrize("purpose", sorted(SENT))
def test_links_sent_by_the_old_code_are_read_until_they_expire(purpose):
    payload = read_token(OLD_KEY, SENT[purpose], purpose, MADE + timedelta(days=LIFE[purpose], seconds=-1))
    assert payload["s"] == 42 and payload["p"] == purpose
    if purpose == "act":
        assert payload["a"] == "write-your-legislators"
    with pytest.raises(BadToken, match="expired"):
        read_token(OLD_KEY, SENT[purpose], purpose, MADE + timedelta(days=LIFE[purpose], seconds=1))
    with pytest.raises(BadToken, match="^this link is for another page$"):
        read_token(OLD_KEY, SENT[purpose], "follow", MADE)
    with pytest.raises(BadToken, match="signature"):
        read_token(b"another key", SENT[purpose], purpose, MADE)
    other = SENT["preferences" if purpose != "preferences" else "unsubscribe"].split(".")[0]
    with pytest.raises(BadToken, match="signature"):  # another body under this link's old signature
        read_token(OLD_KEY, other + "." + SENT[purpose].split(".")[1], purpose, MADE)


def test_new_links_are_signed_by_itsdangerous_not_the_old_way():
    token = make_token(KEY, "unsubscribe", 7, MADE)
    body, sig = token.split(".")
    assert sig != _b64(hmac.new(KEY, body.encode(), hashlib.sha256).digest())
    assert read_token(KEY, token, "unsubscribe", MADE)["s"] == 7
    # the old signature over a new body is still one of ours (that is the legacy path), and a mix of the two is not
    assert read_token(KEY, legacy_token(KEY, "unsubscribe", 7, MADE, 400), "unsubscribe", MADE)["s"] == 7
    with pytest.raises(BadToken, match="signature"):
        read_token(KEY, body + "." + sig[:-2] + ("AA" if sig[-2:] != "AA" else "BB"), "unsubscribe", MADE)


@pytest.fixture
def web(sessions):
    return caller(create_app(application(config(), sessions, KEY)))


@pytest.fixture
def jane(sessions):
    with sessions.begin() as s:
        return subscribe(s, settings_of(config()), "jane@example.org", bills=["H.135"],
                         now=datetime.now(timezone.utc)).subscriber.id


def _status(sessions, sid):
    with sessions() as s:
        return s.get(Subscriber, sid).status


def test_an_old_confirm_and_an_old_unsubscribe_link_still_work_in_the_web_app(web, sessions, jane):
    now = datetime.now(timezone.utc) - timedelta(days=1)
    confirm = legacy_token(KEY, "confirm", jane, now, 7)
    page = web("GET", f"/confirm?token={confirm}")
    assert page.status_code == 200 and "You are subscribed" in page.text and _status(sessions, jane) == "active"
    leave = legacy_token(KEY, "unsubscribe", jane, now - timedelta(days=300), 400)
    r = web("POST", f"/unsubscribe?token={leave}", content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and "no more alerts" in r.text and _status(sessions, jane) == "unsubscribed"
    stale = legacy_token(KEY, "unsubscribe", jane, now - timedelta(days=401), 400)
    assert web("GET", f"/unsubscribe?token={stale}").status_code == 400


@pytest.mark.parametrize("token", ["abc.\u00e9", "\u00e9.abc", "eyJw.sig\u2028"])
def test_a_link_with_characters_no_token_has_is_malformed_not_an_error(token):
    # a non-ASCII signature made the constant-time comparison raise TypeError (a 500 page)
    with pytest.raises(BadToken, match="malformed"):
        read_token(KEY, token, "confirm", MADE)


def test_a_non_ascii_token_in_a_link_is_a_clear_400(web):
    r = web("GET", "/confirm?token=abc.%C3%A9")
    assert r.status_code == 400 and "This link does not work" in r.text
