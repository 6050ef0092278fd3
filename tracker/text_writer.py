"""A tracked bill's text as the crawl reads it: recorded as a version (``db.texts``) and, when it is a new
one, told as one ``bill.text`` event whose counts and section lines come from the redline
(``tracker.texts.compare``) against the version before it, or, for the first version of a new draft, against
the latest version of the bill it replaced (what the staff digest shows)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.lineage import HANDOVER_RELATIONS
from db.models import Bill, Event
from db.texts import Version, find_version, record_text, text_of, version_count
from spiders.billids import dotted
from spiders.billtext_parse import normalise_text
from tracker.texts.compare import compare
from tracker.texts.summary import plain_sentence, plural, section_lines, totals

log = logging.getLogger("tracker.texts")


def normalised(raw: str | None) -> tuple[str, list[str]]:
    """A text as received (plain text or HTML) -> (the text as stored, its flags: ``spiders.billtext_parse``)."""
    check = normalise_text(raw)
    return check.text, list(check.flags)


def observe_text(s: Session, bill: Bill, obs: dict, at: datetime, snapshots: dict[str, int]) -> list[Event]:
    """The text an observation carries, recorded: the document detail's ``DocumentText``, or when it is empty
    the text page the spider asked for (``obs["text_page"]``, which also moves the page's schedule). Nothing
    when the observation has no detail. An empty text stands for nothing when the stored text came from the
    page and the page was not asked for this time (DocumentText is simply not where this bill's text is)."""
    page = obs.get("text_page")
    if page is not None:
        bill.text_checked_at, bill.text_actions = at, page.get("actions")
    detail = obs.get("detail")
    if not detail:
        return []
    text, flags = normalised(detail.get("text"))
    source, snapshot_id = "document", snapshots.get("detail")
    if not text:
        if page is not None and page.get("text"):
            text, flags = normalised(page["text"])
            flags = list(dict.fromkeys(list(page.get("flags") or []) + flags))
            source, snapshot_id = "html", snapshots.get("text")
        elif page is None:
            latest = find_version(s, bill.canonical)
            if latest is not None and latest.source == "html":
                return []
    ev = record_bill_text(s, bill, text, source, flags, at, snapshot_id)
    return [ev] if ev is not None else []


def replaced_bill(s: Session, bill: Bill) -> str | None:
    """The bill this one is a new draft of (its ``bill.tracked`` event says which it was found from), if any."""
    for payload in s.scalars(select(Event.payload).where(Event.bill_id == bill.id, Event.kind == "bill.tracked")
                             .order_by(Event.id)):
        found = (payload or {}).get("discovered_from") or {}
        if found.get("bill") and HANDOVER_RELATIONS.get(found.get("reason")) == "new-draft":
            return found["bill"]
    return None


def _label(canonical: str) -> str:
    return dotted(canonical.rsplit("/", 1)[-1])


def record_bill_text(s: Session, bill: Bill, text: str | None, source: str, flags: list[str], at: datetime,
                     snapshot_id: int | None = None) -> Event | None:
    """Record the bill's text (normalised, with its ``flags``) in the caller's transaction; the ``bill.text``
    event when it is a new version, else None (unchanged, or empty: see ``db.texts.record_text``)."""
    s.flush()  # the bill's tracked event, written in this transaction, names the bill it replaced
    version = record_text(s, bill, text, source, at, flags)
    if version is None:
        if not (text or "").strip():  # a real text gone empty is news to an operator; a text never published is not
            had = version_count(s, bill.id)
            (log.warning if had else log.info)("bill=%s text empty (%s)%s", bill.canonical, source,
                                               "; the stored versions stand" if had else ": none on file yet",
                                               extra={"bill": bill.canonical})
        return None
    older = _older(s, bill, version)
    payload = {"version": version.version, "sha256": version.sha256, "words": version.words,
               "previous_version": version.version - 1 if version.version > 1 else None,
               "added_words": version.words, "removed_words": 0, "source": source, "flags": version.flags,
               "summary_lines": [], "bill": bill.canonical, "number": _label(bill.canonical)}
    label = _label(bill.canonical)
    summary = f"{label} text: version {version.version}, {plural(version.words, 'word')}"
    if older is not None:
        redline = compare(text_of(s, older.sha256) or "", text)
        payload |= {"compared_with": older.ref, "added_words": redline.added_words,
                    "removed_words": redline.removed_words, "summary_lines": section_lines(redline),
                    "relation": "version" if older.bill == bill.canonical else "new-draft",
                    "sentence": plain_sentence(redline, _label(older.bill) if older.bill != bill.canonical
                                               else f"version {older.version}")}
        counts = totals(redline)
        if older.bill == bill.canonical:
            summary = f"{label} text: version {version.version}, {counts}"
        else:
            summary += f"; against {_label(older.bill)}: {counts}"
    ev = Event(kind="bill.text", at=at, bill_id=bill.id, summary=summary, payload=payload, snapshot_id=snapshot_id)
    s.add(ev)
    return ev


def _older(s: Session, bill: Bill, version: Version) -> Version | None:
    """What a new version is compared with: the version before it, or for a first version the latest version of
    the bill it is a new draft of (None for the first text of any other bill)."""
    if version.version > 1:
        return find_version(s, bill.canonical, version.version - 1)
    replaced = replaced_bill(s, bill)
    return find_version(s, replaced) if replaced else None
