"""Detect a body's format from its content, and turn HTML into clean text.

Pure helpers shared by the kinds: no I/O, no clock.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .base import Format

if TYPE_CHECKING:  # bs4 is imported where a body is parsed, not when a kind is loaded
    from bs4 import BeautifulSoup, Tag

MAX_BODY = 5 * 1024 * 1024

_XML_DECL = re.compile(rb"^\s*(<\?xml[^>]*\?>\s*)?(<!--.*?-->\s*)*", re.S)
_HTML_HINT = re.compile(rb"<(!doctype html|html|head|body|div|table|p|ul|h[1-6]|main|article)\b",
                        re.I)
_MD_HINT = re.compile(r"^(#{1,6} |\s*[-*] |\|.*\||---\s*$)", re.M)


def decode(body: bytes) -> str:
    """Decode a body as UTF-8, falling back to latin-1 so parsing never fails on bytes."""
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("latin-1")


def detect(body: bytes) -> Format:
    """Guess a body's format: html, rss, atom, json, csv, markdown or text."""
    head = body[:4096].lstrip()
    if head[:1] in (b"{", b"["):
        try:
            json.loads(body)
            return "json"
        except ValueError:
            pass
    stripped = _XML_DECL.sub(b"", head, count=1)
    low = stripped[:512].lower()
    if low.startswith(b"<rss") or low.startswith(b"<rdf:rdf") or b"<channel" in low[:200]:
        return "rss"
    if low.startswith(b"<feed"):
        return "atom"
    if _HTML_HINT.search(head[:2048]):
        return "html"
    text = decode(body[:8192])
    if text.startswith("---\n") or _MD_HINT.search(text):
        return "markdown"
    first = text.splitlines()[0] if text.strip() else ""
    if first.count(",") >= 1 and "," in text and len(text.splitlines()) > 1 and "<" not in first:
        return "csv"
    return "text"


NOISE_TAGS = ("script", "style", "noscript", "template", "svg", "iframe", "canvas", "head",
              "meta", "link", "button", "form", "input", "select", "textarea")


def soup(body: bytes | str) -> BeautifulSoup:
    from bs4 import BeautifulSoup

    return BeautifulSoup(body, "lxml")


_NOISE = frozenset(NOISE_TAGS)


def strip_noise(root: BeautifulSoup | Tag) -> None:
    """Remove scripts, styles, comments and hidden elements in place."""
    # Plain walks rather than find_all: bs4's filter machinery made this a third of the
    # parse time of a subprocessor page. Same three steps, same order.
    from bs4 import Comment, Tag

    for node in [n for n in root.descendants if isinstance(n, Comment)]:
        node.extract()
    for tag in [n for n in root.descendants if isinstance(n, Tag) and n.name in _NOISE]:
        tag.decompose()
    for tag in [n for n in root.descendants if isinstance(n, Tag) and _is_hidden(n)]:
        tag.decompose()


def _is_hidden(tag: Tag) -> bool:
    if tag.attrs is None:
        return False
    if tag.has_attr("hidden") or tag.get("aria-hidden") == "true":
        return True
    style = str(tag.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


def select_root(doc: BeautifulSoup, selector: str | None) -> list[Tag]:
    """The elements a CSS ``select`` picks, or the body (or whole document) without one."""
    if selector:
        return list(doc.select(selector))
    body = doc.body
    return [body] if body is not None else [doc]  # type: ignore[list-item]


_BLOCK = {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
          "header", "footer", "main", "table", "ul", "ol", "dl", "dt", "dd", "br", "blockquote",
          "pre", "nav", "aside", "figure", "figcaption", "details", "summary", "hr"}


def text_lines(nodes: Iterable[Tag]) -> list[str]:
    """Visible text of the nodes as whitespace-normalised, non-empty lines."""
    lines: list[str] = []
    for node in nodes:
        for el in node.find_all(_BLOCK):
            el.insert_after("\n")
        for cell in node.find_all(["td", "th"]):
            cell.insert_after(" | ")
        text = node.get_text()
        for line in text.split("\n"):
            clean = normalise_space(line).strip(" |")
            if clean:
                lines.append(clean)
    return lines


def normalise_space(text: str) -> str:
    """Runs of whitespace → one space, none at the ends: ``re.sub(r"\\s+", " ", text)
    .strip()`` (``\\s`` is ``str.isspace``), in a third of the time."""
    return " ".join(text.split())


def apply_ignore(lines: list[str], patterns: Iterable[str]) -> list[str]:
    """Remove what each ``ignore`` regex matches; drop lines left empty."""
    compiled = [re.compile(p) for p in patterns]
    if not compiled:
        return lines
    out = []
    for line in lines:
        for rx in compiled:
            line = rx.sub("", line)
        line = normalise_space(line)
        if line:
            out.append(line)
    return out


# Lines that only say when a page was rendered or last updated carry no meaning.
DATE_NOISE = re.compile(
    r"^(last\s+(updated|modified|revised|reviewed)|updated( on)?|page (generated|rendered)|"
    r"generated( on| at)?|as of|effective( date)?|copyright|©)\b[:\s].{0,60}$",
    re.I,
)
