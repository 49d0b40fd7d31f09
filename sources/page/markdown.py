"""Markdown (and plain text) as the blocks a reader reads, in one linear pass (pure).

The page kind reads Markdown for its text, not its layout: an Open Terms Archive
version of a policy is a few hundred KB of links, lists and tables, and a full CommonMark
renderer spends most of a parse on link destinations it then throws away. This reader
gives the same events as ``sources.read.sections.events`` does for HTML:

* ``("h", level, text)`` for an ATX (``## Title``) or setext (``Title`` over ``===``)
  heading;
* ``("t", 0, text)`` for a paragraph (its soft line breaks are spaces), a list item
  ("- " and its text, whatever its marker or number), a table row (its cells joined by
  " | "; the delimiter row is no text) or a line of a fenced code block.

Inline, a link is its text, an image is nothing, an autolink is its address; emphasis,
code marks, escapes and HTML tags go (a ``<br>`` is a space); entities are decoded.
Every pattern is linear: no nested repetition, bounded titles.
"""

from __future__ import annotations

import html
import re

from ..read.text import clean_text

Event = tuple[str, int, str]

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^\s{0,3}(#{1,6})(?:\s+|$)(.*)$")
_ATX_CLOSE = re.compile(r"\s+#+\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_BREAK = re.compile(r"^\s{0,3}(?:(?:\*\s*){3,}|(?:-\s*){3,}|(?:_\s*){3,})$")
_ITEM = re.compile(r"^\s*(?:[*+-]|\d{1,9}[.)])(?:\s+(.*)|$)")
_QUOTE = re.compile(r"^\s{0,3}(?:>\s?)+")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_DELIMITER = re.compile(r"^\s*\|?(?:\s*:?-+:?\s*\|)+\s*(?::?-+:?\s*)?\|?\s*$")
# What a line that is not a paragraph's text starts with.
_MARKS = frozenset("=-*_#|[>+0123456789")
_REF_DEF = re.compile(r"^\s{0,3}\[[^\[\]]{1,200}\]:\s*\S+")

_URL = r"[^()\s]*(?:\([^()\s]*\)[^()\s]*)*"
_TITLE = r"(?:\s+(?:\"[^\"\n]{0,300}\"|'[^'\n]{0,300}'|\([^()\n]{0,300}\)))?"
_TEXT = r"(?:[^\[\]\\]|\\.)*"  # a link's text: no bracket unless escaped
_IMAGE = re.compile(rf"!\[{_TEXT}\]\(\s*<?{_URL}>?{_TITLE}\s*\)|!\[{_TEXT}\]\[{_TEXT}\]")
_LINK = re.compile(rf"\[({_TEXT})\]\(\s*<?{_URL}>?{_TITLE}\s*\)|\[({_TEXT})\]\[{_TEXT}\]")
_AUTOLINK = re.compile(r"<((?:https?|mailto|ftp):[^<>\s]*)>", re.I)
_BREAK_TAG = re.compile(r"<(?:br|/?p|/?div|/?li|/?tr|/?td|/?th|/?ul|/?ol|/?table|/?h[1-6])\b"
                        r"[^<>]*>", re.I)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<!--[^<>]*-->")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_EMPHASIS = re.compile(r"(?<!\\)\*+|(?<!\\)`+")
# _emphasis_ and __strong__: the underscores around words go, not those of "_ga" or
# "snake_case". The text between is bounded: an unclosed "_" costs 500 characters.
_UNDERSCORES = re.compile(r"(?<![^\W_])(_{1,3})(?=[^\s_])(.{0,500}?[^\s_])\1(?![^\W_])")


def inline(text: str) -> str:
    """A paragraph's Markdown as the text it shows."""
    if "[" in text:
        text = _IMAGE.sub("", text)
        text = _LINK.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), text)
    if "<" in text:
        text = _AUTOLINK.sub(r"\1", text)
        text = _TAG.sub("", _BREAK_TAG.sub(" ", text))
    if "*" in text or "`" in text:
        text = _EMPHASIS.sub("", text)
    if "_" in text:
        text = _UNDERSCORES.sub(r"\2", text)
    if "\\" in text:
        text = _ESCAPE.sub(r"\1", text)
    if "&" in text:
        text = html.unescape(text)
    return clean_text(text)


def _cells(row: str) -> list[str]:
    body = row.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [inline(c) for c in re.split(r"(?<!\\)\|", body)]


class _Reader:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.para: list[str] = []
        self.prefix = ""

    def flush(self) -> None:
        if self.para:
            text = inline(" ".join(self.para))
            if text:
                self.events.append(("t", 0, self.prefix + text))
        self.para, self.prefix = [], ""

    def heading(self, level: int, text: str) -> None:
        self.flush()
        words = inline(text)
        if words:
            self.events.append(("h", level, words))

    def line(self, raw: str) -> None:
        first = raw.lstrip()[:1]
        if not first:
            self.flush()
            return
        if first not in _MARKS:  # most lines: a paragraph's words
            self.para.append(raw.strip())
            return
        setext = _SETEXT.match(raw)
        if setext and self.para and not self.prefix:
            text, self.para = " ".join(self.para), []
            self.heading(1 if setext.group(1)[0] == "=" else 2, text)
            return
        if _BREAK.match(raw):
            self.flush()
            return
        atx = _ATX.match(raw)
        if atx:
            self.heading(len(atx.group(1)), _ATX_CLOSE.sub("", atx.group(2)))
            return
        if _TABLE_ROW.match(raw):
            self.flush()
            if not _DELIMITER.match(raw):
                cells = _cells(raw)
                if any(cells):
                    self.events.append(("t", 0, " | ".join(cells)))
            return
        if _REF_DEF.match(raw):
            self.flush()
            return
        raw = _QUOTE.sub("", raw)
        item = _ITEM.match(raw)
        if item:
            self.flush()
            self.prefix = "- "
            raw = item.group(1) or ""
        self.para.append(raw.strip())


def markdown_events(text: str) -> list[Event]:
    """The heading and text events of a Markdown text, in order."""
    reader = _Reader()
    fence = ""
    for raw in text.split("\n"):
        mark = _FENCE.match(raw)
        if fence:
            if mark and mark.group(1).startswith(fence):
                fence = ""
            elif raw.strip():
                reader.events.append(("t", 0, clean_text(raw) if len(raw) > 400
                                      else raw.rstrip().replace("\t", "    ")))
            continue
        if mark:
            reader.flush()
            fence = mark.group(1)[:3]
            continue
        reader.line(raw.rstrip("\r"))
    reader.flush()
    return reader.events
