"""Markdown and MDX as HTML (markdown-it, CommonMark with raw HTML and tables), and YAML
front matter split off (pure)."""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # markdown-it is imported with the first Markdown body, not with a kind
    from markdown_it import MarkdownIt

_FRONT_MATTER = re.compile(r"\A[ \t]*---[ \t]*\r?\n(.*?)(?:\r?\n)?^(?:---|\.\.\.)[ \t]*$\r?\n?",
                           re.S | re.M)
MDX_LINE = re.compile(r"^(import\s.*\bfrom\s*['\"].*|import\s*['\"].*|"
                      r"export\s+(const|let|default|function|async)\b.*)$", re.M)
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_MDX_COMMENT = re.compile(r"\{/\*.*?\*/\}", re.S)


def split_front_matter(text: str) -> tuple[str | None, str]:
    """(YAML front matter or ``None``, the rest) of a Markdown text, with ``\\n`` newlines."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    match = _FRONT_MATTER.match(text)
    if not match:
        return None, text
    return match.group(1), text[match.end():]


def _strip_mdx(text: str) -> str:
    """Drop MDX ``import``/``export`` lines outside code fences."""
    out, fence = [], ""
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if match and (not fence or match.group(1).startswith(fence)):
            fence = "" if fence else match.group(1)[:3]
        elif not fence and MDX_LINE.match(line):
            continue
        out.append(line)
    return "\n".join(out)


@cache
def _markdown(strikethrough: bool) -> MarkdownIt:
    """The renderer, built once: CommonMark with raw HTML and tables (and ``~~``)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    return md.enable("strikethrough") if strikethrough else md


def markdown_html(text: str, *, strikethrough: bool = True) -> str:
    """Markdown rendered as HTML: CommonMark with raw HTML and tables; ``~~struck~~`` text
    becomes ``<s>`` unless ``strikethrough`` is off (then the tildes stay in the text)."""
    return _markdown(strikethrough).render(_BRACKETS.sub(_escape, text))


# A long run of "[": each may open a link whose label markdown-it scans to the end of
# the run, seconds on a body of nested brackets. Escaped, they are the same text.
_BRACKETS = re.compile(r"\[{32,}")


def _escape(match: re.Match[str]) -> str:
    return "\\[" * len(match.group())


def markdown_page(text: str) -> str:
    """Markdown or MDX (front matter already split off) as an HTML page.

    Struck text keeps its tildes: in a card or a list, "Do ~~not~~ use" must not read as
    "Do not use"."""
    text = _strip_mdx(_MDX_COMMENT.sub("", text))
    return "<html><body>" + markdown_html(text, strikethrough=False) + "</body></html>"
