"""Signed, expiring tokens for the links in emails (confirm, unsubscribe, preferences).

A token is ``base64url(json payload) . signature``. itsdangerous signs it: HMAC-SHA256 under a key derived from
``TRACKER_SECRET_KEY`` and the salt ``tracker.link``, compared in constant time. The payload names its purpose,
so an unsubscribe token can never confirm an address, and carries its expiry.

Links sent before itsdangerous signed them carry the legacy signature, HMAC-SHA256 of the body under the key
itself. ``read_token`` still accepts those: the longest-lived of them (400 days) were all made before the release
of 2026-12-05, so ``_legacy_signature`` can go in a release after 2028-01-09.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone

from itsdangerous import BadSignature, Signer

LIFETIMES = {"confirm": timedelta(days=7), "unsubscribe": timedelta(days=400), "preferences": timedelta(days=400),
             "follow": timedelta(days=30),  # follow: a staff digest's link to follow a discovered bill
             "successor": timedelta(days=30),  # successor: a staff digest's link to accept or reject a successor
             "act": timedelta(days=60),  # act: an alert's link to an ask's page, with the supporter's name and districts
             "act-confirm": timedelta(days=7)}  # act-confirm: a visitor's link that sends the letters she wrote
SALT = "tracker.link"
MAX_LENGTH = 2000


class BadToken(ValueError):
    """A token that is malformed, forged, for another purpose, or expired. The message says which."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signer(key: bytes) -> Signer:
    return Signer(key, salt=SALT, key_derivation="hmac", digest_method=hashlib.sha256)


def _legacy_signature(key: bytes, body: str) -> str:
    """The signature of links made before itsdangerous signed them (see the module docstring)."""
    return _b64(hmac.new(key, body.encode("ascii", "replace"), hashlib.sha256).digest())


def make_token(key: bytes, purpose: str, subscriber_id: int, now: datetime | None = None, **extra) -> str:
    now = now or datetime.now(timezone.utc)
    payload = {"p": purpose, "s": subscriber_id, "iat": int(now.timestamp()),
               "exp": int((now + LIFETIMES[purpose]).timestamp())} | extra
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return _signer(key).sign(body).decode("ascii")


def _verified_body(key: bytes, token: str) -> str:
    try:
        return _signer(key).unsign(token).decode("ascii")
    except (BadSignature, UnicodeDecodeError):
        body, _, sig = token.partition(".")
        if hmac.compare_digest(_legacy_signature(key, body), sig):
            return body
    raise BadToken("this link is not one we sent (its signature does not match)")


def read_token(key: bytes, token: str, purpose: str, now: datetime | None = None) -> dict:
    """The payload of a valid token for ``purpose``, in either signature format; BadToken otherwise."""
    body, dot, sig = (token or "").partition(".")
    if not dot or not body or not sig or "." in sig or len(token) > MAX_LENGTH or not token.isascii():
        raise BadToken("this link is incomplete or malformed; copy the whole link from the email")
    body = _verified_body(key, token)
    try:
        payload = json.loads(_unb64(body))
    except (ValueError, UnicodeDecodeError):
        raise BadToken("this link is malformed") from None
    if not isinstance(payload, dict) or payload.get("p") != purpose:
        raise BadToken("this link is for another page")  # its purpose is an internal name: not shown
    now = now or datetime.now(timezone.utc)
    if now.timestamp() > payload.get("exp", 0):
        raise BadToken("this link has expired; ask for a new one")
    return payload
