"""Deprecation tables as model records: HTML and Markdown pages (pure).

A table is one when its header names a model column and a shutdown date or replacement
column, in the wordings vendors use ("Shutdown date | Legacy model | Recommended
replacement", "Retirement date | Deprecated model | Recommended replacement", "Model |
Shutdown date | Recommended replacement", "API model name | Current state | Tentative
retirement date"). Each row is a model: its id, status (the state column, else
``deprecated``: a row of a deprecation table), shutdown date (``YYYY-MM-DD`` when the
cell writes a date, else its text: "Not sooner than …") and replacement.
"""

from __future__ import annotations

import re
from typing import Any

from ..read.dates import find_date
from ..read.tables import Grid, norm_header, page_grids
from ..read.text import normalise_space

_MODEL = re.compile(r"\bmodels?\b|\bmodel (name|id)\b")
_NOT_MODEL = re.compile(r"replacement|recommend|successor|price|pricing|cost|release|"
                        r"launch|upgrade|alternative|migrat")
_DATE = re.compile(r"shutdown|shut down|retire|retirement|deprecation date|end of life|\beol\b|"
                   r"sunset|discontinu|expir|removal|turned off|deprecated on|\bdate\b")
_REPLACEMENT = re.compile(r"replacement|recommend|successor|migrate to|upgrade|alternative")
_STATE = re.compile(r"^(current )?(state|status|lifecycle( state| stage)?)$")
_RELEASE = re.compile(r"release|launch|deprecat(ed|ion) (on|announced)|announce")
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
    date = _column(header, _DATE, _RELEASE)
    replacement = _column(header, _REPLACEMENT)
    state = _column(header, _STATE)
    for name, index in (("shutdown", date), ("replacement", replacement), ("status", state)):
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
        for ident in _ids(row[cols["model"]] if cols["model"] < len(row) else ""):
            out.append({
                "id": ident[:300], "name": None,
                "status": status.casefold() if status else "deprecated",
                "shutdown": _shutdown(_cell(row, cols.get("shutdown"))),
                "legacy": None,
                "replacement": _cell(row, cols.get("replacement")),
                "input": [], "output": [], "capabilities": [],
            })
    return out


def table_models(page_roots: list[Any]) -> list[dict[str, Any]]:
    """Every deprecation table row under ``page_roots`` (HTML elements)."""
    return [m for grid, _real in page_grids(page_roots, is_header) for m in grid_models(grid)]
