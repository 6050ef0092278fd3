"""The docket commands: ``tracker sync``, ``tracker docket``, ``tracker track`` and ``tracker untrack``."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import click

from db.documents import MAX_DOCUMENTS, list_documents
from db.search import BadQuery
from tracker.application import Application
from tracker.cli.common import FORMATS, Fail, note_limit, pass_app, resolve_bill
from tracker.docket import sync as run_sync
from tracker.following import POSITIONS, CannotFollow, track as follow, untrack as unfollow
from tracker.output import emit_json, emit_rows, progress


@click.command()
@click.option("--session", "only", multiple=True, type=int, metavar="N", help="sync only this General Court "
                                                                              "(repeatable)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def sync(app: Application, only: tuple[int, ...], fmt: str) -> None:
    """Sync the whole docket of each synced session, then run the watches and the successor search."""
    config = app.config
    sessions = app.ready_sessions()
    with progress("the first {n} documents") as tick:
        result = run_sync(config, sessions, list(only) or None, on_progress=lambda _: tick())
    if fmt == "json":
        emit_json(result.to_json())
    else:
        for ev in result.discovered:
            click.echo(f"discovered  {ev.summary}")
        found = result.successors
        for bill, candidate in found.accepted if found else ():
            click.echo(f"re-filed    {candidate} follows {bill} (accepted: beyond doubt)")
        for bill, candidate in found.proposed if found else ():
            click.echo(f"re-filed?   {candidate} may be {bill} re-filed: tracker successors --bill {bill}")
        for bill in found.not_refiled if found else ():
            click.echo(f"not re-filed {bill}: nothing in the next General Court after its filing deadline")
        for gc in result.not_yet:
            click.echo(f"{gc}: the legislature does not list this General Court yet")
        for e in result.errors:
            click.echo(f"tracker: {e.get('url') or ''}: {e['error']}", err=True)
        click.echo(f"synced {', '.join(map(str, result.sessions))}: {result.documents} documents, {result.new} new, "
                   f"{result.changed} changed, {result.details} details fetched, {len(result.discovered)} discovered, "
                   + (f"{result.histories} histories swept, " if config.sources.malegislature.histories == "all"
                      else "")
                   + f"{len(result.errors)} errors")
    if result.errors:
        sys.exit(1)


@click.command()
@click.option("--session", type=int, metavar="N", help="only this General Court")
@click.option("--search", metavar="Q", help='words and "quoted phrases" in the title, pinslip or text (all required)')
@click.option("--sponsor", metavar="NAME", help="a lead or joint sponsor (name or member code)")
@click.option("--limit", type=click.IntRange(1, MAX_DOCUMENTS), default=100, show_default=True,
              help=f"the first N, at most {MAX_DOCUMENTS} (a note on stderr when there are more)")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_app
def docket(app: Application, session: int | None, search: str | None, sponsor: str | None, limit: int,
           fmt: str) -> None:
    """Documents of the synced dockets, with whether the campaign follows them."""
    app.config_or_defaults()
    with app.ready_sessions()() as s:
        try:
            rows = list_documents(s, session=session, search=search, sponsor=sponsor, limit=limit)
            more = len(rows) >= limit and bool(list_documents(s, session=session, search=search, sponsor=sponsor,
                                                              limit=1, offset=limit))
        except BadQuery as exc:
            raise Fail(str(exc)) from None
    note_limit(len(rows), limit, more, "documents", MAX_DOCUMENTS)
    if fmt != "json":
        for r in rows:
            r["position"] = r["position"] or ""
    emit_rows(rows, ["id", "docket", "position", "sponsor", "title"] if fmt == "table" else
              ["id", "session", "number", "docket", "title", "sponsor", "tracked", "position"], fmt,
              empty="No document matches; run tracker sync first if the docket is empty.")


@click.command()
@click.argument("bill_id")
@click.option("--position", type=click.Choice(POSITIONS), default="support", show_default=True,
              help="support or oppose: supporters are asked to act for or against it; watch: staff only")
@pass_app
def track(app: Application, bill_id: str, position: str) -> None:
    """Follow a bill that feeds.yaml does not list (a discovered bill, a successor)."""
    config = app.config
    with app.ready_sessions().begin() as s:
        bid = resolve_bill(app, s, bill_id)
        try:
            bill, changed = follow(s, config, bid, position, datetime.now(timezone.utc))
        except CannotFollow as exc:
            raise Fail(str(exc)) from None
        canonical = bill.canonical
    click.echo(f"{canonical}: followed, position {position}" + ("" if changed else " (already)")
               + ("; the next crawl fetches it" if changed else ""))


@click.command()
@click.argument("bill_id")
@pass_app
def untrack(app: Application, bill_id: str) -> None:
    """Stop following a bill (its history stays in the archive)."""
    config = app.config
    with app.ready_sessions().begin() as s:
        bid = resolve_bill(app, s, bill_id)
        try:
            bill = unfollow(s, config, bid)
        except CannotFollow as exc:
            raise Fail(str(exc)) from None
        canonical = bill.canonical
    click.echo(f"{canonical}: no longer followed")


COMMANDS = [sync, docket, track, untrack]
