"""Subprocessor entities named inside prose (pure): "Our support chat is powered by
**Intercom**", "We use [ZeroBounce](https://www.zerobounce.net) for that".

Read only when a page has no table, card, definition list or list of entities. A name is
a bold phrase inside a sentence that reads like a name (one to five words, the first with
a capital letter or a digit, the others capitalised or small joining words), or a link
whose text is the name of the site it points to. Its section is the heading above it
(context, never compared); the sentence around it is not kept, so rewording the prose
changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from ..read.dates import DATE, is_date_noise
from ..read.html import descendants
from ..read.html import text_parts as _text_parts
from ..read.tables import headings_before

_BLOCKS = ("p", "li", "dd", "blockquote")
_BOLD = ("strong", "b")
_JOINERS = frozenset({"&", "and", "of", "for", "de", "du", "des", "der", "von", "van", "la",
                      "le", "the", "by", "y", "e", "+"})
_WORD = re.compile(r"[^\W_]", re.U)
_DATED = re.compile(DATE, re.I)


def name_like(text: str) -> bool:
    """One to five words, the first with a capital letter or a digit among letters
    ("Fathom", "hCaptcha", "page2images"), the others capitalised or joining words."""
    words = text.split()
    if not 1 <= len(words) <= 5 or len(text) > 60 or text.endswith((":", "?", "!", ",")):
        return False
    first = words[0]
    if not _WORD.search(first) or not any(c.isalpha() for c in first):
        return False
    if not (any(c.isupper() for c in first) or any(c.isdigit() for c in first)):
        return False
    for word in words[1:]:
        bare = word.strip("()[].,'\"")
        if bare and not (bare.casefold() in _JOINERS or bare[0].isupper()
                         or any(c.isdigit() or c.isupper() for c in bare)):
            return False
    return not (is_date_noise(text) or _DATED.search(text))


def _registrable_labels(href: str) -> set[str]:
    try:
        host = urlsplit(href).hostname or ""
    except ValueError:
        return set()
    labels = [label for label in host.casefold().split(".") if label]
    return set(labels[:-1]) - {"www"} if len(labels) > 1 else set()


def _names_its_site(name: str, href: str) -> bool:
    """A link's text is the name of the site it points to: "ZeroBounce" →
    zerobounce.net, "Postmark" → postmarkapp.com, "Sentry" → getsentry.com."""
    return any(name == label or (len(name) >= 4 and name in label
                                 and len(name) >= 0.6 * len(label))
               for label in _registrable_labels(href))


def _squash(text: str) -> str:
    return re.sub(r"[\W_]", "", text.casefold())


def _names_in(block: Any) -> list[str]:
    """The names a paragraph writes in bold, or as a link to the named site."""
    found: list[str] = []
    whole: str | None = None
    for el in block.iter(*_BOLD, "a"):
        if el is block:
            continue
        text = " ".join(_text_parts(el))
        if not text or len(text) > 60:
            continue
        if whole is None:
            whole = " ".join(_text_parts(block))
            whole = _squash(whole) if len(whole) <= 200 else ""
        if _squash(text) == whole:
            continue  # a bold paragraph is a heading, not a name in a sentence
        if el.tag == "a":
            if not _names_its_site(_squash(text), el.get("href") or ""):
                continue
        elif (el.tail or "").lstrip().startswith(":"):
            continue  # "**Note:** …" is a label
        if name_like(text):
            found.append(text)
    return found


def prose_records(roots: Iterable[Any]) -> list[dict[str, str]]:
    """Entities named in bold (or as links to their own site) inside paragraphs."""
    blocks = [b for r in roots for b in descendants(r, *_BLOCKS)
              if next(b.iterancestors(*_BLOCKS, "table", "nav"), None) is None]
    named = [(b, _names_in(b)) for b in blocks]
    named = [(b, names) for b, names in named if names]
    sections = headings_before([b for b, _ in named])
    out: list[dict[str, str]] = []
    for (_, names), heading in zip(named, sections, strict=True):
        section = " ".join(_text_parts(heading)) if heading is not None else ""
        for name in names:
            out.append({"name": name, "section": section} if section else {"name": name})
    return out
