"""Jinja2 templates to a MIME message: HTML with inlined CSS, a plain-text alternative,
headers that unsubscribe in one click (RFC 8058), serialised with ``email.policy.SMTP``.

Templates live in ``alerts/templates/``; a folder named by ``mail.templates`` in
feeds.yaml overrides any of them by name. HTML templates are autoescaped; text
templates are not (they are never read as HTML).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from datetime import datetime
from urllib.parse import quote

import css_inline
import jinja2

from alerts.addresses import parse_mailbox, recipient

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
    text = jinja2.Environment(autoescape=False, **common)
    return Templates(html, text, css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False))


def render_html(t: Templates, name: str, ctx: dict) -> str:
    return t.inliner.inline(t.html.get_template(name).render(ctx))


def render_text(t: Templates, name: str, ctx: dict) -> str:
    return t.text.get_template(name).render(ctx)


def one_line(text: str, limit: int = 180) -> str:
    """A subject: whitespace folded (so no CR/LF can reach a header), cut at ``limit``."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def build_message(*, sender: str, to_email: str, to_name: str | None, subject: str, text: str, html: str,
                  now: datetime, unsubscribe_url: str | None = None, unsubscribe_mailbox: str | None = None,
                  list_id: str | None = None, reply_to: str | None = None) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    from_addr = parse_mailbox(sender, "digests.supporters.from")
    msg["From"] = from_addr
    msg["To"] = recipient(to_email, to_name)
    msg["Subject"] = one_line(subject)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=from_addr.domain)
    if reply_to:
        msg["Reply-To"] = parse_mailbox(reply_to, "mail.reply_to")
    if list_id:
        msg["List-Id"] = list_id
    if unsubscribe_url:
        links = [f"<{unsubscribe_url}>"]
        if unsubscribe_mailbox:
            token = unsubscribe_url.rsplit("token=", 1)[-1]
            links.append(f"<mailto:{unsubscribe_mailbox}?subject={quote('unsubscribe ' + token)}>")
        msg["List-Unsubscribe"] = ", ".join(links)
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg
