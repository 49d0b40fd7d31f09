"""JSON bodies: the list of records in them, whatever it is called, and their fields in
their usual spellings (pure)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from config.errors import ParseError

from .encoding import decode


def load_json(body: bytes) -> Any:
    try:
        return json.loads(decode(body))
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"body is not valid JSON: {exc}") from exc


def json_items(data: Any, keys: tuple[str, ...], depth: int = 0) -> list[tuple[str, dict]]:
    """The records of a JSON body: a top-level list, or lists under the given keys (nested
    up to three levels, e.g. ``{"summary": {"ongoing_incidents": [...]}}``), each paired with
    the key it was found under. JSON:API ``attributes`` are merged into their record."""
    found: list[tuple[str, dict]] = []
    if isinstance(data, list):
        return [("", _flat(item)) for item in data if isinstance(item, dict)]
    if not isinstance(data, dict) or depth > 3:
        return found
    for key in keys:
        value = data.get(key)
        if isinstance(value, list):
            found.extend((key, _flat(item)) for item in value if isinstance(item, dict))
        elif isinstance(value, dict) and key in ("incident", "release", "entry", "item"):
            found.append((key, _flat(value)))
        elif isinstance(value, dict) and value and all(isinstance(v, dict)
                                                       for v in value.values()):
            # records keyed by their id: {"incidents": {"abc": {...}}}
            found.extend((key, {"id": k, **_flat(v)}) for k, v in sorted(value.items()))
    if found:
        return found
    for key, value in data.items():
        if isinstance(value, dict) and key not in ("page", "status", "meta", "links"):
            found.extend(json_items(value, keys, depth + 1))
    return found


def _flat(item: dict) -> dict:
    attrs = item.get("attributes")
    if isinstance(attrs, dict):
        return {**attrs, **{k: v for k, v in item.items() if k != "attributes"}}
    return item


def pick(record: Mapping[str, Any], names: Iterable[str]) -> Any:
    """The first non-empty value among ``names``."""
    for name in names:
        value = record.get(name)
        if value not in (None, "", [], {}):
            return value
    return None


def as_text(value: Any) -> str | None:
    """A readable string for a JSON value: strings as they are, objects by name/title."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = pick(value, ("name", "title", "label", "text", "value", "id"))
        return as_text(value)
    if isinstance(value, list):
        return None
    return " ".join(str(value).split()) or None
