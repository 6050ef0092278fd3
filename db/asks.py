"""Reads and writes over the asks' letters shared by the CLI, the pages and the alerts: counts (the only thing
public pages, the API, the event log and the export hold), the opted-in participants, the organiser's list,
the daily ``ask.sent`` events, and erasing a supporter's part."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from db.models import AskLetter, AskResponse, Event, FailingAddress, Legislator, Subscriber


def sent_count(s: Session, ask: str) -> tuple[int, int]:
    """(letters sent, supporters who sent at least one) for one ask."""
    row = s.execute(select(func.count(AskLetter.id), func.count(func.distinct(AskLetter.response_id)))
                    .where(AskLetter.ask == ask, AskLetter.state == "sent")).one()
    return int(row[0]), int(row[1])


def recent_participants(s: Session, ask: str, limit: int = 12) -> list[dict]:
    """First name and town of the latest supporters who sent a letter and ticked "show my first name and town";
    nobody else, and nothing else of them."""
    rows = s.execute(select(AskResponse.first_name, AskResponse.town).where(
        AskResponse.ask == ask, AskResponse.show_public.is_(True), AskResponse.state == "sent",
        AskResponse.first_name.is_not(None)).order_by(AskResponse.id.desc()).limit(limit))
    return [{"first_name": first, "town": town} for first, town in rows]


def _districts(s: Session, sessions: set[int]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {"House": set(), "Senate": set()}
    for branch, district in s.execute(select(Legislator.branch, Legislator.district).where(
            Legislator.session.in_(sessions), Legislator.district.is_not(None))):
        if branch in out:
            out[branch].add(district)
    return out


def ask_counts(s: Session, name: str, kind: str, bills: list[str], event_words: dict[int, str]) -> dict:
    """The design's ``tracker asks`` entry: letters sent, supporters, recipients, per bill, per alert, and the
    districts whose legislators got a letter or did not (letter asks; the districts of the bills' sessions)."""
    letters = list(s.execute(select(AskLetter.bill, AskLetter.recipient_code, AskLetter.recipient_branch,
                                    AskLetter.recipient_district, AskLetter.response_id, AskLetter.state)
                             .where(AskLetter.ask == name)))
    sent = [r for r in letters if r.state == "sent"]
    by_bill = Counter(r.bill for r in sent)
    responses = {r.response_id for r in sent}
    by_alert: Counter = Counter()
    if responses:
        for event_id, via in s.execute(select(AskResponse.alert_event_id, AskResponse.via)
                                       .where(AskResponse.id.in_(responses))):
            key = event_words.get(event_id, f"event {event_id}") if event_id else "the page, without an alert"
            by_alert[key] += 1
    out = {"name": name, "kind": kind, "bills": bills, "sent": len(sent),
           "queued": sum(1 for r in letters if r.state == "queued"),
           "failed": sum(1 for r in letters if r.state == "failed"),
           "supporters": len(responses), "recipients": len({r.recipient_code for r in sent}),
           "by_bill": dict(by_bill), "by_alert": dict(by_alert), "districts_reached": [],
           "districts_not_reached": []}
    if kind == "letter":
        sessions = {int(b.split("/")[1]) for b in (bills or [r.bill for r in letters]) if b.count("/") == 2}
        reached = {f"{r.recipient_branch}: {r.recipient_district}" for r in sent if r.recipient_district}
        every = {f"{branch}: {d}" for branch, names in _districts(s, sessions).items() for d in names}
        out["districts_reached"] = sorted(reached)
        out["districts_not_reached"] = sorted(every - reached)
    return out


def letters_sent_by(s: Session, ask: str | None = None) -> list[dict]:
    """Who wrote to whom (the organiser's CSV): every letter with its writer's name, address, town and
    districts, its recipient and its state. Never on a page, in the API, the event log or the export."""
    query = (select(AskLetter, AskResponse, Subscriber.email)
             .join(AskResponse, AskResponse.id == AskLetter.response_id)
             .outerjoin(Subscriber, Subscriber.id == AskLetter.subscriber_id).order_by(AskLetter.id))
    if ask:
        query = query.where(AskLetter.ask == ask)
    return [{"ask": letter.ask, "bill": letter.bill, "first_name": r.first_name, "last_name": r.last_name,
             "email": email, "town": r.town, "house_district": r.house_district,
             "senate_district": r.senate_district, "recipient": letter.recipient_name,
             "recipient_district": letter.recipient_district, "recipient_email": letter.recipient_addr,
             "variant": letter.variant, "state": letter.state,
             "sent_at": letter.sent_at.isoformat() if letter.sent_at else None}
            for letter, r, email in s.execute(query)]


def failing_addresses(s: Session) -> list[dict]:
    """Offices whose address bounced a letter, with who they are (for staff)."""
    names = {addr.lower(): (name, district) for addr, name, district in s.execute(
        select(Legislator.email, Legislator.name, Legislator.district).where(Legislator.email.is_not(None)))}
    return [{"address": f.addr, "name": names.get(f.addr, (None, None))[0],
             "district": names.get(f.addr, (None, None))[1], "since": f.since.isoformat(), "bounces": f.bounces,
             "error": f.last_error}
            for f in s.scalars(select(FailingAddress).order_by(FailingAddress.since))]


def erase_supporter(s: Session, subscriber_id: int) -> int:
    """Remove a supporter's personal data from her letters: names, town, districts, drafts; her letters still
    waiting are withdrawn (their messages go with her outbox rows). Counts of letters sent stay. Returns how
    many of her answers were erased."""
    s.execute(update(AskLetter).where(AskLetter.subscriber_id == subscriber_id, AskLetter.state == "queued")
              .values(state="withdrawn"), execution_options={"synchronize_session": False})
    return s.execute(update(AskResponse).where(AskResponse.subscriber_id == subscriber_id)
                     .values(first_name=None, last_name=None, town=None, house_district=None, senate_district=None,
                             drafts=None, show_public=False, state="erased"),
                     execution_options={"synchronize_session": False}).rowcount or 0


def record_daily_counts(s: Session, now: datetime, tz: ZoneInfo) -> list[Event]:
    """One ``ask.sent`` event per ask and (local) day before today that had letters sent and has no such event
    yet: the counts, never who. Days are closed, so each is recorded once, with its final count."""
    recorded = {(p.get("ask"), p.get("day")) for p in s.scalars(select(Event.payload).where(Event.kind == "ask.sent"))}
    today = now.astimezone(tz).date()
    since = max((date.fromisoformat(d) for _, d in recorded if d), default=None)
    start = datetime.combine(since + timedelta(days=1), time(0), tzinfo=tz) if since else None
    end = datetime.combine(today, time(0), tzinfo=tz)
    query = select(AskLetter.ask, AskLetter.sent_at, AskLetter.response_id, AskLetter.bill).where(
        AskLetter.sent_at.is_not(None), AskLetter.sent_at < end.astimezone(timezone.utc))
    if start is not None:
        query = query.where(AskLetter.sent_at >= start.astimezone(timezone.utc))
    days: dict[tuple[str, str], dict] = defaultdict(lambda: {"letters": 0, "supporters": set(), "bills": Counter()})
    for ask, sent_at, response_id, bill in s.execute(query):
        at = sent_at if sent_at.tzinfo else sent_at.replace(tzinfo=timezone.utc)
        key = (ask, at.astimezone(tz).date().isoformat())
        days[key]["letters"] += 1
        days[key]["supporters"].add(response_id)
        days[key]["bills"][bill] += 1
    events = []
    for (ask, day), c in sorted(days.items()):
        if (ask, day) in recorded:
            continue
        n = c["letters"]
        ev = Event(kind="ask.sent", at=now, occurred_on=date.fromisoformat(day),
                   summary=f"{n} {'letter' if n == 1 else 'letters'} sent for the ask {ask} on {day}",
                   payload={"ask": ask, "day": day, "letters": n, "supporters": len(c["supporters"]),
                            "bills": dict(c["bills"])})
        s.add(ev)
        events.append(ev)
    s.flush()
    return events
