"""Pages — HTML, Markdown, MDX — split into dated entries: changelogs, security advisories,
post-mortem lists (pure).

An entry is a heading and the content that follows it, up to the next heading of the
same or a higher level. The entry level is the heading level with the most headings that
carry a date or a version (``## [1.4.0] - 2024-05-01``, ``### May 1, 2024``); without any,
the level with the most headings (at least two). Headings wrapped one per container
(``<article>``, ``<div class="entry">``) take the whole container, so a date printed above
the heading stays with its entry. MDX entry components (``<Update label="…"
description="…">``) are entries of their own; other components keep their text. Where no
heading carries a date or a version, bare date lines — a paragraph that is only a date,
"March 12, 2025" or "**2025-03-12**", followed by its list (docs-site MDX) — are the
entry headings. Without usable headings, ``<article>`` elements, repeated dated blocks or
dated list items are the entries.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections import Counter
from typing import Any

from .dates import DATE_RX, DAY_MONTH_RX, find_date
from .html import (
    HEADINGS,
    SKIP_TEXT,
    descendants,
    drop,
    flatten_text,
    get_text,
    line_break,
    mark_code,
    nearest,
    parse_html,
    root_of,
    select,
    strip_noise,
    visible_lines,
)
from .markdown import markdown_html
from .text import normalise_space

ENTRY_COMPONENTS = ("Update", "ChangelogEntry", "ChangelogItem", "Release", "ReleaseNote",
                    "Entry", "VersionEntry")
# a version, with a pre-release part: "v1.4.0", "[2.0.0-beta.1]", "1.14.7rc2", "0.9.0a4"
_PRE = r"(?:-[\w.]+|(?:a|b|rc|alpha|beta|dev|post|pre)\.?\d+)?"
VERSION_RX = re.compile(rf"(?:\bv|\bversion\s*|\brelease\s*|\[)(\d+(?:\.\d+)+{_PRE})|"
                        rf"\b(\d+\.\d+\.\d+{_PRE})\b", re.I)

_FRONT = re.compile(r"\A\s*---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_MDX_LINE = re.compile(r"^[ \t]*(import\s.+?\sfrom\s+['\"].+?['\"];?|import\s+['\"].+?['\"];?|"
                       r"export\s+(const|let|default|function)\b.*)[ \t]*$", re.M)
_COMMENTS = re.compile(r"\{/\*.*?\*/\}|<!--.*?-->", re.S)
_ATTRS = r"(?:[^>\"'{]|\"[^\"]*\"|'[^']*'|\{[^}]*\})*"
_ENTRY_TAG = re.compile(rf"<(?P<tag>{'|'.join(ENTRY_COMPONENTS)})\b(?P<attrs>{_ATTRS})>"
                        r"(?P<body>.*?)</(?P=tag)\s*>", re.S)
_ATTR = re.compile(r"([\w-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|\{\s*[\"'`]([^\"'`]*)[\"'`]\s*\})")
_JSX_TAG = re.compile(rf"</?[A-Z][\w.]*{_ATTRS}/?>")
_MD_HEADING = re.compile(r"^ {0,3}(#{1,6} \S|(=+|-+)[ \t]*$)", re.M)
# plain-text changelogs: a short line that opens with a version or a date is a heading
_PLAIN_HEADING = re.compile(r"^[ \t]*((?:version\s+|release\s+|v)?\d+\.\d+(?:\.\d+)*\b[^\n]{0,60}|"
                            r"\d{4}-\d\d-\d\d\b[^\n]{0,60})[ \t]*$", re.M | re.I)
# a heading's anchor link: "#", "¶", "🔗", "§", or a zero-width space (Docusaurus)
_ANCHOR = "\\s#¶🔗§\u200b-\u200d\u2060\ufeff"
_TITLE_JUNK = re.compile(rf"^[{_ANCHOR}]+|[{_ANCHOR}]+$|"
                         r"\s*(link to this heading|permalink|direct link)\s*$", re.I)


def has_version(text: str) -> bool:
    return bool(VERSION_RX.search(text))


def version_of(title: str) -> str | None:
    """The one version a title names ("v1.4.0", "[2.0.0] - …"), if exactly one."""
    found = {a or b for a, b in VERSION_RX.findall(title)}
    return found.pop() if len(found) == 1 else None


def _entry_section(m: re.Match[str]) -> str:
    attrs = {a[0].lower(): a[1] or a[2] or a[3] for a in _ATTR.findall(m.group("attrs"))}
    label = attrs.get("label") or attrs.get("title") or attrs.get("version") or attrs.get(
        "name") or ""
    extra = attrs.get("description") or attrs.get("date") or ""
    title = f"{label} — {extra}" if label and extra else label or extra
    body = textwrap.dedent(m.group("body").strip("\n"))
    return (f'\n\n<section data-entry="1" data-title="{html.escape(title, quote=True)}">\n\n'
            f"{body}\n\n</section>\n\n")


def markdown_to_html(text: str) -> str:
    """Markdown / MDX → HTML: front matter, imports and comments dropped, entry components
    turned into ``<section data-entry>``, other components unwrapped."""
    text = _FRONT.sub("", text.replace("\r\n", "\n"), count=1)
    text = _COMMENTS.sub("", _MDX_LINE.sub("", text))
    text = _ENTRY_TAG.sub(_entry_section, text)
    text = _JSX_TAG.sub("", text)
    if len(_MD_HEADING.findall(text)) < 2 and "data-entry" not in text:
        text = _PLAIN_HEADING.sub(lambda m: f"\n## {m.group(1)}\n", text)
    return markdown_html(text)


def _title(node: Any) -> str:
    title = _TITLE_JUNK.sub("", normalise_space(get_text(node, " "))).strip()
    return re.sub(r"\[([^\]]*)\]", r"\1", title)  # "[1.4.0]" with or without its link


def _level(el: Any) -> int:
    return int(el.tag[1])


def _entry_level(headings: list[Any]) -> int | None:
    dated: Counter[int] = Counter()
    count: Counter[int] = Counter()
    distinct: dict[int, set[str]] = {}
    for h in headings:
        title = _title(h)
        if not title:
            continue
        count[_level(h)] += 1
        distinct.setdefault(_level(h), set()).add(title.lower())
        if find_date(title) or has_version(title):
            dated[_level(h)] += 1
    if dated:
        return max(dated, key=lambda lvl: (dated[lvl], -lvl))
    # undated headings that repeat ("New features", "Bug fixes") are sections, not entries
    candidates = [lvl for lvl, n in count.items()
                  if n >= 2 and len(distinct[lvl]) >= 0.8 * n]
    return max(candidates, key=lambda lvl: (count[lvl], -lvl)) if candidates else None


def _raw(title: str, lines: list[str], date_hint: str | None = None) -> dict[str, Any]:
    """A raw entry; its date from the title, a ``<time>``, or a short dateline under the
    title (never from a sentence: "will be retired on 2025-01-31" is no entry date)."""
    date = find_date(title) or date_hint
    if not date:
        date = next((d for d in (find_date(ln) for ln in lines[:2] if len(ln) <= 40) if d),
                    None)
    return {"title": title, "date": date, "lines": lines}


def _time_hint(box: Any) -> str | None:
    stamp = next(box.iterdescendants("time"), None)
    if stamp is not None:
        return find_date(str(stamp.get("datetime") or "")) or find_date(get_text(stamp, " "))
    return None


def _boxes(root: Any, chosen: list[Any]) -> list[Any] | None:
    """One container per heading, when each heading sits in its own box with its content."""
    if len(chosen) < 2:
        return None
    counts: Counter[Any] = Counter()  # elements as keys: a proxy's id outlives it
    for h in chosen:
        for parent in h.iterancestors():
            counts[parent] += 1
            if parent is root:
                break
    boxes = []
    for h in chosen:
        box = h
        parent = box.getparent()
        while parent is not None and parent is not root and counts[parent] == 1:
            box, parent = parent, parent.getparent()
        if box is h or len(normalise_space(get_text(box, " "))) <= len(_title(h)) + 2:
            return None
        boxes.append(box)
    return boxes


class _Splitter:
    """The text between the chosen headings, in document order, each run belonging to the
    heading before it; headings above the entry level end an entry without starting one."""

    def __init__(self, chosen: list[Any], level: int) -> None:
        self.chosen = set(chosen)
        self.level = level
        self.entries: list[tuple[str, list[str]]] = []
        self.buf: list[str] | None = None

    def walk(self, el: Any) -> None:
        if el.text:
            self._add(el.text)
        for child in el:
            tag = child.tag
            if isinstance(tag, str):
                if tag in HEADINGS and (child in self.chosen or _level(child) < self.level):
                    self.buf = None
                    if child in self.chosen:
                        self.buf = []
                        self.entries.append((_title(child), self.buf))
                elif tag not in SKIP_TEXT:
                    self.walk(child)
                sep = line_break(tag)
                if sep is not None:
                    self._add(sep)
            if child.tail:
                self._add(child.tail)

    def _add(self, text: str) -> None:
        if self.buf is not None:
            self.buf.append(text)


def _walk(root: Any, chosen: list[Any], level: int) -> list[dict[str, Any]]:
    """Headings in document order; the text between them belongs to the one before."""
    splitter = _Splitter(chosen, level)
    splitter.walk(root)
    out = []
    for title, buf in splitter.entries:
        lines = [normalise_space(line).strip(" |") for line in "".join(buf).split("\n")]
        out.append(_raw(title, [line for line in lines if line]))
    return out


_DATELINE_TAGS = ("p", "div", "dt")
_BLOCKS = frozenset({"p", "div", "ul", "ol", "table", "section", "article", "dl", "dt", "dd",
                     "blockquote", "pre", *HEADINGS})
_DATE_LEFT = re.compile(r"^[\W_]*(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day)?[\W_]*$", re.I)
DATELINE_MAX = 40


def _short_leaves(root: Any) -> list[Any]:
    """The ``_DATELINE_TAGS`` blocks under ``root`` that hold no block and little text, in
    document order: one pass, children before parents, so nesting costs nothing more."""
    nodes = [el for el in root.iter() if isinstance(el.tag, str)]
    block: dict[Any, bool] = {}
    size: dict[Any, int] = {}
    for el in reversed(nodes):
        has, total = False, len(el.text or "")
        for child in el:
            if isinstance(child.tag, str):
                has = has or child.tag in _BLOCKS or block.get(child, False)
                total += size.get(child, 0)
            total += len(child.tail or "")
            if total > DATELINE_MAX * 4:
                break
        block[el], size[el] = has, min(total, DATELINE_MAX * 4)
    return [el for el in nodes if el.tag in _DATELINE_TAGS and not block[el]
            and size[el] <= DATELINE_MAX * 4]


def _dateline(el: Any) -> bool:
    """A block that says only a date ("March 12, 2025", "Wednesday, 2025-03-12")."""
    text = normalise_space(get_text(el, " "))
    if not text or len(text) > DATELINE_MAX or not find_date(text):
        return False
    return bool(_DATE_LEFT.match(DATE_RX.sub("", text, count=1)))


def _promote_datelines(root: Any, headings: list[Any]) -> list[Any]:
    """Bare date lines as headings, where no heading carries a date or a version: one
    level above every heading that follows the first of them (their sections stay inside
    the entries). The headings of ``root`` afterwards."""
    if any(find_date(t) or has_version(t) for t in map(_title, headings)):
        return headings
    lines = [el for el in _short_leaves(root) if _dateline(el)]
    if len(lines) < 2:
        return headings
    order = {el: i for i, el in enumerate(root.iter())}
    first_at = order[lines[0]]
    after = [_level(h) for h in headings if order.get(h, -1) > first_at]
    level = min(after, default=3) - 1
    if level < 1:
        return headings
    for el in lines:
        el.tag = f"h{level}"
        el.attrib.clear()
    return descendants(root, *HEADINGS)


def _from_headings(root: Any) -> list[dict[str, Any]] | None:
    headings = _promote_datelines(root, descendants(root, *HEADINGS))
    level = _entry_level(headings)
    if level is None:
        return None
    chosen = [h for h in headings if _level(h) == level and _title(h)]
    boxes = _boxes(root, chosen)
    if boxes is None:
        return _walk(root, chosen, level)
    out = []
    for h, box in zip(chosen, boxes, strict=True):
        title, hint = _title(h), _time_hint(box)
        drop(h)
        out.append(_raw(title, visible_lines([box]), hint))
    return out


def _repeated(root: Any) -> list[Any]:
    """Sibling-like elements sharing a tag and class whose text opens with a date
    (``<div class="changelog-entry">Nov 20 …``), outermost ones only."""
    groups: dict[tuple[str, str], list[Any]] = {}
    for el in descendants(root):
        cls = " ".join(sorted((el.get("class") or "").split()))
        if cls and el.tag not in HEADINGS and el.tag not in ("time", "span", "a"):
            head = normalise_space(get_text(el, " "))[:80]
            if len(head) > 20 and (find_date(head) or DAY_MONTH_RX.search(head[:30])):
                groups.setdefault((el.tag, cls), []).append(el)
    best = max((g for g in groups.values() if len(g) >= 2), key=len, default=[])
    chosen = set(best)
    return [el for el in best if not any(p in chosen for p in el.iterancestors())]


def _lead(lines: list[str]) -> list[str]:
    """A block's title: its leading dateline, version and tag lines ("Nov 20", "v0.1.1",
    "Update"), else its first line."""
    lead: list[str] = []
    for line in lines[:4]:
        dateline = bool(find_date(line) or DAY_MONTH_RX.search(line) or has_version(line))
        if (dateline and len(line) <= 40) or len(line.split()) == 1:
            lead.append(line)
        else:
            break
    return lead or lines[:1]


def _from_blocks(root: Any) -> list[dict[str, Any]]:
    """No usable headings: ``<article>`` elements, repeated dated blocks, or dated list
    items."""
    blocks = descendants(root, "article")
    if len(blocks) < 2:
        blocks = _repeated(root)
    if len(blocks) >= 2:
        out = []
        for block in blocks:
            lines = visible_lines([block])
            if lines:
                lead = _lead(lines)
                out.append(_raw(" · ".join(lead)[:200], lines[len(lead):], _time_hint(block)))
        return out
    items = [li for li in descendants(root, "li") if find_date(get_text(li, " "))]
    if len(items) < 2:
        return []
    out = []
    for li in items:
        lines = visible_lines([li])
        if lines:
            out.append(_raw(lines[0][:200], lines[1:] if len(lines[0]) <= 200 else lines))
    return out


def _prune(root: Any) -> None:
    """Site chrome: navigation, sidebars, and page-level headers and footers."""
    for el in descendants(root, "nav", "aside", "header", "footer"):
        if root_of(el) is not root_of(root):
            continue  # inside one dropped already
        if el.tag in ("nav", "aside") or nearest(el, "article", "section") is None:
            drop(el)


def html_entries(roots: list[Any], code: bool = False) -> list[dict[str, Any]]:
    """Raw entries ``{"title", "date", "lines"}`` of an HTML changelog, found under
    ``roots`` (elements of one tree, which this strips of noise); with ``code``, inline
    code keeps its backticks (``html.mark_code``)."""
    if not roots:
        return []
    tree = root_of(roots[0])
    strip_noise(tree)
    flatten_text(tree)
    if code:
        mark_code(tree)
    out: list[dict[str, Any]] = []
    for root in roots:
        if root_of(root) is not tree:
            continue  # removed as noise
        sections = [el for el in descendants(root, "section") if el.get("data-entry") is not None]
        if sections:
            for sec in sections:
                title = normalise_space(str(sec.get("data-title") or ""))
                lines = visible_lines([sec])
                out.append(_raw(title or (lines[0] if lines else ""), lines))
            continue
        _prune(root)
        found = _from_headings(root)
        out.extend(found if found is not None else _from_blocks(root))
    return out


def page_roots(markup: bytes | str, selector: str | None) -> list[Any]:
    """The ``select``ed elements; else the page's single ``<main>``; else the body.

    Unlike ``html.content_root`` this leaves the tree whole: a changelog's entries may
    sit in ``<header>``s of ``<section>``s, which ``html_entries`` prunes for itself."""
    if selector:
        return select(markup, selector)
    root = parse_html(markup)
    mains = descendants(root, "main") or [
        el for el in root.iter() if isinstance(el.tag, str) and el.get("role") == "main"]
    if len(mains) == 1:
        return mains
    body = next(root.iter("body"), None)
    return [body if body is not None else root]


def markdown_entries(text: str, code: bool = False) -> list[dict[str, Any]]:
    return html_entries(page_roots(markdown_to_html(text), None), code)
