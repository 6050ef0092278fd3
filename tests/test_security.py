"""Security, checked from the outside: CSRF on every form route, script and HTML payloads in every field
that reaches a page, an email, a feed or the API, line breaks refused in every header, and no subscriber
data in exports, the API, the feeds, the logs or the command line's output.

What other files already cover (not repeated here): tokens signed, expiring, single-purpose
(tests/test_alerts.py::test_tokens_are_signed_expiring_and_single_purpose, test_web_alerts.py's forged,
other-key and wrong-purpose tests), the sign-up CSRF field and the rate limits (test_web_signup.py),
CR/LF in a name or an address at subscribe (test_alerts.py::test_bad_sign_up_input_is_refused_with_the_reason),
and a few escaping and no-subscriber-data checks on single fields (test_alerts.py, test_web_archive.py,
test_web_syndication.py, test_export.py).
"""

from __future__ import annotations

import email
import json
import re
from datetime import date, timedelta
from email.policy import default as default_policy
from html.parser import HTMLParser
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import select

from alerts.dispatch import dispatch, queue_confirmation
from alerts.subscribers import subscribe
from alerts.transport import MaildirTransport
from db.models import (Article, ArticleBill, ArticleSource, Bill, BillAction, Committee, Event, Feed, Legislator, Successor,
                       Subscriber)
from tests.alerts_world import CONFIG, KEY, NOW, add_action, add_bill, add_document, add_hearing, settings_of, application
from tests.web_client import caller
from tracker.application import Application, BadPublicUrl, Environment
from tracker.config import ConfigError, parse_config
from tracker.web.app import create_app

SCRIPT = "<script>alert(1)</script>"
ATTR = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{7*7}}"
JS_URL = "javascript:alert(1)"
NASTY = f"Act {SCRIPT} {ATTR} {TEMPLATE}"
SHORT = "<script>x</script>"  # for the 20-character columns (an action's branch)


# -- an HTML parser that finds what an attacker would want --------------------------------------------------


class _Audit(HTMLParser):
    URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "poster", "data"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.text: list[str] = []
        self.attr_values: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.problems.append("a <script> element")
        if tag == "img" and dict(attrs).get("src") == "x":
            self.problems.append("the payload's <img src=x>")
        for name, value in attrs:
            value = value or ""
            self.attr_values.append(value)
            if name.startswith("on"):
                self.problems.append(f"an event handler attribute {name}={value!r} on <{tag}>")
            if name in self.URL_ATTRS and re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith(
                    ("javascript:", "vbscript:", "data:text/html")):
                self.problems.append(f"<{tag} {name}={value!r}>")

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def audit_html(html: str, where: str, expect_visible: bool = True) -> str:
    """Fails on any script, event handler or javascript: URL; returns the visible text."""
    parser = _Audit()
    parser.feed(html)
    parser.close()
    assert not parser.problems, f"{where}: {parser.problems}"
    text = "".join(parser.text)
    if expect_visible:
        assert SCRIPT in text and ATTR in text and TEMPLATE in text, f"{where}: the payload is not shown as text"
    assert "49" not in text.replace("2049", ""), f"{where}: {TEMPLATE} was evaluated"  # no template ran on data
    return text


# -- the world: every field a source or the configuration fills, with the payload ------------------------------


NASTY_CONFIG = CONFIG.replace("name: Regulate face surveillance", f"name: '{NASTY}'").replace(
    "action_url: https://example.org/act", "action_url: 'https://example.org/act?x=\"><img src=x onerror=alert(1)>'")


def nasty_config():
    return parse_config(NASTY_CONFIG, "nasty-feeds.yaml")


@pytest.fixture
def nasty(sessions):
    """H.135 with the payload in its title, sponsor, committee and chairs, an action (text and branch), a
    hearing's location, an article (title, summary, link, outlet, feed name) and a supporter's name; in the
    docket, H.135's document and a docket without a number (title, sponsors, pinslip, text, why its detail
    failed)."""
    cfg = nasty_config()
    with sessions.begin() as s:  # Jane first: a supporter starts from the newest event
        subscribe(s, settings_of(cfg), "jane@example.org", bills=["H.135"], frequency="immediate", confirmed=True,
                  name=f"Jane {NASTY}", now=NOW - timedelta(days=1))
    with sessions.begin() as s:
        for session in (192, 194):  # H.135's General Court, and its live successor's (where the asks go)
            s.add(Committee(session=session, code="J19", full_name=f"Committee {NASTY}", short_name=NASTY,
                            branch="Joint", house_chair_code="CH1", senate_chair_code="CH2", fetched_at=NOW))
            for code, branch in (("CH1", "House"), ("CH2", "Senate")):
                s.add(Legislator(session=session, member_code=code, name=f"Chair {NASTY}", branch=branch,
                                 district=f"District {NASTY}", phone=f"617 {NASTY}", email=JS_URL, fetched_at=NOW))
        bill = add_bill(s, "H135", title=f"Title {NASTY}", sponsor=f"Sponsor {NASTY}", committee="J19")
        # the 192nd is over: H.135 lives on as H.1946, whose asks name the chairs
        add_bill(s, "H1946", session=194, title=f"Title {NASTY}", committee="J19")
        s.add(Successor(bill="ma/192/H135", candidate="ma/194/H1946", session=194, rank=1, score=1.0,
                        evidence={"pinslip_reference": True, "text": None, "shared_sponsors": [],
                                  "similar_api": False, "title": 1.0}, state="accepted", decided_by="auto",
                        decided_at=NOW, found_at=NOW))
        s.add(BillAction(bill_id=bill.id, position=0, occurrence=0, date=date(2026, 11, 30), branch=SHORT,
                         action=f"Reported favorably {NASTY}", kinds=["reported-favorably"], first_seen_at=NOW))
        add_action(s, bill, f"Reported favorably {NASTY}", ["reported-favorably"], date(2026, 11, 30), branch=SHORT)
        add_hearing(s, bill, NOW + timedelta(days=2), location=f"Room {NASTY}")
        feed = Feed(name=f"Feed {NASTY}", url="https://feed.example/rss", active=True, error_count=0, created_at=NOW)
        s.add(feed)
        s.flush()
        article = Article(url=JS_URL, link=JS_URL, title=f"Story {NASTY}", publisher=f"Outlet {NASTY}",
                          summary_text=f"H.135 summary {NASTY}", published_at=NOW, first_seen_at=NOW)
        s.add(article)
        s.flush()
        s.add(ArticleSource(article_id=article.id, feed_id=feed.id, entry_url=JS_URL, publisher=f"Outlet {NASTY}",
                            seen_at=NOW))
        s.add(ArticleBill(article_id=article.id, bill_id=bill.id, reason=f"keyword {NASTY} in title", term=NASTY,
                          field="title", kind="keyword", created_at=NOW))
        s.add(Event(kind="article.new", at=NOW, occurred_at=NOW, article_id=article.id, summary=article.title,
                    payload={"url": JS_URL, "title": article.title, "feed": feed.name}))
        s.add(Event(kind="article.matched", at=NOW, occurred_at=NOW, bill_id=bill.id, article_id=article.id,
                    summary=f"H.135 in the news: {article.title}", payload={"bill": bill.canonical, "url": JS_URL,
                                                                           "title": article.title}))
        for number, docket in (("H135", "HD3228"), (None, "HD77")):
            add_document(s, 192, number, docket, seen=NOW, title=f"Title {NASTY}", sponsor=f"Sponsor {NASTY}",
                         sponsor_code="X1", joint_sponsors=[{"name": f"Joint {NASTY}", "member_code": "X2"}],
                         cosponsors=[{"name": f"Cosponsor {NASTY}", "member_code": "X3"}, f"Plain {NASTY}"],
                         pinslip=f"Pinslip {NASTY}", text=f"SECTION 1. Text {NASTY}\n  <b>{NASTY}</b>",
                         legislation_type=SHORT, detail_error=None if number else f"Detail {NASTY}")
        pending = subscribe(s, settings_of(cfg), "pat@example.org", name=f"Pat {NASTY}", now=NOW).subscriber
        queue_confirmation(s, settings_of(cfg, KEY), pending, NOW)
    return cfg


def _maildir(tmp_path):
    box = tmp_path / "outbox" / "new"
    return [p.read_bytes() for p in sorted(box.iterdir())] if box.exists() else []


# -- autoescaping -----------------------------------------------------------------------------------------------


def test_every_email_shows_the_payloads_as_text(sessions, tmp_path, nasty):
    report = dispatch(settings_of(nasty, KEY), sessions, MaildirTransport(tmp_path / "outbox"), now=NOW)
    assert report.delivery.sent == 3, report.to_json()  # the confirmation, Jane's alert, the staff digest
    kinds = set()
    for raw in _maildir(tmp_path):
        msg = email.message_from_bytes(raw, policy=default_policy)
        html = msg.get_body(("html",)).get_content()
        plain = msg.get_body(("plain",)).get_content()
        to = msg["To"].addresses[0].addr_spec
        kinds.add(to)
        text = audit_html(html, f"email to {to}")
        assert TEMPLATE in plain and "49" not in plain.replace("2049", "")
        if to == "jane@example.org":  # the alert: every field of the bill, its news and the asks
            for field in ("Title ", "Reported favorably ", "Room ", "Chair ", "Committee ", "Story ", "Outlet "):
                assert f"{field}{NASTY}" in text, field
            assert f"Sponsor {NASTY}" in text or "Thank the sponsor" not in text
    assert kinds == {"jane@example.org", "pat@example.org", "staff@example.org"}


@pytest.fixture
def web(sessions, nasty, monkeypatch, tmp_path):
    monkeypatch.delenv("TRACKER_PUBLIC_URL", raising=False)
    return caller(create_app(application(nasty, sessions, KEY, transport_factory=lambda: MaildirTransport(tmp_path / "outbox"))))


def _token_pages(sessions):
    from alerts.tokens import make_token

    with sessions() as s:
        jane = s.scalar(select(Subscriber.id).where(Subscriber.email == "jane@example.org"))
        pat = s.scalar(select(Subscriber.id).where(Subscriber.email == "pat@example.org"))
    return {"/preferences": make_token(KEY, "preferences", jane), "/unsubscribe": make_token(KEY, "unsubscribe", jane),
            "/confirm": make_token(KEY, "confirm", pat)}


def test_every_page_shows_the_payloads_as_text(web, sessions):
    pages = {
        "/": True, "/bills/192/H135": True, "/bills/192/H135?as_of=2026-12-01": True,
        "/events": True, "/events?kind=article.matched": True,
        "/search?" + "q=Story": True, "/search?q=favorably&kind=action": False,
        "/signup": False,  # the campaign name only (in the layout), checked below
        "/docket": True, "/docket?q=Text&sponsor=Sponsor&session=192": True, "/documents/192/H135": True,
        "/documents/192/HD77": True, "/search?q=Pinslip&kind=document": True,
    }
    for path, visible in pages.items():
        r = web("GET", path)
        assert r.status_code == 200, (path, r.text[:300])
        audit_html(r.text, path, expect_visible=visible)
        assert NASTY in audit_html(r.text, path, expect_visible=False) or path == "/signup" or not visible
    for path, token in _token_pages(sessions).items():
        r = web("GET", path, params={"token": token})
        assert r.status_code == 200, (path, r.text[:300])
        audit_html(r.text, path, expect_visible=False)


ECHOING = ["/search?q={p}", "/search?q=x&bill={p}", "/search?q=x&since={p}", "/events?kind={p}", "/events?bill={p}",
           "/bills/192/H135?as_of={p}", "/bills/{p}", "/bills/192/{p}", "/nothing/{p}", "/snapshots/{p}",
           "/confirm?token={p}", "/unsubscribe?token={p}", "/preferences?token={p}", "/docket?q={p}",
           "/docket?sponsor={p}", "/docket?session={p}", "/docket?page={p}", "/documents/192/{p}", "/documents/{p}/H135",
           "/search?q=x&kind={p}"]


def test_input_echoed_on_pages_and_error_pages_is_escaped(web):
    from urllib.parse import quote

    for path in ECHOING:
        for payload in (SCRIPT, ATTR, TEMPLATE, JS_URL):
            r = web("GET", path.format(p=quote(payload, safe="")))
            assert r.status_code < 500, (path, r.status_code)
            if r.headers.get("content-type", "").startswith("text/html"):
                audit_html(r.text, f"{path} with {payload!r}", expect_visible=False)
            assert SCRIPT not in r.text and "<img src=x" not in r.text


def test_the_sign_up_form_shows_bad_input_back_escaped(web, monkeypatch):
    from tracker.web import signup

    monkeypatch.setattr(signup, "PER_IP", (100, 3600.0))
    monkeypatch.setattr(signup, "PER_ADDRESS", (100, 3600.0))
    form = web("GET", "/signup")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text).group(1)
    for field, value in (("email", NASTY), ("name", NASTY), ("frequency", NASTY), ("house_district", NASTY),
                         ("bill", NASTY)):
        data = {"csrf": csrf, "email": "someone@example.org", "frequency": "daily", field: value}
        r = web("POST", "/signup", data=data, headers={"cookie": f"tracker_csrf={form.cookies['tracker_csrf']}"})
        assert r.status_code in (200, 400), (field, r.status_code)
        audit_html(r.text, f"sign-up with {field}", expect_visible=False)
        assert SCRIPT not in r.text


def test_feeds_and_the_api_carry_the_payloads_as_data(web):
    for path in ("/events.atom", "/bills/192/H135/feed.atom", "/hearings.ics"):
        r = web("GET", path)
        assert r.status_code == 200, path
        if path.endswith(".atom"):
            root = ET.fromstring(r.content)  # well-formed: nothing broke out of its element
            ns = "{http://www.w3.org/2005/Atom}"
            for link in root.iter(ns + "link"):
                assert not link.get("href", "").lower().startswith("javascript:"), (path, link.get("href"))
            for node in root.iter():
                assert node.tag.startswith(ns), (path, node.tag)  # no element came from the data
            text = "".join(root.itertext())
            assert SCRIPT in text
            for content in root.iter(ns + "content"):
                if content.get("type") in ("html", "xhtml"):
                    audit_html(content.text or "", path, expect_visible=False)
        else:
            assert b"BEGIN:VEVENT" in r.content and b"\r\nBEGIN:VEVENT" in r.content
    for path in ("/api/bills", "/api/bills/192/H135", "/api/bills/192/H135/actions", "/api/events",
                 "/api/articles", "/api/search?q=Story", "/api/documents", "/api/documents/192/H135",
                 "/api/documents/192/HD77", "/api/search?q=Pinslip&kind=document"):
        r = web("GET", path)
        assert r.status_code == 200 and r.headers["content-type"] == "application/json", path
        assert any(NASTY in v for v in _strings(r.json())), path  # data, returned as data, unchanged
        assert "nosniff" in r.headers.get("x-content-type-options", "nosniff")


def _strings(node):
    if isinstance(node, dict):
        node = list(node.values())
    if isinstance(node, list):
        for v in node:
            yield from _strings(v)
    elif isinstance(node, str):
        yield node


def test_a_javascript_link_in_a_feed_is_never_kept():
    from tracker.news.store import article_url

    assert article_url({"url": JS_URL}) is None
    assert article_url({"url": "JavaScript:alert(1)"}) is None
    assert article_url({"url": "data:text/html,<script>alert(1)</script>"}) is None
    assert article_url({"url": "https://news.example/a"}) == ("https://news.example/a", "https://news.example/a")


def test_a_campaign_action_url_that_is_not_http_is_refused_at_load():
    with pytest.raises(ConfigError, match=r"nasty-feeds.yaml:4: campaign.action_url: .*http"):
        parse_config(CONFIG.replace("action_url: https://example.org/act", f"action_url: '{JS_URL}'"),
                     "nasty-feeds.yaml")


# -- CSRF: every route that changes something ---------------------------------------------------------------

# Each state-changing route and what authorises it. A new POST/PUT/PATCH/DELETE route fails
# test_every_state_changing_route_is_known until it is added here with its protection.
STATE_CHANGING = {
    ("POST", "/signup"): "csrf",  # a random SameSite=Strict cookie and its HMAC in the form
    ("POST", "/unsubscribe"): "token",  # RFC 8058 one-click: the signed unsubscribe token in the URL, no cookie
    ("POST", "/preferences"): "token",  # the signed preferences token in the form
    ("POST", "/follow"): "token",  # the signed follow token of a staff digest, in the form
    ("POST", "/successor"): "token",  # the signed successor token of a staff digest, in the form
    ("POST", "/act/confirm"): "token",  # the signed act-confirm token of a visitor's email, in the form
    ("POST", "/act/{name}"): "csrf",  # an ask's page: the sign-up's cookie and HMAC (and a signed act token)
}


def _routes(routes, prefix: str = ""):
    """(method, path) of every route, through included routers (FastAPI keeps those as their own nodes)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _routes(inner.routes, prefix + (route.include_context.prefix or ""))
        elif getattr(route, "routes", None) is not None and not hasattr(route, "methods"):  # a mount
            yield from _routes(route.routes, prefix + getattr(route, "path", ""))
        else:
            for method in getattr(route, "methods", None) or ():
                yield method, prefix + route.path


def _state_changing_routes(app) -> set[tuple[str, str]]:
    return {(m, p) for m, p in _routes(app.routes) if m in ("POST", "PUT", "PATCH", "DELETE")}


def test_every_state_changing_route_is_known(web):
    app = create_app(Application(config=nasty_config(), database_url="sqlite://", secret_key=KEY))
    everything = set(_routes(app.routes))
    assert ("GET", "/api/bills") in everything and ("GET", "/signup") in everything  # the walk sees every router
    assert _state_changing_routes(app) == set(STATE_CHANGING)


def _subscribers(sessions) -> list[tuple]:
    """What a forged request could change: the supporters, and the bills the campaign follows."""
    with sessions() as s:
        return (sorted(s.execute(select(Subscriber.email, Subscriber.status, Subscriber.frequency)).all())
                + sorted(s.execute(select(Bill.canonical, Bill.tracked, Bill.position)).all()))


@pytest.mark.parametrize("method,path", sorted(STATE_CHANGING))
def test_a_forged_request_to_a_state_changing_route_is_refused_and_changes_nothing(web, sessions, method, path):
    from alerts.tokens import make_token

    before = _subscribers(sessions)
    with sessions() as s:
        jane = s.scalar(select(Subscriber.id).where(Subscriber.email == "jane@example.org"))
    other_key = make_token(b"another key", "unsubscribe" if path == "/unsubscribe" else "preferences", jane)
    wrong_purpose = make_token(KEY, "confirm", jane)
    attempts = [
        dict(content=b"", headers={"content-type": "application/x-www-form-urlencoded"}),
        dict(data={"email": "mallory@example.org", "frequency": "weekly", "csrf": "0" * 64, "token": other_key,
                   "position": "oppose", "verdict": "accept"},
             params={"token": other_key}),
        dict(data={"email": "mallory@example.org", "frequency": "weekly", "token": wrong_purpose},
             params={"token": wrong_purpose}),
    ]
    if STATE_CHANGING[(method, path)] == "csrf":  # a field and a cookie that are each valid, but not a pair
        form_a, form_b = web("GET", "/signup"), web("GET", "/signup")
        csrf_a = re.search(r'name="csrf" value="([0-9a-f]+)"', form_a.text).group(1)
        attempts.append(dict(data={"email": "mallory@example.org", "frequency": "weekly", "csrf": csrf_a},
                             headers={"cookie": f"tracker_csrf={form_b.cookies['tracker_csrf']}"}))
        attempts.append(dict(data={"email": "mallory@example.org", "frequency": "weekly", "csrf": csrf_a}))
    for kw in attempts:
        r = web(method, path, **kw)
        assert r.status_code in (400, 403), (path, kw, r.status_code, r.text[:200])
    assert _subscribers(sessions) == before


# -- line breaks never reach a header ---------------------------------------------------------------------------

BREAKS = ["\r\n", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\x00"]
KNOWN_HEADERS = {"x-envelope-to", "from", "to", "subject", "date", "message-id", "reply-to", "list-id", "list-unsubscribe",
                 "list-unsubscribe-post", "mime-version", "content-type"}


def _headers_of(raw: bytes) -> list[tuple[str, str]]:
    head = raw.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        assert line[:1] in (b" ", b"\t") or re.match(rb"^[A-Za-z-]+: ", line), f"a stray header line {line!r}"
        assert not re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", line), f"a control character in {line!r}"
    msg = email.message_from_bytes(raw, policy=default_policy)
    return [(k.lower(), str(v)) for k, v in msg.items()]


@pytest.mark.parametrize("brk", BREAKS)
def test_a_line_break_in_a_title_is_folded_into_one_subject_line(sessions, tmp_path, brk, backend):
    if brk == "\x00" and backend == "postgresql":
        pytest.skip("PostgreSQL text cannot hold NUL, so no title from a site carries one there")
    cfg = parse_config(CONFIG + "  reply_to: \"Campaign office <office@example.org>\"\n", "feeds.yaml")
    with sessions.begin() as s:
        subscribe(s, settings_of(cfg), "jane@example.org", bills=["H.135"], frequency="immediate", confirmed=True,
                  name="Jane Doe", now=NOW - timedelta(days=1))
    with sessions.begin() as s:
        bill = add_bill(s, "H135", title=f"An Act{brk}Bcc: evil@example.org")
        a = Article(url="https://news.example/a", link="https://news.example/a", title=f"Story{brk}Bcc: evil@example.org",
                    publisher=f"Outlet{brk}X-Evil: 1", summary_text="", published_at=NOW, first_seen_at=NOW)
        s.add(a)
        s.flush()
        s.add(ArticleBill(article_id=a.id, bill_id=bill.id, reason="number", term="H.135", field="title",
                          kind="number", created_at=NOW))
        s.add(Event(kind="article.matched", at=NOW, occurred_at=NOW, bill_id=bill.id, article_id=a.id,
                    summary=f"H.135 in the news: {a.title}", payload={}))
    report = dispatch(settings_of(cfg, KEY), sessions, MaildirTransport(tmp_path / "outbox"), now=NOW)
    assert report.delivery.sent == 2 and not report.errors, report.to_json()  # the alert and the staff digest
    for raw in _maildir(tmp_path):
        headers = _headers_of(raw)
        names = [k for k, _ in headers]
        assert set(names) <= KNOWN_HEADERS and len(names) == len(set(names)), names
        assert "bcc" not in names and "x-evil" not in names
        subject = dict(headers)["subject"]
        assert "\n" not in subject and "\r" not in subject
        assert "Bcc: evil@example.org" in subject or "staff digest" in subject  # folded, not dropped


@pytest.mark.parametrize("key,yaml_value", [
    ("digests.supporters.from", 'digests:\n  supporters:\n    from: "Campaign\\r\\nBcc: x@example.org <a@example.org>"\n'),
    ("mail.reply_to", 'mail:\n  reply_to: "Office <o@example.org>\\nBcc: x@example.org"\n'),
    ("mail.unsubscribe_mailbox", 'mail:\n  unsubscribe_mailbox: "u@example.org\\r\\nBcc: x@example.org"\n'),
    ("campaign.name", 'campaign:\n  name: "Regulate\\rBcc: x@example.org"\n'),
    ("campaign.action_url", 'campaign:\n  action_url: "https://example.org/act\\r\\nSet-Cookie: x=1"\n'),
    ("digests.staff.to.0", 'digests:\n  staff:\n    to: ["staff@example.org\\nBcc: x@example.org"]\n'),
    ("sources.malegislature.user_agent", 'sources:\n  malegislature:\n    user_agent: "bot\\r\\nX-Evil: 1"\n'),
    ("feeds.0.name", 'feeds:\n  - name: "WWLP\\u2028X"\n    url: https://www.wwlp.com/feed/\n'),
])
def test_a_configuration_value_with_a_line_break_is_refused_at_load_naming_file_line_and_key(key, yaml_value):
    with pytest.raises(ConfigError) as err:
        parse_config(yaml_value, "site/feeds.yaml")
    message = str(err.value)
    assert re.match(rf"site/feeds\.yaml:\d+: {re.escape(key)}: a line break or a control character", message), message


def test_mime_refuses_any_line_break_or_control_character_in_a_header_value():
    from alerts.mime import HeaderInjection, alternative

    for brk in BREAKS:
        if not brk.isascii():  # written as an RFC 2047 encoded word, which carries no line break
            raw = alternative([("Subject", f"a{brk}Bcc: x@example.org")], "text", "<p>html</p>")
            assert [k for k, _ in _headers_of(raw)] == ["subject", "mime-version", "content-type"]
            continue
        with pytest.raises(HeaderInjection, match="Subject"):
            alternative([("Subject", f"a{brk}Bcc: x@example.org")], "text", "<p>html</p>")


def test_a_public_url_with_a_line_break_is_refused_before_anything_is_queued(sessions, tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_PUBLIC_URL", "https://alerts.example.org\r\nBcc: evil@example.org")
    cfg = parse_config(CONFIG, "feeds.yaml")
    with sessions.begin() as s:
        subscribe(s, settings_of(cfg), "jane@example.org", frequency="immediate", confirmed=True, now=NOW - timedelta(days=1))
    with sessions.begin() as s:
        add_action(s, add_bill(s, "H135"), "Reported favorably", ["reported-favorably"], date(2026, 11, 30))
    app = Application(config=cfg, sessions=sessions, secret_key=KEY, env=Environment.read())
    with pytest.raises(BadPublicUrl, match="TRACKER_PUBLIC_URL.*line break"):
        dispatch(app.settings, sessions, MaildirTransport(tmp_path / "outbox"), now=NOW)
    assert _maildir(tmp_path) == []


def test_no_response_header_carries_a_line_break_from_the_request(web):
    for path in ("/bills/H.135%0d%0aSet-Cookie:%20x=1", "/bills/192/H135%0d%0aX-Evil:%201",
                 "/api/bills/192/H135%0d%0aX-Evil:%201/actions?format=csv",
                 "/api/events?format=csv&bill=H135%0d%0aX-Evil:1", "/signup", "/search?q=%0d%0aX-Evil:%201",
                 "/unsubscribe?token=a%0d%0aX-Evil:%201", "/bills/H.135", "/documents/192/H135%0d%0aX-Evil:%201",
                 "/documents/192/hd%203228", "/api/documents?format=csv&sponsor=%0d%0aX-Evil:1"):
        r = web("GET", path, headers={"cookie": "tracker_csrf=abc%0d%0aX-Evil: 1"})
        assert r.status_code < 500
        for name, value in r.headers.multi_items():
            assert "\r" not in value and "\n" not in value and name.lower() != "x-evil", (path, name, value)
        assert "set-cookie" not in r.headers or "abc" not in r.headers["set-cookie"]  # a cookie is never echoed


# -- no subscriber data in logs, command output, feeds or the API -----------------------------------------------

PEOPLE = {"jane.quill@example.org": "Jane Quill", "bob.marsh@example.org": "Bob Marsh",
          "carol.finch@example.org": "Carol Finch"}


def _leaks(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    found = []
    for address, name in PEOPLE.items():
        for secret in (address, address.split("@")[0], name):
            if secret not in allowed and secret.lower() in text.lower():
                found.append(secret)
    return found


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_whole_cycle_logs_and_prints_no_subscriber_address_or_name(tmp_path, monkeypatch, replica_server, db_url,
                                                                   log_format):
    from click.testing import CliRunner

    from tests.smtp_sink import SmtpSink
    from tracker.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRACKER_DATABASE_URL", db_url)
    monkeypatch.setenv("TRACKER_SECRET_KEY", "security-secret")
    monkeypatch.setenv("TRACKER_PUBLIC_URL", "https://alerts.example.org")
    (tmp_path / "feeds.yaml").write_text(f"""
sources:
  malegislature:
    base_url: {replica_server.base_url}
    session: 192
    delay_s: 0
    timeout_s: 5
bills:
  - id: H.135
digests:
  staff:
    to: [staff@example.org]
    at: "00:00"
""")  # `tracker digest` runs at the wall clock: the staff digest is due from `at` (local), so whatever the hour
    logs: list[str] = []
    import logging

    monkeypatch.setattr(logging.getLogger("mail.log"), "disabled", True)  # the test's own SMTP server (aiosmtpd)

    def run(*args, allowed=()):
        result = CliRunner().invoke(main, ["-v", "--log-format", log_format, *args], catch_exceptions=False)
        out = result.output + (result.stderr if result.stderr_bytes is not None else "")
        assert not _leaks(out, allowed), (args, _leaks(out, allowed), out[-2000:])
        logs.append(out)
        return result

    with SmtpSink() as sink:
        monkeypatch.setenv("TRACKER_SMTP_URL", sink.url)
        assert run("init").exit_code == 0
        for address, name in PEOPLE.items():  # the operator typed these: echoing their own input is fine
            r = run("subscribe", address, "--name", name, "--frequency", "immediate",
                    *(["--confirmed"] if not address.startswith("jane") else []), allowed=(address, name,
                                                                                            address.split("@")[0]))
            assert r.exit_code == 0, r.output
        [confirmation] = sink.state.to("jane.quill@example.org")
        link = re.search(r"https://alerts\.example\.org(/confirm\?token=\S+)",
                         confirmation.get_body(("plain",)).get_content()).group(1)
        from db.engine import make_engine, session_factory
        from tracker.config import load_config

        web = caller(create_app(application(load_config()[0], session_factory(make_engine(db_url)), b"security-secret")))
        assert web("GET", link).status_code == 200
        assert run("crawl").exit_code == 0
        # a failed login (this server offers no AUTH): nothing is sent, everything stays queued
        monkeypatch.setenv("TRACKER_SMTP_URL", f"smtp://alerts:wrong@127.0.0.1:{sink.port}?timeout=5")
        down = run("digest")
        assert down.exit_code == 1 and "mail not sent, kept in the outbox" in down.output
        sink.state.reject = {"bob.marsh@example.org": "550 5.1.1 <bob.marsh@example.org>: Recipient address "
                                                      "rejected: User unknown in local recipient table",
                             "carol.finch@example.org": "451 4.7.1 <carol.finch@example.org>: greylisted, "
                                                        "Carol Finch, try again later"}
        monkeypatch.setenv("TRACKER_SMTP_URL", sink.url)
        sent = run("digest")
        assert sent.exit_code == 1  # Bob's message failed for good
        assert {rcpt for rcpt, _ in sink.state.messages} >= {"jane.quill@example.org", "staff@example.org"}
        for args in (("status",), ("status", "--format", "json"), ("digest", "--dry-run", "--kind", "staff"),
                     ("export", "--format", "jsonl", str(tmp_path / "archive"))):
            assert run(*args).exit_code in (0, 1), args
    joined = "\n".join(logs)
    assert "b***@example.org" in joined  # the bounce was logged, masked
    assert "job=deliver" in joined
    if log_format == "json":
        lines = [ln for ln in joined.splitlines() if ln.startswith('{"time"')]
        assert lines and all(isinstance(json.loads(ln), dict) for ln in lines)
    for path in (tmp_path / "archive").iterdir():
        assert not _leaks(path.read_text()), path


def test_a_bad_row_of_an_import_never_prints_another_supporters_address(tmp_path, monkeypatch, db_url):
    """Decision: the offending row's own address may be printed (the operator is fixing that row); a quote
    left open swallows the lines after it into one field, and those other supporters' rows are not printed."""
    from click.testing import CliRunner

    from tracker.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRACKER_DATABASE_URL", db_url)
    (tmp_path / "feeds.yaml").write_text("bills:\n  - id: ma/192/H135\n")
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("email,name\nnot-an-address,Row Two\n\"dana@example.org,Dana\n"
                        "jane.quill@example.org,Jane Quill\nbob.marsh@example.org,Bob Marsh\n")
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    r = runner.invoke(main, ["subscribers", "import", str(csv_file), "--confirmed"])
    out = r.output + r.stderr
    assert r.exit_code == 1 and f"{csv_file}:2:" in out and "not-an-address" in out
    assert f"{csv_file}:3:" in out and "quote" in out, out
    assert not _leaks(out), out


def test_serve_refuses_a_public_url_with_a_line_break_at_start(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from tracker.cli import main

    monkeypatch.setenv("TRACKER_PUBLIC_URL", "https://alerts.example.org\nBcc: evil@example.org")
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path}/t.sqlite")
    result = CliRunner().invoke(main, ["serve", "--port", "1"], catch_exceptions=False)
    assert result.exit_code == 2 and "TRACKER_PUBLIC_URL" in result.output and "line break" in result.output
