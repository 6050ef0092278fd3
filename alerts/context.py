"""What an alert says besides the news: who holds the bill, who to call, thank or write to.

Everything comes from data the spiders keep: the bill's committee and sponsor, its
latest hearing, the committee's chairs (the API's Committees endpoint) and the
supporter's own legislators by district (LegislativeMembers). One
:class:`ContextCache` serves a whole dispatch, so 10,000 alerts about one bill look
its committee up once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.wording import STATUS_WORDS, when
from db.models import Article, ArticleSource, Bill, Feed, Hearing, Legislator
from db import directory
from spiders.billids import dotted


@dataclass(frozen=True)
class Person:
    name: str
    role: str  # "House chair", "sponsor", "your representative", ...
    phone: str | None = None
    email: str | None = None
    district: str | None = None
    member_code: str | None = None


@dataclass(frozen=True)
class Ask:
    title: str
    text: str
    people: tuple[Person, ...] = ()
    link: str | None = None


@dataclass
class BillView:
    id: int
    canonical: str
    number: str  # H.135
    session: int
    title: str
    status: str | None
    status_words: str
    committee: str | None  # the committee's full name when the directory knows it
    url: str | None
    sponsor: Person | None
    petitioner_codes: frozenset[str]
    chairs: tuple[Person, ...]
    hearing: dict | None  # the next hearing: {"when", "location", "starts_at"}
    position: str = "support"  # the campaign's: support | oppose | watch


@dataclass
class Story:
    title: str
    url: str
    publisher: str | None
    published_at: datetime | None
    also_in: list[dict] = field(default_factory=list)  # [{"publisher", "url"}]


def _person(member: Legislator | None, role: str, fallback_name: str | None = None) -> Person | None:
    if member is None:
        return Person(name=fallback_name, role=role) if fallback_name else None
    return Person(name=member.name, role=role, phone=member.phone, email=member.email, district=member.district,
                  member_code=member.member_code)


class ContextCache:
    def __init__(self, s: Session, tz: ZoneInfo, now: datetime):
        self.s, self.tz, self.now = s, tz, now
        self._bills: dict[int, BillView] = {}
        self._reps: dict[tuple, tuple[Person, ...]] = {}
        self._stories: dict[int, Story | None] = {}

    def bill(self, bill_id: int) -> BillView:
        view = self._bills.get(bill_id)
        if view is None:
            view = self._bills[bill_id] = self._bill(self.s.get(Bill, bill_id))
        return view

    def _bill(self, bill: Bill) -> BillView:
        committee = directory.committee_for(self.s, bill.session, bill.committee) if bill.committee else None
        chairs = ()
        if committee is not None:
            chairs = tuple(_person(m, f"{m.branch or ''} chair".strip()) for m in directory.chairs(self.s, committee))
        sponsor = None
        if bill.sponsor:
            member = directory.member(self.s, bill.session, bill.sponsor_code) if bill.sponsor_code else None
            sponsor = _person(member, "sponsor", bill.sponsor)
        hearing = self.s.scalar(select(Hearing).where(Hearing.bill_id == bill.id).order_by(Hearing.id.desc()).limit(1))
        upcoming = None
        if hearing and hearing.status != "canceled" and hearing.starts_at and hearing.starts_at >= self.now:
            upcoming = {"when": when(hearing.starts_at, self.tz), "location": hearing.location,
                        "starts_at": hearing.starts_at}
        committee_name = committee.full_name if committee else (
            f"committee on {_lower_article(bill.committee)}" if bill.committee else None)
        return BillView(
            id=bill.id, canonical=bill.canonical, number=dotted(bill.number), session=bill.session,
            title=bill.title or dotted(bill.number), status=bill.status,
            status_words=STATUS_WORDS.get(bill.status or "", bill.status or "not yet checked"),
            committee=committee_name, url=bill.url, sponsor=sponsor,
            petitioner_codes=frozenset(p.get("member_code") for p in (bill.petitioners or []) if p.get("member_code")),
            chairs=chairs, hearing=upcoming, position=bill.position or "support")

    def representatives(self, session: int, house: str | None, senate: str | None) -> tuple[Person, ...]:
        if not (house or senate):
            return ()
        key = (session, house, senate)
        if key not in self._reps:
            found = [m for m in directory.legislators_for(self.s, session, house, senate) if m is not None]
            self._reps[key] = tuple(
                _person(m, "your senator" if (m.branch or "").lower() == "senate" else "your representative")
                for m in found)
        return self._reps[key]

    def stories(self, article_ids: list[int]) -> list[Story]:
        """One entry per story cluster (the first article seen), with the other outlets as "also in"."""
        missing = [i for i in article_ids if i not in self._stories]
        if missing:
            self._load_stories(missing)
        out, seen = [], set()
        for i in article_ids:
            story = self._stories.get(i)
            if story is not None and id(story) not in seen:
                seen.add(id(story))
                out.append(story)
        return out

    def _load_stories(self, article_ids: list[int]) -> None:
        articles = list(self.s.scalars(select(Article).where(Article.id.in_(article_ids))))
        clusters = {a.cluster_id for a in articles if a.cluster_id is not None}
        mates: dict[int, list[Article]] = {}
        if clusters:
            for a in self.s.scalars(select(Article).where(Article.cluster_id.in_(clusters)).order_by(Article.id)):
                mates.setdefault(a.cluster_id, []).append(a)
        feed_names = dict(self.s.execute(
            select(ArticleSource.article_id, Feed.name).join(Feed, Feed.id == ArticleSource.feed_id)
            .where(ArticleSource.article_id.in_(article_ids))).all())
        by_cluster: dict[int, Story] = {}
        for a in sorted(articles, key=lambda a: a.id):
            if a.cluster_id is not None and a.cluster_id in by_cluster:
                self._stories[a.id] = by_cluster[a.cluster_id]
                continue
            lead = mates.get(a.cluster_id, [a])[0] if a.cluster_id is not None else a
            story = Story(title=lead.title, url=lead.link or lead.url, publisher=lead.publisher or feed_names.get(lead.id),
                          published_at=lead.published_at)
            for other in mates.get(a.cluster_id, [])[1:]:
                if (other.publisher or "") != (story.publisher or ""):
                    story.also_in.append({"publisher": other.publisher or other.url.split("/")[2],
                                          "url": other.link or other.url})
            self._stories[a.id] = story
            if a.cluster_id is not None:
                by_cluster[a.cluster_id] = story


def _opposing_asks(bill: BillView, own: tuple[Person, ...]) -> list[Ask]:
    """What supporters can do against a bill the campaign opposes: never thank its sponsor."""
    out: list[Ask] = []
    if bill.hearing:
        where = bill.hearing["location"] or "a place to be announced"
        out.append(Ask(
            "Testify against it at the hearing",
            f"The {bill.committee or 'committee'} hears {bill.number} on {bill.hearing['when']} ({where}). "
            f"Send written testimony to the committee{' chairs below' if bill.chairs else ''} before the hearing, "
            f"and say in it that you oppose {bill.number} and why; to speak, register with the committee on its "
            "hearing page.",
            bill.chairs, bill.url))
    if bill.status == "in-committee" and bill.committee:
        out.append(Ask(f"Call the chairs of the {bill.committee}",
                       f"Ask them not to report {bill.number} favorably.", bill.chairs))
    if bill.status == "enacted":
        out.append(Ask("Ask the Governor to veto", f"{bill.number} is on the Governor's desk: ask for a veto."))
    if own and bill.status in ACTIVE:
        verb = "vote against" if bill.status in ("reported", "passed-house", "passed-senate") else "oppose"
        out.append(Ask("Write to your legislators", f"Ask them to {verb} {bill.number}.", own))
    return out


ACTIVE = frozenset({None, "filed", "in-committee", "reported", "passed-house", "passed-senate", "enacted"})


def _lower_article(name: str) -> str:
    """"The Judiciary" -> "the Judiciary", for "the committee on the Judiciary"."""
    return "the " + name[4:] if name.startswith("The ") else name


def asks(bill: BillView, own: tuple[Person, ...], good_news: bool) -> list[Ask]:
    """The targeted asks for one bill, most pressing first: to support what the campaign supports, to oppose
    what it opposes (a bill it only watches asks nothing)."""
    if bill.position == "oppose":
        return _opposing_asks(bill, own)
    if bill.position == "watch":
        return []
    out: list[Ask] = []
    if bill.hearing:
        where = bill.hearing["location"] or "a place to be announced"
        out.append(Ask(
            "Testify at the hearing",
            f"The {bill.committee or 'committee'} hears {bill.number} on {bill.hearing['when']} ({where}). "
            f"Send written testimony to the committee{' chairs below' if bill.chairs else ''} before the hearing, "
            f"and say in it that you support {bill.number}; to speak, register with the committee on its hearing "
            "page.",
            bill.chairs, bill.url))
    if bill.status == "in-committee" and bill.committee:
        out.append(Ask(f"Call the chairs of the {bill.committee}",
                       f"Ask them to report {bill.number} favorably and without delay.", bill.chairs))
    if bill.status == "enacted":
        out.append(Ask("Ask the Governor to sign", f"{bill.number} is on the Governor's desk: ask for a signature."))
    if good_news and bill.sponsor:
        out.append(Ask("Thank the sponsor", f"{bill.sponsor.name} filed {bill.number}: a thank-you now helps.",
                       (bill.sponsor,)))
    if own and bill.status in ACTIVE:
        cosponsors = tuple(p for p in own if p.member_code and p.member_code in bill.petitioner_codes)
        others = tuple(p for p in own if p not in cosponsors)
        if cosponsors:
            out.append(Ask("Thank your legislators", f"They co-sponsored {bill.number}: thank them, and ask them "
                                                     "to keep pushing for a vote.", cosponsors))
        if others:
            verb = "vote for" if bill.status in ("reported", "passed-house", "passed-senate") else "support"
            out.append(Ask("Write to your legislators", f"Ask them to {verb} {bill.number} and to tell the "
                                                        "committee chairs they want it passed.", others))
    return out
