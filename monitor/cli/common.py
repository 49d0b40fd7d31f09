"""What every CLI command shares: loading the config, opening the database, exiting,
and the two consoles, ``out`` and ``err``."""

from __future__ import annotations

import builtins
import getpass
import os
import re
import sys
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, cast

import typer
from sqlalchemy.engine import Engine

from config import Config, ConfigError, load_config
from config.errors import ReassessError
from storage.db import DatabaseURLError, open_database

if TYPE_CHECKING:
    from rich.console import Console

DEFAULT_CONFIG = "reassess.yaml"


class LazyConsole:
    """A rich ``Console`` that imports rich only when it is needed (a share of start-up).

    ``is_terminal``, and ``print`` of one line of plain text to a pipe or a file
    (``reassess check`` under cron or a script), are answered without rich, with exactly
    what rich would give: the same answer, the same bytes, wrapped where rich wraps.
    Anything else (markup, tables, rules, a progress bar, text rich would fold or
    translate, an environment that changes how rich sees the stream) goes to a real
    ``Console``, made on first use and used from then on.
    """

    def __init__(self, *, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, highlight=False)
        return self._console

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_console", "_stderr", "console"):
            raise AttributeError(name)  # protocol probes, or not set yet (a copy)
        return getattr(self.console, name)

    def __enter__(self) -> Console:  # rich's Live enters its console
        return self.console.__enter__()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.console.__exit__(exc_type, exc, tb)

    @property
    def is_terminal(self) -> bool:
        plain = self._plain_stream()
        return self.console.is_terminal if plain is None else plain[1]

    def print(self, *objects: Any, markup: bool | None = None, highlight: bool | None = None,
              soft_wrap: bool | None = None, **options: Any) -> None:
        plain = None if options or highlight else self._plain_stream()
        if plain is not None and not plain[1] and len(objects) <= 1:
            text = objects[0] if objects else ""
            lines = (_wrap(text, soft_wrap) if type(text) is str
                     and _plain(text, markup is not False) else None)
            if lines is not None:
                plain[0].write("\n".join(lines) + "\n")
                plain[0].flush()
                return
        self.console.print(*objects, markup=markup, highlight=highlight, soft_wrap=soft_wrap,
                           **options)

    def _plain_stream(self) -> tuple[TextIO, bool] | None:
        """(the stream, whether rich would call it a terminal) when that needs no rich;
        ``None`` once the real console exists, or where rich has its own rules (Windows,
        Jupyter, IDLE, ``FORCE_COLOR``, ``TTY_COMPATIBLE``, a missing or proxied stream)."""
        if self._console is not None or sys.platform == "win32":
            return None
        if "FORCE_COLOR" in os.environ or "TTY_COMPATIBLE" in os.environ:
            return None
        if hasattr(builtins, "get_ipython"):
            return None
        if str(getattr(sys.stdin, "__module__", "")).startswith("idlelib"):
            return None
        stream = sys.stderr if self._stderr else sys.stdout
        if stream is None or hasattr(stream, "rich_proxied_file"):
            return None
        isatty = getattr(stream, "isatty", None)
        try:
            return stream, (bool(isatty()) if isatty is not None else False)
        except ValueError:  # a closed stream, as rich answers it
            return stream, False


def _plain(text: str, markup: bool) -> bool:
    """Printable ASCII that rich prints as it is: no emoji code (``:``), no markup (``[``),
    no tab, newline or control character."""
    return (text.isascii() and text.isprintable() and ":" not in text
            and not (markup and "[" in text))


_WORD = re.compile(r"\s*\S+\s*")  # rich's words: a word and the spaces around it


def _wrap(text: str, soft_wrap: bool | None) -> list[str] | None:
    """The lines rich prints plain text as (``rich._wrap.divide_line``, then trailing
    spaces past the width dropped); ``None`` when a word is wider than a line (rich folds
    it) or the width is 0."""
    width = _width()
    if soft_wrap:
        return [text]
    if not width:
        return None
    if len(text) <= width:
        return [text]
    breaks, offset = [0], 0
    for word in _WORD.finditer(text):
        size = len(word.group().rstrip())
        if size <= width - offset:
            offset += len(word.group())
        elif size > width:
            return None
        elif offset and word.start():
            breaks.append(word.start())
            offset = len(word.group())
    lines = [text[a:b] for a, b in zip(breaks, [*breaks[1:], len(text)], strict=True)]
    return [line[:max(width, len(line.rstrip()))] for line in lines]


def _width() -> int:
    """The width rich gives a console that is not a terminal: ``$COLUMNS``, else the first
    standard stream that is a terminal, else 80."""
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return int(columns)  # 0: left to rich
    width = 0
    for fd in (0, 1, 2):
        try:
            width = os.get_terminal_size(fd).columns
        except (AttributeError, ValueError, OSError):
            continue
        break
    return width or 80


# Typed as rich's Console: callers (and rich's Progress) use them as one.
err = cast("Console", LazyConsole(stderr=True))
out = cast("Console", LazyConsole())

ConfigOption = typer.Option(
    None, "--config", "-c", envvar="REASSESS_CONFIG",
    help=f"Configuration file (default: $REASSESS_CONFIG or ./{DEFAULT_CONFIG}).",
    show_default=False)
ByOption = typer.Option(None, "--by", help="Who does this, for the audit trail "
                        "(default: the OS user).", show_default=False)


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


def config_path(path: Path | None) -> Path:
    return path or Path(os.environ.get("REASSESS_CONFIG") or DEFAULT_CONFIG)


def get_config(path: Path | None) -> Config:
    """Load and validate; a bad file exits 2 with file, line and fix."""
    from monitor.heap import collector_paused

    try:
        # the config lives as long as the command: built without collections, then frozen
        with collector_paused(freeze=True):
            return load_config(config_path(path))
    except ConfigError as exc:
        err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def get_engine(config: Config) -> Engine:
    """The database, migrated; a bad URL exits 2 (configuration), a database that cannot
    be opened or written (locked, read-only, full) exits 1 with one line."""
    try:
        return open_database(config.database)
    except DatabaseURLError as exc:
        fail(str(exc), 2)
    except ReassessError as exc:
        fail(str(exc), 1)


def who(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
