"""The composition root: the one place that builds the configured tracker.

The CLI, the scheduler (``tracker run``), the web app (``tracker serve``) and the demo all run on an
``Application``: the configuration (``feeds.yaml``), the database sessions, the mail transport, the
clock, the signing key and the public URL, and the ``AlertSettings`` handed down to ``alerts``. The
environment variables are read here and nowhere else (``Environment.read``).

Everything is built when first asked for, so a command that needs no database opens none, and a
command that needs no configuration runs without ``feeds.yaml``.
"""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Mapping

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from alerts.deliver import DeliveryReport, deliver_outbox
from alerts.ratelimit import TokenBucket
from alerts.settings import AlertSettings, Campaign, MailSettings
from alerts.transport import MaildirTransport, SmtpTransport, parse_smtp_url
from db.engine import connect_error, make_engine, session_factory, sqlite_file
from db.migrate import current_revision, head_revision
from db.shortids import Resolution, resolve_short_id
from spiders.billids import BillId, dotted, ordinal, parse_bill_id, parse_number
from tracker.config import Config, load_config

DEFAULT_CONFIG = "feeds.yaml"
DEFAULT_DATABASE_URL = "sqlite:///var/tracker.sqlite"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


class BadPublicUrl(ValueError):
    """TRACKER_PUBLIC_URL cannot be the base of links in emails."""


class AmbiguousBillId(LookupError):
    """A short id (``H.135``) that several followed bills of other General Courts have, and no bill or document
    of the configured session: ``candidates`` are their canonical ids."""

    def __init__(self, text: str, number: str, candidates: tuple[str, ...]):
        self.text, self.number, self.candidates = text, number, candidates
        super().__init__(f"{text.strip()!r} is {len(candidates)} followed bills, of different General Courts: "
                         f"{', '.join(candidates)}; write the one you mean in full (such as {candidates[0]})")


def resolution_note(resolution: Resolution) -> str | None:
    """What a short id was taken to mean when it is not the configured session's bill, in one line:
    ``H.135: the 192nd General Court's (the only followed H.135)``; None otherwise."""
    if not resolution.moved:
        return None
    number = dotted(resolution.number)
    return f"{number}: the {ordinal(resolution.session)} General Court's (the only followed {number})"


class DatabaseNotReady(Exception):
    """The database cannot be used as it is: ``exit_code`` 1 when it cannot be reached, 2 when it needs
    ``tracker init``."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def check_public_url(text: str | None) -> str:
    """The base of the links in emails and feeds: an http(s) URL on one line (it goes into headers)."""
    url = (text or DEFAULT_PUBLIC_URL).strip().rstrip("/")
    if any(ord(c) < 32 or ord(c) == 127 or c.isspace() for c in url):
        raise BadPublicUrl("TRACKER_PUBLIC_URL: a line break, a space or a control character in it; "
                           "give one URL such as https://alerts.example.org")
    if not url.lower().startswith(("http://", "https://")):
        raise BadPublicUrl(f"TRACKER_PUBLIC_URL {url[:60]!r}: must start with https:// (or http://)")
    return url


@dataclass(frozen=True)
class Environment:
    """The environment variables the tracker reads (secrets and places never go in feeds.yaml)."""

    config_path: str | None = None  # TRACKER_CONFIG
    database_url: str | None = None  # TRACKER_DATABASE_URL
    smtp_url: str | None = None  # TRACKER_SMTP_URL (unset: the maildir var/outbox/)
    secret_key: str | None = None  # TRACKER_SECRET_KEY (unset: a random key kept in var/secret_key)
    public_url: str | None = None  # TRACKER_PUBLIC_URL (unset: http://127.0.0.1:8000)

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None) -> "Environment":
        env = os.environ if environ is None else environ
        return cls(config_path=env.get("TRACKER_CONFIG") or None, database_url=env.get("TRACKER_DATABASE_URL") or None,
                   smtp_url=env.get("TRACKER_SMTP_URL") or None, secret_key=env.get("TRACKER_SECRET_KEY") or None,
                   public_url=env.get("TRACKER_PUBLIC_URL") or None)


def child_environment(**extra: str) -> dict[str, str]:
    """The environment of a child process this one starts (``pg_dump``, ``pg_restore``), with ``extra`` added."""
    return {**os.environ, **extra}


def stored_secret_key(var_dir: str | os.PathLike) -> bytes:
    """The random key kept in ``var/secret_key`` (created once, mode 0600)."""
    path = Path(var_dir) / "secret_key"
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32).encode("ascii")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        return key


def alert_settings(config: Config, *, secret_key: bytes, public_url: str) -> AlertSettings:
    """What ``alerts`` needs of the configuration, as plain values."""
    digests, mail = config.digests, config.mail
    return AlertSettings(
        secret_key=secret_key, public_url=check_public_url(public_url),
        campaign=Campaign(config.campaign.name, config.campaign.action_url), tz=config.tz,
        sender=digests.supporters.from_, supporters_at=digests.supporters.at, weekly_day=digests.supporters.weekly_day,
        staff_to=tuple(digests.staff.to), staff_at=digests.staff.at, staff_send_empty=digests.staff.send_empty,
        mail=MailSettings(messages_per_second=mail.messages_per_second, max_attempts=mail.max_attempts,
                          stale_claim=mail.stale_claim, unsubscribe_mailbox=mail.unsubscribe_mailbox,
                          reply_to=mail.reply_to, templates=mail.templates,
                          asks_per_recipient_per_day=mail.asks_per_recipient_per_day,
                          connections=mail.connections),
        session=config.sources.malegislature.session,
        campaign_bills=frozenset(b.canonical for b in config.tracked_bill_ids()), asks=config.ask_specs())


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Application:
    """The configured tracker. Give what is known (tests and the demo give a parsed config, sessions, a key
    and a transport); the rest comes from ``env`` and the defaults when first asked for."""

    def __init__(self, *, config: Config | None = None, config_path: str | os.PathLike | None = None,
                 database_url: str | None = None, sessions: sessionmaker[Session] | None = None,
                 env: Environment | None = None, secret_key: bytes | None = None, public_url: str | None = None,
                 transport_factory: Callable[[], object] | None = None,
                 clock: Callable[[], datetime] = _utcnow, var_dir: str | os.PathLike = "var"):
        self.env = env if env is not None else Environment()
        self._config = config
        self._config_path = config_path
        self._database_url = database_url
        self._sessions = sessions
        self._engine: Engine | None = sessions.kw["bind"] if sessions is not None else None
        self._secret_key = secret_key
        self._public_url_option = public_url
        self._public_url: str | None = None
        self._transport_factory = transport_factory
        self._settings: AlertSettings | None = None
        self._bucket: TokenBucket | None = None
        self._bucket_lock = threading.Lock()
        self.send_share = 1.0  # of mail.messages_per_second this process takes (``tracker serve --workers N``: 1/N)
        self.clock = clock
        self.var_dir = Path(var_dir)

    @classmethod
    def from_environment(cls, *, config_path: str | None = None, database_url: str | None = None,
                         environ: Mapping[str, str] | None = None) -> "Application":
        """What the ``tracker`` command runs on: options given on the command line, else the environment."""
        return cls(config_path=config_path, database_url=database_url, env=Environment.read(environ))

    # -- configuration ----------------------------------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        return Path(self._config_path or self.env.config_path or DEFAULT_CONFIG)

    @property
    def config(self) -> Config:
        """``feeds.yaml``, loaded and checked once (ConfigError names the file and line)."""
        if self._config is None:
            self._config, _ = load_config(self.config_path)
        return self._config

    def config_or_defaults(self) -> Config:
        """For commands that only read: the configuration when there is a file (checked), else the defaults."""
        if self._config is None and not (self._config_path or self.env.config_path or self.config_path.exists()):
            self._config = Config()
        return self.config

    def bill_id(self, text: str) -> BillId:
        """Any accepted spelling of a bill id (``H.135``, ``192/H135``, ``ma/192/H135``); BadBillId otherwise."""
        return parse_bill_id(text, self.config_or_defaults().sources.malegislature.session)

    def resolve_bill(self, s: Session, text: str) -> Resolution:
        """What a bill id a person typed names, the same in the CLI, the web and the API: a full id
        (``ma/192/H135``, ``192/H135``) as it is; a short one (``H.135``) by ``db.shortids.resolve_short_id``
        (the configured session's followed bill, else the one followed bill of another session, else the
        configured session's document). BadBillId when it does not parse, AmbiguousBillId when several followed
        bills of other sessions have that number."""
        default = self.config_or_defaults().sources.malegislature.session
        if "/" in text:
            bid = parse_bill_id(text, default)
            return Resolution(bid.number, bid.canonical, "given")
        number = parse_number(text)
        found = resolve_short_id(s, number, default)
        if found.how == "ambiguous":
            raise AmbiguousBillId(text, number, found.candidates)
        if found.canonical is None:
            parse_bill_id(text, None)  # no session configured and no followed bill of that number: BadBillId
        return found

    def resolved_bill_id(self, s: Session, text: str) -> tuple[BillId, Resolution]:
        """``resolve_bill`` as a BillId, with the resolution (to say what was chosen)."""
        found = self.resolve_bill(s, text)
        return parse_bill_id(found.canonical), found

    # -- database ---------------------------------------------------------------------------------------------

    @property
    def database_url(self) -> str:
        return self._database_url or self.env.database_url or DEFAULT_DATABASE_URL

    @property
    def engine(self) -> Engine:
        """BadDatabaseUrl for a URL that does not parse or names another system."""
        if self._engine is None:
            self._engine = make_engine(self.database_url)
        return self._engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        if self._sessions is None:
            self._sessions = session_factory(self.engine)
        return self._sessions

    def ready_sessions(self) -> sessionmaker[Session]:
        """The sessions of a database that is reachable and at the latest revision; DatabaseNotReady otherwise.
        A SQLite file that does not exist is refused before it is opened: only ``tracker init`` creates one."""
        path = sqlite_file(self.database_url) if self._engine is None else None
        if path is not None and not path.exists():
            raise DatabaseNotReady(f"there is no database file {path}: run `tracker init` to create it, or give "
                                   "the right --db (or TRACKER_DATABASE_URL)", 2)
        try:
            current = current_revision(self.engine)
        except OperationalError as exc:
            raise DatabaseNotReady(connect_error(self.engine, exc), 1) from None
        if current != head_revision(self.engine):
            raise DatabaseNotReady(f"the database {self.engine.url.render_as_string(hide_password=True)} is not "
                                   "initialised or is out of date: run `tracker init`", 2)
        return self.sessions

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    # -- secrets and links ------------------------------------------------------------------------------------

    @property
    def secret_key(self) -> bytes:
        """Signs the links in emails: TRACKER_SECRET_KEY, else a random key kept in ``var/secret_key``."""
        if self._secret_key is None:
            self._secret_key = (self.env.secret_key.encode("utf-8") if self.env.secret_key
                                else stored_secret_key(self.var_dir))
        return self._secret_key

    @property
    def public_url(self) -> str:
        """The base of links in emails and feeds, checked once (BadPublicUrl)."""
        if self._public_url is None:
            self._public_url = check_public_url(self._public_url_option or self.env.public_url)
        return self._public_url

    @property
    def public_url_given(self) -> bool:
        """Whether the public URL was set (else pages link to the address they were reached by)."""
        return bool(self._public_url_option or self.env.public_url)

    @property
    def settings(self) -> AlertSettings:
        if self._settings is None:
            self._settings = alert_settings(self.config, secret_key=self.secret_key, public_url=self.public_url)
        return self._settings

    def check(self) -> None:
        """Refuse at start, not at the first job: a bad feeds.yaml, database, TRACKER_SMTP_URL or
        TRACKER_PUBLIC_URL raises here (ConfigError, DatabaseNotReady, BadSmtpUrl, BadPublicUrl)."""
        self.config  # first: a bad feeds.yaml is told before the database is opened
        self.ready_sessions()
        self.transport()
        self.settings  # builds and checks the alert settings (the public URL among them)

    # -- mail ---------------------------------------------------------------------------------------------------

    def transport(self):
        """A new mail transport: SMTP when TRACKER_SMTP_URL is set (BadSmtpUrl if it does not parse), else
        the maildir ``var/outbox/``."""
        if self._transport_factory is not None:
            return self._transport_factory()
        if self.env.smtp_url:
            return SmtpTransport(parse_smtp_url(self.env.smtp_url))
        return MaildirTransport(self.var_dir / "outbox")

    @property
    def send_rate(self) -> TokenBucket:
        """The one token bucket of ``mail.messages_per_second`` that every delivery of this process takes from:
        the web app's requests deliver at the same time, and together keep to the rate."""
        with self._bucket_lock:
            if self._bucket is None:
                self._bucket = TokenBucket(self.settings.mail.messages_per_second * self.send_share)
            return self._bucket

    def deliver(self, **options) -> DeliveryReport:
        """Send the queued mail that is due (``only_ids=``, ``stop=``, ``now=``, ``max_wait=``: see
        ``alerts.deliver``) at the process's send rate; due by the application's clock, the one its jobs queue the
        mail by (the demo moves it on)."""
        options.setdefault("now", self.clock)
        options.setdefault("bucket", self.send_rate)
        return deliver_outbox(self.settings, self.sessions, self.transport(), **options)
