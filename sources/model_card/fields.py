"""A model card's fields: YAML front matter, the Hub's ``/api/models/{id}`` JSON, or the
metadata of an HTML card page (a ``<dl>`` or a two-column "Model details" table), as
plain JSON whose order carries no meaning (pure)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import yaml

from config.errors import ParseError

from ..base import canonical_json
from ..read.html import drop, text_parts
from ..read.text import clean_text

VOLATILE = {"last_updated", "lastmodified", "last_modified", "updated", "updated_at", "lastmod",
            "date_modified", "modified", "sha", "downloads", "downloadsalltime", "likes",
            "trendingscore", "createdat", "created_at", "siblings", "spaces", "usedstorage"}
HUB_KEYS = ("pipeline_tag", "library_name", "gated", "model-index")


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


def _pairs(node: Any) -> list[tuple[str, str]] | None:
    """Label/value pairs of a definition list or a two-column table of row labels."""
    if node.tag == "dl":
        pairs: list[tuple[str, str]] = []
        for item in node.iterdescendants("dt", "dd"):
            text = " ".join(text_parts(item))
            if item.tag == "dt":
                pairs.append((text, ""))
            elif pairs:
                pairs[-1] = (pairs[-1][0], "; ".join(filter(None, (pairs[-1][1], text))))
        return pairs
    rows = [[c for c in r if c.tag in ("th", "td")] for r in node.iterdescendants("tr")]
    if not rows or any(len(r) != 2 or r[0].tag != "th" or r[1].tag != "td" for r in rows):
        return None
    return [(" ".join(text_parts(a)), " ".join(text_parts(b))) for a, b in rows]


def html_fields(roots: list[Any]) -> dict[str, Any]:
    """Metadata of an HTML card page (the Hub's sidebar, a "Model details" table) as fields.

    The lists and tables read are removed from the tree, so their text is not a section too.
    """
    fields: dict[str, Any] = {}
    nodes = [node for root in roots for node in root.iterdescendants("dl", "table")]
    found = set(nodes)
    for node in [n for n in nodes if not any(p in found for p in n.iterancestors())]:
        pairs = _pairs(node)
        if not pairs or any(len(label.split()) > 6 or label.endswith("?") for label, _ in pairs):
            continue
        for label, value in pairs:
            key = field_name(label)
            if key and value:
                fields[key] = normalise(_field_value(key, value))
        drop(node)
    return fields


def front_matter(front: str | None) -> dict[str, Any]:
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


def hub_fields(data: Any) -> dict[str, Any]:
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
