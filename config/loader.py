"""Load and validate a configuration file.

Errors name the file, the line, the key path and what would be valid, and never echo a
secret: values under ``channels`` and anything that came from ``${ENV}`` are not shown.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sources import get_kind, vocab

from .errors import ConfigError
from .schema import ENV_REF, SHARED, Config, check_source_url, expand_env

_ENV = ENV_REF
# Left with their ``${VAR}`` placeholders (expanded only for the request): a source's url
# and headers, so no secret reaches a stored row, a log, the UI or a notification.
_KEEP = re.compile(r"^vendors\[\d+\]\.sources\[\d+\]\.(url|password|headers\..+)$")


# libyaml's parser when PyYAML has it: the pure-Python scanner is slow on a large config,
# and every `reassess check` pays for it. Nodes carry the same marks (line numbers) either way.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader that refuses duplicate keys (a silent override hides mistakes)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        if key in seen:
            raise ConfigError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r} "
                              f"(first on line {seen[key]}); remove one of them",
                              line=key_node.start_mark.line + 1)
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    """A date YAML cannot build (``2026-02-30``) stays text, so the schema names its line."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return str(node.value)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def substitute_env(value: Any, env: dict[str, str], path: str = "",
                   missing: list[tuple[str, str]] | None = None) -> Any:
    """Replace ``${VAR}`` (or ``${VAR:-default}``) in every string of a parsed document.

    Variables that are not set are appended to ``missing`` as (name, key path); without
    a list, the first one raises ``_MissingEnv``.
    """
    if isinstance(value, dict):
        return {k: substitute_env(v, env, f"{path}.{k}" if path else str(k), missing)
                for k, v in value.items()}
    if isinstance(value, list):
        return [substitute_env(v, env, f"{path}[{i}]", missing) for i, v in enumerate(value)]
    if isinstance(value, str) and "${" in value:
        def repl(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            if missing is None:
                raise _MissingEnv([(name, path)])
            missing.append((name, path))
            return ""
        expanded = _ENV.sub(repl, value)
        return value if _KEEP.match(path) else expanded
    return value


class _MissingEnv(Exception):
    def __init__(self, found: list[tuple[str, str]]) -> None:
        self.found = found


def _node_for(root: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[yaml.Node | None, bool]:
    """The YAML node at a pydantic error location; the bool says whether it is a key node."""
    node = root
    is_key = False
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = None
            for key_node, value_node in node.value:
                if key_node.value == str(part):
                    found = (key_node, value_node)
                    break
            if found is None:
                return node, is_key
            node, is_key = found[1], False
            last_key = found[0]
            if part == loc[-1]:
                return (last_key, True) if not isinstance(node, yaml.ScalarNode) else (node,
                                                                                       False)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return node, is_key
            node = node.value[part]
        else:
            return node, is_key
    return node, is_key


def _typo_for(root: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """The key node near a missing key that looks like a misspelling of it."""
    parent, _ = _node_for(root, loc[:-1])
    if not isinstance(parent, yaml.MappingNode):
        return None
    keys = {str(k.value): k for k, _ in parent.value}
    close = difflib.get_close_matches(str(loc[-1]), list(keys), n=1, cutoff=0.6)
    return keys[close[0]] if close else None


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _valid_keys(model: type[BaseModel] | None) -> list[str]:
    return list(model.model_fields) if model else []


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that owns the mapping at ``loc`` (for 'valid keys')."""
    model: Any = Config
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            return None
        model = _inner_model(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    args = getattr(annotation, "__args__", ())
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in args:
        found = _inner_model(arg)
        if found is not None:
            return found
    meta = getattr(annotation, "__origin__", None)
    if meta is not None and hasattr(annotation, "__metadata__"):
        return _inner_model(meta)
    return None


def _secret(loc: tuple[Any, ...]) -> bool:
    return (bool(loc) and loc[0] in ("channels", "web")) or "headers" in loc


def _explain(error: dict[str, Any], extra_valid: tuple[str, ...] = ()) -> str:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        valid = _valid_keys(_model_at(loc[:-1])) + list(extra_valid)
        close = difflib.get_close_matches(key, valid, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return (f"unknown key {key!r}; {hint}valid keys here: {', '.join(valid)}")
    if kind == "missing":
        return str(error.get("msg", "")) if "typo" in str(error.get("msg", "")) else \
            "required key is missing; add it"
    msg = str(error["msg"]).removeprefix("Value error, ")
    if kind == "literal_error":
        msg = "must be one of " + msg.removeprefix("Input should be ")
    if not _secret(loc) and kind not in ("value_error",) and "input" in error:
        shown = repr(error["input"])
        if len(shown) <= 60:
            msg += f" (got {shown})"
    return msg


def _expanded(errors: list[Any]) -> list[Any]:
    """Errors with each of the config's reference problems as its own, at its own key."""
    from .schema import ReferenceProblems

    out = []
    for error in errors:
        found = (error.get("ctx") or {}).get("error")
        if isinstance(found, ReferenceProblems):
            out += [{**error, "loc": (*error["loc"], *loc), "msg": message}
                    for loc, message in found.problems]
        else:
            out.append(error)
    return out


def format_validation(exc: ValidationError, root: yaml.Node | None, file: str,
                      prefix: tuple[Any, ...] = (),
                      extra_valid: tuple[str, ...] = ()) -> ConfigError:
    lines = []
    first_line: int | None = None
    for error in _expanded(exc.errors()):
        loc = prefix + tuple(error["loc"])
        node, _ = _node_for(root, loc)
        line = node.start_mark.line + 1 if node is not None else None
        if error["type"] == "missing":
            typo = _typo_for(root, loc)
            if typo is not None:
                line = typo.start_mark.line + 1
                error = {**error, "msg": f"required key is missing; is {typo.value!r} on "
                                         f"line {line} a typo for {str(loc[-1])!r}?"}
        first_line = first_line or line
        where = f"{file}:{line}" if line else file
        path = _path(loc) or "(top level)"
        lines.append(f"{where}: {path}: {_explain({**error, 'loc': loc}, extra_valid)}")
    return ConfigError("\n".join(lines), path=file, line=first_line)


def load_config(path: str | os.PathLike[str], env: dict[str, str] | None = None) -> Config:
    """Read, substitute and validate a config file; raise ``ConfigError`` on any problem."""
    file = str(path)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such file; create one with `reassess init {file}`",
                          path=file) from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}", path=file) from None
    return parse_config(text, file, env, empty_ok=False)


def _compose_and_load(text: str) -> tuple[yaml.Node | None, Any]:
    """Parse once: the node tree (for line numbers in errors) and the data built from it."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    return root, data


class _Unusual(Exception):
    """An anchor, alias, explicit tag or merge key: left to PyYAML's own composer."""


_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


def _load(text: str) -> Any:
    """The data of a one-document YAML text, built straight from the parser's events.

    What ``_compose_and_load`` gives, without the node tree in between: that tree is
    several times the size of the data it builds, at the peak of a ``reassess check`` on a
    large config, and takes as long again to build. Anything but plain mappings,
    sequences and scalars goes to the composer.
    """
    loader = _Loader(text)
    try:
        get = loader.get_event
        get()  # stream start
        event = get()
        if isinstance(event, yaml.StreamEndEvent):
            return None
        data = _from_events(loader, get, get())  # after the document start
        get()  # document end
        if not isinstance(get(), yaml.StreamEndEvent):
            raise _Unusual  # a second document: the composer says what is wrong
        return data
    finally:
        loader.dispose()


def _from_events(loader: Any, get: Any, event: Any) -> Any:
    if isinstance(event, yaml.ScalarEvent):
        if event.anchor is not None:
            raise _Unusual
        tag = event.tag
        if tag is None or tag == "!":
            value = event.value
            # What ``resolve`` answers for a scalar no implicit resolver starts with (most
            # of a config: ids, urls, names), without its lists of them and a call.
            resolvers = loader.yaml_implicit_resolvers  # by first character; None: any
            if not event.implicit[0] or (value and value[0] not in resolvers
                                         and None not in resolvers
                                         and not loader.yaml_path_resolvers):
                tag = _STR
            else:
                tag = loader.resolve(yaml.ScalarNode, value, event.implicit)
        if tag == _STR:
            return event.value
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        return loader.construct_object(node, deep=True)
    if isinstance(event, yaml.MappingStartEvent):
        if event.anchor is not None or event.tag not in (None, "!", _MAP):
            raise _Unusual
        out: dict[Any, Any] = {}
        lines: dict[Any, int] = {}
        while not isinstance(event := get(), yaml.MappingEndEvent):
            key = _from_events(loader, get, event)
            if type(key) is str:  # one "id", "url" … for every mapping, not one each
                key = sys.intern(key)
            line = event.start_mark.line + 1
            if key == "<<" or not isinstance(key, str | int | float | bool | None):
                raise _Unusual
            if key in lines:
                raise ConfigError(f"line {line}: duplicate key {key!r} (first on line "
                                  f"{lines[key]}); remove one of them", line=line)
            lines[key] = line
            out[key] = _from_events(loader, get, get())
        return out
    if isinstance(event, yaml.SequenceStartEvent):
        if event.anchor is not None or event.tag not in (None, "!", _SEQ):
            raise _Unusual
        items = []
        while not isinstance(event := get(), yaml.SequenceEndEvent):
            items.append(_from_events(loader, get, event))
        return items
    raise _Unusual  # an alias


def parse_config(text: str, file: str = "<config>", env: dict[str, str] | None = None, *,
                 empty_ok: bool = True) -> Config:
    """Validate a config text. An empty text is the defaults, unless ``empty_ok`` is false
    (a file: ``load_config``), where it is refused — an empty file is a mistake."""
    env = dict(os.environ if env is None else env)
    try:
        try:
            data = _load(text)
        except _Unusual:
            data = _compose_and_load(text)[1]
    except ConfigError as exc:
        raise ConfigError(f"{file}:{exc.line}: {str(exc).split(': ', 1)[1]}", path=file,
                          line=exc.line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(f"{file}:{line}: not valid YAML: {exc.problem}; check the indentation "
                          "and quoting on that line", path=file, line=line) from None
    # The node tree (for line numbers) is built again only to explain an error: kept
    # alive, it would be a large share of the peak memory of a `reassess check`.
    nodes = _Nodes(text)
    if data is None and not empty_ok:
        raise ConfigError(f"{file}:1: the file is empty; a configuration needs at least "
                          "vendors: (start from `reassess init`)", path=file, line=1)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{file}:1: the top level must be a mapping (database:, vendors:, …)",
                          path=file, line=1)
    if "${" in text:  # a walk of every value is not free on a large config
        missing: list[tuple[str, str]] = []
        data = substitute_env(data, env, missing=missing)
        if missing:
            raise _missing_env(missing, nodes, file)
    try:
        config = Config.model_validate(data, context={"from_file": True, SHARED: {}})
    except ValidationError as exc:
        raise format_validation(exc, nodes.root, file) from None
    _check_kinds(config, nodes, file)
    _bind_sources(config, env, nodes, file)
    _check_channels(config, nodes, file)
    # Parsers and rules read the vocabularies from here on (parse workers are handed them).
    vocab.extend(config.vocabulary.additions())
    return config


def _missing_env(missing: list[tuple[str, str]], nodes: _Nodes, file: str) -> ConfigError:
    """Every variable that is not set, in one message: one line each, with its line."""
    lines, first = [], None
    for name, path in missing:
        loc = tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\[\]]+", path) if p)
        node, _ = _node_for(nodes.root, loc)
        line = node.start_mark.line + 1 if node is not None else None
        first = first or line
        lines.append(f"{file}:{line}: {path}: environment variable {name} is not set; "
                     f"export it or write ${{{name}:-default}}")
    return ConfigError("\n".join(lines), path=file, line=first)


class _Nodes:
    """The YAML node tree of a config text, composed when first asked for."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._root: yaml.Node | None = None

    @property
    def root(self) -> yaml.Node | None:
        if self._root is None:
            self._root = _compose_and_load(self.text)[0]
        return self._root


def _bind_sources(config: Config, env: dict[str, str], nodes: _Nodes, file: str) -> None:
    """Hand each source the values its ``${VAR}`` placeholders name, and check its url
    once expanded (without showing it: it may hold a secret)."""
    for vi, vendor in enumerate(config.vendors):
        for si, source in enumerate(vendor.sources):
            if "${" not in source.url + (source.password or "") and not any(
                    "${" in v for v in source.headers.values()):
                continue
            source.bind_env(env)
            try:
                check_source_url(expand_env(source.url, env))
            except ValueError as exc:
                loc: tuple[Any, ...] = ("vendors", vi, "sources", si, "url")
                node, _ = _node_for(nodes.root, loc)
                line = node.start_mark.line + 1 if node is not None else None
                raise ConfigError(f"{file}:{line}: {_path(loc)}: once its variables are "
                                  f"expanded: {exc}", path=file, line=line) from None


def _check_channels(config: Config, nodes: _Nodes, file: str) -> None:
    from .apprise_urls import check_channel_urls

    def line_of(loc: tuple[Any, ...]) -> int | None:
        node, _ = _node_for(nodes.root, loc)
        return node.start_mark.line + 1 if node is not None else None

    check_channel_urls(config, line_of, file)


def _check_kinds(config: Config, nodes: _Nodes, file: str) -> None:
    """Validate each source's kind-specific options with the kind's own Settings model."""
    for vi, vendor in enumerate(config.vendors):
        for si, source in enumerate(vendor.sources):
            kind = get_kind(source.kind)  # registered: the schema checked it
            loc: tuple[Any, ...] = ("vendors", vi, "sources", si)
            try:
                settings = kind.Settings.model_validate(source.settings())
            except ValidationError as exc:
                raise format_validation(exc, nodes.root, file, loc,
                                        tuple(kind.Settings.model_fields)) from None
            if settings.select is not None:
                _check_selector(settings.select, nodes, file, (*loc, "select"))
            for pi, pattern in enumerate(settings.ignore):
                try:
                    re.compile(pattern)
                except re.error as err:
                    node, _ = _node_for(nodes.root, (*loc, "ignore", pi))
                    line = node.start_mark.line + 1 if node is not None else None
                    raise ConfigError(f"{file}:{line}: {_path((*loc, 'ignore', pi))}: not a "
                                      f"valid regex: {err}", path=file, line=line) from None


_IDENT = r"-?[A-Za-z_][\w-]*"
_COMPOUND = rf"(?:(?:{_IDENT}|\*)(?:[.#]{_IDENT})*|(?:[.#]{_IDENT})+)"
_COMPLEX = rf"{_COMPOUND}(?:\s*[>+~]\s*{_COMPOUND}|\s+{_COMPOUND})*"
# tags, classes, ids and combinators: valid CSS, known without loading soupsieve (and
# bs4 with it) at every `reassess check`
_SIMPLE_SELECTOR = re.compile(rf"^\s*{_COMPLEX}(?:\s*,\s*{_COMPLEX})*\s*$")


def _check_selector(selector: str, nodes: _Nodes, file: str, loc: tuple[Any, ...]) -> None:
    """A CSS ``select`` that soupsieve (BeautifulSoup's selector engine) cannot compile
    would fail at every check; refuse it here, with its line."""
    if _SIMPLE_SELECTOR.match(selector):
        return
    import soupsieve

    try:
        soupsieve.compile(selector)
    except (soupsieve.SelectorSyntaxError, ValueError, TypeError) as err:
        node, _ = _node_for(nodes.root, loc)
        line = node.start_mark.line + 1 if node is not None else None
        reason = str(err).splitlines()[0]
        raise ConfigError(f"{file}:{line}: {_path(loc)}: not a valid CSS selector: {reason}",
                          path=file, line=line) from None
