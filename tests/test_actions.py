"""spiders.actions: classifying, hearing parsing, bill links, committees and stage.

The real phrasings come from the 192nd General Court's 45,472 history actions
(tests/data/ma-192-history-actions.csv, from Code for Boston's MAPLE project; see
tests/data/LICENSE-maple.md).
"""

from __future__ import annotations

import csv
import re
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from spiders.actions import (
    KINDS,
    STAGES,
    classify,
    committee_of,
    current_committee,
    parse_hearing,
    referenced_bill,
    stage,
)
from spiders.records import Hearing, HistoryAction

CSV_PATH = Path(__file__).parent / "data" / "ma-192-history-actions.csv"


@pytest.fixture(scope="module")
def csv_rows() -> list[dict[str, str]]:
    with CSV_PATH.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 45472
    return rows


@pytest.fixture(scope="module")
def csv_histories(csv_rows) -> dict[str, list[HistoryAction]]:
    by_bill: dict[str, list[HistoryAction]] = defaultdict(list)
    for r in csv_rows:
        # the dump's dates are UTC; the calendar date is good enough for these tests
        by_bill[r["id"]].append(HistoryAction(r["date"][:10], r["branch"], r["action"]))
    return dict(by_bill)


def H(date: str, branch: str, action: str) -> HistoryAction:
    m, d, y = date.split("/")
    return HistoryAction(f"{y}-{int(m):02d}-{int(d):02d}", branch, action)


# Verbatim from the research notes (section 4.2), the dump's Branch values included.
H135 = [
    H("3/29/2021", "House", "Referred to the committee on Advanced Information Technology, the Internet and Cybersecurity"),
    H("3/29/2021", "House", "Senate concurred"),
    H("6/3/2021", "Senate", "Discharged to the committee on The Judiciary"),
    H("6/7/2021", "House", "House concurred"),
    H("11/16/2021", "Joint", "Hearing scheduled for 11/23/2021 from 10:00 AM-02:00 PM in Virtual Hearing"),
    H("2/3/2022", "House", "Reporting date extended to Friday April 15, 2022, pending concurrence"),
    H("3/24/2022", "Senate", "Senate concurred"),
    H("4/19/2022", "House", "Reporting date extended to Thursday June 30, 2022, pending concurrence"),
    H("6/9/2022", "Senate", "Senate concurred"),
    H("7/5/2022", "House", "Reporting date extended to Friday July 22, 2022, pending concurrence"),
    H("7/7/2022", "Senate", "Senate concurred"),
    H("7/26/2022", "House", "Accompanied a new draft, see H5091"),
]

S47 = [
    H("3/29/2021", "Senate", "Referred to the committee on Advanced Information Technology, the Internet and Cybersecurity"),
    H("3/29/2021", "House", "House concurred"),
    H("6/3/2021", "Senate", "Discharged to the committee on The Judiciary"),
    H("6/7/2021", "House", "House concurred"),
    H("11/16/2021", "Joint", "Hearing scheduled for 11/23/2021 from 10:00 AM-02:00 PM in Virtual Hearing"),
    H("4/14/2022", "Senate", "Reporting date extended to Friday April 15, 2022, pending concurrence"),
    H("4/14/2022", "House", "House concurred"),
    H("6/29/2022", "Senate", "Reporting date extended to Thursday June 30, 2022, pending concurrence"),
    H("6/30/2022", "House", "House concurred"),
    H("7/21/2022", "Senate", "Reporting date extended to Friday July 22, 2022, pending concurrence"),
    H("7/25/2022", "House", "Amendment (changing reporting date to Friday July 29, 2022) adopted, pending concurrence"),
    H("7/25/2022", "Senate", "Senate concurred"),
    H("7/28/2022", "Senate", "Accompanied a study order, see S3063"),
]

H5091 = [
    H("7/26/2022", "House", "Reported from the committee on The Judiciary"),
    H("7/26/2022", "House", "New draft of H135"),
    H("7/26/2022", "House", "Bill reported favorably by committee and referred to the committee on House Ways and Means"),
]


# ------------------------------------------------------------------------------------
# classify: the whole 192nd General Court
# ------------------------------------------------------------------------------------


def _unclassified(rows) -> Counter[str]:
    return Counter(re.sub(r"\d+", "N", r["action"]) for r in rows if classify(r["action"]) == ["other"])


def test_csv_at_least_99_percent_of_rows_get_a_specific_kind(csv_rows):
    started = time.perf_counter()
    other = _unclassified(csv_rows)
    elapsed = time.perf_counter() - started
    n_other = sum(other.values())
    share = 1 - n_other / len(csv_rows)
    top = "\n".join(f"  {n:5d}  {text[:120]}" for text, n in other.most_common(15))
    assert share >= 0.99, f"classified {share:.4%} of {len(csv_rows)} rows; top unclassified:\n{top}"
    assert elapsed < 3.0, f"classifying the CSV took {elapsed:.2f}s"


def test_csv_unclassified_rows_stay_rare(csv_rows):
    # 2 rows are "other" today ("Order considered", "Spread upon the records ...").
    other = _unclassified(csv_rows)
    assert sum(other.values()) <= 10, other.most_common(15)


def test_csv_kinds_are_known_and_ordered(csv_rows):
    order = {k: i for i, k in enumerate(KINDS)}
    for r in csv_rows[::7]:
        kinds = classify(r["action"])
        assert kinds, r
        assert all(k in order for k in kinds), (r, kinds)
        assert [order[k] for k in kinds] == sorted(order[k] for k in kinds), (r, kinds)
        assert len(set(kinds)) == len(kinds)
        assert kinds == ["other"] or "other" not in kinds


def test_csv_every_hearing_row_parses(csv_rows):
    started = time.perf_counter()
    heads = ("Hearing scheduled", "Hearing rescheduled", "Location Changed - Hearing")
    checked = 0
    for r in csv_rows:
        text = r["action"]
        if not text.startswith(heads):
            continue
        checked += 1
        h = parse_hearing(text)
        assert h is not None, text
        assert h.status == ("scheduled" if text.startswith("Hearing scheduled") else "rescheduled"), (text, h)
        assert h.starts_at and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00", h.starts_at), (text, h)
        has_end = len(re.findall(r"\d{1,2}:\d{2}\s*[AP]M", text)) >= 2
        if has_end:
            assert h.ends_at and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00", h.ends_at), (text, h)
            assert h.ends_at >= h.starts_at, (text, h)
        assert h.location and h.location == text.rsplit(" in ", 1)[1].strip(), (text, h)
        # the hearing date is the first date in the text
        m, d, y = re.search(r"(\d{1,2})/(\d{1,2})/(\d{4})", text).groups()
        assert h.starts_at.startswith(f"{y}-{int(m):02d}-{int(d):02d}T"), (text, h)
    assert checked == 7729
    assert time.perf_counter() - started < 3.0


def test_csv_hearing_kinds_agree_with_parse_hearing(csv_rows):
    for r in csv_rows:
        kinds = classify(r["action"])
        is_hearing = any(k.startswith("hearing-") for k in kinds)
        assert (parse_hearing(r["action"]) is not None) == is_hearing, (r["action"], kinds)


def test_csv_every_study_order_and_new_draft_has_a_referenced_bill(csv_rows):
    for r in csv_rows:
        text = r["action"]
        if text.startswith("Accompanied a study order"):
            assert referenced_bill(text) == ("study-order", text.rsplit(" ", 1)[1]), text
        elif text.startswith("Accompanied a new draft"):
            assert referenced_bill(text) == ("new-draft", text.rsplit(" ", 1)[1]), text
        elif text.startswith(("Accompanied by", "New draft of", "Substituted for")):
            assert referenced_bill(text) is None, text
        elif re.match(r"Accompanied [HS]\d+$", text):
            assert referenced_bill(text) == ("accompanied", text.split()[1]), text


def test_csv_every_referral_names_a_committee(csv_rows):
    for r in csv_rows:
        text = r["action"]
        kinds = classify(text)
        if {"referral", "discharge", "recommitted"} & set(kinds):
            name = committee_of(text)
            assert name, text
            assert not name.endswith((",", " with the amendment pending", "pending")), (text, name)


def test_csv_stage_of_every_bill(csv_histories):
    stages = Counter(stage(h, session_ended=False) for h in csv_histories.values())
    assert set(stages) <= set(STAGES)
    # the big groups of the 192nd as of Sept 2022
    assert stages["study-order"] > 1800
    assert stages["replaced"] > 1200
    assert stages["law"] > 200
    ended = Counter(stage(h, session_ended=True) for h in csv_histories.values())
    assert set(ended) <= {"dead", "law", "signed", "vetoed", "replaced", "study-order"}
    assert ended["study-order"] == stages["study-order"]


@pytest.mark.parametrize(
    "bill, expected",
    [
        ("H3947", "law"),  # Substituted for H2168 ... Signed by the Governor, Chapter 54
        ("H4005", "law"),  # vetoed, passed over veto in both branches, Chapter 66
        ("H3770", "signed"),  # Signed (in part), then a section veto and override
        ("H4578", "signed"),  # disapproval of a section, Signed (in part)
        ("H2168", "replaced"),  # Amended by substitution of a bill, H3947
        ("H3701", "replaced"),  # conference report: Reported by H3770
        ("H11", "replaced"),  # New draft substituted, see H5051
        ("H1013", "replaced"),  # Accompanied H1014
        ("H2491", "replaced"),  # Ought NOT to pass, recommitted, then a new draft
        ("H74", "dead"),  # Constitutional amendment reported adversely and placed on file
        ("S2829", "dead"),  # recommended to be placed on file; Accepted, in concurrence
        ("H4425", "dead"),  # Adopted, reconsidered, Rejected
        ("H76", "reported"),  # favourable constitutional amendment in the joint session
        ("H2186", "reported"),  # Committee recommended ought NOT to pass ... Steering
        ("S3063", "reported"),  # the study order: reported, then Senate Rules
        ("H5091", "reported"),
        ("S2472", "passed-house"),  # Senate bill, House engrossed last
        ("H5076", "passed-senate"),
        ("H1044", "replaced"),
    ],
)
def test_csv_stage_of_known_bills(csv_histories, bill, expected):
    assert stage(csv_histories[bill], session_ended=False) == expected


# ------------------------------------------------------------------------------------
# classify: one phrasing at a time
# ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Referred to the committee on The Judiciary", ["referral"]),
        ("Refererd to the committee on Bonding, Capital Expenditures and State Assets", ["referral"]),
        ("Read; and referred to the committee on Senate Ways and Means", ["referral", "reading-1"]),
        ("Discharged to the committee on Senate Rules", ["discharge"]),
        ("Recommitted to the committee on Revenue", ["recommitted"]),
        ("Hearing scheduled for 11/23/2021 from 10:00 AM-02:00 PM in Virtual Hearing", ["hearing-scheduled"]),
        ("Hearing rescheduled to 07/28/2021 from 09:30 AM-12:00 PM in Virtual Hearing", ["hearing-rescheduled"]),
        ("Location Changed - Hearing scheduled for 07/12/2021 from 01:00 PM-03:00 PM in Virtual Hearing", ["hearing-rescheduled"]),
        ("Hearing updated to New End Time", ["hearing-rescheduled"]),
        ("Hearing location changed", ["hearing-rescheduled"]),
        ("Hearing canceled \u2013 new hearing TBD", ["hearing-canceled"]),
        ("Reporting date extended to Thursday June 30, 2022, pending concurrence", ["reporting-date-extended"]),
        ("Amendment (changing reporting date to Friday July 29, 2022) adopted, pending concurrence", ["reporting-date-extended"]),
        (
            "Bill reported favorably by committee and referred to the committee on House Ways and Means",
            ["referral", "reported-favorably"],
        ),
        ("Reported favorably by committee and referred to the committee on Health Care Financing", ["referral", "reported-favorably"]),
        ("Billreported favorably by committee", ["reported-favorably"]),
        (
            "Order reported favorably by committee and referred to the committee on Rules of the two branches, acting concurrently",
            ["referral", "reported-favorably"],
        ),
        ("Committee recommended ought to pass", ["reported-favorably", "ought-to-pass"]),
        ("Committee reported ought to be adopted", ["reported-favorably", "ought-to-pass"]),
        (
            "Committee recommended bill ought to pass and referred to the committee on House Ways and Means",
            ["referral", "reported-favorably", "ought-to-pass"],
        ),
        (
            "Ought NOT to pass (under Joint Rule 10) and placed in the Orders of the Day for the next session",
            ["ought-not-to-pass", "orders-of-the-day"],
        ),
        (
            "Committee recommended ought NOT to pass and referred to the committee on House Steering, Policy and Scheduling",
            ["referral", "ought-not-to-pass"],
        ),
        (
            "Proposal for Constitutional Amendment reported adversely by committee and placed on file",
            ["reported-adversely", "placed-on-file"],
        ),
        ("Accompanied a study order, see S3063", ["study-order"]),
        ("Accompanied a new draft, see H5091", ["new-draft"]),
        ("New draft of H135", ["new-draft"]),
        (
            "Committee recommended ought to pass with an amendment, substituting therefor a bill with the same title, see H4567",
            ["reported-favorably", "ought-to-pass", "new-draft"],
        ),
        ("New draft substituted, see H5051", ["new-draft", "substituted"]),
        ("Substituted for H2168", ["substituted"]),
        ("Recommended new text for H3701", ["new-text"]),
        ("Accompanied S700", ["accompanied"]),
        ("Accompanied by H5000", ["accompanied"]),
        ("Accompanied by S1573, S1579 and S1580", ["accompanied"]),
        ("Senate concurred", ["concurred"]),
        ("House concurred", ["concurred"]),
        ("Placed on file, in concurrence", ["concurred", "placed-on-file"]),
        ("House NON-concurred in the Senate amendment", ["non-concurred"]),
        ("Senate insisted on its amendment", ["insisted"]),
        ("Read second and ordered to a third reading", ["reading-2", "ordered-third-reading"]),
        ("Red second and ordered to a third reading", ["reading-2", "ordered-third-reading"]),
        ("Read third and passed to be engrossed", ["reading-3", "engrossed"]),
        (
            "Read, rules suspended, read second and ordered to a third reading",
            ["reading-1", "reading-2", "ordered-third-reading", "rules-suspended"],
        ),
        ("Read third (title changed) and passed to be engrossed", ["reading-3", "title-changed", "engrossed"]),
        ("Passed to be engrossed- 146 YEAS to 7 NAYS (See YEA and NAY No. 228)", ["engrossed", "roll-call"]),
        ("Passed to be engrossed -see Roll Call #233 (Yeas 39 to Nays 1)", ["engrossed", "roll-call"]),
        ("Enacted and laid before the Governor", ["enacted", "laid-before-governor"]),
        ("Enacted", ["enacted"]),
        ("Re-enacted", ["enacted"]),
        ("Emergency preamble adopted", ["emergency-preamble"]),
        ("Signed by the Governor, Chapter 18 of the Acts of 2021", ["signed", "chaptered"]),
        ("Signed (in part) by the Governor, Chapter 24 of the Acts of 2021", ["signed", "chaptered"]),
        ("Chapter 66 of the Acts of 2021", ["chaptered"]),
        ("Governor returned to the House with veto", ["vetoed"]),
        ("Passed over veto - 130 YEAS to 28 NAYS (See YEA and NAY No. 92)", ["veto-overridden", "roll-call"]),
        ("Governor returned to the House with recommendation of amendment", ["governor-amendment"]),
        ("Governor's amendment rejected", ["amendment-rejected", "governor-amendment"]),
        ("Amendment 14 adopted - 149 YEAS to 4 NAYS (See YEA and NAY No. 227)", ["amendment-adopted", "roll-call"]),
        ("Amendment #3 (Tarr) rejected", ["amendment-rejected"]),
        ("Amendment 17 pending", ["amendment-pending"]),
        ("Amendment #8 (Tarr) laid aside as duplicative", ["laid-aside"]),
        ("Text of an amendment, see S2472", ["amendment-text"]),
        ("Published as amended, see H5076", ["reprinted"]),
        ("Rules suspended", ["rules-suspended"]),
        ("Rules supended", ["rules-suspended"]),
        ("Committee reported that the matter be placed in the Orders of the Day for the next sitting", ["reported", "orders-of-the-day"]),
        ("Taken out of the Orders of the Day", ["taken-out-of-orders"]),
        ("Placed on file", ["placed-on-file"]),
        ("Committee of conference appointed - (Day-Tyler-Smola)", ["conference-committee"]),
        ("Committee of conference report accepted", ["conference-committee", "report-accepted"]),
        ("Reported from the committee on The Judiciary", ["reported"]),
        ("Reported, in part, by H4000", ["reported"]),
        ("Reported (in part) by S3084", ["reported"]),
        ("Reported on a part of H5076", ["reported"]),
        (
            "Reported, referred to the committee on Joint Rules, reported, rules suspended and referred to the committee on Public Service",
            ["referral", "reported", "rules-suspended"],
        ),
        ("Adopted", ["adopted"]),
        ("Adopted, in concurrence", ["concurred", "adopted"]),
        ("Order relative to subject matter adopted", ["subject-matter-order"]),
        ("Rejected", ["rejected"]),
        ("Postponed to the next session", ["postponed"]),
        ("Joint session held and recessed to Monday, April 11, 2022", ["joint-session"]),
        ("Transmitted to the Secretary of State", ["secretary-of-state"]),
        ("See H90", ["cross-reference"]),
        ("For message, see H4019, Attachment C", ["cross-reference"]),
        ("Withdrawn", ["withdrawn"]),
        ("Order considered", ["other"]),
        ("", ["other"]),
        ("The committee had lunch", ["other"]),
    ],
)
def test_classify_real_phrasings(text, expected):
    assert classify(text) == expected


def test_classify_is_case_and_whitespace_insensitive():
    assert classify("  referred   TO the\u00a0committee on  the judiciary ") == ["referral"]
    assert classify("READ THIRD AND PASSED TO BE ENGROSSED") == ["reading-3", "engrossed"]
    assert classify("Read second,amended (as recommended by the committee on House Ways and Means)") == [
        "reading-2",
        "amendment-adopted",
    ]


def test_classify_does_not_confuse_near_misses():
    # "acting concurrently" is not a concurrence; "pending concurrence" is not one either
    assert "concurred" not in classify("Referred to the committee on Rules of the two branches, acting concurrently")
    assert "concurred" not in classify("Reporting date extended to Friday April 15, 2022, pending concurrence")
    assert "concurred" not in classify("Senate NON-concurred in House amendment")
    # the reporting-date order is no amendment of the bill
    assert "amendment-adopted" not in classify("Amendment (changing reporting date to Monday May 23, 2022) adopted, pending concurrence")
    # a reprint is no amendment
    assert "amendment-adopted" not in classify("Text of S11, printed as amended")
    # "Accompanied a study order" is not the plain "accompanied"
    assert "accompanied" not in classify("Accompanied a study order, see S3063")
    # a referral "with the amendment pending" is not an amendment-pending row
    assert classify("Referred to the committee on House Steering, Policy and Scheduling with the amendment pending") == ["referral"]


def test_classify_returns_a_fresh_list():
    first = classify("Senate concurred")
    first.append("mutated")
    assert classify("Senate concurred") == ["concurred"]


# ------------------------------------------------------------------------------------
# parse_hearing
# ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Hearing scheduled for 11/23/2021 from 10:00 AM-02:00 PM in Virtual Hearing",
            Hearing("2021-11-23T10:00:00", "2021-11-23T14:00:00", "Virtual Hearing", "scheduled"),
        ),
        (
            "Hearing rescheduled to 07/28/2021 from 09:30 AM-12:00 PM in Virtual Hearing",
            Hearing("2021-07-28T09:30:00", "2021-07-28T12:00:00", "Virtual Hearing", "rescheduled"),
        ),
        (
            "Location Changed - Hearing scheduled for 05/06/2022 from 09:00 AM-05:00 PM in Written Testimony Only",
            Hearing("2022-05-06T09:00:00", "2022-05-06T17:00:00", "Written Testimony Only", "rescheduled"),
        ),
        (
            "Hearing scheduled for 09/22/2021 from 12:00 PM-05:00 PM in Written Testimony Only",
            Hearing("2021-09-22T12:00:00", "2021-09-22T17:00:00", "Written Testimony Only", "scheduled"),
        ),
        (
            "Hearing scheduled for 05/06/2025 from 11:00 AM-01:00 PM in A-2",
            Hearing("2025-05-06T11:00:00", "2025-05-06T13:00:00", "A-2", "scheduled"),
        ),
        # a written-testimony window over several days
        (
            "Hearing scheduled from 03/4/2021 @ 4:00 PM until 03/08/2021 @ 10:00 AM in Written Testimony Only",
            Hearing("2021-03-04T16:00:00", "2021-03-08T10:00:00", "Written Testimony Only", "scheduled"),
        ),
        # real row (S3066): the window closes at 3 PM the next day
        (
            "Hearing scheduled for 07/28/2022 from 05:30 PM-03:00 PM in Written Testimony Only",
            Hearing("2022-07-28T17:30:00", "2022-07-29T15:00:00", "Written Testimony Only", "scheduled"),
        ),
        (
            "Hearing scheduled for 02/03/2022 from 09:00 AM-09:00 AM in Written Testimony Only",
            Hearing("2022-02-03T09:00:00", "2022-02-03T09:00:00", "Written Testimony Only", "scheduled"),
        ),
        # 12 AM is midnight, 12 PM noon
        (
            "Hearing scheduled for 01/05/2022 from 12:00 AM-12:30 PM in Virtual Hearing",
            Hearing("2022-01-05T00:00:00", "2022-01-05T12:30:00", "Virtual Hearing", "scheduled"),
        ),
        # odd spacing, locations with commas, no leading zeros
        (
            "Hearing  scheduled for 5/6/2025 from 11:00AM - 1:00PM in Gardner Auditorium, State House, Boston",
            Hearing("2025-05-06T11:00:00", "2025-05-06T13:00:00", "Gardner Auditorium, State House, Boston", "scheduled"),
        ),
        # no end time
        (
            "Hearing scheduled for 05/06/2025 at 11:00 AM in Room B-1",
            Hearing("2025-05-06T11:00:00", None, "Room B-1", "scheduled"),
        ),
        # a 194th cell holding a reschedule and its "updated" note
        (
            "Hearing rescheduled to 11/25/2025 from 10:00 AM-04:00 PM in A-2 and Virtual Hearing updated to New End Time",
            Hearing("2025-11-25T10:00:00", "2025-11-25T16:00:00", "A-2 and Virtual", "rescheduled"),
        ),
        ("Hearing canceled \u2013 new hearing TBD", Hearing(None, None, None, "canceled")),
        ("Hearing canceled - new hearing TBD", Hearing(None, None, None, "canceled")),
        ("Hearing updated to New End Time", Hearing(None, None, None, "rescheduled")),
        ("Hearing location changed", Hearing(None, None, None, "rescheduled")),
    ],
)
def test_parse_hearing(text, expected):
    assert parse_hearing(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Referred to the committee on The Judiciary",
        "Senate concurred",
        "Reporting date extended to Thursday June 30, 2022, pending concurrence",
        "Accompanied a study order, see S3063",
        "",
    ],
)
def test_parse_hearing_ignores_other_actions(text):
    assert parse_hearing(text) is None


# ------------------------------------------------------------------------------------
# referenced_bill
# ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Accompanied a new draft, see H5091", ("new-draft", "H5091")),
        ("Accompanied a new draft, see H. 5091", ("new-draft", "H5091")),
        ("Accompanied a new draft, see H.5091", ("new-draft", "H5091")),
        ("accompanied a new draft,see s2880", ("new-draft", "S2880")),
        ("Accompanied a study order, see S3063", ("study-order", "S3063")),
        ("Accompanied a study order, see H4960", ("study-order", "H4960")),
        (
            "Committee recommended ought to pass with an amendment, substituting therefor a bill with the same title, see H4567",
            ("new-draft", "H4567"),
        ),
        ("Committee recommended ought to pass with an amendment, substituting a new draft, see S2572", ("new-draft", "S2572")),
        ("New draft substituted, see H5051", ("new-draft", "H5051")),
        ("New draft (Pacheco) substituted, see S2778", ("new-draft", "S2778")),
        ("Amended by substitution of a bill with the same title, H3995", ("new-draft", "H3995")),
        ("Reported by H3770", ("new-draft", "H3770")),
        ("New draft of H135", None),
        ("New draft of S1383 and H2267", None),
        ("Substituted for H2168", None),
        ("Accompanied S700", ("accompanied", "S700")),
        ("Accompanied H. 1014", ("accompanied", "H1014")),
        ("Accompanied by H5000", None),
        ("Accompanied by S1573, S1579 and S1580", None),
        ("Accompanied by H5000", None),
        ("Reported (in part) by S3084", None),
        ("Referred to the committee on The Judiciary", None),
    ],
)
def test_referenced_bill(text, expected):
    assert referenced_bill(text) == expected


# ------------------------------------------------------------------------------------
# committees
# ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Referred to the committee on The Judiciary", "The Judiciary"),
        ("Referred to the committee on the Judiciary", "The Judiciary"),
        (
            "Referred to the committee on Advanced Information Technology, the Internet and Cybersecurity",
            "Advanced Information Technology, the Internet and Cybersecurity",
        ),
        ("Discharged to the committee on Senate Rules", "Senate Rules"),
        (
            "Bill reported favorably by committee and referred to the committee on House Ways and Means",
            "House Ways and Means",
        ),
        (
            "Referred to the committee on House Steering, Policy and Scheduling with the amendment pending",
            "House Steering, Policy and Scheduling",
        ),
        (
            "Referred to the committee on Children, Families and Persons with Disabilities",
            "Children, Families and Persons with Disabilities",
        ),
        ("Read; and referred to the committee on Senate Ways and Means", "Senate Ways and Means"),
        ("Recommitted to the committee on Public Safety and Homeland Security", "Public Safety and Homeland Security"),
        (
            "Reported, referred to the committee on Joint Rules, reported, rules suspended and referred to the committee on Public Service",
            "Public Service",
        ),
        (
            "Senate NON-concurred in the reference to the committee on Labor and Workforce Development and referred to the committee on Joint Ways and Means",
            "Joint Ways and Means",
        ),
        (
            "Senate receded from its referral to the committee on Public Health and concurred in the referral to the committee on Education",
            "Education",
        ),
        ("Referred on motion (Crighton) to the committee on Senate Rules", "Senate Rules"),
        ("Refererrd to the committee on Bills in the Third Reading", "Bills in the Third Reading"),
        ("Referred to the committee on Rules of the two branches, acting concurrently", "Rules of the two branches, acting concurrently"),
        ("Reported from the committee on The Judiciary", None),
        ("Senate concurred", None),
        ("Accompanied a study order, see S3063", None),
    ],
)
def test_committee_of(text, expected):
    assert committee_of(text) == expected


def test_current_committee_follows_referrals_and_discharges():
    assert current_committee([]) is None
    assert current_committee(H135[:2]) == "Advanced Information Technology, the Internet and Cybersecurity"
    assert current_committee(H135[:3]) == "The Judiciary"
    assert current_committee(H135[:-1]) == "The Judiciary"  # hearings, extensions, concurrences
    assert current_committee(S47[:-1]) == "The Judiciary"


def test_current_committee_none_after_new_draft_or_study_order():
    assert current_committee(H135) is None
    assert current_committee(S47) is None


def test_current_committee_new_draft_in_ways_and_means():
    assert current_committee(H5091[:1]) is None  # reported out of the Judiciary
    assert current_committee(H5091) == "House Ways and Means"


def test_current_committee_none_once_on_the_floor():
    history = [
        H("3/1/2021", "House", "Referred to the committee on Revenue"),
        H("5/1/2021", "House", "Bill reported favorably by committee and referred to the committee on House Ways and Means"),
        H("6/1/2021", "House", "Committee recommended ought to pass and referred to the committee on House Steering, Policy and Scheduling"),
        H("6/2/2021", "House", "Committee reported that the matter be placed in the Orders of the Day for the next sitting"),
    ]
    assert current_committee(history[:1]) == "Revenue"
    assert current_committee(history[:2]) == "House Ways and Means"
    assert current_committee(history[:3]) == "House Steering, Policy and Scheduling"
    assert current_committee(history) is None
    engrossed = history + [
        H("6/3/2021", "House", "Read second and ordered to a third reading"),
        H("6/4/2021", "House", "Read third and passed to be engrossed"),
    ]
    assert current_committee(engrossed) is None
    # ... and in the second branch's committee again
    in_senate = engrossed + [H("6/8/2021", "Senate", "Read; and referred to the committee on Senate Ways and Means")]
    assert current_committee(in_senate) == "Senate Ways and Means"


def test_current_committee_accompanied_by_keeps_the_committee_plain_accompanied_drops_it():
    base = [H("3/1/2021", "House", "Referred to the committee on Housing")]
    assert current_committee(base + [H("3/2/2022", "House", "Accompanied by H1013")]) == "Housing"
    assert current_committee(base + [H("3/2/2022", "House", "Accompanied H1014")]) is None


# ------------------------------------------------------------------------------------
# stage
# ------------------------------------------------------------------------------------


def test_stage_h135_is_replaced_and_s47_study_order():
    assert stage(H135, session_ended=False) == "replaced"
    assert stage(H135, session_ended=True) == "replaced"
    assert stage(S47, session_ended=False) == "study-order"
    assert stage(S47, session_ended=True) == "study-order"


def test_stage_before_the_end_of_h135_and_s47():
    assert stage(H135[:-1], session_ended=False) == "in-committee"
    assert stage(H135[:-1], session_ended=True) == "dead"
    assert stage(S47[:-1], session_ended=False) == "in-committee"


def test_stage_filed_and_referred():
    assert stage([], session_ended=False) == "filed"
    assert stage([], session_ended=True) == "dead"
    referred = [H("3/29/2021", "House", "Referred to the committee on The Judiciary")]
    assert stage(referred, session_ended=False) == "in-committee"
    assert stage(referred, session_ended=True) == "dead"


def test_stage_h5091_reported_to_ways_and_means():
    assert stage(H5091, session_ended=False) == "reported"
    assert stage(H5091, session_ended=True) == "dead"


def test_stage_favourable_report_to_another_policy_committee_stays_in_committee():
    history = [
        H("3/29/2021", "House", "Referred to the committee on Financial Services"),
        H("3/29/2022", "House", "Reported favorably by committee and referred to the committee on Health Care Financing"),
    ]
    assert stage(history, session_ended=False) == "in-committee"


BILL_TO_LAW = [
    H("3/1/2021", "House", "Referred to the committee on Revenue"),
    H("3/2/2021", "Senate", "Senate concurred"),
    H("5/1/2021", "House", "Bill reported favorably by committee and referred to the committee on House Ways and Means"),
    H("6/1/2021", "House", "Committee recommended ought to pass and referred to the committee on House Steering, Policy and Scheduling"),
    H("6/2/2021", "House", "Committee reported that the matter be placed in the Orders of the Day for the next sitting"),
    H("6/3/2021", "House", "Read second and ordered to a third reading"),
    H("6/4/2021", "House", "Read third and passed to be engrossed"),
    H("6/8/2021", "Senate", "Read; and referred to the committee on Senate Ways and Means"),
    H("6/20/2021", "Senate", "Committee recommended ought to pass"),
    H("6/24/2021", "Senate", "Read second and ordered to a third reading"),
    H("6/24/2021", "Senate", "Read third and passed to be engrossed"),
    H("7/1/2021", "House", "Enacted"),
    H("7/1/2021", "Senate", "Enacted and laid before the Governor"),
    H("7/8/2021", "Executive", "Signed by the Governor, Chapter 18 of the Acts of 2021"),
]


@pytest.mark.parametrize(
    "n, expected",
    [
        (1, "in-committee"),
        (3, "reported"),
        (4, "reported"),
        (6, "reported"),
        (7, "passed-house"),
        (8, "passed-house"),  # the Senate's committee does not demote it
        (10, "passed-house"),
        (11, "passed-senate"),
        (12, "enacted"),
        (13, "enacted"),
        (14, "law"),
    ],
)
def test_stage_along_the_way_to_law(n, expected):
    assert stage(BILL_TO_LAW[:n], session_ended=False) == expected


def test_stage_enacted_but_unsigned_when_the_session_ends_is_dead():
    assert stage(BILL_TO_LAW[:13], session_ended=True) == "dead"
    assert stage(BILL_TO_LAW, session_ended=True) == "law"


def test_stage_veto_and_override():
    vetoed = BILL_TO_LAW[:13] + [H("7/8/2021", "Executive", "Governor returned to the House with veto")]
    assert stage(vetoed, session_ended=False) == "vetoed"
    assert stage(vetoed, session_ended=True) == "vetoed"
    house = vetoed + [H("9/23/2021", "House", "Passed over veto - 130 YEAS to 28 NAYS (See YEA and NAY No. 92)")]
    assert stage(house, session_ended=False) == "vetoed"  # one branch is not enough
    both = house + [H("9/30/2021", "Senate", "Passed over veto - see Roll Call #78 (Yeas 35 to Nays 3)")]
    assert stage(both, session_ended=False) == "law"


def test_stage_bare_chapter_after_a_veto_is_law():
    vetoed = BILL_TO_LAW[:13] + [H("8/3/2021", "Executive", "Governor returned to the House with veto")]
    assert stage(vetoed + [H("9/30/2021", "Senate", "Chapter 66 of the Acts of 2021")], session_ended=True) == "law"


def test_stage_partial_signature_is_signed_and_section_vetoes_do_not_undo_it():
    partial = BILL_TO_LAW[:13] + [
        H("7/16/2021", "Executive", "Signed (in part) by the Governor, Chapter 24 of the Acts of 2021"),
        H("7/16/2021", "Executive", "Governor returned to the House with veto"),
        H("7/28/2021", "House", "Section 5 passed over veto - 130 YEAS to 30 NAYS (See YEA and NAY No. 52)"),
    ]
    assert stage(partial[:14], session_ended=False) == "signed"
    assert stage(partial, session_ended=False) == "signed"
    assert stage(partial, session_ended=True) == "signed"


def test_stage_new_draft_recommendation_is_reported_until_substituted():
    history = [
        H("4/13/2021", "House", "Referred to the committee on Public Service"),
        H("10/7/2021", "House", "Bill reported favorably by committee and referred to the committee on House Ways and Means"),
        H("7/2/2022", "House", "Committee recommended ought to pass with an amendment, substituting therefor a bill with the same title, see H5051"),
        H("7/28/2022", "House", "Referred to the committee on House Steering, Policy and Scheduling with the amendment pending"),
        H("7/28/2022", "House", "New draft substituted, see H5051"),
    ]
    assert stage(history[:3], session_ended=False) == "reported"
    assert stage(history[:4], session_ended=False) == "reported"
    assert stage(history, session_ended=False) == "replaced"


def test_stage_placed_on_file_is_dead_and_recommittal_revives():
    filed = [
        H("3/1/2021", "House", "Referred to the committee on Election Laws"),
        H("4/29/2021", "Senate", "Proposal for Constitutional Amendment reported adversely by committee and placed on file"),
    ]
    assert stage(filed, session_ended=False) == "dead"
    ontp = [
        H("3/30/2021", "House", "Referred to the committee on Revenue"),
        H("4/4/2022", "House", "Ought NOT to pass (under Joint Rule 10)"),
    ]
    assert stage(ontp, session_ended=False) == "reported"
    recommitted = ontp + [H("4/4/2022", "House", "Recommitted to the committee on Revenue")]
    assert stage(recommitted, session_ended=False) == "in-committee"
    assert current_committee(recommitted) == "Revenue"


def test_stage_plain_accompanied_is_replaced():
    history = [
        H("3/29/2021", "House", "Referred to the committee on Environment, Natural Resources and Agriculture"),
        H("3/9/2022", "House", "Accompanied H1014"),
    ]
    assert stage(history, session_ended=False) == "replaced"
    carrier = history[:1] + [H("3/9/2022", "House", "Accompanied by H1013")]
    assert stage(carrier, session_ended=False) == "in-committee"


def test_stage_values_are_always_known():
    histories = [[], H135, S47, H5091, BILL_TO_LAW, [H("1/1/2021", "House", "Order considered")]]
    for h in histories:
        for ended in (False, True):
            assert stage(h, session_ended=ended) in STAGES
