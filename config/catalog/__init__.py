"""The vendor catalog: presets for AI vendors and AI-feature SaaS vendors, as data.

One YAML file per vendor, ``config/catalog/<id>.yaml``, so a change to one vendor is a
one-file change::

    id: openai                       # the key `reassess add` takes; the file is <id>.yaml
    name: OpenAI
    category: model_provider         # or ai_saas
    aliases: [ChatGPT, GPT-4o, Sora] # names of its models and products
    sources:
      - id: subprocessors            # the config's source id is <vendor id>-<this id>
        kind: subprocessors          # a registered source kind (``reassess kinds``)
        url: https://openai.com/policies/sub-processor-list/
        found_in: https://openai.com/policies/sub-processor-list/
        confirmed: null              # set only by `reassess catalog verify --write`
      - id: models
        kind: models
        url: https://api.openai.com/v1/models
        headers: {Authorization: "Bearer ${OPENAI_API_KEY}"}
        needs: an API key in OPENAI_API_KEY
        found_in: https://platform.openai.com/docs/api-reference/models/list
        confirmed: null

``found_in`` is the vendor's own public page that names the URL; ``confirmed`` is the
date ``reassess catalog verify`` last fetched and parsed it (never written by hand).
A source with ``needs`` (an API key, an account) is written commented out by
``reassess add``. ``options`` are the kind's own settings (``select`` …).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from sources import REGISTRY

from ..errors import ConfigError
from ..schema import ENV_REF, check_url

CATALOG_DIR = Path(__file__).resolve().parent
# Kinds another branch is adding; accepted in the catalog before they are registered
# (``reassess add`` writes such a source commented out until ``reassess kinds`` lists it).
PENDING_KINDS = frozenset({"models", "mailbox"})
_KEY = r"^[a-z0-9][a-z0-9_-]{0,39}$"


class CatalogError(ConfigError):
    """A catalog file is invalid, or the catalog has no such vendor."""


class CatalogSource(BaseModel):
    """One preset URL of a vendor, with where it was found and when it was last confirmed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_KEY)
    kind: str
    url: str
    title: str | None = None
    found_in: str
    confirmed: date | None
    needs: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in REGISTRY and value not in PENDING_KINDS:
            known = sorted({*REGISTRY, *PENDING_KINDS})
            raise ValueError(f"kind {value!r} is not a source kind; valid: {', '.join(known)}")
        return value

    @field_validator("url", "found_in")
    @classmethod
    def _url(cls, value: str) -> str:
        if "${" in value:
            raise ValueError("a catalog URL holds no ${VAR}; secrets go in headers:")
        return check_url(value)

    @model_validator(mode="after")
    def _secrets_need_saying(self) -> CatalogSource:
        if any(ENV_REF.search(v) for v in self.headers.values()) and not self.needs:
            raise ValueError("headers name a ${VAR}: say what to set in needs: "
                             "(e.g. \"an API key in OPENAI_API_KEY\")")
        if self.kind in REGISTRY:
            try:
                REGISTRY[self.kind].Settings.model_validate(self.options)
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                     for e in exc.errors())
                raise ValueError(f"options are not valid for kind {self.kind}: "
                                 f"{problems}") from None
        return self

    @property
    def registered(self) -> bool:
        """Whether this version of reassess has the source's kind."""
        return self.kind in REGISTRY

    @property
    def public(self) -> bool:
        """Fetchable with no key or account, by a kind this version has."""
        return self.needs is None and self.registered


class CatalogVendor(BaseModel):
    """One vendor's presets: ``config/catalog/<id>.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_KEY)
    name: str = Field(min_length=1)
    category: Literal["model_provider", "ai_saas"] = "model_provider"
    aliases: list[str] = Field(default_factory=list)
    sources: list[CatalogSource] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_sources(self) -> CatalogVendor:
        seen: set[str] = set()
        for source in self.sources:
            if source.id in seen:
                raise ValueError(f"duplicate source id {source.id!r}; every id must be unique")
            seen.add(source.id)
        return self

    def summary(self) -> dict[str, Any]:
        """What ``reassess catalog --json`` prints for the vendor."""
        return {"id": self.id, "name": self.name, "category": self.category,
                "aliases": list(self.aliases),
                "sources": [s.model_dump(mode="json", exclude_defaults=False)
                            for s in self.sources]}


def catalog_dir(directory: str | os.PathLike[str] | None = None) -> Path:
    """The catalog in use: ``directory``, else ``$REASSESS_CATALOG``, else the shipped one."""
    chosen = directory or os.environ.get("REASSESS_CATALOG")
    return Path(chosen) if chosen else CATALOG_DIR


def load_catalog(directory: str | os.PathLike[str] | None = None) -> list[CatalogVendor]:
    """Every vendor of the catalog, by id; ``CatalogError`` names the file and line."""
    where = catalog_dir(directory)
    if not where.is_dir():
        raise CatalogError(f"{where}: no such catalog directory")
    return sorted((load_vendor_file(path) for path in sorted(where.glob("*.yaml"))),
                  key=lambda v: v.id)


def load_vendor_file(path: Path) -> CatalogVendor:
    file = str(path)
    text = path.read_text(encoding="utf-8")
    from ..loader import _Loader  # duplicate keys refused; a date YAML cannot build stays text

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=_Loader)
    except ConfigError as exc:  # a duplicate key
        raise CatalogError(f"{file}:{exc}", path=file, line=exc.line) from None
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise CatalogError(f"{file}:{line}: not valid YAML: {exc.problem}", path=file,
                           line=line) from None
    if not isinstance(data, dict):
        raise CatalogError(f"{file}:1: a catalog file is a mapping (id:, name:, sources:)",
                           path=file, line=1)
    try:
        vendor = CatalogVendor.model_validate(data)
    except ValidationError as exc:
        raise _explain(exc, root, file) from None
    if vendor.id != path.stem:
        raise CatalogError(f"{file}:{_line(root, ('id',))}: id {vendor.id!r} must be the "
                           f"file's name: rename the file to {vendor.id}.yaml", path=file)
    return vendor


def find_vendor(vendors: list[CatalogVendor], key: str) -> CatalogVendor:
    """The vendor ``key`` names (its id, any case); else ``CatalogError`` with a
    did-you-mean drawn from ids, names and aliases."""
    wanted = key.strip().casefold()
    for vendor in vendors:
        if vendor.id == wanted:
            return vendor
    names: dict[str, str] = {}
    for vendor in vendors:
        for word in (vendor.id, vendor.name, *vendor.aliases):
            names.setdefault(word.casefold(), vendor.id)
    close = [names[m] for m in difflib.get_close_matches(wanted, list(names), n=3, cutoff=0.6)]
    close += [names[n] for n in names if wanted and wanted in n.split()]
    hint = f"did you mean {', '.join(dict.fromkeys(close))}? " if close else ""
    raise CatalogError(f"no vendor {key!r} in the catalog; {hint}`reassess catalog` lists "
                       f"all {len(vendors)}")


def set_confirmed(path: Path, confirmed: Mapping[str, date]) -> int:
    """Write ``confirmed: <date>`` for the named sources of one catalog file, changing
    nothing else in it; the number of sources written."""
    text = path.read_text(encoding="utf-8")
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    spans: list[tuple[int, int, str]] = []
    sources = _value(root, "sources")
    for item in getattr(sources, "value", []):
        source_id = _value(item, "id")
        node = _value(item, "confirmed")
        if source_id is None or node is None or source_id.value not in confirmed:
            continue
        spans.append((node.start_mark.index, node.end_mark.index,
                      confirmed[source_id.value].isoformat()))
    for start, end, value in sorted(spans, reverse=True):
        text = text[:start] + value + text[end:]
    if spans:
        path.write_text(text, encoding="utf-8")
    return len(spans)


def _value(node: yaml.Node | None, key: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == key:
                return v
    return None


def _line(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = _value(node, str(part))
            if found is None:
                break
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) \
                and part < len(node.value):
            node = node.value[part]
        else:
            break
    return node.start_mark.line + 1 if node is not None else None


_MODELS: dict[str, type[BaseModel]] = {"": CatalogVendor, "sources": CatalogSource}


def _explain(exc: ValidationError, root: yaml.Node | None, file: str) -> CatalogError:
    lines, first = [], None
    for error in exc.errors():
        loc = tuple(error["loc"])
        line = _line(root, loc)
        first = first or line
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        msg = re.sub(r"^Value error, ", "", str(error["msg"]))
        if error["type"] == "extra_forbidden":
            model = _MODELS["sources" if "sources" in loc[:-1] else ""]
            valid = list(model.model_fields)
            close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
            msg = (f"unknown key {loc[-1]!r}; " + (f"did you mean {close[0]!r}? " if close
                                                    else "") + f"valid keys: {', '.join(valid)}")
        elif error["type"] == "missing":
            msg = "required key is missing; add it"
        lines.append(f"{file}:{line}: {path or '(top level)'}: {msg}")
    return CatalogError("\n".join(lines), path=file, line=first)


__all__ = ["CATALOG_DIR", "PENDING_KINDS", "CatalogError", "CatalogSource", "CatalogVendor",
           "catalog_dir", "find_vendor", "load_catalog", "load_vendor_file", "set_confirmed"]
