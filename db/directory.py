"""Lookups over the stored directory of the legislature, for alerts and pages: who holds a bill
(``committee_for``, ``chairs``), who sponsored it (``member``), and a supporter's own legislators
(``legislators_for``, ``districts``). ``tracker.directory`` fetches and stores the directory."""

from __future__ import annotations

import html
import re
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Committee, Legislator


# --------------------------------------------------------------------------- committees


_PUNCT = re.compile(r"[^\w\s]+")
_BRANCH = re.compile(r"^(joint|house|senate)\s+(.+)$")
_COMMITTEE_ON = re.compile(r"^committee\s+(?:on|for)\s+")
_THE = re.compile(r"^the\s+")


def committee_key(name: str) -> tuple[str | None, str]:
    """``"House Committee on Ways and Means"`` and ``"House Ways and Means"`` -> ``("House", "ways and means")``;
    ``"Joint Committee on the Judiciary"`` -> ``("Joint", "judiciary")``, ``"The Judiciary"`` -> ``(None, "judiciary")``.
    Case, punctuation, "the" and "committee on" do not count."""
    text = html.unescape(name).casefold().replace("&", " and ")
    text = " ".join(_PUNCT.sub(" ", text).split())
    text = _THE.sub("", text)
    branch = None
    m = _BRANCH.match(text)
    if m:
        branch, text = m.group(1).title(), m.group(2)
    text = _THE.sub("", _COMMITTEE_ON.sub("", text))
    return branch, text.removesuffix(" committee")


def committee_for(s: Session, session: int, name: str | None) -> Committee | None:
    """The stored committee a bill's ``committee`` text names (as the crawl stores it:
    "The Judiciary", "House Ways and Means", "Senate Rules", ...), or None.

    A name that says its branch ("House Ways and Means") matches only a committee of that
    branch; one that does not ("The Judiciary") prefers the joint committee. A committee
    code ("J19") matches too. An ambiguous name matches nothing.
    """
    if not name or not name.strip():
        return None
    rows = list(s.scalars(select(Committee).where(Committee.session == session).order_by(Committee.code)))
    for c in rows:
        if c.code.upper() == name.strip().upper():
            return c
    want_branch, want = committee_key(name)
    if not want:
        return None
    found: list[tuple[Committee, str | None]] = []
    for c in rows:
        for candidate in (c.full_name, c.short_name):
            if not candidate:
                continue
            branch, key = committee_key(candidate)
            if key == want:
                found.append((c, (c.branch or branch or "").title() or None))
                break
    if want_branch:
        found = [(c, b) for c, b in found if b in (None, want_branch)]
    elif len(found) > 1:
        joint = [(c, b) for c, b in found if b == "Joint"]
        found = joint or found
    return found[0][0] if len(found) == 1 else None


def chairs(s: Session, committee: Committee) -> list[Legislator]:
    """The committee's chairs that are in the stored directory: the House chair first, then the Senate chair."""
    out = []
    for code in (committee.house_chair_code, committee.senate_chair_code):
        if code:
            legislator = member(s, committee.session, code)
            if legislator is not None and legislator not in out:
                out.append(legislator)
    return out


def member(s: Session, session: int, code: str | None) -> Legislator | None:
    """The legislator with this member code ("DMR1") in this General Court, or None."""
    if not code or not code.strip():
        return None
    return s.scalar(select(Legislator).where(Legislator.session == session,
                                             func.upper(Legislator.member_code) == code.strip().upper()))


# --------------------------------------------------------------------------- districts


class Delegation(NamedTuple):
    """A supporter's own legislators (None when the district is unknown or vacant)."""

    representative: Legislator | None
    senator: Legislator | None


_UNITS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
          "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
          "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
          "twentieth": 20, "thirtieth": 30, "fortieth": 40}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40}
_NUMERIC = re.compile(r"^(\d+)(?:st|nd|rd|th)?$")


def normalize_district(text: str | None) -> str:
    """A district name compared case-, whitespace- and punctuation-insensitively, with ordinals
    as numbers: "Twenty-Fourth Middlesex", "24th  middlesex" and "24th Middlesex District" are
    all ``"24 middlesex"``; "Middlesex & Worcester" is "middlesex and worcester"."""
    if not text:
        return ""
    words = _PUNCT.sub(" ", text.casefold().replace("&", " and ")).split()
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        m = _NUMERIC.match(w)
        if m:
            out.append(str(int(m.group(1))))
        elif w in _TENS and i + 1 < len(words) and words[i + 1] in _UNITS and _UNITS[words[i + 1]] < 10:
            out.append(str(_TENS[w] + _UNITS[words[i + 1]]))
            i += 1
        elif w in _UNITS:
            out.append(str(_UNITS[w]))
        else:
            out.append(w)
        i += 1
    if out and out[0] == "the":
        out = out[1:]
    if len(out) > 1 and out[-1] == "district":
        out = out[:-1]
    return " ".join(out)


def _in_district(s: Session, session: int, branch: str, district: str | None) -> Legislator | None:
    want = normalize_district(district)
    if not want:
        return None
    rows = s.scalars(select(Legislator).where(Legislator.session == session, Legislator.branch == branch,
                                              Legislator.district.is_not(None)).order_by(Legislator.member_code))
    return next((r for r in rows if normalize_district(r.district) == want), None)


def legislators_for(s: Session, session: int, house_district: str | None,
                    senate_district: str | None) -> Delegation:
    """The representative of ``house_district`` and the senator of ``senate_district``."""
    return Delegation(_in_district(s, session, "House", house_district),
                      _in_district(s, session, "Senate", senate_district))


def districts(s: Session, session: int) -> dict[str, list[str]]:
    """The stored districts of a General Court, ``{"House": [...], "Senate": [...]}``, each sorted."""
    out: dict[str, list[str]] = {"House": [], "Senate": []}
    rows = s.execute(select(Legislator.branch, Legislator.district).where(
        Legislator.session == session, Legislator.district.is_not(None)).distinct())
    for branch, district in rows:
        if branch in out and district.strip():
            out[branch].append(district)
    return {branch: sorted(set(names)) for branch, names in out.items()}
