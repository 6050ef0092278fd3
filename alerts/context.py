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

from alerts.asks import OVER, live
from alerts.wording import STATUS_WORDS, day, when
from db.models import Article, ArticleSource, Bill, BillAction, Feed, Hearing, Legislator
from db import directory, lineage
from spiders import sessions
from spiders.actions import committee_named, committee_of
from spiders.billids import dotted


@dataclass(frozen=True)
class Person:
    name: str
    role: str  # "House chair", "sponsor", "your representative", ...
    phone: str | None = None
    email: str | None = None
    district: str | None = None
    member_code: str | None = None
    branch: str | None = None  # House | Senate


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
    hearing_committee: str | None = None  # who holds that hearing (its full name when the directory knows it)
    hearing_chairs: tuple[Person, ...] = ()  # its chairs: the House chair, then the Senate chair
    committee_code: str | None = None  # the directory's code of ``committee`` (J19), when it knows it
    hearing_committee_code: str | None = None
    ended: str | None = None  # "The 192nd General Court ended on Jan 4, 2023; this bill died with it."
    continues_as: "BillView | None" = None  # the followed bill the fight goes on with (new draft, successor)
    continues_number: str | None = None  # its number, even when it is not followed yet
    fate: str | None = None  # what ended and where it continues, in a sentence or two


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
                  member_code=member.member_code, branch=member.branch)


class ContextCache:
    def __init__(self, s: Session, tz: ZoneInfo, now: datetime):
        self.s, self.tz, self.now = s, tz, now
        self._bills: dict[int, BillView] = {}
        self._reps: dict[tuple, tuple[Person, ...]] = {}
        self._stories: dict[int, Story | None] = {}
        self._edges: list[tuple[str, str, str]] | None = None

    def bill(self, bill_id: int) -> BillView:
        view = self._bills.get(bill_id)
        if view is None:
            view = self._bills[bill_id] = self._bill(self.s.get(Bill, bill_id))
        return view

    def _committee(self, session: int, name: str | None) -> tuple[str | None, tuple[Person, ...], str | None]:
        """A committee's full name (else "committee on ..."), its chairs and its code, from the stored directory."""
        if not name:
            return None, (), None
        committee = directory.committee_for(self.s, session, name)
        if committee is None:
            return f"committee on {_lower_article(name)}", (), None
        return committee.full_name, tuple(_person(m, f"{m.branch or ''} chair".strip())
                                          for m in directory.chairs(self.s, committee)), committee.code

    def _hearing_host(self, bill: Bill, hearing: Hearing) -> str | None:
        """Who holds the hearing: the committee of the last referral before it, of the hearing's branch (a Joint
        hearing: a joint committee), else the last one that reported it; else the bill's committee. (The API's
        hearing record, ``/api/Hearings/{EventId}`` with its ``HearingHost``, is not fetched yet.)"""
        row = self.s.get(BillAction, hearing.action_id) if hearing.action_id else None
        if row is None:
            return bill.committee
        before = list(self.s.scalars(select(BillAction).where(
            BillAction.bill_id == bill.id, BillAction.position < row.position, BillAction.removed_at.is_(None))
            .order_by(BillAction.position.desc())))
        branch = (row.branch or "").title()

        def of_branch(name: str) -> bool:
            committee = directory.committee_for(self.s, bill.session, name)
            found = (committee.branch if committee is not None else None) or directory.committee_key(name)[0] \
                or "Joint"  # "The Judiciary": a joint committee unless it says its branch
            return branch not in ("House", "Senate", "Joint") or found.title() == branch

        for pick in (committee_of, committee_named):
            for action in before:
                name = pick(action.action)
                if name and of_branch(name):
                    return name
        return bill.committee if bill.committee and of_branch(bill.committee) else None

    def _lineage(self) -> list[tuple[str, str, str]]:
        if self._edges is None:
            self._edges = lineage.linked_edges(self.s)
        return self._edges

    def _bill(self, bill: Bill) -> BillView:
        committee_name, chairs, committee_code = self._committee(bill.session, bill.committee)
        sponsor = None
        if bill.sponsor:
            member = directory.member(self.s, bill.session, bill.sponsor_code) if bill.sponsor_code else None
            sponsor = _person(member, "sponsor", bill.sponsor)
        hearing = self.s.scalar(select(Hearing).where(Hearing.bill_id == bill.id).order_by(Hearing.id.desc()).limit(1))
        upcoming, host, host_chairs, host_code = None, None, (), None
        if hearing and hearing.status != "canceled" and hearing.starts_at and hearing.starts_at >= self.now:
            upcoming = {"when": when(hearing.starts_at, self.tz), "location": hearing.location,
                        "starts_at": hearing.starts_at, "id": hearing.id}
            host, host_chairs, host_code = self._committee(bill.session, self._hearing_host(bill, hearing))
        ended = None
        if sessions.has_ended(bill.session, self.now) and bill.status not in ("law", "signed"):
            ended = (f"T{sessions.ordinal_court(bill.session)[1:]} ended on "
                     f"{day(sessions.ends(bill.session), self.tz)}; this bill died with it.")
        view = BillView(
            id=bill.id, canonical=bill.canonical, number=dotted(bill.number), session=bill.session,
            title=bill.title or dotted(bill.number), status=bill.status,
            status_words=STATUS_WORDS.get(bill.status or "", bill.status or "not yet checked"),
            committee=committee_name, url=bill.url, sponsor=sponsor,
            petitioner_codes=frozenset(p.get("member_code") for p in (bill.petitioners or []) if p.get("member_code")),
            chairs=chairs, hearing=upcoming, position=bill.position or "support",
            hearing_committee=host, hearing_chairs=host_chairs, ended=ended, committee_code=committee_code,
            hearing_committee_code=host_code)
        if ended or bill.status in OVER:
            self._fate(view)
        return view

    def _fate(self, view: BillView) -> None:
        """What ended for a bill that can no longer move, and where the fight goes on."""
        words = [view.ended] if view.ended else []
        if not view.ended and view.status == "replaced":
            words.append("It was replaced by a new draft.")
        elif not view.ended and view.status == "study-order":
            words.append("It was sent to a study order: it gets no vote in this General Court.")
        heir = lineage.continuation(self._lineage(), view.canonical)
        if heir:
            session, number = int(heir.split("/")[1]), dotted(heir)
            view.continues_number = number
            heir_id = self.s.scalar(select(Bill.id).where(Bill.canonical == heir))
            view.continues_as = self.bill(heir_id) if heir_id is not None else None
            where = f"in {sessions.ordinal_court(session)}" if session != view.session else "(a new draft)"
            text = f"It continues as {number} {where}"
            if view.continues_as is not None and live(view.continues_as) and view.position in ("support", "oppose"):
                text += f": what you can do now is about {number}."
            else:
                text += "."
            words.append(text)
        view.fate = " ".join(words) or None

    def legislators(self, session: int, house: str | None, senate: str | None) -> tuple[Person, ...]:
        """The supporter's own legislators in a General Court (the directory of the ask's :mod:`alerts.asks`)."""
        return self.representatives(session, house, senate)

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


def _lower_article(name: str) -> str:
    """"The Judiciary" -> "the Judiciary", for "the committee on the Judiciary"."""
    return "the " + name[4:] if name.startswith("The ") else name
