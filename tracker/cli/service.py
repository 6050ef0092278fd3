"""The commands that run the tracker as a service and watch it: ``tracker run`` (the scheduler),
``tracker serve`` (the web app) and ``tracker status``."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import click

from tracker.application import Application
from tracker.cli.common import Fail, pass_app
from tracker.cli.serving import listen, serve_workers
from tracker.output import emit_json, emit_rows
from tracker.status import status as read_status


@click.command()
@click.option("--once", is_flag=True, help="run every job one time (crawl, poll, health, dispatch, retention) and exit")
@pass_app
def run(app: Application, once: bool) -> None:
    """Crawl, poll, alert and send digests on schedule until stopped (SIGTERM or Ctrl-C)."""
    from tracker.scheduler import Daemon  # lazy: start-up time (APScheduler and every job's code, 1.8 s)

    app.check()
    daemon = Daemon(app)
    if once:
        sys.exit(0 if daemon.run_once() else 1)
    daemon.serve()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="0: any free port")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="processes serving the one port (about one per core)")
@click.option("--page-cache", default=2000, show_default=True, type=click.IntRange(0, 1_000_000), metavar="PAGES",
              help="rendered public pages each worker keeps (0: none)")
@pass_app
def serve(app: Application, host: str, port: int, workers: int, page_cache: int) -> None:
    """The web app: the archive, sign-up, and the confirmation, unsubscribe and preference pages emails link to.

    Logs on stderr where it listens, then one line per request."""
    from tracker.web.app import create_app  # lazy: start-up time (FastAPI and the pages, 0.6 s)

    app.public_url  # sign-up confirmations link there: a bad TRACKER_PUBLIC_URL is refused now, not per request
    app.ready_sessions()
    try:
        sock = listen(host, port)
    except OSError as exc:
        raise Fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", 1) from None
    if workers == 1:
        serve_workers(lambda: create_app(app, page_cache), sock, 1)
        return
    app.close()  # no connection crosses a fork: each worker opens its own
    app.send_share = 1 / workers  # the workers' couriers together keep to mail.messages_per_second
    serve_workers(lambda: create_app(app, page_cache), sock, workers)


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@pass_app
def status(app: Application, fmt: str) -> None:
    """Health of every source: last success, failing since, next check, last error."""
    config = app.config_or_defaults()
    now = datetime.now(timezone.utc)
    with app.ready_sessions()() as s:
        data = read_status(s, config, now)
    if fmt == "json":
        emit_json(data)
        return
    rows = []
    for src in data["sources"]:
        state = src["state"]
        if state == "failing":
            since = datetime.fromisoformat(src["failing_since"]) if src["failing_since"] else now
            hours = (now - since).total_seconds() / 3600
            state = f"FAILING {hours:.0f}h" if hours >= 1 else "FAILING"
        elif state == "throttled":
            state = f"throttled until {_short(src['throttled_until'])}"
        rows.append(src | {"state": state})
    emit_rows(rows, ["name", "kind", "state", "last_success", "next_check_at", "error"], "table",
              empty="No sources yet: run tracker crawl and tracker poll.")
    box = data["outbox"]
    click.echo("outbox: " + ", ".join(f"{box[k]} {k}" for k in ("queued", "sending", "sent", "failed", "suppressed"))
               + (f" ({box['uncertain']} sent again after a broken connection)" if box.get("uncertain") else ""))
    if data["digests"]:
        click.echo("last sent: " + ", ".join(f"{k} {v}" for k, v in sorted(data["digests"].items())))
    if data["runs"]:
        emit_rows([r | {"state": {True: "ok", False: "FAILED", None: "unfinished"}[r["ok"]]} for r in data["runs"]],
                  ["job", "state", "started_at", "finished_at", "error"], "table", title="Runs")


def _short(iso: str) -> str:
    """``2026-12-10T15:04:05.123+00:00`` -> ``2026-12-10 15:04 UTC``, for the table."""
    when = datetime.fromisoformat(iso).astimezone(timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M UTC")


COMMANDS = [run, serve, status]
