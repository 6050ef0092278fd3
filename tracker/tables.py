"""Tables a person can read at any width, piped or on a terminal.

Ids, URLs, numbers, dates and other short fields are never cut nor wrapped: their column is as wide as
its widest cell. Prose (titles, summaries, snippets) wraps between words in the room left; a list of ids
(``bills``) wraps between ids, never inside one. When that room would leave prose narrower than
``MIN_PROSE`` characters, the rows are printed as records instead: the short fields on one line
(``label: value``, a field never split), then each prose field wrapped to the width.

Cell text is never read as rich markup: ``[x]`` prints as written. A search snippet's ``[matched]``
words keep their brackets (so they survive in plain text) and are bold on a terminal.
"""

from __future__ import annotations

import re
import textwrap
from typing import Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

PROSE = frozenset({"title", "summary", "snippet", "what", "action", "committee", "sponsor", "error", "evidence",
                   "location", "subject", "house_district", "senate_district"})
LISTS = frozenset({"bills", "topics", "kinds"})  # words (ids) that wrap between, never inside
HIGHLIGHTED = frozenset({"snippet"})
MIN_PROSE = 24
_MARK = re.compile(r"\[[^\[\]\n]+\]")


def print_rows(console: Console, rows: Sequence[Sequence[str]], columns: Sequence[str],
               title: str | None = None) -> None:
    """``rows`` of cell strings under ``columns``, as a table when it fits ``console.width``, else as records."""
    widths = column_widths(columns, rows, console.width)
    if widths is None:
        _records(console, rows, columns, title)
        return
    table = Table(title=title)
    for name, width in zip(columns, widths):
        table.add_column(name, width=width, no_wrap=_fixed(name), overflow="fold")
    for row in rows:
        table.add_row(*[styled(name, cell) for name, cell in zip(columns, row)])
    console.print(table)


def column_widths(columns: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> list[int] | None:
    """Each column's width in a table ``width`` wide, or None when it cannot fit: every short field whole
    and every prose column at least ``MIN_PROSE`` wide (or its widest cell, when narrower)."""
    natural = [max([cell_len(name)] + [_widest_line(row[i]) for row in rows]) for i, name in enumerate(columns)]
    least = []
    for i, name in enumerate(columns):
        if _fixed(name):
            least.append(natural[i])
        elif name in LISTS:
            least.append(max([cell_len(name)] + [cell_len(w) for row in rows for w in row[i].split()]))
        else:
            least.append(max(cell_len(name), min(natural[i], MIN_PROSE)))
    room = width - (3 * len(columns) + 1)  # a border and two spaces of padding a column, the last border
    if sum(least) > room:
        return None
    widths = list(least)
    spare = room - sum(widths)
    while spare > 0:  # share what is left among the columns that would use it, evenly
        growing = [i for i in range(len(columns)) if widths[i] < natural[i]]
        if not growing:
            break
        share = max(1, spare // len(growing))
        for i in growing:
            extra = min(share, natural[i] - widths[i], spare)
            widths[i] += extra
            spare -= extra
    return widths


def styled(column: str, text: str) -> Text:
    """The cell as plain text (never markup); a snippet's ``[matched]`` words in bold."""
    out = Text(text)
    if column in HIGHLIGHTED:
        for m in _MARK.finditer(text):
            out.stylize("bold", m.start(), m.end())
    return out


def _records(console: Console, rows: Sequence[Sequence[str]], columns: Sequence[str], title: str | None) -> None:
    width = max(console.width, 20)
    if title:
        console.print(Text(title, style="bold"), soft_wrap=True)
    for n, row in enumerate(rows):
        if n or title:
            console.print(soft_wrap=True)
        short = [f"{name}: {cell}" for name, cell in zip(columns, row) if _fixed(name) and cell]
        for line in _pack(short, width):
            console.print(Text(line), soft_wrap=True)
        for name, cell in zip(columns, row):
            if _fixed(name) or not cell:
                continue
            for line in textwrap.wrap(f"{name}: {' '.join(cell.split())}", width=width, subsequent_indent="    ",
                                      break_long_words=False, break_on_hyphens=False):
                console.print(styled(name, line), soft_wrap=True)


def _pack(fields: list[str], width: int) -> list[str]:
    """Fields joined by two spaces into lines of at most ``width`` (a field longer than that alone on its line)."""
    lines: list[str] = []
    for field in fields:
        if lines and cell_len(lines[-1]) + 2 + cell_len(field) <= width:
            lines[-1] += "  " + field
        else:
            lines.append(field)
    return lines


def _fixed(column: str) -> bool:
    return column not in PROSE and column not in LISTS


def _widest_line(text: str) -> int:
    return max((cell_len(line) for line in text.splitlines()), default=0)
