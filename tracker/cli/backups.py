"""``tracker backup`` and ``tracker restore``: the whole database to one private file, and back (``tracker.backup``)."""

from __future__ import annotations

import click
from sqlalchemy.exc import OperationalError

from db.engine import connect_error, sqlite_file
from tracker.application import Application
from tracker.backup import BackupError, backup, restore
from tracker.cli.common import Fail, pass_app


@click.command("backup")
@click.option("--force", is_flag=True, help="replace PATH if it exists")
@click.argument("path", metavar="PATH")
@pass_app
def backup_cmd(app: Application, force: bool, path: str) -> None:
    """Write a consistent snapshot of the whole database to PATH (mode 0600), while it is in use.

    SQLite: SQLite's online backup; PostgreSQL: pg_dump --format=custom. It holds subscribers and letters:
    keep it private and not for long (docs/deploy.md).
    """
    source = sqlite_file(app.database_url)
    if source is not None and not source.is_file():  # before the engine, which would make its folder
        raise Fail(f"there is no database file {source}: give the right --db (or TRACKER_DATABASE_URL)")
    try:
        done = backup(app.engine, path, force=force)
    except BackupError as exc:
        raise Fail(str(exc), exc.exit_code) from None
    except OperationalError as exc:
        raise Fail(connect_error(app.engine, exc), 1) from None
    except OSError as exc:
        raise Fail(f"cannot write {path}: {exc.strerror or exc}", 1) from None
    click.echo(f"backed up {done.tables} tables of {app.engine.url.render_as_string(hide_password=True)} "
               f"to {done.path} ({done.size:,} bytes, mode 0600)")


@click.command("restore")
@click.argument("path", metavar="PATH")
@pass_app
def restore_cmd(app: Application, path: str) -> None:
    """Restore a backup of `tracker backup` into the database of --db, which must be empty (a new SQLite file,
    or a new PostgreSQL database)."""
    try:
        done = restore(app.engine, path)
    except BackupError as exc:
        raise Fail(str(exc), exc.exit_code) from None
    except OperationalError as exc:
        raise Fail(connect_error(app.engine, exc), 1) from None
    except OSError as exc:
        raise Fail(f"cannot restore {path}: {exc.strerror or exc}", 1) from None
    url = app.engine.url.render_as_string(hide_password=True)
    click.echo(f"restored {done.tables} tables from {done.path} into {url}; run `tracker init` if this version "
               "of the tracker is newer than the backup's, then `tracker status` to check it")


COMMANDS = [backup_cmd, restore_cmd]
