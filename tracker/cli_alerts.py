"""The alert commands of ``tracker``: subscribe, subscribers, digest, serve."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from tracker.cli import FORMATS, App, Fail, main
from tracker.output import emit_json, emit_rows


def _transport():
    from alerts.transport import BadSmtpUrl, transport_from_env

    try:
        return transport_from_env()
    except BadSmtpUrl as exc:
        raise Fail(str(exc)) from None


def _deliver_ids(app: App, ids: list[int]):
    from alerts.deliver import deliver
    from alerts.dispatch import envelope_sender

    if not ids:
        return None
    config = app.config
    return deliver(app.sessions(), _transport(), envelope_sender(config), rate=config.mail.messages_per_second,
                   max_attempts=config.mail.max_attempts, only_ids=ids)


def _report_delivery(report) -> None:
    if report is None:
        return
    if report.down:
        click.echo(f"tracker: mail not sent, kept in the outbox: {report.down}", err=True)
    for e in report.errors:
        if "to" in e:
            click.echo(f"tracker: message {e['message']} to {e['to']}: {e['error']}", err=True)


@main.command()
@click.argument("email")
@click.option("--bill", "bills", multiple=True, metavar="ID", help="a bill to follow (repeatable); none: the whole campaign")
@click.option("--frequency", type=click.Choice(["immediate", "daily", "weekly"]), help="default daily")
@click.option("--name", help="the supporter's name, for the greeting")
@click.option("--house-district", metavar="NAME", help='e.g. "Second Middlesex", for their own representative')
@click.option("--senate-district", metavar="NAME", help="for their own senator")
@click.option("--confirmed", is_flag=True, help="the address is already confirmed: send no confirmation email")
@click.pass_obj
def subscribe(app: App, email: str, bills, frequency, name, house_district, senate_district, confirmed) -> None:
    """Add a supporter and send them a confirmation email."""
    from alerts.dispatch import queue_confirmation
    from alerts.subscribers import BadSubscription, subscribe as add

    config = app.config
    now = datetime.now(timezone.utc)
    with app.sessions().begin() as s:
        try:
            out = add(s, config, email, bills=list(bills), name=name, frequency=frequency,
                      house_district=house_district, senate_district=senate_district, confirmed=confirmed, now=now)
        except BadSubscription as exc:
            raise Fail(str(exc)) from None
        row = queue_confirmation(s, config, out.subscriber, now) if out.needs_confirmation else None
        sub_email, status = out.subscriber.email, out.subscriber.status
        ids = [row.id] if row is not None else []
    report = _deliver_ids(app, ids)
    what = "added" if out.created else "updated"
    note = {"active": "confirmed", "pending": "a confirmation email was sent" if ids else
            "waiting for confirmation (one confirmation email a day)"}.get(status, status)
    click.echo(f"{sub_email} {what}: {note}")
    _report_delivery(report)
    if report is not None and (report.down or report.failed):
        sys.exit(1)


@main.group()
def subscribers() -> None:
    """Manage supporters: list, remove, import."""


@subscribers.command("list")
@click.option("--status", type=click.Choice(["pending", "active", "unsubscribed", "bounced"]))
@click.option("--format", "fmt", type=FORMATS, default="table")
@click.pass_obj
def subscribers_list(app: App, status: str | None, fmt: str) -> None:
    """Supporters with their topics, frequency and status."""
    from sqlalchemy import select

    from alerts.subscribers import active_topics
    from db.models import Subscriber

    app.config_if_any()
    with app.sessions()() as s:
        query = select(Subscriber).where(Subscriber.role == "supporter").order_by(Subscriber.id)
        if status:
            query = query.where(Subscriber.status == status)
        rows = [{"email": sub.email, "name": sub.name, "status": sub.status, "frequency": sub.frequency,
                 "topics": [t.removeprefix("bill:") for t in active_topics(s, sub.id)],
                 "house_district": sub.house_district, "senate_district": sub.senate_district,
                 "created_at": sub.created_at.isoformat(),
                 "confirmed_at": sub.confirmed_at.isoformat() if sub.confirmed_at else None}
                for sub in s.scalars(query)]
    if fmt != "json":
        for r in rows:
            r["topics"] = " ".join(r["topics"])
    emit_rows(rows, ["email", "name", "status", "frequency", "topics", "house_district", "senate_district"]
              if fmt != "json" else [], fmt)


@subscribers.command("remove")
@click.argument("email")
@click.pass_obj
def subscribers_remove(app: App, email: str) -> None:
    """Delete a supporter and everything stored about them."""
    from alerts.subscribers import BadSubscription, remove

    app.config_if_any()
    with app.sessions().begin() as s:
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
@click.pass_obj
def subscribers_import(app: App, path: str, confirmed: bool) -> None:
    """Import supporters from a CSV file (email,name,bills,frequency,house_district,senate_district)."""
    from alerts.dispatch import queue_confirmation
    from alerts.subscribers import BadSubscription, import_csv
    from db.models import Subscriber

    config = app.config
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise Fail(f"{path}: cannot read: {exc}") from None
    now = datetime.now(timezone.utc)
    ids = []
    with app.sessions().begin() as s:
        try:
            report = import_csv(s, config, text, path, confirmed=confirmed, now=now)
        except BadSubscription as exc:
            raise Fail(str(exc)) from None
        for sid in report.to_confirm:
            row = queue_confirmation(s, config, s.get(Subscriber, sid), now)
            if row is not None:
                ids.append(row.id)
    for err in report.errors:
        click.echo(f"tracker: {err}", err=True)
    click.echo(f"{report.added} added, {report.updated} updated, {len(report.errors)} rows refused; "
               f"{len(ids)} confirmation emails queued")
    _report_delivery(_deliver_ids(app, ids))
    if report.errors:
        sys.exit(1)


@main.command()
@click.option("--kind", type=click.Choice(["staff", "supporters", "all"]), default="all", show_default=True)
@click.option("--dry-run", is_flag=True, help="print what would go to whom; send and record nothing")
@click.option("--to", "only", metavar="ADDRESS", help="only this recipient (a supporter or a staff address)")
@click.option("--preview", metavar="BILL", help="write the HTML alert for this bill's latest events to a file")
@click.option("--output", metavar="PATH", help="where --preview writes (default var/preview-BILL.html)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def digest(app: App, kind: str, dry_run: bool, only: str | None, preview: str | None, output: str | None,
           fmt: str) -> None:
    """Compose and send what is due: alerts, digests, the staff digest."""
    from alerts.dispatch import dispatch
    from alerts.preview import NoEvents, preview_alert

    config = app.config
    sessions = app.sessions()
    if preview:
        bid = app.bill_id(preview)
        path = Path(output or f"var/preview-{bid.number}.html")
        try:
            subject = preview_alert(config, sessions, bid, path)
        except NoEvents as exc:
            raise Fail(str(exc), 1) from None
        click.echo(f"{path}: {subject}")
        return
    kinds = ("staff", "supporters") if kind == "all" else (kind,)
    from alerts.dispatch import BadPublicUrl

    try:
        report = dispatch(config, sessions, None if dry_run else _transport(), kinds=kinds, dry_run=dry_run,
                          only=only)
    except BadPublicUrl as exc:
        raise Fail(str(exc)) from None
    if fmt == "json":
        emit_json(report.to_json())
    elif dry_run:
        emit_rows(report.planned, ["to", "kind", "period", "events", "subject"], "table")
        if not report.planned:
            click.echo("nothing is due")
    else:
        d = report.delivery
        composed = ", ".join(f"{n} {k}" for k, n in sorted(report.composed.items())) or "nothing due"
        click.echo(f"composed: {composed}; sent {d.sent}, retried {d.retried}, failed {d.failed}, "
                   f"suppressed {d.suppressed}" + (f", {d.uncertain} in doubt (sent again)" if d.uncertain else ""))
    for e in report.errors:
        click.echo(f"tracker: {e}", err=True)
    _report_delivery(report.delivery)
    if report.errors or (report.delivery and (report.delivery.down or report.delivery.failed)):
        sys.exit(1)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.pass_obj
def serve(app: App, host: str, port: int) -> None:
    """The web app: confirmation, unsubscribe and preference pages (links in emails lead here)."""
    import uvicorn

    from alerts.dispatch import BadPublicUrl, public_url
    from alerts.tokens import secret_key
    from tracker.web.app import create_app

    try:
        public_url()  # the confirmation emails sign-ups send link there: refuse a bad one now, not per request
    except BadPublicUrl as exc:
        raise Fail(str(exc)) from None
    config = app.config_if_any()
    web = create_app(config, app.sessions(), secret_key())
    uvicorn.run(web, host=host, port=port, log_level="warning")
