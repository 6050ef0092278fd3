"""``tracker serve``: the web app. This module holds the factory and the routes every email
links to: confirm a subscription, unsubscribe (RFC 8058 one-click POST, and a page with a
button for a plain GET, so a link scanner that opens the link unsubscribes no one), and
the preferences page. A signed token in the URL authorises each of them (it is the CSRF
protection of these forms: another site cannot know it). The archive pages, the sign-up
form and the JSON API are in ``pages``, ``signup`` and ``api`` (assembled by ``site``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qs, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session, sessionmaker

from alerts.subscribers import FREQUENCIES, active_topics, confirm, unsubscribe
from alerts.tokens import BadToken, make_token, read_token
from spiders.billids import dotted
from db.supporters import find_supporter, set_frequency
from tracker.config import Config
from tracker.web.common import TEMPLATES

MAX_FORM = 16 * 1024


def _topic_words(topic: str, campaign: str) -> str:
    return f"every bill of {campaign}" if topic == "campaign" else dotted(topic)


def create_app(config: Config, sessions: sessionmaker[Session], key: bytes, transport_factory=None) -> FastAPI:
    """The whole web app. ``transport_factory`` makes the mail transport for sign-up confirmations
    (default: ``TRACKER_SMTP_URL``, else the maildir)."""
    app = FastAPI(title="ma-bill-tracker", version="1", docs_url="/api/docs", redoc_url=None,
                  openapi_url="/api/openapi.json",
                  description="The public archive: bills, their actions and events, the coverage, search.")
    app.state.sessions = sessions
    app.state.config = config
    app.state.key = key
    app.state.transport_factory = transport_factory
    from tracker.web.feeds import router as feeds_router
    from tracker.web.site import install

    app.include_router(feeds_router)  # first: /bills/H.135/feed.atom is a feed, not a bill page
    install(app)

    def page(title: str, status: int = 200, **ctx) -> HTMLResponse:
        html = TEMPLATES.get_template("page.html").render(title=title, campaign=config.campaign, **ctx)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})

    def refused(exc: BadToken) -> HTMLResponse:
        return page("This link does not work", 400, message=str(exc))

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

    def preferences_view(token: str, message: str | None = None, status: int = 200) -> HTMLResponse:
        try:
            payload = read_token(key, token, "preferences", now())
        except BadToken as exc:
            return refused(exc)
        with sessions() as s:
            sub = find_supporter(s, payload["s"])
            if sub is None:
                return refused(BadToken("this subscription no longer exists"))
            topics = [{"words": _topic_words(t, config.campaign.name),
                       "action": "/unsubscribe?" + urlencode({"token": make_token(key, "unsubscribe", sub.id, now(),
                                                                                  t=t)})}
                      for t in active_topics(s, sub.id)]
            return page("Your alerts", status, message=message, preferences={
                "status": sub.status, "frequency": sub.frequency, "frequencies": FREQUENCIES, "topics": topics,
                "token": token, "everything": "/unsubscribe?" + urlencode(
                    {"token": make_token(key, "unsubscribe", sub.id, now())})})

    @app.get("/preferences", response_class=HTMLResponse, include_in_schema=False)
    def preferences(token: str = ""):
        return preferences_view(token)

    @app.post("/preferences", response_class=HTMLResponse, include_in_schema=False)
    async def preferences_post(request: Request):
        body = await request.body()
        if len(body) > MAX_FORM:
            return page("Too much", 413, message="that form was too large")
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        token, frequency = form.get("token", ""), form.get("frequency", "")
        try:
            payload = read_token(key, token, "preferences", now())
        except BadToken as exc:
            return refused(exc)
        if frequency not in FREQUENCIES:
            return preferences_view(token, f"choose one of: {', '.join(FREQUENCIES)}", 400)
        with sessions.begin() as s:
            set_frequency(s, payload["s"], frequency)
        return preferences_view(token, f"Saved: you will get {frequency} alerts.")

    return app
