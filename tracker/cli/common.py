"""What every command module of the CLI shares: the failure with its exit status, the output formats,
the context object (the ``Application`` the commands run on), and reading ``--since``.

Exit status: 0 success, 1 the command ran but something failed (a source, the mail server, the
database server), 2 bad usage or bad configuration, always with a one-line reason on stderr.
"""

from __future__ import annotations

from datetime import datetime, timezone

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


def report_delivery(report) -> None:
    """The mail that could not go, one line each on stderr."""
    if report is None:
        return
    if report.down:
        click.echo(f"tracker: mail not sent, kept in the outbox: {report.down}", err=True)
    for e in report.errors:
        if "to" in e:
            click.echo(f"tracker: message {e['message']} to {e['to']}: {e['error']}", err=True)
