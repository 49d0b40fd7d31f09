"""What every CLI command shares: loading the config, opening the database, exiting."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from sqlalchemy.engine import Engine

from config import Config, ConfigError, load_config
from config.errors import ReassessError
from storage.db import open_database

DEFAULT_CONFIG = "reassess.yaml"

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)

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
    try:
        return load_config(config_path(path))
    except ConfigError as exc:
        err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def get_engine(config: Config) -> Engine:
    try:
        return open_database(config.database)
    except ReassessError as exc:
        fail(str(exc), 2)


def who(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
