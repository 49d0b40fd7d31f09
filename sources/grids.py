"""HTML tables as grids of cell texts: ``<table>``, ARIA tables and div grids (pure).

``read_grid`` expands row and column spans, takes the header from ``<thead>``, ``<th>``
rows or a first row that reads like headers, and turns full-width rows ("Infrastructure",
"AI providers") into group labels. ``div_grids`` finds tables built of repeated elements,
as CMS collection lists render them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .markup import text_parts
from .tables import looks_like_header, norm_header

if TYPE_CHECKING:  # bs4 is imported when a tree is read, not with the module
    from bs4 import Tag


@dataclass
class Grid:
    """A table's cells with spans expanded: header texts (if any), rows, row group labels."""

    header: list[str] | None
    rows: list[list[str]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    heading: str = ""


T = TypeVar("T")


class Cell(Protocol):
    """A table cell as ``expand`` reads it: a bs4 tag or an lxml element."""

    def get(self, key: str, default: Any = None) -> Any: ...


C = TypeVar("C", bound=Cell)

_TABLE_ROLE = re.compile("^(table|grid|treegrid)$")
_CELL_ROLE = re.compile(r"^(cell|gridcell|columnheader|rowheader)$")
HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]


def _cells(row: Tag, aria: bool) -> list[Tag]:
    if aria:
        return [c for c in row.find_all(True, attrs={"role": _CELL_ROLE})
                if c.find_parent(True, attrs={"role": "row"}) is row]
    return row.find_all(["td", "th"], recursive=False)


def _rows(table: Tag, aria: bool) -> list[Tag]:
    if aria:
        return [r for r in table.find_all(True, attrs={"role": "row"})
                if r.find_parent(True, attrs={"role": _TABLE_ROLE}) is table]
    return [r for r in table.find_all("tr") if r.find_parent("table") is table]


def _is_header_cell(cell: Tag) -> bool:
    return cell.name == "th" or cell.get("role") == "columnheader"


def span(value: object) -> int:
    """A ``rowspan``/``colspan`` attribute's value as a count from 1 to 50."""
    if value is None:
        return 1
    try:
        return max(1, min(int(str(value or 1)), 50))
    except ValueError:
        return 1


def read_grid(table: Tag) -> Grid:
    """Expand a ``<table>`` (or ARIA ``role=table``) into header, rows and group labels."""
    aria = table.name != "table"
    rows: list[tuple[list[Tag], bool]] = []
    for tr in _rows(table, aria):
        cells = _cells(tr, aria)
        if cells:
            rows.append((cells, all(_is_header_cell(c) for c in cells)
                         or tr.find_parent("thead") is not None))
    return grid_from(expand(rows, _cell_text), lambda: _heading(table))


def _cell_text(cell: Tag) -> str:
    return "; ".join(text_parts(cell))


def expand(rows: list[tuple[list[C], bool]], text: Callable[[C], str],
           ) -> list[tuple[list[str], bool, bool]]:
    """Rows of cells (each with whether it is a header row) as cell texts with row and
    column spans expanded: (texts, header row, full-width label row). A cell is anything
    with ``get(attribute)``: a bs4 tag or an lxml element."""
    pending: dict[int, tuple[int, str]] = {}
    raw: list[tuple[list[str], bool, bool]] = []
    for cells, is_header in rows:
        texts: list[str] = []
        col = 0
        for cell in cells:
            while col in pending:
                texts.append(pending[col][1])
                col = _advance(pending, col)
            value = text(cell)
            rowspan = span(cell.get("rowspan"))
            for _ in range(span(cell.get("colspan"))):
                if rowspan > 1:
                    pending[col] = (rowspan - 1, value)
                texts.append(value)
                col += 1
        while col in pending:
            texts.append(pending[col][1])
            col = _advance(pending, col)
        label = len(cells) == 1 and span(cells[0].get("colspan")) > 1
        raw.append((texts, is_header, label))
    return raw


def _advance(pending: dict[int, tuple[int, str]], col: int) -> int:
    left, text = pending[col]
    if left <= 1:
        del pending[col]
    else:
        pending[col] = (left - 1, text)
    return col + 1


def grid_from(raw: list[tuple[list[str], bool, bool]], heading: Callable[[], str]) -> Grid:
    """A grid from its rows as read: (cell texts, a header row, a full-width label row).
    ``heading`` gives the table's caption or heading when no title row names it."""
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
    grid = Grid(header=header, heading=title or heading())
    label = ""
    repeated = [norm_header(h) for h in header] if header else None
    for texts, is_header, is_label in raw:
        filled = [t for t in texts if t]
        if is_label or (is_header and len(set(filled)) <= 1):
            label = filled[0] if filled else ""
            continue
        if repeated and len(texts) == len(repeated) and all(
                norm_header(t) == h for t, h in zip(texts, repeated, strict=True)):
            continue  # the header row again
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
    from bs4 import Tag

    caption = table.find("caption")
    if isinstance(caption, Tag):
        text = " ".join(text_parts(caption))
        if text:
            return text
    heading = table.find_previous(HEADINGS)
    return " ".join(text_parts(heading)) if isinstance(heading, Tag) else ""


def div_grids(root: Tag) -> list[Grid]:
    """Tables built of repeated elements (CMS collection lists, div grids): a parent whose
    children share one tag and class and each hold 2–8 short cells, alike in number."""
    from bs4 import Tag

    grids = []
    for parent in root.find_all(["div", "section", "ul", "ol"]):
        if parent.find_parent("table") is not None:
            continue
        kids = [c for c in parent.children if isinstance(c, Tag)]
        grid = div_grid(parent, kids, _shape, _grid_row, _header_before, _heading)
        if grid is not None:
            grids.append(grid)
    return grids


def _shape(kid: Tag) -> tuple[str, str]:
    return kid.name, " ".join(sorted(kid.get("class") or []))


def div_grid(parent: T, kids: list[T], shape: Callable[[T], tuple[str, str]],
             row: Callable[[T], list[str] | None],
             header_before: Callable[[T], list[str] | None], heading: Callable[[T], str],
             ) -> Grid | None:
    """The grid of a parent whose element children ``kids`` read as one. ``shape`` gives a
    child's (tag, sorted classes), ``row`` its cells (``grid_row``); ``header_before`` and
    ``heading`` read the header row before the parent and the heading above it."""
    if len(kids) < 3:
        return None
    shapes = [shape(k) for k in kids]
    common, count = Counter(shapes).most_common(1)[0]
    if count < 3 or count < 0.8 * len(kids):
        return None
    rows = [row(k) for k, s in zip(kids, shapes, strict=True) if s == common]
    if any(r is None for r in rows):
        return None
    widths = Counter(len(r) for r in rows if r is not None)
    if widths.most_common(1)[0][1] < 0.8 * len(rows):
        return None
    cells = [r for r in rows if r is not None]
    header = cells[0] if looks_like_header(cells[0]) else header_before(parent)
    body = cells[1:] if header is cells[0] else cells
    return Grid(header=header, rows=body, labels=[""] * len(body), heading=heading(parent))


def _grid_row(row: Tag) -> list[str] | None:
    from bs4 import Tag

    return grid_row([c for c in row.children if isinstance(c, Tag)], text_parts)


def grid_row(cells: list[T], parts: Callable[[T], list[str]]) -> list[str] | None:
    """The cell texts of one repeated element of a div grid (its element children, read
    by ``parts``), or None when it does not read as a row."""
    if not 2 <= len(cells) <= 8:
        return None
    texts = ["; ".join(parts(c)) for c in cells]
    if any(len(t.split()) > 40 for t in texts) or sum(1 for t in texts if t) < 2:
        return None
    return texts


def _header_before(parent: Tag) -> list[str] | None:
    from bs4 import Tag

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
