"""The ``tracker`` command: a thin shell over the library functions, one module per group of commands.

Every command runs on the ``Application`` that ``main`` builds from the options and the environment
(``tracker.application``, the composition root). Exit status: 0 success, 1 the command ran but
something failed, 2 bad usage or bad configuration, always with a one-line reason on stderr.
"""

from __future__ import annotations

import click

from tracker.application import Application
from tracker.cli import (archive, asks, backups, bills, database, demo, digest, docket, news, service, successors,
                         supporters, texts)
from tracker.cli.common import TrackerGroup
from tracker.logs import configure_logging


@click.group(cls=TrackerGroup)
@click.option("--config", "config_path", metavar="PATH", help="feeds.yaml to use (default ./feeds.yaml or $TRACKER_CONFIG)")
@click.option("--db", "db_url", metavar="URL", help="database URL (default sqlite:///var/tracker.sqlite or $TRACKER_DATABASE_URL)")
@click.option("-v", "--verbose", is_flag=True, help="log what each job does")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one JSON object per log line")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, db_url: str | None, verbose: bool, log_format: str) -> None:
    """Follow Massachusetts bills and the news about them."""
    configure_logging(verbose or ctx.invoked_subcommand == "run", log_format)
    ctx.obj = Application.from_environment(config_path=config_path, database_url=db_url)
    ctx.call_on_close(ctx.obj.close)


for group in (database, backups, bills, docket, successors, asks, news, supporters, digest, service, archive, demo,
              texts):
    for command in group.COMMANDS:
        main.add_command(command)
