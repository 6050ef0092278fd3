"""The replica's mutable in-memory model of malegislature.gov.

A :class:`Replica` holds documents (bills, and dockets that have no bill number yet) keyed by
``(session, number)`` (the docket number for a docket-only document), the directory
(committees and legislative members keyed by ``(session, code)``), the fault
switches the server obeys, and a log of every request it served. Tests mutate
it (``add_action``, ``set_chair``, ``api_status = 503``, ``assign_bill_number``, ...) while a
:class:`ReplicaServer` serves it.

Whole dockets (several thousand generated documents around the campaign's real bills) are
opt-in: ``Replica.bundled(dockets={193: 6500, 194: 7000})`` or ``replica.add_docket(194, 200)``
(see :mod:`tracker.replica.docket`).
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
from tracker.replica.texts import texts_for
from tracker.replica.wire import WireFaults

LOCAL_TZ = ZoneInfo("America/New_York")
_LOCAL_ISO = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.(\d{1,7}))?$")
_COMMITTEE_CODE = re.compile(r"^[JHS]\d{1,3}$")
_NUMBER = re.compile(r"^([A-Za-z]+)(\d+)$")
# the Documents endpoints, as RequestLog.path_counts() spells paths: gc, then the id, then the history
_DOC_PATH = re.compile(r"^/api/generalcourts/(\d+)/documents(?:/([a-z]+\d+)(/documenthistoryactions)?)?$")


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
    """One document of a General Court: a bill (``number`` set) or a docket-only document
    (``number`` None, ``docket`` set: the list shows it with ``BillNumber: null``)."""

    session: int
    number: str | None  # "H135"; None for a docket-only document
    title: str | None
    docket: str | None = None
    sponsor: tuple[str | None, str] | None = None  # (member code or committee code or None, name)
    petitioners: list[tuple[str | None, str]] = field(default_factory=list)  # includes the sponsor
    pinslip: str | None = None
    history: list[dict] = field(default_factory=list)  # {"Date", "Branch", "Action", "IsStricken"}
    # the API's Similar list (``/Documents/{id}/Similar``) and the bill page's "Similar Bills": "S47" is a
    # document of the same General Court, "193/H1728" one of another
    similar: list[str] = field(default_factory=list)
    # the rest of the document detail (sources.md 2.2)
    joint_sponsor: tuple[str | None, str] | None = None  # 193rd on: the JointSponsor, or None
    text: str | None = None  # DocumentText
    # the HTML text pages (/Bills/{gc}/{id}.Html, .../Bill/Text): None shows ``text``; "" an empty page
    page_text: str | None = None
    # the text pages' bytes are in this encoding, whatever they declare (always UTF-8): "windows-1252"
    # serves the wrong-declared variant
    page_encoding: str = "utf-8"
    legislation_type: str = "Bill"  # LegislationTypeName: "Bill", "Resolve", "Order", ...
    emergency_preamble: str | None = None
    sponsor_kind: int | None = None  # the lead sponsor's Type when not derived from its code (4: special request)
    filed: str | None = None  # local ISO time the document was filed (the sponsors' ResponseDate, 193rd on)
    # how the document list shows it
    details_null: bool = False  # the list row's Details is null (about 1.6% of real rows)
    listed: bool = True  # False: gone from the list, the detail still answers
    detail_status: int | None = None  # the detail (and its history) answers this status: 500 "Oh My Cod!" or 400
    # the Similar endpoint answers this status instead of the list: 400 (the API's "Could not locate any public
    # Documents in General Court" error, as it answers for some real bills) or 500 ("Oh My Cod!")
    similar_status: int | None = None
    # bookkeeping: bumped on every change so cached renderings are dropped
    version: int = 0
    modified: float = field(default_factory=lambda: float(int(time.time())))
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        if not self.number and not self.docket:
            raise ValueError("a document needs a bill number or a docket number")

    @property
    def ident(self) -> str:
        """The id the site files it under: the bill number, or the docket number while it has none."""
        return self.number or self.docket  # type: ignore[return-value]

    @property
    def docket_only(self) -> bool:
        return not self.number

    @property
    def key(self) -> tuple[int, str]:
        return (self.session, self.ident.upper())

    def similar_keys(self) -> list[tuple[int, str]]:
        """``similar`` as ``(session, id)`` pairs: ``"H1728"`` is of this document's General Court,
        ``"193/H1728"`` of the 193rd."""
        out = []
        for entry in self.similar:
            gc, _, ident = entry.rpartition("/")
            out.append((int(gc) if gc else self.session, ident))
        return out

    def shown_text(self) -> str:
        """What the HTML text pages show: ``page_text`` when set, else ``DocumentText`` ("" for none)."""
        return (self.page_text if self.page_text is not None else self.text) or ""

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
            number=d.get("number"),
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
            similar_status=d.get("similar_status"),
            joint_sponsor=tuple(d["joint_sponsor"]) if d.get("joint_sponsor") else None,  # type: ignore[arg-type]
            text=d.get("text"),
            page_text=d.get("page_text"),
            legislation_type=d.get("legislation_type") or "Bill",
            filed=local_iso(d.get("filed")),
        )


ReplicaDocument = ReplicaBill  # the docket's word for it


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
    """Documents, the directory, fault switches and a request log, shared with the server threads.

    Every mutator takes ``lock`` (the server renders under it too), so tests may change the
    replica while a sync runs against it.
    """

    def __init__(self, bills: Iterable[ReplicaBill] = (), directory: dict | None = None):
        """``directory`` is ``{"committees": [...], "members": [...]}`` as in ``data/directory.json``
        (the default); pass ``{}`` for a replica with no committees or members."""
        self.lock = threading.RLock()
        self.bills: dict[tuple[int, str], ReplicaBill] = {}  # every document, keyed by (session, ident)
        # (session, docket number) -> key of the bill that carries that docket number (the alias
        # through which a docket that got its bill number is still found)
        self.dockets: dict[tuple[int, str], tuple[int, str]] = {}
        self.committees: dict[tuple[int, str], ReplicaCommittee] = {}
        self.members: dict[tuple[int, str], ReplicaMember] = {}
        self.requests: list[tuple[str, str, dict]] = []  # (method, path, headers), oldest first
        self.log_limit: int | None = None  # keep only the last N entries (a long-running demo server)
        self._request_total = 0
        self._generations: dict[int, int] = {}  # per session, bumped by every change (the list cache)
        self.wire = WireFaults()  # faults on the wire, by path prefix (tracker.replica.wire)
        # fault switches
        self.api_status: int | None = None  # every /api/ request answers this status
        # General Courts the API does not know (yet): session -> the status every
        # /api/GeneralCourts/{gc}/... request answers (400, or 500 with the "Oh My Cod!" page)
        self.unknown_sessions: dict[int, int] = {}
        self.broken_layout: set[tuple[int, str]] = set()  # bill pages without the history table
        self.malformed_json: set[tuple[int, str]] = set()  # truncated DocumentHistoryActions
        self.history_page_size: int = 10
        self.etags: bool = True  # ETag/Last-Modified + 304 answers
        # every answer waits this long, outside the lock: a slow or hung site, or the latency of a
        # benchmark (0.02: 20 ms a request; concurrent requests wait side by side)
        self.delay_s: float = 0.0
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
        """The document filed as ``number``: a bill number, a docket-only document's docket number,
        or the docket number of a bill (an alias: the bill it became)."""
        key = self._key(session, number)
        b = self.bills.get(key)
        if b is None:
            alias = self.dockets.get(key)
            if alias is not None:
                b = self.bills.get(alias)
        return b

    def bill(self, session: int, number: str) -> ReplicaBill:
        b = self.get(session, number)
        if b is None:
            raise KeyError(f"no bill {session}/{number} in the replica")
        return b

    document = bill

    def __contains__(self, key: tuple[int, str]) -> bool:
        return self._key(*key) in self.bills

    def __len__(self) -> int:
        return len(self.bills)

    def keys(self) -> list[tuple[int, str]]:
        """(session, number) of every document (the docket number of a docket-only one), as spelt."""
        with self.lock:
            return [(b.session, b.ident) for b in self.bills.values()]

    def documents_of(self, session: int, listed: bool = True) -> list[ReplicaBill]:
        """The documents of one General Court in list order; ``listed=False`` adds the ones removed
        from the list whose detail still answers."""
        gc = int(session)
        with self.lock:
            return [b for b in self.bills.values() if b.session == gc and (b.listed or not listed)]

    def sessions(self) -> list[int]:
        with self.lock:
            return sorted({b.session for b in self.bills.values()})

    def generation(self, session: int) -> int:
        """A number that changes whenever a document of ``session`` changes (the list cache's key)."""
        return self._generations.get(int(session), 0)

    def session_status(self, session: int) -> int | None:
        """The status the API answers for a General Court it does not know, or None."""
        return self.unknown_sessions.get(int(session))

    def is_broken(self, bill: ReplicaBill) -> bool:
        return self._in(self.broken_layout, bill)

    def is_malformed(self, bill: ReplicaBill) -> bool:
        return self._in(self.malformed_json, bill)

    @staticmethod
    def _in(switch: set, bill: ReplicaBill) -> bool:
        if not switch:
            return False
        ids = {x.upper() for x in (bill.number, bill.docket) if x}
        return any(int(s) == bill.session and str(n).upper() in ids for s, n in switch)

    # ------------------------------------------------------------------ request counts

    def document_requests(self, session: int | None = None) -> dict[str, int]:
        """How many API requests asked for the document list, for details and for histories (of one
        General Court, or of all): ``{"list": n, "detail": n, "history": n}``. Counts every request
        ever served, even when ``log_limit`` trimmed ``requests``; 304 answers count too."""
        out = {"list": 0, "detail": 0, "history": 0}
        for path, n in self.path_counts().items():
            m = _DOC_PATH.match(path)
            if m is None or (session is not None and int(m.group(1)) != int(session)):
                continue
            kind = "list" if not m.group(2) else ("history" if m.group(3) else "detail")
            out[kind] += n
        return out

    # ------------------------------------------------------------------ mutators

    def _changed(self, session: int) -> None:
        self._generations[int(session)] = self._generations.get(int(session), 0) + 1

    def _index(self, bill: ReplicaBill) -> None:
        if bill.number and bill.docket:
            self.dockets[self._key(bill.session, bill.docket)] = bill.key

    def _unindex(self, bill: ReplicaBill) -> None:
        if bill.docket:
            alias = self._key(bill.session, bill.docket)
            if self.dockets.get(alias) == bill.key:
                del self.dockets[alias]

    def _rekey(self, bill: ReplicaBill, old_key: tuple[int, str]) -> None:
        """``bill`` is now filed under another id: move it, keeping its place in the list."""
        if bill.key == old_key:
            return
        if bill.key in self.bills:
            raise ValueError(f"{bill.session}/{bill.ident} is already in the replica")
        self.bills = {(bill.key if k == old_key else k): v for k, v in self.bills.items()}

    def add_bill(self, bill: ReplicaBill) -> ReplicaBill:
        """Add a document (or replace the one filed under the same id)."""
        with self.lock:
            old = self.bills.get(bill.key)
            if old is not None:
                self._unindex(old)
            self.bills[bill.key] = bill
            self._index(bill)
            self._changed(bill.session)
        return bill

    def add_document(self, session: int, number: str | None = None, docket: str | None = None, *,
                     title: str, **fields) -> ReplicaBill:
        """A new document at the end of the list: a bill (``number``), a docket-only document
        (``docket`` alone) or both; ``fields`` are the other :class:`ReplicaBill` fields
        (sponsor, petitioners, pinslip, text, joint_sponsor, history, ...)."""
        bill = ReplicaBill(session=int(session), number=number, docket=docket, title=title, **fields)
        with self.lock:
            if bill.key in self.bills or (docket and self.get(session, docket) is not None):
                raise ValueError(f"{session}/{bill.ident} (docket {docket}) is already in the replica")
            return self.add_bill(bill)

    def assign_bill_number(self, session: int, docket: str, number: str) -> ReplicaBill:
        """A docket-only document gets its bill number: the list row then has both ``BillNumber``
        and ``DocketNumber``, ``/Documents/{number}`` answers it, and so does ``/Documents/{docket}``
        (the replica's choice: the real site's answer to a bill's docket number is unverified)."""
        with self.lock:
            b = self.get(session, docket)
            if b is None:
                raise KeyError(f"no docket {session}/{docket} in the replica")
            if not b.docket_only:
                raise ValueError(f"{session}/{docket} already has the bill number {b.number}")
            if self.get(session, number) is not None:
                raise ValueError(f"{session}/{number} is already in the replica")
            old_key = b.key
            b.number = number
            self._rekey(b, old_key)
            self._index(b)
            if b.pinslip:  # the pinslip names the bill now: "a petition (accompanied by bill, House, No. 4210) of"
                chamber = "Senate" if number.upper().startswith("S") else "House"
                digits = re.sub(r"\D", "", number)
                kind = "resolve" if b.legislation_type == "Resolve" else "bill"
                b.pinslip = re.sub(r"\b(a (?:joint )?petition) of ",
                                   rf"\1 (accompanied by {kind}, {chamber}, No. {digits}) of ", b.pinslip, count=1)
            b.touch()
            self._changed(b.session)
            return b

    def retitle(self, session: int, number: str, title: str | None) -> ReplicaBill:
        """Change a document's title (the list row and the detail)."""
        return self.update_bill(session, number, title=title)

    def remove_document(self, session: int, number: str, keep_detail: bool = False) -> ReplicaBill:
        """The document vanishes from the list. ``keep_detail``: its detail (and history) still
        answer; otherwise it is gone altogether (500 "Oh My Cod!" like any unknown document)."""
        with self.lock:
            b = self.bill(session, number)
            if keep_detail:
                b.listed = False
                b.touch()
            else:
                self._unindex(b)
                del self.bills[b.key]
            self._changed(b.session)
            return b

    def fail_detail(self, session: int, number: str, status: int = 500) -> None:
        """The document's detail and history answer ``status`` (500: the "Oh My Cod!" page; 400:
        the API's JSON error); its list row stays as it is."""
        if status not in (400, 500):
            raise ValueError(f"a detail fault answers 400 or 500, not {status}")
        self._set_detail_status(session, number, status)

    def heal_detail(self, session: int, number: str) -> None:
        self._set_detail_status(session, number, None)

    def _set_detail_status(self, session: int, number: str, status: int | None) -> None:
        with self.lock:
            b = self.bill(session, number)
            b.detail_status = status
            b.touch()

    def similar_of(self, bill: ReplicaBill) -> list[ReplicaBill]:
        """The documents ``bill.similar`` names that the replica holds, in its order (the others are left out)."""
        with self.lock:
            found = (self.get(gc, ident) for gc, ident in bill.similar_keys())
            return [b for b in found if b is not None]

    def fail_similar(self, session: int, number: str, status: int | None = 400) -> None:
        """The document's Similar endpoint answers ``status`` (400: the API's "Could not locate any public
        Documents" error; 500: "Oh My Cod!"), or its list again (None)."""
        if status not in (None, 400, 500):
            raise ValueError(f"a Similar fault answers 400 or 500, not {status}")
        self.update_bill(session, number, similar_status=status)

    def set_session_unknown(self, session: int, status: int = 400) -> None:
        """The API does not know this General Court (the 195th before it convenes): every
        ``/api/GeneralCourts/{session}/...`` request answers ``status`` (400 with the API's JSON
        error, or 500 with the "Oh My Cod!" page), whatever documents the replica holds for it."""
        if status not in (400, 500):
            raise ValueError(f"an unknown General Court answers 400 or 500, not {status}")
        with self.lock:
            self.unknown_sessions[int(session)] = status

    def set_session_known(self, session: int) -> None:
        """The General Court exists again: its documents (if any) are served."""
        with self.lock:
            self.unknown_sessions.pop(int(session), None)

    def add_documents(self, docs: Iterable[ReplicaBill]) -> list[ReplicaBill]:
        """Add many documents at once, in list order (a generated docket: ``tracker.replica.docket``)."""
        docs = list(docs)
        with self.lock:
            for d in docs:
                self.add_bill(d)
        return docs

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
            self._changed(b.session)
        return row

    def strike_action(self, session: int, number: str, index: int) -> None:
        """Mark history row ``index`` as stricken (the API then flags it; pages omit it)."""
        with self.lock:
            b = self.bill(session, number)
            b.history[index]["IsStricken"] = True
            b.touch()
            self._changed(b.session)

    UPDATABLE = frozenset({"title", "docket", "sponsor", "petitioners", "pinslip", "history", "similar",
                           "similar_status", "joint_sponsor", "text", "page_text", "page_encoding",
                           "legislation_type", "emergency_preamble",
                           "sponsor_kind", "filed", "details_null"})

    TEXT_PLACES = ("both", "api", "page")

    def set_text(self, session: int, number: str, text: str | None, where: str = "both") -> ReplicaBill:
        """A new text for the document, from the next request on: ``where`` "both" (``DocumentText`` and
        the HTML text pages), "api" (``DocumentText`` only: the pages keep what they showed) or "page"
        (the pages only: ``DocumentText`` stays as it is). ``None`` or "" is an empty text."""
        if where not in self.TEXT_PLACES:
            raise ValueError(f"where is one of {', '.join(self.TEXT_PLACES)}, not {where!r}")
        with self.lock:
            b = self.bill(session, number)
            if where == "both":
                return self.update_bill(session, number, text=text, page_text=None)
            if where == "api":
                return self.update_bill(session, number, text=text, page_text=b.shown_text())
            return self.update_bill(session, number, page_text=text or "")

    def update_bill(self, session: int, number: str, **fields) -> ReplicaBill:
        """Change title, pinslip, sponsor, petitioners, history, text, joint sponsor... of a document
        (found by bill or docket number). A new bill number goes through :meth:`assign_bill_number`."""
        with self.lock:
            b = self.bill(session, number)
            for k in fields:
                if k not in self.UPDATABLE:
                    raise AttributeError(f"cannot update {k!r}")
            old_key = b.key
            self._unindex(b)
            for k, v in fields.items():
                setattr(b, k, v)
            if not b.ident:
                raise ValueError("a document needs a bill number or a docket number")
            self._rekey(b, old_key)
            self._index(b)
            b.touch()
            self._changed(b.session)
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
        petitioners), from ``data/directory.json``. Whole dockets of the 193rd and 194th, and
        their directories, are added by ``tracker.replica.docket.with_dockets``. H135, S47 and H5091
        carry the texts of ``data/texts/`` (``tracker.replica.texts``)."""
        return cls(ReplicaBill.from_dict({**d, **texts_for(d["session"], d["number"])})
                   for d in cls.bundled_data()["bills"])

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
