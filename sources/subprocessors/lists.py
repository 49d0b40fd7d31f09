"""Subprocessor entities outside tables: "Name – purpose – location" list items and
bold-led paragraphs, definition lists, and headings followed by "Purpose: …" /
"Location: …" lines (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..read.html import HEADINGS, descendants, last_before, nearest, stripped_text
from ..read.html import text_parts as _text_parts
from .columns import ROLES, norm_header, role_scores, slug
from .places import canonical_place

_ITEM_SPLIT = re.compile(r"\s*[;|•·]\s*|\s+[–—-]{1,2}\s+|\s*[–—]\s*")
# Labels of "Purpose: …" lines, by the role they name.
_LABEL = re.compile(r"^\s*([A-Za-z][\w ()'/&-]{1,40}?)\s*[:：]\s*(.*)$")


def _label_role(label: str) -> str | None:
    scores = role_scores(norm_header(label))
    best = max((s, r) for r, s in scores.items()) if scores else None
    return best[1] if best and best[0] >= 2 else None


def labelled_fields(lines: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """("Purpose: X", "Location: Y") → fields; the lines that carry no known label."""
    fields: dict[str, str] = {}
    rest: list[str] = []
    for line in lines:
        for piece in re.split(r"\s*;\s*(?=[A-Za-z][\w ()/-]{1,40}:)", line):
            match = _LABEL.match(piece)
            role = _label_role(match.group(1)) if match else None
            if match and role and role != "skip" and match.group(2).strip():
                key = role if role in ROLES else slug(match.group(1))
                fields[key] = "; ".join(filter(None, (fields.get(key), match.group(2).strip())))
            elif not (match and role == "skip"):
                rest.append(piece)
    return fields, rest


def _is_place_list(text: str) -> bool:
    parts = [p for p in re.split(r"[,;/]|\s+(?:and|&)\s+", text) if p.strip()]
    return bool(parts) and all(canonical_place(re.sub(r"[()]", "", p)) for p in parts)


def detail_fields(lines: list[str]) -> dict[str, str]:
    """Purpose and location from the text after an entity's name, labelled or not."""
    fields, rest = labelled_fields(lines)
    segments: list[str] = []
    for line in rest:
        line = line.strip(" :–—-|")
        paren = re.match(r"^(.*?)\s*\(([^()]+)\)\s*\.?$", line)
        if paren and _is_place_list(paren.group(2)):
            segments += [paren.group(1), paren.group(2)]
            continue
        segments += [s for s in _ITEM_SPLIT.split(line) if s and s.strip(" .")]
    purpose: list[str] = []
    for segment in segments:
        segment = segment.strip(" .")
        tail = re.match(r"^(.*\S)\s*,\s*([^,]+)$", segment)
        if "location" not in fields and _is_place_list(segment) and segment:
            fields["location"] = segment
        elif "location" not in fields and tail and _is_place_list(tail.group(2)):
            purpose.append(tail.group(1))
            fields["location"] = tail.group(2).strip()
        elif segment:
            purpose.append(segment)
    if purpose and "purpose" not in fields:
        fields["purpose"] = " – ".join(purpose)
    return fields


_NAME_SPLIT = re.compile(r"^(.{1,100}?)\s*(?:[:：|]|\s[–—-]{1,2}\s|[–—])\s*(.+)$")
_NAME_PAREN = re.compile(r"^([^()]{1,100}?)\s*\((.+)\)\s*\.?$")


def split_item(node: Any) -> tuple[str, dict[str, str], bool] | None:
    """(name, fields, structured) of one list item or paragraph, ``None`` if it is prose."""
    lines = _text_parts(node)
    if not lines or sum(len(line.split()) for line in lines) > 60:
        return None
    first = lines[0]
    lead = _leading_name(node)
    if lead and first.startswith(lead):
        name, rest = lead, first[len(lead):].strip(" :–—-|,")
    elif match := _NAME_SPLIT.match(first):
        name, rest = match.group(1), match.group(2)
    elif match := _NAME_PAREN.match(first):
        name, rest = match.group(1), match.group(2).replace(",", ";")
    else:
        name, rest = first, ""
    if len(name.split()) > 10:
        return None
    details = [rest, *lines[1:]] if rest else lines[1:]
    fields = detail_fields(details)
    return name, fields, bool(fields)


def _leading_name(node: Any, bold_only: bool = False) -> str | None:
    """The text of the element an item opens with (its name in bold, a link …), when
    nothing but whitespace comes before it."""
    allowed = ("strong", "b") if bold_only else ("strong", "b", "a", "em", "span", "code")
    if (node.text or "").strip():
        return None
    for child in node:
        if isinstance(child.tag, str):
            if child.tag in allowed and stripped_text(child):
                return " ".join(_text_parts(child)) or None
            return None
        if (child.text or "").strip() or (child.tail or "").strip():
            return None  # a comment's text counts as text before the name
    return None


_CONTEXT = re.compile(r"sub-?\s?processors?|\bprocessors?\b|vendors?|third[- ]part|"
                      r"service providers?|suppliers?|partners?|providers?", re.I)
_SECTIONS = ("ul", "ol", "dl", "table")


def _context(node: Any) -> str:
    before = last_before(node, (*HEADINGS, "p"))
    return " ".join(_text_parts(before)) if before is not None else ""


def _section(node: Any) -> str:
    heading = last_before(node, HEADINGS)
    return " ".join(_text_parts(heading)) if heading is not None else ""


def _record(name: str, fields: dict[str, str], section: str) -> dict[str, str]:
    record = {"name": name, **fields}
    if section:
        record["section"] = section
    return record


def list_records(roots: Iterable[Any]) -> list[dict[str, str]]:
    """Entities of ``<ul>``/``<ol>`` lists (and bold-led paragraphs) that read like entities."""
    out: list[dict[str, str]] = []
    for root in roots:
        groups = [[li for li in lst if li.tag == "li" and next(li.iterdescendants("ul", "ol"),
                                                               None) is None]
                  for lst in descendants(root, "ul", "ol")]
        paragraphs = [p for p in descendants(root, "p") if _leading_name(p, bold_only=True)]
        for items in [*groups, paragraphs]:
            parsed = [(item, split_item(item)) for item in items]
            good = [(item, p) for item, p in parsed if p]
            if len(good) < 2 or len(good) < 0.6 * len(items):
                continue
            structured = sum(1 for _, p in good if p[2])
            if structured < 0.6 * len(good) and not _CONTEXT.search(_context(items[0])):
                continue
            out += [_record(p[0], p[1], _section(item)) for item, p in good]
    return out


def dl_records(roots: Iterable[Any]) -> list[dict[str, str]]:
    """Entities of definition lists: ``<dt>`` the name, its ``<dd>`` the details."""
    out: list[dict[str, str]] = []
    for root in roots:
        for dl in descendants(root, "dl"):
            pairs: list[tuple[str, list[str]]] = []
            for node in dl.iterdescendants("dt", "dd"):
                if nearest(node, "dl") is not dl:
                    continue
                if node.tag == "dt":
                    pairs.append((" ".join(_text_parts(node)), []))
                elif pairs:
                    pairs[-1][1].extend(_text_parts(node))
            good = [(n, d) for n, d in pairs if n and len(n.split()) <= 10
                    and not n.endswith("?") and len(" ".join(d).split()) <= 60]
            if len(good) < 2 or len(good) < 0.6 * len(pairs):
                continue
            section = _section(dl)
            out += [_record(n, detail_fields(d), section) for n, d in good]
    return out


def card_records(roots: Iterable[Any]) -> list[dict[str, str]]:
    """Entities written as a heading followed by "Purpose: …" / "Location: …" lines."""
    out: list[dict[str, str]] = []
    for root in roots:
        for heading in descendants(root, *HEADINGS[1:]):
            lines = _card_lines(heading)
            fields, _ = labelled_fields(lines)
            if not ({"purpose", "location"} & fields.keys()):
                continue
            out.append(_record(" ".join(_text_parts(heading)), detail_fields(lines), ""))
    return out


def _card_lines(heading: Any) -> list[str]:
    """The text after a heading, up to the next heading; none when a list or a table
    follows (a section of entities, not one entity)."""
    lines: list[str] = []
    if (heading.tail or "").strip():
        lines.append(heading.tail.strip())
    for sib in heading.itersiblings():
        if isinstance(sib.tag, str):
            if sib.tag in HEADINGS or next(sib.iterdescendants(*HEADINGS), None) is not None:
                break
            if sib.tag in _SECTIONS or next(sib.iterdescendants(*_SECTIONS), None) is not None:
                return []
            lines += _text_parts(sib)
        elif (sib.text or "").strip():
            lines.append(sib.text.strip())  # a comment's text, as it stood
        if (sib.tail or "").strip():
            lines.append(sib.tail.strip())
    return lines
