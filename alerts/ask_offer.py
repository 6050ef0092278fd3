"""What an ask of ``asks:`` offers now, for one bill and one supporter: whether it can still matter, the
occasion (what "once" means), and who receives the letter, each with the variant of the letter they get.

* ``letter``: the supporter's own Representative and Senator (from her districts); one who already co-sponsors
  a bill the campaign supports gets the ``thanks`` variant.
* ``chairs``: both chairs of the committee that holds the bill, while it is in committee.
* ``testimony``: both chairs of the committee holding the bill's next hearing, only before that hearing.

A letter is offered only while its bill can move; a dead bill's asks go to the bill it continues as (a new
draft, its successor) when the ask covers that one. Recipients come from the stored directory: one without an
email address there, or whose address bounced, is named with the reason and written to by no one. So an ask
never sends to nobody (``Offer.missing`` says why) and never to anyone but the people it names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.asks import Supporter, live
from alerts.settings import AskSpec
from db.models import Bill, FailingAddress

if TYPE_CHECKING:
    from alerts.context import BillView, ContextCache, Person

KIND_TITLES = {"letter": "Write to your legislators", "chairs": "Write to the committee chairs",
               "testimony": "Send testimony for the hearing"}
BUTTONS = {"letter": "Write your letter", "chairs": "Write to the chairs", "testimony": "Send your testimony"}


@dataclass(frozen=True)
class Recipient:
    code: str
    name: str
    title: str  # Senator | Representative
    branch: str | None
    district: str | None
    email: str | None
    phone: str | None
    role: str  # "your senator", "House chair of the Joint Committee on the Judiciary"
    variant: str  # ask | thanks
    problem: str | None = None  # why no letter can go to them (no address in the directory, it bounced)

    @property
    def reachable(self) -> bool:
        return self.problem is None

    def template_values(self) -> dict:
        return {"name": self.name, "title": self.title, "district": self.district or "", "role": self.role}


@dataclass
class Offer:
    spec: AskSpec
    bill: "BillView | None"  # the bill the letters are about (a dead bill's heir), None when nothing can be asked
    occasion: str | None = None
    committee: str | None = None
    recipients: list[Recipient] = field(default_factory=list)
    missing: str | None = None  # why no one can receive a letter now
    needs_districts: bool = False  # a letter ask without the supporter's districts: ask for them

    @property
    def reachable(self) -> list[Recipient]:
        return [r for r in self.recipients if r.reachable]


def covers(s: Session, spec: AskSpec, canonical: str) -> bool:
    """Does the ask cover this bill: listed in ``bills``, or (none listed) a followed bill the campaign supports
    or opposes."""
    if spec.bills:
        return canonical in spec.bills
    position = s.scalar(select(Bill.position).where(Bill.canonical == canonical, Bill.tracked.is_(True)))
    return position in ("support", "oppose")


def covered_bills(s: Session, spec: AskSpec) -> list[Bill]:
    """The stored bills the ask covers, in the order ``bills`` lists them (else by id)."""
    if spec.bills:
        rows = {b.canonical: b for b in s.scalars(select(Bill).where(Bill.canonical.in_(spec.bills)))}
        return [rows[c] for c in spec.bills if c in rows]
    return list(s.scalars(select(Bill).where(Bill.tracked.is_(True), Bill.position.in_(("support", "oppose")))
                          .order_by(Bill.id)))


def _title(person: "Person") -> str:
    return "Senator" if (person.branch or "").lower() == "senate" else "Representative"


def _failing(s: Session, people) -> dict[str, str]:
    addrs = [p.email.lower() for p in people if p.email]
    if not addrs:
        return {}
    return {a: e or "it bounced" for a, e in s.execute(
        select(FailingAddress.addr, FailingAddress.last_error).where(FailingAddress.addr.in_(addrs)))}


def _recipients(s: Session, people, role_of, variant_of) -> list[Recipient]:
    failing = _failing(s, people)
    out = []
    for p in people:
        if not p.member_code:
            continue
        problem = None
        if not p.email:
            problem = "the legislature's directory has no email address for this office"
        elif p.email.lower() in failing:
            problem = "this office's address returned our last letter as undeliverable"
        out.append(Recipient(code=p.member_code, name=p.name, title=_title(p), branch=p.branch, district=p.district,
                             email=p.email, phone=p.phone, role=role_of(p), variant=variant_of(p), problem=problem))
    return out


def offer(s: Session, spec: AskSpec, view: "BillView", supporter: Supporter, cache: "ContextCache") -> Offer:
    """What ``spec`` offers about ``view`` to a supporter with these districts."""
    bill = view
    if not live(bill):
        heir = bill.continues_as
        if heir is None or not live(heir) or not covers(s, spec, heir.canonical):
            why = bill.fate or f"{bill.number} can no longer move"
            return Offer(spec, None, missing=f"{why} There is nothing to ask about it now.".replace(".. ", ". "))
        bill = heir
    position = bill.position if bill.position in ("support", "oppose") else "support"
    if spec.kind == "testimony":
        if not bill.hearing:
            return Offer(spec, None, missing=f"{bill.number} has no hearing to come: testimony can wait for the "
                                             "next one.")
        committee = bill.hearing_committee or "the committee"
        occasion = f"hearing:{bill.hearing.get('id')}"
        people = bill.hearing_chairs
        recipients = _recipients(s, people, lambda p: f"{p.role} of the {committee}", lambda p: "ask")
        found = Offer(spec, bill, occasion, committee, recipients)
        if not found.reachable:
            found.missing = (f"The directory names no chair of the {committee} we can write to. Call the committee "
                             "instead, or come back later.")
        return found
    if spec.kind == "chairs":
        if bill.status != "in-committee" or not bill.committee:
            return Offer(spec, None, missing=f"{bill.number} is not in a committee now.")
        committee = bill.committee
        occasion = f"{bill.canonical}@{bill.committee_code or committee}"[:80]
        recipients = _recipients(s, bill.chairs, lambda p: f"{p.role} of the {committee}",
                                 lambda p: _variant(spec, position, bill, p))
        found = Offer(spec, bill, occasion, committee, recipients)
        if not found.reachable:
            found.missing = f"The directory names no chair of the {committee} we can write to."
        return found
    # a letter to her own legislators
    if not supporter.known:
        return Offer(spec, bill, bill.canonical, missing="Tell us your districts, so the letter goes to your own "
                                                         "Representative and Senator.", needs_districts=True)
    people = cache.legislators(bill.session, supporter.house_district, supporter.senate_district)
    recipients = _recipients(s, people, lambda p: p.role, lambda p: _variant(spec, position, bill, p))
    found = Offer(spec, bill, bill.canonical, None, recipients)
    if not recipients:
        found.missing = ("The legislature's directory has no member for the districts you gave. Check them below "
                         "(the legislature's Find My Legislator page tells you yours).")
        found.needs_districts = True
    elif not found.reachable:
        found.missing = "We cannot write to your legislators by email; call their offices instead."
    return found


def _variant(spec: AskSpec, position: str, bill: "BillView", person: "Person") -> str:
    cosponsors = position == "support" and person.member_code in bill.petitioner_codes
    return "thanks" if cosponsors and spec.thanks else "ask"
