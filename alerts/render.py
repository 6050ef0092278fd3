"""Jinja2 templates to a MIME message: HTML with inlined CSS, a plain-text alternative,
headers that unsubscribe in one click (RFC 8058), written by ``alerts.mime`` with CRLF
line endings (what ``email.policy.SMTP`` would write, several times faster).

Templates live in ``alerts/templates/``; a folder named by ``mail.templates`` in
feeds.yaml overrides any of them by name. HTML templates are autoescaped; text
templates are not (they are never read as HTML).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from urllib.parse import quote

import css_inline
import jinja2

from alerts.addresses import parse_mailbox, recipient
from alerts.mime import alternative, mailbox
from spiders.urls import web_link

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
PACKAGE_TEMPLATES = os.path.join(os.path.dirname(__file__), "templates")


@dataclass(frozen=True)
class Templates:
    html: jinja2.Environment
    text: jinja2.Environment
    inliner: css_inline.CSSInliner


@lru_cache(maxsize=8)
def templates(override: str | None = None) -> Templates:
    """One environment per templates folder, built once."""
    folders = ([override] if override else []) + [PACKAGE_TEMPLATES]
    loader = jinja2.FileSystemLoader(folders)
    common = dict(loader=loader, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    html = jinja2.Environment(autoescape=True, **common)
    html.filters["web_link"] = web_link  # a link from a source is shown only when it is http(s)
    text = jinja2.Environment(autoescape=False, **common)
    return Templates(html, text, css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False))


def render_html(t: Templates, name: str, ctx: dict) -> str:
    return t.inliner.inline(t.html.get_template(name).render(ctx))


def render_text(t: Templates, name: str, ctx: dict) -> str:
    return t.text.get_template(name).render(ctx)


def one_line(text: str, limit: int = 180) -> str:
    """A subject: control characters and whitespace (CR, LF and every other line break) folded into single
    spaces, so a title from a site can never start a header of its own; cut at ``limit``."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Rendered:
    """A composed message: what the outbox stores and the transport sends."""

    subject: str
    message_id: str
    data: bytes  # the whole message, CRLF line endings
    html: str


@lru_cache(maxsize=16)
def _mailbox_of(text: str, what: str):
    return parse_mailbox(text, what)


def build_message(*, sender: str, to_email: str, to_name: str | None, subject: str, text: str, html: str,
                  now: datetime, unsubscribe_url: str | None = None, unsubscribe_mailbox: str | None = None,
                  list_id: str | None = None, reply_to: str | None = None) -> Rendered:
    from_addr = _mailbox_of(sender, "digests.supporters.from")
    subject = one_line(subject)
    message_id = make_msgid(domain=from_addr.domain)
    headers = [("From", mailbox(from_addr.display_name, from_addr.addr_spec)),
               ("To", mailbox(recipient(to_email, to_name).display_name, to_email)),
               ("Subject", subject), ("Date", format_datetime(now)), ("Message-ID", message_id)]
    if reply_to:
        r = _mailbox_of(reply_to, "mail.reply_to")
        headers.append(("Reply-To", mailbox(r.display_name, r.addr_spec)))
    if list_id:
        headers.append(("List-Id", one_line(list_id)))
    if unsubscribe_url:
        links = [f"<{unsubscribe_url}>"]
        if unsubscribe_mailbox:
            token = unsubscribe_url.rsplit("token=", 1)[-1]
            links.append(f"<mailto:{unsubscribe_mailbox}?subject={quote('unsubscribe ' + token)}>")
        headers.append(("List-Unsubscribe", ", ".join(links)))
        headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    return Rendered(subject, message_id, alternative(headers, text, html), html)
