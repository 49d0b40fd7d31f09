"""Subprocessor entities written one heading (or one accordion) per vendor (pure).

Two shapes:

* *labelled* cards: the heading, then "Purpose: …" / "Location: …" lines, a list of
  "key: value" bullets ("**What they process:** …", "**Region:** …") or a two-column
  "label | value" table. Every label is a field; the role words come from the
  ``header_words`` vocabulary.
* *described* cards: the heading, then a short description and perhaps links (the DPA,
  a security page). Read only when most headings of that level are named in their own
  description ("### Exoscale" / "Exoscale runs the data centres …"): a page of topical
  sections ("## Payment processing" over prose) is not a list of vendors.

A name set in bold on a line of its own (``<p><strong>Render</strong></p>``, a Markdown
``**Stripe**`` line) stands for a heading one level below the page's smallest when two or
more such names, each different, are followed by labelled lines or bullets: a page of
"## Payment processing" categories, each listing its vendors that way, is a list of
those vendors, not of its categories. A bold line repeated under each heading
("**Details**") is a label, not a name.

A card's section is the heading above it ("AI Model Providers"): context, never compared.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..read.html import HEADINGS, descendants, elements
from ..read.html import text_parts as _text_parts
from ..read.tables import headings_before
from .columns import is_label_column
from .lists import detail_fields, is_labelled, labelled_fields
from .prose import name_like

_BLOCKS = ("ul", "ol", "dl", "table", "details")
_LISTS = ("ul", "ol")
_MAX_WORDS = 80  # a described card's description is short


_BOLD = ("strong", "b")
_BOLD_LEVEL = len(HEADINGS)  # a bold name on its own line: below every heading


@dataclass
class Card:
    heading: Any
    name: str
    level: int
    lines: list[str] = field(default_factory=list)  # text after the heading
    items: list[str] = field(default_factory=list)  # "key: value" bullets


def _link_only(el: Any) -> bool:
    """An element whose whole text is the text of links in it (a DPA link, a list of them)."""
    text = " ".join(_text_parts(el))
    if not text:
        return False
    linked = " ".join(" ".join(_text_parts(a)) for a in el.iter("a"))
    return linked.replace(" ", "") == text.replace(" ", "")


def _level(heading: Any) -> int:
    return HEADINGS.index(heading.tag) if heading.tag in HEADINGS else _BOLD_LEVEL


def _bold_name(el: Any) -> bool:
    """A paragraph (or block) whose whole text is one short bold phrase: a name set as a
    heading ("**Stripe**" on its own line), not a bold label ("**Note:**")."""
    if el.tag not in ("p", "div") or (el.text or "").strip():
        return False
    kids = [c for c in el if isinstance(c.tag, str)]
    if len(kids) != 1 or kids[0].tag not in _BOLD or (kids[0].tail or "").strip():
        return False
    if next(kids[0].iterdescendants(*_BLOCKS, *HEADINGS, "p", "div"), None) is not None:
        return False
    text = " ".join(_text_parts(kids[0]))
    return 0 < len(text.split()) <= 8 and not text.endswith((":", "：", "?"))


Stops = dict[int, Any]  # the bold names read as headings, by id (the dict keeps each alive:
# an lxml element's id is its proxy's, which is reused once no reference holds it)


def _stops_at(sib: Any, stops: Stops) -> bool:
    """A sibling that starts the next card: a heading, a bold name, or one that holds one."""
    if sib.tag in HEADINGS or next(sib.iterdescendants(*HEADINGS), None) is not None:
        return True
    return bool(stops) and (id(sib) in stops or any(
        id(d) in stops for d in sib.iterdescendants("p", "div")))


def _card(heading: Any, stops: Stops | None = None) -> Card | None:
    """What follows a heading (or a bold name, see ``_bold_name``) up to the next one, as
    a card; ``None`` when a table, a definition list or a list of entities follows (a
    section of entities, not one). ``stops``: the bold names read as headings."""
    card = Card(heading, " ".join(_text_parts(heading)), _level(heading))
    if (heading.tail or "").strip():
        card.lines.append(heading.tail.strip())
    for sib in heading.itersiblings():
        if isinstance(sib.tag, str):
            if _stops_at(sib, stops or {}):
                break
            if not _take(sib, card, 0):
                return None
        elif (sib.text or "").strip():
            card.lines.append(sib.text.strip())  # a comment's text, as it stood
        if (sib.tail or "").strip():
            card.lines.append(sib.tail.strip())
    return card


def _take(el: Any, card: Card, depth: int) -> bool:
    """Add an element after the heading to the card; False when it holds entities (a
    table, a definition list, a list that is not "key: value" bullets or links)."""
    if _link_only(el):
        pass  # a link to the vendor's DPA or security page: a reference, not a fact
    elif el.tag in _LISTS and next(el.iterdescendants(*_BLOCKS), None) is None:
        lines = [" ".join(_text_parts(li)) for li in elements(el) if li.tag == "li"]
        lines = [line for line in lines if line]
        if not lines or sum(map(is_labelled, lines)) < 0.6 * len(lines):
            return False
        card.items += lines
    elif el.tag == "table" and (pairs := _key_values(el)) is not None:
        card.items += pairs
    elif el.tag in _BLOCKS:
        return False
    elif next(el.iterdescendants(*_BLOCKS), None) is not None:
        if depth >= 2:
            return False
        if (el.text or "").strip():
            card.lines.append(el.text.strip())
        for child in elements(el):
            if not _take(child, card, depth + 1):
                return False
            if (child.tail or "").strip():
                card.lines.append(child.tail.strip())
    else:
        card.lines += _text_parts(el)
    return True


def _key_values(table: Any) -> list[str] | None:
    """A two-column table of "label | value" rows as "label: value" lines, else ``None``."""
    rows: list[tuple[str, str]] = []
    for tr in table.iter("tr"):
        if tr.getparent() is not None and tr.getparent().tag == "thead":
            continue  # "Field | Value"
        cells = [c for c in tr if c.tag in ("td", "th")]
        if len(cells) != 2:
            return None
        key, value = (" ".join(_text_parts(c)) for c in cells)
        if key or value:
            rows.append((key.rstrip(":： "), value))
    if not rows or not is_label_column([k for k, _ in rows]):
        return None
    return [f"{k}: {v}" for k, v in rows if k and v]


def _labelled(card: Card) -> dict[str, str] | None:
    fields, _ = labelled_fields([*card.lines, *card.items], any_label=bool(card.items))
    if not ({"purpose", "location"} & fields.keys()):
        return None
    return detail_fields([*card.lines, *card.items], any_label=bool(card.items))


def _named_in(card: Card) -> bool:
    """The card's description names it: its heading's first word, as written."""
    words = re.findall(r"\w[\w.&'-]*", card.name)
    if not words or not card.lines:
        return False
    first = words[0].strip(".'-")
    return len(first) >= 2 and re.search(rf"(?<!\w){re.escape(first)}(?!\w)",
                                          " ".join(card.lines)) is not None


def _describable(card: Card) -> bool:
    text = " ".join(card.lines)
    return (bool(card.lines) and not card.items and len(text.split()) <= _MAX_WORDS
            and 0 < len(card.name.split()) <= 8 and not card.name.endswith(("?", ":")))


def _sections(headings: list[Any]) -> list[str]:
    """For each heading, the nearest heading of a higher level before it, not the page's
    title (``<h1>``)."""
    out: list[str] = []
    stack: list[tuple[int, str]] = []
    for heading in headings:
        level = _level(heading)
        while stack and stack[-1][0] >= level:
            stack.pop()
        out.append(stack[-1][1] if stack else "")
        if level:
            stack.append((level, " ".join(_text_parts(heading))))
    return out


def _folded(details: Any) -> Card | None:
    """A ``<details>`` block (an accordion) as a card: its ``<summary>`` is the name."""
    summary = next((c for c in elements(details) if c.tag == "summary"), None)
    if summary is None:
        return None
    card = Card(details, " ".join(_text_parts(summary)), len(HEADINGS))
    for child in elements(details):
        if child is not summary and not _take(child, card, 0):
            return None
        if (child.tail or "").strip():
            card.lines.append(child.tail.strip())
    return card if card.name else None


def card_records(roots: Iterable[Any]) -> list[dict[str, str]]:
    """Entities written as a heading (or an accordion's summary) followed by labelled
    lines or bullets, else as one followed by a description that names it."""
    out: list[dict[str, str]] = []
    for root in roots:
        stops = _bold_names(root)
        headings = [el for el in root.iter(*HEADINGS, "p", "div")
                    if el.tag in HEADINGS or id(el) in stops]
        sections = _sections(headings)
        cards = [(_card(h, stops) if h.tag != "h1" else None, s)
                 for h, s in zip(headings, sections, strict=True)]
        folds = [d for d in descendants(root, "details")
                 if next(d.iterdescendants("details"), None) is None]
        cards += [(_folded(d), " ".join(_text_parts(h)) if h is not None else "")
                  for d, h in zip(folds, headings_before(folds), strict=True)]
        labelled = [(c, f, s) for c, s in cards if c for f in [_labelled(c)] if f is not None]
        if labelled:
            out += [_record(c.name, f, s) for c, f, s in labelled]
            continue
        out += _described([(c, s) for c, s in cards if c])
    return out


def _bold_names(root: Any) -> Stops:
    """The bold names (``_bold_name``) of a page that stand for headings: two or
    more, nearly all different, each followed by labelled lines or bullets."""
    stops = {id(el): el for el in root.iter("p", "div") if _bold_name(el)}
    if len(stops) < 2:
        return {}
    cards = [c for c in (_card(el, stops) for el in stops.values()) if c is not None]
    named = [c.name for c in cards if _labelled(c) is not None]
    if len(named) < 2 or len({n.casefold() for n in named}) < 0.8 * len(named):
        return {}
    return stops


def _described(cards: list[tuple[Card, str]]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for level in sorted({c.level for c, _ in cards}):
        same = [(c, s) for c, s in cards if c.level == level]
        good = [(c, s) for c, s in same if _describable(c)]
        named = [_named_in(c) for c, _ in good]
        if len(good) < 2 or sum(named) < 0.6 * len(same):
            continue
        # a card its text does not name counts when its heading reads like a name
        # ("Brevo"), not like a topic ("Changes to this list")
        good = [(c, s) for (c, s), n in zip(good, named, strict=True) if n or name_like(c.name)]
        out += [_record(c.name, {"purpose": " ".join(c.lines)}, s) for c, s in good]
    return out


def _record(name: str, fields: dict[str, str], section: str) -> dict[str, str]:
    record = {"name": name, **fields}
    if section:
        record["section"] = section
    return record
