"""A subprocessor list's records, one per row or item, from each format it comes in:
HTML tables, div grids, lists, definition lists and cards; Markdown tables; CSV (also
``;`` or tab separated); JSON objects (pure)."""

from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter
from typing import Any

from ..base import BaseSettings
from ..read.detect import detect_format
from ..read.encoding import decode
from ..read.html import content_root, get_text
from ..read.markdown import markdown_page, split_front_matter
from ..read.tables import Grid, page_grids
from ..read.text import clean_text, looks_like_wall
from .columns import looks_like_header, records, slug, value_columns
from .lists import card_records, dl_records, list_records

CORE = ("name", "purpose", "location")


def _overrides(settings: BaseSettings) -> dict[str, str | None]:
    return {f"{r}_column": getattr(settings, f"{r}_column", None) for r in CORE}


def records_of(body: bytes, settings: BaseSettings) -> list[dict[str, str]]:
    """The entity records of a body, whatever its format (one dict per row or item)."""
    fmt = detect_format(body, settings.format)
    text = decode(body)
    if fmt == "json":
        return json_records(json.loads(text), _overrides(settings))
    if fmt == "csv":
        return csv_records(text, _overrides(settings), _delimiter(text) or ",")
    if fmt == "text":
        delimiter = _delimiter(text)
        if delimiter:
            return csv_records(text, _overrides(settings), delimiter)
        lines = "".join(f"<li>{html.escape(line)}</li>" for line in text.splitlines() if line)
        return html_records(f"<html><body><ul>{lines}</ul></body></html>", settings)
    if fmt == "markdown":
        return html_records(markdown_page(split_front_matter(text)[1]), settings)
    return html_records(body, settings)


def html_records(markup: bytes | str, settings: BaseSettings) -> list[dict[str, str]]:
    """Entities of a page: its entity tables, else definition lists, cards or lists."""
    roots = content_root(markup, settings.select)
    found = (grid_records(page_grids(roots, looks_like_header), _overrides(settings))
             or dl_records(roots) or card_records(roots) or list_records(roots))
    if len(found) < 5 and looks_like_wall(" ".join(get_text(r, " ") for r in roots)):
        return []  # a bot challenge or a login wall, not a list that lost its entities
    return found


def grid_records(grids: list[tuple[Grid, bool]], overrides: dict[str, str | None],
                 ) -> list[dict[str, str]]:
    """The records of a page's grids (each with whether it is a ``<table>``/ARIA table
    rather than a grid of divs): those of the tables read for sure, else the others."""
    sure: list[dict[str, str]] = []
    unsure: list[dict[str, str]] = []
    # A table without a header row reads like the headed table of its width on the page.
    headers = {len(g.header): g.header for g, _ in reversed(grids)
               if g.header and records(g.header, [], overrides)[1]}
    for grid, real in grids:
        width = max((len(r) for r in grid.rows), default=0)
        header = grid.header or headers.get(width)
        rows, confident = records(header, grid.rows, overrides)
        if not (real or confident):
            continue  # a grid of divs counts only when it reads as a table for sure
        for record, label in zip(rows, grid.labels, strict=False):
            if record and (label or grid.heading):
                record["section"] = label or grid.heading
            (sure if confident else unsure).append(record)
    return [r for r in (sure or unsure) if r]


def _delimiter(text: str) -> str | None:
    """The delimiter most lines of a CSV-like text split into the same number of cells by."""
    lines = [line for line in text.splitlines()[:60] if line.strip()]
    if len(lines) < 2:
        return None
    for delimiter in ("\t", ";", ","):
        counts = Counter(len(next(csv.reader([line], delimiter=delimiter))) for line in lines)
        width, hits = counts.most_common(1)[0]
        if width >= 2 and hits >= max(2, min(0.8 * len(lines), len(lines) - 2)):
            return delimiter
    return None


def csv_records(text: str, overrides: dict[str, str | None], delimiter: str,
                ) -> list[dict[str, str]]:
    """Rows of a CSV under its header row (the first row of two or more cells)."""
    rows = [[clean_text(c) for c in row]
            for row in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)]
    rows = [r for r in rows if sum(1 for c in r if c) >= 2]
    if len(rows) < 2:
        return []
    header, body = rows[0], rows[1:]
    found, _ = records(header, body, overrides)
    if not found:
        guessed = value_columns(body)
        if guessed:
            columns = {i: key if key in CORE else slug(header[i]) if i < len(header) else key
                       for i, key in guessed[0].items()}
            found = [{k: row[i] for i, k in columns.items() if i < len(row) and row[i]}
                     for row in body]
    return [r for r in found if r]


def _scalar(value: Any) -> str | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return clean_text(str(value))
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return "; ".join(clean_text(str(v)) for v in value)
    return None


def json_records(data: Any, overrides: dict[str, str | None], depth: int = 0,
                 ) -> list[dict[str, str]]:
    """Entities of every list of objects (or object of objects) that reads like a table."""
    if depth > 12:
        return []
    out: list[dict[str, str]] = []
    if isinstance(data, dict):
        values = list(data.values())
        if len(values) >= 2 and all(isinstance(v, dict) for v in values):
            out += _object_rows([{"name": k, **v} for k, v in data.items()], overrides)
        for value in values:
            out += json_records(value, overrides, depth + 1)
    elif isinstance(data, list):
        objects = [v for v in data if isinstance(v, dict)]
        if objects:
            out += _object_rows(objects, overrides)
        for value in data:
            if isinstance(value, dict | list):
                out += json_records(value, overrides, depth + 1)
    return out


def _flat(obj: dict[str, Any]) -> dict[str, Any]:
    """An object with the fields of its nested objects lifted (JSON:API ``attributes``)."""
    out = {str(k): v for k, v in obj.items() if not isinstance(v, dict)}
    for key, value in obj.items():
        if isinstance(value, dict):
            for inner, v in value.items():
                out[str(inner) if str(inner) not in out else f"{key} {inner}"] = v
    return out


def _object_rows(objects: list[dict[str, Any]], overrides: dict[str, str | None],
                 ) -> list[dict[str, str]]:
    objects = [_flat(obj) for obj in objects]
    keys: list[str] = []
    for obj in objects:
        keys += [str(k) for k, v in obj.items() if _scalar(v) is not None and str(k) not in keys]
    rows = [[_scalar(obj.get(k)) or "" for k in keys] for obj in objects]
    found, confident = records(keys, rows, overrides) if keys else ([], False)
    return [r for r in found if r] if confident else []
