"""``tracker demo``: the whole cycle offline against bundled replicas of the sources."""

from __future__ import annotations

import sys

import click


@click.command()
@click.option("--db", "demo_db", metavar="URL", help="database for the demo (default: a new one in a temporary folder)")
@click.option("--dir", "workdir", metavar="PATH", help="folder for the demo's database and maildir (default: a new "
                                                       "temporary folder)")
def demo(demo_db: str | None, workdir: str | None) -> None:
    """Run the whole cycle offline against bundled replicas of malegislature.gov and the news."""
    from tracker.demo import run_demo  # lazy: start-up time (the replicas, Scrapy, APScheduler: 1.8 s)

    sys.exit(run_demo(demo_db, echo=click.echo, workdir=workdir))


COMMANDS = [demo]
