"""model_card — a model card: Hugging Face README.md, an HTML model card page, Hub JSON.

Accepts Markdown (or MDX) with or without YAML front matter (``base_model``,
``datasets``, ``license``, ``pipeline_tag``, ``language``, ``tags``, ``model-index`` …),
HTML model card pages (navigation, header, footer, scripts and cookie banners dropped;
a metadata ``<dl>`` or a two-column "Model details" table becomes fields, as the front
matter would: "Base model" → ``base_model``), and the Hub's ``/api/models/{id}`` JSON
(its ``cardData``). The format is detected from the content; ``format:`` forces it. A
bot challenge, login wall or empty app shell parses to an empty document.

The document is ``{"fields": {…front matter…}, "sections": {heading: text}}``: YAML key
order, the order of list values (tags, datasets, languages) and of ``model-index``
results, Markdown re-wrapping, list markers, heading numbering, "last updated" lines and
the order of sections are not changes. The page's one top-level heading is the field
``title`` (the model's name), unless the front matter has one.

Changes: front-matter fields added, removed or modified (``path="field"``, ``fields``
lists the nested paths that changed) and sections added, removed, edited or renamed
(``path="section"``). Triggers: base model, model name or version → ``model_change``;
datasets and training-data sections → ``training_data_change``; capability and
intended-use additions, new languages or pipeline tags → ``new_capability``;
limitations, evaluation, safety sections and ``model-index`` metrics → ``model_change``
(low); the licence → ``policy_change``.

Options: ``sections`` (watch only the sections whose heading contains one of these
words) and ``ignore_fields`` (front-matter keys to leave out, e.g. ``widget``).

Example::

    - id: acme-model-card
      kind: model_card
      url: https://huggingface.co/acme/acme-7b/raw/main/README.md
      ignore_fields: ["widget"]
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import Field

from config.errors import ParseError

from .base import BaseSettings, Change, ChangeOp, Document, canonical_json
from .formats import decode
from .markup import (
    clean_text,
    content_root,
    detect_format,
    looks_like_wall,
    markdown_soup,
    split_front_matter,
    text_parts,
)
from .sections import INTRO, heading_key, split_sections

if TYPE_CHECKING:  # bs4 is imported when a card is parsed, not when the kind is loaded
    from bs4 import Tag

NAME = "model_card"
PARSER_VERSION = "1"
INTERVAL = 6 * 3600.0  # seconds: checked every six hours unless the config says otherwise
RULES = "triggers.model_card:model_card_rule"  # its rule in triggers/, named
VOLATILE = {"last_updated", "lastmodified", "last_modified", "updated", "updated_at", "lastmod",
            "date_modified", "modified", "sha", "downloads", "downloadsalltime", "likes",
            "trendingscore", "createdat", "created_at", "siblings", "spaces", "usedstorage"}
HUB_KEYS = ("pipeline_tag", "library_name", "gated", "model-index")


class Settings(BaseSettings):
    """Which sections to watch and which front-matter keys to leave out."""

    sections: tuple[str, ...] = Field(default=())
    ignore_fields: tuple[str, ...] = Field(default=())


def parse(body: bytes, settings: BaseSettings) -> Document:
    try:
        fields, sections = _parse(body, settings)
    except ParseError:
        raise
    except Exception as exc:  # a third-party parser's failure becomes ours
        raise ParseError(f"model_card: cannot parse the body: {exc}") from exc
    return Document(kind=NAME, data={"fields": fields, "sections": sections},
                    parser_version=PARSER_VERSION)


def _parse(body: bytes, settings: BaseSettings) -> tuple[dict[str, Any], dict[str, str]]:
    fmt = detect_format(body, settings.format)
    text = decode(body)
    if fmt == "json":
        return _select(_hub_fields(json.loads(text)), {}, settings)
    fields: dict[str, Any] = {}
    if fmt in ("html", "rss", "atom"):
        from .feeds import quiet_soup  # feeds (and its patterns) only for an HTML card

        roots = content_root(quiet_soup(body), settings.select)
        fields = html_fields(roots)
    else:
        front, rest = split_front_matter(text)
        fields = _front_matter(front)
        roots = content_root(markdown_soup(rest), settings.select)
    title, sections = split_sections(roots, settings.ignore)
    if title and "title" not in fields:
        fields["title"] = title
    if _is_empty(fields, sections, roots):
        return {}, {}
    return _select(fields, sections, settings)


# Labels of an HTML card's metadata (a <dl> or a two-column table) → front-matter names.
_LABELS = {
    "model_name": "model|model name|name", "model_id": "model id|model identifier|api model name",
    "version": "version|model version|snapshot", "license": "license|licence",
    "base_model": "base model|foundation model|finetuned from|fine tuned from|parent model",
    "datasets": "datasets?|training datasets", "training_data": "training data",
    "language": "languages?|supported languages", "pipeline_tag": "pipeline tag|task",
    "library_name": "library|library name", "tags": "tags",
    "knowledge_cutoff": "knowledge cutoff|training data cutoff|data cutoff|cutoff",
    "input_modalities": "inputs?|input modalit(y|ies)", "modalities": "modalit(y|ies)",
    "output_modalities": "outputs?|output modalit(y|ies)", "release_date": "release date|released",
    "context_window": "context window|context length|context",
}
_LABEL_RX = {key: re.compile(rf"^({alts})$") for key, alts in _LABELS.items()}
_LISTS = {"datasets", "language", "tags", "input_modalities", "output_modalities", "modalities"}


def field_name(label: str) -> str:
    """A metadata label as a front-matter key: "Base model" → ``base_model``."""
    words = re.sub(r"[^\w]+", " ", re.sub(r"\(s\)", "s", label.casefold())).strip()
    for key, rx in _LABEL_RX.items():
        if rx.match(words):
            return key
    return words.replace(" ", "_")


def _field_value(key: str, text: str) -> Any:
    if key in _LISTS:
        return sorted({p.strip() for p in re.split(r"[,;]", text) if p.strip()})
    return text


def _pairs(node: Tag) -> list[tuple[str, str]] | None:
    """Label/value pairs of a definition list or a two-column table of row labels."""
    if node.name == "dl":
        pairs: list[tuple[str, str]] = []
        for item in node.find_all(["dt", "dd"]):
            text = " ".join(text_parts(item))
            if item.name == "dt":
                pairs.append((text, ""))
            elif pairs:
                pairs[-1] = (pairs[-1][0], "; ".join(filter(None, (pairs[-1][1], text))))
        return pairs
    rows = [r.find_all(["th", "td"], recursive=False) for r in node.find_all("tr")]
    if not rows or any(len(r) != 2 or r[0].name != "th" or r[1].name != "td" for r in rows):
        return None
    return [(" ".join(text_parts(a)), " ".join(text_parts(b))) for a, b in rows]


def html_fields(roots: list[Tag]) -> dict[str, Any]:
    """Metadata of an HTML card page (the Hub's sidebar, a "Model details" table) as fields.

    The lists and tables read are removed from the tree, so their text is not a section too.
    """
    fields: dict[str, Any] = {}
    nodes = [node for root in roots for node in root.find_all(["dl", "table"])]
    ids = {id(node) for node in nodes}
    for node in [n for n in nodes if not any(id(p) in ids for p in n.parents)]:
        pairs = _pairs(node)
        if not pairs or any(len(label.split()) > 6 or label.endswith("?") for label, _ in pairs):
            continue
        for label, value in pairs:
            key = field_name(label)
            if key and value:
                fields[key] = normalise(_field_value(key, value))
        node.decompose()
    return fields


def _is_empty(fields: dict[str, Any], sections: dict[str, str], roots: list[Any]) -> bool:
    """A page with no card in it: a bot challenge, a login wall, an empty app shell."""
    if any(k != "title" for k in fields):
        return False
    words = sum(len(t.split()) for t in sections.values())
    if words < 25:
        return True
    return looks_like_wall(" ".join(r.get_text(" ") for r in roots))


def _select(fields: dict[str, Any], sections: dict[str, str], settings: BaseSettings,
            ) -> tuple[dict[str, Any], dict[str, str]]:
    ignored = {f.casefold() for f in getattr(settings, "ignore_fields", ())}
    fields = {k: v for k, v in fields.items() if k.casefold() not in ignored}
    watched = [w.casefold() for w in getattr(settings, "sections", ())]
    if watched:
        sections = {k: v for k, v in sections.items()
                    if any(w in k.casefold() for w in watched)}
    return fields, sections


def _front_matter(front: str | None) -> dict[str, Any]:
    if not front or not front.strip():
        return {}
    try:
        data = yaml.safe_load(front)
    except yaml.YAMLError as exc:
        raise ParseError(f"model_card: the YAML front matter is invalid: {exc}") from exc
    if not isinstance(data, dict):
        return {}
    return {str(k): normalise(v) for k, v in data.items()
            if str(k).casefold() not in VOLATILE and v is not None}


def _hub_fields(data: Any) -> dict[str, Any]:
    """The card-level fields of a Hub ``/api/models/{id}`` answer (or any JSON object)."""
    if not isinstance(data, dict):
        return {}
    card = data.get("cardData")
    fields = dict(card) if isinstance(card, dict) else {
        k: v for k, v in data.items() if str(k).casefold() not in VOLATILE}
    if isinstance(card, dict):
        fields.update({k: data[k] for k in HUB_KEYS if k in data and k not in fields})
    return {str(k): normalise(v) for k, v in fields.items() if v is not None}


def normalise(value: Any) -> Any:
    """Plain JSON whose order carries no meaning: sorted keys, sorted list values."""
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple | set):
        items = [normalise(v) for v in value]
        unique = {canonical_json(v): v for v in items}
        return [unique[k] for k in sorted(unique)]
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, str):
        return clean_text(value)
    if value is None or isinstance(value, bool | int):
        return value
    return str(value)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested fields as ``{"a.b[0].c": scalar}``."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out or {prefix: {}}
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        out = {}
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}[{i}]"))
        return out or {prefix: []}
    return {prefix: value}


def _field_changes(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
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
        changes.append(Change(op, key, before, after, path="field", fields=paths))
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


def diff(old: Document, new: Document) -> list[Change]:
    return (_field_changes(old.data.get("fields", {}), new.data.get("fields", {}))
            + _section_changes(old.data.get("sections", {}), new.data.get("sections", {})))


def size(document: Document) -> int:
    return len(document.data.get("fields", {})) + len(document.data.get("sections", {}))


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
    if change.op == "added":
        return f"Added field {change.key}: {_short(change.after)}"
    if change.op == "removed":
        return f"Removed field {change.key} (was {_short(change.before)})"
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
