"""SQLAlchemy models: the state of what we follow, and the append-only event log.

The migrations in ``db/migrations`` create exactly these tables; a test checks
that autogenerate finds no difference.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.checks import CheckState
from db.types import UTCDateTime


class Base(DeclarativeBase):
    pass


class Bill(CheckState, Base):
    """A bill we follow (or followed), with its current state and its check schedule."""

    __tablename__ = "bills"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    canonical: Mapped[str] = mapped_column(String(40), unique=True)  # ma/192/H135
    session: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(20))
    title: Mapped[str | None] = mapped_column(Text)
    sponsor: Mapped[str | None] = mapped_column(Text)
    sponsor_code: Mapped[str | None] = mapped_column(String(20))
    petitioners: Mapped[list | None] = mapped_column(JSON)  # [{"name", "member_code"}]
    pinslip: Mapped[str | None] = mapped_column(Text)
    docket: Mapped[str | None] = mapped_column(String(20))
    committee: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(20))
    url: Mapped[str | None] = mapped_column(Text)
    tracked: Mapped[bool] = mapped_column(Boolean, default=True)
    tracked_reason: Mapped[str | None] = mapped_column(Text)
    # support | oppose | watch (staff only); None for a bill no longer followed
    position: Mapped[str | None] = mapped_column(String(10))  # its document, if synced, has the same canonical id
    # when the stored articles were last matched against it; None: not since it became tracked (the next poll does)
    archive_matched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # check state: the database is the schedule; written through CheckState (db/checks.py)
    history_hash: Mapped[str | None] = mapped_column(String(64))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    detail_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    throttled_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the site asked us to wait until then
    # the bill's text (bill_text_versions): when its HTML text page was last asked for, how many text-changing
    # actions its history had then, and since when its text has come back empty (None: not empty)
    text_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    text_actions: Mapped[int | None] = mapped_column(Integer)
    text_empty_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Document(Base):
    """One document of a General Court's docket, as the API's list and detail give it: a bill, or a docket
    that has no bill number yet. Known as ``ma/{session}/{number}``, else ``ma/{session}/{docket}``."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("session", "number", name="uq_documents_number"),
                      UniqueConstraint("session", "docket", name="uq_documents_docket"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    canonical: Mapped[str] = mapped_column(String(40), unique=True)
    session: Mapped[int] = mapped_column(Integer)
    number: Mapped[str | None] = mapped_column(String(20))  # H1946; None while docket-only
    docket: Mapped[str | None] = mapped_column(String(20))  # HD2304
    title: Mapped[str | None] = mapped_column(Text)
    sponsor: Mapped[str | None] = mapped_column(Text)
    sponsor_code: Mapped[str | None] = mapped_column(String(20))
    joint_sponsors: Mapped[list | None] = mapped_column(JSON)  # [{"name", "member_code"}]
    cosponsors: Mapped[list | None] = mapped_column(JSON)
    pinslip: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)  # as first seen
    legislation_type: Mapped[str | None] = mapped_column(String(60))
    docket_book_only: Mapped[bool] = mapped_column(Boolean, default=False)
    row_hash: Mapped[str] = mapped_column(String(64))  # of the list row last seen
    detail_row_hash: Mapped[str | None] = mapped_column(String(64))  # the row_hash its detail was fetched for
    detail_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detail_error: Mapped[str | None] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # gone from the list
    # the history sweep (sources.malegislature.histories: all): when it was last asked for (due again 7 days
    # later), the hash of the rows stored in document_actions, and the last failure
    history_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    history_hash: Mapped[str | None] = mapped_column(String(64))
    history_error: Mapped[str | None] = mapped_column(Text)


class DocumentAction(Base):
    """One row of a document's history as the sweep last read it, in the legislature's order; the rows of a
    document are replaced whole when its history changes. (A followed bill's history is ``bill_actions``.)"""

    __tablename__ = "document_actions"
    __table_args__ = (Index("ix_document_actions_document_position", "document_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # from 0
    date: Mapped[date | None] = mapped_column(Date)
    branch: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(Text)


class DocketSync(Base):
    """Where the sync of one General Court's docket stands."""

    __tablename__ = "docket_syncs"

    session: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(12))  # ok | not-yet | failing
    list_hash: Mapped[str | None] = mapped_column(String(64))  # of the whole list last stored
    documents: Mapped[int] = mapped_column(Integer, default=0)
    last_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last list stored
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the schedule: due again after this
    error: Mapped[str | None] = mapped_column(Text)  # why the last attempt failed (or the site's "not yet")


class WatchMatch(Base):
    """A document a watch of feeds.yaml has matched: recorded once, so it is announced once."""

    __tablename__ = "watch_matches"
    __table_args__ = (UniqueConstraint("watch", "document_id", name="uq_watch_matches"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    watch: Mapped[str] = mapped_column(String(120))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Successor(Base):
    """A document of the next General Court that may be ``bill`` re-filed, with its score and evidence.

    ``state``: ``candidate`` (ranked, below the best), ``proposed`` (the best, for staff to decide),
    ``accepted`` (by its pinslip or text and sponsors, or by staff: followed in the bill's place),
    ``rejected`` (by staff; never proposed again). ``decided_by`` is ``auto`` or ``staff``."""

    __tablename__ = "successors"
    __table_args__ = (UniqueConstraint("bill", "candidate", name="uq_successors_bill_candidate"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bill: Mapped[str] = mapped_column(String(40), index=True)  # ma/193/H1728
    candidate: Mapped[str] = mapped_column(String(40), index=True)  # ma/194/H1946
    session: Mapped[int] = mapped_column(Integer)  # the candidate's
    rank: Mapped[int] = mapped_column(Integer)  # 1 = the best of its search
    score: Mapped[float] = mapped_column(Float)
    evidence: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(12))
    decided_by: Mapped[str | None] = mapped_column(String(10))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SimilarList(Base):
    """What the API's ``/Documents/{id}/Similar`` last answered for one document (evidence for successors):
    ``similar`` the canonical ids, [] when it answered 400 (it has none), None with ``error`` when it failed."""

    __tablename__ = "similar_lists"

    canonical: Mapped[str] = mapped_column(String(40), primary_key=True)
    similar: Mapped[list | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BillAction(Base):
    """One history row. Rows are told apart by (date, branch, action, occurrence):
    two identical "Senate concurred" rows on one day are occurrences 0 and 1."""

    __tablename__ = "bill_actions"
    __table_args__ = (Index("ix_bill_actions_bill_position", "bill_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # order on the legislature's page, from 0
    occurrence: Mapped[int] = mapped_column(Integer, default=0)
    date: Mapped[date | None] = mapped_column(Date)
    timestamp: Mapped[str | None] = mapped_column(String(19))  # local time when the API gives one
    branch: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(Text)
    kinds: Mapped[list] = mapped_column(JSON)
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # no longer listed (stricken)


class Hearing(Base):
    __tablename__ = "hearings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id", ondelete="CASCADE"), index=True)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("bill_actions.id"))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    location: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # scheduled | rescheduled | canceled
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Snapshot(Base):
    """A raw response, zlib-compressed and content-addressed: the provenance of events."""

    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    size: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)


class BillTextBlob(Base):
    """One distinct bill text (normalised), zlib-compressed and content-addressed; never deleted."""

    __tablename__ = "bill_text_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)  # bytes of the UTF-8 text
    words: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BillTextVersion(Base):
    """Version ``version`` (1..n) of a bill's text: each time the text differed from the one before."""

    __tablename__ = "bill_text_versions"
    __table_args__ = (UniqueConstraint("bill_id", "version", name="uq_bill_text_versions"),
                      Index("ix_bill_text_versions_sha256", "sha256"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(ForeignKey("bill_text_blobs.sha256"))
    source: Mapped[str] = mapped_column(String(10))  # document (the API's DocumentText) | html (the text page)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    flags: Mapped[list] = mapped_column(JSON)


class BillTextChunk(Base):
    """A piece of a stored text as the full-text index reads it: a section, or a part of a long one."""

    __tablename__ = "bill_text_chunks"
    __table_args__ = (Index("ix_bill_text_chunks_sha256", "sha256", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("bill_text_blobs.sha256"))
    position: Mapped[int] = mapped_column(Integer)
    section: Mapped[str | None] = mapped_column(String(20))  # "3" for SECTION 3.; None before SECTION 1
    body: Mapped[str] = mapped_column(Text)


class Event(Base):
    """An immutable record of one observed change. Never updated, never deleted."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_bill_id", "bill_id", "id"), Index("ix_events_kind", "kind"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    occurred_on: Mapped[date | None] = mapped_column(Date)  # when the source gives only a date
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bills.id"))
    article_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict] = mapped_column(JSON)
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))


class Feed(CheckState, Base):
    """A news source from feeds.yaml (an RSS/Atom/RDF URL or a Google News search), with its check state."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(Text)
    query: Mapped[str | None] = mapped_column(Text)  # the Google News query, when it is one
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    title: Mapped[str | None] = mapped_column(Text)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))  # sha256 of the last body parsed
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_new_item_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    throttled_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the site asked us to wait until then
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Cluster(Base):
    """One story, however many outlets carried it."""

    __tablename__ = "clusters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Article(Base):
    """An article kept because it matters; ``url`` is canonical, so feeds that carry it share one row."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)  # canonical URL
    link: Mapped[str] = mapped_column(Text)  # the first link seen, as given
    title: Mapped[str] = mapped_column(Text)
    publisher: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    summary_html: Mapped[str | None] = mapped_column(Text)  # sanitised
    summary_text: Mapped[str] = mapped_column(Text, default="")
    full_text: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("clusters.id"), index=True)
    fetch_article: Mapped[bool] = mapped_column(Boolean, default=False)
    fulltext_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fulltext_attempts: Mapped[int] = mapped_column(Integer, default=0)
    fulltext_error: Mapped[str | None] = mapped_column(Text)
    # the story fingerprint of title and summary_text (tracker.news.clusters.encode), so that the story index
    # is not computed again from the text at every poll; NULL for articles stored before migration 0017
    fingerprint: Mapped[str | None] = mapped_column(Text)


class ArticleSource(Base):
    """A feed entry that carried an article: every outlet and feed is kept as evidence."""

    __tablename__ = "article_sources"
    __table_args__ = (UniqueConstraint("article_id", "feed_id", name="uq_article_sources_article_feed"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id"))
    entry_url: Mapped[str | None] = mapped_column(Text)
    guid: Mapped[str | None] = mapped_column(Text)
    publisher: Mapped[str | None] = mapped_column(Text)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))


class ArticleBill(Base):
    """Why an article is linked to a bill: the term, where it was found, and how."""

    __tablename__ = "article_bills"
    __table_args__ = (UniqueConstraint("article_id", "bill_id", name="uq_article_bills_article_bill"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)  # 'number "H.135" in title'
    term: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(String(20))  # title | summary | full_text
    kind: Mapped[str] = mapped_column(String(20))  # number | keyword
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# -- the legislature's directory: who holds a bill, who represents a district ----------------------------------


class Committee(Base):
    """A committee of one General Court, from the API's Committees endpoint (chairs by member code)."""

    __tablename__ = "committees"
    __table_args__ = (UniqueConstraint("session", "code", name="uq_committees_session_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(10))  # J19
    full_name: Mapped[str] = mapped_column(Text)  # Joint Committee on the Judiciary
    short_name: Mapped[str | None] = mapped_column(Text)
    branch: Mapped[str | None] = mapped_column(String(20))  # Joint | House | Senate
    house_chair_code: Mapped[str | None] = mapped_column(String(20))
    senate_chair_code: Mapped[str | None] = mapped_column(String(20))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Legislator(Base):
    """A member of one General Court, from the API's LegislativeMembers endpoint."""

    __tablename__ = "legislators"
    __table_args__ = (UniqueConstraint("session", "member_code", name="uq_legislators_session_member"),
                      Index("ix_legislators_district", "session", "branch", "district"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session: Mapped[int] = mapped_column(Integer)
    member_code: Mapped[str] = mapped_column(String(20))  # JBE0
    name: Mapped[str] = mapped_column(Text)
    branch: Mapped[str | None] = mapped_column(String(20))  # House | Senate
    district: Mapped[str | None] = mapped_column(Text)  # "Second Middlesex"
    party: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    room: Mapped[str | None] = mapped_column(Text)
    leadership: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)


# -- alerts: who hears from us, about what, and what they were sent ---------------------------------------------


class Subscriber(Base):
    """A recipient: a supporter who signed up (double opt-in), or a staff address from feeds.yaml.

    ``start_event_id`` is the newest event when the supporter was added: nothing at
    or before it is ever sent to them, so subscribing never replays history.
    """

    __tablename__ = "subscribers"
    __table_args__ = (UniqueConstraint("email", "role", name="uq_subscribers_email_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))  # normalised by email-validator
    name: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(10), default="supporter")  # supporter | staff
    status: Mapped[str] = mapped_column(String(12), index=True)  # pending | active | unsubscribed | bounced
    frequency: Mapped[str] = mapped_column(String(10), default="immediate")  # immediate | daily | weekly
    house_district: Mapped[str | None] = mapped_column(Text)
    senate_district: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(20))  # cli | web | import | config
    start_event_id: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class Subscription(Base):
    """One topic a subscriber follows: ``campaign`` (every tracked bill) or ``bill:ma/192/H135``."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("subscriber_id", "topic", name="uq_subscriptions_subscriber_topic"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(60))
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bills.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """One email, keyed (recipient, kind, period) so it is composed at most once.

    ``period`` is the local date of a daily digest, the first day of a weekly one's
    week, the triggering event of an immediate alert. ``uncertain`` counts the times
    the message was in flight when a connection broke or the process died: it may
    have arrived, and is sent again.
    """

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("subscriber_id", "kind", "period", name="uq_outbox_recipient_kind_period"),
                      Index("ix_outbox_state_next", "state", "next_attempt_at"),
                      # the delivery claim walks queued rows in id order, one at a time
                      Index("ix_outbox_state_id", "state", "id"),
                      # letters sent to one address today (asks_per_recipient_per_day)
                      Index("ix_outbox_to_sent", "to_addr", "sent_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # confirm | alert | urgent | daily | weekly | staff-daily
    period: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(12))  # queued | sending | sent | failed | suppressed
    to_addr: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(Text)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)  # the serialised message, zlib; dropped by retention
    events: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    uncertain: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # who claimed it (``db.liveness`` name): a claim of a worker known dead is taken back at once
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delivery(Base):
    """The per-recipient ledger: event E was put in message M for subscriber S.

    Selection asks "which events has S not had", never "what is above S's
    watermark", so an event whose id commits late (PostgreSQL ids are not in commit
    order) is still sent, and never twice.
    """

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_message", "message_id"),)

    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))


class Run(Base):
    """One run of a scheduled job (or of a one-shot command run by the scheduler): the daemon's log book."""

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_job_started", "job", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(40))  # crawl | poll | dispatch | staff-digest | weekly-digest | ...
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ok: Mapped[bool | None] = mapped_column(Boolean)  # None while it runs (or if its worker died)
    counts: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(120))  # host:pid


class Lease(Base):
    """Who runs a job now, until when: several workers share one database and run each job once.

    A worker renews its lease while the job runs; one that dies stops renewing, and another
    takes the job over once ``expires_at`` has passed.
    """

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)  # job:crawl, compose, ...
    holder: Mapped[str] = mapped_column(String(200))  # host:pid:random
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Worker(Base):
    """A running worker's heartbeat (``db.heartbeat``): renewed every ``every_s`` by the database's clock; one
    silent for three beats is taken for dead, and its claims and leases are taken back."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # host:pid@place, as in its claims' names
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    every_s: Mapped[float] = mapped_column(Float)  # its workers.heartbeat, in seconds
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the database's clock
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the database's clock


class RateLimit(Base):
    """The recent hits of one rate-limited key (a client address, an email address), shared by the web's workers
    (``db.ratelimits``)."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)  # ip:ADDRESS, email:ADDRESS, act-ip:...
    hits: Mapped[list] = mapped_column(JSON)  # the hits' times (Unix seconds) within the window
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # the last hit: old keys are dropped


# -- asks: letters and testimony supporters send to legislators -------------------------------------------------


class AskResponse(Base):
    """One supporter's answer to an ask (``asks:`` in feeds.yaml) on one occasion: who, from which alert, what
    they let us show. A visitor who is not a subscriber waits ``unconfirmed`` with the letters in ``drafts``
    until they confirm their address; then the letters are written (``AskLetter``) and ``drafts`` emptied."""

    __tablename__ = "ask_responses"
    __table_args__ = (Index("ix_ask_responses_ask_created", "ask", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ask: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(10))  # letter | chairs | testimony
    bill: Mapped[str] = mapped_column(String(40))  # the canonical id the letters are about
    occasion: Mapped[str] = mapped_column(String(80))  # the bill (letter), the committee (chairs), the hearing
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"), index=True)
    alert_event_id: Mapped[int | None] = mapped_column(Integer)  # the news whose alert led here, if any
    via: Mapped[str | None] = mapped_column(String(12))  # that alert's kind (alert, daily, ...); page: no alert
    first_name: Mapped[str | None] = mapped_column(Text)
    last_name: Mapped[str | None] = mapped_column(Text)
    town: Mapped[str | None] = mapped_column(Text)
    show_public: Mapped[bool] = mapped_column(Boolean, default=False)  # first name and town among participants
    house_district: Mapped[str | None] = mapped_column(Text)
    senate_district: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12))  # unconfirmed | sent | erased
    drafts: Mapped[dict | None] = mapped_column(JSON)  # while unconfirmed: {member code: letter}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AskLetter(Base):
    """One letter to one legislator: at most one per (supporter, ask, occasion, recipient), whatever is clicked
    twice. Its message waits in the outbox (``outbox_id``); ``state`` follows it (queued, sent, failed)."""

    __tablename__ = "ask_letters"
    __table_args__ = (UniqueConstraint("subscriber_id", "ask", "occasion", "recipient_code",
                                       name="uq_ask_letters_once"),
                      Index("ix_ask_letters_ask_state", "ask", "state"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("ask_responses.id", ondelete="CASCADE"), index=True)
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id", ondelete="SET NULL"))
    ask: Mapped[str] = mapped_column(String(80))
    occasion: Mapped[str] = mapped_column(String(80))
    bill: Mapped[str] = mapped_column(String(40))
    recipient_code: Mapped[str] = mapped_column(String(20))  # member code
    recipient_name: Mapped[str] = mapped_column(Text)
    recipient_addr: Mapped[str] = mapped_column(String(320))
    recipient_branch: Mapped[str | None] = mapped_column(String(20))
    recipient_district: Mapped[str | None] = mapped_column(Text)
    variant: Mapped[str] = mapped_column(String(10))  # ask | thanks
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"), index=True)
    state: Mapped[str] = mapped_column(String(12))  # queued | sent | failed | withdrawn
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FailingAddress(Base):
    """A legislator's address that bounced a letter: no letter is written to it until staff clear it."""

    __tablename__ = "failing_addresses"

    addr: Mapped[str] = mapped_column(String(320), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    bounces: Mapped[int] = mapped_column(Integer, default=1)
    last_error: Mapped[str | None] = mapped_column(Text)
