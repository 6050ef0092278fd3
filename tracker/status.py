"""``tracker status``: the health of every source, in the contract's shape.

Bills are reported together as the source ``malegislature``; each feed is a
source of its own. Each source has a ``state``: ``ok``, ``failing``, ``throttled`` (the site asked us
to wait; until ``throttled_until``) or ``never-fetched`` (listed in feeds.yaml, no success and no failure
yet); ``ok`` is true only for a source with no failure that has fetched something. The outbox is counted by state (and ``uncertain``: messages
that were in flight when a connection broke, sent again); ``runs`` has the
latest run of each scheduled job, ``digests`` when each kind of message last went
out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from alerts.outbox import counts, last_sent
from db.runs import last_runs
from db.source_health import source_states
from tracker.config import Config


def status(s: Session, config: Config | None = None, now: datetime | None = None) -> dict:
    configured = {"bills_configured": bool(config.tracked_bill_ids()),
                  "feeds_configured": [f.name for f in config.feeds]} if config is not None else {}
    return {"sources": source_states(s, now, **configured), "outbox": counts(s), "runs": last_runs(s), "digests": last_sent(s)}
