"""Subprocessor entities outside tables: "Name – purpose – location" list items and
bold-led paragraphs, definition lists, and headings followed by "Purpose: …" /
"Location: …" lines (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .. import vocab
from ..read.html import HEADINGS, descendants, nearest, stripped_text
from ..read.html import text_parts as _text_parts
from ..read.tables import elements_before, headings_before
from ..read.text import normalise_space
from .columns import ROLES, norm_header, role_scores, slug
from .places import canonical_place, places_in
from .prose import name_like

_ITEM_SPLIT = re.compile(r"\s*[;|•·]\s*|\s+[–—-]{1,2}\s+|\s*[–—]\s*")
# Labels of "Purpose: …" lines, by the role they name.
_LABEL = re.compile(r"^\s*([^\W\d_][\w ()'/&-]{1,40}?)\s*[:：]\s*(.*)$")
# Where a line holds another "Label: value": after a ";" or a " | ", or the end of a
# sentence ("Type: Hosting | Location: USA").
_LABEL_AHEAD = re.compile(r"(?:\s*;\s*|\s+\|\s+|(?<=[.。])\s+)(?=[^\W\d_][\w ()/-]{1,40}[:：])")


def _label_role(label: str) -> str | None:
    scores = role_scores(norm_header(label))
    best = max((s, r) for r, s in scores.items()) if scores else None
    return best[1] if best and best[0] >= 2 else None


def labelled_fields(lines: Iterable[str], any_label: bool = False,
                    ) -> tuple[dict[str, str], list[str]]:
    """("Purpose: X", "Location: Y") → fields; the lines that carry no known label.

    With ``any_label`` (the lines are a record's "key: value" items) a label that names
    no role is a field of its own ("Certifications: SOC 2" → ``certifications``)."""
    fields: dict[str, str] = {}
    rest: list[str] = []
    for line in lines:
        for piece in _LABEL_AHEAD.split(line):
            match = _LABEL.match(piece)
            role = _label_role(match.group(1)) if match else None
            if match and any_label and role is None and match.group(2).strip():
                role = slug(match.group(1))
            if match and role and role != "skip" and match.group(2).strip():
                key = role if role in ROLES else slug(match.group(1))
                fields[key] = "; ".join(filter(None, (fields.get(key), match.group(2).strip())))
            elif not (match and role == "skip"):
                rest.append(piece)
    return fields, rest


def is_labelled(line: str) -> bool:
    """A "Key: value" line (a short label, then a value)."""
    match = _LABEL.match(line)
    return bool(match and match.group(2).strip() and len(match.group(1).split()) <= 5)


def _is_place_list(text: str) -> bool:
    parts = [p for p in re.split(r"[,;/]|\s+(?:and|&)\s+", text) if p.strip()]
    return bool(parts) and all(canonical_place(re.sub(r"[()]", "", p)) for p in parts)


def detail_fields(lines: list[str], any_label: bool = False) -> dict[str, str]:
    """Purpose and location from the text after an entity's name, labelled or not."""
    fields, rest = labelled_fields(lines, any_label)
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
_LISTS = ("ul", "ol")


def _record(name: str, fields: dict[str, str], section: str) -> dict[str, str]:
    record = {"name": name, **fields}
    if section:
        record["section"] = section
    return record


def _text_of(node: Any | None) -> str:
    return " ".join(_text_parts(node)) if node is not None else ""


def own_text(item: Any) -> str:
    """An item's text before the list nested in it (its name, perhaps more)."""
    parts = [item.text or ""]
    for child in item:
        if child.tag in _LISTS:
            break
        if isinstance(child.tag, str):
            parts.append(" ".join(_text_parts(child)))
        parts.append(child.tail or "")
    return normalise_space(" ".join(parts))


def _nested(item: Any) -> Any | None:
    """The list nested in an item, when it holds no list itself (a record's fields)."""
    sub = next((c for c in item if c.tag in _LISTS), None)
    if sub is None or next(sub.iterdescendants(*_LISTS), None) is not None:
        return None
    return sub


def _nested_record(item: Any) -> tuple[str, dict[str, str]] | None:
    """``- **Name**`` with ``key: value`` sub-bullets: (name, fields), else ``None``."""
    sub = _nested(item)
    if sub is None:
        return None
    name = own_text(item).strip(" :–—-|")
    lines = [_text_of(li) for li in sub if li.tag == "li"]
    lines = [line for line in lines if line]
    if not name or len(name.split()) > 10 or not lines:
        return None
    if sum(1 for line in lines if is_labelled(line)) >= 0.6 * len(lines):
        return name, detail_fields(lines, any_label=True)
    lead = _leading_name(item, bold_only=True)
    if lead and lead == name and len(lines) <= 4 and all(len(x.split()) <= 20 for x in lines):
        return name, detail_fields(lines)  # - **Stripe** / - Payments / - United States
    return None


def list_records(roots: Iterable[Any]) -> list[dict[str, str]]:
    """Entities of ``<ul>``/``<ol>`` lists (and bold-led paragraphs) that read like entities:
    "Name – purpose – location" items, and bold names with "key: value" sub-bullets."""
    out: list[dict[str, str]] = []
    for root in roots:
        lists = descendants(root, *_LISTS)
        nested: list[tuple[Any, tuple[str, dict[str, str]]]] = []
        taken: set[int] = set()
        for lst in lists:
            if id(lst) in taken:
                continue
            items = [li for li in lst if li.tag == "li"]
            found = [(li, _nested_record(li)) for li in items]
            good = [(li, r) for li, r in found if r]
            if good and len(good) >= 0.6 * len([li for li in items if _nested(li) is not None]):
                nested += [(li, r) for li, r in good]
                taken.update(id(_nested(li)) for li, _ in good)
                taken.update(id(li) for li, _ in good)
        # the sublists of one list ("- AI" / "  - OpenAI — …") are one group: a category
        # with a single vendor is no less a list of vendors than its siblings
        by_list: dict[int, list[Any]] = {}
        for lst in lists:
            if id(lst) in taken:
                continue
            up = lst.getparent()
            outer = up.getparent() if up is not None and up.tag == "li" else None
            key = id(outer) if outer is not None and outer.tag in _LISTS else id(lst)
            by_list.setdefault(key, []).extend(
                li for li in lst if li.tag == "li" and id(li) not in taken
                and next(li.iterdescendants(*_LISTS), None) is None)
        groups = list(by_list.values())
        paragraphs = [p for p in descendants(root, "p") if _leading_name(p, bold_only=True)]
        accepted: list[tuple[Any, tuple[str, dict[str, str], bool]]] = []
        lists_in: set[int] = set()  # the containers of the lists of entities accepted
        for items in [*groups, paragraphs]:
            if len(items) < 2:
                continue
            parsed = [(item, split_item(item)) for item in items]
            good_items = [(item, p) for item, p in parsed if p]
            if len(good_items) < 2 or len(good_items) < 0.6 * len(items):
                continue
            structured = sum(1 for _, p in good_items if p[2])
            if structured < 0.6 * len(good_items) and not _CONTEXT.search(
                    _text_of(elements_before([items[0]], (*HEADINGS, "p"))[0])):
                continue
            accepted += [(item, p) for item, p in good_items]
            if items is not paragraphs:
                lists_in.add(id(_container(items[0])))
        # a one-item list beside accepted ones ("This subprocessor is located in the
        # United Kingdom:" / "- Ko-Fi - Payment facilitator") lists an entity too
        for items in groups:
            if len(items) == 1 and id(_container(items[0])) in lists_in:
                one = split_item(items[0])
                if one:
                    accepted.append((items[0], one))
        _intro_places([(item, p[1]) for item, p in accepted if item.tag == "li"])
        accepted = [(item, one) for item, p in accepted for one in _role_items(item, p)]
        nodes = [item for item, _ in nested] + [item for item, _ in accepted]
        sections = [_text_of(h) for h in headings_before(nodes)]
        records = [(n, f) for _, (n, f) in nested] + [(p[0], p[1]) for _, p in accepted]
        out += [_record(n, f, s) for (n, f), s in zip(records, sections, strict=True)]
    return out


_NAMES_SPLIT = re.compile(r"\s*[,;]\s*|\s+(?:and|&)\s+")


def _role_items(item: Any, parsed: tuple[str, dict[str, str], bool],
                ) -> list[tuple[str, dict[str, str], bool]]:
    """An item whose bold label names the role of the entities it lists ("**AI model
    providers:** OpenAI, Anthropic", "**Payment processor:** Stripe": a word of the
    ``name`` role in ``header_words``) as one entity per name, the label its purpose;
    any other item as it was read."""
    lead = _leading_name(item, bold_only=True)
    text = " ".join(_text_parts(item))
    if not lead or not text.startswith(lead):
        return [parsed]
    after = text[len(lead):]
    if not (lead.rstrip().endswith((":", "：")) or after.lstrip().startswith((":", "："))):
        return [parsed]
    label = lead.strip().rstrip(":：").strip()
    if _label_role(label) != "name":
        return [parsed]
    names = [n.strip(" .") for n in _NAMES_SPLIT.split(after.strip().lstrip(":：").strip())]
    names = [n for n in names if n]
    if not names or not all(name_like(n) for n in names):
        return [parsed]
    return [(n, {**parsed[1], "purpose": label}, True) for n in names]


def _container(item: Any) -> Any:
    """The element that holds an item's list."""
    lst = item.getparent()
    up = lst.getparent() if lst is not None else None
    return up if up is not None else lst


def _intro_places(items: list[tuple[Any, dict[str, str]]]) -> None:
    """Items of a list introduced by a sentence that names one place ("These subprocessors
    are all located in the United States:") are located there, unless they say where."""
    lists: dict[int, tuple[Any, list[dict[str, str]]]] = {}
    for item, fields in items:
        if "location" not in fields:
            lst = item.getparent()
            lists.setdefault(id(lst), (lst, []))[1].append(fields)
    if not lists:
        return
    intros = elements_before([lst for lst, _ in lists.values()], ("p", *HEADINGS))
    for (lst, fields_of), intro in zip(lists.values(), intros, strict=True):
        if intro is None or intro.tag != "p" or nearest(lst, "p") is not None:
            continue
        text = _text_of(intro)
        places = places_in(text) if text.rstrip().endswith((":", "：")) else []
        if len(set(places)) == 1 and intro.getnext() is lst:
            name = next((n for n in vocab.get("countries") if n.casefold() == places[0]),
                        places[0])
            for fields in fields_of:
                fields["location"] = name


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
            section = _text_of(headings_before([dl])[0])
            out += [_record(n, detail_fields(d), section) for n, d in good]
    return out
