"""The committee reports a new draft: the demo's next step after H.1946's hearing.

The 192nd's new draft is there from the start (``data/bills.json``: H.135's history ends "Accompanied
a new draft, see H5091", and H.5091 is listed). The 194th's is not: H.1946 is the live bill, heard on
2025-07-15 (and again in the demo), and a crawl follows a new draft as soon as the history names it,
so :func:`report_new_draft` adds it when a test or the demo says so: H.4420, reported by the Joint
Committee on the Judiciary, its text on file (``data/texts/194/H4420.txt``: section 4, the
commission, removed; section 2, the prohibition, changed; a section 5 on destroying images added;
``tracker.replica.texts.draft_changes("194/H1946", "194/H4420")``), and H.1946's history gets
"Accompanied a new draft, see H4420".

The number H4420 is ASSUMED (no generated 194th document takes it: ``docket.RESERVED``), as are the
dates, the pinslip and the history rows (in the shape of H.5091's real ones).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tracker.replica.docket import TITLE
from tracker.replica.model import Replica, ReplicaBill, local_iso
from tracker.replica.texts import texts_for

__all__ = ["NEW_DRAFTS", "REPORTED", "report_new_draft"]

# (session, bill) -> the number of its new draft, whose text is on file
NEW_DRAFTS = {(194, "H1946"): "H4420"}
REPORTED = "2025-07-29T11:02:41"  # two weeks after H.1946's hearing of 2025-07-15 (the default date)
JUDICIARY = ("J19", "Joint Committee on the Judiciary")


def report_new_draft(replica: Replica, session: int = 194, number: str = "H1946",
                     when: str | datetime | None = None) -> ReplicaBill:
    """The Judiciary reports the new draft of ``session``/``number`` (see the module) at ``when`` (local
    time, America/New_York; default :data:`REPORTED`): the new draft is listed, with its text, and the
    bill's history gets "Accompanied a new draft, see H4420". Returns the new draft. A second call
    changes nothing."""
    session, number = int(session), number.upper()
    new_number = NEW_DRAFTS[(session, number)]
    at = local_iso(when if when is not None else REPORTED)
    with replica.lock:
        held = replica.get(session, new_number)
        if held is not None:
            return held
        bill = replica.bill(session, number)
        chamber = "House" if number.startswith("H") else "Senate"
        rows = ("Reported from the committee on The Judiciary", f"New draft of {number}",
                "Bill reported favorably by committee and referred to the committee on House Ways and Means")
        filed = datetime.fromisoformat(at[:19]) - timedelta(days=3)
        draft = replica.add_document(
            session, new_number, title=bill.title or TITLE, sponsor=JUDICIARY, petitioners=[JUDICIARY],
            pinslip=(f"Text of a new draft of {chamber}, No. {bill.number.lstrip('HS')}, reported by the Joint "
                     f"Committee on the Judiciary."),
            filed=local_iso(filed),
            history=[{"Date": at, "Branch": chamber, "Action": a, "IsStricken": False} for a in rows],
            **texts_for(session, new_number),
        )
        replica.add_action(session, number, at, chamber,
                           f'Accompanied a new draft, see <a href="/Bills/{session}/{new_number}">{new_number}</a>')
        return draft
