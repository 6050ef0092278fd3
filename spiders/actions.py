"""Reading malegislature.gov bill-history actions.

Pure functions over the ``Action`` text of a bill's history (and over a list of
``HistoryAction`` rows): no I/O, precompiled regexes, cheap enough to run on every
crawled row.

* :func:`classify` -- the kinds of one action (``["referral"]``,
  ``["engrossed", "reading-3"]``, ...; ``["other"]`` when no rule knows it).
* :func:`parse_hearing` -- the :class:`~spiders.records.Hearing` a hearing row
  announces, reschedules or cancels.
* :func:`referenced_bill` -- the bill a new draft / study order hands the bill over to.
* :func:`committee_of` / :func:`current_committee` -- where the bill was sent / sits.
* :func:`stage` -- one coarse status for a whole history.

The phrasings were taken from the 45,472 actions of the 192nd General Court
(``tests/data/ma-192-history-actions.csv``); the rules match case-insensitively,
tolerate missing or repeated whitespace and a few common typos of the clerks
("Refererd", "Rules supended", "Red second", "Billreported").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache

from spiders.records import Hearing, HistoryAction

__all__ = [
    "KINDS",
    "STAGES",
    "classify",
    "parse_hearing",
    "referenced_bill",
    "committee_of",
    "committee_named",
    "current_committee",
    "stage",
    "TEXT_KINDS",
    "text_changes",
]

_FLAGS = re.IGNORECASE


def _rx(pattern: str) -> re.Pattern[str]:
    """Compile ``pattern`` case-insensitively; every literal space in it means
    "any whitespace, possibly none" (``\\s*``), so "Billreported", "second,amended"
    and doubled spaces still match. Patterns never put a space inside ``[...]``."""
    return re.compile(pattern.replace(" ", r"\s*"), _FLAGS)


def _norm(text: str) -> str:
    """Fold all whitespace (incl. NBSP, newlines) to single spaces and trim."""
    return " ".join(text.split())


# --------------------------------------------------------------------------------------
# classify
# --------------------------------------------------------------------------------------

#: Every kind :func:`classify` can return, in the order it returns them
#: (roughly the order of the legislative process).
KINDS: tuple[str, ...] = (
    "hearing-scheduled",
    "hearing-rescheduled",
    "hearing-canceled",
    "referral",
    "discharge",
    "recommitted",
    "reporting-date-extended",
    "reported",
    "reported-favorably",
    "ought-to-pass",
    "reported-adversely",
    "ought-not-to-pass",
    "study-order",
    "new-draft",
    "new-text",
    "substituted",
    "accompanied",
    "consolidated",
    "concurred",
    "non-concurred",
    "insisted",
    "receded",
    "reading-1",
    "reading-2",
    "ordered-third-reading",
    "reading-3",
    "title-changed",
    "amendment-adopted",
    "amendment-rejected",
    "amendment-pending",
    "amendment-text",
    "reprinted",
    "laid-aside",
    "point-of-order",
    "rules-suspended",
    "orders-of-the-day",
    "taken-out-of-orders",
    "postponed",
    "engrossed",
    "conference-committee",
    "report-accepted",
    "adopted",
    "rejected",
    "motion-negatived",
    "reconsidered",
    "subject-matter-order",
    "emergency-preamble",
    "enacted",
    "laid-before-governor",
    "governor-amendment",
    "signed",
    "chaptered",
    "vetoed",
    "veto-overridden",
    "placed-on-file",
    "withdrawn",
    "joint-session",
    "secretary-of-state",
    "taken-from-files",
    "cross-reference",
    "roll-call",
    "standing-vote",
    "other",
)
_KIND_INDEX = {k: i for i, k in enumerate(KINDS)}

# Verbs that send a bill to a committee, incl. the typos seen in the data.
_REFER = r"(?:referred|refered|refererd|refererrd|transferred)"
_SEND = r"(?:referred|refered|refererd|refererrd|transferred|discharged|recommitted)"

# (kind, prefilter, regex, exclusion). ``prefilter`` is a lower-case substring the
# (lower-cased) text must contain for the regex to be tried at all: it keeps classify
# fast. ``exclusion`` (optional) vetoes the rule when it matches.
_RawRule = tuple[str, str, str, str | None]
_RAW_RULES: tuple[_RawRule, ...] = (
    # hearings
    ("hearing-scheduled", "hearing", r"^hearing scheduled (?:for|from|on)\b", None),
    ("hearing-rescheduled", "hearing", r"^hearing re-?scheduled\b", None),
    ("hearing-rescheduled", "location", r"^location changed\b.*\bhearing\b", None),
    ("hearing-rescheduled", "hearing", r"\bhearing (?:updated|(?:location|time|date) changed)\b", None),
    ("hearing-canceled", "hearing", r"\bhearing (?:cancell?ed|postponed)\b", None),
    # committees
    ("referral", "re", _REFER + r"(?: on motion)?(?: \([^)]*\))? (?:to )?(?:the )?(?:temporary )?committee (?:on|of)\b", None),
    ("referral", "referral", r"\breferral to (?:the )?committee on\b", r"\breceded from its referral\b(?!.*\bconcurred in the referral\b)"),
    ("discharge", "discharged", r"\bdischarged (?:to|from)\b", None),
    ("recommitted", "recommitted", r"\brecommitted\b", None),
    ("reporting-date-extended", "reporting", r"\breporting date extended\b", None),
    ("reporting-date-extended", "reporting", r"\bchanging (?:the )?reporting date\b", None),
    # committee reports
    ("reported", "report", r"^reported\b(?! ,? (?:favorably|adversely)\b)", None),
    ("reported", "report", r"\bseverally reported\b|\bsection reported from\b", None),
    ("reported", "report", r"^committee reported(?:,? in each instance,?)? that\b", None),
    ("reported", "report", r", reported\b(?! ,? (?:favorably|adversely)\b)", None),
    ("reported", "recommended that", r"^committee recommended that the matter\b", None),
    ("reported-favorably", "favorabl", r"reported favorably|\breported, in part, favorably\b", None),
    ("reported-favorably", "ought", r"\bcommittee (?:recommended|recommends|reported)(?: bill)?(?:, in part,)? ought to (?:pass|be adopted|be approved)\b", None),
    ("ought-to-pass", "ought", r"\bought to (?:pass|be adopted|be approved)\b", None),
    ("reported-adversely", "adversely", r"\breported adversely\b", None),
    ("ought-not-to-pass", "ought", r"\bought not to pass\b", None),
    # replacement and cross-bill links
    ("study-order", "study", r"\bstudy order\b", None),
    ("new-draft", "new draft", r"\bnew draft\b", None),
    ("new-draft", "substitut", r"\bsubstitut\w* (?:there ?for|thereof|therefore)? ?a (?:bill|new draft)\b", None),
    ("new-draft", "substitut", r"\bsubstitution of a bill\b|\bsubstituted by a bill\b", None),
    ("new-text", "new text", r"new text\b", None),
    ("new-text", "text of", r"\binserting (?:in (?:the )?place thereof |in place there of |in place )?(?:the |a duplicate of the )?text of\b", None),
    ("new-text", "enacting clause", r"\bstriking out all after the enacting clause\b", None),
    ("substituted", "substitut", r"^substitute(?:d)?\b|\bsubstituted by\b|\bsubstitution of\b", None),
    ("substituted", "substituted", r"\bnew draft\b[^,]*\bsubstituted\b", None),
    ("accompanied", "accompan", r"^accompan(?:ied|ying)\b(?! a (?:study order|new draft)\b)", None),
    ("consolidated", "consolidated", r"^consolidated with\b", None),
    # the other branch
    ("concurred", "concur", r"(?<!non-)(?<!non\x20)\bconcur(?:red|s)?\b|\bin concurrence\b", None),
    ("non-concurred", "non", r"\bnon-? ?concurred\b", None),
    ("insisted", "insist", r"\binsist(?:ed|s)\b", None),
    ("receded", "receded", r"\breceded\b", None),
    # readings
    ("reading-1", "read", r"^read(?: ?[;,]| and\b| for\b|$)", None),
    ("reading-2", "second", r"\bre(?:a)?d,? second\b|\bread a second time\b", None),
    ("ordered-third-reading", "third reading", r"\bordered to a third reading\b", None),
    ("reading-3", "third", r"\bread,? third\b|\bread a third time\b", None),
    ("title-changed", "title changed", r"\(title changed\)", None),
    # amendments
    ("amendment-adopted", "amend", r"\bamendments?\b.*?\b(?:adopted|agreed to|accepted)\b", r"reporting date"),
    ("amendment-adopted", "amended", r"(?<!as\x20)(?<!as,\x20)(?<!published\x20)(?<!printed\x20)\bamended\b", None),
    ("amendment-adopted", "further amendment", r"\bwith a (?:still )?further amendment\b", None),
    ("amendment-rejected", "amend", r"\bamendments?\b.*?\b(?:rejected|negatived)\b", None),
    ("amendment-pending", "pending", r"\bamendments?\b.*\bpending$|^pending amendment\b", r"\bwith the amendments?\b"),
    ("amendment-text", "text of", r"\btext of\b[^,]*\bamendments?\b", None),
    ("reprinted", "as amended", r"\b(?:re)?printed,? as amended\b|\bpublished,? as amended\b", None),
    ("reprinted", "reprinted", r"^reprinted\b", None),
    # floor procedure
    ("laid-aside", "laid aside", r"\blaid aside\b", None),
    ("point-of-order", "point of order", r"\bpoint of order\b", None),
    ("rules-suspended", "rule", r"\brules? (?:\w+ )?(?:suspended|supended|suspedned)\b", None),
    ("orders-of-the-day", "orders of the day", r"\bplaced in (?:the )?orders of the day\b", None),
    ("orders-of-the-day", "calendar", r"\bplaced (?:at the end of|on) the calendar\b", None),
    ("orders-of-the-day", "scheduled for consideration", r"\bscheduled for consideration\b", None),
    ("taken-out-of-orders", "taken out", r"\btaken out of the (?:orders of the day|notice section|calendar)\b", None),
    ("postponed", "postponed", r"\bpostponed\b", None),
    ("engrossed", "engrossed", r"\bto be engrossed\b", None),
    ("conference-committee", "conference", r"\bcommittee (?:of|on) conference\b", None),
    ("report-accepted", "accepted", r"\breport(?: \([^)]*\))? accepted\b|^accepted\b", None),
    ("adopted", "adopted", r"^(?:house |senate )?adopted\b|^order adopted\b|\brules suspended and adopted\b", None),
    ("adopted", "approved", r"^reorganization plan approved\b", None),
    ("rejected", "rejected", r"^rejected\b", None),
    ("motion-negatived", "negatived", r"\bnegatived\b", r"\bamendments?\b"),
    ("reconsidered", "reconsider", r"\bmotion to reconsider\b.*\bprevailed\b", None),
    ("subject-matter-order", "subject matter", r"\border relative to (?:the )?subject matter\b", None),
    # the Governor
    ("emergency-preamble", "preamble", r"\bemergency preamble\b", None),
    ("enacted", "enacted", r"\benacted\b", None),
    ("laid-before-governor", "laid before", r"\blaid before the governor\b", None),
    ("governor-amendment", "governor", r"\bgovernor ?'? ?s? amendments?\b", None),
    ("governor-amendment", "governor", r"\bgovernor returned\b.*\bamendments?\b", None),
    ("governor-amendment", "returned with recommendation", r"\breturned with recommendations? of amendments?\b", None),
    ("signed", "signed", r"\bsigned\b", None),
    ("chaptered", "chapter", r"\bchapter \d+ of the acts\b", None),
    ("vetoed", "veto", r"\bwith (?:the )?vetoe?s?\b", None),
    ("vetoed", "disapproval", r"\bgovernor\b.*\bdisapproval of\b", None),
    ("veto-overridden", "over", r"\bpassed,? over (?:the )?(?:governor ?'?s )?veto\b", None),
    # dispositions and odds and ends
    ("placed-on-file", "file", r"\bplaced on file\b", None),
    ("withdrawn", "withdra", r"\bwithdrawn\b|\bleave to withdraw\b", None),
    ("joint-session", "joint session", r"\bjoint session\b", None),
    ("secretary-of-state", "secretary", r"\bsecretary of (?:the )?state\b", None),
    ("taken-from-files", "files", r"\btaken from the files\b", None),
    ("cross-reference", "see", r"^see\b|^for (?:senate actions|actions on)\b.*\bsee\b|\bfor text,? see\b", None),
    ("cross-reference", "for message", r"^for message\b", None),
    ("cross-reference", "also based on", r"^also based on\b", None),
    ("roll-call", "roll call", r"\broll call\b", None),
    ("roll-call", "yea", r"\byea and nay\b|\b\d+ yeas? (?:to|-|–) \d+ nays?\b|\byeas ?\d+ (?:to|-|–) nays? \d+\b", None),
    ("standing-vote", "standing vote", r"\bstanding vote\b", None),
)

_Rule = tuple[int, str, re.Pattern[str], re.Pattern[str] | None]
_RULES: tuple[_Rule, ...] = tuple(
    (_KIND_INDEX[kind], pre, _rx(pattern), _rx(excl) if excl else None)
    for kind, pre, pattern, excl in _RAW_RULES
)


@lru_cache(maxsize=8192)
def _classify(text: str) -> tuple[str, ...]:
    t = _norm(text)
    low = t.lower()
    found: set[int] = set()
    for idx, pre, rx, excl in _RULES:
        if idx in found or pre not in low:
            continue
        if rx.search(t) and not (excl is not None and excl.search(t)):
            found.add(idx)
    if not found:
        return ("other",)
    return tuple(KINDS[i] for i in sorted(found))


def classify(text: str) -> list[str]:
    """The kinds of one history action, in :data:`KINDS` order, without duplicates.

    Several kinds can apply ("Read third and passed to be engrossed" is
    ``["reading-3", "engrossed"]``; "Bill reported favorably by committee and
    referred to the committee on House Ways and Means" is ``["referral",
    "reported-favorably"]``). Text no rule knows gives ``["other"]``.

    Notes on some kinds:

    * ``accompanied`` is the plain "Accompanied S700" / "Accompanied by H5000";
      "Accompanied a study order/new draft, see X" are ``study-order`` / ``new-draft``.
    * ``new-draft`` covers both directions: the old bill's "Accompanied a new draft,
      see H5091" and the new bill's "New draft of H135" (see :func:`referenced_bill`
      for the forward link only).
    * ``new-text`` is a strike-all text of the other branch ("Recommended new text for
      H3701", "... inserting in place thereof the text of S2439").
    * ``ought-to-pass`` includes "ought to be adopted/approved" (orders, resolutions).
    * ``amendment-adopted`` is not given to "Amendment (changing reporting date to ...)
      adopted", which is ``reporting-date-extended``.
    * ``concurred`` includes "..., in concurrence"; never "NON-concurred".
    """
    return list(_classify(text))


#: Kinds of an action after which the bill's text may read otherwise: its text page is asked for again at once.
TEXT_KINDS = frozenset({"new-draft", "new-text", "substituted", "amendment-adopted", "reprinted", "engrossed",
                        "enacted", "governor-amendment"})


def text_changes(actions: Sequence[HistoryAction]) -> int:
    """How many actions of a history may have changed the bill's text (of a :data:`TEXT_KINDS` kind)."""
    return sum(1 for a in actions if TEXT_KINDS.intersection(_classify(a.action)))


# --------------------------------------------------------------------------------------
# parse_hearing
# --------------------------------------------------------------------------------------

_DATE = r"\d{1,2}/\d{1,2}/\d{2,4}"
_TIME = r"\d{1,2}(?::\d{2})? ?[AP]\.? ?M\.?"
_HEARING_RX = re.compile(
    r"^(?:(?P<changed>location changed|time changed|date changed)\s*[-–—:]?\s*)?"
    r"hearing\s+(?P<verb>scheduled|re-?scheduled)\s*(?:for|to|from|on)?\s*"
    rf"(?P<d1>{_DATE})"
    rf"(?:\s*(?:@|at|from|,)?\s*(?P<t1>{_TIME}))?"
    rf"(?:\s*(?:-|–|—|to|until|through)\s*(?:(?P<d2>{_DATE})\s*(?:@|at|,)?\s*)?(?P<t2>{_TIME})?)?"
    r"(?:\s*\bin\s+(?P<loc>.+?))?"
    r"(?P<update>\s*\bhearing\s+(?:updated|(?:location|time|date)\s+changed)\b.*)?"
    r"\s*\.?\s*$",
    _FLAGS,
)
_HEARING_CANCELED_RX = re.compile(r"\bhearing\s+cancell?ed\b", _FLAGS)
_HEARING_UPDATE_RX = re.compile(
    r"^(?:hearing\s+(?:updated|(?:location|time|date)\s+changed)\b|location\s+changed\b)", _FLAGS
)
_HEARING_ANY_RX = re.compile(r"^(?:location\s+changed\s*[-–—:]?\s*)?hearing\s+(?:re-?)?scheduled\b", _FLAGS)
_TIME_PARTS_RX = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*([AP])", _FLAGS)
_DATE_FIND_RX = re.compile(_DATE)
_TIME_FIND_RX = re.compile(_TIME.replace(" ", r"\s*"), _FLAGS)
_LOC_FIND_RX = re.compile(r"\bin\s+(.+?)\s*\.?\s*$", _FLAGS)


def _parse_date(s: str) -> datetime | None:
    m, d, y = (int(p) for p in s.split("/"))
    if y < 100:
        y += 2000
    try:
        return datetime(y, m, d)
    except ValueError:
        return None


def _parse_time(s: str | None) -> tuple[int, int] | None:
    if not s:
        return None
    m = _TIME_PARTS_RX.search(s)
    if not m:
        return None
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if not (1 <= hour <= 12 and 0 <= minute <= 59):
        return None
    hour %= 12
    if m.group(3).upper() == "P":
        hour += 12
    return hour, minute


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S")


def _clean_location(loc: str | None) -> str | None:
    if loc is None:
        return None
    loc = loc.strip(" .,;-")
    return loc or None


def _times(d1: str, t1: str | None, d2: str | None, t2: str | None) -> tuple[str | None, str | None]:
    start_day = _parse_date(d1)
    if start_day is None:
        return None, None
    st = _parse_time(t1)
    starts = start_day.replace(hour=st[0], minute=st[1]) if st else start_day
    ends: datetime | None = None
    et = _parse_time(t2)
    if et is not None:
        end_day = _parse_date(d2) if d2 else start_day
        if end_day is not None:
            ends = end_day.replace(hour=et[0], minute=et[1])
            if ends < starts and not d2:
                # "from 05:30 PM-03:00 PM": the range runs past midnight (written
                # testimony windows do); the end is on the next day.
                ends += timedelta(days=1)
            if ends < starts:
                ends = None  # explicit but inconsistent end date: don't invent one
    return _iso(starts), (_iso(ends) if ends else None)


def parse_hearing(text: str) -> Hearing | None:
    """The hearing a history action announces, or None for non-hearing text.

    * "Hearing scheduled for 11/23/2021 from 10:00 AM-02:00 PM in Virtual Hearing"
      -> ``Hearing("2021-11-23T10:00:00", "2021-11-23T14:00:00", "Virtual Hearing", "scheduled")``
    * "Hearing rescheduled to ...", "Location Changed - Hearing scheduled for ...",
      "Hearing updated to New End Time", "Hearing location changed" -> status
      ``"rescheduled"`` (a change to a hearing already announced); the last two carry
      no details, so their times and location are None.
    * "Hearing scheduled from 03/4/2021 @ 4:00 PM until 03/08/2021 @ 10:00 AM in
      Written Testimony Only" (a written-testimony window) -> ends on 03/08.
    * "Hearing canceled – new hearing TBD" -> ``Hearing(None, None, None, "canceled")``.

    Times are local, ``YYYY-MM-DDTHH:MM:SS``. A missing end time gives
    ``ends_at=None``; a missing start time gives midnight of the hearing day. An end
    time earlier than the start time on the same day is taken to be on the next day,
    so ``ends_at >= starts_at`` always holds. A trailing "Hearing updated to New End
    Time" (two lines of one cell folded together) is not part of the location.
    """
    t = _norm(text)
    if _HEARING_CANCELED_RX.search(t):
        return Hearing(None, None, None, "canceled")
    m = _HEARING_RX.match(t)
    if m:
        status = "scheduled"
        if m.group("changed") or m.group("update") or m.group("verb").lower() != "scheduled":
            status = "rescheduled"
        starts, ends = _times(m.group("d1"), m.group("t1"), m.group("d2"), m.group("t2"))
        return Hearing(starts, ends, _clean_location(m.group("loc")), status)
    if _HEARING_ANY_RX.match(t):
        # An unfamiliar layout: pick the parts out one by one.
        status = "rescheduled" if re.match(r"^(?:location|hearing\s+re)", t, _FLAGS) else "scheduled"
        dates = _DATE_FIND_RX.findall(t)
        times = _TIME_FIND_RX.findall(t)
        loc_m = _LOC_FIND_RX.search(t)
        starts = ends = None
        if dates:
            starts, ends = _times(
                dates[0],
                times[0] if times else None,
                dates[1] if len(dates) > 1 else None,
                times[1] if len(times) > 1 else None,
            )
        return Hearing(starts, ends, _clean_location(loc_m.group(1) if loc_m else None), status)
    if _HEARING_UPDATE_RX.match(t):
        return Hearing(None, None, None, "rescheduled")
    return None


# --------------------------------------------------------------------------------------
# referenced_bill
# --------------------------------------------------------------------------------------

_SEE_BILL = r"(?:see )?(?P<bill>(?:HD|SD|H|S)\.? ?\d+|(?:House|Senate),? No\.? ?\d+)\b"
_REFERENCE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("study-order", _rx(r"\baccompanied a study order ?,? ?" + _SEE_BILL)),
    ("new-draft", _rx(r"\baccompanied a new draft ?,? ?" + _SEE_BILL)),
    # "Committee recommended ought to pass with an amendment, substituting therefor a
    # bill with the same title, see H4567"; "... substituting a new draft, see S2778"
    ("new-draft", _rx(r"\bsubstituting (?:there ?for |thereof |therefore )?a (?:bill|new draft)\b[^;]*?,? " + _SEE_BILL)),
    # the floor took the new draft: "New draft substituted, see H5051",
    # "New draft (Pacheco) substituted, see S2778"
    ("new-draft", _rx(r"\bnew draft\b[^;]*?\bsubstituted\b[^;]*?,? see (?P<bill>(?:HD|SD|H|S)\.? ?\d+)\b")),
    # "Amended by substitution of a bill with the same title, see H5134", "Substituted by a bill, see H5067"
    ("new-draft", _rx(r"^(?:amended by substitution of|substituted by) a bill\b[^;]*?,? " + _SEE_BILL)),
    # a conference committee's report replaces the engrossed bill: "Reported by H3770"
    ("new-draft", _rx(r"^reported by (?P<bill>(?:H|S)\.? ?\d+)$")),
    # "Accompanied H1014": folded into that bill, which carries the matter on (stage "replaced").
    # Not "Accompanied by H5000", where the other bill joins this one.
    ("accompanied", _rx(r"^accompanied (?!by\b|a\b)(?P<bill>(?:HD|SD|H|S)\.? ?\d+)\b")),
)


def _norm_bill(raw: str) -> str:
    m = re.match(r"(House|Senate),?\s*No\.?\s*(\d+)", raw, _FLAGS)
    if m:
        return ("H" if m.group(1).lower() == "house" else "S") + m.group(2)
    return re.sub(r"[\s.]", "", raw).upper()


def referenced_bill(text: str) -> tuple[str, str] | None:
    """The bill an action hands the bill (and its campaign) over to, as
    ``(kind, number)`` with ``kind`` ``"new-draft"``, ``"study-order"`` or
    ``"accompanied"`` (plain "Accompanied H1014": the stage becomes "replaced",
    so the bill that took over must be followed too) and the
    number normalised to letters+digits ("see H. 5091" -> "H5091").

    ``"new-draft"`` is given for "Accompanied a new draft, see H5091", the committee
    recommendation "ought to pass with an amendment, substituting therefor a bill ...,
    see H4567", the floor's "New draft substituted, see H5051", "Amended by
    substitution of a bill ..., H3947", and a conference report that replaces the
    engrossed bill ("Reported by H3770").

    None for links that point backwards ("New draft of H135", "Substituted for
    H2168"), for "Accompanied by H5000" (the other bill joins this one), and for
    partial reports ("Reported (in part) by S3084").
    """
    t = _norm(text)
    low = t.lower()
    if not any(w in low for w in ("accompanied", "substitut", "reported by")):
        return None
    for kind, rx in _REFERENCE_RULES:
        m = rx.search(t)
        if m:
            return kind, _norm_bill(m.group("bill"))
    return None


# --------------------------------------------------------------------------------------
# committees
# --------------------------------------------------------------------------------------

_COMMITTEE_RX = _rx(
    r"\b(?:" + _SEND + r"(?: on motion)?(?: \([^)]*\))?|referral) (?:to )?(?:the )?(?:temporary )?committee on "
    r"(?P<name>.+?)"
    r"(?= with the amendments?\b| for (?:a )?second reading\b| and (?:referred|concurred|placed)\b"
    r"|, (?:reported|rules|the question)\b| \(|,? pending\b|\.?$)"
)
_FLOOR_COMMITTEE_RX = _rx(r"\b(?:ways and means|steering|rules|third reading)\b")


def _clean_committee(name: str) -> str | None:
    name = _norm(name).strip(" ,.;")
    if name[:4].lower() == "the ":
        name = "The " + name[4:]
    return name or None


def committee_of(text: str) -> str | None:
    """The committee an action sends the bill to, or None.

    Covers "Referred to the committee on The Judiciary" -> "The Judiciary",
    "Discharged to the committee on Senate Rules", "Recommitted to the committee on
    Revenue", "Read; and referred to ...", "Bill reported favorably by committee and
    referred to the committee on House Ways and Means" -> "House Ways and Means",
    and multi-step rows ("Reported, referred to the committee on Joint Rules, reported,
    rules suspended and referred to the committee on Public Service" -> the last one,
    "Public Service"). Trailing clauses ("with the amendment pending", "for a second
    reading ...") are not part of the name; "the Judiciary" is written "The Judiciary".
    "Reported from the committee on X" is not a referral (None).
    """
    t = _norm(text)
    low = t.lower()
    if "committee on" not in low:
        return None
    name = None
    for m in _COMMITTEE_RX.finditer(t):
        if m.group(0).lower().startswith("referral") and t[: m.start()].lower().endswith("receded from its "):
            continue  # "receded from its referral to the committee on X" un-sends
        name = m.group("name")
    return _clean_committee(name) if name else None


_REPORTED_FROM_RX = _rx(r"\b(?:reported|discharged) from the committee on (?P<name>.+?)(?=,| and\b| \(|\.?$)")


def committee_named(text: str) -> str | None:
    """The committee an action sends the bill to (:func:`committee_of`), else the one it reports it from
    ("Reported from the committee on The Judiciary" -> "The Judiciary"), else None: the committees that have
    held the bill, for telling who holds a hearing when the hearing's own record is not at hand."""
    target = committee_of(text)
    if target:
        return target
    m = _REPORTED_FROM_RX.search(_norm(text))
    return _clean_committee(m.group("name")) if m else None


# Kinds after which the bill no longer sits in a committee (unless the same action
# also sends it to one).
_LEAVES_COMMITTEE = frozenset(
    {
        "reported",
        "reported-favorably",
        "ought-to-pass",
        "reported-adversely",
        "ought-not-to-pass",
        "study-order",
        "new-draft",
        "substituted",
        "reading-2",
        "reading-3",
        "ordered-third-reading",
        "orders-of-the-day",
        "engrossed",
        "adopted",
        "enacted",
        "signed",
        "chaptered",
        "vetoed",
        "placed-on-file",
        "rejected",
        "withdrawn",
    }
)
_ACCOMPANIED_BY_RX = _rx(r"^accompanied by\b")


def current_committee(actions: Sequence[HistoryAction]) -> str | None:
    """The committee holding the bill after its history, or None.

    Walks the actions in the given order. Any action that sends the bill to a
    committee (referral, discharge, recommittal; see :func:`committee_of`) makes that
    committee current -- in either branch, so an engrossed House bill "Read; and
    referred to the committee on Senate Ways and Means" is in Senate Ways and Means.
    The bill leaves committees (None) when an action without such a target reports it
    out ("Reported from the committee on ...", "Bill reported favorably by committee
    and placed in the Orders of the Day", ought (not) to pass), puts it on the floor
    (orders of the day, second/third reading, engrossed, adopted, enacted, signed,
    vetoed), or ends or replaces it (study order, new draft, plain "Accompanied S700",
    placed on file, rejected, withdrawn). "Accompanied by H5000" (this bill carries
    others), hearings, reporting-date extensions and concurrences change nothing.
    Conference committees are not tracked (they are not named "committee on ...").
    """
    current: str | None = None
    for a in actions:
        target = committee_of(a.action)
        if target:
            current = target
            continue
        kinds = _classify(a.action)
        if "accompanied" in kinds and not _ACCOMPANIED_BY_RX.search(_norm(a.action)):
            current = None
        elif _LEAVES_COMMITTEE.intersection(kinds):
            current = None
    return current


# --------------------------------------------------------------------------------------
# stage
# --------------------------------------------------------------------------------------

#: The values :func:`stage` returns.
STAGES: tuple[str, ...] = (
    "filed",
    "in-committee",
    "reported",
    "passed-house",
    "passed-senate",
    "enacted",
    "signed",
    "vetoed",
    "law",
    "study-order",
    "replaced",
    "dead",
)

_PRE_FLOOR = frozenset({"filed", "in-committee", "reported"})
_DISPOSED = frozenset({"study-order", "replaced", "dead"})

_SIGNED_PARTIAL_RX = _rx(r"\bsigned (?:\(in part\)|in part)|\bsigned the remainder\b")
_PARTIAL_VETO_RX = _rx(r"\b(?:section|sections|item|items|vetoes|disapproval)\b")
_PARTIAL_OVERRIDE_RX = _rx(r"^(?:item|items|section|sections)\b")
_REPLACED_RX = _rx(
    r"^accompanied a new draft\b"
    r"|\bnew draft\b[^,]*\bsubstituted\b"
    r"|^amended by substitution of a bill\b"
    r"|^substituted by a bill\b"
    r"|^reported by (?:H|S)\.? ?\d+$"
    r"|^accompan(?:ied|ying)\b(?! by\b)(?! a (?:study order|new draft)\b)"
)
_STUDY_ORDER_RX = _rx(r"^accompanied a study order\b")
_FILE_RECOMMENDED_RX = _rx(r"\brecommended that the matter be placed on file\b")
_FLOOR_KINDS = frozenset(
    {
        "reported",
        "reported-favorably",
        "ought-to-pass",
        "reported-adversely",
        "ought-not-to-pass",
        "reading-2",
        "reading-3",
        "ordered-third-reading",
        "orders-of-the-day",
        "substituted",
    }
)
_REPORTED_OUT = frozenset(
    {"reported", "reported-favorably", "ought-to-pass", "reported-adversely", "ought-not-to-pass"}
)
_COMMITTEE_HINTS = frozenset({"hearing-scheduled", "hearing-rescheduled", "reporting-date-extended"})


def _engrossed_stage(branch: str) -> str | None:
    b = branch.strip().lower()
    if b.startswith("house"):
        return "passed-house"
    if b.startswith("senate"):
        return "passed-senate"
    return None


def stage(actions: Sequence[HistoryAction], session_ended: bool) -> str:
    """One status for a bill's whole history: one of :data:`STAGES`.

    The actions are read in the given (site) order; an action moves the stage as follows.

    * No actions: ``filed``.
    * Referral / discharge / recommittal to a committee: ``in-committee``. A bill that
      is already ``reported`` stays ``reported`` when it is sent on to a floor-management
      committee (Ways and Means, Steering/Policy and Scheduling, Rules, Bills in the
      Third Reading).
    * A committee report out of committee -- favourable ("Bill reported favorably by
      committee and referred to the committee on House Ways and Means", "Committee
      recommended ought to pass ...", "Committee reported that the matter be placed in
      the Orders of the Day") or adverse ("Ought NOT to pass ...") -- and second/third
      readings: ``reported``. A favourable report that refers the bill to another policy
      committee (e.g. Health Care Financing) is ``in-committee``. An adverse report
      stays ``reported`` until it is accepted or the bill is recommitted. Hearings
      and reporting-date extensions move a ``filed`` bill to ``in-committee``.
    * "Passed to be engrossed" (and "Adopted" for orders/resolutions) in the action's
      branch: ``passed-house`` / ``passed-senate``. When both branches engross, the later
      one wins, so an H bill at ``passed-senate`` has passed both branches.
      Referrals and reports in the second branch do not move it back.
    * "Enacted" (also re-enacted, "Enacted as section N of ..."): ``enacted``.
    * Signatures: "Signed by the Governor, Chapter N of the Acts of YYYY" (any full
      signature) and a bare "Chapter N of the Acts of YYYY" (after a veto override) are
      ``law``. "Signed (in part) ..." (line-item / section vetoes pending) is ``signed``:
      the bill is law except for the returned parts, and later section or item
      overrides leave it ``signed``.
    * "Governor returned ... with veto" (the whole bill, before any signature):
      ``vetoed``; "passed over veto" in both the House and the Senate then makes it
      ``law``. Section/item vetoes and vetoes after a partial signature do not make the
      bill ``vetoed``.
    * "Accompanied a study order, see X": ``study-order``.
    * The bill handed over to another bill: ``replaced`` -- "Accompanied a new draft,
      see X", "New draft substituted, see X", "Amended by substitution of a bill ...",
      a conference report "Reported by X", and also a plain "Accompanied S700" (the bill
      was folded into S700 and has no life of its own; follow S700). A committee's mere
      *recommendation* to substitute a new draft is still ``reported``.
    * ``dead`` before the session ends when the bill itself is disposed of: placed on
      file (incl. "reported adversely ... and placed on file", or a committee
      recommendation to place on file whose report is then accepted), "Rejected",
      withdrawn. Exception: a proposal for a constitutional amendment "reported
      favorably by committee and placed on file" waits for the joint session and is
      ``reported`` (as are joint-session actions).
    * A ``study-order`` / ``replaced`` / ``dead`` bill comes back only by an explicit
      recommittal or discharge (``in-committee``) or an engrossment.
    * Finally, when ``session_ended`` is true every stage except ``law``, ``signed``,
      ``vetoed``, ``replaced`` and ``study-order`` becomes ``dead`` (``vetoed`` and
      ``signed`` are kept: they already say how the bill ended).
    """
    st = "filed"
    overridden_in: set[str] = set()
    file_recommended = False
    filed_favourably = False
    for a in actions:
        text = _norm(a.action)
        kinds = frozenset(_classify(a.action))
        if kinds == {"other"}:
            continue

        # --- the Governor and the law -------------------------------------------------
        if "signed" in kinds and st != "law":
            st = "signed" if _SIGNED_PARTIAL_RX.search(text) else "law"
            continue
        if "chaptered" in kinds:
            if st != "signed":
                st = "law"
            continue
        if "vetoed" in kinds:
            if st not in ("signed", "law") and not _PARTIAL_VETO_RX.search(text):
                st = "vetoed"
                overridden_in.clear()
            continue
        if "veto-overridden" in kinds:
            if st == "vetoed" and not _PARTIAL_OVERRIDE_RX.search(text):
                b = a.branch.strip().lower()
                overridden_in.add("house" if b.startswith("house") else "senate" if b.startswith("senate") else b)
                if {"house", "senate"} <= overridden_in:
                    st = "law"
            continue
        if st in ("signed", "vetoed", "law"):
            continue
        if "enacted" in kinds:
            st = "enacted"
            continue
        if st == "enacted":
            continue

        # --- dispositions -------------------------------------------------------------
        if "study-order" in kinds and _STUDY_ORDER_RX.search(text):
            st = "study-order"
            continue
        if _REPLACED_RX.search(text):
            st = "replaced"
            continue
        if "placed-on-file" in kinds and kinds & {"reported-favorably", "ought-to-pass"}:
            # constitutional amendments are "reported favorably ... and placed on file"
            # until the joint session takes them up
            filed_favourably = True
            if st in _PRE_FLOOR or st == "dead":
                st = "reported"
            continue
        if "placed-on-file" in kinds and filed_favourably:
            continue  # "Placed on file, in concurrence" of such a proposal
        if "joint-session" in kinds:
            if st in _PRE_FLOOR or st == "dead":
                st = "reported"
            continue
        if "placed-on-file" in kinds and _FILE_RECOMMENDED_RX.search(text):
            file_recommended = True
            if st in _PRE_FLOOR:
                st = "reported"
            continue
        if (
            "placed-on-file" in kinds
            or "withdrawn" in kinds
            or ("rejected" in kinds and "amendment-rejected" not in kinds)
            or ("report-accepted" in kinds and file_recommended)
        ):
            st = "dead"
            continue

        # --- the floor ----------------------------------------------------------------
        if "engrossed" in kinds or ("adopted" in kinds and "amendment-adopted" not in kinds):
            passed = _engrossed_stage(a.branch)
            if passed:
                st = passed
            continue
        if st in _DISPOSED:
            if kinds & {"recommitted", "discharge"} and committee_of(text):
                st = "in-committee"
            continue
        if st not in _PRE_FLOOR:
            continue  # passed one branch: the other branch's committees don't demote it

        # --- committees ---------------------------------------------------------------
        target = committee_of(text)
        reported_out = bool(kinds & _REPORTED_OUT)
        if "recommitted" in kinds and target:
            st = "in-committee"
        elif target:
            to_floor_committee = bool(_FLOOR_COMMITTEE_RX.search(target))
            if to_floor_committee and (reported_out or st == "reported"):
                st = "reported"
            else:
                st = "in-committee"
        elif kinds & _FLOOR_KINDS:
            st = "reported"
        elif st == "filed" and kinds & _COMMITTEE_HINTS:
            st = "in-committee"

    if session_ended and st not in ("law", "signed", "vetoed", "replaced", "study-order"):
        return "dead"
    return st
