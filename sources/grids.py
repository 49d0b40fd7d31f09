"""HTML tables as grids of cell texts: ``<table>``, ARIA tables and div grids (pure).

``read_grid`` expands row and column spans, takes the header from ``<thead>``, ``<th>``
rows or a first row that reads like headers, and turns full-width rows ("Infrastructure",
"AI providers") into group labels. ``div_grids`` finds tables built of repeated elements,
as CMS collection lists render them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from bs4 import Tag

from .markup import text_parts
from .tables import looks_like_header, norm_header


@dataclass
class Grid:
    """A table's cells with spans expanded: header texts (if any), rows, row group labels."""

    header: list[str] | None
    rows: list[list[str]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    heading: str = ""


_TABLE_ROLE = re.compile("^(table|grid|treegrid)$")


def _cells(row: Tag, aria: bool) -> list[Tag]:
    if aria:
        return [c for c in row.find_all(True, attrs={"role": re.compile(
            r"^(cell|gridcell|columnheader|rowheader)$")}) if c.find_parent(True, attrs={
                "role": "row"}) is row]
    return row.find_all(["td", "th"], recursive=False)


def _rows(table: Tag, aria: bool) -> list[Tag]:
    if aria:
        return [r for r in table.find_all(True, attrs={"role": "row"})
                if r.find_parent(True, attrs={"role": _TABLE_ROLE}) is table]
    return [r for r in table.find_all("tr") if r.find_parent("table") is table]


def _is_header_cell(cell: Tag) -> bool:
    return cell.name == "th" or cell.get("role") == "columnheader"


def _span(cell: Tag, attr: str) -> int:
    try:
        return max(1, min(int(str(cell.get(attr) or 1)), 50))
    except ValueError:
        return 1


def read_grid(table: Tag) -> Grid:
    """Expand a ``<table>`` (or ARIA ``role=table``) into header, rows and group labels."""
    aria = table.name != "table"
    pending: dict[int, tuple[int, str]] = {}
    raw: list[tuple[list[str], bool, bool]] = []
    for tr in _rows(table, aria):
        cells = _cells(tr, aria)
        if not cells:
            continue
        texts: list[str] = []
        col = 0
        for cell in cells:
            while col in pending:
                texts.append(pending[col][1])
                col = _advance(pending, col)
            text = "; ".join(text_parts(cell))
            rowspan = _span(cell, "rowspan")
            for _ in range(_span(cell, "colspan")):
                if rowspan > 1:
                    pending[col] = (rowspan - 1, text)
                texts.append(text)
                col += 1
        while col in pending:
            texts.append(pending[col][1])
            col = _advance(pending, col)
        is_header = all(_is_header_cell(c) for c in cells) or tr.find_parent("thead") is not None
        label = len(cells) == 1 and _span(cells[0], "colspan") > 1
        raw.append((texts, is_header, label))
    return _grid_from(raw, table)


def _advance(pending: dict[int, tuple[int, str]], col: int) -> int:
    left, text = pending[col]
    if left <= 1:
        del pending[col]
    else:
        pending[col] = (left - 1, text)
    return col + 1


def _grid_from(raw: list[tuple[list[str], bool, bool]], table: Tag) -> Grid:
    headers: list[list[str]] = []
    title = ""
    while raw and raw[0][1]:
        texts, _, is_label = raw.pop(0)
        if is_label or len({t for t in texts if t}) <= 1:
            title = next((t for t in texts if t), title)  # a title row above the headers
        else:
            headers.append(texts)
    if not headers and raw and looks_like_header(raw[0][0]):
        headers.append(raw.pop(0)[0])
    width = max((len(r[0]) for r in raw), default=0)
    header = _merge_headers(headers, width) if headers else None
    grid = Grid(header=header, heading=title or _heading(table))
    label = ""
    for texts, is_header, is_label in raw:
        filled = [t for t in texts if t]
        if is_label or (is_header and len(set(filled)) <= 1):
            label = filled[0] if filled else ""
            continue
        if header and [norm_header(t) for t in texts] == [norm_header(h) for h in header]:
            continue
        grid.rows.append(texts)
        grid.labels.append(label)
    return grid


def _merge_headers(rows: list[list[str]], width: int) -> list[str]:
    merged: list[str] = []
    for i in range(max(width, *(len(r) for r in rows))):
        words: list[str] = []
        for row in rows:
            if i < len(row) and row[i] and row[i] not in words:
                words.append(row[i])
        merged.append(" ".join(words))
    return merged


def _heading(table: Tag) -> str:
    caption = table.find("caption")
    if isinstance(caption, Tag):
        text = " ".join(text_parts(caption))
        if text:
            return text
    heading = table.find_previous(["h1", "h2", "h3", "h4", "h5", "h6"])
    return " ".join(text_parts(heading)) if isinstance(heading, Tag) else ""


def div_grids(root: Tag) -> list[Grid]:
    """Tables built of repeated elements (CMS collection lists, div grids): a parent whose
    children share one tag and class and each hold 2–8 short cells, alike in number."""
    grids = []
    for parent in root.find_all(["div", "section", "ul", "ol"]):
        if parent.find_parent("table") is not None:
            continue
        kids = [c for c in parent.children if isinstance(c, Tag)]
        if len(kids) < 3:
            continue
        shapes = Counter((k.name, " ".join(sorted(k.get("class") or []))) for k in kids)
        shape, count = shapes.most_common(1)[0]
        if count < 3 or count < 0.8 * len(kids):
            continue
        rows = [_grid_row(k) for k in kids if (k.name, " ".join(sorted(k.get("class") or [])))
                == shape]
        if any(r is None for r in rows):
            continue
        widths = Counter(len(r) for r in rows if r is not None)
        if widths.most_common(1)[0][1] < 0.8 * len(rows):
            continue
        cells = [r for r in rows if r is not None]
        header = cells[0] if looks_like_header(cells[0]) else _header_before(parent)
        body = cells[1:] if header is cells[0] else cells
        grids.append(Grid(header=header, rows=body, labels=[""] * len(body),
                          heading=_heading(parent)))
    return grids


def _grid_row(row: Tag) -> list[str] | None:
    cells = [c for c in row.children if isinstance(c, Tag)]
    if not 2 <= len(cells) <= 8:
        return None
    texts = ["; ".join(text_parts(c)) for c in cells]
    if any(len(t.split()) > 40 for t in texts) or sum(1 for t in texts if t) < 2:
        return None
    return texts


def _header_before(parent: Tag) -> list[str] | None:
    before = parent.find_previous_sibling()
    if not isinstance(before, Tag):
        return None
    cells = [" ".join(text_parts(c)) for c in before.children if isinstance(c, Tag)]
    return cells if looks_like_header(cells) else None


def find_tables(root: Tag) -> list[Tag]:
    """``<table>`` and ARIA table elements, outermost layout tables excluded."""
    found = list(root.find_all("table"))
    found += root.find_all(True, attrs={"role": _TABLE_ROLE})
    unique = []
    for table in found:
        if table in unique or (table.name == "table" and table.find("table") is not None):
            continue
        unique.append(table)
    return unique
