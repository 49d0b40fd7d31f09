"""Statuspage's update log: the HTML in each feed entry (and on incident pages), newest
first (pure)::

    <p><small>Nov <var data-var='date'>20</var>, <var data-var='time'>10:02</var> PST</small>
    <br><strong>Resolved</strong> - This incident has been resolved.</p>
    <p>This incident affected: API, Chat (EU, US), and Batch.</p>

``update_log`` turns it into ``[{"status", "text", "at"}, …]``, the components affected
and whether it announces a scheduled event.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..read.html import SKIP_TEXT, get_text, parse_html, plain_text
from ..read.text import normalise_space, strip_relative_time
from .record import STATUS_WORDS, update

_LEADING_AND = re.compile(r"^\s*and\s+")
_AND = re.compile(r"\s+and\s+(?![^(]*\))")


def split_components(text: str) -> list[str]:
    """``"A, B (x, y), and C."`` → ``["A", "B (x, y)", "C"]``."""
    text = text.strip().rstrip(".")
    if "(" not in text and ")" not in text:  # every comma is at depth 0
        parts = text.split(",")
    else:
        parts, depth, start = [], 0, 0
        for i, ch in enumerate(text):
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif ch == "," and depth == 0:
                parts.append(text[start:i])
                start = i + 1
        parts.append(text[start:])
    out: list[str] = []
    for part in parts:
        part = part.strip()
        if "and" not in part:  # neither pattern can match
            if part:
                out.append(part)
            continue
        part = _LEADING_AND.sub("", part)
        out.extend(p.strip() for p in _AND.split(part) if p.strip())
    return out


_AFFECTED = re.compile(r"this (?:incident|scheduled maintenance|maintenance) affected:\s*(.+)",
                       re.I)
# Every match of ``_AFFECTED`` holds this word within one string of the paragraph, and
# re.I matches its letters to their capitals only (tests/test_read.py): a paragraph whose
# text lacks it is not searched.
_AFFECTED_WORD = "affected:"

Log = tuple[list[dict[str, Any]], list[str], bool]


def update_log(html: str, *, texts: bool = True) -> Log:
    """A Statuspage entry's HTML → (updates newest first, affected components, whether it
    announces a scheduled event). With ``texts=False`` only the newest update's text and
    time are read: the older ones carry their status alone (``update(status, None,
    None)``), for a caller that keeps the newest update and the others' statuses."""
    return update_log_of(parse_html(html), texts=texts)


def update_log_of(root: Any, *, texts: bool = True) -> Log:
    """``update_log`` of a tree (which it changes: read a copy of one still needed)."""
    updates: list[dict[str, Any]] = []
    components: list[str] = []
    scheduled = False
    # one walk of the tree finds the paragraphs (``root.iter("p", "div")``) and whether it
    # holds script, style or ruby text (``root.iter(*SKIP_TEXT)``): a tag filter costs
    # more to set up than a walk of an entry's few elements
    paras: list[Any] = []
    plain = True
    for el in root.iter():
        tag = el.tag
        if tag == "p" or tag == "div":
            paras.append(el)
        elif tag in SKIP_TEXT:  # a comment's tag is a function: in no set of names
            plain = False
    if plain:
        # without script, style or ruby text, the text is libxml2's own, in one C call
        text_of: Callable[[Any], str] = plain_text
        spaced_of: Callable[[Any], str] = _spaced_itertext
    else:
        text_of, spaced_of = get_text, _spaced_get_text
    for para in paras:
        # one walk finds: a nested p/div, the first strong/b child (else the first strong/b
        # inside), the first small, every br
        strong: Any = None
        first_strong: Any = None
        small: Any = None
        brs: list[Any] = []
        nested = False
        for el in para.iterdescendants():  # unfiltered: a tag filter costs more to set up
            tag = el.tag
            if tag == "br":
                brs.append(el)
            elif tag == "small":
                if small is None:
                    small = el
            elif tag == "strong" or tag == "b":
                if first_strong is None:
                    first_strong = el
                if strong is None and el.getparent() is para:
                    strong = el
            elif tag == "p" or tag == "div":
                nested = True
                break
        if nested:
            continue
        if _AFFECTED_WORD in text_of(para).lower():
            # a paragraph without children has one string, its text (or none)
            spaced = spaced_of(para) if len(para) else para.text or ""
            found = _AFFECTED.search(normalise_space(spaced))
            if found:
                components = split_components(found.group(1))
        if strong is None:
            strong = first_strong
            if strong is None:
                continue
        # an element without children (elements, comments …) has its text as its text
        label = normalise_space(text_of(strong) if len(strong) else strong.text or "")
        if label.upper().startswith("THIS IS A SCHEDULED EVENT"):
            scheduled = True
            continue
        if label.lower() not in STATUS_WORDS and (small is None or len(label) > 30):
            continue
        if updates and not texts:  # an older update: its status only
            updates.append(update(label, None, None))
            continue
        at = normalise_space(strip_relative_time(text_of(small))) if small is not None else None
        # the paragraph's text once each <br> is a line break and small and strong are
        # gone: a cleared element keeps its tail and gives no text
        for br in brs:
            br.tail = "\n" + (br.tail or "")
        if small is not None:
            small.clear(keep_tail=True)
        strong.clear(keep_tail=True)
        body = normalise_space(text_of(para))
        updates.append(update(label, body.lstrip("-–—: "), at))
    return updates, components, scheduled


def _spaced_itertext(el: Any) -> str:
    return " ".join(el.itertext())


def _spaced_get_text(el: Any) -> str:
    return get_text(el, " ")
