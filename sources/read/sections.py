"""A page or rendered Markdown split into sections by heading, as normalised text (pure).

Each block (paragraph, list item, table row, code line) is one line; the line breaks
inside a paragraph are spaces, so re-wrapped Markdown reads the same. List items start
with "- " whatever their marker or number; table rows are cells joined by " | ".
Headings lose their numbering ("3.2 Limitations" → "Limitations"), anchor marks and
"[optional]"; repeated headings get " (2)", " (3)". The one top-level heading that opens
the page is its *title*; the text before the first other heading is ``(intro)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .dates import drop_inline_dates, is_date_noise
from .html import first, get_text, text_parts
from .text import clean_text

INTRO = "(intro)"
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_INLINE = {"a", "span", "strong", "em", "b", "i", "u", "s", "code", "small", "sup", "sub", "mark",
           "abbr", "cite", "q", "time", "kbd", "var", "label", "font", "del", "ins", "tt", "big",
           "bdi", "bdo", "data", "dfn", "samp", "wbr"}
_INLINE_STOP = (*_HEADINGS, "p", "div", "ul", "ol", "table")
_SKIP = {"hr", "img", "picture", "video", "audio", "source", "track", "map", "area"}

Event = tuple[str, int, str]  # ("h", level, heading) or ("t", 0, line)


class _Walker:
    """Turns a tree into heading and line events in document order."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def walk(self, node: Any, prefix: str = "") -> None:
        buf: list[str] = []
        if node.text:
            buf.append(node.text)
        for child in node:
            tag = child.tag
            if isinstance(tag, str) and tag not in _SKIP:
                if tag == "br":
                    buf.append(" ")
                elif tag in _INLINE and first(child, *_INLINE_STOP) is None:
                    buf.append(get_text(child))
                else:
                    self._block(child, self._flush(buf, prefix))
                    prefix = ""
            if child.tail:
                buf.append(child.tail)
        self._flush(buf, prefix)

    def _flush(self, buf: list[str], prefix: str) -> str:
        text = clean_text("".join(buf))
        buf.clear()
        if text:
            self.events.append(("t", 0, prefix + text))
            return ""
        return prefix

    def _block(self, el: Any, prefix: str) -> None:
        tag = el.tag
        if tag in _HEADINGS:
            self.events.append(("h", _HEADINGS[tag], heading_text(el)))
        elif tag == "pre":
            for line in get_text(el).splitlines():
                if line.strip():
                    self.events.append(("t", 0, clean_text(line) if len(line) > 400
                                        else line.rstrip().replace("\t", "    ")))
        elif tag == "table":
            for row in el.iterdescendants("tr"):
                if next(row.iterancestors("table")) is el:
                    cells = [" ".join(text_parts(c)) for c in row if c.tag in ("td", "th")]
                    if any(cells):
                        self.events.append(("t", 0, " | ".join(cells)))
        elif tag in ("ul", "ol"):
            for item in el:
                if item.tag == "li":
                    self.walk(item, prefix="- ")
        else:
            self.walk(el, prefix)


_NUMBERING = re.compile(r"^\s*((\d+\.)+\d*|\d+\)|[ivxIVX]+\.|[A-Z]\.)\s+")


def heading_text(el: Any) -> str:
    """A heading's words: no numbering, anchor marks, "[optional]" or trailing colon."""
    text = " ".join(text_parts(el))
    text = re.sub(r"\[optional\]", "", text, flags=re.I)
    text = text.strip(" #¶§🔗:")
    return _NUMBERING.sub("", text).strip()


def heading_key(heading: str) -> str:
    """What two headings are matched by: case and punctuation do not count."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", heading.casefold())).strip()


def events(roots: Iterable[Any]) -> list[Event]:
    walker = _Walker()
    for root in roots:
        walker.walk(root)
    return walker.events


def _title_at(found: list[Event]) -> tuple[int | None, set[int]]:
    """The title heading (the first, when it is top-level and the next heading is deeper
    or only repeats it, as a Hub page's "org / model" over the card's "model"), and the
    headings folded into it."""
    heads = [(i, e) for i, e in enumerate(found) if e[0] == "h" and e[2]]
    if not heads:
        return None, set()
    head, (_, level, text) = heads[0]
    if level > min(e[1] for _, e in heads):
        return None, set()
    if len(heads) == 1 or heads[1][1][1] > level:
        return head, {head}
    second = heads[1][1][2].casefold()
    if second in text.casefold() or text.casefold() in second:
        rest = [e[1] for _, e in heads[2:]]
        if not rest or min(rest) > level:
            return head, {head, heads[1][0]}
    return None, set()


# Hub page panels that change with other people's activity, not with the card.
_VOLATILE = re.compile(r"^(spaces? using|collections? including|models? (trained|fine-?tuned) on|"
                       r"(adapters|finetunes|fine-tunes|quantizations|merges) of|"
                       r"inference providers|downloads last month)\b", re.I)
# A date on the line after one of these labels is a fact about the model, not page noise.
_DATE_LABEL = re.compile(r"(cut-?off|release|launch|deprecat|retire|shutdown|sunset|"
                         r"end of life|available|snapshot|version|training data)\W*$", re.I)
_COUNTER = re.compile(r"^[\d.,\s]+[kmb]?$", re.I)
_COUNTER_LABEL = re.compile(r"\b(downloads?|likes?|views?|stars?|followers?|forks?|watchers?|"
                            r"installs?|used by|last month|this week)\W*$", re.I)


def split_sections(roots: Iterable[Any], ignore: Iterable[str] = (),
                   ) -> tuple[str | None, dict[str, str]]:
    """(title, {heading: text}) of the content under ``roots``."""
    rx = [re.compile(p) for p in ignore]
    found = events(roots)
    title_at, folded = _title_at(found)
    sections: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    current = INTRO
    for i, (kind, _, text) in enumerate(found):
        if kind == "h":
            if i in folded or not text:
                current = INTRO if i in folded else current
                continue
            if _VOLATILE.match(text):
                current = ""
                continue
            key = heading_key(text)
            seen[key] = seen.get(key, 0) + 1
            current = text if seen[key] == 1 else f"{text} ({seen[key]})"
            sections.setdefault(current, [])
            continue
        lines = sections.get(current) or [""]
        line = _clean_line(text, rx, keep_dates=bool(_DATE_LABEL.search(lines[-1])))
        counter = _COUNTER.match(line) and _COUNTER_LABEL.search(lines[-1])
        if line and current != "" and not counter:
            sections.setdefault(current, []).append(line)
    title = found[title_at][2] if title_at is not None else None
    return title, {k: "\n".join(v) for k, v in sections.items()}


def _clean_line(line: str, rx: list[re.Pattern[str]], keep_dates: bool = False) -> str:
    """A line without ignored text and dates that say when the page was made, or ""."""
    if keep_dates:
        return line.rstrip()
    if is_date_noise(line.removeprefix("- ")):
        return ""
    for pattern in rx:
        line = pattern.sub("", line)
    if not line.startswith(" "):
        line = drop_inline_dates(line)
        if is_date_noise(line.removeprefix("- ")):
            return ""
    return line.rstrip() if line.strip() not in ("", "-") else ""
