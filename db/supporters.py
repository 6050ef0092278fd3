"""The supporter a signed link names (the preferences page)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from db.models import Subscriber


def find_supporter(s: Session, subscriber_id: int) -> Subscriber | None:
    """The supporter with this id; None when there is none, or the id is a staff address's."""
    sub = s.get(Subscriber, subscriber_id)
    return sub if sub is not None and sub.role == "supporter" else None

