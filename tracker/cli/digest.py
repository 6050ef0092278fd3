"""``tracker digest``: compose what is due and send the outbox, or preview one bill's alert."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from alerts.dispatch import dispatch
from alerts.preview import NoEvents, preview_alert
from tracker.application import Application
from tracker.cli.common import Fail, pass_app, report_delivery, resolve_bill
from tracker.output import emit_json, emit_rows


@click.command()
@click.option("--kind", type=click.Choice(["staff", "supporters", "all"]), default="all", show_default=True)
@click.option("--dry-run", is_flag=True, help="print what would go to whom; send and record nothing")
@click.option("--to", "only", metavar="ADDRESS", help="only this recipient (a supporter or a staff address)")
@click.option("--preview", metavar="BILL", help="write the HTML alert for this bill's latest events to a file")
@click.option("--output", metavar="PATH", help="where --preview writes (default var/preview-BILL.html)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def digest(app: Application, kind: str, dry_run: bool, only: str | None, preview: str | None, output: str | None,
           fmt: str) -> None:
    """Compose and send what is due: alerts, digests, the staff digest."""
    settings = app.settings
    sessions = app.ready_sessions()
    if preview:
        with sessions() as s:
            bid = resolve_bill(app, s, preview)
        path = Path(output or f"var/preview-{bid.number}.html")
        try:
            subject = preview_alert(settings, sessions, bid, path)
        except NoEvents as exc:
            raise Fail(str(exc), 1) from None
        click.echo(f"{path}: {subject}")
        return
    kinds = ("staff", "supporters") if kind == "all" else (kind,)
    report = dispatch(settings, sessions, None if dry_run else app.transport(), kinds=kinds, dry_run=dry_run,
                      only=only)
    if fmt == "json":
        emit_json(report.to_json())
    elif dry_run:
        emit_rows(report.planned, ["to", "kind", "period", "events", "subject"], "table", empty="Nothing is due.")
    else:
        d = report.delivery
        composed = ", ".join(f"{n} {k}" for k, n in sorted(report.composed.items())) or "nothing due"
        click.echo(f"composed: {composed}; sent {d.sent}, retried {d.retried}, failed {d.failed}, "
                   f"suppressed {d.suppressed}" + (f", {d.uncertain} in doubt (sent again)" if d.uncertain else ""))
    for e in report.errors:
        click.echo(f"tracker: {e}", err=True)
    report_delivery(report.delivery)
    if report.errors or (report.delivery and (report.delivery.down or report.delivery.failed)):
        sys.exit(1)


COMMANDS = [digest]
