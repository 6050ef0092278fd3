"""The bill commands: ``tracker crawl``, ``bills``, ``bill ID``, ``events``."""

from __future__ import annotations

import shutil
import sys
import textwrap
from datetime import datetime, timezone

import click

from db.bills import NoSuchBill, get_bill, list_bills
from db.events import EVENT_KINDS, list_events
from db.lineage import chain, steps
from spiders.billids import dotted, ordinal
from tracker.application import Application
from tracker.cli.common import (FORMATS, Fail, check_kinds, check_range, note_limit, parse_since, pass_app,
                                resolve_bill, window_words)
from tracker.readable import hearing_state, moment_words
from tracker.replacement import replaced_by
from tracker.output import emit_json, emit_rows, progress


@click.command()
@click.option("--bill", "bills", multiple=True, metavar="ID", help="check only this bill (repeatable)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def crawl(app: Application, bills: tuple[str, ...], fmt: str) -> None:
    """Check every tracked bill now and print what changed."""
    from tracker.crawl import UnknownBill, crawl as run_crawl  # lazy: start-up time (0.4 s), only this command crawls

    config = app.config
    sessions = app.ready_sessions()
    with sessions() as s:
        ids = [resolve_bill(app, s, b) for b in bills]

    def show(outcome):
        tick()
        if fmt != "table":
            return
        for ev in outcome.events:
            click.echo(f"{ev.kind:20} {ev.summary}")
        if outcome.error:
            e = outcome.error
            click.echo(f"tracker: {e.get('bill', '')} {e['url']}: {e['error']}", err=True)

    try:
        with progress("bills checked") as tick:
            result = run_crawl(config, sessions, ids or None, on_outcome=show)
    except UnknownBill as exc:
        raise Fail(str(exc)) from None
    if fmt == "json":
        emit_json(result.to_json() | {"throttled": result.throttled})
    else:
        if result.throttled:  # no bill's outcome: the site's
            click.echo(f"tracker: {result.errors[-1]['url']}: {result.errors[-1]['error']}", err=True)
        click.echo(f"checked {result.checked} bills: {result.changed} changed, {len(result.events)} events, "
                   f"{len(result.errors)} errors")
    if result.errors:
        sys.exit(1)


@click.command("bills")
@click.option("--all", "include_untracked", is_flag=True, help="include bills no longer tracked")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_app
def bills_cmd(app: Application, include_untracked: bool, fmt: str) -> None:
    """List tracked bills."""
    app.config_or_defaults()
    with app.ready_sessions()() as s:
        rows = list_bills(s, include_untracked)
    emit_rows(rows, ["id", "status", "committee", "title", "sponsor", "url"] if fmt != "json" else [], fmt,
              empty="No bills in the database." if include_untracked else
              "No bills tracked: list them in feeds.yaml and run tracker crawl.")


@click.command("bill")
@click.argument("bill_id")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def bill_cmd(app: Application, bill_id: str, fmt: str) -> None:
    """One bill with its actions and hearings."""
    with app.ready_sessions()() as s:
        bid = resolve_bill(app, s, bill_id)
        try:
            data = get_bill(s, bid.canonical)
            graph = chain(s, data["id"]) if fmt == "table" and data["lineage"] else None
        except NoSuchBill as exc:
            raise Fail(str(exc)) from None
    data["replaced_by"] = replaced_by(data)
    if fmt == "json":
        emit_json(data)
        return
    status = f"replaced by {dotted(data['replaced_by'])}" if data["replaced_by"] else data["status"]
    click.echo(f"{data['id']}  {data['title'] or ''}")
    click.echo(f"  status: {status}   committee: {data['committee'] or '-'}   sponsor: {data['sponsor'] or '-'}")
    click.echo(f"  {data['url'] or ''}")
    if graph:
        click.echo(lineage_text(graph, shutil.get_terminal_size().columns))
    emit_rows(data["actions"], ["date", "branch", "action", "kinds"], "table", empty="No actions recorded yet.")
    if data["hearings"]:
        now = datetime.now(timezone.utc)
        hearings = [{"when": moment_words(h["starts_at"]) or "no time given", "location": h["location"],
                     "state": hearing_state(h, now)} for h in data["hearings"]]
        emit_rows(hearings, ["when", "location", "state"], "table", title="Hearings")


RELATION_WORDS = {"successor": "successor", "new-draft": "new draft", "study-order": "study order"}


def lineage_text(graph: dict, width: int = 100) -> str:
    """``Lineage: H.135 (192nd) → H.1728 (193rd, successor) → H.4359 (193rd, new draft)``, wrapped at spaces
    only (an id is never cut); a step that does not come from the one before it names where it comes from."""
    parts, previous = [], None
    for step in steps(graph):
        notes = [ordinal(step["session"])]
        for came in step["came_from"]:
            words = RELATION_WORDS.get(came["relation"], came["relation"])
            notes.append(words if came["bill"] == previous else f"{words} of {dotted(came['bill'])}")
        notes += [f"docket {dotted(d)}" for d in step["dockets"]] + (["this bill"] if step["current"] else [])
        parts.append(f"{dotted(step['number'])} ({', '.join(notes)})")
        previous = step["bill"]
    return textwrap.fill("  Lineage: " + " → ".join(parts), width=max(40, width), subsequent_indent="    ",
                         break_long_words=False, break_on_hyphens=False)


@click.command("events")
@click.option("--since", metavar="T", help="ISO date/time, or a duration back from now (24h, 7d)")
@click.option("--bill", "bill", metavar="ID")
@click.option("--kind", "kinds", multiple=True, metavar="K",
              help=f"event kind (repeatable): {', '.join(EVENT_KINDS)}")
@click.option("--limit", type=click.IntRange(min=1), help="only the newest N (default: every event)")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_app
def events_cmd(app: Application, since: str | None, bill: str | None, kinds: tuple[str, ...], limit: int | None,
               fmt: str) -> None:
    """The event log, oldest first."""
    check_kinds(kinds, EVENT_KINDS)
    start = parse_since(since)
    check_range(start)
    app.config_or_defaults()
    with app.ready_sessions()() as s:
        bid = resolve_bill(app, s, bill) if bill else None
        rows = list_events(s, start, bid.canonical if bid else None, list(kinds) or None, limit and limit + 1)
    more = limit is not None and len(rows) > limit
    rows = rows[1:] if more else rows  # the one before the newest N: only says there are more
    if limit is not None:
        note_limit(len(rows), limit, more, "the newest {n} events")
    what = "events" + (f" of kind {' or '.join(kinds)}" if kinds else "") + (f" of {bid.canonical}" if bid else "")
    emit_rows(rows, ["id", "kind", "at", "occurred_at", "bill", "summary"], fmt,
              empty=f"No {what}{window_words(start)}.")


COMMANDS = [crawl, bills_cmd, bill_cmd, events_cmd]
