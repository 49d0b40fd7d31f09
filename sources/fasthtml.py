"""lxml versions of two bs4 helpers on the parse hot path, giving the very same text.

``BeautifulSoup(markup, "lxml")`` feeds libxml2's HTML parser and rebuilds its events as
Python objects (~0.5 ms for a release note); these functions keep libxml2's own tree and
walk it in C-backed loops instead. They reproduce what the bs4 code reads:

* ``get_text`` skips comments and any text inside ``script``, ``style``, ``template``,
  ``rt`` and ``rp`` (bs4 gives those strings their own types), but keeps strings that
  code inserted there;
* removing an element (bs4's ``decompose``/``extract``) keeps the text that followed it;
* the tree is the one bs4 sees: the same parser, fed the same 512-character chunks.

``visible_lines`` is ``formats.text_lines([soup])`` after ``formats.strip_noise``;
``update_log`` is ``statuslog.update_log``. ``tests/test_fastparse.py`` compares both
with the bs4 originals over the file cases, the simulated site and hostile markup.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from lxml import etree

from .feeds import RELATIVE_TIME, strip_relative_time

# Off: every call takes the original path (``REASSESS_NO_FASTPATH=1``, or tests).
ENABLED = os.environ.get("REASSESS_NO_FASTPATH", "") in ("", "0")
SKIP_TEXT = frozenset({"script", "style", "template", "rt", "rp"})


def parse_html(markup: str) -> Any | None:
    """libxml2's HTML tree of ``markup``, built as bs4's lxml HTML builder builds it: one
    ``feed`` of the whole text (its 512-character chunks are the XML builder's)."""
    if markup[:1] == "\ufeff":
        markup = markup[1:]
    parser = etree.HTMLParser(recover=True)
    parser.feed(markup)
    try:
        return parser.close()
    except etree.XMLSyntaxError:
        return None


def drop(el: Any) -> None:
    """Remove ``el`` and what it holds; the text after it stays where it was."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def hidden(el: Any) -> bool:
    """``formats._is_hidden`` on an lxml element."""
    attrs = el.attrib
    if "hidden" in attrs or attrs.get("aria-hidden") == "true":
        return True
    style = str(attrs.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


def strip_noise(root: Any, noise: Iterable[str], hidden: Callable[[Any], bool]) -> None:
    """``formats.strip_noise``: comments, noise tags, then hidden elements."""
    for node in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
        drop(node)
    for node in list(root.iter(*noise)):
        drop(node)
    for node in [n for n in root.iter() if isinstance(n.tag, str) and hidden(n)]:
        drop(node)


def texts(el: Any, after: Callable[[str], str | None] | None = None,
          flatten: bool = False) -> list[str]:
    """The strings bs4's ``get_text`` joins, in order. ``after(tag)`` adds a separator
    string after an element (``text_lines``'s ``insert_after``); ``flatten`` turns line
    breaks into spaces in every string outside ``<pre>`` (``feeds.flatten_text``)."""
    out: list[str] = []
    _walk(el, False, _in_pre(el), out, after, flatten)
    return out


def _in_pre(el: Any) -> bool:
    return any(a.tag == "pre" for a in el.iterancestors())


def _walk(el: Any, skip: bool, pre: bool, out: list[str],
          after: Callable[[str], str | None] | None, flatten: bool, top: bool = True) -> None:
    tag = el.tag
    if isinstance(tag, str):
        inside = skip or tag in SKIP_TEXT
        in_pre = pre or tag == "pre"
        text = el.text
        if text and not inside:
            out.append(text.replace("\n", " ") if flatten and not in_pre else text)
        for child in el:
            _walk(child, inside, in_pre, out, after, flatten, False)
        if after is not None:
            sep = after(tag)
            if sep is not None:
                out.append(sep)
    if not top and el.tail and not skip:
        # a tail lives in the parent: ``skip`` and ``pre`` are the parent's
        out.append(el.tail.replace("\n", " ") if flatten and not pre else el.tail)


def get_text(el: Any, separator: str = "") -> str:
    return separator.join(texts(el))


def visible_lines(markup: str, noise: Iterable[str], hidden: Callable[[Any], bool],
                  blocks: frozenset[str] | set[str], normalise: Callable[[str], str],
                  flatten: bool = False) -> list[str]:
    """``text_lines([doc])`` after ``strip_noise(doc)`` (and ``flatten_text(doc)``) on
    ``soup(markup)``."""
    root = parse_html(markup)
    if root is None:
        return []
    strip_noise(root, noise, hidden)

    def after(tag: str) -> str | None:
        if tag in blocks:
            return "\n"
        return " | " if tag in ("td", "th") else None

    lines = []
    for line in "".join(texts(root, after, flatten)).split("\n"):
        clean = normalise(line).strip(" |")
        if clean:
            lines.append(clean)
    return lines


# --- statuslog.update_log -----------------------------------------------------------

_tostring = etree.tostring


def _plain_text(el: Any) -> str:
    """``"".join(el.itertext())`` in one C call: libxml2 concatenates the subtree's text
    nodes, the very strings lxml's ``itertext`` yields (no comment or PI text)."""
    return _tostring(el, method="text", encoding=str, with_tail=False)


# ``statuslog._AFFECTED`` (pattern and flags) → a lower-case word that every match of
# it holds within one string of the paragraph: where the paragraph's text lacks it, the
# search (on the strings joined by spaces) cannot match. ``re.I`` matches no other
# character to these letters than their capitals (checked in tests/test_fastparse.py).
# Any other pattern is searched in every paragraph.
_AFFECTED_WORD: dict[tuple[str, int], str] = {
    (r"this (?:incident|scheduled maintenance|maintenance) affected:\s*(.+)",
     re.I | re.U): "affected:",
}


def update_log(html: str, *, affected: re.Pattern[str], status_words: Iterable[str],
               relative_time: re.Pattern[str], normalise: Callable[[str], str],
               split_components: Callable[[str], list[str]],
               make_update: Callable[[Any, str | None, Any], dict[str, Any]]
               ) -> tuple[list[dict[str, Any]], list[str], bool] | None:
    """``statuslog.update_log`` on libxml2's tree (same steps, same order); None for
    the rare markup it leaves to bs4."""
    root = parse_html(html)
    updates: list[dict[str, Any]] = []
    components: list[str] = []
    scheduled = False
    if root is None:
        return updates, components, scheduled
    if next(root.iter(*SKIP_TEXT), None) is None:
        # Without script/style/template text, bs4's strings are exactly lxml's itertext().
        text_of: Callable[[Any], str] = _plain_text
        spaced_of: Callable[[Any], str] = _spaced_itertext
        word = _AFFECTED_WORD.get((affected.pattern, affected.flags))
    elif next(root.iter("rt", "rp"), None) is not None:
        return None  # a "\n" put in place of a <br> inside these still counts in bs4
    else:
        text_of, spaced_of, word = get_text, _spaced_get_text, None
    search = affected.search
    strip_relative: Callable[[str], str] = (
        strip_relative_time if relative_time is RELATIVE_TIME else partial(relative_time.sub, ""))
    for para in list(root.iter("p", "div")):
        # One walk finds what the reference looks up in turn: a nested p/div, the first
        # strong/b child, else the first strong/b inside, the first small, every br.
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
        if word is None or word in text_of(para).lower():
            found = search(normalise(spaced_of(para)))
            if found:
                components = split_components(found.group(1))
        if strong is None:
            strong = first_strong
            if strong is None:
                continue
        label = normalise(text_of(strong))
        if label.upper().startswith("THIS IS A SCHEDULED EVENT"):
            scheduled = True
            continue
        if label.lower() not in status_words and (small is None or len(label) > 30):
            continue
        at = normalise(strip_relative(text_of(small))) if small is not None else None
        # The reference's text once each <br> became "\n" and small, strong left: a
        # cleared element keeps its tail and gives no text, as if it were gone.
        for br in brs:
            br.tail = "\n" + (br.tail or "")
        if small is not None:
            small.clear(keep_tail=True)
        strong.clear(keep_tail=True)
        body = normalise(text_of(para))
        updates.append(make_update(label, body.lstrip("-–—: "), at))
    return updates, components, scheduled


def _spaced_itertext(el: Any) -> str:
    return " ".join(el.itertext())


def _spaced_get_text(el: Any) -> str:
    return get_text(el, " ")
