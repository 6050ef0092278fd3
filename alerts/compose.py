"""Compose one recipient's message from the events selected for them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlencode

from markupsafe import escape
from sqlalchemy.orm import Session

from alerts.ask_offer import BUTTONS, covers
from alerts.asks import GOOD_NEWS, Ask, Occasion, Supporter, asks, live
from alerts.context import ContextCache
from alerts.render import Rendered, build_message, render_html, render_text, templates
from alerts.selection import is_urgent
from alerts.tokens import make_token
from alerts.wording import ACTION_HEADLINES, day, evidence_words, headline, sentence
from db.models import Event, Subscriber
from db.successors import list_successors
from alerts.settings import AlertSettings
from spiders.billids import dotted

HEARING_KINDS = frozenset({"hearing-scheduled", "hearing-rescheduled", "hearing-canceled"})
KIND_LABELS = {"alert": "Update", "urgent": "Urgent", "daily": "Your daily update", "weekly": "Your weekly update",
               "staff-daily": "Staff digest", "confirm": "Please confirm"}


def priority(ev: Event, now: datetime) -> tuple:
    if is_urgent(ev, now):
        rank = 0
    elif ev.kind.startswith("hearing."):
        rank = 1
    elif ev.kind == "bill.status":
        rank = 2
    elif ev.kind == "bill.action" and headline_kind(ev):
        rank = 3
    else:
        rank = {"bill.action": 4, "bill.tracked": 5, "article.matched": 7, "article.new": 8}.get(ev.kind, 6)
    return (rank, -ev.id if rank < 5 else ev.id)  # the latest news first; the first bill first when none moved


def headline_kind(ev: Event) -> bool:
    kinds = set((ev.payload or {}).get("kinds") or [])
    return any(k in kinds for k, _ in ACTION_HEADLINES if k not in ("referral", "reporting-date-extended"))


@dataclass
class Links:
    public_url: str
    key: bytes
    now: datetime

    def _url(self, path: str, token: str) -> str:
        return f"{self.public_url}{path}?{urlencode({'token': token})}"

    def confirm(self, sub: Subscriber) -> str:
        return self._url("/confirm", make_token(self.key, "confirm", sub.id, self.now))

    def unsubscribe(self, sub: Subscriber, topic: str | None = None) -> str:
        extra = {"t": topic} if topic else {}
        return self._url("/unsubscribe", make_token(self.key, "unsubscribe", sub.id, self.now, **extra))

    def preferences(self, sub: Subscriber) -> str:
        return self._url("/preferences", make_token(self.key, "preferences", sub.id, self.now))

    def successor(self, sub: Subscriber, bill: str, candidate: str) -> str:
        """A staff member's link to accept or reject a successor: a page that asks, then acts on POST."""
        return self._url("/successor", make_token(self.key, "successor", sub.id, self.now, b=bill, c=candidate))

    def compare(self, new_ref: str, old_ref: str) -> str:
        """The public redline page from ``old_ref`` to ``new_ref`` (``ma/192/H5091@1``, ``ma/192/H135@1``)."""
        new, old = (r.split("/", 1)[1] for r in (new_ref, old_ref))
        return f"{self.public_url}/bills/{new}/compare/{old}"

    def act(self, sub: Subscriber, ask: str, bill: str, event_id: int | None, via: str) -> str:
        """A supporter's link to an ask's page: her name and districts filled in, the alert it came from."""
        return f"{self.public_url}/act/{ask}?" + urlencode(
            {"token": make_token(self.key, "act", sub.id, self.now, a=ask, b=bill, e=event_id, k=via)})

    def follow(self, sub: Subscriber, document: str) -> str:
        """A staff member's link to follow a discovered bill: it opens a page that asks, then acts on POST."""
        return self._url("/follow", make_token(self.key, "follow", sub.id, self.now, d=document))


# distinct alert bodies kept at once, the least recently used dropped first: a body names the supporter's own
# Representative and Senator, so there are up to (frequencies x topics x district pairs) of them; ~15 KB each
MAX_SHAPES = 2000


class LinkRecorder:
    """``Links`` as the placeholders of a body rendered once for many supporters: each call that names the
    supporter returns a placeholder and is recorded, to be made again for each supporter (``Shape``)."""

    def __init__(self, links: Links):
        self.links = links
        self.calls: list[tuple[str, str, tuple, dict]] = []  # placeholder, method, arguments after the supporter

    def __getattr__(self, name: str):
        method = getattr(self.links, name)
        if name not in PERSONAL_LINKS:
            return method

        def record(_sub, *args, **kwargs) -> str:
            placeholder = f"zqxlink{len(self.calls)}xqz"  # letters only: escaping and inlining leave it as it is
            self.calls.append((placeholder, name, args, kwargs))
            return placeholder
        return record


PERSONAL_LINKS = frozenset({"confirm", "unsubscribe", "preferences", "successor", "act", "follow"})


@dataclass(frozen=True)
class Shape:
    """A body rendered once, with placeholders where each supporter's own links go."""

    subject: str
    text: str
    html: str
    unsub: str | None  # the header's unsubscribe link (a placeholder)
    calls: list[tuple[str, str, tuple, dict]]

    def message(self, composer: "Composer", sub: Subscriber) -> Rendered:
        text, html, unsub = self.text, self.html, self.unsub
        for placeholder, name, args, kwargs in self.calls:
            url = getattr(composer.links, name)(sub, *args, **kwargs)
            text = text.replace(placeholder, url)
            html = html.replace(placeholder, str(escape(url)))
            if unsub == placeholder:
                unsub = url
        return composer._build(sub, self.subject, text, html, unsub)


TEXT_FLAG_WORDS = {"html": "the legislature gave it as HTML: read as text",
                   "no-sections": "no SECTION numbers found: compared as one piece",
                   "mojibake-repaired": "wrongly encoded characters were repaired",
                   "large": "a very long text", "after-empty": "published again after a time with no text"}


class Composer:
    """Builds messages for one dispatch; caches what many messages share."""

    def __init__(self, s: Session, settings: AlertSettings, now: datetime):
        self.s, self.settings, self.now = s, settings, now
        self.links = Links(settings.public_url, settings.secret_key, now)
        self.tz = settings.tz
        self.t = templates(settings.mail.templates)
        self.cache = ContextCache(s, self.tz, now)
        self._specs: dict[tuple, object] = {}  # (ask kind, bill) -> the ``asks:`` entry answering it, if any
        self._shapes: dict[tuple, Shape] = {}  # a supporter alert's body, rendered once per key (``supporter``)
        self.sender = settings.sender
        campaign = settings.campaign.name
        slug = "-".join("".join(c if c.isalnum() else " " for c in campaign.lower()).split()) or "alerts"
        domain = self.sender.rsplit("@", 1)[-1].strip("> ")
        self.list_id = f'"{campaign}" <{slug}.{domain}>'

    def _message(self, sub: Subscriber, subject: str, name: str, ctx: dict, unsubscribe: bool = True) -> Rendered:
        text, html, unsub = self._render(sub, name, ctx, unsubscribe)
        return self._build(sub, subject, text, html, unsub)

    def _render(self, sub: Subscriber, name: str, ctx: dict, unsubscribe: bool) -> tuple[str, str, str | None]:
        """The text and HTML bodies, and the unsubscribe link of the header."""
        unsub = self.links.unsubscribe(sub) if unsubscribe else None
        ctx = ctx | {"campaign": self.settings.campaign, "subscriber": sub, "unsubscribe_url": unsub,
                     "preferences_url": self.links.preferences(sub) if unsubscribe else None,
                     "kind_label": KIND_LABELS.get(ctx.get("kind", ""), "")}
        return render_text(self.t, f"{name}.txt", ctx), render_html(self.t, f"{name}.html", ctx), unsub

    def _build(self, sub: Subscriber, subject: str, text: str, html: str, unsub: str | None) -> Rendered:
        return build_message(
            sender=self.sender, to_email=sub.email, to_name=sub.name, subject=subject, text=text, html=html,
            now=self.now, unsubscribe_url=unsub, unsubscribe_mailbox=self.settings.mail.unsubscribe_mailbox,
            list_id=self.list_id,
            reply_to=self.settings.mail.reply_to)

    def _by_bill(self, events: list[Event], by_importance: bool = True,
                 staff: bool = False) -> tuple[list[dict], list[Event]]:
        """Per bill (in order of importance): the lines, the coverage, the view; plus events with no bill.
        ``staff``: lines in the staff digest's words (which may name feeds.yaml)."""
        groups: dict[int, list[Event]] = {}
        loose = []
        for ev in events:
            if ev.bill_id is None:
                loose.append(ev)
            else:
                groups.setdefault(ev.bill_id, []).append(ev)
        out, told = [], set()  # a story matched to several bills (a bill and its successor) is told once, first
        order = (lambda kv: min(priority(e, self.now) for e in kv[1])) if by_importance else (lambda kv: kv[0])
        for bill_id, evs in sorted(groups.items(), key=order):
            news = sorted([e for e in evs if not e.kind.startswith("article.")], key=lambda e: e.id)
            if any(e.kind.startswith("hearing.") for e in news):  # the hearing says it better than its action row
                news = [e for e in news if not (e.kind == "bill.action" and HEARING_KINDS.intersection(
                    (e.payload or {}).get("kinds") or []))]
            articles = [e.article_id for e in sorted(evs, key=lambda e: e.id)
                        if e.kind.startswith("article.") and e.article_id and e.article_id not in told]
            told.update(articles)
            if not news and not articles:
                continue  # only stories told under another bill
            out.append({"bill": self.cache.bill(bill_id), "lines": [sentence(e, self.tz, staff) for e in news],
                        "urgent": any(is_urgent(e, self.now) for e in news), "events": evs,
                        "stories": self.cache.stories(articles),
                        "good_news": any(GOOD_NEWS.intersection((e.payload or {}).get("kinds") or []) for e in news)})
        return out, loose

    def subject(self, groups: list[dict], kind: str) -> str:
        top = min((e for g in groups for e in g["events"]), key=lambda e: priority(e, self.now))
        lead = groups[0]["bill"].number
        if top.kind.startswith("article."):
            stories = [s for g in groups for s in g["stories"]]
            text = f"{lead} in the news: {stories[0].title}" if stories else f"{lead} in the news"
        else:
            text = f"{lead}: {headline(top, self.tz)}"
        if len(groups) > 1:
            text += f" (and {len(groups) - 1} more {'bill' if len(groups) == 2 else 'bills'})"
        if kind in ("daily", "weekly"):
            text = f"{KIND_LABELS[kind]}: {text}"
        return text

    def supporter(self, sub: Subscriber, topics: list[str], kind: str, events: list[Event]) -> Rendered:
        """A supporter's alert. Its body depends on the supporter only through the key below and her links: it
        is rendered once per key (links as placeholders), and each message gets her links put in. Templates of
        ``mail.templates`` may show anything of hers: then each message is rendered in full."""
        if self.settings.mail.templates:
            subject, ctx = self._supporter_context(sub, topics, kind, events)
            return self._message(sub, subject, "alert", ctx)
        key = (kind, sub.frequency, tuple(topics), sub.house_district, sub.senate_district,
               tuple(e.id for e in events))
        shape = self._shapes.pop(key, None)
        if shape is None:
            if len(self._shapes) >= MAX_SHAPES:
                del self._shapes[next(iter(self._shapes))]
            shape = self._shape(sub, topics, kind, events)
        self._shapes[key] = shape  # the most recently used last
        return shape.message(self, sub)

    def _shape(self, sub: Subscriber, topics: list[str], kind: str, events: list[Event]) -> "Shape":
        real, recorder = self.links, LinkRecorder(self.links)
        self.links = recorder
        try:
            subject, ctx = self._supporter_context(sub, topics, kind, events)
            text, html, unsub = self._render(sub, "alert", ctx, True)
        finally:
            self.links = real
        return Shape(subject, text, html, unsub, recorder.calls)

    def _supporter_context(self, sub: Subscriber, topics: list[str], kind: str, events: list[Event]
                           ) -> tuple[str, dict]:
        groups, _ = self._by_bill(events)
        supporter = Supporter(sub.house_district, sub.senate_district)
        asked: set[str] = set()
        for g in groups:
            evs = g["events"]
            occasion = Occasion(frozenset(e.kind for e in evs),
                                frozenset(k for e in evs for k in ((e.payload or {}).get("kinds") or [])))
            g["asks"] = asks(g["bill"], g["bill"].position, occasion, supporter, self.cache)
            heir = g["bill"].continues_as
            g["asks_about"] = heir.number if g["asks"] and heir is not None and not live(g["bill"]) else None
            about = heir if g["asks_about"] else g["bill"]
            if self.settings.asks and live(about):
                top = min(evs, key=lambda e: priority(e, self.now))
                g["asks"] = self._pages(sub, g["asks"], about, supporter, top.id, kind)
            if g["asks_about"] in asked:  # several dead bills continue as one: its asks are told once
                g["asks"], g["asks_about"] = [], None
            elif g["asks"]:
                asked.add(g["asks_about"] or g["bill"].number)
            topic = f"bill:{g['bill'].canonical}"
            g["unsubscribe_topic_url"] = self.links.unsubscribe(sub, topic) if topic in topics else None
        followed = [dotted(t) for t in topics if t.startswith("bill:")]
        why = []
        if "campaign" in topics:
            why.append(f"every bill of the {self.settings.campaign.name} campaign")
        if followed:
            why.append(" and ".join(followed) if len(followed) <= 2 else ", ".join(followed))
        ctx = {"kind": kind, "groups": groups, "why": "You get this because you follow " + " and ".join(why) + ".",
               "frequency": sub.frequency}
        return self.subject(groups, kind), ctx

    def _pages(self, sub: Subscriber, found: list[Ask], bill, supporter: Supporter, event_id: int, kind: str
               ) -> list[Ask]:
        """Each ask that a page of ``asks:`` answers for this bill links to it (signed: her name and districts
        filled in); a letter page is offered to a supporter whose districts we do not know yet, too."""
        out, linked = [], set()
        for a in found:
            spec = self._spec_for(a.kind, bill.canonical)
            if spec is None or spec.name in linked:  # thanking some and asking others: one page, one button
                out.append(a)
                continue
            linked.add(spec.name)
            out.append(replace(a, link=self.links.act(sub, spec.name, bill.canonical, event_id, kind),
                               button=BUTTONS[spec.kind]))
        letter = self._spec_for("letter", bill.canonical)
        if letter is not None and not supporter.known and not any(a.kind == "letter" for a in found):
            out.append(Ask("Write to your legislators", f"Tell us your districts and your letter about {bill.number} "
                                                        "goes to your own Representative and Senator.",
                           link=self.links.act(sub, letter.name, bill.canonical, event_id, kind), kind="letter",
                           button=BUTTONS["letter"]))
        return out

    def _spec_for(self, kind: str | None, canonical: str):
        key = (kind, canonical)
        if key not in self._specs:
            self._specs[key] = next((spec for spec in self.settings.asks
                                     if spec.kind == kind and covers(self.s, spec, canonical)), None)
        return self._specs[key]

    def staff(self, sub: Subscriber, period: str, events: list[Event], health: list[dict],
              letters: dict | None = None) -> Rendered:
        """The staff digest; ``letters``: the asks' section (``ask_report.staff_section``), as dispatch found it."""
        refiled = self._refiled(sub, [e for e in events if e.kind == "bill.successor"])
        texts = self._texts([e for e in events if e.kind == "bill.text"])
        events = [e for e in events if e.kind not in ("bill.successor", "bill.text")]  # in their own sections
        groups, loose = self._by_bill(events, by_importance=False, staff=True)
        matched = {e.article_id for e in events if e.kind == "article.matched"}
        other = self.cache.stories([e.article_id for e in loose if e.kind == "article.new"
                                    and e.article_id and e.article_id not in matched])
        date_words = day(period)
        # the subject counts what the body shows: a bill whose only news is its first sighting (its history
        # may be years old) is newly followed, not moved; the stories are those listed (old articles, outside
        # the digest's window, are not)
        first_seen = [g for g in groups if g["lines"] and all(e.kind == "bill.tracked" for e in g["events"]
                                                              if not e.kind.startswith("article."))]
        moved = [g for g in groups if g["lines"] and g not in first_seen]
        stories = sum(len(g["stories"]) for g in groups) + len(other)
        parts = [f"{len(moved)} {'bill' if len(moved) == 1 else 'bills'} moved" if moved else "no bill moved",
                 f"{stories} {'story' if stories == 1 else 'stories'}" if stories else "no new story"]
        if first_seen:
            parts.insert(0, f"{len(first_seen)} {'bill' if len(first_seen) == 1 else 'bills'} newly followed")
            if not moved:
                parts.pop(1)  # "no bill moved" says nothing more
        if health:
            parts.append(f"{len(health)} {'source' if len(health) == 1 else 'sources'} need attention")
        subject = f"{self.settings.campaign.name}: staff digest for {date_words}: " + ", ".join(parts)
        health_news = [e.summary for e in sorted(loose, key=lambda e: e.id) if e.kind.startswith("source.")]
        discovered = self._discovered(sub, events)
        if discovered:
            parts.insert(1, f"{len(discovered)} new {'bill matches' if len(discovered) == 1 else 'bills match'} "
                            "your watches")
        if refiled:
            parts.insert(1, f"{len(refiled)} re-filing {'decision' if len(refiled) == 1 else 'decisions'}")
        if texts:
            parts.insert(1, f"{len(texts)} new {'text' if len(texts) == 1 else 'texts'}")
        subject = f"{self.settings.campaign.name}: staff digest for {date_words}: " + ", ".join(parts)
        if letters:
            sent = sum(a["last_day"] for a in letters["asks"])
            if sent:
                parts.append(f"{sent} {'letter' if sent == 1 else 'letters'} sent")
            subject = f"{self.settings.campaign.name}: staff digest for {date_words}: " + ", ".join(parts)
        ctx = {"kind": "staff-daily", "groups": groups, "other_news": other, "health": health,
               "health_news": health_news, "date_words": date_words, "discovered": discovered, "refiled": refiled,
               "texts": texts, "letters": letters}
        return self._message(sub, subject, "staff_digest", ctx, unsubscribe=False)

    def _texts(self, events: list[Event]) -> list[dict]:
        """"New texts": each new version of a followed bill's text, with what it changed from the one before
        it (or from the bill it is a new draft of), in the words of its section structure, and the redline."""
        out = []
        for ev in sorted(events, key=lambda e: e.id):
            p = ev.payload or {}
            bill = p.get("bill") or (self.cache.bill(ev.bill_id).canonical if ev.bill_id else None)
            if not bill:
                continue
            number = dotted(bill.rsplit("/", 1)[-1])
            against = p.get("compared_with") or (f"{bill}@{p['previous_version']}" if p.get("previous_version")
                                                 else None)
            if against:
                other = dotted(against.split("@")[0].rsplit("/", 1)[-1])
                heading = (f"{number}, the new draft of {other}" if p.get("relation") == "new-draft" else
                           f"{number}, version {p.get('version')}" if other == number else f"{number} against {other}")
                changes = list(p.get("summary_lines") or [])
                changes.append(f"{p.get('added_words', 0)} words added, {p.get('removed_words', 0)} removed")
                link = self.links.compare(f"{bill}@{p.get('version')}", against)
            else:
                heading, changes, link = f"{number}: its first text on file", [f"{p.get('words', 0)} words"], None
            out.append({"heading": heading, "changes": changes, "link": link,
                        "flags": [TEXT_FLAG_WORDS[f] for f in p.get("flags") or [] if f in TEXT_FLAG_WORDS]})
        return out

    def _refiled(self, sub: Subscriber, events: list[Event]) -> list[dict]:
        """"Re-filed in the new session": each decision on a successor, with its evidence and the other
        candidates; a proposal or an automatic acceptance carries the link to decide."""
        out = []
        for ev in events:
            p = ev.payload or {}
            others = [] if not p.get("candidate") else [
                {"number": dotted(r.candidate), "score": f"{r.score:.2f}", "evidence": evidence_words(r.evidence)}
                for r in list_successors(self.s, p.get("bill")) if r.candidate != p["candidate"]][:3]
            decide = p.get("state") == "proposed" or (p.get("state") == "accepted" and p.get("decided_by") == "auto")
            out.append({"number": p.get("number"), "candidate_number": p.get("candidate_number"),
                        "state": p.get("state"), "title": p.get("title"), "sponsor": p.get("sponsor"),
                        "summary": ev.summary, "score": f"{p['score']:.2f}" if p.get("score") is not None else None,
                        "evidence": evidence_words(p["evidence"]) if p.get("evidence") else None, "others": others,
                        "decide_url": self.links.successor(sub, p["bill"], p["candidate"]) if decide else None})
        return out

    def _discovered(self, sub: Subscriber, events: list[Event]) -> list[dict]:
        """"New bills that match your watches": one entry per document, with every watch that found it."""
        found: dict[str, dict] = {}
        for ev in events:
            if ev.kind != "bill.discovered":
                continue
            p = ev.payload or {}
            entry = found.setdefault(p.get("document", ""), {
                "number": p.get("number"), "title": p.get("title"), "sponsor": p.get("sponsor"), "matches": [],
                "followed": p.get("followed"), "follow_url": self.links.follow(sub, p.get("document", ""))})
            entry["matches"].append({"watch": p.get("watch"), "reason": p.get("reason")})
        for entry in found.values():
            entry["why"] = "; ".join(f"watch {m['watch']!r}: {m['reason']}" for m in entry["matches"])
        return list(found.values())

    def staff_alert(self, sub: Subscriber, failure: Event) -> Rendered:
        p = failure.payload or {}
        since = datetime.fromisoformat(p["since"]) if p.get("since") else failure.at
        hours = max(1, round((self.now - since).total_seconds() / 3600))
        ctx = {"kind": "staff-alert", "source": p.get("source"), "source_kind": p.get("kind"),
               "problem": p.get("problem"), "since_words": day(since, self.tz), "hours": hours}
        subject = f"{self.settings.campaign.name}: {p.get('source')} has been failing for {hours} hours"
        return self._message(sub, subject, "staff_alert", ctx, unsubscribe=False)

    def confirmation(self, sub: Subscriber, topics: list[str]) -> Rendered:
        followed = [dotted(t) for t in topics if t.startswith("bill:")]
        what = "every bill of the campaign" if "campaign" in topics else ", ".join(followed)
        ctx = {"kind": "confirm", "what": what, "confirm_url": self.links.confirm(sub), "frequency": sub.frequency}
        return self._message(sub, f"Please confirm: alerts about {what} from {self.settings.campaign.name}",
                             "confirm", ctx, unsubscribe=False)
