"""Model-list APIs as model records: OpenAI, Anthropic, Gemini, OpenRouter, Bedrock (pure).

Each item is read by the fields it carries, whichever API served it, so a gateway that
mixes shapes (an OpenAI-compatible list with ``expiration_date``) reads as well:

* id: ``id`` (OpenAI, Anthropic, OpenRouter), ``modelId`` (Bedrock), ``name`` without
  its ``models/`` prefix (Gemini);
* name: ``display_name``, ``displayName``, ``modelName``, OpenRouter's ``name``;
* status: Bedrock's ``modelLifecycle.status``, any ``status`` / ``lifecycle`` string;
* shutdown: ``shutdown_date``, ``expiration_date``, ``deprecation_date``,
  ``modelLifecycle.endOfLifeTime`` (a date, ``YYYY-MM-DD``);
* modalities: OpenRouter's ``architecture.input_modalities`` / ``output_modalities``,
  Bedrock's ``inputModalities`` / ``outputModalities``;
* capabilities, as each API names them: Gemini's ``supportedGenerationMethods`` (and
  ``thinking: true``), OpenRouter's ``supported_parameters``, the keys of Anthropic's
  ``capabilities`` whose ``supported`` is true, Bedrock's ``customizationsSupported``,
  ``inferenceTypesSupported`` and ``responseStreamingSupported``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..read.dates import iso_date
from ..read.text import normalise_space

PAGES = "reassess.pages"  # the key of a paged list's pages, joined by the check
LIST_KEYS = ("data", "models", "modelSummaries", "items", "results")
MAX_MODELS = 5000
MAX_NAMES = 200  # capabilities or modalities kept per model


def api_shape(data: Any) -> str:
    """Which API a JSON list looks like (for the document and its messages)."""
    if isinstance(data, dict) and isinstance(data.get(PAGES), list):
        pages = data[PAGES]
        return api_shape(pages[0]) if pages else "json"
    if not isinstance(data, dict):
        return "json"
    if "modelSummaries" in data or "modelDetails" in data:
        return "bedrock"
    if isinstance(data.get("models"), list):
        return "gemini"
    items = data.get("data")
    if isinstance(items, list):
        first = next((i for i in items if isinstance(i, dict)), {})
        if "supported_parameters" in first or "architecture" in first or \
                "expiration_date" in first or "context_length" in first:
            return "openrouter"
        if first.get("type") == "model" or "display_name" in first or ("has_more" in data \
                and data.get("object") != "list"):
            return "anthropic"
        return "openai"
    return "json"


def api_items(data: Any, depth: int = 0) -> list[dict[str, Any]]:
    """The model objects of a JSON body: its pages' items, a list, or the list under a
    known key (``data``, ``models``, ``modelSummaries`` …); Bedrock's single
    ``modelDetails`` too."""
    if depth > 2:
        return []
    if isinstance(data, list):
        return [item for item in data if isinstance(item, dict)]
    if not isinstance(data, dict):
        return []
    if isinstance(data.get(PAGES), list):
        return [item for page in data[PAGES][:1000] for item in api_items(page, depth + 1)]
    if isinstance(data.get("modelDetails"), dict):
        return [data["modelDetails"]]
    for key in LIST_KEYS:
        if isinstance(data.get(key), list):
            return [item for item in data[key] if isinstance(item, dict)]
    return []


def _text(value: Any) -> str | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return normalise_space(str(value))[:300] or None
    return None


def model_id(item: dict[str, Any]) -> str | None:
    for key in ("id", "modelId", "model_id", "model"):
        found = _text(item.get(key))
        if found:
            return found
    name = _text(item.get("name"))
    if name and name.startswith("models/"):
        return name[len("models/"):] or None
    return name if name and " " not in name else None


def _names(values: Any) -> list[str]:
    if not isinstance(values, list):
        return []
    return [t for t in (_text(v) for v in values[:MAX_NAMES]) if t]


def capabilities(item: dict[str, Any]) -> list[str]:
    """What the model can do, as the API names it."""
    found = [*_names(item.get("supportedGenerationMethods")),
             *_names(item.get("supported_parameters")),
             *_names(item.get("customizationsSupported")),
             *_names(item.get("inferenceTypesSupported"))]
    caps = item.get("capabilities")
    if isinstance(caps, dict):
        for name, value in list(caps.items())[:MAX_NAMES]:
            if value is True or (isinstance(value, dict) and value.get("supported") is True):
                found.append(str(name)[:100])
    elif isinstance(caps, list):
        found += _names(caps)
    if item.get("thinking") is True:
        found.append("thinking")
    if item.get("responseStreamingSupported") is True:
        found.append("responseStreamingSupported")
    return sorted(set(found))


def modalities(item: dict[str, Any], side: str) -> list[str]:
    """``input`` or ``output`` modalities."""
    arch = item.get("architecture")
    arch = arch if isinstance(arch, dict) else {}
    camel = "inputModalities" if side == "input" else "outputModalities"
    snake = f"{side}_modalities"
    return sorted(set(_names(item.get(camel)) + _names(item.get(snake))
                      + _names(arch.get(snake))))


def _lifecycle(item: dict[str, Any]) -> dict[str, Any]:
    life = item.get("modelLifecycle")
    return life if isinstance(life, dict) else {}


def _status(item: dict[str, Any]) -> str | None:
    for value in (_lifecycle(item).get("status"), item.get("status"), item.get("lifecycle"),
                  item.get("lifecycle_status")):
        found = _text(value)
        if found:
            return found.casefold().replace("_", " ")
    if item.get("deprecated") is True:
        return "deprecated"
    return None


def _date(*values: Any) -> str | None:
    for value in values:
        if value is None or value == "" or isinstance(value, bool | dict | list):
            continue
        return iso_date(value) or _text(value)
    return None


def api_model(item: dict[str, Any]) -> dict[str, Any] | None:
    """One API item as a model record, or ``None`` when it names no model."""
    ident = model_id(item)
    if not ident:
        return None
    life = _lifecycle(item)
    name = _text(item.get("display_name") or item.get("displayName") or item.get("modelName")
                 or (item.get("name") if "id" in item else None))
    replacement = _text(item.get("replacement") or item.get("recommended_replacement")
                        or item.get("successor"))
    return {
        "id": ident,
        "name": name if name != ident else None,
        "status": _status(item),
        "shutdown": _date(item.get("shutdown_date"), item.get("expiration_date"),
                          item.get("deprecation_date"), item.get("shutdownDate"),
                          life.get("endOfLifeTime"), item.get("retirement_date")),
        "legacy": _date(life.get("legacyTime")),
        "replacement": replacement,
        "input": modalities(item, "input"),
        "output": modalities(item, "output"),
        "capabilities": capabilities(item),
    }


def api_models(data: Any) -> list[dict[str, Any]]:
    found = (api_model(item) for item in api_items(data)[:MAX_MODELS])
    return [m for m in found if m is not None]


def union(values: Iterable[list[str]]) -> list[str]:
    return sorted({v for vs in values for v in vs})
