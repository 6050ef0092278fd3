"""The supporter commands: ``tracker subscribe`` and ``tracker subscribers list|remove|import``."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import click
from sqlalchemy import select

from alerts.dispatch import queue_confirmation
from alerts.subscribers import BadSubscription, list_supporters, remove, subscribe as add
from alerts.supporter_import import BATCH_ROWS, ImportFailed, import_supporters
from db.models import Subscriber
from tracker.application import Application
from tracker.cli.common import FORMATS, Fail, pass_app, report_delivery, resolve_bill
from tracker.output import emit_rows


def _send(app: Application, ids: list[int]):
    """Send the confirmations just queued (and nothing else)."""
    return app.deliver(only_ids=ids) if ids else None


@click.command()
@click.argument("email")
@click.option("--bill", "bills", multiple=True, metavar="ID", help="a bill to follow (repeatable); none: the whole campaign")
@click.option("--frequency", type=click.Choice(["immediate", "daily", "weekly"]), help="default daily")
@click.option("--name", help="the supporter's name, for the greeting")
@click.option("--house-district", metavar="NAME", help='e.g. "Second Middlesex", for their own representative')
@click.option("--senate-district", metavar="NAME", help="for their own senator")
@click.option("--confirmed", is_flag=True, help="the address is already confirmed: send no confirmation email")
@pass_app
def subscribe(app: Application, email: str, bills, frequency, name, house_district, senate_district,
              confirmed) -> None:
    """Add a supporter and send them a confirmation email."""
    settings = app.settings
    app.transport()  # a bad TRACKER_SMTP_URL is refused before anything is written
    now = datetime.now(timezone.utc)
    with app.ready_sessions().begin() as s:
        chosen = [resolve_bill(app, s, b).canonical for b in bills]  # H.135 as the other commands read it
        try:
            out = add(s, settings, email, bills=chosen, name=name, frequency=frequency,
                      house_district=house_district, senate_district=senate_district, confirmed=confirmed, now=now)
        except BadSubscription as exc:
            raise Fail(str(exc)) from None
        row = queue_confirmation(s, settings, out.subscriber, now) if out.needs_confirmation else None
        sub_email, status = out.subscriber.email, out.subscriber.status
        ids = [row.id] if row is not None else []
    report = _send(app, ids)
    what = "added" if out.created else "updated"
    note = {"active": "confirmed", "pending": "a confirmation email was sent" if ids else
            "waiting for confirmation (one confirmation email a day)"}.get(status, status)
    click.echo(f"{sub_email} {what}: {note}")
    report_delivery(report)
    if report is not None and (report.down or report.failed):
        sys.exit(1)


@click.group()
def subscribers() -> None:
    """Manage supporters: list, remove, import."""


@subscribers.command("list")
@click.option("--status", type=click.Choice(["pending", "active", "unsubscribed", "bounced"]))
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_app
def subscribers_list(app: Application, status: str | None, fmt: str) -> None:
    """Supporters with their topics, frequency and status."""
    app.config_or_defaults()
    with app.ready_sessions()() as s:
        rows = list_supporters(s, status)
    if fmt != "json":
        for r in rows:
            r["topics"] = " ".join(r["topics"])
    emit_rows(rows, ["email", "name", "status", "frequency", "topics", "house_district", "senate_district"]
              if fmt != "json" else [], fmt,
              empty=f"No supporters{f' with status {status}' if status else ''}.")


@subscribers.command("remove")
@click.argument("email")
@pass_app
def subscribers_remove(app: Application, email: str) -> None:
    """Delete a supporter and everything stored about them."""
    app.config_or_defaults()
    with app.ready_sessions().begin() as s:
        try:
            found = remove(s, email)
        except BadSubscription as exc:
            raise Fail(str(exc)) from None
    if not found:
        raise Fail(f"{email}: no such supporter", 1)
    click.echo(f"{email} removed")


@subscribers.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--confirmed", is_flag=True, help="the addresses are already confirmed: send no confirmation emails")
@pass_app
def subscribers_import(app: Application, path: str, confirmed: bool) -> None:
    """Import supporters from a CSV file (email,name,bills,frequency,house_district,senate_district)."""
    settings = app.settings
    try:
        open(path, "rb").close()
    except OSError as exc:  # said before the database is looked at, as always
        raise Fail(f"{path}: cannot read: {exc}") from None
    sessions = app.ready_sessions()
    now = datetime.now(timezone.utc)
    failed = None
    try:
        report = import_supporters(lambda: open(path, encoding="utf-8-sig"), path, settings, sessions.begin,
                                   confirmed=confirmed, now=now)
    except (OSError, UnicodeDecodeError) as exc:  # checked before anything is written
        raise Fail(f"{path}: cannot read: {exc}") from None
    except BadSubscription as exc:
        raise Fail(str(exc)) from None
    except ImportFailed as exc:  # the batches before it are in: their confirmations go out as usual
        report, failed = exc.report, exc
    ids = _queue_confirmations(app, report.to_confirm, now)
    for err in report.errors:
        click.echo(f"tracker: {err}", err=True)
    click.echo(f"{report.added} added, {report.updated} updated, {len(report.errors)} rows refused; "
               f"{len(ids)} confirmation emails queued")
    if failed is not None:
        click.echo(f"tracker: {failed}. The rows before line {failed.line} were imported (the counts above), as if "
                   "the file ended there; run the same file again to import the rest: rows already imported are "
                   "updated, not added twice", err=True)
    report_delivery(_send(app, ids))
    if report.errors or failed is not None:
        sys.exit(1)


def _queue_confirmations(app: Application, subscriber_ids: list[int], now: datetime) -> list[int]:
    """The confirmation emails of the pending supporters an import added or updated, in order (at most one a day
    per address), a transaction per BATCH_ROWS; the outbox ids queued."""
    ids = []
    for lo in range(0, len(subscriber_ids), BATCH_ROWS):
        chunk = subscriber_ids[lo:lo + BATCH_ROWS]
        with app.sessions.begin() as s:
            subs = {sub.id: sub for sub in s.scalars(select(Subscriber).where(Subscriber.id.in_(set(chunk))))}
            for sid in chunk:
                row = queue_confirmation(s, app.settings, subs[sid], now)
                if row is not None:
                    ids.append(row.id)
    return ids


COMMANDS = [subscribe, subscribers]
