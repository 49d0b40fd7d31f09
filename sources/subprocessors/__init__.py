"""subprocessors — a vendor's list of subprocessors (sub-processors, third parties).

Reads the shapes vendors publish, first that gives entities:

* **Tables**: HTML (several on one page, a first row of headers or none, ARIA tables, CMS
  grids of divs) and Markdown/MDX pipe tables. The name, purpose and location columns are
  found by their headers in any wording and language, from the ``header_words``
  vocabulary (``vocabulary: {header_words: {name: [Auftragnehmer]}}`` adds a word);
  cookie tables and change logs ("Date | Change") are not entity tables.
* **One heading per vendor** (or an accordion's ``<summary>``, or a bold name on a line of
  its own, as several vendors in a row are listed) followed by "Purpose: …" lines
  ("Type: X | Location: Y" splits at the pipe), "**Region:** …" bullets or a "label |
  value" table, every label kept as a field; a logo alone in a name cell, item or heading
  names the vendor by its ``alt`` text; a table cell of "Label: value" lines (a "Details"
  column) gives each label as its field;
  or followed by a short description that names the vendor ("### Exoscale" / "Exoscale
  runs our data centres"), links to its DPA ignored.
* **Definition lists** and **lists**: "Name – purpose – location" items, and a bold name
  with "key: value" (or short plain) sub-bullets. The sublists of one list are one group
  (a category holding a single vendor is read); a list takes the one place the sentence
  introducing it names ("These subprocessors are located in the United States:"); an item
  whose bold label names a role from ``header_words`` ("**AI model providers:** OpenAI,
  Anthropic") gives one entity per name, the label its purpose.
* **Names in prose**: bold names inside sentences ("powered by **Intercom**") and links
  whose text names the site they point to; the sentence around them is not kept.
* **Data files**: JSON, YAML (block or flow style) and CSV (also ``;`` or tab separated):
  every list of records with a name field, however deep; YAML front matter records.

The format is detected from the content; ``format:`` forces it. Navigation, headers,
footers, cookie banners and scripts are dropped; a bot challenge or login wall parses to
an empty list (the vanish guard's business, not a change).

The document is the set of entities keyed by their normalised name (case, accents,
footnote markers, punctuation and legal forms such as "Inc." or "(주)" do not count),
each with ``name``, ``purpose``, ``location``, the section it is listed under and any
other field kept. Row order, markup, whitespace, footnote markers, "last updated" lines,
country spellings ("US" = "United States" = "미국") and the order of items in a cell are
not changes; nor are a name respelt ("Matamo" → "Matomo": a rename, reported, firing
nothing), a word renamed throughout the document ("operator" → "Owner" in every vendor's
fields), or a column added to (or dropped from) every row.

Changes: an entity added, removed, or modified (``fields`` says which: purpose,
location, another column, ``name`` for a rename). Each check fires one
``subprocessor_change`` listing every entity affected: high when an AI/model provider is
added or changed or a location moves to a new country, medium otherwise, low for a
removal or a change in a minor column.

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

import difflib
import re
from collections import Counter
from collections.abc import Iterable

from config.errors import ParseError

from ..base import BaseSettings, Change, Document
from ..read.dates import is_date_noise
from ..read.text import clean_text
from .columns import is_header_text, is_location
from .lists import labelled_fields
from .names import display_name, location_key, name_key, places_of, strip_footnotes, text_key
from .records import CORE, records_of

NAME = "subprocessors"
PARSER_VERSION = "3"
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
_PLACEHOLDER = re.compile(r"^\s*\[[^\[\]]*\]\s*$")  # "[VERIFY — email provider]", "[Vendor]"


def build_entities(found: Iterable[dict[str, str]], ignore: Iterable[str] = (),
                   ) -> dict[str, dict[str, str]]:
    """Records merged by normalised name; values of repeated rows joined, sorted."""
    rx = [re.compile(p) for p in ignore]
    merged: dict[str, dict[str, set[str]]] = {}
    cleaned: dict[str, str] = {}  # each text once: sections, places, purposes repeat
    for record in found:
        values = {}
        for field, text in record.items():
            value = cleaned.get(text)
            if value is None:
                value = cleaned[text] = _value(text, rx)
            values[field] = value
        if not values.get("location") and "; " in values.get("purpose", ""):
            values.update(_labelled_cell(values["purpose"]))
        raw = values.pop("name", "").split("; ")[0]
        if _NOT_A_NAME.match(raw) or len(raw.split()) > 12 or _PLACEHOLDER.match(raw):
            continue  # a footnote, a note written into the table, a template's placeholder
        name = display_name(raw)
        if len(name) > 150 or is_header_text(name):
            continue  # a column's title read as a row ("Sub-Processor | Location | …")
        key = name_key(name)
        if not key or is_date_noise(name):
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


def _labelled_cell(text: str) -> dict[str, str]:
    """The fields of a cell written as "Label: value" lines ("Purpose: Hosting" /
    "Location: Ireland" under a "Details" header), when every line is labelled and one
    names the purpose or the location; else nothing (the cell stays the purpose)."""
    parts = [p for p in text.split("; ") if p.strip()]
    if len(parts) < 2:
        return {}
    fields, rest = labelled_fields(parts, any_label=True)
    if rest or not {"purpose", "location"} & fields.keys():
        return {}
    return {"purpose": "", **fields}


Substitutions = frozenset[tuple[str, str]]


def changed_fields(before: dict[str, str], after: dict[str, str],
                   renamed: Substitutions = frozenset(),
                   columns: frozenset[str] = frozenset()) -> list[str]:
    """Which of an entity's fields changed in meaning (``renamed``: words renamed
    throughout the document, see ``term_renames``, do not count; nor do ``columns``, the
    fields a table gained or lost for every entity, see ``new_columns``)."""
    def old(value: str | None) -> str | None:
        return _substitute(value, renamed) if renamed and value else value

    fields = [f for f, key in (("purpose", text_key), ("location", location_key))
              if f not in columns and key(old(before.get(f))) != key(after.get(f))]
    skip = set(CORE) | set(CONTEXT) | columns
    extra_a = {k: text_key(old(v)) for k, v in before.items() if k not in skip}
    extra_b = {k: text_key(v) for k, v in after.items() if k not in skip}
    if sorted(extra_a.values()) != sorted(extra_b.values()):
        fields += sorted(k for k in extra_a.keys() | extra_b.keys()
                         if extra_a.get(k) != extra_b.get(k))
    return fields


_WORDS = re.compile(r"\w+")


def _substitute(text: str, renamed: Substitutions) -> str:
    lookup = dict(renamed)
    return _WORDS.sub(lambda m: lookup.get(m.group(0).casefold(), m.group(0)), text)


_SUBSTITUTION_WORDS = 300  # longer values are compared as they are


def _swaps(before: str, after: str) -> set[tuple[str, str]]:
    """The one-word-for-one-word replacements that turn ``before`` into ``after``."""
    a = [w.casefold() for w in _WORDS.findall(before)]
    b = [w.casefold() for w in _WORDS.findall(after)]
    if len(a) > _SUBSTITUTION_WORDS or len(b) > _SUBSTITUTION_WORDS:
        return set()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return {(a[i1], b[j1]) for op, i1, i2, j1, j2 in matcher.get_opcodes()
            if op == "replace" and i2 - i1 == j2 - j1 == 1}


def term_renames(pairs: list[tuple[dict[str, str], dict[str, str]]]) -> Substitutions:
    """Words renamed throughout a document ("operator" → "Owner" in every entity that
    said it): a one-word replacement made in the fields of two or more entities, whose
    old word is gone from every entity and whose new word no entity used before. Place
    names and numbers never count: moving every vendor from "US" to "EU" is a change."""
    found: dict[tuple[str, str], int] = {}
    for before, after in pairs:
        swaps: set[tuple[str, str]] = set()
        for field_ in before.keys() & after.keys():
            if field_ not in ("name", *CONTEXT) and before[field_] != after[field_]:
                swaps |= _swaps(before[field_], after[field_])
        for swap in swaps:
            found[swap] = found.get(swap, 0) + 1
    candidates = {s for s, n in found.items() if n >= 2 and not any(
        w.isdigit() or places_of(w) or places_of(w.upper()) for w in s)}
    if not candidates:
        return frozenset()
    old_words = {w.casefold() for before, _ in pairs for k, v in before.items()
                 if k not in CONTEXT for w in _WORDS.findall(v)}
    new_words = {w.casefold() for _, after in pairs for k, v in after.items()
                 if k not in CONTEXT for w in _WORDS.findall(v)}
    return frozenset((a, b) for a, b in candidates if a not in new_words and b not in old_words)


def new_columns(pairs: list[tuple[dict[str, str], dict[str, str]]]) -> frozenset[str]:
    """Fields that no entity had before and nearly every entity has now, or the other way
    round: a column added to (or dropped from) the table, not a change to each entity."""
    if len(pairs) < 3:
        return frozenset()
    skip = {"name", *CONTEXT}
    had = {f for before, _ in pairs for f, v in before.items() if v and f not in skip}
    has = {f for _, after in pairs for f, v in after.items() if v and f not in skip}
    out = set()
    for fields, side in ((has - had, 1), (had - has, 0)):
        for f in fields:
            if sum(1 for pair in pairs if pair[side].get(f)) >= 0.8 * len(pairs):
                out.add(f)
    return frozenset(out)


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of ``a`` and ``b`` when at most ``limit``, else ``limit + 1``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        best = row[0]
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
            best = min(best, row[j])
        if best > limit:
            return limit + 1
    return row[-1]


_RENAME_BUDGET = 20_000  # name comparisons a diff makes to find renames


def _squash(key: str) -> str:
    return re.sub(r"[\W_]", "", key)


def renames(removed: list[str], added: list[str]) -> list[tuple[str, str]]:
    """(old key, new key) of entities renamed by a typo fix or a respelling: "Matamo" →
    "Matomo", "New Relic" → "NewRelic" (one or two letters differ: one for names under
    eight letters, and the first letter stays), or by words added to or dropped from the
    end of a name, when only one name on each side could be meant ("Sentry Beta" →
    "Sentry"). Each name pairs at most once."""
    candidates: list[tuple[int, str, str]] = []
    extended: list[tuple[str, str]] = []
    budget = _RENAME_BUDGET
    for old in removed:
        for new in added:
            budget -= 1
            if budget < 0:
                break
            a, b = _squash(old), _squash(new)
            if a == b and a:
                candidates.append((0, old, new))
                continue
            if min(len(a), len(b)) < 4:
                continue
            short, long_ = sorted((old, new), key=len)
            if long_.startswith(short + " "):
                extended.append((old, new))
            limit = 1 if min(len(a), len(b)) < 8 or a[0] != b[0] else 2
            dist = _distance(a, b, limit)
            if dist <= limit:
                candidates.append((dist, old, new))
    olds = Counter(o for o, _ in extended)
    news = Counter(n for _, n in extended)
    candidates += [(3, o, n) for o, n in extended if olds[o] == news[n] == 1]
    out: list[tuple[str, str]] = []
    used_old: set[str] = set()
    used_new: set[str] = set()
    for _, old, new in sorted(candidates):
        if old not in used_old and new not in used_new:
            out.append((old, new))
            used_old.add(old)
            used_new.add(new)
    return out


def diff(old: Document, new: Document) -> list[Change]:
    a: dict[str, dict[str, str]] = old.data.get("entities", {})
    b: dict[str, dict[str, str]] = new.data.get("entities", {})
    renamed = renames(sorted(a.keys() - b.keys()), sorted(b.keys() - a.keys()))
    pairs = [(k, k) for k in sorted(a.keys() & b.keys())] + renamed
    gone = {k for k, _ in renamed}
    came = {k for _, k in renamed}
    changes = [Change("removed", a[k]["name"], a[k], None, path="entity")
               for k in sorted(a.keys() - b.keys() - gone)]
    changes += [Change("added", b[k]["name"], None, b[k], path="entity")
                for k in sorted(b.keys() - a.keys() - came)]
    matched = [(a[ka], b[kb]) for ka, kb in pairs]
    words, columns = term_renames(matched), new_columns(matched)
    for ka, kb in pairs:
        fields = changed_fields(a[ka], b[kb], words, columns)
        if ka != kb:
            fields = ["name", *fields]
        if fields:
            changes.append(Change("modified", b[kb]["name"], a[ka], b[kb], path="entity",
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
