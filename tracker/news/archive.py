"""Matching the articles already stored against the bills that became tracked since (a new draft or study order
the crawl found, an accepted successor, ``tracker track``, a bill followed again).

A poll matches each new article against every tracked bill; an article stored before a bill was tracked would
never meet it. So the poll first takes the tracked bills whose ``archive_matched_at`` is NULL and, for each, in
one transaction: finds the candidate articles through the full-text index (any spelling of its number, within
the number's session window; any of its keywords, any date), runs the poll's own matcher over them (the same
rules, the same keywords), stores the links and their ``article.matched`` events, and marks the bill. A link
that exists is never written again, so a pass cut off and run again adds each link once.

The events are dated by the article (``occurred_at``: published, else first seen), so the alerts' backfill
cap keeps old news out of supporters' alerts; the staff see them in the archive and on the bill's page.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Article, ArticleBill, Bill, Event
from db.search import article_ids_with_any
from spiders.billids import parse_bill_id
from spiders.matching import BillMatcher, BillTerm, keyword_index_terms, session_window
from tracker.news.store import FeedWriter

log = logging.getLogger("tracker.poll")
PAGE = 500  # candidate articles read and matched at a time


def bills_to_match(s: Session) -> list[str]:
    """The tracked bills not matched against the stored articles since they became tracked."""
    return list(s.scalars(select(Bill.canonical).where(Bill.tracked.is_(True), Bill.archive_matched_at.is_(None))
                          .order_by(Bill.id)))


def match_archive(sessions: sessionmaker[Session], keywords: dict[str, list[str]], at: datetime) -> list[Event]:
    """Match the stored articles against each tracked bill not matched yet (one transaction per bill); the
    ``article.matched`` events written. ``keywords`` are the poll's (``inherited_keywords``)."""
    with sessions() as s:
        pending = bills_to_match(s)
    events: list[Event] = []
    for canonical in pending:
        with sessions.begin() as s:
            bill = s.scalar(select(Bill).where(Bill.canonical == canonical))
            if bill is None or not bill.tracked or bill.archive_matched_at is not None:
                continue  # untracked or done meanwhile
            found = _match_bill(s, bill, keywords, at)
            bill.archive_matched_at = at
            events.extend(found)
        if found:
            fields = {"job": "poll", "bill": canonical, "linked": len(found)}
            log.info("job=%(job)s archive bill=%(bill)s linked=%(linked)d", fields, extra=fields)
    return events


def _matcher(s: Session, bill: Bill, keywords: dict[str, list[str]]) -> BillMatcher:
    """The poll's matcher narrowed to what can decide for ``bill``: the bill, and the tracked bills of other
    sessions with the same number (the only ones its rules weigh it against: the sitting session wins)."""
    same_number = s.scalars(select(Bill.canonical).where(Bill.tracked.is_(True), Bill.number == bill.number)
                            .order_by(Bill.id))
    return BillMatcher([(parse_bill_id(c), keywords.get(c, [])) for c in same_number])


def candidates(s: Session, canonical: str, keywords: list[str]) -> list[int]:
    """Ids of the stored articles that may name the bill: its number's index terms within the session window,
    or its keywords' phrases whatever the date (id order)."""
    bid = parse_bill_id(canonical)
    since, until = session_window(bid.session)
    found: set[int] = set()
    for terms, window in ((BillTerm.from_bill(bid).index_terms(), (since, until)),
                          (keyword_index_terms(keywords), (None, None))):
        after = 0
        while terms:
            page = article_ids_with_any(s, terms, since=window[0], until=window[1], after=after, limit=PAGE * 4)
            found.update(page)
            if len(page) < PAGE * 4:
                break
            after = page[-1]
    return sorted(found)


def _match_bill(s: Session, bill: Bill, keywords: dict[str, list[str]], at: datetime) -> list[Event]:
    linked = set(s.scalars(select(ArticleBill.article_id).where(ArticleBill.bill_id == bill.id)))
    ids = [i for i in candidates(s, bill.canonical, keywords.get(bill.canonical, [])) if i not in linked]
    matcher = _matcher(s, bill, keywords)
    writer = FeedWriter(s, at, matcher, {bill.canonical: bill.id}, None)
    events: list[Event] = []
    for start in range(0, len(ids), PAGE):
        for article in s.scalars(select(Article).where(Article.id.in_(ids[start:start + PAGE])).order_by(Article.id)):
            # an undated article was matched as published when it was seen: the same here
            when = article.published_at or article.first_seen_at
            matches = [m for m in matcher.match(article.title, article.summary_text, article.full_text, when)
                       if m.bill == bill.canonical]
            # dated by the article, not by now: old news stays old for the alerts' backfill cap
            events.extend(writer.link_bills(article, matches, occurred_at=when))
    return events
