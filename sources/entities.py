"""Subprocessor entities outside tables, and the names and values they are keyed by (pure).

* ``display_name`` / ``name_key``: "Amazon Web Services, Inc.¹" displays as
  "Amazon Web Services, Inc." and is keyed ``amazon web services``, like
  "Amazon Web Services Inc" and "Amazon Web Services (AWS)".
* ``text_key`` / ``location_key``: what a purpose or location means for comparison
  (case, punctuation, order of list items and country spellings do not count).
* ``list_records``, ``dl_records``, ``card_records``: entities written as
  "Name – purpose – location" list items, definition lists, or headings followed by
  "Purpose: …" / "Location: …" lines.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .markup import text_parts
from .places import canonical_place, places_in
from .tables import ROLES, norm_header, role_scores, slug

if TYPE_CHECKING:  # bs4 is imported when a tree is read, not with the module
    from bs4 import Tag

_FOOTNOTE = re.compile(r"(\s*(\[\d{1,3}\]|\(\d{1,2}\)|\[[a-z*†‡]\]|[*†‡§¹²³⁴⁵⁶⁷⁸⁹⁰⁺]+))+\s*$")
_LEADING_MARK = re.compile(r"^\s*[*†‡§•·▪►✓✔-]+\s+")


def strip_footnotes(text: str) -> str:
    """Remove footnote markers (``*``, ``¹``, ``[1]``, ``(1)``, ``†``) at the end of a value."""
    return _FOOTNOTE.sub("", text).strip()


def display_name(text: str) -> str:
    """An entity's name as shown: no footnote markers, bullets or trailing punctuation."""
    text = _LEADING_MARK.sub("", strip_footnotes(text))
    text = re.sub(r"[¹²³⁴⁵⁶⁷⁸⁹⁰]", "", text)
    return re.sub(r"\s+", " ", text).strip(" :;,–—-|").strip()


_SUFFIXES = {"inc", "incorporated", "llc", "ltd", "limited", "corp", "corporation", "co", "plc",
             "gmbh", "ag", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "pty", "pte", "llp",
             "lp", "kk", "ab", "as", "oy", "oyj", "aps", "se", "sl", "kft", "sro", "doo", "ulc",
             "lda", "ltda", "kg", "pvt", "private", "pbc", "sagl", "sau", "asa"}
_ALIASES = {"aws": "amazon web services", "gcp": "google cloud platform",
            "google cloud": "google cloud platform", "msft": "microsoft"}


def name_key(name: str) -> str:
    """The case-, accent-, punctuation- and legal-suffix-free key an entity is matched by."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    bare = re.sub(r"\s*\([^()]*\)\s*$", "", text).strip()
    text = (bare or text).replace("&", " and ").replace(".", "")
    words = re.sub(r"[^\w\s]", " ", text).split()
    if words and words[0] == "the" and len(words) > 1:
        words = words[1:]
    while len(words) > 1 and words[-1] in _SUFFIXES:
        words.pop()
    if len(words) > 2 and words[-2:] == ["co", "kg"]:
        words = words[:-2]
    key = " ".join(words)
    return _ALIASES.get(key, key)


_ITEM_SPLIT = re.compile(r"\s*[;|•·]\s*|\s+[–—-]{1,2}\s+|\s*[–—]\s*")


_STOP = {"and", "or", "of", "the", "a", "an", "for", "to", "in", "on", "with", "by", "as", "via",
         "its", "our", "their", "we", "us", "e", "g", "eg", "ie", "etc", "including"}


def text_key(value: str | None) -> tuple[str, ...]:
    """A purpose (or other value) as its set of words: case, punctuation, separators,
    line breaks, item order and small words do not change its meaning."""
    words = re.sub(r"[^\w\s]", " ", (value or "").casefold().replace("&", " and ")).split()
    return tuple(sorted({w for w in words if w not in _STOP}))


def location_key(value: str | None) -> tuple[str, ...]:
    """A location as a set of canonical places and other parts: "USA, EU" = "EU and US"."""
    parts = re.split(r"[;,/|()\n•]|\s+(?:and|&|\+)\s+|\s[–—-]\s", value or "")
    out = set()
    for part in parts:
        clean = re.sub(r"^\s*(the\s+)", "", part.strip(" .:"), flags=re.I)
        if not clean:
            continue
        place = canonical_place(clean)
        out.add(place or re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", clean.casefold())).strip())
    return tuple(sorted(p for p in out if p))


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


def split_item(node: Tag) -> tuple[str, dict[str, str], bool] | None:
    """(name, fields, structured) of one list item or paragraph, ``None`` if it is prose."""
    lines = text_parts(node)
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


def _leading_name(node: Tag, bold_only: bool = False) -> str | None:
    from bs4 import Tag

    allowed = ("strong", "b") if bold_only else ("strong", "b", "a", "em", "span", "code")
    for child in node.children:
        if isinstance(child, Tag):
            if child.name in allowed and child.get_text(strip=True):
                return " ".join(text_parts(child)) or None
            return None
        if str(child).strip():
            return None
    return None


_CONTEXT = re.compile(r"sub-?\s?processors?|\bprocessors?\b|vendors?|third[- ]part|"
                      r"service providers?|suppliers?|partners?|providers?", re.I)
_HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]
_SECTIONS = ["ul", "ol", "dl", "table"]


def _context(node: Tag) -> str:
    from bs4 import Tag

    before = node.find_previous([*_HEADINGS, "p"])
    return " ".join(text_parts(before)) if isinstance(before, Tag) else ""


def _section(node: Tag) -> str:
    from bs4 import Tag

    heading = node.find_previous(_HEADINGS)
    return " ".join(text_parts(heading)) if isinstance(heading, Tag) else ""


def _record(name: str, fields: dict[str, str], section: str) -> dict[str, str]:
    record = {"name": name, **fields}
    if section:
        record["section"] = section
    return record


def list_records(roots: Iterable[Tag]) -> list[dict[str, str]]:
    """Entities of ``<ul>``/``<ol>`` lists (and bold-led paragraphs) that read like entities."""
    out: list[dict[str, str]] = []
    for root in roots:
        groups = [[li for li in lst.find_all("li", recursive=False) if not li.find(["ul", "ol"])]
                  for lst in root.find_all(["ul", "ol"])]
        paragraphs = [p for p in root.find_all("p") if _leading_name(p, bold_only=True)]
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


def dl_records(roots: Iterable[Tag]) -> list[dict[str, str]]:
    """Entities of definition lists: ``<dt>`` the name, its ``<dd>`` the details."""
    out: list[dict[str, str]] = []
    for root in roots:
        for dl in root.find_all("dl"):
            pairs: list[tuple[str, list[str]]] = []
            for node in dl.find_all(["dt", "dd"]):
                if node.find_parent("dl") is not dl:
                    continue
                if node.name == "dt":
                    pairs.append((" ".join(text_parts(node)), []))
                elif pairs:
                    pairs[-1][1].extend(text_parts(node))
            good = [(n, d) for n, d in pairs if n and len(n.split()) <= 10
                    and not n.endswith("?") and len(" ".join(d).split()) <= 60]
            if len(good) < 2 or len(good) < 0.6 * len(pairs):
                continue
            section = _section(dl)
            out += [_record(n, detail_fields(d), section) for n, d in good]
    return out


def card_records(roots: Iterable[Tag]) -> list[dict[str, str]]:
    """Entities written as a heading followed by "Purpose: …" / "Location: …" lines."""
    from bs4 import Tag

    out: list[dict[str, str]] = []
    for root in roots:
        for heading in root.find_all(_HEADINGS[1:]):
            lines: list[str] = []
            for sib in heading.next_siblings:
                if isinstance(sib, Tag):
                    if sib.name in _HEADINGS or sib.find(_HEADINGS):
                        break
                    if sib.name in _SECTIONS or sib.find(_SECTIONS):
                        lines = []  # a section holding a list or table, not one entity
                        break
                    lines += text_parts(sib)
                elif str(sib).strip():
                    lines.append(str(sib).strip())
            fields, _ = labelled_fields(lines)
            if not ({"purpose", "location"} & fields.keys()):
                continue
            out.append(_record(" ".join(text_parts(heading)), detail_fields(lines), ""))
    return out


def places_of(value: str | None) -> set[str]:
    """The canonical countries and regions a location names."""
    return set(places_in(value or "", codes=True))
