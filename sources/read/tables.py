"""HTML tables as grids of cell texts: ``<table>``, ARIA tables and grids of divs.

``read_grid`` expands row and column spans, takes the header from ``<thead>``, ``<th>``
rows or a first row that the caller's ``is_header`` recognises, and turns full-width
rows ("Infrastructure", "AI providers") into group labels. ``div_grids`` finds tables
built of repeated elements, as CMS collection lists render them. What the columns mean
is the caller's business.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .html import HEADINGS, elements, nearest, text_parts
from .text import clean_text

HeaderTest = Callable[[list[str]], bool]


@dataclass
class Grid:
    """A table's cells with spans expanded: header texts (if any), rows, row group labels,
    and the caption or heading it stands under."""

    header: list[str] | None
    rows: list[list[str]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    heading: str = ""


_TABLE_ROLE = re.compile("^(table|grid|treegrid)$")
_CELL_ROLE = re.compile(r"^(cell|gridcell|columnheader|rowheader)$")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_PLURAL = re.compile(r"\(s\)")
_JOINERS = re.compile(r"[-_/]")
_PUNCT = re.compile(r"[^\w\s#]")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=4096)
def norm_header(text: str) -> str:
    """Lower-case words of a header (or a camelCase / snake_case JSON key)."""
    # Cached: a table's header texts come back with every row and every table.
    text = _CAMEL.sub(" ", clean_text(text))
    text = _PLURAL.sub("s", text.casefold())
    text = _JOINERS.sub(" ", text)
    return _SPACES.sub(" ", _PUNCT.sub(" ", text)).strip()


def span(value: object) -> int:
    """A ``rowspan``/``colspan`` attribute's value as a count from 1 to 50."""
    if value is None:
        return 1
    try:
        return max(1, min(int(str(value or 1)), 50))
    except ValueError:
        return 1


def _role(el: Any, rx: re.Pattern[str]) -> bool:
    role = el.get("role")
    return role is not None and rx.search(role) is not None


def _nearest(el: Any, test: Callable[[Any], bool]) -> Any | None:
    return next((a for a in el.iterancestors() if test(a)), None)


def _is_table(el: Any) -> bool:
    return _role(el, _TABLE_ROLE)


def _is_row(el: Any) -> bool:
    return el.get("role") == "row"


def _rows(table: Any, aria: bool) -> list[Any]:
    if aria:
        return [r for r in table.iterdescendants() if isinstance(r.tag, str) and _is_row(r)
                and _nearest(r, _is_table) is table]
    return [r for r in table.iterdescendants("tr") if nearest(r, "table") is table]


def _cells(row: Any, aria: bool) -> list[Any]:
    if aria:
        return [c for c in row.iterdescendants() if isinstance(c.tag, str)
                and _role(c, _CELL_ROLE) and _nearest(c, _is_row) is row]
    return [c for c in row if c.tag in ("td", "th")]


def _cell_text(cell: Any) -> str:
    return "; ".join(text_parts(cell))


def read_grid(table: Any, is_header: HeaderTest, before: Any = ...) -> Grid:
    """A ``<table>`` (or ARIA ``role=table``) as header, rows and group labels; ``before``
    is the heading before it when the caller has it (see ``headings_before``)."""
    if before is ...:
        before = headings_before([table])[0]
    aria = table.tag != "table"
    rows: list[tuple[list[Any], bool]] = []
    for tr in _rows(table, aria):
        cells = _cells(tr, aria)
        if cells:
            rows.append((cells, all(c.tag == "th" or c.get("role") == "columnheader"
                                    for c in cells)
                         or nearest(tr, "thead") is not None))
    return _grid_from(_expand(rows), is_header, lambda: _heading(table, before))


def _expand(rows: list[tuple[list[Any], bool]]) -> list[tuple[list[str], bool, bool]]:
    """Rows of cells (each with whether it is a header row) as cell texts with row and
    column spans expanded: (texts, header row, full-width label row)."""
    pending: dict[int, tuple[int, str]] = {}
    raw: list[tuple[list[str], bool, bool]] = []
    for cells, is_header in rows:
        texts: list[str] = []
        col = 0
        for cell in cells:
            while col in pending:
                texts.append(pending[col][1])
                col = _advance(pending, col)
            value = _cell_text(cell)
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


def _grid_from(raw: list[tuple[list[str], bool, bool]], is_header: HeaderTest,
               heading: Callable[[], str]) -> Grid:
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
    if not headers and raw and is_header(raw[0][0]):
        headers.append(raw.pop(0)[0])
    width = max((len(r[0]) for r in raw), default=0)
    header = _merge_headers(headers, width) if headers else None
    grid = Grid(header=header, heading=title or heading())
    label = ""
    repeated = [norm_header(h) for h in header] if header else None
    for texts, header_row, is_label in raw:
        filled = [t for t in texts if t]
        if is_label or (header_row and len(set(filled)) <= 1):
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


def _heading(el: Any, before: Any | None) -> str:
    """The caption inside the table, else the heading before it (``before``)."""
    caption = next(el.iterdescendants("caption"), None)
    if caption is not None:
        text = " ".join(text_parts(caption))
        if text:
            return text
    return " ".join(text_parts(before)) if before is not None else ""


def headings_before(targets: list[Any]) -> list[Any | None]:
    """For each element, the last heading that starts before it in its document (an
    enclosing heading counts)."""
    return elements_before(targets, HEADINGS)


def elements_before(targets: list[Any], tags: tuple[str, ...]) -> list[Any | None]:
    """For each element, the last element named ``tags`` that starts before it in its
    document (an ancestor counts), found in one walk of the document for all of them:
    asking for each element on its own walks the document once per element."""
    wanted: dict[int, list[int]] = {}
    for i, el in enumerate(targets):
        wanted.setdefault(id(el), []).append(i)
    names = frozenset(tags)
    out: list[Any | None] = [None] * len(targets)
    done: set[int] = set()
    for el in targets:
        root = el.getroottree().getroot()
        if id(root) in done:
            continue
        done.add(id(root))
        last = None
        for node in root.iter():
            for i in wanted.get(id(node), ()):
                out[i] = last
            if node.tag in names:
                last = node
    return out


def find_tables(root: Any) -> list[Any]:
    """``<table>`` and ARIA table elements, outermost layout tables excluded."""
    found = list(root.iterdescendants("table"))
    found += [el for el in root.iterdescendants() if isinstance(el.tag, str) and _is_table(el)]
    unique: list[Any] = []
    seen: set[int] = set()
    for table in found:
        if id(table) in seen:
            continue
        seen.add(id(table))
        if table.tag == "table" and next(table.iterdescendants("table"), None) is not None:
            continue
        unique.append(table)
    return unique


def _shape(kid: Any) -> tuple[str, str]:
    return kid.tag, " ".join(sorted((kid.get("class") or "").split()))


def _unwrapped(el: Any, depth: int = 3) -> Any:
    """An element seen through its wrappers: while it holds one element and no text of
    its own, that element (``<div class="w-dyn-item"><div class="row">…``)."""
    for _ in range(depth):
        kids = elements(el)
        if len(kids) != 1 or (el.text or "").strip() or (kids[0].tail or "").strip():
            break
        el = kids[0]
    return el


def _grid_row(row: Any) -> list[str] | None:
    """The cell texts of one repeated element of a div grid (its element children, seen
    through wrappers), or None when it does not read as a row."""
    cells = elements(_unwrapped(row))
    if not 2 <= len(cells) <= 8 or any(c.tag in ("ul", "ol", "dl", "table") for c in cells):
        return None  # a list item with a list in it is a record with details, not a row
    texts = ["; ".join(text_parts(c)) for c in cells]
    if any(len(t.split()) > 40 for t in texts) or sum(1 for t in texts if t) < 2:
        return None
    return texts


def _header_before(parent: Any, is_header: HeaderTest) -> list[str] | None:
    """The header row just before a grid's parent, or before the wrappers around it (a
    CMS list's ``<div class="w-dyn-list">``)."""
    for _ in range(3):
        before = next((s for s in parent.itersiblings(preceding=True)
                       if isinstance(s.tag, str)), None)
        if before is not None:
            cells = [" ".join(text_parts(c)) for c in elements(_unwrapped(before))]
            return cells if is_header(cells) else None
        up = parent.getparent()
        if up is None or len(elements(up)) != 1 or (up.text or "").strip():
            return None
        parent = up
    return None


def div_grids(root: Any, is_header: HeaderTest) -> list[Grid]:
    """Tables built of repeated elements (CMS collection lists, div grids): a parent whose
    children share one tag and class and each hold 2–8 short cells, alike in number.

    One walk of the tree that does not enter tables (asking each element for a table
    among its ancestors made 16,000 nested divs quadratic)."""
    found: list[tuple[Any, Grid]] = []
    stack = [c for c in reversed(elements(root)) if c.tag != "table"]
    while stack:
        parent = stack.pop()
        kids = elements(parent)
        if parent.tag in ("div", "section", "ul", "ol"):
            grid = _div_grid(parent, kids, is_header)
            if grid is not None:
                found.append((parent, grid))
        stack.extend(k for k in reversed(kids) if k.tag != "table")
    for (parent, grid), before in zip(found, headings_before([p for p, _ in found]),
                                      strict=True):
        grid.heading = _heading(parent, before)
    return [grid for _, grid in found]


def _div_grid(parent: Any, kids: list[Any], is_header: HeaderTest) -> Grid | None:
    if len(kids) < 3:
        return None
    shapes = [_shape(k) for k in kids]
    common, count = Counter(shapes).most_common(1)[0]
    if count < 3 or count < 0.8 * len(kids):
        return None
    rows = [_grid_row(k) for k, s in zip(kids, shapes, strict=True) if s == common]
    if any(r is None for r in rows):
        return None
    widths = Counter(len(r) for r in rows if r is not None)
    if widths.most_common(1)[0][1] < 0.8 * len(rows):
        return None
    cells = [r for r in rows if r is not None]
    header = cells[0] if is_header(cells[0]) else _header_before(parent, is_header)
    body = cells[1:] if header is cells[0] else cells
    return Grid(header=header, rows=body, labels=[""] * len(body))


def page_grids(roots: list[Any], is_header: HeaderTest) -> list[tuple[Grid, bool]]:
    """Every grid under ``roots``, each with whether it is a real table (``<table>`` or
    ARIA) rather than a grid of divs."""
    tables = [t for r in roots for t in find_tables(r)]
    befores = headings_before(tables)
    grids = [(read_grid(t, is_header, before), True) for t, before in zip(tables, befores,
                                                                             strict=True)]
    return grids + [(g, False) for r in roots for g in div_grids(r, is_header)]
