"""How list commands print: a table that fits the terminal, or plain, JSON or CSV.

* **table** (a terminal): one line per row; identifiers are never cut; on a narrow
  terminal the least useful columns go first and the one ``fold`` column (a title) ends
  in an ellipsis. ``--plain`` shows every column in full.
* **plain** (``--plain``, and whenever stdout is not a terminal): a header line, then one
  line per row, tab-separated, every value in full (``-`` for nothing, a list joined with
  ``,``), so ``cut``, ``awk -F'\\t'`` and ``grep`` work on it.
* ``--json`` and ``--csv`` are each command's own; asking for two formats is an error.

Also here: enum options read case-insensitively with a did-you-mean (``choice``), plurals
(``plural``) and the one way a time is shown in text (``when``).
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import typer

from .common import fail, out

PlainOption = typer.Option(False, "--plain", help="Tab-separated, every value in full "
                           "(the default when stdout is not a terminal).")


@dataclass(frozen=True)
class Column:
    """One column: its header, how to read it from a row, and how it gives way.

    ``drop``: 0 never leaves the table; higher numbers leave first on a narrow terminal.
    ``fold``: the column that takes what width is left and ends in an ellipsis.
    ``full``: what plain output shows, when the table shows less (a time to the minute).
    """

    name: str
    get: Callable[[dict[str, Any]], Any]
    drop: int = 0
    fold: bool = False
    right: bool = False
    full: Callable[[dict[str, Any]], Any] | None = None

    def plain(self, row: dict[str, Any]) -> Any:
        return (self.full or self.get)(row)


def field(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row.get(key)


def output_mode(*, plain: bool = False, as_json: bool = False, as_csv: bool = False) -> str:
    """``json``, ``csv``, ``plain`` or ``table``; two formats at once is a usage error."""
    chosen = [name for name, on in (("--json", as_json), ("--csv", as_csv),
                                    ("--plain", plain)) if on]
    if len(chosen) > 1:
        fail(f"{' and '.join(chosen)} cannot be combined; choose one output format", 2)
    if as_json:
        return "json"
    if as_csv:
        return "csv"
    if plain or not _stdout_is_terminal():
        return "plain"
    return "table"


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def text(value: Any) -> str:
    """A value as one plain cell: lists joined, nothing as ``-``, no tab or newline, times
    in UTC to the second."""
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, list | tuple):
        return ",".join(text(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return " ".join(str(value).split()) or "-"


def print_rows(rows: Sequence[dict[str, Any]], columns: Sequence[Column], mode: str,
               empty: str) -> None:
    """``rows`` as a table or plain lines (``mode`` from ``output_mode``)."""
    if mode == "plain":
        lines = ["\t".join(c.name for c in columns)]
        lines += ["\t".join(text(c.plain(row)) for c in columns) for row in rows]
        sys.stdout.write("\n".join(lines) + "\n")
        return
    if not rows:
        out.print(empty, markup=False)
        return
    _table(rows, columns)


def _table(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> None:
    from rich import box
    from rich.table import Table

    cells = [[_cell(c.get(row)) for c in columns] for row in rows]
    widths = [max([len(c.name)] + [len(line[i]) for line in cells])
              for i, c in enumerate(columns)]
    keep = list(range(len(columns)))
    room = max(out.width, 40)
    fold_min = 30

    def need(idx: list[int]) -> int:
        return sum(fold_min if columns[i].fold else widths[i] for i in idx) + 2 * (len(idx) - 1)

    for level in sorted({c.drop for c in columns if c.drop}, reverse=True):
        if need(keep) <= room:
            break
        keep = [i for i in keep if columns[i].drop != level]
    # fixed widths for every column but the fold one, which takes the rest (rich gives a
    # ratio column the room the others leave only when the table expands)
    folds = any(columns[i].fold for i in keep)
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, show_edge=False,
                  collapse_padding=True, expand=folds)
    for i in keep:
        col = columns[i]
        if col.fold:
            table.add_column(col.name, no_wrap=True, overflow="ellipsis", ratio=1,
                             min_width=fold_min)
        else:
            table.add_column(col.name, no_wrap=True, width=widths[i],
                             justify="right" if col.right else "left")
    for line in cells:
        table.add_row(*(line[i] for i in keep))
    out.print(table)
    if len(keep) < len(columns):
        hidden = ", ".join(columns[i].name for i in range(len(columns)) if i not in keep)
        out.print(f"(hidden here: {hidden}; --plain shows all columns)",
                  markup=False, style="dim")


def _cell(value: Any) -> str:
    shown = text(value)
    return "" if shown == "-" and value in (None, "", []) else shown


def choice(value: str | None, valid: Iterable[str], option: str) -> str | None:
    """An enum option read as people type it: any case, ``-`` or a space for ``_``; an
    unknown value exits 2 with the closest valid one and the list."""
    if value is None:
        return None
    names = list(valid)
    key = value.strip().casefold().replace("-", "_").replace(" ", "_")
    if key in names:
        return key
    squashed = {n.replace("_", ""): n for n in names}
    close = ([n for n in names if n.startswith(key)][:1]
             or difflib.get_close_matches(key, names, n=1, cutoff=0.5)
             or [squashed[m] for m in difflib.get_close_matches(
                 key.replace("_", ""), list(squashed), n=1, cutoff=0.6)])
    hint = f"did you mean {close[0]!r}? " if close else ""
    fail(f"{option} {value!r} is not valid; {hint}valid: {', '.join(names)}", 2)


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 vendor``, ``2 vendors``, ``0 analyses`` (with ``many``)."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def stamp(value: str | None) -> str | None:
    """An ISO 8601 time (as the JSON shows it) to the second: what plain output shows."""
    if not value:
        return None
    found = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return text(found if found.tzinfo else found.replace(tzinfo=UTC))


def when(value: str | datetime | None, short: bool = False) -> str:
    """A time as text output shows it: ``2026-12-06 14:25 UTC`` (UTC, to the minute);
    ``short``, in a table: ``12-06 14:25``."""
    if value is None or value == "":
        return "-"
    found = value if isinstance(value, datetime) else \
        datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if found.tzinfo is None:
        found = found.replace(tzinfo=UTC)
    return found.astimezone(UTC).strftime("%m-%d %H:%M" if short else "%Y-%m-%d %H:%M UTC")
