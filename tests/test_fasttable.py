"""The lxml reading of subprocessor pages (``sources/fasttable.py``) is invisible: the
subprocessors kind gives the same documents with it on and off, and where it reads a page
it builds bs4's tree, picks bs4's encoding and finds bs4's grids, over every
subprocessors file case, the simulated vendor site's subprocessor pages (as generated and
after rounds of changes) and hostile table markup. When the code it mirrors changes, the
fingerprint test says so.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup, Comment, Doctype, Tag
from site_docs import site_documents

from sources import fasttable, feeds, formats, grids, markup, subprocessors
from sources.grids import Grid

CASES = Path(__file__).parent / "cases" / "subprocessors"
SITE_VENDORS = 8
SITE_ROUNDS = 5
SITE_DOCS = ("subprocessors", "subprocessors.md")

ROWS = "".join(f"<tr><td>Vendor {n} Inc.</td><td>Hosting {n}</td><td>Germany</td></tr>"
               for n in range(6))
HEAD = "<tr><th>Subprocessor</th><th>Purpose</th><th>Location</th></tr>"


def _page(main: str, *, before: str = "", html: str = "<html lang='en'>") -> str:
    return (f"<!DOCTYPE html>{html}<head><meta charset='utf-8'><title>t</title></head><body>"
            f"<nav class='site-nav'><ul><li>Home</li><li>Trust</li><li>Docs</li></ul></nav>"
            f"{before}<main><h1>Subprocessors</h1>{main}</main>"
            f"<footer><table><tr><td>a</td><td>b</td></tr></table></footer></body></html>")


def _table(body: str, head: str = HEAD, attrs: str = "") -> str:
    return f"<table{attrs}><thead>{head}</thead><tbody>{body}</tbody></table>"


HOSTILE_MAIN = [
    _table(ROWS),
    _table(ROWS, head=""),  # headerless, countries in a column
    _table(ROWS + "<tr><td colspan='3'>AI providers</td></tr>" + ROWS.replace("Vendor", "Model")),
    _table(ROWS.replace("<td>Germany</td>", "<td rowspan='2'>EU</td>", 2)),
    _table(ROWS.replace("<td>Hosting 1</td>", "<td colspan='2'>Hosting wide</td>")
           .replace("<td>Hosting 2</td>", "<td colspan='x'>odd span</td>")
           .replace("<td>Hosting 3</td>", "<td rowspan='99' colspan=' 2 '>huge</td>")),
    _table(ROWS.replace("<tr><td>Vendor 2", "<tr hidden><td>Vendor 2")
           .replace("<tr><td>Vendor 3", "<tr style='display: none'><td>Vendor 3")
           .replace("<tr><td>Vendor 4", "<tr aria-hidden='true'><td>Vendor 4")),
    _table(ROWS.replace("<td>Vendor 1 Inc.</td>", "<th>Vendor 1 Inc.</th>")
           .replace("<tr><td>Vendor 2 Inc.</td><td>Hosting 2</td><td>Germany</td>",
                    "<tr><th>Vendor 2 Inc.</th><th>Hosting 2</th><th>Germany</th>")),
    _table(ROWS.replace("<td>Germany</td></tr>", "</tr>", 3) + "<tr><td>Lone</td></tr>"),
    _table(ROWS.replace("Hosting 1", "Hosting<script>var x = '<td>no</td>';</script> 1")
           .replace("Hosting 2", "Hosting <style>td{}</style>2<!-- a comment -->!")
           .replace("Hosting 3", "Hosting<noscript>js</noscript> 3<template><b>t</b></template>")),
    _table(ROWS.replace("Vendor 1 Inc.", "Société Générale &amp; Cie &nbsp;SA")
           .replace("Vendor 2 Inc.", "Zürich&#160;Versicherung&#x2019;s AG¹")
           .replace("Vendor 3 Inc.", "Acme<sup>1</sup> Corp<sup>[a]</sup><sup>note</sup>")
           .replace("Hosting 4", "Line one<br>Line two<br/><p>block</p>tail")
           .replace("Germany", "\u00a0United\u00a0States\u200b", 2)),
    _table(ROWS, attrs=" class='cookie-table'"),  # chrome by its class
    "<section id='x'><table><tr><td><table>" + HEAD + ROWS + "</table></td></tr></table></section>",
    _table(ROWS) + _table(ROWS),  # two tables bs4 finds equal
    _table(ROWS) + _table(ROWS.replace("Vendor", "Other")),
    "<table><caption>Infrastructure <b>vendors</b></caption>" + HEAD + ROWS + "</table>",
    "<h2>Ignored</h2><div><h3>Hosting <span>partners</span></h3></div>" + _table(ROWS),
    "<div role='table'><div role='row'><span role='columnheader'>Vendor</span><span "
    "role='columnheader'>Purpose</span><span role='columnheader'>Country</span></div>"
    + "".join(f"<div role='row'><span role='cell'>Firm {n}</span><span role='cell'>Email {n}"
              f"</span><span role='gridcell'>France</span></div>" for n in range(6)) + "</div>",
    "<table role='table'>" + HEAD + ROWS + "</table>",
    "<table role='grid'><tr role='row'><td role='cell'>a</td></tr>" + ROWS + "</table>",
    "<div class='heads'><span>Provider</span><span>Purpose</span><span>Location</span></div>"
    "<div class='list'>" + "".join(
        f"<div class='item row'><span>Firm {n}</span><span>Email</span><span>Japan</span></div>"
        for n in range(7)) + "<p>odd one</p></div>",
    "<ul>" + "".join(f"<li class='r'><b>Firm {n}</b><i>CRM</i><em>US</em></li>"
                     for n in range(6)) + "</ul>" + _table(ROWS),
    _table(ROWS.replace("<tr>", "<tr>\n  ").replace("</td>", "</td>\n")),
    _table(ROWS, head="<tr><th colspan='3'>Our subprocessors</th></tr>" + HEAD),
    _table(ROWS, head="<tr><th>Name</th><th colspan='2'>Details</th></tr>"
                      "<tr><th></th><th>Purpose</th><th>Location</th></tr>"),
    _table(HEAD + ROWS, head=""),  # header row repeated in the body
    "<article><header><h2>Kept header</h2></header><aside>meta</aside>" + _table(ROWS)
    + "</article><header>dropped</header>",
    "<div class='breadcrumb'>" + _table(ROWS) + "</div>" + _table(ROWS.replace("Vendor", "X")),
    "<p>Ruby <ruby>漢<rt>kan</rt></ruby></p>" + _table(ROWS),
    _table(ROWS.replace("<td>Hosting 0</td>", "<td><img src=x alt=i>Hosting<picture>"
                                              "<source srcset=y><img></picture> 0</td>")),
    _table("<tr><td>Only</td><td>Two</td><td>Rows</td></tr>"),  # too few: bs4 decides
    "<p>Please sign in to continue.</p>",
    "<dl><dt>Acme</dt><dd>Purpose: CRM</dd><dt>Beta</dt><dd>Location: US</dd></dl>",
    _table(ROWS, head="<tr><th>Cookie</th><th>Duration</th><th>Purpose</th></tr>"),
    "<table>" + ROWS + "<tr><td>unclosed <b>bold<td>next" + "</table>",
    "<form><table>" + HEAD + ROWS + "</table></form>" + _table(ROWS),
    "<div hidden>" + _table(ROWS) + "</div>" + _table(ROWS.replace("Vendor", "Seen")),
    "<svg><table>" + HEAD + "</table></svg>" + _table(ROWS) + "<math><mi>x</mi></math>",
    "<?php echo 1; ?><![CDATA[x]]>" + _table(ROWS),
    "<p><table>" + HEAD + ROWS + "</table></p>",
    "<tr><td>stray</td><td>row</td></tr><td>cell</td>" + _table(ROWS),
    "<table><tbody>" + ROWS + "</tbody><thead>" + HEAD + "</thead></table>",
    "<table>" + HEAD + "<tbody>" + ROWS[:150] + "</tbody><tbody>" + ROWS[150:] + "</tbody></table>",
    _table(ROWS.replace("<tr><td>", "<tr><th scope='row'>").replace("Inc.</td>", "Inc.</th>")),
    "<h2><table>" + HEAD + ROWS + "</table></h2>",
    "<h3>Above</h3><table><caption> <br> </caption>" + HEAD + ROWS + "</table>",
    _table(ROWS.replace("<td>Hosting 1</td>", "<td>&nbsp;</td>")
           .replace("<td>Hosting 2</td>", "<td> <br> \u3000</td>")
           .replace("<td>Hosting 3</td>", "<td>&amp;nbsp; \u2028 x</td>")
           .replace("<td>Germany</td>", "<td>\n\t</td>", 1)),
    _table(ROWS) + _table(ROWS.replace("Vendor", "Headless"), head=""),
    "<div class='heads'><b>Vendor</b><b>Purpose</b><b>Country</b></div><!-- gap -->"
    "<div class='list'>" + "".join(
        f"<p class='r'><span>F{n}</span><span>Ads <ul><li>a</li></ul></span><span>US</span></p>"
        for n in range(5)) + "</div>",
    "<ul><li>" + _table(ROWS) + "</li></ul>",
    "<table><tr><td><div role='table'><div role='rowgroup'><div role='row'><span "
    "role='columnheader'>Vendor</span><span role='columnheader'>Location</span></div>"
    + "".join(f"<div role='row'><span role='rowheader'>Firm {n}</span><b role='cell'>Spain"
              f"</b></div>" for n in range(6)) + "</div></div></td></tr></table>",
    _table(ROWS) + "</main><main><h2>Second main</h2>" + _table(ROWS.replace("Vendor", "M")),
    _table(ROWS, head="<tr><td><b>Company</b></td><td><b>Service</b></td><td>Region</td></tr>"),
    _table(ROWS.replace("Inc.</td>", "Inc.<sup> 1 </sup></td>", 2)
           .replace("Hosting 3", "Hosting<sup>\n<a>2</a>,\n<a>3</a>\n</sup>")
           .replace("Hosting 4", "Hosting<sup>a<br>b</sup>")),
    _table(ROWS, attrs=" style='display:none'") + _table(ROWS.replace("Vendor", "Shown")),
    _table(ROWS.replace("<td>", "<td class='c'>").replace("<tr>", "<tr class='r x' id='row'>")),
]

HOSTILE_PAGES: list[bytes] = [_page(m).encode() for m in HOSTILE_MAIN] + [
    _page(_table(ROWS), html="<html class='cookie-consent'>").encode(),
    _page(_table(ROWS), html="<html hidden>").encode(),
    _page(_table(ROWS), before="<div role='main'><p>x</p></div>").replace(
        "<main>", "<div>").replace("</main>", "</div>").encode(),
    _page(_table(ROWS)).replace("<main>", "<main><!-- empty -->").encode(),
    _page(_table(ROWS)).replace("</body></html>", "").encode(),
    _page(_table(ROWS)).replace("<body>", "<body class='site-header'>").encode(),
    ("<html><body>" + _table(ROWS) + "</body></html>").encode(),
    ("<title>only a title</title>" + _table(ROWS)).encode(),
    _table(ROWS).encode(),
    b"",
    b"\xef\xbb\xbf" + _page(_table(ROWS.replace("Vendor 1", "Ünïcode"))).encode(),
    b"\xff\xfe" + _page(_table(ROWS)).encode("utf-16-le"),
    _page(_table(ROWS.replace("Vendor 1", "Café"))).replace("utf-8", "latin-1").encode("latin-1"),
    _page(_table(ROWS.replace("Vendor 1", "Café"))).replace("utf-8", "bogus").encode(),
    _page(_table(ROWS.replace("Vendor 1", "Café"))).replace("<meta charset='utf-8'>", "")
    .encode(),
    _page(_table(ROWS.replace("Vendor 1", "Café"))).replace("<meta charset='utf-8'>", "")
    .encode("latin-1"),
    b"<?xml version='1.0' encoding='ISO-8859-1'?>" + _page(_table(ROWS)).encode(),
    _page(_table(ROWS.replace("Vendor 1", "Caf\udcff"))).encode("utf-8", "surrogateescape"),
    _page(_table(ROWS.replace("Vendor 1", "\u201cQuoted\u201d \u2013 Caf\u00e9")))
    .replace("utf-8", "windows-1252").encode("cp1252"),
    _page(_table(ROWS.replace("Vendor 1", "Café"))).replace(
        "<meta charset='utf-8'>", "<meta http-equiv='Content-Type' content='text/html; "
        "charset=UTF-8'>").encode(),
    _page(_table(ROWS.replace("Vendor 1", "Café"))).replace("utf-8", "UTF-8").encode(),
]


def _case_bodies() -> Iterator[tuple[str, bytes]]:
    for path in sorted(CASES.glob("*/*")):
        if path.is_file() and path.stem in ("old", "new"):
            yield f"{path.parent.name}/{path.name}", path.read_bytes()


def _site_bodies() -> Iterator[tuple[str, bytes]]:
    return ((label, body) for _, label, body
            in site_documents(SITE_VENDORS, SITE_ROUNDS, SITE_VENDORS * 2, SITE_DOCS))


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, bytes]]:
    hostile = [(f"hostile/{i}", body) for i, body in enumerate(HOSTILE_PAGES)]
    return list(_case_bodies()) + list(_site_bodies()) + hostile


def _parse(body: bytes, settings: dict[str, Any] | None = None) -> Any:
    try:
        doc = subprocessors.parse(body, subprocessors.Settings(**(settings or {})))
    except Exception as exc:  # the same failure is the same answer
        return ("error", type(exc).__name__, str(exc))
    return doc.canonical(), doc.hash


def test_documents_are_the_same_with_and_without_the_fast_path(
        corpus: list[tuple[str, bytes]], monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[bool] = []
    real = subprocessors._fast_records

    def spy(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        served.append(found is not None)
        return found

    monkeypatch.setattr(subprocessors, "_fast_records", spy)
    fast = {}
    for name, body in corpus:
        served.clear()
        fast[name] = (_parse(body), any(served))
    monkeypatch.setattr(fasttable, "ENABLED", False)
    differ = [name for name, body in corpus if fast[name][0] != _parse(body)]
    assert not differ, f"fast and bs4 parses differ for {differ[:10]}"
    site = [name for name in fast if name.startswith("site/")]
    assert len(site) == SITE_VENDORS * len(SITE_DOCS) * SITE_ROUNDS
    assert all(fast[name][1] for name in site), "every simulated page takes the fast path"
    tables = ("html-", "noise-html-", "headerless-", "markdown-", "noise-markdown-")
    cases = [name for name in fast if name.startswith(tables)]
    assert len(cases) >= 30 and all(fast[name][1] for name in cases)
    assert sum(fast[f"hostile/{i}"][1] for i in range(len(HOSTILE_PAGES))) >= 25


def test_settings_that_change_the_reading(corpus: list[tuple[str, bytes]],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    bodies = [body for name, body in corpus if name.startswith(("site/", "html-"))][:12]
    options: list[dict[str, Any]] = [
        {"select": "main table"}, {"location_column": "Purpose"},
        {"name_column": "Website", "purpose_column": "Location"}, {"ignore": [r"\bInc\b"]},
        {"format": "html"}]
    fast = [_parse(b, o) for b in bodies for o in options]
    monkeypatch.setattr(fasttable, "ENABLED", False)
    assert fast == [_parse(b, o) for b in bodies for o in options]


# --- the steps, one by one -----------------------------------------------------------------


def _html(corpus: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    return [(name, body) for name, body in corpus
            if markup.detect_format(body, None) == "html"]


def test_the_encoding_is_bs4s(corpus: list[tuple[str, bytes]]) -> None:
    for name, body in _html(corpus):
        markup_, sniffed = fasttable._strip_bom(body)
        first = next((e for e in fasttable.encodings(markup_, sniffed)
                      if _lxml_knows(e)), None)
        assert first == feeds.quiet_soup(body).original_encoding, name


def _lxml_knows(encoding: str) -> bool:
    from lxml import etree

    try:
        etree.HTMLParser(encoding=encoding)
    except LookupError:
        return False
    return True


# Written without a value, libxml2 gives these (HTML 4's boolean attributes) their name as
# value in its tree, and "" to bs4. fasttable reads none of them.
_BOOLEAN = {"checked", "compact", "declare", "defer", "disabled", "ismap", "multiple", "nohref",
            "noresize", "noshade", "nowrap", "readonly", "selected"}


def _bs4_value(name: str, value: str | list[str]) -> str:
    if isinstance(value, list):
        return " ".join(value)
    return name if name in _BOOLEAN and value == "" else value


def _bs4_events(node: Any, out: list[tuple[str, ...]], top: bool = False) -> None:
    for child in node.children:
        if top and not isinstance(child, Tag | Comment):
            continue  # text around <html>: libxml2 keeps none of it in the tree
        if isinstance(child, Tag):
            attrs = sorted((k, _bs4_value(k, v)) for k, v in child.attrs.items())
            out.append(("<", child.name, repr(attrs)))
            _bs4_events(child, out)
            out.append((">", child.name))
        elif isinstance(child, Comment):
            out.append(("#", str(child)))
        elif not isinstance(child, Doctype):
            out.append(("t", str(child)))


def _bs4_string(text: str, pre: bool) -> str:
    """A string as bs4 keeps it: all ASCII whitespace becomes one newline or space outside
    ``<pre>`` and ``<textarea>`` (``BeautifulSoup.endData``). What fasttable reads goes
    through ``clean_text``, for which the two are the same."""
    if pre or text.strip(" \n\t\f\r"):
        return text
    return "\n" if "\n" in text else " "


def _lxml_events(el: Any, out: list[tuple[str, ...]], pre: bool = False) -> None:
    if isinstance(el.tag, str):
        attrs = sorted((k, " ".join(v.split()) if k == "class" else v)
                       for k, v in el.attrib.items())
        out.append(("<", el.tag, repr(attrs)))
        inner = pre or el.tag in ("pre", "textarea")
        if el.text:
            out.append(("t", _bs4_string(el.text, inner)))
        for child in el:
            _lxml_events(child, out, inner)
        out.append((">", el.tag))
    else:
        out.append(("#", el.text or ""))
    if el.tail and el.getparent() is not None:
        out.append(("t", _bs4_string(el.tail, pre)))


def _merged(events: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for event in events:
        if event[0] == "t" and out and out[-1][0] == "t":
            out[-1] = ("t", out[-1][1] + event[1])
        else:
            out.append(event)
    return out


def _tree_events(root: Any) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for el in [*reversed(list(root.itersiblings(preceding=True))), root,
               *root.itersiblings()]:
        _lxml_events(el, out)
    return _merged(out)


def test_the_tree_is_bs4s(corpus: list[tuple[str, bytes]]) -> None:
    built = 0
    for name, body in _html(corpus):
        root = fasttable.parse_bytes(body)
        if root is None:
            continue
        built += 1
        expected: list[tuple[str, ...]] = []
        _bs4_events(feeds.quiet_soup(body), expected, top=True)
        assert _tree_events(root) == _merged(expected), name
    assert built >= len(_html(corpus)) - 2


def _bs4_grids(doc: BeautifulSoup) -> list[tuple[Grid, bool]]:
    roots = markup.content_root(doc, None)
    found = [(grids.read_grid(t), True) for root in roots for t in grids.find_tables(root)]
    return found + [(g, False) for root in roots for g in grids.div_grids(root)]


def test_the_grids_are_bs4s(corpus: list[tuple[str, bytes]]) -> None:
    read = 0
    for name, body in _html(corpus):
        fast = fasttable.page_grids(fasttable.parse_bytes(body))
        if fast is None:
            continue
        read += 1
        assert fast == _bs4_grids(feeds.quiet_soup(body)), name
    assert read >= 0.9 * len(_html(corpus))
    for name, body in corpus:
        if markup.detect_format(body, None) == "markdown":
            text = markup.split_front_matter(formats.decode(body))[1]
            fast = fasttable.page_grids(fasttable.parse_text(fasttable.markdown_page(text)))
            assert fast == _bs4_grids(markup.markdown_soup(text)), name


def test_it_declines_what_it_does_not_reproduce() -> None:
    table = _table(ROWS)
    declined = [_page(table, html="<html class='cookie-consent'>"),  # the page goes
                _page(table, html="<html hidden>"),
                _page("<p>Ruby <ruby>漢<rt>kan</rt></ruby></p>" + table),
                _page(table + table),  # bs4's ``table in unique`` compares contents
                "<title>no body</title>"]
    for page in declined:
        assert fasttable.page_grids(fasttable.parse_bytes(page.encode())) is None, page
    assert fasttable.page_grids(fasttable.parse_bytes(b"")) is None
    assert fasttable.page_grids(fasttable.parse_bytes(_page(table).encode()))


def test_the_hostile_pages_read_as_bs4_reads_them(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = [_parse(body) for body in HOSTILE_PAGES]
    monkeypatch.setattr(fasttable, "ENABLED", False)
    slow = [_parse(body) for body in HOSTILE_PAGES]
    for body, a, b in zip(HOSTILE_PAGES, fast, slow, strict=True):
        assert a == b, body[:300]
    assert sum(1 for d in slow if d[0] != "error" and '"entities":{}' not in d[0]) > 25


# The code fasttable.py mirrors, and the bs4 whose tree building and encoding detection
# it reproduces. After a change there: re-check fasttable.py, make the tests above pass,
# then update the fingerprint printed by the failure.
MIRRORED = (formats.soup, feeds.quiet_soup, formats.strip_noise, formats._is_hidden,
            formats.select_root, markup.strip_chrome, markup._attr_text, markup.content_root,
            markup.text_parts, markup.markdown_soup, grids.read_grid, grids._rows,
            grids._cells, grids._is_header_cell, grids._heading, grids.div_grids,
            grids._shape, grids._grid_row, grids._header_before, grids.find_tables,
            subprocessors.html_records, subprocessors._table_records)
FINGERPRINT = "da719f949f3bc359"


def _mirrored_source() -> str:
    import bs4

    helpers = [getattr(markup, "_pieces", None)]  # text_parts' walk, where it has one
    source = "\n".join(inspect.getsource(f) for f in (*MIRRORED, *filter(None, helpers)))
    return source + repr((formats.NOISE_TAGS, markup._CHROME_TAGS, sorted(markup._CHROME_ROLES),
                          markup._CHROME_ATTR.pattern, sorted(markup._BLOCKS), markup._SEP,
                          markup._FOOTNOTE_SUP.pattern, bs4.__version__))


def test_mirrored_code_is_the_code_the_fast_path_was_checked_against() -> None:
    got = hashlib.sha256(_mirrored_source().encode()).hexdigest()[:16]
    assert got == FINGERPRINT, (
        f"code mirrored by sources/fasttable.py changed (fingerprint {got}): check the "
        f"fast path still matches, then set FINGERPRINT = {got!r} in {__file__}")
