"""A subprocessor list's records, one per row or item, from each format it comes in:
HTML tables, div grids, lists, definition lists and cards; Markdown tables; CSV (also
``;`` or tab separated); JSON objects (pure)."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import Counter
from typing import Any

from ..base import BaseSettings
from ..read.detect import detect_format
from ..read.encoding import decode
from ..read.html import content_root, get_text, image_names, plain_text
from ..read.markdown import markdown_page, split_front_matter
from ..read.tables import Grid, page_grids
from ..read.text import clean_text, looks_like_wall
from .cards import card_records
from .columns import looks_like_header, records, slug, value_columns
from .lists import dl_records, list_records
from .prose import prose_records

CORE = ("name", "purpose", "location")


def _overrides(settings: BaseSettings) -> dict[str, str | None]:
    return {f"{r}_column": getattr(settings, f"{r}_column", None) for r in CORE}


def records_of(body: bytes, settings: BaseSettings) -> list[dict[str, str]]:
    """The entity records of a body, whatever its format (one dict per row or item)."""
    fmt = detect_format(body, settings.format)
    text = decode(body)
    overrides = _overrides(settings)
    if fmt == "json":
        return json_records(json.loads(text), overrides)
    if settings.format is None and fmt in ("markdown", "text", "csv"):
        data = yaml_data(text)
        found = json_records(data, overrides) if data is not None else []
        if found:
            return found  # a YAML data file: a list of records with a name field
    if fmt == "csv":
        return csv_records(text, overrides, _delimiter(text) or ",")
    if fmt == "text":
        delimiter = _delimiter(text)
        if delimiter:
            return csv_records(text, overrides, delimiter)
        if settings.select:
            return html_records(_text_page(text), settings)
        return page_records([_text_tree(text)], settings)
    if fmt == "markdown":
        front, rest = split_front_matter(text)
        found = html_records(markdown_page(rest), settings)
        if not found and front:
            data = yaml_data(front)  # records kept in the front matter (Jekyll, Hugo)
            found = json_records(data, overrides) if data is not None else []
        return found
    return html_records(body, settings)


_MAX_LINES = 50_000  # lines of a plain-text list read


def _text_lines(text: str) -> list[str]:
    return [line for line in text.splitlines()[:_MAX_LINES] if line.strip()]


def _text_page(text: str) -> str:
    """A plain-text list as an HTML page, one list item per line."""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in _text_lines(text))
    return f"<html><body><ul>{items}</ul></body></html>"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text_tree(text: str) -> Any:
    """A plain-text list as the body of an HTML page, one list item per line: built as a
    tree, not written as markup and parsed again (10 MB of "<" is 40 MB escaped)."""
    from lxml import etree

    body = etree.Element("body")
    items = etree.SubElement(body, "ul")
    for line in _text_lines(text):
        etree.SubElement(items, "li").text = _NOT_XML.sub("", line)
    return body


# YAML is tried on a text of key: value lines only, and only up to a size a subprocessor
# data file has: PyYAML's pure-Python reader costs about a second per megabyte.
_YAML_KEY = re.compile(r"^[ \t]*(?:-[ \t]+)?[\w\"'][\w .\"'-]{0,60}:(?:[ \t]|$)", re.M)
_YAML_FLOW = re.compile(r"^[ \t]*(?:-[ \t]+|[\w\"'][\w .\"'-]{0,60}:[ \t]*)[\[{]", re.M)
_YAML_LIMIT = 2_000_000


def yaml_data(text: str) -> Any | None:
    """The data of a YAML document that holds key: value records, else ``None``."""
    limit = _YAML_LIMIT if getattr(yaml_module(), "__with_libyaml__", False) else 500_000
    if len(text) > limit or not (_YAML_KEY.search(text) or _YAML_FLOW.search(text)):
        return None
    yaml = yaml_module()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return None
    return data if isinstance(data, dict | list) else None


def yaml_module() -> Any:
    import yaml

    return yaml


def html_records(markup: bytes | str, settings: BaseSettings) -> list[dict[str, str]]:
    """Entities of a page: its entity tables, else one heading per entity, definition
    lists, lists, and last the names written in bold (or linked) inside its prose."""
    return page_records(content_root(markup, settings.select, logo_names=True), settings)


def page_records(roots: list[Any], settings: BaseSettings) -> list[dict[str, str]]:
    """``html_records`` of a page already read (its content roots).

    A short page that reads like a bot challenge or a login wall gives nothing (the vanish
    guard's business, not a list that lost its entities), unless its entities are
    structured (a table, cards, a definition list): a vendor's purpose may well be "DDoS
    protection", and a challenge page has no table of vendors."""
    for root in roots:
        image_names(root)  # a page read with ``select`` keeps its images
    found = (grid_records(page_grids(roots, looks_like_header), _overrides(settings))
             or card_records(roots) or dl_records(roots))
    if found:
        return found
    found = list_records(roots) or prose_records(roots)
    if len(found) < 5 and _is_wall(roots):
        return []
    return found


_WALL_CHARS = 20_000  # a bot challenge or a login wall is a short page


def _is_wall(roots: list[Any]) -> bool:
    if sum(len(plain_text(r)) for r in roots) > _WALL_CHARS:
        return False
    return looks_like_wall(" ".join(get_text(r, " ") for r in roots))


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
                 seen: set[int] | None = None) -> list[dict[str, str]]:
    """Entities of every list of objects (or object of objects) that reads like a table.

    Each list or object is read once, however often YAML aliases repeat it."""
    seen = set() if seen is None else seen
    if depth > 12 or id(data) in seen or len(seen) > 200_000:
        return []
    out: list[dict[str, str]] = []
    if isinstance(data, dict):
        seen.add(id(data))
        values = list(data.values())
        if len(values) >= 2 and all(isinstance(v, dict) for v in values):
            out += _object_rows([{"name": k, **v} for k, v in data.items()], overrides)
        for value in values:
            if isinstance(value, dict | list):
                out += json_records(value, overrides, depth + 1, seen)
    elif isinstance(data, list):
        seen.add(id(data))
        objects = [v for v in data if isinstance(v, dict)]
        if objects:
            out += _object_rows(objects, overrides)
        for value in data:
            if isinstance(value, dict | list):
                out += json_records(value, overrides, depth + 1, seen)
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
