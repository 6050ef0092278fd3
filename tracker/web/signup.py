"""The sign-up form: email, bills or the whole campaign, frequency, and optional districts (from the
legislature's directory), then the confirmation email (double opt-in).

CSRF: a random cookie, and in the form an HMAC of it under the app's key; a POST whose field does
not match its cookie is refused, and another site can neither read our cookie nor forge the HMAC.
Rate limits: per client address and per email address, in the database (``db.ratelimits``), so that every worker
of ``tracker serve --workers N`` counts against the same limit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from datetime import datetime, timedelta, timezone
from typing import Callable
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from alerts.addresses import BadAddress, normalise_email
from alerts.dispatch import queue_confirmation
from alerts.choices import check_offered
from alerts.subscribers import FREQUENCIES, BadSubscription, subscribe
from alerts.tokens import make_token
from db import ratelimits
from tracker.web.choices import form_choices
from tracker.web.common import MAIL_WAIT_S, render
from tracker.web.forms import parse_form, read_body

router = APIRouter(include_in_schema=False)
COOKIE = "tracker_csrf"
PER_IP = (5, 3600.0)  # sign-ups per client address per hour
PER_ADDRESS = (3, 86400.0)  # per email address per day
MAX_FORM = 16 * 1024


class RateLimiter:
    """Sliding windows of recent hits per key, in the database: shared by every process of one database."""

    PRUNE_EVERY = 1000  # hits; then the keys not hit for two days (past every window) are dropped

    def __init__(self, sessions, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.sessions, self.clock = sessions, clock
        self._count = 0
        self._lock = threading.Lock()

    def allow(self, key: str, limit: int, window: float) -> bool:
        now = self.clock()
        with self._lock:
            self._count += 1
            prune = self._count % self.PRUNE_EVERY == 0
        if prune:
            ratelimits.forget_before(self.sessions, now - timedelta(days=2))
        return ratelimits.allow(self.sessions, key, limit, window, now)


def csrf_field(key: bytes, cookie: str) -> str:
    return hmac.new(key, b"csrf:" + cookie.encode(), hashlib.sha256).hexdigest()


def csrf_ok(key: bytes, cookie: str | None, given: str) -> bool:
    """The form's field matches the cookie, compared in constant time (as bytes: a field with non-ASCII
    characters is a mismatch, not a TypeError)."""
    return bool(cookie) and hmac.compare_digest(csrf_field(key, cookie).encode(), given.encode("utf-8", "replace"))


def _form_context(request: Request, values: dict, error: str | None = None):
    """The form's choices (``choices.form_choices``) and what the visitor typed; the whole campaign is ticked
    until they choose bills."""
    with request.app.state.sessions() as s:
        ctx = form_choices(s, request.app.state.application, datetime.now(timezone.utc))
    values = values | {"bills": values.get("bills") or ["campaign"]}
    return ctx | {"values": values, "error": error}


def with_cookie(request: Request, response, cookie: str | None):
    if cookie is None:
        return response
    response.set_cookie(COOKIE, cookie, httponly=True, samesite="strict", max_age=7200,
                        secure=request.url.scheme == "https")
    return response


@router.get("/signup")
def signup_form(request: Request):
    cookie = request.cookies.get(COOKIE) or secrets.token_urlsafe(24)
    ctx = _form_context(request, {"frequency": "daily", "bills": []})
    response = render(request, "signup.html", csrf=csrf_field(request.app.state.key, cookie), **ctx)
    return with_cookie(request, response, cookie if COOKIE not in request.cookies else None)


@router.post("/signup")
async def signup_post(request: Request):
    """Read the body here, do the rest in a worker thread: the database work and the confirmation's
    delivery (an SMTP exchange) must not hold up every other request of this process."""
    body = await read_body(request, MAX_FORM)
    return await run_in_threadpool(_signup, request, body)


def _subscribe_once_or_twice(app, address: str, chosen: list[str], values: dict, now: datetime):
    """Two sign-ups of one address at the same moment: the loser of the race on the unique address
    finds the winner's row when it tries again, and adds its choices to it."""
    for attempt in (1, 2):
        try:
            with app.state.sessions.begin() as s:
                check_offered(s, app.state.application.settings, chosen, now)
                out = subscribe(s, app.state.application.settings, address, bills=chosen, name=values["name"] or None,
                                frequency=values["frequency"], house_district=values["house_district"] or None,
                                senate_district=values["senate_district"] or None, source="web", now=now)
                row = (queue_confirmation(s, app.state.application.settings, out.subscriber, now)
                       if out.needs_confirmation else None)
                return (row.id if row is not None else None), out.subscriber.id, out.subscriber.status
        except IntegrityError:
            if attempt == 2:
                raise


def _signup(request: Request, body: bytes):
    app = request.app
    if len(body) > MAX_FORM:
        return render(request, "page.html", status=413, title="Too much", message="That form was too large.")
    form = parse_form(body)
    one = {k: v.strip() for k, v in form.items()}
    values = {"email": one.get("email", ""), "name": one.get("name", ""), "frequency": one.get("frequency", "daily"),
              "bills": form.getlist("bill"), "house_district": one.get("house_district", ""),
              "senate_district": one.get("senate_district", "")}
    cookie = request.cookies.get(COOKIE, "")
    if not csrf_ok(app.state.key, cookie, one.get("csrf", "")):
        return render(request, "page.html", status=403, title="Please try again",
                      message="This form has expired or did not come from this site: open the sign-up page again.")

    def refuse(message: str, status: int = 400):
        ctx = _form_context(request, values, message)
        return render(request, "signup.html", status=status, csrf=one.get("csrf", ""), **ctx)

    client = request.client.host if request.client else "unknown"
    if not app.state.rate_limits.allow(f"ip:{client}", *PER_IP):
        return refuse("Too many sign-ups from your network in the last hour; please try again later.", 429)
    try:
        address = normalise_email(values["email"])
    except BadAddress as exc:
        return refuse(str(exc))
    if not app.state.rate_limits.allow(f"email:{address}", *PER_ADDRESS):
        return refuse("This address was signed up several times today; check its inbox for our email.", 429)
    if values["frequency"] not in FREQUENCIES:
        return refuse(f"Choose how often: {', '.join(FREQUENCIES)}.")
    chosen = [] if "campaign" in values["bills"] else values["bills"]
    now = datetime.now(timezone.utc)
    try:
        row_id, sub_id, status = _subscribe_once_or_twice(app, address, chosen, values, now)
    except BadSubscription as exc:
        return refuse(str(exc))
    if row_id is not None:
        app.state.application.deliver(only_ids=[row_id], max_wait=MAIL_WAIT_S)
    if status == "active":
        prefs = "/preferences?" + urlencode({"token": make_token(app.state.key, "preferences", sub_id, now)})
        return render(request, "page.html", title="You are already subscribed",
                      message="Your new choices were added to your alerts.", link=prefs,
                      link_text="See your preferences")
    return render(request, "page.html", title="Check your email",
                  message=f"We sent a confirmation link to {address}. Your alerts start when you open it.")
