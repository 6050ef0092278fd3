"""The supporter a signed link names (the preferences page): read them, change how often they hear from us."""

from __future__ import annotations

from sqlalchemy.orm import Session

from db.models import Subscriber


def find_supporter(s: Session, subscriber_id: int) -> Subscriber | None:
    """The supporter with this id; None when there is none, or the id is a staff address's."""
    sub = s.get(Subscriber, subscriber_id)
    return sub if sub is not None and sub.role == "supporter" else None


def set_frequency(s: Session, subscriber_id: int, frequency: str) -> bool:
    """Change how often the subscriber hears from us (the caller checked ``frequency``); False: no such subscriber."""
    sub = s.get(Subscriber, subscriber_id)
    if sub is None:
        return False
    sub.frequency = frequency
    return True
