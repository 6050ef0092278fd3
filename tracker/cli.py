"""The ``tracker`` command: a thin shell over the library functions.

Exit status: 0 success, 1 the command ran but a source failed, 2 bad usage or
bad configuration, always with a one-line reason on stderr.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone

import click
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from db.engine import BadDatabaseUrl, connect_error, database_url, make_engine, session_factory
from db.migrate import current_revision, head_revision, upgrade
from spiders.billids import BadBillId, parse_bill_id
from tracker.config import ConfigError, load_config
from tracker.durations import parse_duration
from tracker.output import emit_json, emit_rows, progress

FORMATS = click.Choice(["table", "json", "csv"])


class Fail(click.ClickException):
    """A one-line reason and an exit status."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.exit_code = code

    def show(self, file=None) -> None:
        click.echo(f"tracker: {self.format_message()}", err=True)


class App:
    def __init__(self, config_path: str | None, db_url: str | None):
        self.config_path = config_path
        self.db_url = db_url
        self._config = None
        self._engine = None

    @property
    def config(self):
        if self._config is None:
            try:
                self._config, _ = load_config(self.config_path)
            except ConfigError as exc:
                raise Fail(str(exc).replace("\n", "; ")) from None
        return self._config

    def config_if_any(self):
        """For read commands: the configuration if there is one (checked), else the defaults."""
        explicit = self.config_path or os.environ.get("TRACKER_CONFIG")
        if explicit or os.path.exists("feeds.yaml"):
            return self.config
        from tracker.config import Config

        self._config = Config()
        return self._config

    @property
    def engine(self):
        if self._engine is None:
            try:
                self._engine = make_engine(database_url(self.db_url))
            except BadDatabaseUrl as exc:
                raise Fail(str(exc)) from None
        return self._engine

    def sessions(self, require_schema: bool = True):
        if require_schema:
            try:
                current = current_revision(self.engine)
            except OperationalError as exc:
                raise Fail(connect_error(self.engine, exc), 1) from None
            if current != head_revision(self.engine):
                raise Fail(f"the database {self.engine.url.render_as_string(hide_password=True)} is not initialised "
                           "or is out of date: run `tracker init`")
        return session_factory(self.engine)

    def bill_id(self, text: str):
        try:
            return parse_bill_id(text, self.config_if_any().sources.malegislature.session)
        except BadBillId as exc:
            raise Fail(str(exc)) from None


@click.group()
@click.option("--config", "config_path", metavar="PATH", help="feeds.yaml to use (default ./feeds.yaml or $TRACKER_CONFIG)")
@click.option("--db", "db_url", metavar="URL", help="database URL (default sqlite:///var/tracker.sqlite or $TRACKER_DATABASE_URL)")
@click.option("-v", "--verbose", is_flag=True, help="log what each job does")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one JSON object per log line")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, db_url: str | None, verbose: bool, log_format: str) -> None:
    """Follow Massachusetts bills and the news about them."""
    from tracker.logs import configure_logging

    configure_logging(verbose or ctx.invoked_subcommand == "run", log_format)
    ctx.obj = App(config_path, db_url)


@main.command()
@click.pass_obj
def init(app: App) -> None:
    """Create or upgrade the database (idempotent)."""
    try:
        before = current_revision(app.engine)
        upgrade(app.engine)
        after = current_revision(app.engine)
    except OperationalError as exc:
        raise Fail(connect_error(app.engine, exc), 1) from None
    except SQLAlchemyError as exc:
        raise Fail(f"cannot initialise {app.engine.url.render_as_string(hide_password=True)}: {exc}", 1) from None
    url = app.engine.url.render_as_string(hide_password=True)
    click.echo(f"database {url} is at revision {after}" + ("" if before != after else " (already up to date)"))


@main.command()
@click.option("--bill", "bills", multiple=True, metavar="ID", help="check only this bill (repeatable)")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def crawl(app: App, bills: tuple[str, ...], fmt: str) -> None:
    """Check every tracked bill now and print what changed."""
    from tracker.crawl import UnknownBill, crawl as run_crawl

    config = app.config
    ids = [app.bill_id(b) for b in bills]
    sessions = app.sessions()

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


@main.command("bills")
@click.option("--all", "include_untracked", is_flag=True, help="include bills no longer tracked")
@click.option("--format", "fmt", type=FORMATS, default="table")
@click.pass_obj
def bills_cmd(app: App, include_untracked: bool, fmt: str) -> None:
    """List tracked bills."""
    app.config_if_any()
    from db.bills import list_bills

    with app.sessions()() as s:
        rows = list_bills(s, include_untracked)
    emit_rows(rows, ["id", "status", "committee", "title", "sponsor", "url"] if fmt != "json" else [], fmt)


@main.command("bill")
@click.argument("bill_id")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def bill_cmd(app: App, bill_id: str, fmt: str) -> None:
    """One bill with its actions and hearings."""
    from db.bills import NoSuchBill, get_bill

    bid = app.bill_id(bill_id)
    with app.sessions()() as s:
        try:
            data = get_bill(s, bid.canonical)
        except NoSuchBill as exc:
            raise Fail(str(exc)) from None
    if fmt == "json":
        emit_json(data)
        return
    click.echo(f"{data['id']}  {data['title'] or ''}")
    click.echo(f"  status: {data['status']}   committee: {data['committee'] or '-'}   sponsor: {data['sponsor'] or '-'}")
    click.echo(f"  {data['url'] or ''}")
    emit_rows(data["actions"], ["date", "branch", "action", "kinds"], "table")
    if data["hearings"]:
        emit_rows(data["hearings"], ["starts_at", "ends_at", "location", "status"], "table", title="Hearings")


def parse_since(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.now(timezone.utc) - parse_duration(text)
    except ValueError:
        pass
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise Fail(f"--since {text!r}: expected an ISO date or time (2022-07-01, 2022-07-01T08:00-04:00) "
                   "or a duration such as 24h or 7d") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@main.command("events")
@click.option("--since", metavar="T", help="ISO date/time, or a duration back from now (24h, 7d)")
@click.option("--bill", "bill", metavar="ID")
@click.option("--kind", "kinds", multiple=True, metavar="K", help="event kind, e.g. bill.action (repeatable)")
@click.option("--limit", type=click.IntRange(min=1), help="only the newest N")
@click.option("--format", "fmt", type=FORMATS, default="table")
@click.pass_obj
def events_cmd(app: App, since: str | None, bill: str | None, kinds: tuple[str, ...], limit: int | None,
               fmt: str) -> None:
    """The event log, oldest first."""
    app.config_if_any()
    from db.events import list_events

    bid = app.bill_id(bill) if bill else None
    with app.sessions()() as s:
        rows = list_events(s, parse_since(since), bid.canonical if bid else None, list(kinds) or None, limit)
    emit_rows(rows, ["id", "kind", "at", "occurred_at", "bill", "summary"], fmt)


@main.command()
@click.option("--feed", "feeds", multiple=True, metavar="NAME", help="poll only this feed, due or not (repeatable)")
@click.option("--all", "all_feeds", is_flag=True, help="poll every feed now, ignoring schedules")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def poll(app: App, feeds: tuple[str, ...], all_feeds: bool, fmt: str) -> None:
    """One pass over the feeds that are due; print the articles kept and their bills."""
    from tracker.news.poll import UnknownFeed, poll as run_poll

    config = app.config
    sessions = app.sessions()

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


@main.command()
@click.option("--bill", "bill", metavar="ID", help="only articles linked to this bill")
@click.option("--since", metavar="T", help="ISO date/time, or a duration back from now (24h, 7d)")
@click.option("--limit", type=click.IntRange(1, 500), default=100, show_default=True)
@click.option("--format", "fmt", type=FORMATS, default="table")
@click.pass_obj
def articles(app: App, bill: str | None, since: str | None, limit: int, fmt: str) -> None:
    """Articles kept, newest first, with their sources and matched bills."""
    from db.articles import list_articles

    app.config_if_any()
    bid = app.bill_id(bill) if bill else None
    with app.sessions()() as s:
        rows = list_articles(s, bid.canonical if bid else None, parse_since(since), limit)
    if fmt == "table":
        for r in rows:
            r["bills"] = " ".join(b["id"] for b in r["bills"])
    emit_rows(rows, ["id", "published_at", "source", "title", "bills", "url"], fmt)


@main.command()
@click.argument("query")
@click.option("--since", metavar="T", help="ISO date/time, or a duration back from now")
@click.option("--until", metavar="T", help="ISO date/time")
@click.option("--bill", "bill", metavar="ID", help="only results about this bill")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--format", "fmt", type=FORMATS, default="table")
@click.pass_obj
def search(app: App, query: str, since: str | None, until: str | None, bill: str | None, limit: int,
           fmt: str) -> None:
    """Full-text search over articles and bill actions, newest first."""
    from db.search import BadQuery, search as run_search

    app.config_if_any()
    bid = app.bill_id(bill) if bill else None
    with app.sessions()() as s:
        try:
            rows = run_search(s, query, parse_since(since), parse_since(until), bid.canonical if bid else None, limit)
        except BadQuery as exc:
            raise Fail(str(exc)) from None
    if fmt == "table":
        for r in rows:
            r["when"] = r.get("published_at") or r.get("date")
            r["what"] = r.get("title") if r["type"] == "article" else f"{r['bill']} {r['branch']}"
    emit_rows(rows, ["type", "when", "what", "snippet"] if fmt == "table" else
              ["type", "bill", "date", "published_at", "title", "url", "snippet"], fmt)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def status(app: App, fmt: str) -> None:
    """Health of every source: last success, failing since, next check, last error."""
    from datetime import datetime, timezone

    from tracker.status import status as read_status

    app.config_if_any()
    with app.sessions()() as s:
        data = read_status(s)
    if fmt == "json":
        emit_json(data)
        return
    now = datetime.now(timezone.utc)
    rows = []
    for src in data["sources"]:
        state = "ok"
        if not src["ok"]:
            since = datetime.fromisoformat(src["failing_since"]) if src["failing_since"] else now
            hours = (now - since).total_seconds() / 3600
            state = f"FAILING {hours:.0f}h" if hours >= 1 else "FAILING"
        rows.append(src | {"state": state})
    emit_rows(rows, ["name", "kind", "state", "last_success", "next_check_at", "error"], "table")
    if not rows:
        click.echo("no sources yet: run tracker crawl and tracker poll")
    box = data["outbox"]
    click.echo("outbox: " + ", ".join(f"{box[k]} {k}" for k in ("queued", "sending", "sent", "failed", "suppressed"))
               + (f" ({box['uncertain']} sent again after a broken connection)" if box.get("uncertain") else ""))
    if data["digests"]:
        click.echo("last sent: " + ", ".join(f"{k} {v}" for k, v in sorted(data["digests"].items())))
    if data["runs"]:
        emit_rows([r | {"state": {True: "ok", False: "FAILED", None: "unfinished"}[r["ok"]]} for r in data["runs"]],
                  ["job", "state", "started_at", "finished_at", "error"], "table", title="Runs")


@main.command()
@click.option("--db", "demo_db", metavar="URL", help="database for the demo (default: a new one in a temporary folder)")
@click.option("--dir", "workdir", metavar="PATH", help="folder for the demo's database and maildir (default: a new "
                                                       "temporary folder)")
@click.pass_obj
def demo(app: App, demo_db: str | None, workdir: str | None) -> None:
    """Run the whole cycle offline against bundled replicas of malegislature.gov and the news."""
    from tracker.demo import run_demo

    sys.exit(run_demo(demo_db, echo=click.echo, workdir=workdir))


from tracker import cli_alerts, cli_export, cli_run  # noqa: E402,F401  (subscribe, digest, serve, export, run, ...)

if __name__ == "__main__":  # python -m tracker.cli: run the imported module's group, where the commands are
    from tracker.cli import main as _main

    _main()
