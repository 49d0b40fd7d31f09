"""Contracts shared by every source kind: documents, changes, settings.

A kind module (``sources/page.py`` and its siblings) provides:

* ``NAME`` and ``PARSER_VERSION`` (bump it when ``parse`` output changes shape),
* ``INTERVAL``: the default check interval in seconds,
* ``RULES``: ``"module:function"`` of its built-in rule in ``triggers/``, named rather
  than imported (``sources/`` never imports ``triggers/``),
* ``Settings``: a pydantic model (``extra="forbid"``) of the per-source options,
* ``parse(body, settings) -> Document`` (pure: bytes in, canonical document out),
* ``diff(old, new) -> list[Change]`` (pure),
* ``size(document) -> int``: how many items it holds, for the vanish guard,
* ``describe(change) -> str``: one readable line for messages and the CLI,
* its module docstring, which ``reassess kinds`` prints as help.

Nothing here does I/O or reads the clock.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

Format = Literal["html", "rss", "atom", "json", "csv", "markdown", "text"]


class BaseSettings(BaseModel):
    """Options every kind accepts: a CSS ``select``, ``ignore`` regexes, a forced ``format``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    select: str | None = None
    ignore: tuple[str, ...] = Field(default=())
    format: Format | None = None


def canonical_json(data: Any) -> str:
    """The one serialisation whose hash decides whether a document changed."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed, normalised source body: ``data`` is plain JSON (dicts, lists, str, numbers)."""

    kind: str
    data: Any
    parser_version: str = "1"
    # Serialised once: a check asks for the hash and the JSON several times (compare,
    # store, update the source), and documents are never changed after ``parse``.
    _canonical: str | None = field(default=None, init=False, repr=False, compare=False)
    _hash: str | None = field(default=None, init=False, repr=False, compare=False)

    def canonical(self) -> str:
        text = self._canonical
        if text is None:
            text = canonical_json(self.data)
            object.__setattr__(self, "_canonical", text)
        return text

    @property
    def hash(self) -> str:
        digest = self._hash
        if digest is None:
            digest = hashlib.sha256(self.canonical().encode()).hexdigest()
            object.__setattr__(self, "_hash", digest)
        return digest

    @classmethod
    def from_json(cls, kind: str, text: str | bytes, parser_version: str = "1") -> Document:
        return cls(kind=kind, data=json.loads(text), parser_version=parser_version)


ChangeOp = Literal["added", "removed", "modified"]


@dataclass(frozen=True, slots=True)
class Change:
    """One typed difference between two documents.

    ``op`` is added / removed / modified; ``key`` names the entity, entry, field or section;
    ``before`` / ``after`` hold its old and new value (``None`` when absent);
    ``path`` says which part of the document it is in (``entity``, ``entry``, ``field``,
    ``section``, ``line``); ``fields`` lists the sub-fields a modification touched.
    """

    op: ChangeOp
    key: str
    before: Any = None
    after: Any = None
    path: str = ""
    fields: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self.op, "key": self.key, "before": self.before,
                               "after": self.after}
        if self.path:
            out["path"] = self.path
        if self.fields:
            out["fields"] = list(self.fields)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Change:
        return cls(op=data["op"], key=data["key"], before=data.get("before"),
                   after=data.get("after"), path=data.get("path", ""),
                   fields=tuple(data.get("fields", ())))


class KindModule(Protocol):
    """What the registry expects of a source-kind module."""

    NAME: str
    PARSER_VERSION: str
    INTERVAL: float
    RULES: str
    Settings: type[BaseSettings]
    __doc__: str | None

    def parse(self, body: bytes, settings: BaseSettings) -> Document: ...

    def diff(self, old: Document, new: Document) -> list[Change]: ...

    def size(self, document: Document) -> int: ...

    def describe(self, change: Change) -> str: ...
