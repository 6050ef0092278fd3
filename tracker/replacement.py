"""Which bill took a replaced bill's place: "Accompanied a new draft, see H5091" makes H.135 ``replaced`` and
H.5091 the bill the fight goes on in. The pages, ``tracker bill`` and the API say "replaced by H.5091"."""

from __future__ import annotations

from spiders.actions import referenced_bill
from spiders.billids import JURISDICTION

HANDED_TO = ("new-draft", "accompanied")  # the reasons a bill becomes ``replaced`` (not a study order)


def replaced_by(bill: dict, actions: list[dict] | None = None) -> str | None:
    """The canonical id of the bill that replaced ``bill`` (a ``get_bill`` object) when its status is
    ``replaced``: the last action handing it over ("Accompanied a new draft, see H5091"), else the new draft
    its lineage leads to; None otherwise. ``actions``: those to read instead of the bill's (a status as of a
    day passes the actions up to that day, with ``bill["status"]`` being that day's)."""
    if bill.get("status") != "replaced":
        return None
    for a in reversed(actions if actions is not None else bill.get("actions") or []):
        if a.get("removed"):
            continue
        found = referenced_bill(a.get("action") or "")
        if found and found[0] in HANDED_TO:
            return f"{JURISDICTION}/{bill['session']}/{found[1]}"
    if actions is None:
        for edge in bill.get("lineage") or []:
            if edge["direction"] == "to" and edge["relation"] == "new-draft":
                return edge["bill"]
    return None
