"""lxml version of the subprocessors kind's reading of a page's tables: the very same grids.

``subprocessors.html_records`` parses a page with bs4 (``feeds.quiet_soup``), strips it
(``markup.content_root``) and reads its tables and div grids (``grids``); on a 40 KB
trust page, building and searching bs4's tree is most of the parse (~9 ms of the page's
10). ``page_grids`` does the same steps, in the same order, on libxml2's own tree:

* the tree is the one bs4 builds: the bytes bs4 feeds (a byte-order mark stripped), in
  the encoding bs4 settles on (BOM, ``<?xml encoding>`` or ``<meta charset>``, the
  installed charset detector, utf-8, windows-1252; ``encoding`` mirrors
  ``bs4.dammit.EncodingDetector``), fed at once to the same libxml2 HTML parser;
* ``formats.strip_noise`` and ``markup.strip_chrome``, then the ``<main>`` or ``<body>``
  that ``markup.content_root`` picks; removing an element keeps the text after it;
* ``markup.text_parts`` for cell texts and headings, ``grids.find_tables``, ``read_grid``
  (rows and cells, header rows, spans) and ``div_grids``; the decisions on the texts
  are ``grids``' own functions (``expand``, ``grid_from``, ``div_grid``, ``grid_row``).

Two differences between the trees never show: bs4 keeps a string of ASCII whitespace as
one space or newline, and libxml2's tree gives HTML 4's boolean attributes written
without a value (``defer``, ``checked``…) their name as value. Every text read here goes
through ``clean_text`` (or a footnote pattern) to which whitespace is whitespace, and
none of those attributes is read.

It declines (``None``) what it does not reproduce exactly: a ``select`` option (CSS), no
``<body>`` left, ``<rt>``/``<rp>`` (bs4 keeps their text out of ``get_text`` only), a
page whose ``<html>`` element goes (hidden, or chrome by its class), two tables bs4
would take for one (it compares tables by content), a parser error. ``ENABLED`` off
(``REASSESS_NO_FASTPATH=1``) sends every page to bs4. ``tests/test_fasttable.py``
compares the records with bs4's over the file cases, the simulated vendor site and
hostile markup, and fingerprints the code mirrored here.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from lxml import etree

from .fasthtml import drop, hidden
from .formats import NOISE_TAGS
from .grids import _CELL_ROLE, _TABLE_ROLE, HEADINGS, Grid, div_grid, expand, grid_from, grid_row
from .markup import (
    _BLOCKS,
    _CHROME_ATTR,
    _CHROME_ROLES,
    _FOOTNOTE_SUP,
    _MDX_COMMENT,
    _SEP,
    _strip_mdx,
    clean_text,
    markdown_html,
)
from .tables import looks_like_header

# Off: every page takes the bs4 path (``REASSESS_NO_FASTPATH=1``, or tests).
ENABLED = os.environ.get("REASSESS_NO_FASTPATH", "") in ("", "0")


class _Unsure(Exception):
    """Markup whose bs4 reading this module does not reproduce: bs4 reads it."""


# --- the tree bs4 builds ---------------------------------------------------------------

# bs4.dammit's patterns for a declared encoding (xml_encoding, html_meta).
_XML_ENCODING = re.compile(rb"^\s*<\?.*encoding=['\"](.*?)['\"].*\?>", re.I)
_HTML_META = re.compile(rb"<\s*meta[^>]+charset\s*=\s*[\"']?([^>]*?)[ /;'\">]", re.I)


def _strip_bom(data: bytes) -> tuple[bytes, str | None]:
    """``EncodingDetector.strip_byte_order_mark``."""
    if len(data) >= 4 and data[:2] == b"\xfe\xff" and data[2:4] != b"\x00\x00":
        return data[2:], "utf-16be"
    if len(data) >= 4 and data[:2] == b"\xff\xfe" and data[2:4] != b"\x00\x00":
        return data[2:], "utf-16le"
    if data[:3] == b"\xef\xbb\xbf":
        return data[3:], "utf-8"
    if data[:4] == b"\x00\x00\xfe\xff":
        return data[4:], "utf-32be"
    if data[:4] == b"\xff\xfe\x00\x00":
        return data[4:], "utf-32le"
    return data, None


def _declared(markup: bytes) -> str | None:
    """``EncodingDetector.find_declared_encoding(markup, is_html=True)``."""
    match = _XML_ENCODING.search(markup, 0, 1024)
    if not match:
        match = _HTML_META.search(markup, 0, max(2048, int(len(markup) * 0.05)))
    found = match.groups()[0] if match is not None else None
    return found.decode("ascii", "replace").lower() if found else None


@cache
def _detector() -> Any | None:
    """The character set detector bs4 uses: cchardet, chardet or charset-normalizer."""
    for name in ("cchardet", "chardet", "charset_normalizer"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def encodings(markup: bytes, sniffed: str | None) -> Iterator[str]:
    """The encodings bs4 tries, in order (``EncodingDetector.encodings``), for a body
    without its byte-order mark; the first one lxml accepts is the document's."""
    tried: set[str] = set()

    def usable(encoding: str) -> bool:
        if encoding.lower() in tried:
            return False
        tried.add(encoding.lower())
        return True

    if sniffed is not None and usable(sniffed):
        yield sniffed
    declared = _declared(markup)
    if declared is not None and usable(declared):
        yield declared
    detector = _detector()
    guess: str | None = detector.detect(markup)["encoding"] if detector is not None else None
    if guess is not None and usable(guess):
        yield guess
    for encoding in ("utf-8", "windows-1252"):
        if usable(encoding):
            yield encoding


def parse_bytes(body: bytes) -> Any | None:
    """libxml2's tree of a body, as ``BeautifulSoup(body, "lxml")`` builds it; None when
    lxml would not take it as bs4 does."""
    markup, sniffed = _strip_bom(body)
    for encoding in encodings(markup, sniffed):
        try:
            parser = etree.HTMLParser(recover=True, encoding=encoding)
        except LookupError:
            continue  # bs4 tries the next encoding
        return _feed(parser, markup)
    return None


def parse_text(markup: str) -> Any | None:
    """libxml2's tree of a text, as ``BeautifulSoup(markup, "lxml")`` builds it."""
    if markup[:1] == "\ufeff":
        markup = markup[1:]
    return _feed(etree.HTMLParser(recover=True), markup)


def _feed(parser: Any, markup: bytes | str) -> Any | None:
    try:
        parser.feed(markup)  # bs4's lxml HTML builder feeds the whole markup at once
        return parser.close()
    except (etree.LxmlError, UnicodeDecodeError, LookupError):
        return None


def markdown_page(text: str) -> str:
    """The HTML page ``markup.markdown_soup`` parses for a Markdown or MDX text."""
    text = _strip_mdx(_MDX_COMMENT.sub("", text))
    return "<html><body>" + markdown_html(text, strikethrough=False) + "</body></html>"


# --- markup.content_root ---------------------------------------------------------------


def content_root(root: Any) -> list[Any]:
    """``markup.content_root(doc, None)`` on the tree: noise, then chrome, go; the main
    content (or the body) is what is read."""
    if next(root.iter("rt", "rp"), None) is not None or hidden(root):
        raise _Unsure
    _strip_noise(root)
    _strip_chrome(root)
    main = next(root.iter("main"), None)
    if main is None:
        main = next((el for el in root.iter() if isinstance(el.tag, str)
                     and el.get("role") == "main"), None)
    if main is not None and next(main.iterdescendants("h1", "h2", "h3", "table", "ul", "dl",
                                                       "p"), None) is not None:
        return [main]
    body = next(root.iter("body"), None)
    if body is None:
        raise _Unsure  # bs4 reads the whole document
    return [body]


# Only elements with these attributes can be hidden, or chrome by their role, id or class.
_MAYBE_HIDDEN = etree.XPath("descendant-or-self::*[@hidden or @aria-hidden or @style]")
_MAYBE_CHROME = etree.XPath("descendant-or-self::*[@role or @id or @class]")


def _strip_noise(root: Any) -> None:
    """``formats.strip_noise``: comments, noise tags, then hidden elements."""
    for node in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
        drop(node)
    for node in list(root.iter(*NOISE_TAGS)):
        drop(node)
    for node in [n for n in _MAYBE_HIDDEN(root) if hidden(n)]:
        drop(node)


def _attr_text(el: Any) -> str:
    """``markup._attr_text``: the id and the classes, one space apart."""
    return " ".join([el.get("id") or "", *(el.get("class") or "").split()])


def _strip_chrome(root: Any) -> None:
    """``markup.strip_chrome``."""
    for el in list(root.iter("nav", "footer")):
        drop(el)
    for el in list(root.iter("header", "aside")):
        if next(el.iterancestors("main", "article"), None) is None:
            drop(el)
    chrome = [el for el in _MAYBE_CHROME(root)
              if el.get("role") in _CHROME_ROLES or _CHROME_ATTR.search(_attr_text(el))]
    marked = set(chrome)
    if root in marked:
        raise _Unsure  # bs4 takes the whole page away
    for el in chrome:
        if not any(a in marked for a in el.iterancestors()):
            drop(el)
    for el in list(root.iter("img", "picture", "video", "audio", "source")):
        drop(el)


# --- markup.text_parts -----------------------------------------------------------------


def text_parts(el: Any) -> list[str]:
    """``markup.text_parts``: the text split at line breaks and blocks, each part clean,
    footnote superscripts left out."""
    out: list[str] = []
    _pieces(el, out)
    # clean_text makes a part of only whitespace empty: such parts are skipped before
    parts = (clean_text(p) for p in "".join(out).split(_SEP) if p and not p.isspace())
    return [p for p in parts if p]


def _pieces(node: Any, out: list[str]) -> None:
    if node.text:
        out.append(node.text)
    for child in node:
        tag = child.tag
        if isinstance(tag, str):  # not a comment: its text is not the page's
            if tag == "br":
                out.append(_SEP)
            elif tag == "sup" and _FOOTNOTE_SUP.match("".join(child.itertext())):
                pass
            elif tag in _BLOCKS:
                out.append(_SEP)
                _pieces(child, out)
                out.append(_SEP)
            else:
                _pieces(child, out)
        if child.tail:
            out.append(child.tail)


# --- grids -----------------------------------------------------------------------------

_BEFORE = etree.XPath("(ancestor::*[{0}] | preceding::*[{0}])[last()]".format(
    " or ".join(f"self::{h}" for h in HEADINGS)))


def _heading(el: Any) -> str:
    """``grids._heading``: the caption inside, else the last heading before."""
    caption = next(el.iterdescendants("caption"), None)
    if caption is not None:
        text = " ".join(text_parts(caption))
        if text:
            return text
    before = _BEFORE(el)
    return " ".join(text_parts(before[0])) if before else ""


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
    return [r for r in table.iterdescendants("tr") if next(r.iterancestors("table")) is table]


def _cells(row: Any, aria: bool) -> list[Any]:
    if aria:
        return [c for c in row.iterdescendants() if isinstance(c.tag, str)
                and _role(c, _CELL_ROLE) and _nearest(c, _is_row) is row]
    return [c for c in row if c.tag in ("td", "th")]


def _cell_text(cell: Any) -> str:
    return "; ".join(text_parts(cell))


def read_grid(table: Any) -> Grid:
    """``grids.read_grid``."""
    aria = table.tag != "table"
    rows: list[tuple[list[Any], bool]] = []
    for tr in _rows(table, aria):
        cells = _cells(tr, aria)
        if cells:
            rows.append((cells, all(c.tag == "th" or c.get("role") == "columnheader"
                                    for c in cells)
                         or next(tr.iterancestors("thead"), None) is not None))
    return grid_from(expand(rows, _cell_text), lambda: _heading(table))


def _likeness(el: Any) -> tuple[Any, ...]:
    """What two elements bs4 finds equal (same name, attributes and contents) share."""
    attrs = sorted((k, " ".join(v.split())) for k, v in el.attrib.items())
    return el.tag, attrs, [d.tag for d in el.iterdescendants()], "".join(el.itertext())


def find_tables(root: Any) -> list[Any]:
    """``grids.find_tables``. bs4's ``table in unique`` compares contents: two tables
    alike enough to be equal there are left to bs4."""
    found = list(root.iterdescendants("table"))
    found += [el for el in root.iterdescendants() if isinstance(el.tag, str) and _is_table(el)]
    unique: list[Any] = []
    for table in found:
        if any(table is u for u in unique):
            continue
        if unique:
            like = _likeness(table)
            if any(like == _likeness(u) for u in unique):
                raise _Unsure
        if table.tag == "table" and next(table.iterdescendants("table"), None) is not None:
            continue
        unique.append(table)
    return unique


def _shape(kid: Any) -> tuple[str, str]:
    return kid.tag, " ".join(sorted((kid.get("class") or "").split()))


def _elements(el: Any) -> list[Any]:
    return [c for c in el if isinstance(c.tag, str)]


def _grid_row(row: Any) -> list[str] | None:
    return grid_row(_elements(row), text_parts)


def _header_before(parent: Any) -> list[str] | None:
    before = next((s for s in parent.itersiblings(preceding=True) if isinstance(s.tag, str)),
                  None)
    if before is None:
        return None
    cells = [" ".join(text_parts(c)) for c in _elements(before)]
    return cells if looks_like_header(cells) else None


def div_grids(root: Any) -> list[Grid]:
    """``grids.div_grids``."""
    grids = []
    for parent in root.iterdescendants("div", "section", "ul", "ol"):
        if next(parent.iterancestors("table"), None) is not None:
            continue
        grid = div_grid(parent, _elements(parent), _shape, _grid_row, _header_before, _heading)
        if grid is not None:
            grids.append(grid)
    return grids


def page_grids(root: Any | None) -> list[tuple[Grid, bool]] | None:
    """The grids ``subprocessors._table_records`` reads on the page (each with whether it
    is a real table), from the tree ``parse_bytes``/``parse_text`` built; None to leave
    the page to bs4."""
    if root is None:
        return None
    try:
        roots = content_root(root)
        grids = [(read_grid(t), True) for r in roots for t in find_tables(r)]
        grids += [(g, False) for r in roots for g in div_grids(r)]
    except _Unsure:
        return None
    return grids
