"""Markdown and MDX as HTML (markdown-it, CommonMark with raw HTML and tables), and YAML
front matter split off (pure)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
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
    "Do not use". MDX components on lines of their own are unwrapped (``unwrap_components``)."""
    text = unwrap_components(_strip_mdx(_MDX_COMMENT.sub("", text)))
    return "<html><body>" + markdown_html(text, strikethrough=False) + "</body></html>"


# An MDX component's tag alone on its line (or lines): <Accordion title="Stripe">,
# <CardGroup cols={2}>, </Accordion>, <Card title="OpenAI" icon="robot" />.
_JSX_ATTRS = r"(?:[^<>\"'{}]|\"[^\"]*\"|'[^']*'|\{[^{}]*\})*"
_JSX_LINE = re.compile(rf"^[ \t]*<(/?)([A-Z][\w.]*)({_JSX_ATTRS}?)(/?)>[ \t]*$")
_JSX_START = re.compile(r"^[ \t]*<[A-Z][\w.]*(\s|$)")
_JSX_TITLE = re.compile(r"\b(?:title|label)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|"
                        r"\{\s*[\"'`]([^\"'`]*)[\"'`]\s*\})")
_TAG_LINES = 20  # lines an opening tag may span


@dataclass
class _Open:
    """A component opened and not yet closed."""

    name: str
    titled: bool
    indent: int | None = None  # of its first line of content


def _tag_lines(lines: list[str]) -> list[str]:
    """The lines with each component tag written over several lines joined into one."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if ">" not in line and _JSX_START.match(line):
            # the tag ends on the first line after it that holds a ">": tried once
            end = next((j for j in range(i + 1, min(i + _TAG_LINES, len(lines)))
                        if ">" in lines[j] or lines[j].lstrip().startswith("<")), None)
            if end is not None and not lines[end].lstrip().startswith("<"):
                joined = " ".join([line.rstrip(), *(x.strip() for x in lines[i + 1:end + 1])])
                if _JSX_LINE.match(joined):
                    out.append(joined)
                    i = end + 1
                    continue
        out.append(line)
        i += 1
    return out


def unwrap_components(text: str) -> str:
    """MDX components as Markdown: a component with a ``title`` (or ``label``) is a
    ``<details>`` block, its title the ``<summary>`` (an accordion, a card, a tab: a named
    part of the page); the tags of any other (``<AccordionGroup>``, ``<Note>``) are
    dropped. The content is de-indented by its component's indentation, so that it reads
    as Markdown, not as an indented code block. Text without such tags is returned as it
    is."""
    if "<" not in text or not any(_JSX_LINE.match(x) or _JSX_START.match(x)
                                  for x in text.split("\n") if x.lstrip().startswith("<")):
        return text
    out: list[str] = []
    stack: list[_Open] = []
    fence = ""
    for line in _tag_lines(text.split("\n")):
        if stack:
            top = stack[-1]
            lead = len(line) - len(line.lstrip(" \t"))
            if top.indent is None and line.strip() and not _JSX_LINE.match(line):
                top.indent = lead
            line = line[min(lead, top.indent or 0):]
        match = _FENCE.match(line)
        if match and (not fence or match.group(1).startswith(fence)):
            fence = "" if fence else match.group(1)[:3]
        tag = None if fence or match else _JSX_LINE.match(line)
        if tag is None:
            out.append(line)
            continue
        closing, name, attrs, empty = tag.groups()
        found = _JSX_TITLE.search(attrs or "")
        title = next((g for g in found.groups() if g), "") if found else ""
        if closing:
            if any(o.name == name for o in stack):
                while stack:
                    top = stack.pop()
                    if top.titled:
                        out += ["", "</details>", ""]
                    if top.name == name:
                        break
            out.append("")
        elif empty:
            out += ["", html.escape(title), ""] if title else [""]
        else:
            stack.append(_Open(name, bool(title)))
            out += (["", f"<details><summary>{html.escape(title)}</summary>", ""] if title
                    else [""])
    for top in reversed(stack):
        if top.titled:
            out += ["", "</details>", ""]
    return "\n".join(out)
