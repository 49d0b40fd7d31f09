"""Source kinds: one module per kind, listed explicitly in ``REGISTRY``.

Adding a kind is one module plus one line here. A duplicate name is an error.
"""

from __future__ import annotations

from types import ModuleType

from . import changelog, incidents, model_card, page, subprocessors
from .base import BaseSettings, Change, Document, KindModule

_MODULES: tuple[ModuleType, ...] = (page, incidents, changelog, subprocessors, model_card)


def _build(modules: tuple[ModuleType, ...]) -> dict[str, KindModule]:
    registry: dict[str, KindModule] = {}
    for module in modules:
        name = module.NAME
        if name in registry:
            raise RuntimeError(f"source kind {name!r} registered twice")
        registry[name] = module  # type: ignore[assignment]
    return registry


REGISTRY: dict[str, KindModule] = _build(_MODULES)


def get_kind(name: str) -> KindModule:
    try:
        return REGISTRY[name]
    except KeyError:
        valid = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown source kind {name!r}; valid kinds: {valid}") from None


__all__ = ["REGISTRY", "BaseSettings", "Change", "Document", "get_kind"]
