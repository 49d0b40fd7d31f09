"""A page body as the lines a reader reads (pure).

HTML (noise removed; navigation, header, footer, cookie banners and sidebars removed
unless they wrap most of the text), and Markdown or plain text read as Markdown (an
Open Terms Archive version, a docs page; ``sources/page/markdown.py``, or rendered as
HTML when a ``select`` needs a tree), become one line per block: a heading is
``#`` marks and its words, a list item starts with "- ", a table row is its cells joined
by " | ". Link targets, images and their URLs are not text. Then, what a page adds that is
no content goes: screen-reader and link labels ("Opens in new tab"), "N days ago", and
lines that only say when the page was updated or takes effect ("Last updated: …",
"Effective September 15, 2025").
"""

from __future__ import annotations

import re
from functools import cache

from .. import vocab
from ..base import BaseSettings
from ..read.detect import detect_format
from ..read.encoding import decode
from ..read.html import content_root, visible_roots
from ..read.markdown import markdown_page, split_front_matter
from ..read.sections import events
from ..read.text import apply_ignore, clean_text, normalise_space, strip_relative_time
from .fold import fold_dates, strip_prefix
from .markdown import markdown_events

# A chrome element (nav, header, a "cookie" class …) that holds more than this share of
# the page's text wraps the content and stays.
WRAPPER_SHARE = 0.5
# A stamp line may hold this many words besides its label and date ("Previous Version").
STAMP_EXTRA_WORDS = 3
# A line (a paragraph) is kept to this many characters: a whole policy recorded as one
# paragraph is a tenth of it; more is a hostile body, and every later stage reads it.
MAX_LINE = 500_000
# And a page to this many lines (a long policy has a few thousand).
MAX_LINES = 50_000


def page_lines(body: bytes, settings: BaseSettings) -> list[str]:
    """The meaningful text lines of a body, whatever its format."""
    fmt = detect_format(body, settings.format)
    if fmt == "json":
        raw = [clean_text(line) for line in decode(body).splitlines()]
    else:
        raw = _block_lines(body, fmt, settings.select)
    labels = _labels(vocab.generation())
    if labels is not None:  # the labels' pattern runs on lines only if the page has one
        page = " ".join(" ".join(raw).casefold().split())
        if not any(label in page for label in labels[1]):
            labels = None
    tidy = [_tidy(line, labels) for line in raw]
    lines = [line[:MAX_LINE] for line in tidy if line and not is_stamp_line(line)][:MAX_LINES]
    return apply_ignore(lines, settings.ignore)


def _block_lines(body: bytes, fmt: str, select: str | None) -> list[str]:
    if fmt in ("html", "rss", "atom"):
        found = events(content_root(body, select, keep_share=WRAPPER_SHARE))
    elif select:  # a selector needs a tree: the Markdown rendered as HTML
        _, rest = split_front_matter(decode(body))
        found = events(visible_roots(markdown_page(rest), select))
    else:  # markdown, and text or csv read as Markdown: a paragraph's line breaks are spaces
        _, rest = split_front_matter(decode(body))
        found = markdown_events(rest)
    out = []
    for kind, level, text in found:
        if kind == "h":
            if text:
                out.append("#" * level + " " + text)
        else:
            out.append(text)
    return out


@cache
def _labels(generation: int) -> tuple[re.Pattern[str], tuple[str, ...]] | None:
    """The labels' pattern, and the labels folded (a line that holds none of them, folded,
    holds no label: the pattern is not run on it)."""
    phrases = sorted((str(p) for p in vocab.get("page_noise").get("labels") or ()),
                     key=len, reverse=True)
    if not phrases:
        return None
    folded = tuple(sorted({" ".join(p.strip("()[] ").casefold().split()) for p in phrases
                           if p.strip("()[] ")}))
    # A label of several words may be glued to the link text before it ("More
    # InformationOpens in new tab"); a one-word label must stand alone.
    many = "|".join(_phrase_rx(p) for p in phrases if " " in p.strip())
    one = "|".join(_phrase_rx(p) for p in phrases if " " not in p.strip())
    alts = "|".join(x for x in (many and f"(?:{many})", one and rf"(?<!\w)(?:{one})") if x)
    return re.compile(rf"[(\[]?(?:{alts})(?!\w)[)\]]?", re.I), folded


def _phrase_rx(phrase: str) -> str:
    return re.escape(phrase.strip()).replace(r"\ ", r"\s+")


def _tidy(line: str, labels: tuple[re.Pattern[str], tuple[str, ...]] | None) -> str:
    """A line without link labels and relative times, its spaces normalised."""
    if labels is not None:
        low = " ".join(line.casefold().split())
        if any(w in low for w in labels[1]):
            line = labels[0].sub(" ", line)
    line = strip_relative_time(line)
    line = normalise_space(line)
    return "" if line in ("-", "- -", "|", "#") or not line.strip("#-|• ") else line


@cache
def _stamps(generation: int) -> re.Pattern[str] | None:
    phrases = sorted((str(p) for p in vocab.get("page_noise").get("stamps") or ()),
                     key=len, reverse=True)
    if not phrases:
        return None
    alts = "|".join(_phrase_rx(p) for p in phrases)
    return re.compile(rf"(?:{alts})(?!\w)", re.I)


_ISO = re.compile(r"\b(?:19|20)\d\d-\d\d(?:-\d\d)?\b")
_COPYRIGHT = re.compile(r"^(?:©|\(c\)|copyright\b)", re.I)


def is_stamp_line(line: str) -> bool:
    """A line that only says when the page was updated, released or takes effect (a label,
    a date, at most a few other words), or a copyright line, or only a date."""
    text = strip_prefix(line).strip()
    if len(text) > 200:
        return False
    if _COPYRIGHT.match(text):
        return True
    if not _DIGIT.search(text) and not _stamp_start(text):
        return False  # no date, and no label: not a stamp
    folded = fold_dates(text)
    dated = _ISO.search(folded) is not None
    rest = _ISO.sub(" ", folded)
    rx = _stamps(vocab.generation())
    label = rx.match(rest.lstrip(" :-–—([")) if rx is not None else None
    if label is None:
        return dated and not re.search(r"[^\W\d_]", rest)  # nothing but a date
    words = re.findall(r"[^\W_]+", rest.lstrip(" :-–—([")[label.end():])
    return len(words) <= STAMP_EXTRA_WORDS and (dated or not words)


_DIGIT = re.compile(r"\d")


def _stamp_start(text: str) -> bool:
    """The text starts with a stamp label's first word."""
    first = text.lstrip(" :-–—([").split(" ", 1)[0].casefold()
    return first.rstrip(":") in _stamp_firsts(vocab.generation())


@cache
def _stamp_firsts(generation: int) -> frozenset[str]:
    return frozenset(str(p).split()[0].casefold()
                     for p in vocab.get("page_noise").get("stamps") or () if str(p).split())
