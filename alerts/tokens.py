"""Signed, expiring tokens for the links in emails (confirm, unsubscribe, preferences).

A token is ``base64url(json payload) . base64url(HMAC-SHA256)`` under
``TRACKER_SECRET_KEY``. The payload names its purpose, so an unsubscribe token
can never confirm an address; signatures are compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone

LIFETIMES = {"confirm": timedelta(days=7), "unsubscribe": timedelta(days=400), "preferences": timedelta(days=400),
             "follow": timedelta(days=30),  # follow: a staff digest's link to follow a discovered bill
             "successor": timedelta(days=30),  # successor: a staff digest's link to accept or reject a successor
             "act": timedelta(days=60),  # act: an alert's link to an ask's page, with the supporter's name and districts
             "act-confirm": timedelta(days=7)}  # act-confirm: a visitor's link that sends the letters she wrote


class BadToken(ValueError):
    """A token that is malformed, forged, for another purpose, or expired. The message says which."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_token(key: bytes, purpose: str, subscriber_id: int, now: datetime | None = None, **extra) -> str:
    now = now or datetime.now(timezone.utc)
    payload = {"p": purpose, "s": subscriber_id, "iat": int(now.timestamp()),
               "exp": int((now + LIFETIMES[purpose]).timestamp())} | extra
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    sig = _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest())
    return f"{body}.{sig}"


def read_token(key: bytes, token: str, purpose: str, now: datetime | None = None) -> dict:
    """The payload of a valid token for ``purpose``; BadToken otherwise."""
    body, dot, sig = (token or "").partition(".")
    if not dot or not body or not sig or len(token) > 2000:
        raise BadToken("this link is incomplete or malformed; copy the whole link from the email")
    expected = _b64(hmac.new(key, body.encode("ascii", "replace"), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, sig):
        raise BadToken("this link is not one we sent (its signature does not match)")
    try:
        payload = json.loads(_unb64(body))
    except (ValueError, UnicodeDecodeError):
        raise BadToken("this link is malformed") from None
    if payload.get("p") != purpose:
        raise BadToken("this link is for another page")  # its purpose is an internal name: not shown
    now = now or datetime.now(timezone.utc)
    if now.timestamp() > payload.get("exp", 0):
        raise BadToken("this link has expired; ask for a new one")
    return payload
