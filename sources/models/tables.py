"""Deprecation tables as model records: HTML and Markdown pages (pure).

A table is one when its header names a model column and a shutdown date or replacement
column, in the wordings vendors use ("Shutdown date | Legacy model | Recommended
replacement", "Retirement date | Deprecated model | Recommended replacement", "Model |
Shutdown date | Recommended replacement", "API model name | Current state | Tentative
retirement date", "Model | Version | Legacy date | Retirement date | Replacement
model"). Each row is a model: its id (``model-version`` when a version column gives
one: Azure's gpt-4o 2024-05-13 is ``gpt-4o-2024-05-13``), status (the state column, else
``deprecated``: a row of a deprecation table), shutdown date (``YYYY-MM-DD`` when the
cell writes a date, else its text; "not before YYYY-MM-DD" for "Not sooner than …"), the
date it was deprecated or turns legacy, and its replacement.
"""

from __future__ import annotations

import re
from typing import Any

from ..read.dates import find_date
from ..read.tables import Grid, norm_header, page_grids
from ..read.text import normalise_space

_MODEL = re.compile(r"\bmodels?\b|\bmodel (name|id)\b")
_NOT_MODEL = re.compile(r"replacement|recommend|successor|price|pricing|cost|release|"
                        r"launch|upgrade|alternative|migrat|version")
_SHUTDOWN = re.compile(r"shutdown|shut down|retire|end of life|\beol\b|sunset|discontinu|"
                       r"expir|removal|turned off")
_DATE = re.compile(r"\bdate\b")  # a plain "Date" column: the shutdown, failing the above
_LEGACY = re.compile(r"^(legacy|deprecat(ed|ion))( date| on)?$")  # when it was deprecated
_VERSION = re.compile(r"^(model )?version$")
_REPLACEMENT = re.compile(r"replacement|recommend|successor|migrate to|upgrade|alternative")
_STATE = re.compile(r"^(current )?(state|status|lifecycle( state| stage)?)$")
_RELEASE = re.compile(r"release|launch|announce|legacy|deprecat")
_SPLIT = re.compile(r"\s*(?:,|;|\n| and )\s*")
_ID_LIKE = re.compile(r"^[\w.:/@-]+$")


def _column(header: list[str], test: re.Pattern[str], avoid: re.Pattern[str] | None = None
            ) -> int | None:
    for i, text in enumerate(header):
        words = norm_header(text)
        if test.search(words) and not (avoid and avoid.search(words)):
            return i
    return None


def columns(header: list[str]) -> dict[str, int] | None:
    """Which column holds what, or ``None`` for a table that is no deprecation table."""
    model = _column(header, _MODEL, _NOT_MODEL)
    if model is None:
        return None
    found = {"model": model}
    shutdown = _column(header, _SHUTDOWN, _RELEASE)
    if shutdown is None:
        shutdown = _column(header, _DATE, _RELEASE)
    for name, index in (("shutdown", shutdown), ("replacement", _column(header, _REPLACEMENT)),
                        ("status", _column(header, _STATE)),
                        ("legacy", _column(header, _LEGACY)),
                        ("version", _column(header, _VERSION))):
        if index is not None and index != model:
            found[name] = index
    return found if "shutdown" in found or "replacement" in found else None


def is_header(cells: list[str]) -> bool:
    return columns(cells) is not None


def _ids(cell: str) -> list[str]:
    """The model ids a cell names: several when it lists ids ("gpt-4-0314, gpt-4-32k-0314")."""
    text = normalise_space(cell).strip("`*_ ")
    parts = [p.strip("`*_ ") for p in _SPLIT.split(text) if p.strip("`*_ ")]
    if len(parts) > 1 and all(_ID_LIKE.match(p) for p in parts):
        return parts
    return [text] if text else []


def _cell(row: list[str], index: int | None) -> str | None:
    if index is None or index >= len(row):
        return None
    text = normalise_space(row[index]).strip("`*_ ")
    return text if text and text not in ("-", "—", "–", "N/A", "n/a") else None


_EARLIEST = re.compile(r"\b(not|no) (sooner|earlier) than\b|\bnot before\b|\bat the earliest\b",
                       re.I)


def _shutdown(text: str | None) -> str | None:
    """A cell's date as ``YYYY-MM-DD``; "not before …" when it gives only the earliest
    (an active model's "Not sooner than May 14, 2026" is no announced shutdown)."""
    if not text:
        return None
    date = find_date(text)
    if date is None:
        return text[:200]
    return f"not before {date}" if _EARLIEST.search(text) else date


def grid_models(grid: Grid) -> list[dict[str, Any]]:
    if not grid.header:
        return []
    cols = columns(grid.header)
    if cols is None:
        return []
    out: list[dict[str, Any]] = []
    for row in grid.rows:
        status = _cell(row, cols.get("status"))
        legacy = _cell(row, cols.get("legacy"))
        version = _cell(row, cols.get("version"))
        for ident in _ids(row[cols["model"]] if cols["model"] < len(row) else ""):
            out.append({
                "id": f"{ident}-{version}"[:300] if version else ident[:300], "name": None,
                "status": status.casefold() if status else "deprecated",
                "shutdown": _shutdown(_cell(row, cols.get("shutdown"))),
                "legacy": (find_date(legacy) or legacy[:200]) if legacy else None,
                "replacement": _cell(row, cols.get("replacement")),
                "input": [], "output": [], "capabilities": [],
            })
    return out


def table_models(page_roots: list[Any]) -> list[dict[str, Any]]:
    """Every deprecation table row under ``page_roots`` (HTML elements)."""
    return [m for grid, _real in page_grids(page_roots, is_header) for m in grid_models(grid)]
