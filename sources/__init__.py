"""Source kinds: one module per kind, listed explicitly in ``REGISTRY``.

Adding a kind is one module plus one line here. A duplicate name is an error.

A kind's module is imported the first time the registry hands it out, so a process
loads only the kinds its configuration uses (``reassess check`` start-up time).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from dataclasses import replace
from importlib import import_module

from . import vocab
from .base import BaseSettings, Change, Document, KindModule

# httpx imports its command-line client (click, rich, pygments) whenever those
# happen to be installed, and sources.fetch imports httpx. reassess never runs that client;
# without it ``httpx.main`` is httpx's own stub, exactly as when the ``httpx[cli]`` extra is
# not installed. Only if httpx is not loaded yet: a process that already has it keeps it.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

# Kind name → module, in the order the kinds were added.
_KINDS: dict[str, str] = {
    "page": "sources.page",
    "incidents": "sources.incidents",
    "changelog": "sources.changelog",
    "subprocessors": "sources.subprocessors",
    "model_card": "sources.model_card",
    "models": "sources.models",
    "mailbox": "sources.mailbox",
}


class _Registry(Mapping[str, KindModule]):
    """Kind name → kind module, each module imported on first access."""

    def __init__(self, kinds: Mapping[str, str]) -> None:
        self._paths = dict(kinds)
        self._loaded: dict[str, KindModule] = {}

    def __getitem__(self, name: str) -> KindModule:
        module = self._loaded.get(name)
        if module is None:
            if name not in self._paths:
                raise KeyError(name)
            module = import_module(self._paths[name])  # type: ignore[assignment]
            if name != module.NAME:
                raise RuntimeError(f"source kind {module.NAME!r} ({self._paths[name]}) "
                                   f"registered as {name!r}")
            self._loaded[name] = module
        return module

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, name: object) -> bool:  # no import to answer it
        return name in self._paths

    def __repr__(self) -> str:
        return f"REGISTRY({', '.join(self._paths)})"


REGISTRY: Mapping[str, KindModule] = _Registry(_KINDS)


def get_kind(name: str) -> KindModule:
    try:
        return REGISTRY[name]
    except KeyError:
        valid = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown source kind {name!r}; valid kinds: {valid}") from None


def parser_version(kind: KindModule) -> str:
    """The version of what ``parse`` makes of a body: the kind's ``PARSER_VERSION``, and
    the config's vocabulary additions when there are any (they change what it makes).
    A stored document of another version is read again before it is compared."""
    extra = vocab.fingerprint()
    return f"{kind.PARSER_VERSION}+{extra}" if extra else kind.PARSER_VERSION


def parse(kind: KindModule, settings: BaseSettings, body: bytes,
          vocabulary: dict[str, object] | None = None) -> Document:
    """The kind's parse as a check runs it, in a worker process or inline: with the
    config's ``vocabulary`` additions (a worker forked before the config was read is
    handed them), stamped with ``parser_version`` and hashed where it runs."""
    if vocabulary is not None:
        vocab.ensure(vocabulary)
    doc = kind.parse(body, settings)
    version = parser_version(kind)
    if doc.parser_version != version:
        doc = replace(doc, parser_version=version)
    doc.hash  # noqa: B018 - serialised and hashed here, once
    return doc


__all__ = ["REGISTRY", "BaseSettings", "Change", "Document", "get_kind", "parse",
           "parser_version"]
