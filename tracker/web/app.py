"""``tracker serve``: the web app. This module holds the factory and the routes every email
links to: confirm a subscription, unsubscribe (RFC 8058 one-click POST, and a page with a
button for a plain GET, so a link scanner that opens the link unsubscribes no one), and
the preferences page. A signed token in the URL authorises each of them (it is the CSRF
protection of these forms: another site cannot know it). The archive pages, the sign-up
form and the JSON API are in ``pages``, ``signup`` and ``api``, the Atom and iCal feeds in ``syndication``;
``errors`` turns every failure into a clear page.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime, timezone
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from alerts.choices import save_preferences
from alerts.subscribers import BadSubscription, active_topics, confirm, unsubscribe
from alerts.tokens import BadToken, make_token, read_token
from alerts.wording import evidence_words
from db.bills import find_bill
from db.documents import find_document
from db.models import Subscriber
from db.successors import find as find_successor
from db.supporters import find_supporter
from spiders.billids import BadBillId, dotted, ordinal
from tracker.application import Application
from tracker.following import CannotFollow, track
from tracker.successors.decide import CannotDecide, decide
from tracker.web import act, api, apidocs, bill_view, compare, pages, signup, syndication
from tracker.web.choices import form_choices, saved_words
from tracker.web.common import TEMPLATES
from tracker.web.courier import Courier
from tracker.web.errors import install_error_handlers
from tracker.web.forms import parse_form, read_body
from tracker.web.pagecache import MAX_PAGES, PageCache

MAX_FORM = 16 * 1024


def _topic_words(topic: str, campaign: str) -> str:
    return f"every bill of {campaign}" if topic == "campaign" else dotted(topic)


def create_app(application: Application, page_cache: int = MAX_PAGES) -> FastAPI:
    """The whole web app of a configured ``Application`` (its sessions, key, public URL and mail transport);
    ``page_cache``: how many rendered public pages it keeps (0: none, every page is built for each request)."""
    courier = Courier(application)  # sends what the ask pages queue, one message at a time

    @asynccontextmanager
    async def lifespan(_app):
        yield
        await run_in_threadpool(courier.close)  # the letter on the wire finishes; the rest stays queued

    app = FastAPI(title="ma-bill-tracker", version="1", docs_url=None, redoc_url=None, lifespan=lifespan,
                  openapi_url="/api/openapi.json",
                  description="The public archive: bills, their actions and events, the coverage, search.")
    config = application.config_or_defaults()
    app.state.application = application
    app.state.sessions = sessions = application.sessions
    app.state.config = config
    app.state.key = key = application.secret_key
    app.state.public_url = application.public_url
    app.state.public_url_given = application.public_url if application.public_url_given else None

    app.state.rate_limits = signup.RateLimiter(sessions)
    app.state.courier = courier
    if page_cache > 0:  # the bill page's clock (tests move it)
        app.state.page_cache = PageCache(clock=lambda: bill_view.utc_now(), max_pages=page_cache)
    app.include_router(syndication.router)  # first: /bills/H.135/feed.atom is a feed, not a bill page
    app.include_router(compare.router)  # before pages: /bills/192/H5091/compare/... is not a bill page
    app.include_router(pages.router)
    app.include_router(signup.router)
    app.include_router(act.router)
    app.include_router(api.router)
    apidocs.install(app, app.openapi_url, app.title)
    install_error_handlers(app)

    def page(title: str, status: int = 200, **ctx) -> HTMLResponse:
        html = TEMPLATES.get_template("page.html").render(title=title, campaign=config.campaign, **ctx)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    def refused(exc: BadToken) -> HTMLResponse:
        return page("This link does not work", 400, message=str(exc))

    async def signed_form(request: Request, purpose: str) -> tuple[FormData, str, dict] | HTMLResponse:
        """The POSTed form of a page an email links to, its token and the token's payload; or the answer
        that refuses it (too large, or a token that is not ours, for another purpose, or expired)."""
        body = await read_body(request, MAX_FORM)
        if len(body) > MAX_FORM:
            return page("Too much", 413, message="that form was too large")
        form = parse_form(body)
        token = form.get("token", "")
        try:
            return form, token, read_token(key, token, purpose, now())
        except BadToken as exc:
            return refused(exc)

    def staff_member(s, payload: dict) -> Subscriber | None:
        """The staff member a staff digest's link was sent to, if still on the staff list."""
        sub = s.get(Subscriber, payload["s"])
        return sub if sub is not None and sub.role == "staff" else None

    not_staff = BadToken("this link was sent to a staff address that is no longer on the list")

    def now() -> datetime:
        return datetime.now(timezone.utc)

    @app.get("/confirm", response_class=HTMLResponse, include_in_schema=False)
    def confirm_route(token: str = ""):
        try:
            with sessions.begin() as s:
                sub = confirm(s, key, token, now())
                topics = [_topic_words(t, config.campaign.name) for t in active_topics(s, sub.id)]
        except BadToken as exc:
            return refused(exc)
        prefs = "/preferences?" + urlencode({"token": make_token(key, "preferences", sub.id, now())})
        return page("You are subscribed", message=f"Thank you: you will get {sub.frequency} alerts about "
                                                  f"{', '.join(topics)}. Every email has a link to change or stop them.",
                    link=prefs, link_text="Change your preferences")

    @app.get("/unsubscribe", response_class=HTMLResponse, include_in_schema=False)
    def unsubscribe_page(token: str = ""):
        try:
            payload = read_token(key, token, "unsubscribe", now())
        except BadToken as exc:
            return refused(exc)
        what = _topic_words(payload["t"], config.campaign.name) if payload.get("t") else "everything"
        return page("Unsubscribe?", message=f"Stop alerts about {what}?", form_action=f"/unsubscribe?{urlencode({'token': token})}",
                    button="Unsubscribe")

    @app.post("/unsubscribe", response_class=HTMLResponse, include_in_schema=False)
    def unsubscribe_post(token: str = ""):
        # RFC 8058: the body is "List-Unsubscribe=One-Click"; the token in the URL is what authorises it.
        try:
            with sessions.begin() as s:
                sub, topic = unsubscribe(s, key, token, now())
                left = [_topic_words(t, config.campaign.name) for t in active_topics(s, sub.id)]
        except BadToken as exc:
            return refused(exc)
        if topic:
            return page("Unsubscribed", message=f"You will get no more alerts about "
                                                f"{_topic_words(topic, config.campaign.name)}. You still follow "
                                                f"{', '.join(left)}.")
        return page("Unsubscribed", message="You will get no more alerts from us.")

    def preferences_view(token: str, saved: str | None = None, error: str | None = None, status: int = 200,
                         values: dict | None = None) -> HTMLResponse:
        try:
            payload = read_token(key, token, "preferences", now())
        except BadToken as exc:
            return refused(exc)
        with sessions() as s:
            sub = find_supporter(s, payload["s"])
            if sub is None:
                return refused(BadToken("this subscription no longer exists"))
            ctx = form_choices(s, application, now())
            held = [t.removeprefix("bill:") for t in active_topics(s, sub.id)]
            offered = {b.id for b in ctx["bills"]}
            ctx["held"] = [held_bill(s, b) for b in held if b != "campaign" and b not in offered]
            values = values or {"bills": held, "frequency": sub.frequency, "house_district": sub.house_district,
                                "senate_district": sub.senate_district}
            html = TEMPLATES.get_template("preferences.html").render(
                campaign=config.campaign, request_path="/preferences", token=token, email=sub.email,
                status=sub.status, saved=saved, error=error, values=values,
                everything="/unsubscribe?" + urlencode({"token": make_token(key, "unsubscribe", sub.id, now())}), **ctx)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    def held_bill(s, canonical: str) -> dict:
        bill = find_bill(s, canonical)
        return {"id": canonical, "number": dotted(canonical), "title": bill.title if bill else None}

    @app.get("/preferences", response_class=HTMLResponse, include_in_schema=False)
    def preferences(token: str = ""):
        return preferences_view(token)

    @app.post("/preferences", response_class=HTMLResponse, include_in_schema=False)
    async def preferences_post(request: Request):
        got = await signed_form(request, "preferences")
        if isinstance(got, HTMLResponse):
            return got
        form, token, payload = got
        values = {"bills": form.getlist("bill"), "frequency": form.get("frequency", ""),
                  "house_district": form.get("house_district", "").strip() or None,
                  "senate_district": form.get("senate_district", "").strip() or None}
        return await run_in_threadpool(save_choices, token, payload["s"], values)

    def save_choices(token: str, subscriber_id: int, values: dict) -> HTMLResponse:
        """In a worker thread (database work); two saves at once that add the same bill: the second, refused by
        the unique topic, is tried again and finds the first's row."""
        for attempt in (1, 2):
            try:
                with sessions.begin() as s:
                    done = save_preferences(s, application.settings, subscriber_id, frequency=values["frequency"],
                                            bills=values["bills"], house_district=values["house_district"],
                                            senate_district=values["senate_district"], now=now())
                break
            except BadSubscription as exc:
                return preferences_view(token, error=f"Nothing was saved: {exc}", status=400, values=values)
            except IntegrityError:
                if attempt == 2:
                    raise
        return preferences_view(token, saved=saved_words(done, config.campaign.name))

    def follow_view(token: str, message: str | None = None, status: int = 200) -> HTMLResponse:
        try:
            payload = read_token(key, token, "follow", now())
        except BadToken as exc:
            return refused(exc)
        with sessions() as s:
            doc = find_document(s, payload.get("d", ""))
            if doc is None:
                return refused(BadToken("this link names a document the docket no longer has"))
            number = dotted(doc.number or doc.docket or "")
            bill = find_bill(s, doc.canonical)
            followed = bill is not None and bill.tracked
        title = f"Follow {number}?" if not followed else f"{number} is followed"
        text = message or (f"{number}: {doc.title or 'no title yet'}" + (f", filed by {doc.sponsor}" if doc.sponsor else "")
                           + (f". It is followed, with the position {bill.position}." if followed else
                              ". Choose the campaign's position; supporters hear of it unless you only watch it."))
        return page(title, status, message=text, follow={
            "token": token, "number": number, "position": (bill.position if followed else None) or "watch",
            "positions": (("support", "support it"), ("oppose", "oppose it"), ("watch", "watch it (staff only)"))})

    @app.get("/follow", response_class=HTMLResponse, include_in_schema=False)
    def follow(token: str = ""):
        # a page that asks: mail scanners open every link of a message, so only the POST below acts
        return follow_view(token)

    @app.post("/follow", response_class=HTMLResponse, include_in_schema=False)
    async def follow_post(request: Request):
        got = await signed_form(request, "follow")
        if isinstance(got, HTMLResponse):
            return got
        form, token, payload = got
        position = form.get("position", "")
        with sessions.begin() as s:
            if staff_member(s, payload) is None:
                return refused(not_staff)
            try:
                bill, _ = track(s, config, application.bill_id(payload.get("d", "")), position, now())
            except (CannotFollow, BadBillId) as exc:
                return follow_view(token, str(exc), 400)
            number, position = dotted(bill.number), bill.position
        return follow_view(token, f"Done: the campaign follows {number} ({position}); it is crawled from now on.")

    def successor_view(token: str, message: str | None = None, status: int = 200) -> HTMLResponse:
        try:
            payload = read_token(key, token, "successor", now())
        except BadToken as exc:
            return refused(exc)
        with sessions() as s:
            row = find_successor(s, payload.get("b", ""), payload.get("c", ""))
            if row is None:
                return refused(BadToken("this link names a candidate the search no longer lists"))
            doc = find_document(s, row.candidate)
            old, new, state = dotted(row.bill), dotted(row.candidate), row.state
            words = evidence_words(row.evidence)
        title = {"accepted": f"{new} follows {old}", "rejected": f"{new} was rejected"}.get(state,
                                                                                            f"Is {new} {old} re-filed?")
        text = message or (f"{new} ({ordinal(row.session)} General Court): {doc.title if doc else 'no title yet'}"
                           + (f", filed by {doc.sponsor}" if doc is not None and doc.sponsor else "")
                           + f". Score {row.score:.2f}: {words}.")
        return page(title, status, message=text, decide={
            "token": token, "old": old, "new": new,
            "accept": state != "accepted", "reject": state != "rejected"})

    @app.get("/successor", response_class=HTMLResponse, include_in_schema=False)
    def successor(token: str = ""):
        # a page that asks: mail scanners open every link of a message, so only the POST below acts
        return successor_view(token)

    @app.post("/successor", response_class=HTMLResponse, include_in_schema=False)
    async def successor_post(request: Request):
        got = await signed_form(request, "successor")
        if isinstance(got, HTMLResponse):
            return got
        form, token, payload = got
        verdict = form.get("verdict", "")
        if verdict not in ("accept", "reject"):
            return successor_view(token, "Choose accept or reject.", 400)
        with sessions.begin() as s:
            if staff_member(s, payload) is None:
                return refused(not_staff)
            try:
                row = decide(s, config, payload.get("b", ""), payload.get("c", ""), verdict, now())
            except CannotDecide as exc:
                return successor_view(token, str(exc), 400)
            old, new = dotted(row.bill), dotted(row.candidate)
        done = (f"Done: {new} is followed as {old} re-filed; {old}'s supporters will hear about it."
                if verdict == "accept" else f"Done: {new} is not {old} re-filed; it will not be proposed again.")
        return successor_view(token, done)

    return app
