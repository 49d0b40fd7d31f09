"""subprocessors — a vendor's list of subprocessors (sub-processors, third parties).

Accepts HTML tables (the entity name, purpose/service and location/country/region columns
are found by their headers, whatever their wording; several tables on one page; a first
row of headers or no headers at all; ARIA tables and CMS grids of divs), Markdown/MDX
tables with or without YAML front matter, HTML lists ("Name – purpose – location"),
definition lists, headings followed by "Purpose: …" / "Location: …" lines, CSV (also
``;`` or tab separated) and JSON (a list of objects, or an object keyed by name). The
format is detected from the content; ``format:`` forces it. Navigation, headers,
footers, cookie banners and scripts are dropped; a bot challenge or login wall parses
to an empty list (the vanish guard's business, not a change).

The document is the set of entities keyed by their normalised name (case, footnote
markers, punctuation and legal suffixes such as "Inc." do not count), each with
``name``, ``purpose``, ``location`` and any other column kept. Row order, markup,
whitespace, footnote markers, "last updated" lines, country spellings ("US" = "United
States") and the order of items in a cell are not changes.

Changes: an entity added, removed, or modified (``fields`` says which: purpose,
location, another column). Each check fires one ``subprocessor_change`` listing every
entity affected: high when an AI/model provider is added or changed or a location moves
to a new country, medium otherwise, low for a removal or a change in a minor column.

Options: ``name_column``, ``purpose_column``, ``location_column`` name the header of a
column when the automatic choice is wrong.

Example::

    - id: acme-subprocessors
      kind: subprocessors
      url: https://trust.acme.example/subprocessors
      select: "main"
      location_column: "Location of processing"
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from config.errors import ParseError

from ..base import BaseSettings, Change, Document
from ..read.dates import is_date_noise
from ..read.text import clean_text
from .columns import is_location
from .names import display_name, location_key, name_key, strip_footnotes, text_key
from .records import CORE, records_of

NAME = "subprocessors"
PARSER_VERSION = "1"
INTERVAL = 6 * 3600.0  # seconds: checked every six hours unless the config says otherwise
RULES = "triggers.subprocessors:subprocessor_rule"  # its rule in triggers/, named
CONTEXT = ("section",)


class Settings(BaseSettings):
    """Header overrides for when the automatic column choice is wrong."""

    name_column: str | None = None
    purpose_column: str | None = None
    location_column: str | None = None


def parse(body: bytes, settings: BaseSettings) -> Document:
    try:
        entities = build_entities(records_of(body, settings), settings.ignore)
    except ParseError:
        raise
    except Exception as exc:  # a third-party parser's failure becomes ours
        raise ParseError(f"subprocessors: cannot parse the body: {exc}") from exc
    return Document(kind=NAME, data={"entities": entities}, parser_version=PARSER_VERSION)


def _value(text: str, ignore: list[re.Pattern[str]]) -> str:
    text = strip_footnotes(clean_text(text))
    for rx in ignore:
        text = rx.sub("", text)
    return _SPACES.sub(" ", text).strip(" ;,")


_SPACES = re.compile(r"\s+")


_NOT_A_NAME = re.compile(r"^\s*([*†‡¹²³⁴⁵]|\[\d+\]|\(\d+\)|notes?\b|footnotes?\b)", re.I)


def build_entities(found: Iterable[dict[str, str]], ignore: Iterable[str] = (),
                   ) -> dict[str, dict[str, str]]:
    """Records merged by normalised name; values of repeated rows joined, sorted."""
    rx = [re.compile(p) for p in ignore]
    merged: dict[str, dict[str, set[str]]] = {}
    for record in found:
        values = {k: _value(v, rx) for k, v in record.items()}
        raw = values.pop("name", "").split("; ")[0]
        if _NOT_A_NAME.match(raw) or len(raw.split()) > 12:
            continue  # a footnote or a note written into the table
        name = display_name(raw)
        key = name_key(name)
        if not key or len(name) > 150 or is_date_noise(name):
            continue
        if not values.get("location") and is_location(values.get("section", "")):
            values["location"] = values["section"]  # listed under a "United States" heading
        slot = merged.setdefault(key, {"name": set()})
        slot["name"].add(name)
        for field, value in values.items():
            if value:
                slot.setdefault(field, set()).add(value)
    out: dict[str, dict[str, str]] = {}
    for key, slot in sorted(merged.items()):
        entity = {"name": sorted(slot.pop("name"))[0]}
        for field in ("purpose", "location"):
            entity[field] = "; ".join(sorted(slot.pop(field, ())))
        entity.update({f: "; ".join(sorted(v)) for f, v in sorted(slot.items())})
        out[key] = entity
    return out


def changed_fields(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Which of an entity's fields changed in meaning."""
    fields = [f for f, key in (("purpose", text_key), ("location", location_key))
              if key(before.get(f)) != key(after.get(f))]
    skip = set(CORE) | set(CONTEXT)
    extra_a = {k: text_key(v) for k, v in before.items() if k not in skip}
    extra_b = {k: text_key(v) for k, v in after.items() if k not in skip}
    if sorted(extra_a.values()) != sorted(extra_b.values()):
        fields += sorted(k for k in extra_a.keys() | extra_b.keys()
                         if extra_a.get(k) != extra_b.get(k))
    return fields


def diff(old: Document, new: Document) -> list[Change]:
    a: dict[str, dict[str, str]] = old.data.get("entities", {})
    b: dict[str, dict[str, str]] = new.data.get("entities", {})
    changes = [Change("removed", a[k]["name"], a[k], None, path="entity")
               for k in sorted(a.keys() - b.keys())]
    changes += [Change("added", b[k]["name"], None, b[k], path="entity")
                for k in sorted(b.keys() - a.keys())]
    for k in sorted(a.keys() & b.keys()):
        fields = changed_fields(a[k], b[k])
        if fields:
            changes.append(Change("modified", b[k]["name"], a[k], b[k], path="entity",
                                  fields=tuple(fields)))
    return changes


def size(document: Document) -> int:
    return len(document.data.get("entities", {}))


def _short(text: str | None, limit: int = 80) -> str:
    text = text or "—"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(change: Change) -> str:
    if change.op == "modified":
        before, after = change.before or {}, change.after or {}
        parts = [f"{f} {_short(before.get(f))} → {_short(after.get(f))}" for f in change.fields]
        return f"{change.key}: " + "; ".join(parts)
    entity = (change.after if change.op == "added" else change.before) or {}
    details = [_short(entity.get(f)) for f in ("purpose", "location") if entity.get(f)]
    verb = "Added" if change.op == "added" else "Removed"
    return " — ".join([f"{verb} subprocessor {change.key}", *details])
