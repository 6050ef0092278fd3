"""Reading the successors: the candidates of each followed bill in the next General Court, and the accepted
pairs (what the keywords, the supporters' interests and the lineage follow)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Successor

STATES = ("candidate", "proposed", "accepted", "rejected")


def successor_json(row: Successor) -> dict:
    """The row of ``tracker successors``: ``{"bill", "candidate", "score", "state", "evidence", ...}``."""
    return {"bill": row.bill, "candidate": row.candidate, "session": row.session, "rank": row.rank,
            "score": row.score, "state": row.state, "decided_by": row.decided_by,
            "decided_at": row.decided_at.isoformat() if row.decided_at else None,
            "evidence": row.evidence}


def list_successors(s: Session, bill: str | None = None, states: tuple[str, ...] = STATES) -> list[Successor]:
    """Every candidate (or those of ``bill``), each bill's best first."""
    query = select(Successor).where(Successor.state.in_(states)).order_by(Successor.bill, Successor.rank,
                                                                           Successor.candidate)
    if bill:
        query = query.where(Successor.bill == bill)
    return list(s.scalars(query))


def accepted_pairs(s: Session) -> list[tuple[str, str]]:
    """(bill, successor) for every accepted successor."""
    return [tuple(r) for r in s.execute(select(Successor.bill, Successor.candidate)
                                        .where(Successor.state == "accepted").order_by(Successor.id))]


def predecessors(s: Session) -> dict[str, str]:
    """successor -> the bill it re-files (accepted only)."""
    return {candidate: bill for bill, candidate in accepted_pairs(s)}


def find(s: Session, bill: str, candidate: str) -> Successor | None:
    return s.scalar(select(Successor).where(Successor.bill == bill, Successor.candidate == candidate))
