"""``tracker asks``: each ask of ``asks:`` with its counts (letters sent, supporters, recipients, per bill, per
alert, districts reached and not); ``--letters`` lists who wrote to whom, for the organiser only."""

from __future__ import annotations

from datetime import datetime, timezone

import click

from alerts.ask_report import ask_report
from sqlalchemy import select

from db.asks import failing_addresses, letters_sent_by
from db.models import AskResponse, FailingAddress
from tracker.application import Application
from tracker.cli.common import FORMATS, Fail, pass_app
from tracker.output import emit_json, emit_rows

LETTER_COLUMNS = ["ask", "bill", "first_name", "last_name", "email", "town", "house_district", "senate_district",
                  "recipient", "recipient_district", "recipient_email", "variant", "state", "sent_at"]


@click.command()
@click.option("--letters", is_flag=True, help="who wrote to whom (names and addresses: for the organiser only)")
@click.option("--ask", "only", metavar="NAME", help="only this ask")
@click.option("--clear-bounce", metavar="ADDRESS", help="an office's address that bounced works again: letters go to "
                                                        "it from now on")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_app
def asks(app: Application, letters: bool, only: str | None, clear_bounce: str | None, fmt: str) -> None:
    """Letters and testimony: each ask with its counts, or (--letters) every letter with its writer."""
    config = app.config_or_defaults()
    settings = app.settings
    sessions = app.ready_sessions()
    if clear_bounce:
        with sessions.begin() as s:
            row = s.get(FailingAddress, clear_bounce.strip().lower())
            if row is None:
                raise Fail(f"{clear_bounce} is not among the addresses that bounced a letter")
            s.delete(row)
        click.echo(f"{clear_bounce}: letters go to it again")
        return
    with sessions() as s:
        names = sorted({a.name for a in config.asks} | set(s.scalars(select(AskResponse.ask).distinct())))
        if only and only not in names:
            raise Fail(f"no ask named {only!r} in {app.config_path} or in the database; the asks are: "
                       f"{', '.join(names) or 'none'}")
        if letters:
            rows = letters_sent_by(s, only)
            if fmt == "json":
                emit_json(rows)
            else:
                emit_rows(rows, LETTER_COLUMNS if fmt == "csv" else
                          ["ask", "bill", "first_name", "last_name", "recipient", "state"], fmt,
                          empty="No letters yet.")
            return
        report = [r for r in ask_report(s, settings, datetime.now(timezone.utc)) if not only or r["name"] == only]
        failing = failing_addresses(s)
    if fmt == "json":
        emit_json(report)
        return
    if fmt == "table":
        rows = [{"name": r["name"], "kind": r["kind"], "sent": r["sent"], "waiting": r["queued"],
                 "undeliverable": r["failed"], "supporters": r["supporters"], "recipients": r["recipients"],
                 "by bill": ", ".join(f"{b.rsplit('/', 1)[-1]} {n}" for b, n in r["by_bill"].items()),
                 "districts": f"{len(r['districts_reached'])} of "
                              f"{len(r['districts_reached']) + len(r['districts_not_reached'])}"
                 if r["kind"] == "letter" else ""} for r in report]
        emit_rows(rows, ["name", "kind", "sent", "waiting", "undeliverable", "supporters", "recipients", "by bill",
                         "districts"], fmt, empty="No asks in the configuration and no letters in the database: add asks under asks: "
                               "(see the README).")
        for f in failing:
            click.echo(f"undeliverable: {f['name'] or 'an office'} ({f['address']}) since {f['since'][:10]}: "
                       "no more letters go to it")
        return
    for r in report:
        for key in ("by_bill", "by_alert"):
            r[key] = "; ".join(f"{k}={v}" for k, v in r[key].items())
        for key in ("bills", "districts_reached", "districts_not_reached"):
            r[key] = "; ".join(r[key])
    emit_rows(report, ["name", "kind", "bills", "sent", "queued", "failed", "supporters", "recipients", "by_bill",
                       "by_alert", "districts_reached", "districts_not_reached"], fmt)


COMMANDS = [asks]
