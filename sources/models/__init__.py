"""models — model-list APIs and deprecation pages, as a set of models keyed by id.

Reads the lists vendors serve, in their own shapes (detected from the content):

* OpenAI ``GET /v1/models``: ``{"object": "list", "data": [{"id", "created", "owned_by",
  "shutdown_date"?}]}``;
* Anthropic ``GET /v1/models``: ``{"data": [{"id", "display_name", "created_at",
  "type": "model", "capabilities": {"image_input": {"supported": true}, …}}],
  "has_more", "first_id", "last_id"}``;
* Gemini ``GET /v1beta/models``: ``{"models": [{"name": "models/…", "version",
  "displayName", "inputTokenLimit", "supportedGenerationMethods": […], "thinking"?}],
  "nextPageToken"}``;
* OpenRouter ``GET /api/v1/models``: ``{"data": [{"id", "name", "expiration_date",
  "architecture": {"input_modalities", "output_modalities"}, "supported_parameters"}]}``;
* Amazon Bedrock ``ListFoundationModels``: ``{"modelSummaries": [{"modelId",
  "modelLifecycle": {"status": "ACTIVE" | "LEGACY", "endOfLifeTime"?},
  "inputModalities", "outputModalities", "customizationsSupported",
  "inferenceTypesSupported", "responseStreamingSupported"}]}``;
* HTML and Markdown deprecation pages: every table whose header names a model column and
  a shutdown (retirement, end-of-life) date or a replacement column, one model per row.

**Pagination** is followed by ``reassess check`` and the daemon: Anthropic's
``has_more`` / ``last_id`` (the next page asks ``after_id=``), an OpenAI-style list's
(``after=``) and Gemini's ``nextPageToken`` (``pageToken=``). Every page is fetched from
the same host with the source's headers, at most ``max_pages`` of them, all within the
deadline of one fetch; a page that fails fails the check (a partial list would read as
models removed). The pages are stored as one body and parsed as one document. A list
is fetched whole at every check (no conditional request: the first page's validators
say nothing of the others).

API keys go in the source's headers from the environment, never in the file::

    - id: openai-models
      kind: models
      url: https://api.openai.com/v1/models
      headers: {Authorization: "Bearer ${OPENAI_API_KEY}"}
    - id: anthropic-models
      kind: models
      url: https://api.anthropic.com/v1/models?limit=100
      headers: {x-api-key: "${ANTHROPIC_API_KEY}", anthropic-version: "2023-06-01"}
    - id: gemini-models
      kind: models
      url: https://generativelanguage.googleapis.com/v1beta/models
      headers: {x-goog-api-key: "${GEMINI_API_KEY}"}

Bedrock's ``ListFoundationModels`` wants SigV4-signed requests, which static headers
cannot make: serve its output (``aws bedrock list-foundation-models``) from a signing
proxy or a file server the config can reach, or compare two saved outputs with
``reassess diff --kind models``.

The document holds each model by id (Gemini's without its ``models/`` prefix) with its
display name, lifecycle status (``active``, ``legacy``, ``deprecated``, ``retired`` …;
a deprecation table's row is ``deprecated`` unless a state column says otherwise),
shutdown or expiration date (``YYYY-MM-DD``; "not before YYYY-MM-DD" for a table's
"Not sooner than …"), the date it turns legacy, its replacement, input and output
modalities and capabilities as the API names them (generation methods, supported
parameters, Anthropic's supported capabilities, Bedrock's customizations and inference
types). Creation dates, token limits, prices and the order of the list are not part of
it.

Changes: a model added, removed, or modified (``fields``: status, shutdown, legacy,
replacement, input, output, capabilities, name); and, when some model has a capability
or modality no model had, the list's own (``key`` ``list``: what all its models have).

Triggers: a model added or removed → ``model_change`` (medium; the entity is the model
id); one added already deprecated or with a shutdown date, a shutdown or expiration date
announced or moved, or a status turned legacy / deprecated / retired → ``model_change``
high, with the date and the replacement in the evidence (never for a model whose status
says ``active``); a capability, modality or
generation method added to a model (or brought by a new model when no model had it) →
``new_capability``, its entity the capability as the API names it.

Options: ``max_pages`` (default 20, at most 100): pages followed per check.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import Field, field_validator

from config.errors import ParseError

from ..base import BaseSettings, Change, Document
from ..read.detect import detect
from ..read.encoding import decode
from ..read.html import roots
from ..read.json_records import load_json
from ..read.markdown import markdown_page, split_front_matter
from ..read.text import check_regexes
from .apis import PAGES, api_models, api_shape
from .tables import table_models

NAME = "models"
PARSER_VERSION = "2"  # 2: MDX components unwrapped (titled ones as <details>)
INTERVAL = 21600.0  # seconds: model lists change with releases and deprecations; 6 hours
RULES = "triggers.models:models_rule"  # its rule in triggers/, named
MAX_MODELS = 5000
COMPARED = ("status", "shutdown", "legacy", "replacement", "input", "output",
            "capabilities", "name")


class Settings(BaseSettings):
    """The common options, and ``max_pages``: pages of a paged list followed per check."""

    max_pages: int = Field(default=20, ge=1, le=100)

    @field_validator("ignore")
    @classmethod
    def _ignore_regexes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return check_regexes(value, "ignore")


def _read(body: bytes, settings: BaseSettings) -> tuple[str, list[dict[str, Any]]]:
    fmt = settings.format or detect(body)
    if fmt == "json":
        data = load_json(body)
        return api_shape(data), api_models(data)
    if fmt == "markdown":
        _front, text = split_front_matter(decode(body))
        return "table", table_models(roots(markdown_page(text), settings.select))
    if fmt in ("html", "text"):
        return "table", table_models(roots(body, settings.select))
    return fmt, []


def _merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The same model met twice (two tables, two pages): its first values, gaps filled."""
    out = dict(old)
    for key, value in new.items():
        if out.get(key) in (None, []) and value not in (None, []):
            out[key] = value
    return out


def parse(body: bytes, settings: BaseSettings) -> Document:
    try:
        shape, found = _read(body, settings)
    except ParseError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        raise ParseError(f"cannot read a model list: {exc}") from exc
    models: dict[str, dict[str, Any]] = {}
    for model in found[:MAX_MODELS]:
        ident = model.pop("id")
        models[ident] = _merge(models[ident], model) if ident in models else model
    return Document(kind=NAME, data={"shape": shape, "models": dict(sorted(models.items()))},
                    parser_version=PARSER_VERSION)


def diff(old: Document, new: Document) -> list[Change]:
    """Models added, modified (``fields`` names what) and removed, by id."""
    before, after = old.data.get("models", {}), new.data.get("models", {})
    changes = [Change("added", key, None, {"id": key, **after[key]}, path="entity")
               for key in sorted(after.keys() - before.keys())]
    for key in sorted(before.keys() & after.keys()):
        fields = tuple(f for f in COMPARED if before[key].get(f) != after[key].get(f))
        if fields:
            changes.append(Change("modified", key, {"id": key, **before[key]},
                                  {"id": key, **after[key]}, path="entity", fields=fields))
    changes += [Change("removed", key, {"id": key, **before[key]}, None, path="entity")
                for key in sorted(before.keys() - after.keys())]
    was, now = _union(before), _union(after)
    grown = tuple(side for side in SIDES if set(now[side]) - set(was[side]))
    if grown and changes:
        changes.append(Change("modified", LIST, was, now, path=LIST, fields=grown))
    return changes


SIDES = ("capabilities", "input", "output")
LIST = "list"  # the change of the capabilities of the list as a whole (the rule's need)


def _union(models: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Every capability and modality some model of a list has, side by side."""
    return {side: sorted({v for m in models.values() for v in m.get(side) or ()})
            for side in SIDES}


def size(document: Document) -> int:
    return len(document.data.get("models", {}))


def describe(change: Change) -> str:
    if change.path == LIST:
        grown = [f"{side} " + ", ".join(sorted(set(change.after[side])
                                                - set(change.before[side])))
                 for side in change.fields]
        return f"New to the list: {'; '.join(grown)}"
    model = change.after if change.after is not None else change.before
    if change.op == "added":
        when = f", shutdown {model['shutdown']}" if model.get("shutdown") else ""
        return f"Model added: {change.key}{when}"
    if change.op == "removed":
        return f"Model removed: {change.key}"
    parts = []
    for name in change.fields:
        was, now = change.before.get(name), change.after.get(name)
        if isinstance(now, list):
            added = sorted(set(now) - set(was or []))
            gone = sorted(set(was or []) - set(now))
            text = ", ".join([*(f"+{a}" for a in added), *(f"-{g}" for g in gone)])
            parts.append(f"{name} {text}")
        else:
            parts.append(f"{name} {was or '—'} → {now or '—'}")
    return f"Model {change.key}: {'; '.join(parts)}"


# --- pagination (the check follows it; these two are pure) -----------------------------


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k not in params and k != "before_id"]
    query += list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def next_page(body: bytes, url: str) -> str | None:
    """The URL of the page after ``body`` (fetched from ``url``), or ``None``: Anthropic's
    ``has_more`` + ``last_id`` → ``after_id``, an OpenAI-style ``"object": "list"`` →
    ``after``, Gemini's ``nextPageToken`` → ``pageToken``."""
    if body.lstrip()[:1] != b"{":
        return None
    try:
        data = json.loads(decode(body))
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    following: str | None = None
    token = data.get("nextPageToken")
    if isinstance(token, str) and token.strip():
        following = _with_query(url, pageToken=token)
    elif data.get("has_more") is True and isinstance(data.get("last_id"), str) \
            and data["last_id"]:
        cursor = "after" if data.get("object") == "list" else "after_id"
        following = _with_query(url, **{cursor: data["last_id"]})
    return following if following != url else None


def join_pages(bodies: Sequence[bytes]) -> bytes:
    """The pages of one list as one body, which ``parse`` reads as one document."""
    pages = [load_json(body) for body in bodies]
    return json.dumps({PAGES: pages}, ensure_ascii=False, sort_keys=True).encode()
