"""subprocessors — a vendor's list of subprocessors (sub-processors, third parties).

Accepts HTML tables (the entity name, purpose/service and location/country/region columns
are found by their headers, whatever their wording; several tables on one page; a first
row of headers or no headers at all; ARIA tables and CMS grids of divs), Markdown/MDX
tables with or without YAML front matter, HTML lists ("Name – purpose – location"),
definition lists, headings followed by "Purpose: …" / "Location: …" lines, CSV (also
``;`` or tab separated) and JSON (a list of objects, or an object keyed by name). The
format is detected from the content; ``format:`` forces it. Navigation, headers,
footers, cookie banners and scripts are dropped; a bot challenge or login wall parses
to an empty list (the vanish guard's business, not a change).

The document is the set of entities keyed by their normalised name (case, footnote
markers, punctuation and legal suffixes such as "Inc." do not count), each with
``name``, ``purpose``, ``location`` and any other column kept. Row order, markup,
whitespace, footnote markers, "last updated" lines, country spellings ("US" = "United
States") and the order of items in a cell are not changes.

Changes: an entity added, removed, or modified (``fields`` says which: purpose,
location, another column). Each check fires one ``subprocessor_change`` listing every
entity affected: high when an AI/model provider is added or changed or a location moves
to a new country, medium otherwise, low for a removal or a change in a minor column.

Options: ``name_column``, ``purpose_column``, ``location_column`` name the header of a
column when the automatic choice is wrong.

Example::

    - id: acme-subprocessors
      kind: subprocessors
      url: https://trust.acme.example/subprocessors
      select: "main"
      location_column: "Location of processing"
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from config.errors import ParseError

from .base import BaseSettings, Change, Document
from .entities import (
    card_records,
    display_name,
    dl_records,
    list_records,
    location_key,
    name_key,
    strip_footnotes,
    text_key,
)
from .feeds import quiet_soup
from .formats import decode, soup
from .grids import Grid, div_grids, find_tables, read_grid
from .markup import (
    clean_text,
    content_root,
    detect_format,
    is_date_noise,
    looks_like_wall,
    markdown_soup,
    split_front_matter,
)
from .tables import is_location, records, slug, value_columns

if TYPE_CHECKING:  # bs4 is imported when a page is left to it, not with the module
    from bs4 import BeautifulSoup, Tag

NAME = "subprocessors"
PARSER_VERSION = "1"
INTERVAL = 6 * 3600.0  # seconds: checked every six hours unless the config says otherwise
RULES = "triggers.subprocessors:subprocessor_rule"  # its rule in triggers/, named
CORE = ("name", "purpose", "location")
CONTEXT = ("section",)


class Settings(BaseSettings):
    """Header overrides for when the automatic column choice is wrong."""

    name_column: str | None = None
    purpose_column: str | None = None
    location_column: str | None = None


def _overrides(settings: BaseSettings) -> dict[str, str | None]:
    return {f"{r}_column": getattr(settings, f"{r}_column", None) for r in CORE}


def parse(body: bytes, settings: BaseSettings) -> Document:
    try:
        entities = build_entities(_records(body, settings), settings.ignore)
    except ParseError:
        raise
    except Exception as exc:  # a third-party parser's failure becomes ours
        raise ParseError(f"subprocessors: cannot parse the body: {exc}") from exc
    return Document(kind=NAME, data={"entities": entities}, parser_version=PARSER_VERSION)


def _records(body: bytes, settings: BaseSettings) -> list[dict[str, str]]:
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
        return html_records(soup(f"<html><body><ul>{lines}</ul></body></html>"), settings)
    if fmt == "markdown":
        markdown = split_front_matter(text)[1]
        found = _fast_records(settings, markdown=markdown)
        return found if found is not None else html_records(markdown_soup(markdown), settings)
    found = _fast_records(settings, body=body)
    return found if found is not None else html_records(quiet_soup(body), settings)


def _fast_records(settings: BaseSettings, *, body: bytes = b"", markdown: str | None = None,
                  ) -> list[dict[str, str]] | None:
    """``html_records`` of the page (the HTML ``body``, or the page made of ``markdown``)
    read from lxml's tree by ``fasttable``, when that gives the very same records: a page
    of five or more table records. None leaves the page to bs4."""
    from . import fasttable  # lxml is loaded with the first page, not with the kind

    if not fasttable.ENABLED or settings.select:
        return None
    try:
        tree = (fasttable.parse_bytes(body) if markdown is None
                else fasttable.parse_text(fasttable.markdown_page(markdown)))
        grids = fasttable.page_grids(tree)
    except Exception:  # bs4 reads it, and says what is wrong with it
        return None
    if grids is None:
        return None
    found = grid_records(grids, _overrides(settings))
    # fewer: html_records looks further (lists, cards) or asks whether it is a wall
    return found if len(found) >= 5 else None


def html_records(doc: BeautifulSoup, settings: BaseSettings) -> list[dict[str, str]]:
    """Entities of a page: its entity tables, else definition lists, cards or lists."""
    roots = content_root(doc, settings.select)
    found = (_table_records(roots, _overrides(settings)) or dl_records(roots)
             or card_records(roots) or list_records(roots))
    if len(found) < 5 and looks_like_wall(" ".join(r.get_text(" ") for r in roots)):
        return []
    return found


def _table_records(roots: Iterable[Tag], overrides: dict[str, str | None],
                   ) -> list[dict[str, str]]:
    grids = [(read_grid(t), True) for root in roots for t in find_tables(root)]
    grids += [(g, False) for root in roots for g in div_grids(root)]
    return grid_records(grids, overrides)


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


def _value(text: str, ignore: list[re.Pattern[str]]) -> str:
    text = strip_footnotes(clean_text(text))
    for rx in ignore:
        text = rx.sub("", text)
    return _SPACES.sub(" ", text).strip(" ;,")


_SPACES = re.compile(r"\s+")


_NOT_A_NAME = re.compile(r"^\s*([*†‡¹²³⁴⁵]|\[\d+\]|\(\d+\)|notes?\b|footnotes?\b)", re.I)


def build_entities(found: Iterable[dict[str, str]], ignore: Iterable[str] = (),
                   ) -> dict[str, dict[str, str]]:
    """Records merged by normalised name; values of repeated rows joined, sorted."""
    rx = [re.compile(p) for p in ignore]
    merged: dict[str, dict[str, set[str]]] = {}
    for record in found:
        values = {k: _value(v, rx) for k, v in record.items()}
        raw = values.pop("name", "").split("; ")[0]
        if _NOT_A_NAME.match(raw) or len(raw.split()) > 12:
            continue  # a footnote or a note written into the table
        name = display_name(raw)
        key = name_key(name)
        if not key or len(name) > 150 or is_date_noise(name):
            continue
        if not values.get("location") and is_location(values.get("section", "")):
            values["location"] = values["section"]  # listed under a "United States" heading
        slot = merged.setdefault(key, {"name": set()})
        slot["name"].add(name)
        for field, value in values.items():
            if value:
                slot.setdefault(field, set()).add(value)
    out: dict[str, dict[str, str]] = {}
    for key, slot in sorted(merged.items()):
        entity = {"name": sorted(slot.pop("name"))[0]}
        for field in ("purpose", "location"):
            entity[field] = "; ".join(sorted(slot.pop(field, ())))
        entity.update({f: "; ".join(sorted(v)) for f, v in sorted(slot.items())})
        out[key] = entity
    return out


def changed_fields(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Which of an entity's fields changed in meaning."""
    fields = [f for f, key in (("purpose", text_key), ("location", location_key))
              if key(before.get(f)) != key(after.get(f))]
    skip = set(CORE) | set(CONTEXT)
    extra_a = {k: text_key(v) for k, v in before.items() if k not in skip}
    extra_b = {k: text_key(v) for k, v in after.items() if k not in skip}
    if sorted(extra_a.values()) != sorted(extra_b.values()):
        fields += sorted(k for k in extra_a.keys() | extra_b.keys()
                         if extra_a.get(k) != extra_b.get(k))
    return fields


def diff(old: Document, new: Document) -> list[Change]:
    a: dict[str, dict[str, str]] = old.data.get("entities", {})
    b: dict[str, dict[str, str]] = new.data.get("entities", {})
    changes = [Change("removed", a[k]["name"], a[k], None, path="entity")
               for k in sorted(a.keys() - b.keys())]
    changes += [Change("added", b[k]["name"], None, b[k], path="entity")
                for k in sorted(b.keys() - a.keys())]
    for k in sorted(a.keys() & b.keys()):
        fields = changed_fields(a[k], b[k])
        if fields:
            changes.append(Change("modified", b[k]["name"], a[k], b[k], path="entity",
                                  fields=tuple(fields)))
    return changes


def size(document: Document) -> int:
    return len(document.data.get("entities", {}))


def _short(text: str | None, limit: int = 80) -> str:
    text = text or "—"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(change: Change) -> str:
    if change.op == "modified":
        before, after = change.before or {}, change.after or {}
        parts = [f"{f} {_short(before.get(f))} → {_short(after.get(f))}" for f in change.fields]
        return f"{change.key}: " + "; ".join(parts)
    entity = (change.after if change.op == "added" else change.before) or {}
    details = [_short(entity.get(f)) for f in ("purpose", "location") if entity.get(f)]
    verb = "Added" if change.op == "added" else "Removed"
    return " — ".join([f"{verb} subprocessor {change.key}", *details])
