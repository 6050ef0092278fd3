"""``tracker status``: the health of every source, in the contract's shape.

Bills are reported together as the source ``malegislature``; each feed is a
source of its own. The outbox is counted by state (and ``uncertain``: messages
that were in flight when a connection broke, sent again); ``runs`` has the
latest run of each scheduled job, ``digests`` when each kind of message last went
out.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from alerts.outbox import counts, last_sent
from db.runs import last_runs
from db.source_health import source_states


def status(s: Session) -> dict:
    return {"sources": source_states(s), "outbox": counts(s), "runs": last_runs(s), "digests": last_sent(s)}
