"""Where messages go: an SMTP server (``TRACKER_SMTP_URL``) or, when none is set, a maildir.

``smtp://user:pass@host:587?starttls=true`` (plain, or STARTTLS when asked),
``smtps://user:pass@host:465`` (implicit TLS). ``verify=false`` in the query
accepts a certificate that does not verify (a relay on loopback). One connection
is reused for a whole batch; a connection the server closed is reopened once.

Errors are classified for the outbox: ``transient`` (4xx, a dropped connection:
try again later), permanent (5xx), ``bounce`` (a 5xx that says the mailbox does
not exist: stop writing to it), ``uncertain`` (the connection broke after the
message data was sent: it may have arrived), ``down`` (no connection at all: stop
the run, keep everything queued).
"""

from __future__ import annotations

import mailbox
import os
import smtplib
import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

BOUNCE_CODES = {550, 551, 553}
BOUNCE_WORDS = ("no such user", "user unknown", "unknown user", "mailbox unavailable", "does not exist",
                "5.1.1", "recipient rejected", "unknown recipient")


class BadSmtpUrl(ValueError):
    pass


class DeliveryError(Exception):
    def __init__(self, message: str, *, transient: bool, bounce: bool = False, uncertain: bool = False,
                 down: bool = False, lost: bool = False, closed: bool = False):
        super().__init__(message)
        self.transient, self.bounce, self.uncertain, self.down = transient, bounce, uncertain, down
        self.lost = lost  # the connection broke (as opposed to a reply that refused)
        self.closed = closed  # it broke before we said anything: the server had closed an idle connection


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    starttls: bool
    verify: bool
    timeout: float = 30.0

    def describe(self) -> str:
        return f"smtp{'s' if self.implicit_tls else ''}://{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpSettings:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise BadSmtpUrl(f"TRACKER_SMTP_URL {parts.scheme}://…: expected smtp://user:pass@host:587?starttls=true "
                         "or smtps://user:pass@host:465")
    q = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    unknown = set(q) - {"starttls", "verify", "timeout"}
    if unknown:
        raise BadSmtpUrl(f"TRACKER_SMTP_URL: unknown option {sorted(unknown)[0]!r} (known: starttls, verify, timeout)")
    implicit = parts.scheme == "smtps"
    try:
        port = parts.port or (465 if implicit else 25)
        timeout = float(q.get("timeout", "30"))
    except ValueError as exc:
        raise BadSmtpUrl(f"TRACKER_SMTP_URL: {exc}") from None
    return SmtpSettings(host=parts.hostname, port=port,
                        username=unquote(parts.username) if parts.username else None,
                        password=unquote(parts.password) if parts.password else None,
                        implicit_tls=implicit, starttls=q.get("starttls") in ("true", "1", "yes"),
                        verify=q.get("verify", "true") not in ("false", "0", "no"), timeout=timeout)


def _is_bounce(code: int, text: bytes | str) -> bool:
    words = (text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)).lower()
    return code in BOUNCE_CODES and any(w in words for w in BOUNCE_WORDS) or words.startswith("5.1.1")


def _reply_error(code: int, text, stage: str) -> DeliveryError:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    message = f"{stage}: {code} {words}".strip()
    if code == 421:  # the service is not available and closes the channel: the server, not the message
        return DeliveryError(message, transient=True, down=True)
    if 400 <= code < 500:
        return DeliveryError(message, transient=True)
    return DeliveryError(message, transient=False, bounce=_is_bounce(code, text))


class SmtpTransport:
    name = "smtp"

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._conn: smtplib.SMTP | None = None

    def describe(self) -> str:
        return self.settings.describe()

    def another(self) -> "SmtpTransport":
        """A transport to the same server over a connection of its own (``mail.connections``)."""
        return SmtpTransport(self.settings)

    def _context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        if not self.settings.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def _connect(self) -> smtplib.SMTP:
        st = self.settings
        try:
            if st.implicit_tls:
                conn = smtplib.SMTP_SSL(st.host, st.port, timeout=st.timeout, context=self._context())
            else:
                conn = smtplib.SMTP(st.host, st.port, timeout=st.timeout)
            conn.ehlo()
            if st.starttls:
                conn.starttls(context=self._context())
                conn.ehlo()
            if st.username:
                conn.login(st.username, st.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"{st.describe()}: login refused: {exc.smtp_code} {exc.smtp_error!r}",
                                transient=True, down=True) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"{st.describe()}: cannot connect: {exc}", transient=True, down=True) from None
        return conn

    def send(self, from_addr: str, to_addr: str, data: bytes) -> None:
        reused = self._conn is not None
        try:
            self._send_once(from_addr, to_addr, data)
        except DeliveryError as exc:
            # A reused connection the server had closed before we spoke: open a new one, try once more.
            if reused and exc.closed:
                self._send_once(from_addr, to_addr, data)
            else:
                raise

    def _send_once(self, from_addr: str, to_addr: str, data: bytes) -> None:
        if self._conn is None:
            self._conn = self._connect()
        conn = self._conn
        stage = "MAIL FROM"
        try:
            code, text = conn.mail(from_addr)
            if code != 250:
                self._refused(code)
                raise _reply_error(code, text, stage)
            stage = "RCPT TO"
            code, text = conn.rcpt(to_addr)
            if code not in (250, 251):
                self._refused(code)
                raise _reply_error(code, text, stage)
            stage = "DATA"
            code, text = conn.data(data)
            if code != 250:
                self._refused(code, reset=False)
                raise _reply_error(code, text, stage)
        except smtplib.SMTPDataError as exc:  # the server answered DATA with an error: it did not take it
            self._refused(exc.smtp_code, reset=False)
            raise _reply_error(exc.smtp_code, exc.smtp_error, stage) from None
        except (smtplib.SMTPServerDisconnected, OSError, socket.timeout, smtplib.SMTPResponseException) as exc:
            self._drop()
            raise DeliveryError(f"{self.settings.describe()}: connection lost at {stage}: {exc}", transient=True,
                                uncertain=stage == "DATA", lost=True, closed=stage == "MAIL FROM") from None

    def _refused(self, code: int, reset: bool = True) -> None:
        """After a refusal: a 421 closed the channel (drop it); otherwise RSET for the next message."""
        if code == 421:
            self._drop()
        elif reset:
            self._reset()

    def _reset(self) -> None:
        try:
            self._conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - closing a broken socket
                pass
        self._conn = None

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()


# mailbox.Maildir names a file from the time, the pid and a class-wide counter it increments unlocked:
# two threads of one process (two sign-ups answered at once) can draw the same name, and the second
# write then fails. One lock per process keeps the names apart; other processes differ in pid.
_MAILDIR_NAMES = threading.Lock()


class MaildirTransport:
    """Each message becomes one file in a Maildir (``new/``), written atomically through ``tmp/``."""

    name = "maildir"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._box: mailbox.Maildir | None = None

    def describe(self) -> str:
        return f"maildir {self.path}"

    def another(self) -> "MaildirTransport":
        return MaildirTransport(self.path)

    def send(self, from_addr: str, to_addr: str, data: bytes) -> None:
        try:
            if self._box is None:  # mailbox.Maildir(create=True) fails when another thread or process made
                for folder in ("tmp", "new", "cur"):  # the folders first: make them as it would, race-free
                    (self.path / folder).mkdir(mode=0o700, parents=True, exist_ok=True)
                self._box = mailbox.Maildir(self.path, create=False)
            with _MAILDIR_NAMES:
                self._box.add(b"X-Envelope-To: " + to_addr.encode("ascii", "replace") + b"\r\n" + data)
        except (OSError, mailbox.Error) as exc:
            why = getattr(exc, "strerror", None) or str(exc)
            raise DeliveryError(f"{self.path}: cannot write: {why}", transient=True, down=True) from None

    def close(self) -> None:
        self._box = None

