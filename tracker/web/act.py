"""The ask pages (``/act/NAME``): a supporter arrives from her alert with a signed link (her name and districts
filled in), sees who will receive her letter, edits it and sends it; a visitor who is not a subscriber writes
too, and her letters go once she has confirmed her address (``/act/confirm``).

Forms carry the sign-up's CSRF pair (a cookie and its HMAC); no JavaScript is needed. What the letters say and
whom they reach is decided again on every POST from the stored directory, never taken from the form: a form
names the recipients' member codes only to say which text goes to whom.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from alerts.addresses import BadAddress, normalise_email
from alerts.ask_letters import (Author, BadLetter, Queued, author_from, author_of, clean_letter, confirm_message,
                                draft, hold, queue)
from alerts.ask_offer import KIND_TITLES, Offer, covered_bills, covers, offer
from alerts.asks import Supporter
from alerts.context import ContextCache
from alerts.outbox import enqueue, exists
from alerts.settings import AskSpec
from alerts.tokens import BadToken, make_token, read_token
from db.asks import recent_participants, sent_count
from db.bills import find_bill
from db.directory import districts
from db.models import AskResponse, Legislator, Subscriber
from db.supporters import find_supporter
from tracker.web.choices import FIND_MY_LEGISLATOR
from tracker.web.common import render
from tracker.web.forms import parse_form, read_body
from tracker.web.signup import COOKIE, csrf_field, csrf_ok, with_cookie

router = APIRouter(include_in_schema=False)
MAX_FORM = 128 * 1024  # three letters of 10,000 characters, percent-encoded, and the rest
PER_IP = (20, 3600.0)  # visitors' letters per client address per hour
PER_ADDRESS = (5, 86400.0)  # per email address per day


@dataclass
class Visitor:
    """Who is on the page: a supporter from a signed link (``sub``), or a visitor (``sub`` None)."""

    sub: Subscriber | None = None
    token: str | None = None
    bill: str | None = None  # the bill the alert was about
    event_id: int | None = None
    via: str | None = None


def _app(request: Request):
    application = request.app.state.application
    return application, application.settings


def _not_found(request: Request):
    return render(request, "page.html", status=404, title="There is no such page",
                  message="This letter page does not exist (any more). The campaign's pages are listed on the home "
                          "page.", link="/", link_text="Back to the bills")


def _visitor(request: Request, s, spec: AskSpec, token: str | None, now: datetime) -> Visitor:
    """The supporter a signed link names; a link for another ask, forged or expired raises BadToken."""
    if not token:
        return Visitor()
    payload = read_token(request.app.state.key, token, "act", now)
    if payload.get("a") != spec.name:
        raise BadToken("this link is for another page")
    sub = find_supporter(s, payload["s"])
    if sub is None:  # removed since: she may still write, as a visitor
        return Visitor(bill=payload.get("b"))
    s.expunge(sub)
    return Visitor(sub, token, payload.get("b"), payload.get("e"), payload.get("k"))


def _offers(s, spec: AskSpec, cache: ContextCache, supporter: Supporter, wanted: str | None) -> list[Offer]:
    """What the ask offers now, per bill it covers (a dead bill's through its heir), each bill once; only
    ``wanted`` when it is given and covered."""
    bills = covered_bills(s, spec)
    if wanted:
        bills = [b for b in bills if b.canonical == wanted] or (
            [b] if (b := find_bill(s, wanted)) is not None and covers(s, spec, b.canonical) else [])
    out, seen = [], set()
    for b in bills:
        found = offer(s, spec, cache.bill(b.id), supporter, cache)
        key = found.bill.canonical if found.bill is not None else f"none:{b.canonical}"
        if key not in seen:
            seen.add(key)
            out.append(found)
    return out


def _capital(exc: Exception) -> str:
    """A token's complaint ("this link has expired; ask for a new one") as the start of a sentence."""
    text = str(exc)
    return text[:1].upper() + text[1:]


def _split_name(name: str | None) -> tuple[str, str]:
    first, _, last = (name or "").strip().partition(" ")
    return first, last.strip()


def _page(request: Request, spec: AskSpec, who: Visitor, values: dict, *, error: str | None = None,
          status: int = 200, letters: dict[str, str] | None = None):
    """The ask's page for ``values`` (bill, districts, name, town, ...): recipients, letters, the form."""
    application, settings = _app(request)
    now = application.clock()
    cookie = request.cookies.get(COOKIE) or secrets.token_urlsafe(24)
    with request.app.state.sessions() as s:
        cache = ContextCache(s, settings.tz, now)
        supporter = Supporter(values.get("house_district") or None, values.get("senate_district") or None)
        offers = _offers(s, spec, cache, supporter, who.bill or values.get("bill") or None)
        live = [o for o in offers if o.bill is not None]
        sent, supporters = sent_count(s, spec.name)
        participants = recent_participants(s, spec.name)
        ctx = {"spec": spec, "heading": spec.title or KIND_TITLES[spec.kind], "values": values, "error": error,
               "token": who.token, "signed": who.sub is not None, "sent": sent, "supporters": supporters,
               "participants": participants, "find_my_legislator": FIND_MY_LEGISLATOR,
               "csrf": csrf_field(request.app.state.key, cookie), "choices": [], "offer": None, "drafts": {},
               "districts": {"House": [], "Senate": []}, "reasons": [o.missing for o in offers if o.bill is None]}
        if len(live) > 1 and not values.get("bill"):
            base = {k: v for k, v in (("token", who.token), ("house_district", values.get("house_district")),
                                      ("senate_district", values.get("senate_district"))) if v}
            ctx["choices"] = [{"number": o.bill.number, "title": o.bill.title,
                               "url": f"/act/{spec.name}?" + urlencode(base | {"bill": o.bill.canonical})}
                              for o in live]
        elif live:
            found = live[0]
            author = Author(values.get("first_name") or "", values.get("last_name") or "", values.get("town") or None)
            ctx["offer"] = found
            ctx["drafts"] = {r.code: (letters or {}).get(r.code) or draft(found, r, author, settings.campaign.name)
                             for r in found.reachable}
            ctx["districts"] = districts(s, found.bill.session)
        response = render(request, "act.html", status=status, **ctx)
    return with_cookie(request, response, cookie if COOKIE not in request.cookies else None)


@router.get("/act/confirm")
def confirm_page(request: Request, token: str = ""):
    """A visitor's link from her email: what will be sent, and the button that sends it (a POST: mail scanners
    open links)."""
    application, settings = _app(request)
    try:
        payload = read_token(request.app.state.key, token, "act-confirm", application.clock())
    except BadToken as exc:
        return render(request, "page.html", status=400, title="This link does not work", message=_capital(exc) + ".")
    with request.app.state.sessions() as s:
        row = s.get(AskResponse, payload.get("r"))
        if row is None or row.subscriber_id != payload.get("s"):
            return render(request, "page.html", status=404, title="Nothing to send",
                          message="These letters are no longer on file.")
        if row.state != "unconfirmed":
            return render(request, "page.html", title="Already sent",
                          message="Your letters were sent when you first confirmed; nothing is sent twice.")
        drafts = dict(row.drafts or {})
        session = int(row.bill.split("/")[1]) if row.bill.count("/") == 2 else None
        people = {code: (name, branch) for code, name, branch in s.execute(
            select(Legislator.member_code, Legislator.name, Legislator.branch)
            .where(Legislator.session == session, Legislator.member_code.in_(list(drafts))))}
    letters = [{"to": f"{'Senator' if (people.get(code, ('', ''))[1] or '').lower() == 'senate' else 'Representative'} "
                      f"{people[code][0]}" if code in people else None, "text": text} for code, text in drafts.items()]
    return render(request, "act_confirm.html", token=token, letters=letters, count=len(drafts))


@router.post("/act/confirm")
async def confirm_post(request: Request):
    body = await read_body(request, MAX_FORM)
    return await run_in_threadpool(_confirm, request, body)


def _confirm(request: Request, body: bytes):
    application, settings = _app(request)
    now = application.clock()
    form = parse_form(body[:MAX_FORM])
    try:
        payload = read_token(request.app.state.key, form.get("token", ""), "act-confirm", now)
    except BadToken as exc:
        return render(request, "page.html", status=400, title="This link does not work", message=_capital(exc) + ".")
    for attempt in (1, 2):
        try:
            with request.app.state.sessions.begin() as s:
                row = s.get(AskResponse, payload.get("r"))
                sub = s.get(Subscriber, payload.get("s"))
                if row is None or sub is None or row.subscriber_id != sub.id:
                    return render(request, "page.html", status=404, title="Nothing to send",
                                  message="These letters are no longer on file.")
                if row.state != "unconfirmed":
                    return render(request, "page.html", title="Already sent",
                                  message="Your letters were sent when you first confirmed; nothing is sent twice.")
                spec = settings.ask(row.ask)
                bill = find_bill(s, row.bill)
                if spec is None or bill is None:
                    return render(request, "page.html", status=410, title="This letter page has closed",
                                  message="The campaign no longer collects these letters; nothing was sent.")
                cache = ContextCache(s, settings.tz, now)
                found = offer(s, spec, cache.bill(bill.id), Supporter(row.house_district, row.senate_district), cache)
                if found.bill is None or found.occasion != row.occasion or not found.reachable:
                    return render(request, "page.html", status=410, title="Too late for this letter",
                                  message=(found.missing or "What you wrote about has passed.") + " Nothing was sent.")
                letters = {r.code: (row.drafts or {}).get(r.code) for r in found.reachable}
                letters = {code: text for code, text in letters.items() if text}
                found.recipients = [r for r in found.recipients if r.code in letters]
                if sub.status == "pending":
                    sub.status, sub.confirmed_at = "active", now
                out = queue(s, settings, found, sub, author_of(row), letters, now, response=row,
                            districts=(row.house_district, row.senate_district))
            break
        except IntegrityError:
            if attempt == 2:
                raise
    return _sent_page(request, application, found, out)


@router.get("/act/{name}")
def act_page(request: Request, name: str, token: str | None = None, bill: str | None = None,
             house_district: str | None = None, senate_district: str | None = None):
    application, settings = _app(request)
    spec = settings.ask(name)
    if spec is None:
        return _not_found(request)
    with request.app.state.sessions() as s:
        try:
            who = _visitor(request, s, spec, token, application.clock())
        except BadToken as exc:
            return render(request, "page.html", status=400, title="This link does not work",
                          message=f"{_capital(exc)}. You can still write from the page itself.", link=f"/act/{spec.name}",
                          link_text="Open the letter page")
    first, last = _split_name(who.sub.name if who.sub else None)
    values = {"bill": bill or who.bill or "", "first_name": first, "last_name": last, "town": "", "email": "",
              "house_district": house_district if house_district is not None else
              (who.sub.house_district if who.sub else "") or "",
              "senate_district": senate_district if senate_district is not None else
              (who.sub.senate_district if who.sub else "") or ""}
    return _page(request, spec, who, values)


@router.post("/act/{name}")
async def act_post(request: Request, name: str):
    body = await read_body(request, MAX_FORM)
    return await run_in_threadpool(_send, request, name, body)


def _send(request: Request, name: str, body: bytes):
    app = request.app
    application, settings = _app(request)
    now = application.clock()
    if len(body) > MAX_FORM:
        return render(request, "page.html", status=413, title="Too much",
                      message="That form was too large: keep each letter under 10,000 characters.")
    form = parse_form(body)
    cookie = request.cookies.get(COOKIE, "")
    if not csrf_ok(app.state.key, cookie, form.get("csrf", "")):
        return render(request, "page.html", status=403, title="Please try again",
                      message="This form has expired or did not come from this site: open the letter page again.",
                      link=f"/act/{name}", link_text="Open the letter page")
    spec = settings.ask(name)
    if spec is None:
        return _not_found(request)
    with app.state.sessions() as s:
        try:
            who = _visitor(request, s, spec, form.get("token") or None, now)
        except BadToken as exc:
            return render(request, "page.html", status=400, title="This link does not work",
                          message=f"{_capital(exc)}. Nothing was sent.", link=f"/act/{spec.name}",
                          link_text="Open the letter page")
    values = {k: form.get(k, "").strip() for k in ("bill", "first_name", "last_name", "town", "email",
                                                   "house_district", "senate_district")}
    values["bill"] = who.bill or values["bill"]
    values["show_public"] = form.get("show_public") == "yes"
    typed = {k.removeprefix("letter-"): v for k, v in form.items() if k.startswith("letter-")}

    def again(message: str, status: int = 400):
        return _page(request, spec, who, values, error=message, status=status, letters=typed)

    try:
        author = author_from(values["first_name"], values["last_name"], values["town"], values["show_public"])
    except BadLetter as exc:
        return again(str(exc))
    districts_given = (values["house_district"] or None, values["senate_district"] or None)
    with app.state.sessions() as s:
        cache = ContextCache(s, settings.tz, now)
        offers = [o for o in _offers(s, spec, cache, Supporter(*districts_given), values["bill"] or None)
                  if o.bill is not None]
    if len(offers) != 1:
        return again("Choose the bill your letter is about." if offers else
                     "There is nothing to write about now; nothing was sent.", 400 if offers else 410)
    found = offers[0]
    if not found.reachable:
        return again(found.missing or "No one can receive this letter now; nothing was sent.")
    if any(r.code not in typed for r in found.reachable):  # the directory changed since the page was shown
        return again("Who receives this letter has changed since the page was opened: check the letters below "
                     "and send again. Nothing was sent.", 409)
    try:
        letters = {r.code: clean_letter(typed.get(r.code), f"{r.title} {r.name}") for r in found.reachable}
    except BadLetter as exc:
        return again(str(exc))
    if who.sub is None:
        return _hold_for_visitor(request, spec, who, values, found, author, letters, districts_given, now, again)
    for attempt in (1, 2):
        try:
            with app.state.sessions.begin() as s:
                sub = s.get(Subscriber, who.sub.id)
                if not (sub.house_district or sub.senate_district) and any(districts_given):
                    sub.house_district, sub.senate_district = districts_given  # her alerts name them from now on
                out = queue(s, settings, found, sub, author, letters, now, districts=districts_given,
                            alert_event_id=who.event_id, via=who.via)
            break
        except IntegrityError:  # the same letters, sent at the same moment by a second click: none twice
            if attempt == 2:
                raise
    return _sent_page(request, application, found, out)


def _hold_for_visitor(request, spec, who, values, found, author, letters, districts_given, now, again):
    app = request.app
    application, settings = _app(request)
    client = request.client.host if request.client else "unknown"
    if not app.state.rate_limits.allow(f"act-ip:{client}", *PER_IP):
        return again("Too many letters from your network in the last hour; please try again later.", 429)
    try:
        address = normalise_email(values["email"])
    except BadAddress as exc:
        return again(f"Your email address: {exc}. We send a link there that sends your letter.")
    if not app.state.rate_limits.allow(f"act-email:{address}", *PER_ADDRESS):
        return again("This address has written several letters today; check its inbox for our email.", 429)
    with app.state.sessions.begin() as s:
        sub = s.scalar(select(Subscriber).where(Subscriber.email == address, Subscriber.role == "supporter")) or \
            s.scalar(select(Subscriber).where(Subscriber.email == address, Subscriber.role == "visitor"))
        if sub is None:
            sub = Subscriber(email=address, name=author.name, role="visitor", status="pending", frequency="daily",
                             source="web", start_event_id=0, created_at=now)
            s.add(sub)
            s.flush()
        row = hold(s, found, sub, author, letters, now, districts_given)
        token = make_token(app.state.key, "act-confirm", sub.id, now, r=row.id)
        url = f"{settings.public_url}/act/confirm?" + urlencode({"token": token})
        period = f"r{row.id}:{now.astimezone(settings.tz).date().isoformat()}"
        ids = []
        if not exists(s, sub.id, "ask-confirm", period):
            ids.append(enqueue(s, sub, "ask-confirm", period,
                               confirm_message(settings, address, author, found, url, now), now).id)
    if ids:
        request.app.state.courier.kick()
        request.app.state.courier.wait_for(ids)
    return render(request, "page.html", title="Check your email",
                  message=f"We sent a link to {address}. Your letter goes to "
                          f"{', '.join(f'{r.title} {r.name}' for r in found.reachable)} when you open it and press "
                          "the button there.")


def _sent_page(request: Request, application, found: Offer, out: Queued):
    """What was sent: the page waits a few seconds for its own messages (the courier sends them) to say whether
    they left or wait in the outbox (the mail server down, or the office's letters for the day reached)."""
    states = {}
    if out.outbox_ids:
        courier = request.app.state.courier
        courier.kick()
        states = courier.wait_for(out.outbox_ids)
    waiting = any(state in ("queued", "sending") for state, _ in states.values())
    return render(request, "act_sent.html", offer=found, written=out.written, already=out.already, waiting=waiting)
