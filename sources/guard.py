"""Suspect documents: a body that parsed, but whose content should not be believed yet.

A vendor page that suddenly lists nothing, or a fraction of what it listed, or that says
"Just a moment…", "Sign in to continue" or "This page isn't available", is far more
often a bot wall, a login wall, an error or a redirect page served with a 200 than a
purge or a rewrite. ``suspect`` says why a new document looks like that, or ``None``; it
is pure (no I/O) and shared by both paths: the daemon holds a suspect document until it
is seen again (``monitor/check/analyse.py``), ``reassess diff`` reports it as
``"suspect": true`` and fires nothing (``triggers/offline.py``).

Judged in this order, for every kind:

1. **content** (``sources/vocab/suspect_pages.yaml``): the new document, or, when it is
   short, the raw body it came from, says what a bot challenge, login wall, error or
   redirect page says, where the previous version did not. On a short page (at most
   ``short_words`` words) a line of such a page is enough; in a longer document such a
   line must be new *and* the document must have lost text (part of an assembled page
   replaced by an error message). A long policy that says "error" in a sentence is still
   the policy; a page that always said "Sign in" is judged by size alone.
2. **the previous version** was such a page and the new one is not (an error page
   replaced by the document): nothing to compare with, no rewrite to report.
3. **size**: the document holds nothing, or collapsed below ``VANISH_SHARE`` of the
   previous size (from at least ``MIN_GUARDED`` items).

Every reason starts with its class: ``bot challenge:``, ``login wall:``, ``error page:``,
``redirect page:``, ``previous version:``, ``empty:`` or ``collapsed:``.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from . import vocab
from .base import Document, KindModule

# A drop to under this share of the previous size, from at least MIN_GUARDED items,
# is held back as suspect until seen again.
VANISH_SHARE = 0.5
MIN_GUARDED = 4
# What of a document is read for signatures: its strings, up to these many characters.
MAX_TEXT = 2_000_000
# A line (or sentence) longer than this many words is never a wall's message.
LINE_WORDS_MAX = 40
# What of a raw body is read when the document is short.
MAX_BODY = 512 * 1024
# An old page this short that was an error page, replaced by one this many times longer:
# the document is back.
BACK_FACTOR = 2
# A document this short holds (almost) nothing: its raw body is read for a wall's words.
TINY_WORDS = 25
# Words a longer document must lose for a new error line in it to mean that part of it
# was replaced by an error page.
MIN_LOSS = 100
# the class of a reason that says the *previous* version was the wall, not this one
AFTER_A_WALL = "previous version:"


def suspect(kind: KindModule, old: Document | None, new: Document, *,
            body: bytes | None = None) -> str | None:
    """Why ``new`` (after ``old``, or as a first version) is suspect; ``None`` if it is not.

    ``body`` is the raw fetched body ``new`` was parsed from, when the caller has it.
    """
    verdict = content_reason(old, new, body)
    if verdict is not None:
        return verdict
    size = kind.size(new)
    if size == 0:
        return _labelled("empty: the document holds nothing (an error, login or bot page?)",
                         new, body)
    if old is None:
        return None
    old_size = kind.size(old)
    if old_size >= MIN_GUARDED and size < old_size * VANISH_SHARE:
        return _labelled(f"collapsed: {size} items where there were {old_size} "
                         f"(under {VANISH_SHARE:.0%} of them)", new, body)
    return None


# --- content signatures -------------------------------------------------------------------


@dataclass(frozen=True)
class Signatures:
    short_words: int
    line_words: int
    lines: dict[str, str]  # folded phrase -> class
    words: dict[str, str]
    longest: int  # words of the longest ``lines`` phrase


@cache
def signatures(generation: int) -> Signatures:
    """``suspect_pages`` folded (generation: the vocabulary's)."""
    data = vocab.get("suspect_pages")
    lines: dict[str, str] = {}
    words: dict[str, str] = {}
    for name, groups in data.items():
        if not isinstance(groups, dict):
            continue
        for phrase in groups.get("lines") or ():
            lines.setdefault(fold(str(phrase)), name)
        for phrase in groups.get("words") or ():
            words.setdefault(fold(str(phrase)), name)
    lines.pop("", None)
    words.pop("", None)
    return Signatures(int(data.get("short_words") or 200), int(data.get("line_words") or 14),
                      lines, words, max((len(p.split()) for p in lines), default=1))


_NOT_WORD = re.compile(r"[^\w]+")
# Lines, and sentences within them: a wall's message is often one paragraph of two.
_SENTENCES = re.compile(r"\n|(?<=[.!?\u2026])\s+")


def fold(text: str) -> str:
    """Lower-case letters, digits and single spaces; apostrophes gone ("isn’t" → "isnt")."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("'", "").replace("\u2019", "").replace("\u02bc", "")
    return " ".join(_NOT_WORD.sub(" ", text).replace("_", " ").split())


@dataclass
class Text:
    """A document's text: its short lines (and sentences) folded, and how many words it
    holds. Only a short line can be a wall's message: longer ones are counted, not read."""

    lines: list[str]
    words: int
    shown: dict[str, str]  # a folded line -> the line as written

    @classmethod
    def of(cls, parts: Iterable[str], max_words: int | None = None) -> Text:
        """The text of ``parts``; reading stops past ``MAX_TEXT`` characters, or past
        ``max_words`` words (enough to tell that a text is not short)."""
        lines: list[str] = []
        shown: dict[str, str] = {}
        words = size = 0
        for part in parts:
            size += len(part)
            for raw in _SENTENCES.split(part):
                count = len(raw.split())
                words += count
                if 0 < count <= 2 * LINE_WORDS_MAX:
                    line = fold(raw)
                    if line:
                        lines.append(line)
                        shown.setdefault(line, " ".join(raw.lstrip("#-*> ").split()))
            if size > MAX_TEXT or (max_words is not None and words > max_words):
                break
        return cls(lines, words, shown)


def _strings(data: Any, depth: int = 0) -> Iterator[str]:
    """The strings of a document, keys excepted, in order."""
    if isinstance(data, str):
        yield data
    elif depth > 50:
        return
    elif isinstance(data, dict):
        for value in data.values():
            yield from _strings(value, depth + 1)
    elif isinstance(data, list | tuple):
        for value in data:
            yield from _strings(value, depth + 1)


Hit = tuple[str, bool, str]  # (class, whether a line is nothing but the phrase, a line)


def line_hits(text: Text, sig: Signatures) -> dict[str, Hit]:
    """The ``lines`` phrases that a line (or sentence) of the text is, or starts."""
    found: dict[str, Hit] = {}
    for line in text.lines:
        words = line.split(" ")
        if len(words) > sig.line_words:
            continue
        for n in range(1, min(sig.longest, len(words)) + 1):
            phrase = " ".join(words[:n])
            name = sig.lines.get(phrase)
            if name is not None:
                seen = found.get(phrase)
                exact = n == len(words)
                if seen is None or (exact and not seen[1]):
                    found[phrase] = (name, exact, line)
    return found


def strong(hits: dict[str, Hit]) -> bool:
    """Hits that make a page: two phrases, or a line that is nothing but one."""
    return len(hits) >= 2 or any(exact for _, exact, _ in hits.values())


def word_hits(text: Text, sig: Signatures) -> dict[str, str]:
    """The ``lines`` and ``words`` phrases anywhere in a short text."""
    joined = " " + " ".join(text.lines) + " "
    return {p: c for p, c in (*sig.lines.items(), *sig.words.items()) if f" {p} " in joined}


_HIDDEN = ("script", "style", "noscript", "template")
_TITLE = re.compile(r"<title\b[^<>]*>([^<]{0,300})<", re.I)
_BLOCK = re.compile(r"</?(?:p|div|h[1-6]|li|tr|br|section|article|main|header|footer|title|"
                    r"form|button|label|td|th)\b[^<>]*>", re.I)
_TAG = re.compile(r"<[^<>]*>")
_REFRESH = re.compile(rb"<meta[^<>]{0,200}http-equiv\s*=\s*[\"']?refresh", re.I)


def _without_code(text: str) -> str:
    """``text`` without script, style, noscript and template elements (one pass)."""
    low = text.lower()
    out, at = [], 0
    while True:
        starts = [i for i in (low.find("<" + tag, at) for tag in _HIDDEN) if i >= 0]
        if not starts:
            break
        begin = min(starts)
        tag = next(tag for tag in _HIDDEN if low.startswith("<" + tag, begin))
        out.append(text[at:begin])
        close = low.find("</" + tag, begin)
        if close < 0:
            return " ".join(out)
        at = close + len(tag) + 2
    out.append(text[at:])
    return " ".join(out)


def body_text(body: bytes) -> list[str]:
    """The visible text of a (short) raw body, roughly: its title, then its text with
    scripts, styles and tags removed. Enough to read a wall, not a document."""
    raw = body[:MAX_BODY].decode("utf-8", "replace")
    title = _TITLE.search(raw)
    text = _TAG.sub(" ", _BLOCK.sub("\n", _without_code(raw)))
    return ([html.unescape(title.group(1))] if title else []) + [html.unescape(text)]


_JSON_START = re.compile(
    rb"^(?:\{\s*[\"}]|\[\s*(?:[\"{\[]|(?:-?\d[\d.eE+-]*|true|false|null)\s*(?:,|\](?!\())"
    rb"|\](?!\()))")


def _is_data(body: bytes) -> bool:
    """A JSON or feed body: data, never a wall's words (Markdown may start with "[")."""
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if _JSON_START.match(head):
        return True
    low = head.lower()
    return low.startswith((b"<rss", b"<feed", b"<rdf")) or (
        low.startswith(b"<?xml") and b"<html" not in low)


def _reason(name: str, line: str, what: str) -> str:
    return f"{name}: {what} says \u201c{_cut(line)}\u201d"


def _cut(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def content_reason(old: Document | None, new: Document, body: bytes | None) -> str | None:
    """The content-signature verdict of ``suspect`` (steps 1 and 2), or ``None``.

    The document's own text is read first. The raw body only speaks for a document that
    holds (almost) nothing: a kind that read records out of a page was not shown a wall.
    A JSON or feed body is data, never judged by its words (an incident titled "Internal
    server error" is an incident).
    """
    if body is not None and _is_data(body):
        return None  # a JSON or feed body is data: its titles are not a wall's words
    sig = signatures(vocab.generation())
    text = Text.of(_strings(new.data))
    words = text.words
    hits = line_hits(text, sig)
    from_body = False
    if not hits and words <= TINY_WORDS and body and not _is_data(body):
        if _REFRESH.search(body[:MAX_BODY]):
            return "redirect page: the page only redirects (a meta refresh)"
        text = Text.of(body_text(body))
        hits, from_body = line_hits(text, sig), True
    if hits and (from_body or strong(hits)):
        name, _, line = next(iter(hits.values()))
        shown = text.shown.get(line, line)
        short = words <= sig.short_words
        if old is None:
            return _reason(name, shown, "the page") if short else None
        before = Text.of(_strings(old.data))
        known = line_hits(before, sig)
        if short and before.words <= sig.short_words and strong(known):
            return _reason(name, shown, "the page, as the previous version did,")
        fresh = {p: v for p, v in hits.items() if p not in known}
        if fresh and (from_body or strong(fresh)):
            name, _, line = next(iter(fresh.values()))
            shown = text.shown.get(line, line)
            if short and words < before.words:
                return _reason(name, shown, "the page")
            if before.words - words >= MIN_LOSS:
                return _reason(name, shown, "part of the document")
        return None
    if old is None:
        return None
    before = Text.of(_strings(old.data), max_words=sig.short_words)
    if before.words <= sig.short_words and words >= BACK_FACTOR * max(before.words, 1):
        was = line_hits(before, sig)
        if was and strong(was):
            name, _, line = next(iter(was.values()))
            article = "an" if name[:1] in "aeiou" else "a"
            return (f"{AFTER_A_WALL} it was {article} {name} "
                    f"(\u201c{_cut(before.shown.get(line, line))}\u201d), "
                    "nothing to compare with")
    return None


def _labelled(reason: str, new: Document, body: bytes | None) -> str:
    """A size verdict, named after the page it looks like when its words say so."""
    sig = signatures(vocab.generation())
    text = Text.of(_strings(new.data))
    if text.words > sig.short_words:
        return reason
    if text.words <= TINY_WORDS and body and not _is_data(body):
        text = Text.of([*text.lines, *body_text(body)])
    found = word_hits(text, sig)
    if not found:
        return reason
    phrase, name = next(iter(found.items()))
    return f"{name}: the page says \u201c{phrase}\u201d ({reason})"
