"""The replica's mutable in-memory model of malegislature.gov.

A :class:`Replica` holds bills keyed by ``(session, number)``, the directory
(committees and legislative members keyed by ``(session, code)``), the fault
switches the server obeys, and a log of every request it served. Tests mutate
it (``add_action``, ``set_chair``, ``api_status = 503``, ...) while a
:class:`ReplicaServer` serves it.
"""

from __future__ import annotations

import csv
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Iterable
from zoneinfo import ZoneInfo

from tracker.replica.loopback import RequestLog
from tracker.replica.wire import WireFaults

LOCAL_TZ = ZoneInfo("America/New_York")
_LOCAL_ISO = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d{1,7}))?$")
_COMMITTEE_CODE = re.compile(r"^[JHS]\d{1,3}$")
_NUMBER = re.compile(r"^([A-Za-z]+)(\d+)$")


def local_iso(value: str | datetime | None) -> str | None:
    """Normalise a local time to the API's form ``YYYY-MM-DDTHH:MM:SS.fffffff`` (7 digits).

    Accepts ``datetime`` (an aware one is converted to America/New_York), an ISO
    string with 0-7 fractional digits and no offset, a bare date, or None.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(LOCAL_TZ).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%S") + f".{value.microsecond:06d}0"
    text = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        text += "T00:00:00"
    m = _LOCAL_ISO.match(text)
    if not m:
        raise ValueError(f"not a local ISO time (YYYY-MM-DDTHH:MM:SS[.fffffff]): {value!r}")
    return f"{m.group(1)}T{m.group(2)}.{(m.group(3) or '').ljust(7, '0')}"


def utc_to_local_iso(text: str) -> str:
    """``2021-03-30T03:59:59.000Z`` (UTC, as in the MAPLE CSV) -> ``2021-03-29T23:59:59.0000000``."""
    dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return local_iso(dt.astimezone(LOCAL_TZ))


def sponsor_type(code: str | None) -> int:
    """The API's sponsor ``Type``: 1 legislator, 2 committee (codes like J19), 3 public request (no code)."""
    if not code:
        return 3
    return 2 if _COMMITTEE_CODE.match(code) else 1


def dotted(number: str) -> str:
    """``H135`` -> ``H.135`` (how the site prints bill numbers)."""
    m = _NUMBER.match(number)
    return f"{m.group(1)}.{m.group(2)}" if m else number


@dataclass
class ReplicaBill:
    session: int
    number: str  # "H135"
    title: str
    docket: str | None = None
    sponsor: tuple[str | None, str] | None = None  # (member code or committee code or None, name)
    petitioners: list[tuple[str | None, str]] = field(default_factory=list)  # includes the sponsor
    pinslip: str | None = None
    history: list[dict] = field(default_factory=list)  # {"Date", "Branch", "Action", "IsStricken"}
    similar: list[str] = field(default_factory=list)
    # bookkeeping: bumped on every change so cached renderings are dropped
    version: int = 0
    modified: float = field(default_factory=lambda: float(int(time.time())))
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def key(self) -> tuple[int, str]:
        return (self.session, self.number.upper())

    def visible_history(self) -> list[dict]:
        return [h for h in self.history if not h.get("IsStricken")]

    def touch(self) -> None:
        self.version += 1
        self.cache.clear()
        # Last-Modified has one-second resolution: make every change move it forward.
        self.modified = max(float(int(time.time())), self.modified + 1.0)

    @classmethod
    def from_dict(cls, d: dict) -> "ReplicaBill":
        sponsor = d.get("sponsor")
        return cls(
            session=int(d["session"]),
            number=d["number"],
            title=d["title"],
            docket=d.get("docket"),
            sponsor=(sponsor[0], sponsor[1]) if sponsor else None,
            petitioners=[(p[0], p[1]) for p in d.get("petitioners", [])],
            pinslip=d.get("pinslip"),
            history=[
                {
                    "Date": local_iso(h.get("Date")),
                    "Branch": h["Branch"],
                    "Action": h["Action"],
                    "IsStricken": bool(h.get("IsStricken", False)),
                }
                for h in d.get("history", [])
            ],
            similar=list(d.get("similar", [])),
        )


@dataclass
class ReplicaCommittee:
    """A committee of one General Court, as the API's Committees endpoint describes it."""

    session: int
    code: str  # "J19"
    full_name: str  # "Joint Committee on the Judiciary"
    short_name: str | None = None
    description: str | None = None
    branch: str | None = None  # "Joint" | "House" | "Senate"
    house_chair: str | None = None  # member code, or None (e.g. a Senate committee)
    senate_chair: str | None = None

    FIELDS = ("full_name", "short_name", "description", "branch", "house_chair", "senate_chair")

    @property
    def key(self) -> tuple[int, str]:
        return (self.session, self.code.upper())

    @classmethod
    def from_dict(cls, d: dict) -> "ReplicaCommittee":
        return cls(session=int(d["session"]), code=d["code"], full_name=d["full_name"],
                   **{k: d.get(k) for k in cls.FIELDS if k != "full_name"})


@dataclass
class ReplicaMember:
    """A legislative member of one General Court (the API's LegislativeMembers detail)."""

    session: int
    code: str  # "DMR1"
    name: str
    branch: str | None = None  # "House" | "Senate"
    district: str | None = None  # "Twenty-Fourth Middlesex"
    party: str | None = None
    email: str | None = None
    phone: str | None = None
    fax: str | None = None
    room: str | None = None
    leadership: str | None = None
    committees: list[str] = field(default_factory=list)  # codes; the committees it chairs are added

    FIELDS = ("name", "branch", "district", "party", "email", "phone", "fax", "room", "leadership", "committees")

    @property
    def key(self) -> tuple[int, str]:
        return (self.session, self.code.upper())

    @classmethod
    def from_dict(cls, d: dict) -> "ReplicaMember":
        fields = {k: d.get(k) for k in cls.FIELDS if k != "name"}
        fields["committees"] = list(d.get("committees") or [])
        return cls(session=int(d["session"]), code=d["code"], name=d["name"], **fields)


def _synthetic_bill(session: int, number: str) -> ReplicaBill:
    """Plausible, clearly fake metadata for a bill known only from the history CSV."""
    digits = int(re.sub(r"\D", "", number) or 0)
    code = f"ZZ{chr(ord('A') + digits % 26)}{digits % 10}"
    name = f"Replica Member {code}"
    return ReplicaBill(
        session=session,
        number=number,
        title=f"An Act relative to bill {number}",
        sponsor=(code, name),
        petitioners=[(code, name)],
        pinslip=f"By a replica member, a petition (accompanied by bill {dotted(number)}) for legislation "
        f"relative to bill {number} (synthesised by the replica).",
    )


class Replica(RequestLog):
    """Bills, fault switches and a request log, shared with the server threads."""

    def __init__(self, bills: Iterable[ReplicaBill] = (), directory: dict | None = None):
        """``directory`` is ``{"committees": [...], "members": [...]}`` as in ``data/directory.json``
        (the default); pass ``{}`` for a replica with no committees or members."""
        self.lock = threading.RLock()
        self.bills: dict[tuple[int, str], ReplicaBill] = {}
        self.committees: dict[tuple[int, str], ReplicaCommittee] = {}
        self.members: dict[tuple[int, str], ReplicaMember] = {}
        self.requests: list[tuple[str, str, dict]] = []  # (method, path, headers), oldest first
        self.log_limit: int | None = None  # keep only the last N entries (a long-running demo server)
        self._request_total = 0
        self.wire = WireFaults()  # faults on the wire, by path prefix (tracker.replica.wire)
        # fault switches
        self.api_status: int | None = None  # every /api/ request answers this status
        self.broken_layout: set[tuple[int, str]] = set()  # bill pages without the history table
        self.malformed_json: set[tuple[int, str]] = set()  # truncated DocumentHistoryActions
        self.history_page_size: int = 10
        self.etags: bool = True  # ETag/Last-Modified + 304 answers
        self.delay_s: float = 0.0  # every answer waits this long (a slow or hung site)
        self.errors: list[str] = []  # unexpected server-side exceptions (should stay empty)
        # directory faults: every Committees/LegislativeMembers request answers this status, or
        # the details of these (session, code) answer HTTP 500 with the "Oh My Cod!" page
        self.directory_status: int | None = None
        self.directory_errors: set[tuple[int, str]] = set()
        for b in bills:
            self.add_bill(b)
        if directory is None:
            directory = self.bundled_directory()
        for c in directory.get("committees", []):
            self.add_committee(ReplicaCommittee.from_dict(c))
        for m in directory.get("members", []):
            self.add_member(ReplicaMember.from_dict(m))

    # ------------------------------------------------------------------ lookup

    @staticmethod
    def _key(session: int, number: str) -> tuple[int, str]:
        return (int(session), number.upper())

    def get(self, session: int, number: str) -> ReplicaBill | None:
        return self.bills.get(self._key(session, number))

    def bill(self, session: int, number: str) -> ReplicaBill:
        b = self.get(session, number)
        if b is None:
            raise KeyError(f"no bill {session}/{number} in the replica")
        return b

    def __contains__(self, key: tuple[int, str]) -> bool:
        return self._key(*key) in self.bills

    def __len__(self) -> int:
        return len(self.bills)

    def keys(self) -> list[tuple[int, str]]:
        """(session, number) of every bill, numbers as the bills spell them."""
        with self.lock:
            return [(b.session, b.number) for b in self.bills.values()]

    def is_broken(self, bill: ReplicaBill) -> bool:
        return self._in(self.broken_layout, bill)

    def is_malformed(self, bill: ReplicaBill) -> bool:
        return self._in(self.malformed_json, bill)

    @staticmethod
    def _in(switch: set, bill: ReplicaBill) -> bool:
        if not switch:
            return False
        return (bill.session, bill.number) in switch or any(
            int(s) == bill.session and str(n).upper() == bill.number.upper() for s, n in switch
        )

    # ------------------------------------------------------------------ mutators

    def add_bill(self, bill: ReplicaBill) -> ReplicaBill:
        with self.lock:
            self.bills[bill.key] = bill
        return bill

    def add_action(
        self,
        session: int,
        number: str,
        date_local: str | datetime | None,
        branch: str,
        action: str,
        stricken: bool = False,
    ) -> dict:
        """Append a history row. ``date_local`` is America/New_York local time
        (``2022-08-01T10:00:00``, a datetime, or None for an undated row);
        ``action`` is the API's Action text and may hold ``<a>`` markup."""
        row = {"Date": local_iso(date_local), "Branch": branch, "Action": action, "IsStricken": bool(stricken)}
        with self.lock:
            b = self.bill(session, number)
            b.history.append(row)
            b.touch()
        return row

    def strike_action(self, session: int, number: str, index: int) -> None:
        """Mark history row ``index`` as stricken (the API then flags it; pages omit it)."""
        with self.lock:
            b = self.bill(session, number)
            b.history[index]["IsStricken"] = True
            b.touch()

    def update_bill(self, session: int, number: str, **fields) -> ReplicaBill:
        """Change title, pinslip, sponsor, petitioners, history... of a bill."""
        with self.lock:
            b = self.bill(session, number)
            for k, v in fields.items():
                if k not in {"title", "docket", "sponsor", "petitioners", "pinslip", "history", "similar"}:
                    raise AttributeError(f"cannot update {k!r}")
                setattr(b, k, v)
            b.touch()
            return b

    # ------------------------------------------------------------------ directory

    def committee(self, session: int, code: str) -> ReplicaCommittee | None:
        return self.committees.get(self._key(session, code))

    def member(self, session: int, code: str) -> ReplicaMember | None:
        return self.members.get(self._key(session, code))

    def committees_of(self, session: int) -> list[ReplicaCommittee]:
        with self.lock:
            return [c for c in self.committees.values() if c.session == int(session)]

    def members_of(self, session: int) -> list[ReplicaMember]:
        with self.lock:
            return [m for m in self.members.values() if m.session == int(session)]

    def member_committees(self, member: ReplicaMember) -> list[str]:
        """The committee codes a member sits on: the listed ones, then the ones it chairs."""
        with self.lock:
            codes = list(member.committees)
            code = member.code.upper()
            for c in self.committees_of(member.session):
                if code in {(c.house_chair or "").upper(), (c.senate_chair or "").upper()} and c.code not in codes:
                    codes.append(c.code)
            return codes

    def directory_fails(self, session: int, code: str) -> bool:
        return any(int(s) == int(session) and str(c).upper() == code.upper() for s, c in self.directory_errors)

    def add_committee(self, committee: ReplicaCommittee) -> ReplicaCommittee:
        with self.lock:
            self.committees[committee.key] = committee
        return committee

    def add_member(self, member: ReplicaMember) -> ReplicaMember:
        with self.lock:
            self.members[member.key] = member
        return member

    def remove_committee(self, session: int, code: str) -> None:
        with self.lock:
            del self.committees[self._key(session, code)]

    def remove_member(self, session: int, code: str) -> None:
        with self.lock:
            del self.members[self._key(session, code)]

    def update_committee(self, session: int, code: str, **fields) -> ReplicaCommittee:
        """Change full_name, short_name, description, branch, house_chair or senate_chair."""
        with self.lock:
            c = self.committee(session, code)
            if c is None:
                raise KeyError(f"no committee {session}/{code} in the replica")
            for k, v in fields.items():
                if k not in ReplicaCommittee.FIELDS:
                    raise AttributeError(f"cannot update {k!r}")
                setattr(c, k, v)
            return c

    def set_chair(self, session: int, committee: str, branch: str, member_code: str | None) -> ReplicaCommittee:
        """Make ``member_code`` (or nobody, None) the House or Senate chair of ``committee``."""
        if branch not in ("House", "Senate"):
            raise ValueError(f"branch must be 'House' or 'Senate', not {branch!r}")
        return self.update_committee(session, committee, **{f"{branch.lower()}_chair": member_code})

    def update_member(self, session: int, code: str, **fields) -> ReplicaMember:
        """Change name, branch, district, party, email, phone, fax, room, leadership or committees."""
        with self.lock:
            m = self.member(session, code)
            if m is None:
                raise KeyError(f"no member {session}/{code} in the replica")
            for k, v in fields.items():
                if k not in ReplicaMember.FIELDS:
                    raise AttributeError(f"cannot update {k!r}")
                setattr(m, k, v)
            return m

    # ------------------------------------------------------------------ constructors

    @staticmethod
    def bundled_directory() -> dict:
        """Committees and members of the 192nd General Court, from ``data/directory.json``."""
        text = resources.files("tracker.replica").joinpath("data/directory.json").read_text(encoding="utf-8")
        return json.loads(text)

    @staticmethod
    def bundled_data() -> dict:
        text = resources.files("tracker.replica").joinpath("data/bills.json").read_text(encoding="utf-8")
        return json.loads(text)

    @classmethod
    def bundled(cls) -> "Replica":
        """H135, S47 (192nd) and their successors H5091 and S3063, from ``data/bills.json``, and the
        192nd's directory (the committees those bills went to, their chairs, the sponsors and
        petitioners), from ``data/directory.json``."""
        return cls(ReplicaBill.from_dict(d) for d in cls.bundled_data()["bills"])

    @classmethod
    def from_csv(cls, path: str | Path, limit: int | None = None, session: int = 192) -> "Replica":
        """Bills from the MAPLE history CSV (``id,action,branch,date``, dates UTC ``…Z``).

        The first ``limit`` distinct bill ids in file order are kept; rows keep
        their CSV order within a bill. Bills that are in ``data/bills.json`` get
        its title, sponsor and petitioners; the others get synthesised ones.
        """
        known = {(int(d["session"]), d["number"].upper()): d for d in cls.bundled_data()["bills"]}
        histories: dict[str, list[dict]] = {}
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                number = row["id"].strip()
                if number not in histories:
                    if limit is not None and len(histories) >= limit:
                        continue
                    histories[number] = []
                date = row.get("date") or ""
                histories[number].append(
                    {
                        "Date": utc_to_local_iso(date) if date.strip() else None,
                        "Branch": row["branch"],
                        "Action": row["action"],
                        "IsStricken": False,
                    }
                )
        replica = cls()
        for number, history in histories.items():
            meta = known.get((session, number.upper()))
            if meta is not None:
                bill = ReplicaBill.from_dict({**meta, "history": []})
                # keep the bundled markup (e.g. the <a> in "see S3063") when the text is the same
                marked = {_plain(h["Action"]): h["Action"] for h in meta.get("history", [])}
                for h in history:
                    h["Action"] = marked.get(h["Action"], h["Action"])
            else:
                bill = _synthetic_bill(session, number)
            bill.history = history
            replica.add_bill(bill)
        return replica


def _plain(action: str) -> str:
    return re.sub(r"<[^>]*>", "", action)
