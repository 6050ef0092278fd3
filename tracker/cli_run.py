"""``tracker run``: the scheduler daemon."""

from __future__ import annotations

import sys

import click

from tracker.cli import App, main


@main.command()
@click.option("--once", is_flag=True, help="run every job one time (crawl, poll, health, dispatch, retention) and exit")
@click.pass_obj
def run(app: App, once: bool) -> None:
    """Crawl, poll, alert and send digests on schedule until stopped (SIGTERM or Ctrl-C)."""
    from tracker.cli_alerts import _transport
    from tracker.jobs import JobContext
    from tracker.scheduler import Daemon

    config = app.config
    sessions = app.sessions()
    _transport()  # a bad TRACKER_SMTP_URL is refused at start, not at the first dispatch
    daemon = Daemon(JobContext(config, sessions, _transport))
    if once:
        sys.exit(0 if daemon.run_once() else 1)
    daemon.serve()
