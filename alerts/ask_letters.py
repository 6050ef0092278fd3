"""Letters: what the supporter typed, checked; the drafts the page shows; the letters and the supporter's copy
queued in the outbox, each once.

* One letter per (supporter, ask, occasion, recipient): a second click, a retry or a second visit writes none
  to anyone already written to (the unique key of ``ask_letters`` decides, under any race).
* A letter is a plain-text message From the campaign's address, ``Reply-To`` the supporter, with her name (and
  town when given) under the text; no ``List-Unsubscribe``: it is a personal letter, not list mail. The
  supporter's copy is a message of its own.
* Nothing a supporter types reaches a header unchecked: a name or a town with a line break or a control
  character is refused with a message, a letter is cut to plain lines and limited in length.
* A visitor who is not a subscriber writes too: her letters wait (``unconfirmed``, in ``drafts``) until she
  opens the link sent to her address, then go like any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.addresses import parse_mailbox
from alerts.ask_offer import Offer, Recipient
from alerts.ask_templates import render
from alerts.mime import mailbox, plain
from alerts.outbox import enqueue
from alerts.render import Rendered, one_line
from alerts.settings import AlertSettings
from db.models import AskLetter, AskResponse, Subscriber

LETTER_MAX = 10_000  # characters of one letter
LINE_MAX = 80  # characters of a name or a town
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class BadLetter(ValueError):
    """What the supporter typed cannot be sent as it is; the message says what to change."""


@dataclass
class Author:
    first_name: str
    last_name: str
    town: str | None = None
    show_public: bool = False

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def template_values(self) -> dict:
        return {"first_name": self.first_name, "last_name": self.last_name, "name": self.name,
                "town": self.town or ""}


def clean_line(text: str | None, what: str, *, required: bool) -> str | None:
    """A name or a town: one line of at most ``LINE_MAX`` characters, without a line break or a control
    character (it goes into a header)."""
    text = (text or "").strip()
    if _CONTROL_IN_LINE.search(text):
        raise BadLetter(f"Your {what} has a line break or a control character in it; type it on one line.")
    if len(text) > LINE_MAX:
        raise BadLetter(f"Your {what} is longer than {LINE_MAX} characters; shorten it.")
    if required and not text:
        raise BadLetter(f"Give your {what}: the offices you write to want to know who wrote.")
    return text or None


def author_from(first: str | None, last: str | None, town: str | None, show: bool) -> Author:
    return Author(clean_line(first, "first name", required=True), clean_line(last, "last name", required=True),
                  clean_line(town, "town", required=False), bool(show))


def clean_letter(text: str | None, who: str) -> str:
    """The letter as plain lines (CRLF and CR become LF, other control characters go), at most
    ``LETTER_MAX`` characters; an empty letter is refused."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL_IN_TEXT.sub("", text).strip()
    if not text:
        raise BadLetter(f"The letter to {who} is empty; write a few words, or keep the text we suggested.")
    if len(text) > LETTER_MAX:
        raise BadLetter(f"The letter to {who} is {len(text):,} characters long; keep it under {LETTER_MAX:,} "
                        "(a page or two reads best).")
    return text


def _context(offer: Offer, recipient: Recipient | None, author: Author | None, campaign: str) -> dict:
    bill = offer.bill
    return {"bill": {"label": bill.number, "number": bill.number, "title": bill.title, "session": bill.session,
                     "url": bill.url or "", "committee": bill.committee or "", "position": bill.position},
            "recipient": recipient.template_values() if recipient else {},
            "supporter": author.template_values() if author else {},
            "committee": offer.committee or bill.committee or "",
            "hearing": {"when": bill.hearing["when"], "location": bill.hearing.get("location") or ""}
            if bill.hearing else {},
            "campaign": {"name": campaign}}


def draft(offer: Offer, recipient: Recipient, author: Author | None, campaign: str) -> str:
    """The suggested letter to ``recipient``: the ask's template, or its ``thanks`` variant."""
    spec = offer.spec
    template = spec.thanks if recipient.variant == "thanks" and spec.thanks else spec.letter
    return render(template, _context(offer, recipient, author, campaign)).strip()


def subject(offer: Offer, recipient: Recipient, author: Author | None, campaign: str) -> str:
    return one_line(render(offer.spec.subject, _context(offer, recipient, author, campaign)), 200) \
        or offer.bill.number


def signed(letter: str, author: Author, campaign: str) -> str:
    """The letter with the supporter's name (and town) under it, and one line on how it was sent."""
    lines = [letter, "", author.name] + ([f"{author.town}, Massachusetts"] if author.town else [])
    lines += ["", f"-- Sent through the letter page of {campaign}; replying reaches {author.first_name} directly."]
    return "\n".join(lines)


def letter_message(settings: AlertSettings, recipient: Recipient, author: Author, supporter_email: str,
                   subject_line: str, text: str, now: datetime) -> Rendered:
    campaign = settings.campaign.name
    sender = parse_mailbox(settings.sender, "digests.supporters.from")
    body = signed(text, author, campaign)
    message_id = make_msgid(domain=sender.domain)
    headers = [("From", mailbox(f"{author.name} via {campaign}", sender.addr_spec)),
               ("To", mailbox(f"{recipient.title} {recipient.name}", recipient.email)),
               ("Reply-To", mailbox(author.name, supporter_email)),
               ("Subject", subject_line), ("Date", format_datetime(now)), ("Message-ID", message_id)]
    return Rendered(subject_line, message_id, plain(headers, body), "")


def copy_message(settings: AlertSettings, author: Author, supporter_email: str, offer: Offer,
                 sent: list[tuple[Recipient, str, str]], now: datetime) -> Rendered:
    """The supporter's copy: every letter just queued, whom it goes to, and what it says."""
    campaign = settings.campaign.name
    sender = parse_mailbox(settings.sender, "digests.supporters.from")
    names = " and ".join(f"{r.title} {r.name}" for r, _, _ in sent) if len(sent) <= 2 else f"{len(sent)} legislators"
    what = "testimony" if offer.spec.kind == "testimony" else "letter" if len(sent) == 1 else "letters"
    subject_line = one_line(f"Your {what} to {names} about {offer.bill.number}", 200)
    parts = [f"Hello {author.first_name},", "",
             f"Thank you. Here is a copy of what {campaign} is sending in your name. Each office gets its own "
             "message from our address; when they reply, the reply comes to you.", ""]
    for r, subj, text in sent:
        parts += ["=" * 60, f"To: {r.title} {r.name} ({r.role}{', ' + r.district if r.district else ''})",
                  f"Subject: {subj}", "", signed(text, author, campaign), ""]
    parts += ["=" * 60, "", f"You get this copy because you sent a letter from the letter page of {campaign}. It is not a "
                            "subscription: nothing more comes of it."]
    message_id = make_msgid(domain=sender.domain)
    headers = [("From", mailbox(campaign, sender.addr_spec)), ("To", mailbox(author.name, supporter_email)),
               ("Subject", subject_line), ("Date", format_datetime(now)), ("Message-ID", message_id)]
    return Rendered(subject_line, message_id, plain(headers, "\n".join(parts)), "")


@dataclass
class Queued:
    """What one submission queued: the outbox ids to deliver now, who was written to, who had been already."""

    response_id: int | None = None
    outbox_ids: list[int] = field(default_factory=list)
    written: list[Recipient] = field(default_factory=list)
    already: list[Recipient] = field(default_factory=list)


def already_written(s: Session, subscriber_id: int, ask: str, occasion: str) -> set[str]:
    return set(s.scalars(select(AskLetter.recipient_code).where(
        AskLetter.subscriber_id == subscriber_id, AskLetter.ask == ask, AskLetter.occasion == occasion)))


def queue(s: Session, settings: AlertSettings, offer: Offer, sub: Subscriber, author: Author,
          letters: dict[str, str], now: datetime, *, districts: tuple[str | None, str | None] = (None, None),
          alert_event_id: int | None = None, via: str | None = None, response: AskResponse | None = None) -> Queued:
    """Write, in the caller's transaction, one letter to each reachable recipient not yet written to, and the
    supporter's copy; ``letters`` maps a recipient's member code to the text (already checked). The caller
    commits; a unique-key conflict there means a simultaneous second click, and trying again writes nothing."""
    out = Queued()
    done = already_written(s, sub.id, offer.spec.name, offer.occasion)
    todo = []
    for r in offer.reachable:
        (out.already if r.code in done else todo).append(r)
    if not todo:
        return out
    if response is None:
        response = AskResponse(ask=offer.spec.name, kind=offer.spec.kind, bill=offer.bill.canonical,
                               occasion=offer.occasion, subscriber_id=sub.id, alert_event_id=alert_event_id, via=via,
                               first_name=author.first_name, last_name=author.last_name, town=author.town,
                               show_public=author.show_public, house_district=districts[0],
                               senate_district=districts[1], state="sent", created_at=now, confirmed_at=now)
        s.add(response)
    else:
        response.state, response.drafts, response.confirmed_at = "sent", None, now
    s.flush()
    out.response_id = response.id
    sent = []
    for r in todo:
        text = letters[r.code]
        subj = subject(offer, r, author, settings.campaign.name)
        row = AskLetter(response_id=response.id, subscriber_id=sub.id, ask=offer.spec.name, occasion=offer.occasion,
                        bill=offer.bill.canonical, recipient_code=r.code, recipient_name=r.name,
                        recipient_addr=r.email.lower(), recipient_branch=r.branch, recipient_district=r.district,
                        variant=r.variant, state="queued", created_at=now)
        s.add(row)
        s.flush()
        msg = letter_message(settings, r, author, sub.email, subj, text, now)
        message = enqueue(s, sub, "letter", f"l{row.id}", msg, now, to_addr=r.email.lower())
        row.outbox_id = message.id
        out.outbox_ids.append(message.id)
        out.written.append(r)
        sent.append((r, subj, text))
    copy = enqueue(s, sub, "letter-copy", f"r{response.id}",
                   copy_message(settings, author, sub.email, offer, sent, now), now)
    out.outbox_ids.append(copy.id)
    return out


def hold(s: Session, offer: Offer, sub: Subscriber, author: Author, letters: dict[str, str], now: datetime,
         districts: tuple[str | None, str | None] = (None, None)) -> AskResponse:
    """A visitor's letters, kept until she confirms her address (a newer submission replaces an older one
    still waiting for the same ask and occasion)."""
    waiting = s.scalar(select(AskResponse).where(AskResponse.subscriber_id == sub.id,
                                                 AskResponse.ask == offer.spec.name,
                                                 AskResponse.occasion == offer.occasion,
                                                 AskResponse.state == "unconfirmed"))
    row = waiting or AskResponse(ask=offer.spec.name, kind=offer.spec.kind, bill=offer.bill.canonical,
                                 occasion=offer.occasion, subscriber_id=sub.id, state="unconfirmed", created_at=now)
    row.first_name, row.last_name, row.town, row.show_public = (author.first_name, author.last_name, author.town,
                                                                author.show_public)
    row.house_district, row.senate_district = districts
    row.drafts = dict(letters)
    if waiting is None:
        s.add(row)
    s.flush()
    return row


def author_of(response: AskResponse) -> Author:
    return Author(response.first_name or "", response.last_name or "", response.town, response.show_public)


def confirm_message(settings: AlertSettings, email: str, author: Author, offer: Offer, url: str,
                    now: datetime) -> Rendered:
    """A visitor's confirmation: her letters go when she opens ``url`` and presses the button there."""
    campaign = settings.campaign.name
    sender = parse_mailbox(settings.sender, "digests.supporters.from")
    names = ", ".join(f"{r.title} {r.name}" for r in offer.reachable)
    subject_line = one_line(f"Please confirm: your letter about {offer.bill.number} to {names}", 200)
    body = "\n".join([
        f"Hello {author.first_name},", "",
        f"You wrote to {names} about {offer.bill.number} on the letter page of {campaign}. To send your letter, open this link "
        "and press the button on the page:", "", url, "",
        "The link works for seven days. If you did not write this letter, ignore this email: nothing is sent."])
    message_id = make_msgid(domain=sender.domain)
    headers = [("From", mailbox(campaign, sender.addr_spec)), ("To", mailbox(author.name, email)),
               ("Subject", subject_line), ("Date", format_datetime(now)), ("Message-ID", message_id)]
    return Rendered(subject_line, message_id, plain(headers, body), "")
