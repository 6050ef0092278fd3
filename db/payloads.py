"""The JSON payloads of a bill's action and hearing rows: what their events carry and what ``tracker bill``
and the API show. Pure functions of the rows."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from db.models import BillAction, Hearing

STATE_HOUSE = ZoneInfo("America/New_York")  # hearing times are shown as the State House's local time


def action_payload(row: BillAction) -> dict:
    return {"date": row.date.isoformat() if row.date else None, "branch": row.branch, "action": row.action,
            "kinds": list(row.kinds)}


def hearing_payload(h: Hearing) -> dict:
    def iso(dt):
        return dt.astimezone(STATE_HOUSE).isoformat() if dt else None

    return {"starts_at": iso(h.starts_at), "ends_at": iso(h.ends_at), "location": h.location, "status": h.status}
