"""A model card's fields: YAML front matter or the Hub's ``/api/models/{id}`` JSON, as
plain JSON whose order carries no meaning (pure)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

from config.errors import ParseError

from ..base import canonical_json
from ..read.text import clean_text

VOLATILE = {"last_updated", "lastmodified", "last_modified", "updated", "updated_at", "lastmod",
            "date_modified", "modified", "sha", "downloads", "downloadsalltime", "likes",
            "trendingscore", "createdat", "created_at", "siblings", "spaces", "usedstorage"}
HUB_KEYS = ("pipeline_tag", "library_name", "gated", "model-index")


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
