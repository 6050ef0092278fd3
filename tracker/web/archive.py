"""What the archive's bill page shows beyond the stored rows: the bill's status as of a date (its stage
recomputed from the actions dated up to then), coverage per ISO week with the milestones (the chart's
geometry is ``chart``'s), and a hearing's state on a day. The rows come from ``db.bills``."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from db.bills import article_times, bill_actions
from spiders.actions import current_committee, stage
from spiders.billids import BillId, session_ended
from spiders.records import HistoryAction

EASTERN = ZoneInfo("America/New_York")
MILESTONE_KINDS = {"hearing-scheduled": "hearing scheduled", "reported-favorably": "reported", "ought-to-pass": "reported",
                   "new-draft": "new draft", "study-order": "study order", "engrossed": "engrossed",
                   "enacted": "enacted", "signed": "signed", "vetoed": "vetoed"}


def status_as_of(s: Session, bid: BillId, when: date) -> dict:
    """What the bill's status was at the end of ``when``, from the actions dated up to then."""
    rows = bill_actions(s, bid.canonical, until=when)
    history = [HistoryAction(a.date.isoformat(), a.branch, a.action) for a in rows]
    return {"as_of": when.isoformat(), "status": stage(history, session_ended(bid.session, when)) if history else None,
            "committee": current_committee(history) if history else None,
            "latest_action": ({"date": rows[-1].date.isoformat(), "action": rows[-1].action} if rows else None),
            "actions": len(rows)}


def coverage_by_week(s: Session, bid: BillId, until: date | None = None) -> dict:
    """Articles linked to the bill per ISO week (Monday), and the bill's milestones, for the chart; ``until``:
    only the articles published and the milestones dated up to that day (Boston time)."""
    published = [p.astimezone(EASTERN).date() for p in article_times(s, bid.canonical) if p]
    weeks = Counter(d - timedelta(days=d.weekday()) for d in published if until is None or d <= until)
    milestones = []
    for a in bill_actions(s, bid.canonical, until=until, with_removed=True):
        label = next((MILESTONE_KINDS[k] for k in a.kinds if k in MILESTONE_KINDS), None)
        if a.date is not None and label:
            milestones.append({"date": a.date.isoformat(), "label": label, "action": a.action})
    return {"weeks": sorted((w.isoformat(), n) for w, n in weeks.items()), "milestones": milestones}


