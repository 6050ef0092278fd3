"""Pure parsers for the legislature's directory: committees and legislative members.

The official API (``/api/GeneralCourts/{gc}/Committees``, ``.../Committees/{code}``,
``.../LegislativeMembers``, ``.../LegislativeMembers/{code}``) answers JSON when asked
with ``Accept: application/json``. These functions read those bodies into typed
records: no network, no database. Missing or null fields become None (or empty
lists); a body that is not the JSON it should be raises :class:`DirectoryParseError`
naming the URL and what was wrong.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from spiders.malegislature_parse import is_oh_my_cod
from spiders.records import ParseError

__all__ = [
    "CommitteeRecord",
    "CommitteeRef",
    "DirectoryNotFound",
    "DirectoryParseError",
    "MemberRecord",
    "MemberRef",
    "committee_list_url",
    "committee_url",
    "member_list_url",
    "member_url",
    "parse_committee",
    "parse_committee_list",
    "parse_member",
    "parse_member_list",
]


class DirectoryParseError(ParseError):
    """A directory body is not the JSON it should be (the message names the URL)."""


class DirectoryNotFound(DirectoryParseError):
    """The site answered with its "Oh My Cod!" page: no such committee or member."""


@dataclass(frozen=True)
class CommitteeRef:
    """One row of the committee list."""

    code: str  # "J19"
    session: int | None
    details: str | None = None


@dataclass(frozen=True)
class MemberRef:
    """One row of the member list."""

    code: str  # "JBE0"
    session: int | None
    details: str | None = None


@dataclass
class CommitteeRecord:
    code: str
    session: int | None
    full_name: str | None  # "Joint Committee on the Judiciary"
    short_name: str | None = None  # "Judiciary (J)"
    description: str | None = None
    branch: str | None = None  # "Joint" | "House" | "Senate"
    house_chair: str | None = None  # member code
    senate_chair: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class MemberRecord:
    code: str
    session: int | None
    name: str | None
    branch: str | None = None  # "House" | "Senate"
    district: str | None = None  # "Twenty-Fourth Middlesex"
    party: str | None = None
    email: str | None = None
    phone: str | None = None
    fax: str | None = None
    room: str | None = None
    leadership: str | None = None
    committees: list[str] = field(default_factory=list)  # committee codes

    def to_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------- URLs


def _base(base: str) -> str:
    return base.rstrip("/")


def committee_list_url(base: str, gc: int | str) -> str:
    return f"{_base(base)}/api/GeneralCourts/{gc}/Committees"


def committee_url(base: str, gc: int | str, code: str) -> str:
    return f"{_base(base)}/api/GeneralCourts/{gc}/Committees/{code}"


def member_list_url(base: str, gc: int | str) -> str:
    return f"{_base(base)}/api/GeneralCourts/{gc}/LegislativeMembers"


def member_url(base: str, gc: int | str, code: str) -> str:
    return f"{_base(base)}/api/GeneralCourts/{gc}/LegislativeMembers/{code}"


# --------------------------------------------------------------------------- helpers

_URL_CODE = re.compile(r"/(?:Committees|LegislativeMembers)/([A-Za-z0-9_]+)/?(?:[?#]|$)", re.IGNORECASE)
_URL_GC = re.compile(r"/GeneralCourts/(\d+)/", re.IGNORECASE)


def _load(body: bytes | str | None, url: str, what: str, kind: type) -> Any:
    if isinstance(body, str):
        body = body.encode("utf-8")
    if body is None or not body.strip():
        raise DirectoryParseError(f"empty {what} body from {url}", url=url)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        head = body.lstrip()[:200].lower()
        if head.startswith(b"<"):
            if is_oh_my_cod(body):
                raise DirectoryNotFound(f"{what} not found at {url} (the site's 'Oh My Cod!' page)",
                                        url=url) from None
            if head.startswith(b"<?xml") or b"<array" in head:
                raise DirectoryParseError(f"{what} from {url} is XML, not JSON: send 'Accept: application/json'",
                                          url=url, layout_changed=True) from None
            raise DirectoryParseError(f"{what} from {url} is HTML, not JSON (the API answered with a web page)",
                                      url=url, layout_changed=True) from None
        raise DirectoryParseError(f"malformed JSON in {what} from {url}: {exc}", url=url) from None
    if not isinstance(data, kind):
        want = "a list" if kind is list else "an object"
        raise DirectoryParseError(f"{what} from {url} is {type(data).__name__}, expected {want}",
                                  url=url, layout_changed=True)
    return data


def _text(value: Any) -> str | None:
    """A field as folded text; None for null, empty or a nested object/list."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = " ".join(str(value).split())
    return text or None


def _gc(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _url_gc(url: str) -> int | None:
    m = _URL_GC.search(url)
    return int(m.group(1)) if m else None


def _url_code(url: str) -> str | None:
    m = _URL_CODE.search(url)
    return m.group(1) if m else None


def _code(obj: dict, key: str) -> str | None:
    value = obj.get(key)
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        text = str(value).strip()
        return text or None
    return None


def _member_code_of(ref: Any) -> str | None:
    """``{"GeneralCourtNumber", "MemberCode", "Details"}`` (or null) -> the member code."""
    return _code(ref, "MemberCode") if isinstance(ref, dict) else None


def _rows(data: list, url: str, what: str, key: str) -> list[tuple[str, dict]]:
    rows: list[tuple[str, dict]] = []
    seen: set[str] = set()
    for i, row in enumerate(data):
        if not isinstance(row, dict):
            raise DirectoryParseError(f"row {i} of {what} from {url} is {type(row).__name__}, expected an object",
                                      url=url, layout_changed=True)
        code = _code(row, key)
        if code is None or code.upper() in seen:  # nothing to fetch, or listed twice
            continue
        seen.add(code.upper())
        rows.append((code, row))
    if data and not rows:
        raise DirectoryParseError(f"no row of {what} from {url} has a {key}", url=url, layout_changed=True)
    return rows


# --------------------------------------------------------------------------- parsers


def parse_committee_list(body: bytes | str, url: str) -> list[CommitteeRef]:
    """``[{"CommitteeCode", "GeneralCourtNumber", "Details"}]`` -> refs (rows without a code are skipped)."""
    data = _load(body, url, "committee list", list)
    return [CommitteeRef(code=code, session=_gc(row.get("GeneralCourtNumber")) or _url_gc(url),
                         details=_text(row.get("Details")))
            for code, row in _rows(data, url, "the committee list", "CommitteeCode")]


def parse_member_list(body: bytes | str, url: str) -> list[MemberRef]:
    """``[{"GeneralCourtNumber", "MemberCode", "Details"}]`` -> refs (rows without a code are skipped)."""
    data = _load(body, url, "member list", list)
    return [MemberRef(code=code, session=_gc(row.get("GeneralCourtNumber")) or _url_gc(url),
                      details=_text(row.get("Details")))
            for code, row in _rows(data, url, "the member list", "MemberCode")]


def parse_committee(body: bytes | str, url: str) -> CommitteeRecord:
    """A committee's detail. The code falls back to the one in the URL; chairs may be null."""
    data = _load(body, url, "committee", dict)
    code = _code(data, "CommitteeCode") or _url_code(url)
    if not code:
        raise DirectoryParseError(f"committee from {url} has no CommitteeCode", url=url, layout_changed=True)
    return CommitteeRecord(
        code=code,
        session=_gc(data.get("GeneralCourtNumber")) or _url_gc(url),
        full_name=_text(data.get("FullName")) or _text(data.get("ShortName")),
        short_name=_text(data.get("ShortName")),
        description=_text(data.get("Description")),
        branch=_text(data.get("Branch")),
        house_chair=_member_code_of(data.get("HouseChairperson")),
        senate_chair=_member_code_of(data.get("SenateChairperson")),
    )


def parse_member(body: bytes | str, url: str) -> MemberRecord:
    """A member's detail. The code falls back to the one in the URL; the bill lists are not kept."""
    data = _load(body, url, "member", dict)
    code = _code(data, "MemberCode") or _url_code(url)
    if not code:
        raise DirectoryParseError(f"member from {url} has no MemberCode", url=url, layout_changed=True)
    committees = data.get("Committees")
    if committees is not None and not isinstance(committees, list):
        raise DirectoryParseError(f"member from {url}: Committees is {type(committees).__name__}, expected a list",
                                  url=url, layout_changed=True)
    codes: list[str] = []
    for ref in committees or []:
        c = _code(ref, "CommitteeCode") if isinstance(ref, dict) else None
        if c and c not in codes:
            codes.append(c)
    return MemberRecord(
        code=code,
        session=_gc(data.get("GeneralCourtNumber")) or _url_gc(url),
        name=_text(data.get("Name")),
        branch=_text(data.get("Branch")),
        district=_text(data.get("District")),
        party=_text(data.get("Party")),
        email=_text(data.get("EmailAddress")),
        phone=_text(data.get("PhoneNumber")),
        fax=_text(data.get("FaxNumber")),
        room=_text(data.get("RoomNumber")),
        leadership=_text(data.get("LeadershipPosition")),
        committees=codes,
    )
