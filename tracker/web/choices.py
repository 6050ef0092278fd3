"""What the sign-up form and the preferences page both offer: the bills a supporter can follow now
(``alerts.choices``), how often, and the districts of the legislature's directory."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from alerts.choices import Saved, bill_choices
from alerts.subscribers import FREQUENCIES
from db.directory import districts
from spiders.billids import dotted
from tracker.application import Application

FIND_MY_LEGISLATOR = "https://malegislature.gov/Search/FindMyLegislator"


def form_choices(s: Session, application: Application, now: datetime) -> dict:
    """``bills`` (``BillChoice``), ``frequencies``, ``districts`` (``{"House": [...], "Senate": [...]}``, of the
    configured General Court and of every offered bill's) and the legislature's look-up page."""
    bills = bill_choices(s, application.settings, now)
    lists: dict[str, set[str]] = {"House": set(), "Senate": set()}
    for gc in {b.session for b in bills} | {application.settings.session}:
        for branch, names in districts(s, gc).items():
            lists[branch] |= set(names)
    return {"bills": bills, "frequencies": FREQUENCIES, "districts": {k: sorted(v) for k, v in lists.items()},
            "find_my_legislator": FIND_MY_LEGISLATOR}


def saved_words(saved: Saved, campaign: str) -> str:
    """What the preferences page says it saved, in a sentence or two."""
    topics = [f"every bill of {campaign}" if t == "campaign" else dotted(t) for t in saved.topics]
    about = ", ".join(topics[:-1]) + (" and " if len(topics) > 1 else "") + topics[-1]
    districts = (f"House district: {saved.house_district or 'not given'}; "
                 f"Senate district: {saved.senate_district or 'not given'}.")
    return f"Saved: you will get {saved.frequency} alerts about {about}. {districts}"
