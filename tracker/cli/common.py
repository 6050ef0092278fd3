"""What every command module of the CLI shares: the failure with its exit status, the output formats,
the context object (the ``Application`` the commands run on), and reading ``--since``.

Exit status: 0 success, 1 the command ran but something failed (a source, the mail server, the
database server), 2 bad usage or bad configuration, always with a one-line reason on stderr.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import click

from alerts.transport import BadSmtpUrl
from db.engine import BadDatabaseUrl
from spiders.billids import BadBillId, BillId
from tracker.application import AmbiguousBillId, Application, BadPublicUrl, DatabaseNotReady, resolution_note
from tracker.config import ConfigError
from tracker.durations import parse_duration

FORMATS = click.Choice(["table", "json", "csv"])


class Fail(click.ClickException):
    """A one-line reason and an exit status."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.exit_code = code

    def show(self, file=None) -> None:
        click.echo(f"tracker: {self.format_message()}", err=True)


class TrackerGroup(click.Group):
    """The ``tracker`` group: what the application refuses (a bad feeds.yaml, database URL, bill id, public or
    SMTP URL, a database not initialised) becomes one line on stderr and its exit status, in every command."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise Fail(str(exc).replace("\n", "; ")) from None
        except DatabaseNotReady as exc:
            raise Fail(str(exc), exc.exit_code) from None
        except (BadDatabaseUrl, BadBillId, AmbiguousBillId, BadPublicUrl, BadSmtpUrl) as exc:
            raise Fail(str(exc)) from None


pass_app = click.make_pass_decorator(Application)


def resolve_bill(app: Application, s, text: str) -> BillId:
    """The bill a typed id names (``Application.resolve_bill``: ``H.135`` may be another session's followed
    bill), saying on stderr which one when it is not the configured session's."""
    bid, found = app.resolved_bill_id(s, text)
    note = resolution_note(found)
    if note:
        click.echo(f"tracker: {note}", err=True)
    return bid


def parse_since(text: str | None, option: str = "--since") -> datetime | None:
    """An ISO date or time, or a duration back from now (``24h``, ``7d``)."""
    if not text:
        return None
    try:
        return datetime.now(timezone.utc) - parse_duration(text)
    except ValueError:
        pass
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Fail(f"{option} {text!r}: expected an ISO date or time (2022-07-01, 2022-07-01T08:00-04:00) "
                   "or a duration such as 24h or 7d") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def check_range(since: datetime | None, until: datetime | None = None, now: datetime | None = None) -> None:
    """Refuse a time range nothing can be in: ``--since`` after ``--until``, or ``--since`` in the future."""
    if since is not None and until is not None and since > until:
        raise Fail(f"--since {_moment(since)} is after --until {_moment(until)}: no time is in that range")
    now = now or datetime.now(timezone.utc)
    if since is not None and since > now + timedelta(minutes=1):
        raise Fail(f"--since {_moment(since)} is in the future: nothing has been recorded after it yet")


def check_kinds(kinds: tuple[str, ...], known: tuple[str, ...], option: str = "--kind") -> None:
    """Refuse a kind that is none of ``known`` (it would match nothing), naming the ones there are."""
    for kind in kinds:
        if kind not in known:
            raise Fail(f"{option} {kind!r} is not a kind of event; one of {', '.join(known)}")


def window_words(since: datetime | None, until: datetime | None = None) -> str:
    """`` since 2026-11-27 08:00 UTC`` / `` between ... and ...`` / ``""``: a time filter in words."""
    if since and until:
        return f" between {_moment(since)} and {_moment(until)}"
    if since:
        return f" since {_moment(since)}"
    if until:
        return f" until {_moment(until)}"
    return ""


def note_limit(shown: int, limit: int, more: bool, what: str, most: int | None = None) -> None:
    """Say on stderr that a list stopped at its ``--limit`` while there is more (never a silent cut); ``what``:
    ``"the newest {n} articles"``."""
    if shown < limit or not more:
        return
    if most is None or limit < most:
        hint = "raise --limit" + (f" (at most {most})" if most else "")
    else:
        hint = f"{most} is the most --limit allows: narrow it down (--since, --bill, ...)"
    click.echo(f"tracker: {what.format(n=shown)} shown (--limit {limit}); there are more: {hint}", err=True)


def _moment(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def report_delivery(report) -> None:
    """The mail that could not go, one line each on stderr."""
    if report is None:
        return
    if report.down:
        click.echo(f"tracker: mail not sent, kept in the outbox: {report.down}", err=True)
    for e in report.errors:
        if "to" in e:
            click.echo(f"tracker: message {e['message']} to {e['to']}: {e['error']}", err=True)
