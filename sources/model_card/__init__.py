"""model_card — a model card: Hugging Face README.md, an HTML model card page, Hub JSON.

Accepts PDF (a system card: its text page by page, read as Markdown; the snapshot keeps
the PDF), Markdown (or MDX) with or without YAML front matter (``base_model``,
``datasets``, ``license``, ``pipeline_tag``, ``language``, ``tags``, ``model-index`` …),
HTML model card pages (navigation, header, footer, scripts and cookie banners dropped)
and the Hub's ``/api/models/{id}`` JSON (its ``cardData``). The format is detected from
the content; ``format:`` forces it. A bot challenge, login wall or empty app shell parses
to an empty document.

A card is read as facts, not prose. The document is ``{"fields", "facts", "variants",
"sections"}``:

- ``fields``: the front matter (and the page's one top-level heading as ``title``).
- ``facts``: what the body states as label and value — a two-column table
  ("Attribute | Details", "Spec name | Value"), a definition list, a "**License:** MIT"
  line, a label and its value on two lines as grids of divs lay them out ("Fine-tuning"
  / "Supported", "Oct 2024" / "knowledge cutoff"), keyed by the label's own words
  ("Cutoff date" → ``cutoff_date``). The ``card_fields`` vocabulary says which field a
  label states (``cutoff_date`` → knowledge cutoff, "Input modalities" → input
  modalities); a label it does not name ("Epsilon", "Number of tokens") fires nothing.
- ``variants``: the rows of a table of model variants, keyed by the id in its model
  column as written (``ai/gemma3:270M-F16``; a cell listing several ids gives each its
  row; a row without an id continues the one above). A table is one of variants when a
  column names the model ("Model variant", "Tag", "Model Name", or an unlabelled first
  column) and another is a fact of the model (parameters, context window, modalities …),
  and no column holds scores: a benchmark or comparison table stays prose. A table
  with a model per column ("Feature | Model A | Model B") and a page of label/value
  tables, one per model ("Model code | kite-2-pro"), are read as variants too.
  A sentence whose subject is the model (the card's title, "This model") saying it is
  deprecated, retired or shut down is a fact too: the title and the date it names, so
  a rewording changes nothing and a deprecated parameter is not the model.
- ``sections``: the prose by heading, without the tables and lines read as facts.

YAML key order and flow or block lists, the order of list values, of ``model-index``
results, of table rows and of the items of a listed value ("Text, Image"), Markdown
re-wrapping, list markers, heading numbering, column widths, footnote marks and "last
updated" lines are not changes.

Changes: fields, facts and variants added, removed or modified (``path`` ``field``,
``fact``, ``variant``; ``fields`` lists what changed inside) and sections added, removed,
edited or renamed (``path="section"``). Triggers, each naming what the card writes: a
licence → ``policy_change`` (the new licence id or name); base model, model name,
version, release or deprecation date, a variant added → ``model_change`` (the variant's
id); datasets and training data → ``training_data_change`` (the dataset); a modality,
language, capability or pipeline tag added → ``new_capability`` (the word as written).
Prose is compared as claims, across sections: typo, grammar, link, markup,
contributor-list and translation edits and text moved between sections fire nothing. A
claim the old text did not make (words, numbers, dates or ids it had nowhere) fires by
its heading: training data → ``training_data_change``, licence and terms or a licence
named in a sentence → ``policy_change``, limitations and safety → ``model_change`` (low);
evaluation and benchmark text fires nothing; a capability phrase (the ``capabilities``
vocabulary) the text did not have → ``new_capability``; a line that is only a model id
(a list of snapshots) → ``model_change``.

Options: ``sections`` (watch only the sections whose heading contains one of these
words) and ``ignore_fields`` (front-matter keys or fact labels to leave out, e.g.
``widget``).

Example::

    - id: acme-model-card
      kind: model_card
      url: https://huggingface.co/acme/acme-7b/raw/main/README.md
      ignore_fields: ["widget"]
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import Field

from config.errors import ParseError

from ..base import BaseSettings, Change, ChangeOp, Document, canonical_json
from ..read.dates import find_date
from ..read.detect import detect_format
from ..read.encoding import decode
from ..read.html import content_root, get_text
from ..read.markdown import markdown_page, split_front_matter
from ..read.pdf import is_pdf, pdf_markdown
from ..read.sections import INTRO, heading_key, split_sections
from ..read.text import looks_like_wall
from .facts import key_role, read_facts, take_line_facts
from .fields import flatten, front_matter, hub_fields

NAME = "model_card"
PARSER_VERSION = "3"  # 3: MDX components unwrapped (titled ones as <details>)
INTERVAL = 6 * 3600.0  # seconds: checked every six hours unless the config says otherwise
RULES = "triggers.model_card:model_card_rule"  # its rule in triggers/, named


class Settings(BaseSettings):
    """Which sections to watch and which front-matter keys to leave out."""

    sections: tuple[str, ...] = Field(default=())
    ignore_fields: tuple[str, ...] = Field(default=())


def parse(body: bytes, settings: BaseSettings) -> Document:
    try:
        data = _parse(body, settings)
    except ParseError:
        raise
    except Exception as exc:  # a third-party parser's failure becomes ours
        raise ParseError(f"model_card: cannot parse the body: {exc}") from exc
    return Document(kind=NAME, data=data, parser_version=PARSER_VERSION)


def _parse(body: bytes, settings: BaseSettings) -> dict[str, Any]:
    if is_pdf(body):  # a system card as PDF: its text as Markdown (sources/read/pdf.py)
        body = pdf_markdown(body).encode()
        settings = settings.model_copy(update={"format": "markdown"})
    fmt = detect_format(body, settings.format)
    text = decode(body)
    if fmt == "json":
        return _select({"fields": hub_fields(json.loads(text)), "facts": {}, "variants": {},
                        "sections": {}}, settings)
    fields: dict[str, Any] = {}
    if fmt in ("html", "rss", "atom"):
        roots = content_root(body, settings.select)
    else:
        front, rest = split_front_matter(text)
        fields = front_matter(front)
        roots = content_root(markdown_page(rest), settings.select)
    facts, variants = read_facts(roots)
    title, sections = split_sections(roots, settings.ignore)
    sections = take_line_facts(sections, facts)
    if title and "title" not in fields:
        fields["title"] = title
    notice = deprecation_notice(sections, str(fields.get("title") or title or ""))
    if notice and not any(key_role(k) == "deprecation_date" for k in facts):
        facts["deprecation"] = notice
    data = {"fields": fields, "facts": facts, "variants": variants, "sections": sections}
    if _is_empty(data, roots):
        return {"fields": {}, "facts": {}, "variants": {}, "sections": {}}
    return _select(data, settings)


# A sentence that says the model is deprecated or retired: "Orbit 2 Pro is deprecated
# and will be retired on March 1, 2027", "This model will be shut down on 2027-03-01".
_RETIRED = re.compile(r"\b(?:is|are|has been|have been|was|were|will be|is being)\s+"
                      r"(?:now\s+|officially\s+)?(?:deprecated|retired|sunset|discontinued|"
                      r"shut\s*down)\b|\bwill no longer be (?:available|supported)\b", re.I)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n")


def deprecation_notice(sections: dict[str, str], title: str) -> str | None:
    """What a card's prose says of the model's own deprecation, as a fact: the card's
    title and the date the sentence names (``YYYY-MM-DD``), else "deprecated" ("Orbit 2
    Pro — 2027-03-01"), so that a rewording changes nothing; ``None`` when it says
    nothing. Only a
    sentence whose subject is the model counts: it opens with the card's title, "This
    model" or "The model" (a deprecated parameter is not a deprecated model)."""
    subjects = [s for s in (title.strip(), "this model", "the model") if len(s) >= 3]
    for text in sections.values():
        for sentence in _SENTENCE.split(text):
            sentence = sentence.strip(" -*>")
            if not any(sentence.casefold().startswith(s.casefold()) for s in subjects):
                continue
            if _RETIRED.search(sentence):
                when = find_date(sentence) or "deprecated"
                return f"{title.strip()} — {when}" if title.strip() else when
    return None


def _is_empty(data: dict[str, Any], roots: list[Any]) -> bool:
    """A page with no card in it: a bot challenge, a login wall, an empty app shell."""
    if data["facts"] or data["variants"] or any(k != "title" for k in data["fields"]):
        return False
    words = sum(len(t.split()) for t in data["sections"].values())
    if words < 25:
        return True
    return looks_like_wall(" ".join(get_text(r, " ") for r in roots))


def _select(data: dict[str, Any], settings: BaseSettings) -> dict[str, Any]:
    ignored = {f.casefold() for f in getattr(settings, "ignore_fields", ())}
    for part in ("fields", "facts"):
        data[part] = {k: v for k, v in data[part].items() if k.casefold() not in ignored}
    watched = [w.casefold() for w in getattr(settings, "sections", ())]
    if watched:
        data["sections"] = {k: v for k, v in data["sections"].items()
                            if any(w in k.casefold() for w in watched)}
    return data


def _field_changes(a: dict[str, Any], b: dict[str, Any], path: str = "field") -> list[Change]:
    changes = []
    for key in sorted(a.keys() | b.keys()):
        before, after = a.get(key), b.get(key)
        if canonical_json(before) == canonical_json(after):
            continue
        op: ChangeOp = ("added" if key not in a else "removed" if key not in b
                        else "modified")
        paths: tuple[str, ...] = ()
        if op == "modified" and isinstance(before, dict | list) and isinstance(after, dict | list):
            fa, fb = flatten(before, key), flatten(after, key)
            paths = tuple(p for p in sorted(fa.keys() | fb.keys()) if fa.get(p) != fb.get(p))[:20]
            paths = () if paths == (key,) else paths
        changes.append(Change(op, key, before, after, path=path, fields=paths))
    return changes


def _section_changes(a: dict[str, str], b: dict[str, str]) -> list[Change]:
    ka = {heading_key(h): h for h in a}
    kb = {heading_key(h): h for h in b}
    removed = [ka[k] for k in sorted(ka.keys() - kb.keys())]
    added = [kb[k] for k in sorted(kb.keys() - ka.keys())]
    changes = []
    for old in list(removed):
        twin = next((new for new in added if a[old] and b[new] == a[old]), None)
        if twin:
            removed.remove(old)
            added.remove(twin)
            changes.append(Change("modified", twin, old, twin, path="section", fields=("heading",)))
    changes += [Change("removed", h, a[h], None, path="section") for h in removed]
    changes += [Change("added", h, None, b[h], path="section") for h in added]
    for k in sorted(ka.keys() & kb.keys()):
        if a[ka[k]] != b[kb[k]]:
            changes.append(Change("modified", kb[k], a[ka[k]], b[kb[k]], path="section"))
    return changes


def _variant_changes(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    """Variants added, removed, or modified (``fields`` names the columns that changed);
    a variant's key is its id, so its changes show under the id as written."""
    changes = []
    for key in sorted(a.keys() | b.keys()):
        before, after = a.get(key), b.get(key)
        if before == after:
            continue
        shown = str((after or before or {}).get("id") or key)
        if before is None or after is None:
            changes.append(Change("added" if before is None else "removed", shown, before,
                                  after, path="variant"))
            continue
        columns = tuple(sorted(c for c in before.keys() | after.keys()
                               if c != "id" and before.get(c) != after.get(c)))
        if columns:
            changes.append(Change("modified", shown, before, after, path="variant",
                                  fields=columns))
    return changes


def diff(old: Document, new: Document) -> list[Change]:
    a, b = old.data, new.data
    return (_field_changes(a.get("fields", {}), b.get("fields", {}))
            + _field_changes(a.get("facts", {}), b.get("facts", {}), path="fact")
            + _variant_changes(a.get("variants", {}), b.get("variants", {}))
            + _section_changes(a.get("sections", {}), b.get("sections", {})))


def size(document: Document) -> int:
    return sum(len(document.data.get(part, {}))
               for part in ("fields", "facts", "variants", "sections"))


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else canonical_json(value)
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _list_delta(before: Any, after: Any) -> str | None:
    if not (isinstance(before, list) and isinstance(after, list)):
        return None
    a, b = {canonical_json(v): v for v in before}, {canonical_json(v): v for v in after}
    plus = [f"+{_short(b[k], 40)}" for k in sorted(b.keys() - a.keys())]
    minus = [f"−{_short(a[k], 40)}" for k in sorted(a.keys() - b.keys())]
    return ", ".join(plus + minus) or None


def _describe_variant(change: Change) -> str:
    if change.op == "added":
        return f"Added variant {change.key}"
    if change.op == "removed":
        return f"Removed variant {change.key}"
    before, after = change.before or {}, change.after or {}
    shown = [f"{c} {_short(before.get(c, '—'), 30)} → {_short(after.get(c, '—'), 30)}"
             for c in change.fields[:3]]
    more = f" (+{len(change.fields) - 3} more)" if len(change.fields) > 3 else ""
    return f"Variant {change.key}: " + "; ".join(shown) + more


def describe(change: Change) -> str:
    if change.path == "section":
        name = "the introduction" if change.key == INTRO else f"“{change.key}”"
        if change.fields == ("heading",):
            return f"Section “{change.before}” renamed to “{change.after}”"
        if change.op == "added":
            return f"Added section {name}: {_short(change.after)}"
        if change.op == "removed":
            return f"Removed section {name}"
        before = set(str(change.before).split("\n"))
        new_lines = [line for line in str(change.after).split("\n") if line not in before]
        return f"Edited section {name}" + (f": {_short(new_lines[0])}" if new_lines else "")
    if change.path == "variant":
        return _describe_variant(change)
    what = "fact" if change.path == "fact" else "field"
    if change.op == "added":
        return f"Added {what} {change.key}: {_short(change.after)}"
    if change.op == "removed":
        return f"Removed {what} {change.key} (was {_short(change.before)})"
    if change.fields:
        fa, fb = flatten(change.before, change.key), flatten(change.after, change.key)
        shown = [f"{p} {_short(fa.get(p, '—'), 30)} → {_short(fb.get(p, '—'), 30)}"
                 for p in change.fields[:3]]
        more = f" (+{len(change.fields) - 3} more)" if len(change.fields) > 3 else ""
        return "; ".join(shown) + more
    delta = _list_delta(change.before, change.after)
    if delta:
        return f"{change.key}: {delta}"
    return f"{change.key}: {_short(change.before)} → {_short(change.after)}"
