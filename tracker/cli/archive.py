"""``tracker export``: the public archive as a SQLite file (for Datasette), or CSV / JSON Lines files."""

from __future__ import annotations

import click
from sqlalchemy.exc import OperationalError

from db.engine import connect_error
from tracker.application import Application
from tracker.cli.common import Fail, pass_app
from tracker.export import FORMATS, ExportError, export


@click.command("export")
@click.option("--format", "fmt", metavar="sqlite|csv|jsonl", default="sqlite", show_default=True,
              help="sqlite: one file; csv, jsonl: a folder with one file per table")
@click.option("--force", is_flag=True, help="replace PATH if it exists (a file, or a folder of a previous export)")
@click.argument("path", metavar="PATH")
@pass_app
def export_cmd(app: Application, fmt: str, force: bool, path: str) -> None:
    """Write the public archive (bills, actions, hearings, events, articles, feeds, the directory) to PATH.

    Subscribers, their subscriptions, the outbox, deliveries, runs and raw snapshot bodies are never exported.
    """
    if fmt not in FORMATS:
        raise Fail(f"--format {fmt!r}: expected sqlite, csv or jsonl")
    if not path.strip():
        raise Fail("PATH is empty: give the file (sqlite) or folder (csv, jsonl) to write")
    sessions = app.ready_sessions()
    try:
        counts = export(sessions, fmt, path, force=force,
                        on_table=lambda name, n: click.echo(f"{name:16} {n:>9}"))
    except ExportError as exc:
        raise Fail(str(exc)) from None
    except OperationalError as exc:
        raise Fail(connect_error(app.engine, exc), 1) from None
    except OSError as exc:
        raise Fail(f"cannot write {path}: {exc.strerror or exc}", 1) from None
    total = sum(counts.values())
    what = "file" if fmt == "sqlite" else "folder"
    click.echo(f"exported {total} rows in {len(counts)} tables to the {fmt} {what} {path}")


COMMANDS = [export_cmd]
