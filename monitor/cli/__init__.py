"""The ``reassess`` command line: the Typer app (``app``) and its command modules."""

from .app import app, main

__all__ = ["app", "main"]
