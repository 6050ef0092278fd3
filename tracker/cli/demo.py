"""``tracker demo``: the whole cycle offline against bundled replicas of the sources."""

from __future__ import annotations

import sys

import click


@click.command()
@click.option("--db", "demo_db", metavar="URL", help="database for the demo (default: a new one in a temporary folder)")
@click.option("--dir", "workdir", metavar="PATH", help="folder for the demo's database and maildir (default: a new "
                                                       "temporary folder)")
@click.option("--serve", is_flag=True, help="then serve the web app (and the replicas) so every link of the "
                                            "demo's emails works, until Ctrl-C")
@click.option("--port", default=8000, show_default=True, type=int, help="the web app's port, where the emails link")
def demo(demo_db: str | None, workdir: str | None, serve: bool, port: int) -> None:
    """Run the whole cycle offline against bundled replicas of malegislature.gov and the news."""
    from tracker.demo import run_demo  # lazy: start-up time (the replicas, Scrapy, APScheduler: 1.8 s)

    sys.exit(run_demo(demo_db, echo=click.echo, workdir=workdir, serve=serve, port=port))


COMMANDS = [demo]
