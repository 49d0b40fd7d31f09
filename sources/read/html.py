"""HTML as one kind of tree, libxml2's (lxml), for every kind and every fragment.

* ``parse_html``: a body (bytes, in the first of ``encoding.encodings`` libxml2 knows) or
  a text, as a tree; an empty body is an empty ``<html>``. Bodies libxml2 cannot read
  are decoded by bs4 first (the fallback).
* ``select``: the elements a CSS selector picks. lxml has no CSS engine of its own here, so
  the whole document goes through bs4 and soupsieve once, and the picked elements are
  found again in libxml2's tree of what bs4 read.
* ``strip_noise`` (comments, scripts, styles, forms, hidden elements), ``strip_chrome``
  (navigation, page header and footer, cookie banners, sidebars) and ``content_root``
  (what is left worth reading). Removing an element keeps the text that followed it.
* Text: ``visible_lines`` (block elements start lines, cells are joined by " | "),
  ``fragment_lines`` (an HTML or Markdown fragment as clean lines), ``text_parts`` (an
  element's text split at blocks and line breaks, footnote marks dropped) and
  ``get_text``. Script, style, template and ruby annotation text is never text.

lxml, bs4 and markdown-it are imported with the first body read, not with this module:
loading a kind must not cost them.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

from config.errors import ParseError

from .encoding import encodings, strip_bom
from .markdown import markdown_html
from .text import clean_lines, clean_text, normalise_space

if TYPE_CHECKING:  # lxml has no type hints; an element is what its tree hands out
    Element = Any

NOISE_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "canvas", "head",
              "meta", "link", "button", "form", "input", "select", "textarea")
# Their strings are code, styles or annotations, never the page's text.
SKIP_TEXT = frozenset({"script", "style", "template", "rt", "rp"})
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# Elements after which ``visible_lines`` starts a new line.
LINE_BLOCKS = frozenset({
    "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header",
    "footer", "main", "table", "ul", "ol", "dl", "dt", "dd", "br", "blockquote", "pre", "nav",
    "aside", "figure", "figcaption", "details", "summary", "hr"})
# Elements ``text_parts`` splits at (it treats ``br`` on its own).
PART_BLOCKS = frozenset({
    "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "tr", "table", "section", "article",
    "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "header",
    "footer", "main", "details", "summary", "hr", "address"})


# --- the tree --------------------------------------------------------------------------


@cache
def etree() -> Any:
    """lxml's ``etree``, imported with the first body read (a cached call costs less than
    an ``import`` statement in the functions called for every element)."""
    from lxml import etree as module

    return module


def parse_html(markup: bytes | str) -> Element:
    """libxml2's tree of an HTML body or text (its ``<html>`` element)."""
    root = None
    if isinstance(markup, str):
        root = _feed(etree().HTMLParser(recover=True), markup.removeprefix("\ufeff"))
    else:
        data, sniffed = strip_bom(markup)
        for encoding in encodings(data, sniffed):
            try:
                parser = etree().HTMLParser(recover=True, encoding=encoding)
            except LookupError:
                continue  # a name libxml2 does not know: the next one
            root = _feed(parser, data)
            break
    return root if root is not None else _fallback(markup)


def _feed(parser: Any, markup: bytes | str) -> Element | None:
    try:
        parser.feed(markup)  # the whole body at once
        return parser.close()
    except (etree().LxmlError, UnicodeDecodeError, LookupError):
        return None


def _fallback(markup: bytes | str) -> Element:
    """A body libxml2 declined (nothing it could build a tree of, or bytes it could not
    decode): bs4 decodes and reads it, libxml2 reads bs4's serialisation. What neither
    can read is an empty page."""
    text = str(_soup(markup))
    root = _feed(etree().HTMLParser(recover=True), text) if text.strip() else None
    return root if root is not None else etree().fromstring("<html><body></body></html>",
                                                            etree().HTMLParser())


def _soup(markup: bytes | str) -> Any:
    """bs4's tree of a body (libxml2 under it), its advice about odd input silenced."""
    from bs4 import BeautifulSoup

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return BeautifulSoup(markup, "lxml")


_MARK = "data-reassess-selected"


def select(markup: bytes | str, selector: str) -> list[Element]:
    """The elements ``selector`` picks in the page, in document order (each in one tree,
    libxml2's reading of bs4's serialisation). A selector that is not CSS is a
    ``ParseError``."""
    from soupsieve import SelectorSyntaxError

    doc = _soup(markup)
    try:
        picked = doc.select(selector)
    except SelectorSyntaxError as exc:
        raise ParseError(f"select {selector!r} is not a CSS selector: {exc}") from None
    if not picked:
        return []
    for i, tag in enumerate(picked):
        tag[_MARK] = str(i)
    found = {el.get(_MARK): el for el in parse_html(str(doc)).iter()
             if isinstance(el.tag, str) and el.get(_MARK) is not None}
    for el in found.values():
        del el.attrib[_MARK]
    return [found[key] for key in sorted(found, key=int)]


def roots(markup: bytes | str, selector: str | None) -> list[Element]:
    """What ``selector`` picks, or the page's body (or whole tree) without one."""
    if selector:
        return select(markup, selector)
    return [body_of(parse_html(markup))]


def body_of(root: Element) -> Element:
    body = next(root.iter("body"), None)
    return body if body is not None else root


def root_of(el: Element) -> Element:
    return el.getroottree().getroot()


# --- removing what is not content ---------------------------------------------------------


def drop(el: Element) -> None:
    """Remove ``el`` and what it holds; the text after it stays where it was. The root
    cannot go: it is emptied."""
    parent = el.getparent()
    if parent is None:
        el.clear()
        return
    tail = el.tail
    if tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def is_hidden(el: Element) -> bool:
    attrs = el.attrib
    if "hidden" in attrs or attrs.get("aria-hidden") == "true":
        return True
    style = str(attrs.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


@cache
def _xpath(expression: str) -> Any:
    return etree().XPath(expression)


def _having(*attributes: str) -> Any:
    """The compiled XPath of the elements (the context node and its descendants) that
    carry one of ``attributes``, in document order: what
    ``descendant-or-self::*[@a or @b]`` finds, found as the attributes' elements. libxml2
    evaluates a predicate on every element at several times the cost of collecting the
    attributes (a 330-element page: 110 µs against 29)."""
    paths = " | ".join(f"descendant-or-self::*/@{name}" for name in attributes)
    return _xpath(f"({paths})/..")


def strip_noise(root: Element) -> None:
    """Remove comments, scripts, styles, forms and the like, then hidden elements."""
    lxml = etree()
    for node in list(root.iter(lxml.Comment, lxml.ProcessingInstruction)):
        drop(node)
    for node in list(root.iter(*NOISE_TAGS)):
        drop(node)
    # only elements with one of these attributes can be hidden
    maybe = _having("hidden", "aria-hidden", "style")
    for node in [n for n in maybe(root) if is_hidden(n)]:
        drop(node)


_NOISE_SET = frozenset(NOISE_TAGS)


def strip_noise_walk(root: Element) -> None:
    """``strip_noise`` in one walk of the tree, for a small one (a feed entry's fragment):
    a tag filter and an XPath cost more to set up than a Python walk of a few elements.

    The same removals in the same order: comments and processing instructions, then the
    noise elements, then hidden elements, each in document order. A hidden element inside
    a noise element is removed from that (already detached) element, which changes
    nothing left in the tree; ``is_hidden`` is false for an element without attributes."""
    lxml = etree()
    comment, pi = lxml.Comment, lxml.ProcessingInstruction
    marks: list[Element] = []
    noise: list[Element] = []
    hidden: list[Element] = []
    for node in root.iter():
        tag = node.tag
        if tag.__class__ is str:
            if tag in _NOISE_SET:
                noise.append(node)
            elif node.keys() and is_hidden(node):
                hidden.append(node)
        elif tag is comment or tag is pi:
            marks.append(node)
    for node in marks:
        drop(node)
    for node in noise:
        drop(node)
    for node in hidden:
        drop(node)


_CHROME_ROLES = {"navigation", "banner", "contentinfo", "search", "dialog"}
_CHROME_ATTR = re.compile(r"cookie|consent|gdpr|onetrust|skip-?link|breadcrumb|newsletter|"
                          r"announcement-bar|site-header|site-footer|global-nav|toc\b|"
                          r"\blikes?\b|like-?count|download-?count|\bcounters?\b|view-?count",
                          re.I)


def _attr_text(el: Element) -> str:
    return " ".join([el.get("id") or "", *(el.get("class") or "").split()])


NAMED_BY_IMAGE = ("td", "th", "li", "dt", "dd", "h2", "h3", "h4", "h5", "h6")


def image_names(root: Element) -> None:
    """A cell, item or heading whose only content is a logo is named by the logo's
    ``alt`` text (``<td><img alt="OpenAI"></td>``): the alt becomes its text."""
    for img in root.iter("img"):
        alt = " ".join((img.get("alt") or "").split())
        if not alt or len(alt) > 100:
            continue
        box = next((a for a in img.iterancestors() if a.tag in NAMED_BY_IMAGE), None)
        if box is not None and not plain_text(box).strip():
            img.tail = f"{alt}{img.tail or ''}"


def strip_chrome(root: Element, keep_share: float | None = None,
                 names: bool = False) -> None:
    """Remove navigation, page header and footer, sidebars, cookie banners and images.

    A header or aside inside ``<main>`` or an ``<article>`` is content (a model card's
    metadata sidebar). With ``keep_share``, an element that holds more than that share of
    the page's text stays: it wraps the content (a cookie policy's
    ``<div class="cookie-policy">``) rather than decorating it. With ``names``, a logo
    that is all a cell, item or heading holds leaves its ``alt`` text (``image_names``)."""
    total = len(plain_text(root)) if keep_share is not None else 0

    def wraps(el: Element) -> bool:
        return keep_share is not None and len(plain_text(el)) > total * keep_share

    for el in list(root.iter("nav", "footer")):
        if not wraps(el):
            drop(el)
    for el in list(root.iter("header", "aside")):
        if next(el.iterancestors("main", "article"), None) is None and not wraps(el):
            drop(el)
    maybe = _having("role", "id", "class")
    chrome = [el for el in maybe(root)
              if el.get("role") in _CHROME_ROLES or _CHROME_ATTR.search(_attr_text(el))]
    marked = set(chrome)
    for el in chrome:
        if not any(a in marked for a in el.iterancestors()) and not wraps(el):
            drop(el)
    if names:
        image_names(root)
    for el in list(root.iter("img", "picture", "video", "audio", "source")):
        drop(el)


def visible_roots(markup: bytes | str, selector: str | None) -> list[Element]:
    """The page without its noise: what ``selector`` picks in it, else its body. (The
    selector sees the page without noise: ``div > *`` picks no ``<button>``.)"""
    root = parse_html(markup)
    strip_noise(root)
    return select(serialise(root), selector) if selector else [body_of(root)]


def content_root(markup: bytes | str, selector: str | None,
                 keep_share: float | None = None, logo_names: bool = False,
                 ) -> list[Element]:
    """The parts of a page worth reading, noise removed: what ``selector`` picks, else the
    page's ``<main>`` (when it holds content), else its body, chrome removed (see
    ``strip_chrome`` for ``keep_share``; ``logo_names``: a logo alone in a cell, item or
    heading leaves its ``alt`` text)."""
    if selector:
        return visible_roots(markup, selector)
    root = parse_html(markup)
    strip_noise(root)  # a hidden <html> empties the page
    strip_chrome(root, keep_share, logo_names)
    main = next(root.iter("main"), None)
    if main is None:
        main = next((el for el in root.iter() if isinstance(el.tag, str)
                     and el.get("role") == "main"), None)
    if main is not None and next(main.iterdescendants("h1", "h2", "h3", "table", "ul", "dl",
                                                       "p"), None) is not None:
        return [main]
    return [body_of(root)]


# --- text --------------------------------------------------------------------------------


def texts(el: Element, after: Callable[[str], str | None] | None = None,
          flatten: bool = False) -> list[str]:
    """The strings of ``el``'s text, in order, without script, style, template and ruby
    annotation text. ``after(tag)`` adds a separator after an element; ``flatten`` turns
    line breaks into spaces outside ``<pre>`` (re-wrapping a paragraph is not a change)."""
    out: list[str] = []
    tag = el.tag
    if not isinstance(tag, str):  # a comment or processing instruction: no text of its own
        return out
    append = out.append

    def walk(node: Element, tag: str, skip: bool, pre: bool) -> None:
        inside = skip or tag in SKIP_TEXT
        in_pre = pre or tag == "pre"
        bare = flatten and not in_pre  # source line breaks are spaces
        text = node.text
        if text and not inside:
            append(text.replace("\n", " ") if bare else text)
        for child in node:
            child_tag = child.tag
            if isinstance(child_tag, str):  # not a comment or processing instruction
                walk(child, child_tag, inside, in_pre)
            tail = child.tail  # a tail lives in the parent: ``inside`` and ``in_pre`` are its
            if tail and not inside:
                append(tail.replace("\n", " ") if bare else tail)
        if after is not None:
            sep = after(tag)
            if sep is not None:
                append(sep)

    walk(el, tag, False, _in_pre(el))
    return out


def _in_pre(el: Element) -> bool:
    """Whether ``el`` is inside a ``<pre>`` (``el.iterancestors("pre")``: a tag filter
    costs more to set up than a walk of the few ancestors)."""
    return any(a.tag == "pre" for a in el.iterancestors())


def get_text(el: Element, separator: str = "") -> str:
    return separator.join(texts(el))


def stripped_text(el: Element) -> str:
    """The element's strings, each stripped, joined with nothing between them."""
    return "".join(s.strip() for s in texts(el))


def line_break(tag: str) -> str | None:
    """The separator ``visible_lines`` puts after an element: a line break after a block,
    " | " after a table cell."""
    if tag in LINE_BLOCKS:
        return "\n"
    return " | " if tag in ("td", "th") else None


def visible_lines(nodes: Iterable[Element], flatten: bool = False) -> list[str]:
    """The visible text of the elements as whitespace-normalised, non-empty lines: each
    block element ends a line, table cells are joined by " | "."""
    lines: list[str] = []
    for node in nodes:
        for line in "".join(texts(node, line_break, flatten)).split("\n"):
            clean = normalise_space(line).strip(" |")
            if clean:
                lines.append(clean)
    return lines


# A fragment this long (characters) or shorter is stripped of noise by a walk in Python.
_SMALL_FRAGMENT = 8192
_HTML_TAG = re.compile(r"<(/?[a-z][a-z0-9]*)(\s[^<>]*)?/?>", re.I)


def fragment_lines(fragment: str | None, *, markdown: bool = False,
                   code: bool = False) -> list[str]:
    """Clean text lines of an HTML (or, with ``markdown``, Markdown) fragment: a feed
    entry's content, a release body. Source line breaks inside a paragraph are spaces;
    "3 days ago" and "Last updated: …" lines are dropped. With ``code``, inline code
    keeps its backticks (``mark_code``)."""
    if not fragment:
        return []
    if markdown:
        fragment = markdown_html(fragment)
    if not _HTML_TAG.search(fragment):
        lines = [normalise_space(line) for line in fragment.splitlines()]
    else:
        root = parse_html(fragment)
        if len(fragment) <= _SMALL_FRAGMENT:
            strip_noise_walk(root)
        else:
            strip_noise(root)
        if code:
            mark_code(root)
        lines = visible_lines([root], flatten=True)
    return clean_lines(lines)


_CODE_MAX = 120  # characters: an id, a parameter, a command; longer code is a snippet


def mark_code(root: Element) -> None:
    """Inline code (a ``<code>`` outside ``<pre>`` holding only a short text) written
    between backticks, as Markdown writes it: in release notes a model id is code
    ("add `acme-large-2` to the models enum"), and the backticks are what says it is one."""
    for el in list(root.iter("code")):
        text = el.text or ""
        if (len(el) == 0 and text.strip() and len(text) <= _CODE_MAX and "`" not in text
                and "\n" not in text and not _in_pre(el)):
            el.text = f"`{text.strip()}`"


def flatten_text(root: Element) -> None:
    """Source line breaks inside text are spaces, outside ``<pre>``: re-wrapping a
    paragraph is not a change. Only block elements start new lines."""
    _flatten(root, _in_pre(root))


def _flatten(el: Element, pre: bool) -> None:
    inside = pre or el.tag == "pre"
    if el.text and "\n" in el.text and not inside:
        el.text = el.text.replace("\n", " ")
    for child in el:
        if isinstance(child.tag, str):
            _flatten(child, inside)
        if child.tail and "\n" in child.tail and not inside:
            child.tail = child.tail.replace("\n", " ")


_SEP = "\x1e"
# Footnote marks in a <sup>: "1", "[2]", "(a)", "*", "1, 2". The same strings as
# ``(\[?\(?[\d*†‡§a-z]{1,3}\)?\]?[,\s]*)+``, written so that a long run of letters cannot
# be split into marks in exponentially many ways (a <sup> of 28 letters and "!" took 4 s):
# runs of mark characters, separated by at least one bracket, comma or space.
_MARK = r"[\d*†‡§a-z]"
_FOOTNOTE_SUP = re.compile(rf"^\s*\[?\(?{_MARK}+(?:(?=[)\],\s\[(])\)?\]?[,\s]*\[?\(?{_MARK}+)*"
                           rf"\)?\]?[,\s]*$")


def text_parts(el: Element) -> list[str]:
    """The element's text split at line breaks and block boundaries, each part clean;
    source newlines inside a paragraph are spaces, footnote superscripts are dropped."""
    out: list[str] = []
    _pieces(el, out)
    # clean_text makes a part of only whitespace empty: such parts are skipped before
    parts = (clean_text(p) for p in "".join(out).split(_SEP) if p and not p.isspace())
    return [p for p in parts if p]


def _pieces(node: Element, out: list[str]) -> None:
    if node.text:
        out.append(node.text)
    for child in node:
        tag = child.tag
        if isinstance(tag, str):  # a comment's text is not the page's
            if tag == "br":
                out.append(_SEP)
            elif tag == "sup" and _FOOTNOTE_SUP.match("".join(child.itertext())):
                pass
            elif tag in PART_BLOCKS:
                out.append(_SEP)
                _pieces(child, out)
                out.append(_SEP)
            else:
                _pieces(child, out)
        if child.tail:
            out.append(child.tail)


def plain_text(el: Element) -> str:
    """All the text under ``el`` (comments excluded), in one C call: the strings
    ``"".join(el.itertext())`` gives."""
    return etree().tostring(el, method="text", encoding=str,  # type: ignore[no-any-return]
                            with_tail=False)


# --- finding elements ------------------------------------------------------------------


def elements(el: Element) -> list[Element]:
    """The element children of ``el`` (no comments or processing instructions)."""
    return [c for c in el if isinstance(c.tag, str)]


def classes(el: Element) -> list[str]:
    return (el.get("class") or "").split()


def has_class(el: Element, name: str) -> bool:
    return name in classes(el)


def last_before(el: Element, tags: Iterable[str]) -> Element | None:
    """The last element named ``tags`` that starts before ``el`` (an ancestor or an
    element earlier in the document)."""
    names = " or ".join(f"self::{t}" for t in tags)
    found = _xpath(f"(ancestor::*[{names}] | preceding::*[{names}])[last()]")(el)
    return found[0] if found else None


def heading_before(el: Element) -> Element | None:
    return last_before(el, HEADINGS)


def descendants(el: Element, *tags: str) -> list[Element]:
    """``el``'s descendant elements, or those named ``tags``, in document order."""
    return list(el.iterdescendants(*tags)) if tags else [
        d for d in el.iterdescendants() if isinstance(d.tag, str)]


def first(el: Element, *tags: str) -> Element | None:
    """The first descendant named one of ``tags``."""
    return next(el.iterdescendants(*tags), None)


def nearest(el: Element, *tags: str) -> Element | None:
    """The nearest ancestor named one of ``tags``."""
    return next(el.iterancestors(*tags), None)


def serialise(el: Element) -> str:
    return etree().tostring(el, method="html", encoding=str,  # type: ignore[no-any-return]
                            with_tail=False)


def copy(el: Element) -> Element:
    """A detached copy of ``el`` and what it holds, without its tail."""
    import copy as _copy

    out = _copy.deepcopy(el)
    out.tail = None
    return out
