"""Loading and validating ``feeds.yaml``.

Every key is declared here with its type and default; unknown keys are an
error. Errors name the file, the line and the key, and suggest a fix.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Iterable, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from alerts.ask_templates import template_problem
from alerts.settings import AskSpec
from spiders.billids import BadBillId, BillId, parse_bill_id
from spiders.urls import google_news_search_url
from tracker.durations import parse_duration


class ConfigError(Exception):
    """feeds.yaml is missing, not YAML, or does not validate. The message is one line per problem."""


def _as_duration(value: Any) -> timedelta:
    return value if isinstance(value, timedelta) else parse_duration(value)


def _as_clock_time(value: Any) -> time:
    """``"07:00"`` -> 07:00. (Unquoted, YAML reads 07:00 as a number of minutes: ask for quotes.)"""
    if isinstance(value, time):
        return value
    parts = value.split(":") if isinstance(value, str) else []
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or not (0 <= int(parts[0]) < 24 and 0 <= int(parts[1]) < 60):
        raise ValueError(f"{value!r} is not a time of day; write HH:MM in quotes, e.g. \"07:00\"")
    return time(int(parts[0]), int(parts[1]))


Duration = Annotated[timedelta, BeforeValidator(_as_duration)]
"""A duration: written ``90s``, ``30m``, ``6h``, ``1d``, ``1w`` (or seconds) in feeds.yaml, a timedelta once loaded."""
ClockTime = Annotated[time, BeforeValidator(_as_clock_time)]
"""A time of day, written ``"HH:MM"``."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MalegislatureSource(_Strict):
    base_url: str = "https://malegislature.gov"
    session: int = Field(194, ge=180, le=250, description="General Court used for short bill ids")
    mode: Literal["api", "html"] = "api"
    delay_s: float = Field(1.0, ge=0)
    concurrency: int = Field(2, ge=1, le=256)
    timeout_s: float = Field(30.0, gt=0, description="per request")
    crawl_timeout_s: float = Field(1800.0, gt=0, description="a whole crawl; the child is killed past it")
    detail_every: Duration = timedelta(days=1)
    directory_every: Duration = Field(timedelta(days=7), description="how often committees and legislators are fetched again")
    text_every: Duration = Field(timedelta(days=7), description="how often a bill's HTML text page is fetched again "
                                 "when its DocumentText is empty (at once after a text-changing action)")
    user_agent: str = "ma-bill-tracker/0.1 (+https://github.com/; bill tracker for an advocacy campaign)"
    sessions: list[Annotated[int, Field(ge=180, le=250)]] | None = Field(
        None, description="General Courts whose whole docket is synced; default: `session`, the one after it, "
                          "and the one after each followed bill's")
    sync_timeout_s: float = Field(7200.0, gt=0, description="a whole docket sync; the child is killed past it")
    histories: Literal["tracked", "all"] = Field(
        "tracked", description="`all`: the docket sync also sweeps every document's history, each weekly")

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")


class GoogleNewsSource(_Strict):
    base_url: str = "https://news.google.com"

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")


class NewsSource(_Strict):
    """How feeds and article pages are fetched (politeness is per site)."""

    delay_s: float = Field(1.0, ge=0)
    concurrency: int = Field(2, ge=1, le=64, description="requests at once to one site")
    total_concurrency: int = Field(16, ge=1, le=512, description="requests at once over all sites")
    timeout_s: float = Field(30.0, gt=0)
    poll_timeout_s: float = Field(900.0, gt=0)
    max_bytes: int = Field(8 * 1024 * 1024, ge=1024, description="larger feeds or pages are refused")
    user_agent: str = "ma-bill-tracker/0.1 (feed reader for an advocacy campaign)"
    fulltext_attempts: int = Field(3, ge=1, le=20)
    allow_private_networks: list[str] = Field(
        [], description="networks (CIDR) that article pages may be fetched from although not public; "
                        "empty: public addresses only")

    @field_validator("allow_private_networks")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        for text in v:
            try:
                ipaddress.ip_network(text, strict=False)
            except ValueError:
                raise ValueError(f"{text!r} is not a network like 10.0.0.0/8 or 127.0.0.1/32") from None
        return v


class Sources(_Strict):
    malegislature: MalegislatureSource = MalegislatureSource()
    google_news: GoogleNewsSource = GoogleNewsSource()
    news: NewsSource = NewsSource()


class Campaign(_Strict):
    name: str = "Campaign"
    action_url: str | None = None

    @field_validator("action_url")
    @classmethod
    def _web_url(cls, v: str | None) -> str | None:
        if v is not None and not v.strip().lower().startswith(("http://", "https://")):
            raise ValueError(f"{v[:60]!r} must start with http:// or https:// (it is the link of every alert's button)")
        return v


Position = Literal["support", "oppose", "watch"]


class BillEntry(_Strict):
    id: str
    keywords: list[str] = []
    position: Position = "support"  # watch: followed by staff only, no supporter alerts

    @field_validator("id")
    @classmethod
    def _syntax(cls, v: str) -> str:
        try:
            parse_bill_id(v, default_session=0)  # the session is checked once sources are known
        except BadBillId as exc:
            raise ValueError(str(exc)) from None
        return v


class Watch(_Strict):
    """A saved search over the docket: a document that newly matches is announced to staff once."""

    name: str = Field(min_length=1, max_length=120)
    terms: list[str] = []  # words and "quoted phrases", looked for in the title, the pinslip and the text
    sponsors: list[str] = []  # names (or member codes) of lead or joint sponsors
    committees: list[str] = []  # a committee named in the pinslip ("The Judiciary")
    sessions: list[Annotated[int, Field(ge=180, le=250)]] = []  # default: every synced session

    @model_validator(mode="after")
    def _something(self) -> "Watch":
        if not (self.terms or self.sponsors or self.committees):
            raise ValueError("give terms, sponsors or committees to look for")
        if any(not t.strip() for t in self.terms):
            raise ValueError("an empty term matches nothing; remove it")
        return self


RESERVED_ASK_NAMES = frozenset({"confirm"})  # /act/confirm is the visitors' confirmation page


class AskEntry(_Strict):
    """An ask supporters answer from their alert: a letter to their own legislators (``letter``), to the chairs
    of the committee holding the bill (``chairs``), or testimony to the committee holding its next hearing."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,59}$",
                      description="lower-case letters, digits and dashes: the page is /act/NAME")
    kind: Literal["letter", "chairs", "testimony"]
    bills: list[str] = []  # empty: every followed bill with position support or oppose
    title: str | None = None  # the page's heading; default from the kind
    subject: str = Field(min_length=1, max_length=300)
    letter: str = Field(min_length=1, max_length=20000)
    thanks: str | None = Field(None, max_length=20000)  # the variant for a legislator who already co-sponsors

    @field_validator("bills")
    @classmethod
    def _bill_syntax(cls, v: list[str]) -> list[str]:
        for text in v:
            try:
                parse_bill_id(text, default_session=0)
            except BadBillId as exc:
                raise ValueError(str(exc)) from None
        return v

    @field_validator("subject", "letter", "thanks")
    @classmethod
    def _template(cls, v: str | None) -> str | None:
        problem = template_problem(v) if v is not None else None
        if problem:
            raise ValueError(problem)
        return v


class FeedEntry(_Strict):
    name: str
    url: str | None = None
    google_news: str | None = None
    every: Duration | None = None  # default: schedule.poll
    match: Literal["all", "keywords", "bills"] = "bills"
    keywords: list[str] = []
    fetch_article: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> "FeedEntry":
        if (self.url is None) == (self.google_news is None):
            raise ValueError("give exactly one of url or google_news")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url {self.url!r} must start with http:// or https://")
        return self


class Schedule(_Strict):
    crawl: Duration = timedelta(hours=6)
    sync: Duration = timedelta(days=1)  # the whole docket of each synced session
    poll: Duration = timedelta(minutes=30)
    dispatch: Duration = timedelta(minutes=5)
    check: Duration = timedelta(minutes=5)  # how often `tracker run` looks for due bills and feeds
    health: Duration = timedelta(minutes=15)
    failing_after: Duration = timedelta(hours=6)  # a source in error this long gets a source.failing event
    misfire_grace: Duration = timedelta(hours=6)  # a run missed by less (asleep, restarted) still happens, once
    retention: str = "30 3 * * *"  # cron, local time
    keep_sent_bodies: Duration = timedelta(days=30)
    keep_snapshots: Duration = timedelta(days=30)  # unreferenced raw responses are kept this long
    lease_ttl: Duration = timedelta(minutes=2)  # a worker's hold on a job, renewed while it runs; a dead worker's expires

    @field_validator("retention")
    @classmethod
    def _cron(cls, v: str) -> str:
        try:
            CronTrigger.from_crontab(v)
        except ValueError as exc:
            raise ValueError(f"{v!r} is not a cron expression (minute hour day month weekday, e.g. "
                             f"\"30 3 * * *\"): {exc}") from None
        return v


class StaffDigest(_Strict):
    to: list[str] = []
    at: ClockTime = time(7, 0)
    send_empty: bool = Field(False, description="send the staff digest even when nothing moved")


class SupporterDigest(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    from_: str = Field("Campaign <alerts@example.org>", alias="from")
    at: ClockTime = time(7, 0)
    weekly_day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] = "monday"


MAX_CONNECTIONS = 32  # SMTP connections at once; a relay that allows more is rare, and each is a thread


class Mail(_Strict):
    """How mail is sent (the server itself comes from TRACKER_SMTP_URL, a secret)."""

    messages_per_second: float = Field(20.0, gt=0, le=10000)
    max_attempts: int = Field(8, ge=1, le=50, description="tries before a message is marked failed")
    unsubscribe_mailbox: str | None = None  # adds a mailto: to List-Unsubscribe
    templates: str | None = None  # a folder whose templates override alerts/templates
    reply_to: str | None = None
    stale_claim: Duration = timedelta(minutes=10)  # a message claimed this long ago by a worker that died is sent again
    asks_per_recipient_per_day: int = Field(200, ge=1, le=100000,
                                            description="letters a day to one legislator's address, all asks together")
    connections: int = Field(1, ge=1, le=MAX_CONNECTIONS,
                             description="SMTP connections a delivery run sends over at once")


class Workers(_Strict):
    """Each ``tracker run`` beats (a row in ``workers``, by the database's clock); one silent for three beats is
    taken for dead: the others take back its outbox claims and job leases (a worker on another machine)."""

    heartbeat: Duration = timedelta(seconds=20)

    @field_validator("heartbeat")
    @classmethod
    def _positive(cls, v: timedelta) -> timedelta:
        if v < timedelta(seconds=1):
            raise ValueError(f"{v.total_seconds():g}s is too short; give 1s or more, e.g. 20s")
        return v


class Digests(_Strict):
    staff: StaffDigest = StaffDigest()
    supporters: SupporterDigest = SupporterDigest()


class Config(_Strict):
    timezone: str = "America/New_York"
    sources: Sources = Sources()
    campaign: Campaign = Campaign()
    bills: list[BillEntry] = []
    feeds: list[FeedEntry] = []
    watches: list[Watch] = []
    asks: list[AskEntry] = []
    schedule: Schedule = Schedule()
    digests: Digests = Digests()
    mail: Mail = Mail()
    workers: Workers = Workers()

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}; use an IANA name such as America/New_York") from None
        return v

    @model_validator(mode="after")
    def _bill_ids(self) -> "Config":
        seen: set[str] = set()
        for i, entry in enumerate(self.bills):
            try:
                bid = parse_bill_id(entry.id, self.sources.malegislature.session)
            except BadBillId as exc:
                raise ValueError(f"bills[{i}].id: {exc}") from None
            if bid.canonical in seen:
                raise ValueError(f"bills[{i}].id: {bid.canonical} is listed twice")
            seen.add(bid.canonical)
        return self

    @model_validator(mode="after")
    def _watch_names(self) -> "Config":
        seen: set[str] = set()
        for i, watch in enumerate(self.watches):
            if watch.name in seen:
                raise ValueError(f"watches[{i}].name: {watch.name!r} is used twice; watch names must be unique")
            seen.add(watch.name)
        return self

    @model_validator(mode="after")
    def _ask_names(self) -> "Config":
        seen: set[str] = set()
        for i, ask in enumerate(self.asks):
            if ask.name in seen:
                raise ValueError(f"asks[{i}].name: {ask.name!r} is used twice; ask names must be unique")
            if ask.name in RESERVED_ASK_NAMES:
                raise ValueError(f"asks[{i}].name: {ask.name!r} is the name of a page of its own; choose another")
            seen.add(ask.name)
            for j, text in enumerate(ask.bills):
                try:
                    parse_bill_id(text, self.sources.malegislature.session)
                except BadBillId as exc:
                    raise ValueError(f"asks[{i}].bills[{j}]: {exc}") from None
        return self

    def ask_specs(self) -> tuple[AskSpec, ...]:
        """The asks as ``alerts`` takes them: bills as canonical ids."""
        session = self.sources.malegislature.session
        return tuple(AskSpec(name=a.name, kind=a.kind, bills=tuple(parse_bill_id(b, session).canonical for b in a.bills),
                             subject=a.subject, letter=a.letter, thanks=a.thanks, title=a.title) for a in self.asks)

    @model_validator(mode="after")
    def _feed_names(self) -> "Config":
        seen: set[str] = set()
        for i, feed in enumerate(self.feeds):
            if feed.name in seen:
                raise ValueError(f"feeds[{i}].name: {feed.name!r} is used twice; feed names must be unique")
            seen.add(feed.name)
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def tracked_bill_ids(self) -> list[BillId]:
        return [parse_bill_id(b.id, self.sources.malegislature.session) for b in self.bills]

    def feed_url(self, feed: FeedEntry) -> str:
        if feed.url:
            return feed.url
        return google_news_search_url(self.sources.google_news.base_url, feed.google_news or "")

    def feed_interval(self, feed: FeedEntry) -> timedelta:
        return feed.every or self.schedule.poll

    def positions(self) -> dict[str, str]:
        """canonical id -> the position of each bill listed here."""
        return {parse_bill_id(b.id, self.sources.malegislature.session).canonical: b.position for b in self.bills}

    def docket_sessions(self, followed_sessions: Iterable[int] = ()) -> list[int]:
        """The General Courts whose docket is synced: ``sources.malegislature.sessions``, or by default the
        configured session, the one after it, and the one after each followed bill's (its successor's)."""
        src = self.sources.malegislature
        if src.sessions is not None:
            return sorted(set(src.sessions))
        listed = {b.session for b in self.tracked_bill_ids()}
        return sorted({src.session, src.session + 1} | {s + 1 for s in listed | set(followed_sessions)})

    def keywords_by_bill(self) -> dict[str, list[str]]:
        return {parse_bill_id(b.id, self.sources.malegislature.session).canonical: list(b.keywords)
                for b in self.bills}

    def with_overrides(self, **malegislature: Any) -> "Config":
        """A copy with some ``sources.malegislature`` settings replaced (tests, demo, bench)."""
        src = MalegislatureSource.model_validate(self.sources.malegislature.model_dump() | malegislature)
        return self.model_copy(update={"sources": self.sources.model_copy(update={"malegislature": src})})


def _key_lines(node: yaml.Node, path: tuple = (), seen: set[int] | None = None) -> dict[tuple, int]:
    """Map each path in the YAML document (keys and list indexes) to its 1-based line.

    An alias is the same node as its anchor: it is walked once, so an alias to itself cannot recurse
    and aliases of aliases cannot blow up (the lines below an alias are the anchor's anyway)."""
    seen = set() if seen is None else seen
    lines: dict[tuple, int] = {path: node.start_mark.line + 1}
    if id(node) in seen:
        return lines
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue  # safe_load has refused such a key already
            key = key_node.value
            lines[path + (key,)] = key_node.start_mark.line + 1
            for sub, line in _key_lines(value_node, path + (key,), seen).items():
                lines.setdefault(sub, line)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(_key_lines(item, path + (i,), seen))
    return lines


def _known_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The pydantic model that owns the mapping at ``loc`` (for suggestions)."""
    model: Any = Config
    for part in loc:
        if isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return None
        ann = field.annotation
        inner = getattr(ann, "__args__", None)
        if inner and isinstance(inner[0], type) and issubclass(inner[0], BaseModel):
            ann = inner[0]
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return None
        model = ann
    return model


def _where(loc: tuple, lines: dict[tuple, int], path: str) -> str:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return f"{path}:{lines[loc[:n]]}"
    return path


def _control_characters(node, loc: tuple = (), seen: set[int] | None = None) -> list[tuple]:
    """Where a string value (or key) holds CR, LF or another control character (a tab is allowed).

    A list or mapping reached again through an alias is the same object: it is looked at once, so
    aliases of aliases (10**8 leaves from a few lines) cost no more than their anchors."""
    seen = set() if seen is None else seen
    if isinstance(node, (dict, list)):
        if id(node) in seen:
            return []
        seen.add(id(node))
    if isinstance(node, dict):
        return [found for k, v in node.items() for found in _control_characters(k, loc + (k,), seen)
                + _control_characters(v, loc + (k,), seen)]
    if isinstance(node, list):
        return [found for i, v in enumerate(node) for found in _control_characters(v, loc + (i,), seen)]
    if isinstance(node, str) and any((ord(c) < 32 and c != "\t") or 127 <= ord(c) < 160 or c in "\u2028\u2029"
                                     for c in node):
        return [loc]
    return []


def _multiline(loc: tuple) -> bool:
    """The letters of ``asks:`` are the only values of more than one line (they are a letter's body, never a
    header); a tab or a line break is all they may hold besides text."""
    return len(loc) == 3 and loc[0] == "asks" and loc[2] in ("letter", "thanks")


def _describe(err: dict, lines: dict[tuple, int], path: str) -> str:
    loc = tuple(err["loc"])
    key = ".".join(str(p) for p in loc) or "(top level)"
    where = _where(loc, lines, path)
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        owner = _model_at(loc[:-1])
        known = _known_keys(owner) if owner else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else (f"; known keys: {', '.join(known)}" if known else "")
        return f"{where}: unknown key {key!r}{hint}"
    if err["type"] == "missing":
        return f"{where}: {key} is required"
    return f"{where}: {key}: {msg}"


def parse_config(text: str, path: str = "feeds.yaml") -> Config:
    """``text`` as a Config; ConfigError (naming ``path`` and the line) for anything else."""
    try:
        return _parse_config(text, path)
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply, or an alias refers to its own anchor "
                          "(&name ... *name inside it)") from None


def _parse_config(text: str, path: str) -> Config:
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else path
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: not valid YAML: {' '.join(str(problem).split())}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the top level must be a mapping of keys (timezone, sources, bills, ...)")
    lines = _key_lines(root) if root is not None else {}
    broken = [_where(loc, lines, path) + f": {'.'.join(str(p) for p in loc)}: a line break or a control character "
              "in the value; every value is one line (it may end up in an email header or an HTTP request)"
              for loc in _control_characters(data) if not _multiline(loc)]
    if broken:
        raise ConfigError("\n".join(broken))
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(e, lines, path) for e in exc.errors()]
        # model-level errors about bills carry their own index in the message
        raise ConfigError("\n".join(problems)) from None


def load_config(path: str | os.PathLike = "feeds.yaml") -> tuple[Config, Path]:
    """Load and check the configuration file at ``path``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file; create it (see the README) or pass --config PATH") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror}") from None
    return parse_config(text, str(p)), p
