"""The asks of an alert as a table: stage x position x event kind -> which asks, naming whom."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from alerts.asks import Occasion, Supporter, asks
from alerts.context import BillView, Person

HEARING = {"when": "Thu Dec 10, 2026, 1:00 PM", "location": "Virtual Hearing",
           "starts_at": datetime(2026, 12, 10, 18, tzinfo=timezone.utc)}
JUDICIARY = (Person("Michael S. Day", "House chair", "617-555-0101", "day@example.org", member_code="MSD1"),
             Person("James B. Eldridge", "Senate chair", "617-555-0102", "eldridge@example.org", member_code="JBE0"))


class Directory:
    """Her legislators per General Court: the representative co-sponsors the bills, the senator does not."""

    def __init__(self):
        self.asked: list[tuple] = []

    def legislators(self, session, house, senate):
        self.asked.append((session, house, senate))
        return (Person(f"Rep {session}", "your representative", member_code=f"R{session}"),
                Person(f"Senator {session}", "your senator", member_code=f"S{session}"))


def view(status: str, session: int = 194, number: str = "H.1946", **kw) -> BillView:
    return BillView(id=1, canonical=f"ma/{session}/{number.replace('.', '')}", number=number, session=session,
                    title="An Act", status=status, status_words=status, committee="Joint Committee on the Judiciary",
                    url=None, sponsor=Person("A. Sponsor", "sponsor"),
                    petitioner_codes=frozenset({f"R{session}"}), chairs=JUDICIARY, hearing=HEARING,
                    hearing_committee="Joint Committee on the Judiciary", hearing_chairs=JUDICIARY, **kw)


HEIR = view("in-committee")  # H.1946 of the 194th, where the fight continues
STAGES = {
    "filed": view("filed"),
    "in-committee": view("in-committee"),
    "reported": view("reported"),
    "passed-one-branch": view("passed-house"),
    "enacted": view("enacted"),
    "dead-session-ended": view("dead", 192, "H.5091", ended="The 192nd General Court ended on Jan 4, 2023; ..."),
    "dead-continues": view("dead", 192, "H.5091", ended="The 192nd General Court ended ...", continues_as=HEIR),
    "replaced-by-new-draft": view("replaced", number="H.1700", continues_as=HEIR),
    "study-order": view("study-order"),
    "in-committee-in-an-ended-court": view("in-committee", 192, "H.135", ended="The 192nd General Court ended ..."),
}

T, TA, C, GS, GV, TS, TL, W = ("Testify at the hearing", "Testify against it at the hearing",
                               "Call the chairs of the Joint Committee on the Judiciary", "Ask the Governor to sign",
                               "Ask the Governor to veto", "Thank the sponsor", "Thank your legislators",
                               "Write to your legislators")
# the asks when a hearing is announced (the base case); the event kinds change it as EVENT_CHANGES says
BASE = {
    ("filed", "support"): [T, TL, W], ("filed", "oppose"): [TA, W],
    ("in-committee", "support"): [T, C, TL, W], ("in-committee", "oppose"): [TA, C, W],
    ("reported", "support"): [T, TL, W], ("reported", "oppose"): [TA, W],
    ("passed-one-branch", "support"): [T, TL, W], ("passed-one-branch", "oppose"): [TA, W],
    ("enacted", "support"): [T, GS, TL, W], ("enacted", "oppose"): [TA, GV, W],
    ("dead-session-ended", "support"): [], ("dead-session-ended", "oppose"): [],
    ("dead-continues", "support"): [T, C, TL, W], ("dead-continues", "oppose"): [TA, C, W],
    ("replaced-by-new-draft", "support"): [T, C, TL, W], ("replaced-by-new-draft", "oppose"): [TA, C, W],
    ("study-order", "support"): [], ("study-order", "oppose"): [],
    ("in-committee-in-an-ended-court", "support"): [], ("in-committee-in-an-ended-court", "oppose"): [],
}
EVENTS = {
    "hearing-scheduled": Occasion(frozenset({"hearing.scheduled"}), frozenset({"hearing-scheduled"})),
    "hearing-rescheduled": Occasion(frozenset({"hearing.rescheduled"}), frozenset({"hearing-rescheduled"})),
    "hearing-canceled": Occasion(frozenset({"hearing.canceled"}), frozenset({"hearing-canceled"})),
    "action": Occasion(frozenset({"bill.action"}), frozenset({"reported-favorably"})),
    "status-change": Occasion(frozenset({"bill.status"})),
    "successor-accepted": Occasion(frozenset({"bill.successor"})),
    "article": Occasion(frozenset({"article.matched"})),
}
MOVED = {"dead-continues", "replaced-by-new-draft"}


def expected(stage: str, position: str, event: str) -> list[str]:
    if position == "watch":
        return []
    out = list(BASE[(stage, position)])
    if event == "hearing-canceled" and stage not in MOVED:  # a moved ask is about the heir's own hearing
        out = [a for a in out if a not in (T, TA)]
    if event == "action" and position == "support" and out and stage not in MOVED:  # good news: thank the sponsor
        out.insert(out.index(TL), TS)
    return out


@pytest.mark.parametrize("event", list(EVENTS))
@pytest.mark.parametrize("position", ["support", "oppose", "watch"])
@pytest.mark.parametrize("stage", list(STAGES))
def test_the_asks_follow_the_stage_the_position_and_the_event(stage, position, event):
    directory = Directory()
    bill = STAGES[stage]
    got = asks(bill, position, EVENTS[event], Supporter("24th Middlesex", "Middlesex and Worcester"), directory)
    assert [a.title for a in got] == expected(stage, position, event)
    about = HEIR if stage in MOVED else bill
    by_title = {a.title: a for a in got}
    for title in (T, TA):
        if title in by_title:  # both chairs of the joint committee, with phone and email, and no invented deadline
            ask = by_title[title]
            assert ask.people == JUDICIARY and all(p.phone and p.email for p in ask.people)
            assert ask.kind == "testimony"  # a testimony page of asks: answers it (its button in the alert)
            assert f"The Joint Committee on the Judiciary hears {about.number}" in ask.text
            assert "before the hearing" in ask.text and "its House and Senate chairs below" in ask.text
            assert ("you oppose" if position == "oppose" else "you support") in ask.text
    if C in by_title:
        assert by_title[C].people == JUDICIARY
        assert ("unfavorably" if position == "oppose" else "favorably and without delay") in by_title[C].text
    if TL in by_title:  # her representative co-sponsors: thanked, not asked
        assert [p.name for p in by_title[TL].people] == [f"Rep {about.session}"]
    if W in by_title:
        names = [p.name for p in by_title[W].people]
        assert names == ([f"Rep {about.session}", f"Senator {about.session}"] if position == "oppose"
                         else [f"Senator {about.session}"])
        assert about.number in by_title[W].text
        assert directory.asked and {a[0] for a in directory.asked} == {about.session}
    for ask in got:  # a moved ask names the bill the fight continues as, never the dead one
        assert about.number in ask.text or ask.title == TS


def test_no_districts_no_legislators_and_no_hearing_no_testimony():
    directory = Directory()
    bill = replace(STAGES["in-committee"], hearing=None)
    got = asks(bill, "support", EVENTS["status-change"], Supporter(), directory)
    assert [a.title for a in got] == [C] and directory.asked == []
