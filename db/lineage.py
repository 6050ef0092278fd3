"""The edges of the bills' lineage, as the database holds them: new drafts and study orders that took over a
followed bill (its ``bill.tracked`` event says which bill it was found from), accepted successors across
sessions, and the docket number a bill was filed under."""

from __future__ import annotations

import re

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from db.models import Bill, Document, Event, Successor

# the crawl's reasons for following a bill found from another (spiders.actions.referenced_bill)
HANDOVER_RELATIONS = {"new-draft": "new-draft", "study-order": "study-order", "accompanied": "new-draft"}


def handovers(s: Session) -> list[tuple[str, str, str]]:
    """(from, to, relation) for each bill the crawl followed because another handed over to it."""
    names = dict(s.execute(select(Bill.id, Bill.canonical)).all())
    edges = []
    for bill_id, payload in s.execute(select(Event.bill_id, Event.payload).where(Event.kind == "bill.tracked")):
        found = (payload or {}).get("discovered_from") or {}
        parent, child = found.get("bill"), names.get(bill_id)
        if parent and child and parent != child:
            edges.append((parent, child, HANDOVER_RELATIONS.get(found.get("reason"), "new-draft")))
    return edges


def _docket_edges(s: Session, nodes: set[str] | None = None) -> list[tuple[str, str, str]]:
    """(docket id, bill id, ``docket``) from the synced documents that have a bill number and from the followed
    bills' own docket numbers; ``nodes``: only those that touch one of these ids (by bill or by docket id)."""
    doc_query = select(Document.session, Document.docket, Document.canonical).where(
        Document.docket.is_not(None), Document.number.is_not(None))
    bill_query = select(Bill.session, Bill.docket, Bill.canonical).where(Bill.docket.is_not(None))
    if nodes is not None:
        if not nodes:
            return []
        dockets = {_number(n) for n in nodes if _is_docket(n)}
        doc_query = doc_query.where(or_(Document.canonical.in_(nodes), Document.docket.in_(dockets)))
        bill_query = bill_query.where(or_(Bill.canonical.in_(nodes), Bill.docket.in_(dockets)))
    out = []
    for query in (doc_query, bill_query):
        for session, docket, canonical in s.execute(query):
            alias = f"{canonical.rsplit('/', 2)[0]}/{session}/{docket}"
            if alias != canonical and (nodes is None or alias in nodes or canonical in nodes):
                out.append((alias, canonical, "docket"))
    return out


def _linked_edges(s: Session) -> list[tuple[str, str, str]]:
    """The edges between bills (handovers in a session, accepted successors across sessions): few, one per
    followed bill at most, so they are read whole (two queries and the bills' names)."""
    out = list(dict.fromkeys(handovers(s)))
    out += [(b, c, "successor") for b, c in s.execute(
        select(Successor.bill, Successor.candidate).where(Successor.state == "accepted").order_by(Successor.id))]
    return list(dict.fromkeys(out))


def edges(s: Session) -> list[tuple[str, str, str]]:
    """Every edge (from, to, relation): ``new-draft``/``study-order`` (same session), ``successor`` (the next
    session, accepted), ``docket`` (the docket number to the bill number)."""
    return list(dict.fromkeys(_linked_edges(s) + _docket_edges(s)))


# -- one bill's lineage ---------------------------------------------------------------------------------------

_NUMBER = re.compile(r"([A-Za-z]+)\.?(\d+)")


def _number(canonical: str) -> str:
    return canonical.rsplit("/", 1)[-1]


def _session(canonical: str) -> int:
    part = canonical.rsplit("/", 2)[-2] if canonical.count("/") >= 2 else ""
    return int(part) if part.isdigit() else 0


def _is_docket(canonical: str) -> bool:
    return _number(canonical).upper().startswith(("HD", "SD"))


def _number_key(number: str) -> tuple:
    m = _NUMBER.fullmatch(number)
    return (m.group(1).upper(), int(m.group(2))) if m else (number.upper(), 0)


def lineage_of(s: Session, canonical: str) -> list[dict]:
    """The direct edges of one bill, as ``tracker bill`` and the API give them: ``{"bill", "relation",
    "direction"}``, where ``direction`` is ``from`` (the other bill came first: this one comes from it) or
    ``to`` (this one leads to the other); those it comes from first, then by session and number."""
    touching = [e for e in _linked_edges(s) if canonical in e[:2]] + _docket_edges(s, {canonical})
    out = []
    for a, b, relation in dict.fromkeys(touching):
        other, direction = (a, "from") if b == canonical else (b, "to")
        out.append({"bill": other, "relation": relation, "direction": direction})
    out.sort(key=lambda e: (e["direction"] != "from", _session(e["bill"]), _number_key(_number(e["bill"]))))
    return out


def chain(s: Session, canonical: str) -> dict:
    """The whole graph connected to ``canonical`` through any edge, either way: ``{"bill", "nodes", "edges"}``.

    ``nodes`` are ordered by session then number (a docket number just before the bill it became), each
    ``{"bill", "session", "number", "title", "followed", "in_docket", "docket_of"}``: ``followed`` when the
    tracker has the bill (it has a page), ``in_docket`` when a synced docket has the document, ``docket_of`` the
    bill a docket number became (else None). ``edges`` are ``{"from", "to", "relation"}``. Reads a handful of
    queries whatever the size of the graph (one per kind of edge, one more per round of docket numbers)."""
    linked = _linked_edges(s)
    adjacent: dict[str, set[tuple[str, str, str]]] = {}
    for edge in linked:
        for end in edge[:2]:
            adjacent.setdefault(end, set()).add(edge)
    nodes, found, frontier = {canonical}, [], [canonical]
    docket_seen: set[str] = set()
    while frontier:
        while frontier:  # breadth first through the bills' own edges
            node = frontier.pop()
            for edge in adjacent.get(node, ()):
                if edge not in found:
                    found.append(edge)
                for end in edge[:2]:
                    if end not in nodes:
                        nodes.add(end)
                        frontier.append(end)
        ask = nodes - docket_seen  # docket numbers join a bill to the id a successor row may still use
        docket_seen |= ask
        for edge in _docket_edges(s, ask):
            if edge not in found:
                found.append(edge)
            for end in edge[:2]:
                if end not in nodes:
                    nodes.add(end)
                    frontier.append(end)
    return {"bill": canonical, "nodes": _nodes(s, nodes, found),
            "edges": [{"from": a, "to": b, "relation": r} for a, b, r in found]}


def _nodes(s: Session, ids: set[str], found: list[tuple[str, str, str]]) -> list[dict]:
    bills = {c: t for c, t in s.execute(select(Bill.canonical, Bill.title).where(Bill.canonical.in_(ids)))}
    documents = {c: t for c, t in s.execute(select(Document.canonical, Document.title)
                                            .where(Document.canonical.in_(ids)))}
    alias_of = {a: b for a, b, r in found if r == "docket"}
    out = []
    for node in ids:
        target = alias_of.get(node)
        title = bills.get(node) or documents.get(node) or (bills.get(target) or documents.get(target)
                                                           if target else None)
        out.append({"bill": node, "session": _session(node), "number": _number(node), "title": title,
                    "followed": node in bills, "in_docket": node in documents or (target in documents),
                    "docket_of": target})

    def key(n: dict) -> tuple:
        anchor = n["docket_of"] or n["bill"]
        return n["session"], _number_key(_number(anchor)), n["docket_of"] is None

    return sorted(out, key=key)


def steps(graph: dict) -> list[dict]:
    """``chain``'s graph as the pages and ``tracker bill`` show it: each bill (not the docket numbers that
    became one), in order, with ``came_from`` (``[{"bill", "relation"}]``: the edges into it from other
    bills), ``dockets`` (the docket numbers it was filed under) and ``current`` (the bill asked about)."""
    dockets: dict[str, list[str]] = {}
    came_from: dict[str, list[dict]] = {}
    for e in graph["edges"]:
        if e["relation"] == "docket":
            dockets.setdefault(e["to"], []).append(_number(e["from"]))
        else:
            came_from.setdefault(e["to"], []).append({"bill": e["from"], "relation": e["relation"]})
    return [node | {"came_from": came_from.get(node["bill"], []), "dockets": dockets.get(node["bill"], []),
                    "current": node["bill"] == graph["bill"]}
            for node in graph["nodes"] if node["docket_of"] is None]


# -- where a bill continues ---------------------------------------------------------------------------------


def continuation(edges: list[tuple[str, str, str]], canonical: str) -> str | None:
    """Where the fight for ``canonical`` goes on, from the lineage's ``edges`` (``_linked_edges``): the last
    bill reached through accepted successors (from the bill or from any bill of its session it is a draft or
    study order of: H.5091, a new draft of H.135, continues where H.135 was re-filed), then through new drafts
    in that session. None when it continues nowhere else."""
    forward: dict[str, list[tuple[str, str]]] = {}
    same_session: dict[str, set[str]] = {}
    for a, b, relation in edges:
        forward.setdefault(a, []).append((b, relation))
        if relation != "successor":
            same_session.setdefault(a, set()).add(b)
            same_session.setdefault(b, set()).add(a)
    current, seen = canonical, {canonical}
    while True:
        family, todo = {current}, [current]
        while todo:
            for other in same_session.get(todo.pop(), ()):
                if other not in family:
                    family.add(other)
                    todo.append(other)
        nxt = sorted(b for n in family for b, r in forward.get(n, ()) if r == "successor" and b not in seen)
        if not nxt:
            break
        current = nxt[0]
        seen.add(current)
    while True:  # the newest draft of it in its own session
        drafts = sorted(b for b, r in forward.get(current, ()) if r == "new-draft" and b not in seen)
        if not drafts:
            break
        current = drafts[0]
        seen.add(current)
    return None if current == canonical else current


def linked_edges(s: Session) -> list[tuple[str, str, str]]:
    """The edges between bills (new drafts and study orders in a session, accepted successors across)."""
    return _linked_edges(s)
