"""page — any web page, watched as its visible text.

Accepts HTML (scripts, styles, comments, hidden elements and "last updated" lines are
dropped), Markdown or plain text. ``select`` narrows the page to a CSS selector;
``ignore`` regexes remove volatile text (counters, dates, nonces) before diffing.
Changes are added and removed lines. A changed page fires ``policy_change``.

Example::

    - id: acme-dpa
      kind: page
      url: https://acme.example/legal/dpa
      select: "main"
      ignore: ["Version \\\\d+"]
"""

from __future__ import annotations

import difflib
import re

from config.errors import ParseError

from ..base import BaseSettings, Change, Document
from ..read.detect import detect
from ..read.encoding import decode
from ..read.html import visible_lines, visible_roots
from ..read.text import apply_ignore, normalise_space

NAME = "page"
PARSER_VERSION = "1"
INTERVAL = 6 * 3600.0  # seconds: checked every six hours unless the config says otherwise
RULES = "triggers.rules:page_rule"  # its rule in triggers/, named

# Lines that only say when a page was rendered or last updated carry no meaning.
DATE_NOISE = re.compile(
    r"^(last\s+(updated|modified|revised|reviewed)|updated( on)?|page (generated|rendered)|"
    r"generated( on| at)?|as of|effective( date)?|copyright|©)\b[:\s].{0,60}$",
    re.I,
)


class Settings(BaseSettings):
    """A page takes only the common options: ``select``, ``ignore``, ``format``."""


def page_lines(body: bytes, settings: BaseSettings) -> list[str]:
    """The meaningful text lines of a body, whatever its format."""
    fmt = settings.format or detect(body)
    if fmt in ("html", "rss", "atom"):
        lines = visible_lines(visible_roots(body, settings.select))
    else:
        lines = [normalise_space(line) for line in decode(body).splitlines()]
        lines = [line for line in lines if line]
    lines = [line for line in lines if not DATE_NOISE.match(line)]
    return apply_ignore(lines, settings.ignore)


def parse(body: bytes, settings: BaseSettings) -> Document:
    try:
        lines = page_lines(body, settings)
    except ParseError:
        raise
    except Exception as exc:  # a third-party parser's failure becomes ours
        raise ParseError(f"page: cannot read the body: {exc}") from exc
    return Document(kind=NAME, data={"lines": lines}, parser_version=PARSER_VERSION)


def diff(old: Document, new: Document) -> list[Change]:
    a: list[str] = old.data["lines"]
    b: list[str] = new.data["lines"]
    changes: list[Change] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        removed, added = a[i1:i2], b[j1:j2]
        if removed and added:
            changes.append(Change("modified", f"line {j1 + 1}", "\n".join(removed),
                                  "\n".join(added), path="line"))
        elif added:
            changes.append(Change("added", f"line {j1 + 1}", None, "\n".join(added), path="line"))
        else:
            changes.append(Change("removed", f"line {i1 + 1}", "\n".join(removed), None,
                                  path="line"))
    return changes


def size(document: Document) -> int:
    return len(document.data["lines"])


def describe(change: Change) -> str:
    text = change.after if change.op != "removed" else change.before
    first = str(text or "").split("\n", 1)[0]
    verb = {"added": "Added", "removed": "Removed", "modified": "Changed"}[change.op]
    return f"{verb} text: {first[:160]}"
