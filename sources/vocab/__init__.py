"""Vocabularies kept as data: the words reassess knows, shipped as YAML beside this
module and extended by the config's top-level ``vocabulary:`` key.

=================  ========================================  ==============================
name               shape                                     what it is for
=================  ========================================  ==============================
model_families     list of names ("Claude", "Sonnet")        a model named without digits
capabilities       mapping tag → list of phrases             what a new capability is called
legal_suffixes     list of words ("inc", "gmbh")             subprocessor names keyed
                                                             without their legal form
header_words       mapping column role → list of words       which table column holds what,
                                                             in any language
countries          mapping name → {code, aliases}            locations of subprocessors
card_fields        mapping field → list of labels            what a model card's table row,
                                                             "Label: value" line or column
                                                             states (``base_model`` …)
policy_terms       mapping group → list of phrases           what a changed sentence of a
                                                             policy page is about (training
                                                             on data, obligations, rights)
page_noise         mapping (labels, stamps, stamp_words,     what a page adds that is no
                   spelling)                                 content; spellings read alike
suspect_pages      mapping class → {lines, words}            what an error, login, bot or
                                                             redirect page says
=================  ========================================  ==============================

``get(name)`` gives the built-in entries merged with the config's additions: lists are
extended (duplicates dropped, order kept), mappings are merged key by key (their lists
extended the same way). A process calls ``extend(additions)`` once, when its config
loads and before any parse worker starts; ``fingerprint()`` names the additions, so a
document parsed with another vocabulary counts as made by another parser version (a
technical re-baseline, never a trigger).

Reading the shipped files is the only I/O here, once per process, like an import.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

NAMES: tuple[str, ...] = ("model_families", "capabilities", "legal_suffixes", "header_words",
                          "countries", "card_fields", "policy_terms", "page_noise",
                          "suspect_pages")
LISTS = frozenset({"model_families", "legal_suffixes"})

_additions: dict[str, Any] = {}


@cache
def builtin(name: str) -> Any:
    """The shipped vocabulary ``name``, as its YAML file holds it."""
    import yaml

    if name not in NAMES:
        raise KeyError(f"unknown vocabulary {name!r}; known: {', '.join(NAMES)}")
    text = resources.files(__package__).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    empty: Any = [] if name in LISTS else {}
    return empty if data is None else data


def get(name: str) -> Any:
    """The vocabulary ``name``: built-in entries plus the config's additions."""
    return _merged(name, _generation)


_generation = 0


@cache
def _merged(name: str, generation: int) -> Any:
    base = builtin(name)
    extra = _additions.get(name)
    if extra is None:
        return base
    return merge(base, extra)


def merge(base: Any, extra: Any) -> Any:
    """Lists extended without duplicates; mappings merged key by key, recursively."""
    if isinstance(base, list):
        seen = {_key(x) for x in base}
        return [*base, *(x for x in extra if _key(x) not in seen)]
    if isinstance(base, Mapping):
        out = dict(base)
        for key, value in extra.items():
            out[key] = merge(out[key], value) if key in out and value is not None else value
        return out
    return extra


def _key(item: Any) -> Any:
    return item.casefold() if isinstance(item, str) else json.dumps(item, sort_keys=True)


def extend(additions: Mapping[str, Any] | None) -> None:
    """Take the config's ``vocabulary:`` (replacing any earlier additions)."""
    global _generation
    unknown = set(additions or {}) - set(NAMES)
    if unknown:
        raise KeyError(f"unknown vocabulary {sorted(unknown)[0]!r}; known: {', '.join(NAMES)}")
    _additions.clear()
    _additions.update({k: v for k, v in (additions or {}).items() if v})
    _generation += 1
    _merged.cache_clear()


def additions() -> dict[str, Any]:
    """The config's additions now in force (empty when there are none)."""
    return dict(_additions)


def ensure(wanted: Mapping[str, Any]) -> None:
    """Take ``wanted`` as the additions unless they already are (a parse worker is handed
    the config's additions with every body; only a change costs anything)."""
    if dict(wanted) != _additions:
        extend(wanted)


def fingerprint() -> str:
    """A short name for the config's additions; empty when there are none."""
    if not _additions:
        return ""
    raw = json.dumps(_additions, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def generation() -> int:
    """Changes whenever ``extend`` runs: a consumer that compiles patterns from a
    vocabulary keys its cache by it."""
    return _generation
