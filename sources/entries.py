"""Splitting changelog pages — HTML, Markdown, MDX — into entries (pure).

An entry is a heading and the content that follows it, up to the next heading of the
same or a higher level. The entry level is the heading level with the most headings that
carry a date or a version (``## [1.4.0] - 2024-05-01``, ``### May 1, 2024``); without any,
the level with the most headings (at least two). Headings wrapped one per container
(``<article>``, ``<div class="entry">``) take the whole container, so a date printed above
the heading stays with its entry. MDX entry components (``<Update label="…"
description="…">``) are entries of their own; other components keep their text.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections import Counter
from typing import TYPE_CHECKING, Any

from .feeds import DAY_MONTH_RX, find_date, flatten_text, quiet_soup
from .formats import _BLOCK, normalise_space, select_root, strip_noise, text_lines
from .markup import markdown_html

if TYPE_CHECKING:  # bs4 is imported where a page is parsed, not by every check
    from bs4 import BeautifulSoup, Tag

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
ENTRY_COMPONENTS = ("Update", "ChangelogEntry", "ChangelogItem", "Release", "ReleaseNote",
                    "Entry", "VersionEntry")
VERSION_RX = re.compile(r"(?:\bv|\bversion\s*|\brelease\s*|\[)(\d+(?:\.\d+)+(?:-[\w.]+)?)|"
                        r"\b(\d+\.\d+\.\d+(?:-[\w.]+)?)\b", re.I)

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
_TITLE_JUNK = re.compile(r"^[\s#¶🔗§]+|[\s#¶🔗§]+$|\s*(link to this heading|permalink)\s*$",
                         re.I)


def has_version(text: str) -> bool:
    return bool(VERSION_RX.search(text))


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


def _title(node: Tag) -> str:
    title = _TITLE_JUNK.sub("", normalise_space(node.get_text(" "))).strip()
    return re.sub(r"\[([^\]]*)\]", r"\1", title)  # "[1.4.0]" with or without its link


def version_of(title: str) -> str | None:
    """The one version a title names ("v1.4.0", "[2.0.0] - …"), if exactly one."""
    found = {a or b for a, b in VERSION_RX.findall(title)}
    return found.pop() if len(found) == 1 else None


def _level(tag: Tag) -> int:
    return int(tag.name[1])


def _entry_level(headings: list[Tag]) -> int | None:
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


def _time_hint(box: Tag) -> str | None:
    from bs4 import Tag

    stamp = box.find("time")
    if isinstance(stamp, Tag):
        return find_date(str(stamp.get("datetime") or "")) or find_date(stamp.get_text(" "))
    return None


def _boxes(root: Tag, chosen: list[Tag]) -> list[Tag] | None:
    """One container per heading, when each heading sits in its own box with its content."""
    if len(chosen) < 2:
        return None
    counts: Counter[int] = Counter()
    for h in chosen:
        for parent in h.parents:
            counts[id(parent)] += 1
            if parent is root:
                break
    boxes = []
    for h in chosen:
        box: Tag = h
        while box.parent is not None and box.parent is not root and counts[id(box.parent)] == 1:
            box = box.parent
        if box is h or len(normalise_space(box.get_text(" "))) <= len(_title(h)) + 2:
            return None
        boxes.append(box)
    return boxes


def _walk(root: Tag, chosen: list[Tag], level: int) -> list[dict[str, Any]]:
    """Headings in document order; the text between them belongs to the one before."""
    from bs4 import NavigableString, Tag

    for el in root.find_all(_BLOCK):
        el.insert_after("\n")
    for cell in root.find_all(["td", "th"]):
        cell.insert_after(" | ")
    chosen_ids = {id(h) for h in chosen}
    entries: list[dict[str, Any]] = []
    buf: list[str] | None = None
    skip: set[int] = set()
    for node in list(root.descendants):
        if id(node) in skip:
            continue
        if isinstance(node, Tag):
            if node.name in HEADINGS and (id(node) in chosen_ids or _level(node) < level):
                skip = {id(d) for d in node.descendants}
                buf = None
                if id(node) in chosen_ids:
                    buf = []
                    entries.append({"title": _title(node), "buf": buf})
            continue
        if buf is not None and type(node) is NavigableString:
            buf.append(str(node))
    out = []
    for entry in entries:
        lines = [normalise_space(line).strip(" |") for line in "".join(entry["buf"]).split("\n")]
        out.append(_raw(entry["title"], [line for line in lines if line]))
    return out


def _from_headings(root: Tag) -> list[dict[str, Any]] | None:
    from bs4 import Tag

    headings = [h for h in root.find_all(HEADINGS) if isinstance(h, Tag)]
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
        h.decompose()
        out.append(_raw(title, text_lines([box]), hint))
    return out


def _repeated(root: Tag) -> list[Tag]:
    """Sibling-like elements sharing a tag and class whose text opens with a date
    (``<div class="changelog-entry">Nov 20 …``), outermost ones only."""
    groups: dict[tuple[str, str], list[Tag]] = {}
    for el in root.find_all(True):
        cls = " ".join(sorted(str(c) for c in el.get("class") or []))
        if cls and el.name not in HEADINGS and el.name not in ("time", "span", "a"):
            head = normalise_space(el.get_text(" "))[:80]
            if len(head) > 20 and (find_date(head) or DAY_MONTH_RX.search(head[:30])):
                groups.setdefault((el.name, cls), []).append(el)
    best = max((g for g in groups.values() if len(g) >= 2), key=len, default=[])
    chosen = {id(el) for el in best}
    return [el for el in best if not any(id(p) in chosen for p in el.parents)]


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


def _from_blocks(root: Tag) -> list[dict[str, Any]]:
    """No usable headings: ``<article>`` elements, repeated dated blocks, or dated list
    items."""
    from bs4 import Tag

    blocks: list[Tag] = [a for a in root.find_all("article") if isinstance(a, Tag)]
    if len(blocks) < 2:
        blocks = _repeated(root)
    if len(blocks) >= 2:
        out = []
        for block in blocks:
            lines = text_lines([block])
            if lines:
                lead = _lead(lines)
                out.append(_raw(" · ".join(lead)[:200], lines[len(lead):], _time_hint(block)))
        return out
    items = [li for li in root.find_all("li") if find_date(li.get_text(" "))]
    if len(items) < 2:
        return []
    out = []
    for li in items:
        lines = text_lines([li])
        if lines:
            out.append(_raw(lines[0][:200], lines[1:] if len(lines[0]) <= 200 else lines))
    return out


def _prune(root: BeautifulSoup | Tag) -> None:
    """Site chrome: navigation, sidebars, and page-level headers and footers."""
    for tag in root.find_all(["nav", "aside", "header", "footer"]):
        if tag.name in ("nav", "aside") or tag.find_parent(["article", "section"]) is None:
            tag.decompose()


def html_entries(doc: BeautifulSoup, roots: list[Tag]) -> list[dict[str, Any]]:
    """Raw entries ``{"title", "date", "lines"}`` of an HTML changelog."""
    strip_noise(doc)
    flatten_text(doc)
    out: list[dict[str, Any]] = []
    for root in roots:
        sections = root.select("section[data-entry]")
        if sections:
            for sec in sections:
                title = normalise_space(str(sec.get("data-title") or ""))
                lines = text_lines([sec])
                out.append(_raw(title or (lines[0] if lines else ""), lines))
            continue
        _prune(root)
        found = _from_headings(root)
        out.extend(found if found is not None else _from_blocks(root))
    return out


def page_roots(doc: BeautifulSoup, selector: str | None) -> list[Tag]:
    """The ``select``ed elements; else the page's single ``<main>``; else the body.

    Unlike ``markup.content_root`` this leaves the tree alone: a changelog's entries may
    sit in ``<header>``s of ``<section>``s, which ``html_entries`` prunes for itself."""
    from bs4 import Tag

    if not selector:
        mains = doc.find_all("main") or doc.select("[role=main]")
        if len(mains) == 1 and isinstance(mains[0], Tag):
            return [mains[0]]
    return select_root(doc, selector)


def markdown_entries(text: str) -> list[dict[str, Any]]:
    doc = quiet_soup(markdown_to_html(text))
    return html_entries(doc, page_roots(doc, None))
