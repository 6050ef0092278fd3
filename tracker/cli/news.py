"""The news commands: ``tracker poll``, ``articles``, ``search``."""

from __future__ import annotations

import sys

import click

from db.articles import MAX_LIMIT, list_articles
from db.search import MAX_TERMS, BadQuery, search as run_search, unsearched_terms
from tracker.application import Application
from tracker.cli.common import FORMATS, Fail, check_range, note_limit, parse_since, pass_app, resolve_bill, window_words
from tracker.output import emit_json, emit_rows, progress


@click.command()
@click.option("--feed", "feeds", multiple=True, metavar="NAME", help="poll only this feed, due or not (repeatable)")
@click.option("--all", "all_feeds", is_flag=True, help="poll every feed now, ignoring schedules")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def poll(app: Application, feeds: tuple[str, ...], all_feeds: bool, fmt: str) -> None:
    """One pass over the feeds that are due; print the articles kept and their bills."""
    from tracker.news.poll import UnknownFeed, poll as run_poll  # lazy: start-up time (Scrapy, 1.1 s)

    config = app.config
    sessions = app.ready_sessions()

    def show(outcome):
        tick()
        if fmt != "table":
            return
        for ev in outcome.events:
            click.echo(f"{ev.kind:16} {ev.summary}")
        if outcome.error:
            e = outcome.error
            click.echo(f"tracker: feed {e['source']} {e['url']}: {e['error']}", err=True)

    try:
        with progress("feeds checked") as tick:
            result = run_poll(config, sessions, list(feeds) or None, all_feeds, on_outcome=show)
    except UnknownFeed as exc:
        raise Fail(str(exc)) from None
    if fmt == "json":
        emit_json(result.to_json())
    else:
        click.echo(f"checked {result.checked} feeds: {result.changed} changed, {len(result.events)} events, "
                   f"{len(result.errors)} errors")
    if result.errors:
        sys.exit(1)


@click.command()
@click.option("--bill", "bill", metavar="ID", help="only articles linked to this bill")
@click.option("--since", metavar="T", help="ISO date/time, or a duration back from now (24h, 7d)")
@click.option("--limit", type=click.IntRange(1, MAX_LIMIT), default=100, show_default=True,
              help=f"the newest N, at most {MAX_LIMIT} (a note on stderr when there are more)")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_app
def articles(app: Application, bill: str | None, since: str | None, limit: int, fmt: str) -> None:
    """Articles kept, newest first, with their sources and matched bills."""
    start = parse_since(since)
    check_range(start)
    app.config_or_defaults()
    with app.ready_sessions()() as s:
        bid = resolve_bill(app, s, bill) if bill else None
        canonical = bid.canonical if bid else None
        rows = list_articles(s, canonical, start, limit)
        more = len(rows) >= limit and bool(list_articles(s, canonical, start, 1, offset=limit))
    note_limit(len(rows), limit, more, "the newest {n} articles", MAX_LIMIT)
    if fmt == "table":
        for r in rows:
            r["bills"] = " ".join(b["id"] for b in r["bills"])
    emit_rows(rows, ["id", "published_at", "source", "title", "bills", "url"], fmt,
              empty=f"No articles{f' about {canonical}' if canonical else ''}{window_words(start)}.")


@click.command()
@click.argument("query")
@click.option("--since", metavar="T", help="ISO date/time, or a duration back from now")
@click.option("--until", metavar="T", help="ISO date/time")
@click.option("--bill", "bill", metavar="ID", help="only results about this bill")
@click.option("--kind", type=click.Choice(["article", "action", "document", "text"]),
              help="only results of this type")
@click.option("--session", type=click.IntRange(100, 999), metavar="N",
              help="only this General Court's bills, documents and texts, and the articles about its bills")
@click.option("--limit", type=click.IntRange(1, MAX_LIMIT), default=50, show_default=True,
              help=f"the newest N, at most {MAX_LIMIT} (a note on stderr when there are more)")
@click.option("--format", "fmt", type=FORMATS, default="table")
@pass_app
def search(app: Application, query: str, since: str | None, until: str | None, bill: str | None, kind: str | None,
           session: int | None, limit: int, fmt: str) -> None:
    """Full-text search over articles, bill actions, the docket's documents and the bills' texts, newest first.

    QUERY: words and "quoted phrases", all required; at most 1,000 characters and 32 words or phrases."""
    start, end = parse_since(since), parse_since(until, "--until")
    check_range(start, end)
    app.config_or_defaults()
    with app.ready_sessions()() as s:
        bid = resolve_bill(app, s, bill) if bill else None
        canonical = bid.canonical if bid else None
        try:
            rows = run_search(s, query, start, end, canonical, limit, kind=kind, session=session)
            more = len(rows) >= limit and bool(run_search(s, query, start, end, canonical, 1, offset=limit, kind=kind,
                                                                   session=session))
            ignored = unsearched_terms(query)
        except BadQuery as exc:
            raise Fail(str(exc)) from None
    if ignored:
        click.echo(f"tracker: only the first {MAX_TERMS} words or phrases are searched; ignored: {' '.join(ignored)}",
                   err=True)
    note_limit(len(rows), limit, more, "the newest {n} results", MAX_LIMIT)
    if fmt == "table":
        for r in rows:
            r["when"] = r.get("published_at") or r.get("date")
            if r["type"] == "article":
                r["what"] = r.get("title")
            elif r["type"] == "document":
                r["what"] = f"{r['id']} {r.get('title') or ''}".strip()
            elif r["type"] == "text":
                r["what"] = f"{r['bill']} text, version {r['version']}"
            else:
                r["what"] = f"{r['bill']} {r['branch']}"
    # csv: a document is named by its "id" (its canonical id), the last column
    emit_rows(rows, ["type", "when", "what", "snippet"] if fmt == "table" else
              ["type", "bill", "date", "published_at", "title", "url", "snippet", "id", "version"], fmt,
              empty=f"No results for {query!r}{f' ({kind}s only)' if kind else ''}"
                    f"{f' about {canonical}' if canonical else ''}{window_words(start, end)}.")


COMMANDS = [poll, articles, search]
