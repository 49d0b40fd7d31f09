"""The subprocessors parser on hostile bodies: every one parses (or is a ``ParseError``)
within a bound, in time linear in its size.

Each body is a shape that once cost time out of proportion to its size, or could: a
footnote pattern with nested repetition (a cell of "Ticketing" and forty ``*``), a walk
up the ancestors of every div (16,000 nested ``<div>``s), a page-wide XPath per list item,
a regex over ten megabytes of one character, YAML aliases that repeat a list a billion
times. The bound is on the CPU time of the parse (other work on a shared machine does not
count) and generous: on an idle machine the slowest, the 10,000-record Markdown bodies,
spend most of a second in markdown-it; the others well under half a second.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from config.errors import ParseError
from sources import subprocessors

# Seconds of CPU per parse: a linear parse of these bodies takes 1-2 s on the development
# machine (more when the machine is busy); a quadratic walk over 10,000 rows takes minutes.
# The daemon itself stops any parse at `parse.timeout` (30 s by default).
BOUND = 5.0
SETTINGS = subprocessors.Settings()


def _md_table(cells: list[str]) -> bytes:
    rows = "".join(f"| {c} | Ticketing | US |\n" for c in cells)
    return ("| Vendor | Purpose | Location |\n|---|---|---|\n" + rows).encode()


def _html_table(cells: list[str]) -> bytes:
    rows = "".join(f"<tr><td>{c}</td><td>Ticketing</td><td>US</td></tr>" for c in cells)
    return (f"<html><body><table><tr><th>Vendor</th><th>Purpose</th><th>Location</th></tr>"
            f"{rows}</table></body></html>").encode()


STARS = "Ticketing " + "*" * 40
ROWS = [f"Vendor {i}" for i in range(10_000)]
SOME = ROWS[:3_000]  # records of the shapes whose Markdown costs most to render
BILLION_LAUGHS = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]"
       for i in range(9)]
    + ["subprocessors: [{name: Acme, purpose: hosting, data: *j}, {name: Beta, purpose: mail}]"]
).encode()

BODIES: dict[str, Callable[[], bytes]] = {
    # issue 16: nested repetition in the footnote pattern
    "stars in a markdown cell": lambda: _md_table([STARS, STARS + "x", "Stripe"]),
    "stars in an html cell": lambda: _html_table([STARS + " x", STARS + "*" * 2000 + "x"]),
    "stars in a list item": lambda: (
        "<ul>" + f"<li><b>{STARS}x</b> – hosting – US</li>" * 3 + "</ul>").encode(),
    "stars in json": lambda: json.dumps(
        [{"name": STARS + "x", "purpose": "p"}, {"name": "B" + "*" * 5000 + "x"}]).encode(),
    "stars in csv": lambda: f"name,purpose,location\n{STARS}x,a,US\nB,b,US\n".encode(),
    # the footnote-superscript pattern of the shared HTML reader, nested the same way
    "letters in a superscript": lambda: _html_table(["Acme<sup>" + "a" * 40 + "!</sup>", "B"]),
    "marks in a superscript": lambda: _html_table(["Acme<sup>" + "(1)," * 20_000 + "x</sup>"]),
    # issue 16: a quadratic walk up the ancestors of every div
    "16000 nested divs": lambda: ("<html><body>" + "<div>" * 16_000 + "x"
                                  + "</div>" * 16_000 + "</body></html>").encode(),
    "16000 nested divs with cells": lambda: (
        "<html><body>" + "<div class=r><span>A</span><span>B</span>" * 16_000
        + "</body></html>").encode(),
    "16000 nested divs in markdown": lambda: (
        "# Subprocessors\n\n" + "<div>" * 16_000 + "x" + "</div>" * 16_000).encode(),
    # deep nesting of every other kind
    "16000 nested lists": lambda: ("<ul><li><b>A</b>" * 16_000).encode(),
    "1000 nested tables": lambda: (
        "<table><tr><th>Vendor</th><th>Location</th></tr><tr><td>" * 1000 + "x").encode(),
    "deep markdown list": lambda: "".join(
        "  " * i + "- **Acme**: hosting\n" for i in range(400)).encode(),
    "deep json arrays": lambda: ("[" * 100_000 + "]" * 100_000).encode(),
    "deep json objects": lambda: ('{"a":' * 100_000 + "1" + "}" * 100_000).encode(),
    "deep yaml flow": lambda: ("subprocessors: " + "[" * 10_000 + "]" * 10_000).encode(),
    "yaml billion laughs": lambda: BILLION_LAUGHS,
    # 10,000 rows of each format
    "10000-row html table": lambda: _html_table(ROWS),
    "10000-row markdown table": lambda: _md_table(ROWS),
    "10000-row csv": lambda: ("name,purpose,location\n"
                              + "".join(f"{r},hosting,US\n" for r in ROWS)).encode(),
    "10000-row json": lambda: json.dumps(
        [{"name": r, "purpose": "hosting", "location": "US"} for r in ROWS]).encode(),
    "10000-row yaml": lambda: ("subprocessors:\n" + "".join(
        f"  - name: {r}\n    purpose: hosting\n    location: US\n" for r in ROWS)).encode(),
    "10000 list items": lambda: (
        "<h2>Subprocessors</h2><ul>"
        + "".join(f"<li><strong>{r}</strong> – hosting – US</li>" for r in ROWS)
        + "</ul>").encode(),
    "10000 heading cards": lambda: "".join(
        f"<h3>{r}</h3><p>{r} hosts data. Location: US</p>" for r in ROWS).encode(),
    "10000 described cards": lambda: "".join(
        f"<h3>{r}</h3><p>{r} hosts our data.</p><a href='https://x.example'>DPA</a>"
        for r in ROWS).encode(),
    "3000 nested bullet records": lambda: "".join(
        f"- **{r}**\n  - Purpose: hosting\n  - Location: US\n" for r in SOME).encode(),
    "3000 names in prose": lambda: "".join(
        f"## Part {i}\n\nWe use **{r}** and [V{i}](https://v{i}.example).\n\n"
        for i, r in enumerate(SOME)).encode(),
    "10000 names in html prose": lambda: "".join(
        f"<h2>Part {i}</h2><p>We use <b>{r}</b> and <a href='https://v{i}.example'>V{i}</a>.</p>"
        for i, r in enumerate(ROWS)).encode(),
    # one enormous cell
    "100000-character cell": lambda: _html_table(["word " * 20_000, "Stripe"]),
    "100000-character cell without spaces": lambda: _html_table(["a" * 100_000, "Stripe"]),
    "100000 stars in a cell": lambda: _md_table(["*" * 100_000 + "x", "Stripe"]),
    "100000 brackets in a cell": lambda: _html_table(["(" * 50_000 + "[1]" * 15_000, "B"]),
    "100000 spaces then a bracket": lambda: _html_table(["a" + " " * 100_000 + "(x", "B"]),
}
BODIES.update({f"10 MB of {ch!r}": (lambda ch=ch: (ch * 10_000_000).encode())
               for ch in ("a", "<", "*", "|", "-", "{", "[", "#", " ", "\n", "&", ":", "(")})


@pytest.mark.parametrize("name", sorted(BODIES))
def test_hostile_body_parses_within_the_bound(name: str) -> None:
    body = BODIES[name]()
    started = time.process_time()
    try:
        document = subprocessors.parse(body, SETTINGS)
    except ParseError:
        document = None
    elapsed = time.process_time() - started
    assert elapsed < BOUND, f"{name}: {elapsed:.2f}s"
    if document is not None:
        assert isinstance(document.data["entities"], dict)


def test_the_stars_cell_is_read_as_its_name() -> None:
    """The footnote markers still go: forty of them end a name like one does."""
    entities = subprocessors.parse(_md_table([STARS, "Stripe"]), SETTINGS).data["entities"]
    assert entities["ticketing"]["name"] == "Ticketing"


def test_large_tables_keep_every_row() -> None:
    """Linear does not mean truncated: all 10,000 rows are entities."""
    for body in (BODIES["10000-row html table"](), BODIES["10000-row yaml"]()):
        assert len(subprocessors.parse(body, SETTINGS).data["entities"]) == 10_000


def test_yaml_aliases_are_read_once() -> None:
    entities = subprocessors.parse(BILLION_LAUGHS, SETTINGS).data["entities"]
    assert sorted(entities) == ["acme", "beta"]
