"""What a supporter can do now about one bill: each ask is one function of (bill, position, occasion,
supporter, directory) and is offered only while it can still matter.

* ``bill`` is a :class:`alerts.context.BillView`: the facts as of now (its stage, whether its General Court is
  over, the next hearing and the committee holding it with its chairs, where a dead bill continues).
* ``position`` is the campaign's: ``support`` or ``oppose`` (``watch`` asks nothing).
* ``occasion`` is what the alert tells about the bill (its events' kinds).
* ``supporter`` is her districts; ``directory`` finds her legislators in a General Court.

A bill that can no longer move (its General Court ended, it became law, was vetoed, replaced by a new draft or
sent to a study order) gets no ask of its own; when it continues as another bill (a new draft, an accepted
successor in the next General Court), the asks are about that bill.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol

if TYPE_CHECKING:
    from alerts.context import BillView, Person

GOOD_NEWS = frozenset({"reported-favorably", "ought-to-pass", "new-draft", "engrossed", "enacted", "signed"})
# stages after which the bill itself cannot move any more (its asks, if any, are about the bill it continues as)
OVER = frozenset({"dead", "law", "signed", "vetoed", "replaced", "study-order"})
FLOOR = frozenset({"reported", "passed-house", "passed-senate"})


@dataclass(frozen=True)
class Ask:
    title: str
    text: str
    people: tuple["Person", ...] = ()
    link: str | None = None
    kind: str | None = None  # the kind of ``asks:`` entry that answers it on our page: letter | chairs | testimony
    button: str | None = None  # the words of the button to that page, when one is declared


@dataclass(frozen=True)
class Occasion:
    """What the alert tells about the bill: its events' kinds (``hearing.scheduled``, ``bill.action``, ...) and
    the kinds of the actions among them (``reported-favorably``, ...)."""

    kinds: frozenset[str] = frozenset()
    action_kinds: frozenset[str] = frozenset()

    @property
    def good_news(self) -> bool:
        return bool(GOOD_NEWS & self.action_kinds)

    @property
    def hearing_canceled(self) -> bool:
        return "hearing.canceled" in self.kinds or "hearing-canceled" in self.action_kinds


@dataclass(frozen=True)
class Supporter:
    house_district: str | None = None
    senate_district: str | None = None

    @property
    def known(self) -> bool:
        return bool(self.house_district or self.senate_district)


class Directory(Protocol):
    def legislators(self, session: int, house_district: str | None, senate_district: str | None
                    ) -> tuple["Person", ...]: ...


def live(bill: "BillView") -> bool:
    """Can the bill still move? Not once its General Court is over or its stage is final."""
    return bill.ended is None and (bill.status or "filed") not in OVER


# -- the asks ---------------------------------------------------------------------------------------------------

def testify(bill: "BillView", position: str, occasion: Occasion, supporter: Supporter, directory: Directory
            ) -> Ask | None:
    """Before a hearing still to come: written testimony to the chairs of the committee that holds it."""
    if not bill.hearing or occasion.hearing_canceled:
        return None
    where = bill.hearing["location"] or "a place to be announced"
    committee = bill.hearing_committee or "committee"
    chairs = bill.hearing_chairs
    to = ("its House and Senate chairs below" if len(chairs) > 1 else "its chair below" if chairs
          else "the committee")
    stance = f"that you oppose {bill.number} and why" if position == "oppose" else f"that you support {bill.number}"
    return Ask(
        "Testify against it at the hearing" if position == "oppose" else "Testify at the hearing",
        f"The {committee} hears {bill.number} on {bill.hearing['when']} ({where}). Send written testimony to "
        f"{to} before the hearing, and say in it {stance}; to speak, register with the committee before the "
        "hearing.",
        chairs, bill.url, kind="testimony")


def call_chairs(bill: "BillView", position: str, occasion: Occasion, supporter: Supporter, directory: Directory
                ) -> Ask | None:
    """While the bill sits in a committee: its chairs decide whether it comes out."""
    if bill.status != "in-committee" or not bill.committee:
        return None
    want = (f"Ask them to report {bill.number} unfavorably, or not to report it at all." if position == "oppose"
            else f"Ask them to report {bill.number} favorably and without delay.")
    return Ask(f"Call the chairs of the {bill.committee}", want, bill.chairs, kind="chairs")


def governor(bill: "BillView", position: str, occasion: Occasion, supporter: Supporter, directory: Directory
             ) -> Ask | None:
    """An enacted bill is on the Governor's desk."""
    if bill.status != "enacted":
        return None
    if position == "oppose":
        return Ask("Ask the Governor to veto", f"{bill.number} is on the Governor's desk: ask for a veto.")
    return Ask("Ask the Governor to sign", f"{bill.number} is on the Governor's desk: ask for a signature.")


def thank_sponsor(bill: "BillView", position: str, occasion: Occasion, supporter: Supporter, directory: Directory
                  ) -> Ask | None:
    """Good news about a bill we support: thank whoever filed it (never the sponsor of a bill we oppose)."""
    if position != "support" or not occasion.good_news or not bill.sponsor:
        return None
    return Ask("Thank the sponsor", f"{bill.sponsor.name} filed {bill.number}: a thank-you now helps.",
               (bill.sponsor,))


def _own(bill: "BillView", supporter: Supporter, directory: Directory) -> tuple["Person", ...]:
    return directory.legislators(bill.session, supporter.house_district, supporter.senate_district) \
        if supporter.known else ()


def thank_legislators(bill: "BillView", position: str, occasion: Occasion, supporter: Supporter,
                      directory: Directory) -> Ask | None:
    """Her own legislators who co-sponsor a bill we support are thanked, not asked."""
    if position != "support":
        return None
    cosponsors = tuple(p for p in _own(bill, supporter, directory)
                       if p.member_code and p.member_code in bill.petitioner_codes)
    if not cosponsors:
        return None
    return Ask("Thank your legislators", f"They co-sponsored {bill.number}: thank them, and ask them to keep "
                                         "pushing for a vote.", cosponsors, kind="letter")


def write_legislators(bill: "BillView", position: str, occasion: Occasion, supporter: Supporter,
                      directory: Directory) -> Ask | None:
    """Her own legislators (from her districts), at any stage where the bill can still move."""
    own = _own(bill, supporter, directory)
    if position == "support":
        own = tuple(p for p in own if not (p.member_code and p.member_code in bill.petitioner_codes))
    if not own:
        return None
    floor = bill.status in FLOOR
    if position == "oppose":
        return Ask("Write to your legislators", f"Ask them to {'vote against' if floor else 'oppose'} "
                                                f"{bill.number}.", own, kind="letter")
    return Ask("Write to your legislators", f"Ask them to {'vote for' if floor else 'support'} {bill.number} "
                                            "and to tell the committee chairs they want it passed.", own, kind="letter")


ASKS: tuple[Callable[..., Ask | None], ...] = (testify, call_chairs, governor, thank_sponsor, thank_legislators,
                                               write_legislators)


def asks(bill: "BillView", position: str, occasion: Occasion, supporter: Supporter, directory: Directory
         ) -> list[Ask]:
    """The asks for one bill, most pressing first. A bill that can no longer move hands its asks to the bill it
    continues as (its new draft, its accepted successor), if that one can move; good news about the old bill is
    no reason to thank the new one's sponsor."""
    if position not in ("support", "oppose"):
        return []
    if not live(bill):
        heir = bill.continues_as
        return asks(heir, position, Occasion(), supporter, directory) if heir is not None and live(heir) else []
    return [a for a in (f(bill, position, occasion, supporter, directory) for f in ASKS) if a is not None]
