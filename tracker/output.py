"""Rendering lists as a table, JSON or CSV (the ``--format`` option)."""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Any, Sequence

from rich.console import Console

from tracker.tables import print_rows


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def emit_rows(rows: Sequence[dict], columns: Sequence[str], fmt: str, title: str | None = None,
              empty: str | None = None) -> None:
    """``rows`` as JSON (every field), CSV (``columns``, a header row first) or a table (``tracker.tables``).
    A table with no rows prints ``empty``, one line on stdout, instead (JSON stays ``[]``, CSV the header)."""
    if fmt == "json":
        emit_json(list(rows))
        return
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
        sys.stdout.write(buf.getvalue())
        return
    if not rows and empty:
        sys.stdout.write(empty + "\n")
        return
    console = Console(highlight=False)
    print_rows(console, [[_cell(row.get(c)) for c in columns] for row in rows], columns, title)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class progress:
    """A progress line on stderr for an interactive one-shot command (``with progress("bills") as tick:``);
    nothing at all when stderr is not a terminal (cron, CI, a pipe)."""

    def __init__(self, what: str):
        self.what = what
        self._progress = None

    def __enter__(self):
        if not sys.stderr.isatty():
            return lambda: None
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._progress = Progress(SpinnerColumn(), TextColumn("{task.completed} " + self.what),
                                  TimeElapsedColumn(), console=Console(stderr=True), transient=True)
        self._progress.start()
        task = self._progress.add_task(self.what, total=None)
        return lambda: self._progress.advance(task)

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()
