"""Who hears of a bill that took over from others: a new draft "of H1728 and S927" reaches the supporters of
both, whichever of the two the crawl happened to follow it from."""

from __future__ import annotations

from datetime import date

from alerts.selection import bill_families
from db.models import BillAction, Event
from tests.alerts_world import NOW, add_bill


def test_a_new_draft_of_two_bills_is_in_both_families(sessions):
    with sessions.begin() as s:
        h1728, s927 = add_bill(s, "H1728", session=193), add_bill(s, "S927", session=193)
        h4359 = add_bill(s, "H4359", session=193)
        other = add_bill(s, "H9", session=193)
        # followed from H.1728 (stored first); S.927's history says the same
        s.add(Event(kind="bill.tracked", at=NOW, bill_id=h4359.id, summary="H.4359 tracked",
                    payload={"discovered_from": {"bill": "ma/193/H1728", "reason": "new-draft"}}))
        for position, bill in enumerate((h1728, s927)):
            s.add(BillAction(bill_id=bill.id, position=position, occurrence=0, date=date(2024, 3, 1), branch="Joint",
                             action="Accompanied a new draft, see H4359", kinds=["new-draft"], first_seen_at=NOW))
        s.add(BillAction(bill_id=other.id, position=0, occurrence=0, date=date(2024, 3, 1), branch="House",
                         action="Accompanied by H4359", kinds=["other"], first_seen_at=NOW))  # joins, no handover
        ids = {b.number: b.id for b in (h1728, s927, h4359, other)}
    with sessions() as s:
        families = bill_families(s)
    assert ids["H4359"] in families[ids["H1728"]] and ids["H4359"] in families[ids["S927"]]
    assert families[ids["H9"]] == {ids["H9"]}
