"""``tracker successors``: the candidates found for each followed bill in the next General Court, and staff's
decisions (``--accept BILL CANDIDATE`` / ``--reject BILL CANDIDATE``)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import click

from alerts.wording import evidence_words
from db.successors import list_successors, successor_json
from spiders.billids import BadBillId, parse_bill_id
from tracker.application import Application
from tracker.cli.common import FORMATS, Fail, pass_app, resolve_bill
from tracker.output import emit_json, emit_rows
from tracker.successors.decide import CannotDecide, decide


@click.command()
@click.option("--bill", "bill_id", metavar="ID", help="only the candidates of this bill")
@click.option("--accept", nargs=2, metavar="BILL CANDIDATE", help="follow CANDIDATE as BILL re-filed")
@click.option("--reject", nargs=2, metavar="BILL CANDIDATE", help="CANDIDATE is not BILL re-filed")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_app
def successors(app: Application, bill_id: str | None, accept: tuple[str, str] | None,
               reject: tuple[str, str] | None, fmt: str) -> None:
    """Successors across sessions: each followed bill's candidates in the next General Court, best first."""
    if accept and reject:
        raise Fail("give --accept or --reject, not both")
    config = app.config if (accept or reject) else app.config_or_defaults()
    sessions = app.ready_sessions()
    default = config.sources.malegislature.session
    if accept or reject:
        verdict, (bill, candidate) = ("accept", accept) if accept else ("reject", reject)
        try:
            candidate = parse_bill_id(candidate, default).canonical  # a document of the next session: as typed
        except BadBillId as exc:
            raise Fail(str(exc)) from None
        with sessions() as s:
            bill = resolve_bill(app, s, bill).canonical
        with sessions.begin() as s:
            try:
                row = decide(s, config, bill, candidate, verdict, datetime.now(timezone.utc))
            except CannotDecide as exc:
                raise Fail(str(exc)) from None
            out = successor_json(row)
        if fmt == "json":
            emit_json(out)
        elif verdict == "accept":
            click.echo(f"{out['candidate']}: accepted as {out['bill']} re-filed; followed, its supporters carried")
        else:
            click.echo(f"{out['candidate']}: rejected as {out['bill']} re-filed; it will not be proposed again")
        return
    with sessions() as s:
        if bill_id:
            bill_id = resolve_bill(app, s, bill_id).canonical
        rows = [successor_json(r) for r in list_successors(s, bill_id)]
    if fmt == "json":
        emit_json(rows)
        return
    if fmt == "table":
        for r in rows:
            r["evidence"] = evidence_words(r["evidence"])
            r["score"] = f"{r['score']:.2f}"
        emit_rows(rows, ["bill", "candidate", "score", "state", "evidence"], fmt,
                  empty="No candidates yet: they are searched after each sync, once the next General Court's "
                        "docket is listed.")
        return
    for r in rows:
        r["evidence"] = json.dumps(r["evidence"])
    emit_rows(rows, ["bill", "candidate", "session", "rank", "score", "state", "decided_by", "decided_at",
                     "evidence"], fmt)


COMMANDS = [successors]
