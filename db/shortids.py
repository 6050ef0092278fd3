"""Which bill a short id (``H.135``, ``H135``: a number without a session) names, the same for the CLI, the
web and the API.

A database may hold bills of a General Court other than the configured one (the 192nd's while feeds.yaml
says 194): reading ``H.135`` as the configured session's alone finds nothing there. The rule, first match:

1. ``configured``: the configured session's bill of that number (or docket number), when it is followed;
2. ``other-session``: else the one followed bill of another session with that number;
3. ``document``: else the configured session's document of the docket with that number;
4. ``ambiguous``: else, when several followed bills of other sessions have that number, none is chosen: the
   caller lists them;
5. ``default``: else the configured session's id, as before (an unfollowed bill of it, or nothing).

Parsing the spelling is the caller's business (``spiders.billids``): this takes the number, ``H135``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from db.bills import find_bill
from db.documents import find_document
from db.models import Bill

JURISDICTION = "ma"


@dataclass(frozen=True)
class Resolution:
    """``canonical``: the id chosen (None when ``how`` is ``ambiguous``, or ``default`` without a configured
    session); ``how``: which rule chose it; ``candidates``: the followed bills of that number in other sessions,
    by session (the list an ambiguous id is answered with)."""

    number: str
    canonical: str | None
    how: str  # "given", "configured", "other-session", "document", "ambiguous", "default"
    candidates: tuple[str, ...] = ()

    @property
    def session(self) -> int | None:
        return None if self.canonical is None else int(self.canonical.split("/")[1])

    @property
    def moved(self) -> bool:
        """Whether the id chosen is not the configured session's (a caller says so)."""
        return self.how == "other-session"


def resolve_short_id(s: Session, number: str, default_session: int | None) -> Resolution:
    """The bill or document ``number`` (``H135``, or a docket number ``HD3228``) names, by the rule above."""
    configured = f"{JURISDICTION}/{default_session}/{number}" if default_session is not None else None
    if configured is not None:
        bill = find_bill(s, configured)
        if bill is not None and bill.tracked:
            return Resolution(number, bill.canonical, "configured")
    others = select(Bill.canonical).where(Bill.tracked.is_(True), or_(Bill.number == number, Bill.docket == number))
    if default_session is not None:
        others = others.where(Bill.session != default_session)
    candidates = tuple(s.scalars(others.order_by(Bill.session, Bill.canonical)))
    if len(candidates) == 1:
        return Resolution(number, candidates[0], "other-session", candidates)
    if configured is not None:
        doc = find_document(s, configured)
        if doc is not None:
            return Resolution(number, doc.canonical, "document", candidates)
    if len(candidates) > 1:
        return Resolution(number, None, "ambiguous", candidates)
    return Resolution(number, configured, "default")
