"""Reading hearings: the rows of the hearings calendar."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Bill, Hearing


def scheduled_hearings(s: Session, bill: str | None = None) -> list[tuple[Hearing, Bill]]:
    """Every hearing with a start time (of one bill, by canonical id), earliest first, with its bill."""
    query = (select(Hearing, Bill).join(Bill, Hearing.bill_id == Bill.id)
             .where(Hearing.starts_at.is_not(None)).order_by(Hearing.starts_at, Hearing.id))
    if bill is not None:
        query = query.where(Bill.canonical == bill)
    return [tuple(r) for r in s.execute(query)]
