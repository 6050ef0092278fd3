"""``tracker init``: create or upgrade the database."""

from __future__ import annotations

import click
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from db.engine import connect_error
from db.migrate import current_revision, upgrade
from tracker.application import Application
from tracker.cli.common import Fail, pass_app


@click.command()
@pass_app
def init(app: Application) -> None:
    """Create or upgrade the database (idempotent)."""
    engine = app.engine
    try:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    except OperationalError as exc:
        raise Fail(connect_error(engine, exc), 1) from None
    except SQLAlchemyError as exc:
        raise Fail(f"cannot initialise {engine.url.render_as_string(hide_password=True)}: {exc}", 1) from None
    url = engine.url.render_as_string(hide_password=True)
    click.echo(f"database {url} is at revision {after}" + ("" if before != after else " (already up to date)"))


COMMANDS = [init]
