"""What the archive's bill page shows beyond the stored rows: the bill's status as of a date (its stage
recomputed from the actions dated up to then), coverage per ISO week with the milestones, and the chart's
geometry. The rows come from ``db.bills``."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta, timezone

from sqlalchemy.orm import Session

from db.bills import article_times, bill_actions
from spiders.actions import current_committee, stage
from spiders.billids import BillId, session_ended
from spiders.records import HistoryAction

MILESTONE_KINDS = {"hearing-scheduled": "hearing", "reported-favorably": "reported", "ought-to-pass": "reported",
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


def coverage_by_week(s: Session, bid: BillId) -> dict:
    """Articles linked to the bill per ISO week (Monday), and the bill's milestones, for the chart."""
    published = article_times(s, bid.canonical)
    weeks = Counter((p.astimezone(timezone.utc).date() - timedelta(days=p.astimezone(timezone.utc).weekday()))
                    for p in published if p)
    milestones = []
    for a in bill_actions(s, bid.canonical, with_removed=True):
        label = next((MILESTONE_KINDS[k] for k in a.kinds if k in MILESTONE_KINDS), None)
        if a.date is not None and label:
            milestones.append({"date": a.date.isoformat(), "label": label, "action": a.action})
    return {"weeks": sorted((w.isoformat(), n) for w, n in weeks.items()), "milestones": milestones}


def chart_svg_data(cov: dict, width: int = 720, height: int = 180) -> dict | None:
    """Positions for a server-rendered SVG: a bar per week with coverage, a line per milestone."""
    days = [date.fromisoformat(w) for w, _ in cov["weeks"]] + [date.fromisoformat(m["date"]) for m in cov["milestones"]]
    if not days:
        return None
    start, end = min(days) - timedelta(days=7), max(days) + timedelta(days=7)
    span = max(1, (end - start).days)
    top = max([n for _, n in cov["weeks"]] or [1])
    plot_h = height - 40

    def x(d: date) -> float:
        return round(30 + (d - start).days / span * (width - 40), 1)

    bars = [{"x": x(date.fromisoformat(w)), "w": max(2.0, round(7 / span * (width - 40), 1)), "n": n,
             "h": round(n / top * plot_h, 1), "y": round(10 + plot_h - n / top * plot_h, 1), "week": w}
            for w, n in cov["weeks"]]
    marks = [{"x": x(date.fromisoformat(m["date"])), "label": m["label"], "date": m["date"]} for m in cov["milestones"]]
    return {"width": width, "height": height, "bars": bars, "marks": marks, "top": top,
            "start": start.isoformat(), "end": end.isoformat(), "baseline": 10 + plot_h}
