"""Events in plain words: what a supporter reads in an alert, and the subject line."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from db.models import Event


def day(value: date | datetime | str | None, tz: ZoneInfo | None = None) -> str:
    """``Nov 23, 2021``."""
    if value is None:
        return "undated"
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime) and tz is not None:
        value = value.astimezone(tz)
    return f"{value:%b} {value.day}, {value.year}"


def when(value: datetime | str | None, tz: ZoneInfo) -> str:
    """``Tue Nov 23, 2021, 10:00 AM``."""
    if value is None:
        return "time not given"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    value = value.astimezone(tz)
    return f"{value:%a %b} {value.day}, {value.year}, {value.strftime('%I:%M %p').lstrip('0')}"


STATUS_WORDS = {
    "filed": "filed", "in-committee": "in committee", "reported": "reported out of committee",
    "passed-house": "passed by the House", "passed-senate": "passed by the Senate", "enacted": "enacted",
    "signed": "signed by the Governor", "vetoed": "vetoed", "law": "law", "study-order": "sent to a study order",
    "replaced": "replaced by a new draft", "dead": "dead (the session ended)",
}

# an event's kind in a reader's words (the pages, the Atom feeds); a kind not listed reads "change"
KIND_WORDS = {
    "bill.tracked": "now followed", "bill.discovered": "bill found", "bill.action": "action",
    "bill.status": "status changed", "bill.title": "new title", "bill.sponsors": "sponsors changed",
    "bill.successor": "re-filed", "bill.text": "new text", "hearing.scheduled": "hearing scheduled",
    "hearing.rescheduled": "hearing rescheduled", "hearing.canceled": "hearing canceled",
    "article.new": "news article", "article.matched": "in the news", "source.failing": "a source is failing",
    "source.recovered": "a source works again", "ask.sent": "letters sent",
}


def kind_words(kind: str | None) -> str:
    """``bill.action`` -> ``action``: never the kind's internal name."""
    return KIND_WORDS.get(kind or "", "change")


# first kind that matches gives the headline; the text of the action follows it
ACTION_HEADLINES = [
    ("signed", "signed by the Governor"), ("vetoed", "vetoed"), ("enacted", "enacted"),
    ("engrossed", "passed to be engrossed"), ("new-draft", "replaced by a new draft"),
    ("study-order", "sent to a study order"), ("reported-favorably", "reported favorably"),
    ("reported-adversely", "reported adversely"), ("ought-to-pass", "reported favorably"),
    ("ought-not-to-pass", "reported adversely"), ("reported", "reported out of committee"),
    ("hearing-scheduled", "hearing scheduled"), ("hearing-rescheduled", "hearing rescheduled"),
    ("hearing-canceled", "hearing canceled"), ("reporting-date-extended", "reporting date extended"),
    ("referral", "referred to committee"), ("discharge", "moved to another committee"),
]


def headline(ev: Event, tz: ZoneInfo) -> str:
    """A few words for the subject line: ``hearing scheduled for Nov 23``."""
    p = ev.payload or {}
    if ev.kind in ("hearing.scheduled", "hearing.rescheduled"):
        verb = "hearing rescheduled" if ev.kind == "hearing.rescheduled" else "hearing scheduled"
        if p.get("starts_at"):
            starts = datetime.fromisoformat(p["starts_at"]).astimezone(tz)
            return f"{verb} for {starts:%b} {starts.day}"
        return verb
    if ev.kind == "hearing.canceled":
        return "hearing canceled"
    if ev.kind == "bill.action":
        kinds = set(p.get("kinds") or [])
        for kind, words in ACTION_HEADLINES:
            if kind in kinds:
                return words
        return "new action"
    if ev.kind == "bill.status":
        return STATUS_WORDS.get(p.get("status") or "", "status changed")
    if ev.kind == "bill.tracked":
        return "now followed"
    if ev.kind == "bill.successor":
        state = p.get("state")
        if state == "accepted":
            return f"re-filed as {p.get('candidate_number')}"
        if state == "not-refiled":
            return "not re-filed"
        if state == "proposed":
            return f"maybe re-filed as {p.get('candidate_number')}"
        return f"not re-filed as {p.get('candidate_number')}"
    if ev.kind == "bill.text":
        return "new text"
    if ev.kind == "bill.title":
        return "new title"
    if ev.kind == "bill.sponsors":
        return "sponsors changed"
    if ev.kind.startswith("article."):
        return "in the news"
    if ev.kind == "source.failing":
        return "a source is failing"
    return "news"  # never the kind's internal name


# why a bill is followed (``bills.tracked_reason``), in a supporter's words: the reasons the tracker writes
# ("listed in feeds.yaml", "followed by staff", "new draft of H.135", ...) are an operator's
_WHAT = r"(?: \(.*\))?"  # the action that said so, in parentheses: the supporter reads the bill's own lines
_REASON_WORDS = [
    (re.compile(r"new draft of (?P<bill>\S+)" + _WHAT), "the new draft of {bill}"),
    (re.compile(r"study order covering (?P<bill>\S+)" + _WHAT), "the study order that covers {bill}"),
    (re.compile(r"took over (?P<bill>\S+)" + _WHAT), "which took over from {bill}"),
    (re.compile(r"re-filed from (?P<bill>\S+) \((?P<court>[^)]*General Court)\)"),
     "which re-files {bill} of the {court}"),
]


def followed_because(reason: str | None) -> str:
    """``, the new draft of H.135`` (to follow "The campaign now follows this bill"), or "" when the reason is
    the campaign's own choice or one we have no supporter's words for (never passed through as written)."""
    for pattern, words in _REASON_WORDS:
        m = pattern.fullmatch((reason or "").strip())
        if m:
            return ", " + words.format(**m.groupdict())
    return ""


def sentence(ev: Event, tz: ZoneInfo, staff: bool = False) -> str:
    """One line in plain words for the body of an alert (``staff``: for the staff digest, which may say why
    in the tracker's own words)."""
    p = ev.payload or {}
    if ev.kind == "bill.action":
        branch = p.get("branch") or ""
        who = {"Joint": "The joint committee", "Executive": "The Governor"}.get(branch, f"The {branch}")
        return f"{day(p.get('date'))}: {who}: {p.get('action', '')}"
    if ev.kind in ("hearing.scheduled", "hearing.rescheduled"):
        verb = "rescheduled to" if ev.kind == "hearing.rescheduled" else "scheduled for"
        return f"Hearing {verb} {when(p.get('starts_at'), tz)} at {p.get('location') or 'a place not yet given'}"
    if ev.kind == "hearing.canceled":
        return "The hearing was canceled"
    if ev.kind == "bill.status":
        return f"Now {STATUS_WORDS.get(p.get('status') or '', p.get('status') or 'changed')}" + (
            f", in the {p['committee']} committee" if p.get("committee") else "")
    if ev.kind == "bill.successor":
        return successor_sentence(p)
    if ev.kind == "bill.text":
        return text_sentence(p)
    if ev.kind == "bill.tracked":
        latest = p.get("latest_action") or {}
        status = STATUS_WORDS.get(p.get("status") or "", p.get("status") or "filed")
        if staff:
            text = f"Now followed ({p.get('reason') or 'listed by the campaign'}); it is {status}"
        else:
            text = f"The campaign now follows this bill{followed_because(p.get('reason'))}. It is {status}"
        if latest:
            text += f". Latest action, {day(latest.get('date'))}: {latest.get('action')}"
        return text
    return ev.summary


def text_sentence(p: dict) -> str:
    """A ``bill.text`` event in one plain sentence: what the section structure says changed (the event's
    ``sentence``), never a guess at what it means."""
    number = p.get("number") or "The bill"
    if p.get("sentence") and (p.get("previous_version") or p.get("compared_with")):
        lead = f"{number} has a new text" if p.get("previous_version") else f"The new draft {number} has its text"
        return f"{lead}. {p['sentence']}"
    return f"{number}: its text is on file ({p.get('words', 0)} words)"


def _court(session) -> str:
    n = int(session or 0)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"the {n}{suffix} General Court"


def successor_sentence(p: dict) -> str:
    """A ``bill.successor`` event in plain words (what a supporter reads: no score, no evidence)."""
    old, new, state = p.get("number"), p.get("candidate_number"), p.get("state")
    if state == "accepted":
        title = f" ({p['title']})" if p.get("title") else ""
        return (f"{old} was re-filed as {new}{title} in {_court(p.get('session'))}; "
                f"you will now hear about {new}.")
    if state == "not-refiled":
        return (f"{old} was not re-filed in {_court(p.get('session'))}: nothing filed by the deadline carries it "
                f"on (so far). If it comes back under a new number, you will hear about it.")
    if state == "proposed":
        return f"{new} in {_court(p.get('session'))} may be {old} re-filed: staff are checking."
    return f"{new} is not {old} re-filed."


def evidence_words(ev: dict) -> str:
    """A successor's evidence for staff: ``its pinslip names it; text 98% alike; shared sponsors Orlando Ramos``."""
    parts = []
    if ev.get("pinslip_reference"):
        parts.append("its pinslip names the bill")
    if ev.get("text") is None:
        parts.append("texts not compared (one is not on file)")
    else:
        parts.append(f"text {round(ev['text'] * 100)}% alike")
    if ev.get("shared_sponsors"):
        parts.append("shared sponsors " + ", ".join(ev["shared_sponsors"]))
    if ev.get("similar_api"):
        parts.append("the legislature lists it as similar")
    parts.append(f"title {round((ev.get('title') or 0) * 100)}% alike")
    return "; ".join(parts)
