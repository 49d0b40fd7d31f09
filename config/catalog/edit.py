"""``reassess add``: a catalog vendor written into a config file, the rest of it untouched.

The file is edited as text at the places its YAML node tree points to, never dumped
again, so the user's comments, key order, quoting and layout stay as they were. A
block-style ``vendors:`` gets a block item after its last one (at the same indentation),
a flow-style one a flow item before its ``]``; a file without ``vendors:`` gets one at
its end. Sources that need a key or an account, or whose kind this version does not
have, are written as comments with a line saying what to set, so the file validates
with no environment variable set. The result is checked: its data must be the old data
plus the new vendor (and assessment), or nothing is written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from . import CatalogError, CatalogSource, CatalogVendor

_PLAIN = re.compile(r"^[A-Za-z0-9][\w.~:/?=&%+@-]*$")
_PLAIN_BLOCK = re.compile(r"^[A-Za-z0-9][\w.~:/?=&%+@, ()-]*$")
_RESERVED = re.compile(r"^(?:y|n|yes|no|on|off|true|false|null|~|[-+.\d][\d._:eE+-]*)$", re.I)


@dataclass(frozen=True)
class Added:
    """What ``add_vendor`` wrote: the new text, the sources written live and commented."""

    text: str
    live: list[str]
    commented: list[str]
    assessment: str | None


def add_vendor(text: str, vendor: CatalogVendor, *, assessment: str | None = None,
               today: str | None = None) -> Added:
    """``text`` (a config file) with ``vendor`` appended to ``vendors:`` and, with
    ``assessment``, a new pending assessment of it; ``CatalogError`` when the vendor (or
    the assessment id) is already there or the file's shape is not one to append to."""
    root = _compose(text)
    data = yaml.safe_load(text) if root is not None else None
    if data is None:
        data = {}
    if not isinstance(data, dict) or (root is not None and not isinstance(root,
                                                                       yaml.MappingNode)):
        raise CatalogError("the top level of the config must be a mapping (database:, "
                           "vendors:, …)")
    vendors = data.get("vendors") or []
    if not isinstance(vendors, list):
        raise CatalogError("vendors: in the config is not a list")
    if any(isinstance(v, dict) and v.get("id") == vendor.id for v in vendors):
        raise CatalogError(f"vendor {vendor.id!r} is already in the config; edit its "
                           f"sources there (or remove it first)")
    taken = {s.get("id") for v in vendors if isinstance(v, dict)
             for s in (v.get("sources") or []) if isinstance(s, dict)}
    entry, commented = _entry(vendor, taken)
    assessments = data.get("assessments") or []
    if assessment is not None:
        for a in assessments if isinstance(assessments, list) else []:
            if isinstance(a, dict) and a.get("id") == assessment:
                raise CatalogError(
                    f"assessment {assessment!r} is already in the config, for vendor "
                    f"{a.get('vendor')!r}; an assessment covers one vendor: choose a new id")

    new = _insert(text, root, "vendors", _VendorItem(entry, commented, vendor))
    expected = {**data, "vendors": [*vendors, entry]}
    if assessment is not None:
        item = {"id": assessment, "vendor": vendor.id, "disposition": "pending"}
        new = _insert(new, _compose(new), "assessments", _AssessmentItem(item, today))
        expected["assessments"] = [*(assessments or []), item]
    if yaml.safe_load(new) != expected:  # a bug here must never cost the user their file
        raise CatalogError("could not append to this file without changing the rest of it; "
                           "add the vendor by hand (`reassess catalog --json` has its sources)")
    return Added(new, [s["id"] for s in entry["sources"]],
                 [sid for sid, _, _ in commented], assessment)


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise CatalogError(f"line {line}: not valid YAML: {exc.problem}", line=line) from None


def _source_id(vendor: CatalogVendor, source: CatalogSource, taken: set[Any]) -> str:
    base = f"{vendor.id}-{source.id}"
    found, n = base, 2
    while found in taken:
        found, n = f"{base}-{n}", n + 1
    taken.add(found)
    return found


def _entry(vendor: CatalogVendor, taken: set[Any]
           ) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any], str]]]:
    """The vendor as config data (its live sources); the commented (id, data, why) ones."""
    live: list[dict[str, Any]] = []
    commented: list[tuple[str, dict[str, Any], str]] = []
    for source in vendor.sources:
        sid = _source_id(vendor, source, taken)
        item: dict[str, Any] = {"id": sid, "kind": source.kind, "url": source.url}
        if source.headers:
            item["headers"] = dict(source.headers)
        item.update(source.options)
        why = []
        if source.needs:
            why.append(f"needs {source.needs}: set it, then uncomment")
        if not source.registered:
            why.append(f"kind {source.kind}: uncomment once `reassess kinds` lists it")
        if why:
            commented.append((sid, item, "\n".join(why)))
        else:
            live.append(item)
    entry: dict[str, Any] = {"id": vendor.id, "name": vendor.name}
    if vendor.aliases and any(s.get("match_names") for s in live):
        entry["aliases"] = list(vendor.aliases)  # what match_names: true looks for
    entry["sources"] = live
    return entry, commented


def _scalar(value: Any, flow: bool) -> str:
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_scalar(k, True)}: {_scalar(v, True)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_scalar(v, True) for v in value) + "]"
    text = str(value)
    pattern = _PLAIN if flow else _PLAIN_BLOCK
    if pattern.match(text) and not _RESERVED.match(text) and ": " not in text \
            and " #" not in text and not (flow and ":" in text):
        return text
    return json.dumps(text, ensure_ascii=False)


class _VendorItem:
    def __init__(self, entry: dict[str, Any], commented: list[tuple[str, dict[str, Any], str]],
                 vendor: CatalogVendor) -> None:
        self.entry, self.commented, self.vendor = entry, commented, vendor

    def _note(self) -> str:
        return (f"# from the reassess catalog; `reassess catalog verify --vendor "
                f"{self.vendor.id}` checks its URLs")

    def block(self, col: int) -> list[str]:
        pad = " " * col
        lines = [f"{pad}- id: {_scalar(self.entry['id'], False)}",
                 f"{pad}  name: {_scalar(self.entry['name'], False)}",
                 f"{pad}  {self._note()}"]
        if "aliases" in self.entry:
            lines.append(f"{pad}  aliases: {_scalar(self.entry['aliases'], True)}")
        lines.append(f"{pad}  sources:" if self.entry["sources"] else f"{pad}  sources: []")
        for item in self.entry["sources"]:
            lines += _block_mapping(item, col + 4)
        for _, item, why in self.commented:
            lines += [f"{pad}    # {line}" for line in why.splitlines()]
            lines += [f"{pad}    # {line.lstrip()}" if i == 0 else
                      f"{pad}    # {line[col + 4:]}"
                      for i, line in enumerate(_block_mapping(item, col + 4))]
        return lines

    def flow(self, col: int) -> str:
        pad = " " * col
        head = (f"{{id: {_scalar(self.entry['id'], True)}, "
                f"name: {_scalar(self.entry['name'], True)}, "
                + (f"aliases: {_scalar(self.entry['aliases'], True)}, "
                   if "aliases" in self.entry else "") + "sources: [")
        lines = [head, f"{pad}  {self._note()}"]
        items = [f"{pad}  {_scalar(item, True)}" for item in self.entry["sources"]]
        lines += [line + ("," if i < len(items) - 1 else "") for i, line in enumerate(items)]
        for _, item, why in self.commented:
            lines += [f"{pad}  # {line}" for line in why.splitlines()]
            lines.append(f"{pad}  # {_scalar(item, True)}")
        lines.append(f"{pad}]}}")
        return "\n".join(lines)


class _AssessmentItem:
    def __init__(self, item: dict[str, Any], today: str | None) -> None:
        self.item, self.today = item, today

    def _hints(self) -> list[str]:
        return ["# owner: [a-channel]        # who hears of its triggers (see channels:)",
                f"# assessed: {self.today or 'YYYY-MM-DD'}",
                "# review_every: 12 months"]

    def block(self, col: int) -> list[str]:
        pad = " " * col
        lines = [f"{pad}- id: {_scalar(self.item['id'], False)}",
                 f"{pad}  vendor: {_scalar(self.item['vendor'], False)}",
                 f"{pad}  disposition: pending     # approved, approved_with_conditions, "
                 f"rejected"]
        return lines + [f"{pad}  {hint}" for hint in self._hints()]

    def flow(self, col: int) -> str:
        pad = " " * col
        hints = "".join(f"\n{pad}  {hint}" for hint in self._hints())
        return (f"{{id: {_scalar(self.item['id'], True)}, vendor: "
                f"{_scalar(self.item['vendor'], True)}, disposition: pending{hints}\n{pad}}}")


def _block_mapping(item: dict[str, Any], col: int) -> list[str]:
    pad = " " * col
    lines = []
    for i, (key, value) in enumerate(item.items()):
        lead = f"{pad}- " if i == 0 else f"{pad}  "
        lines.append(f"{lead}{key}: {_scalar(value, isinstance(value, dict | list))}")
    return lines


_Item = _VendorItem | _AssessmentItem


def _insert(text: str, root: yaml.Node | None, key: str, item: _Item) -> str:
    """``text`` with ``item`` appended to the sequence under the top-level ``key``."""
    if text and not text.endswith("\n"):
        text += "\n"
    if root is None or not isinstance(root, yaml.MappingNode):
        return text + f"{key}:\n" + "\n".join(item.block(2)) + "\n"
    col = root.start_mark.column
    for key_node, value in root.value:
        if key_node.value != key:
            continue
        if isinstance(value, yaml.SequenceNode) and value.flow_style:
            return _into_flow(text, value, item, col + 2)
        if isinstance(value, yaml.SequenceNode) and value.value:
            return _after_last(text, value, item)
        if isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null"):
            at = _line_end(text, key_node.end_mark.index)
            start, end = value.start_mark.index, value.end_mark.index
            head = text[:start] + text[end:at] if start < at and end <= at else text[:at]
            return head + "\n" + "\n".join(item.block(col + 2)) + text[at:]
        raise CatalogError(f"line {key_node.start_mark.line + 1}: {key}: is not a list; "
                           f"cannot append to it")
    if root.flow_style:
        end = root.end_mark.index - 1  # the closing }
        sep = ", " if root.value else ""
        return (text[:end].rstrip() + f"{sep}\n  {key}: [" + item.flow(4) + "]\n"
                + text[end:])
    return text + f"{key}:\n" + "\n".join(item.block(col + 2)) + "\n"


def _line_end(text: str, index: int) -> int:
    found = text.find("\n", index)
    return len(text) if found < 0 else found


def _last_index(node: yaml.Node) -> int:
    """Where the last character of a node's own content is (not its trailing comments)."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        return int(node.end_mark.index)
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    return max((_last_index(c) for c in children), default=int(node.start_mark.index))


def _after_last(text: str, seq: yaml.SequenceNode, item: _Item) -> str:
    first = seq.value[0]
    line_start = text.rfind("\n", 0, first.start_mark.index) + 1
    dash = text.rfind("-", line_start, first.start_mark.index)
    col = dash - line_start if dash >= 0 else max(first.start_mark.column - 2, 0)
    at = _line_end(text, max(_last_index(seq.value[-1]) - 1, 0))
    while at < len(text):  # the last item's own trailing comments (indented under it) stay
        end = _line_end(text, at + 1)
        line = text[at + 1:end]
        if not line.lstrip().startswith("#") or len(line) - len(line.lstrip()) <= col:
            break
        at = end
    return text[:at] + "\n" + "\n".join(item.block(col)) + text[at:]


def _into_flow(text: str, seq: yaml.SequenceNode, item: _Item, col: int) -> str:
    if not seq.value:
        at = seq.start_mark.index + 1  # after the [
        return text[:at] + item.flow(col) + text[at:]
    at = _last_index(seq.value[-1])
    rest = text[at:]
    gap = re.match(r"(?:\s|#[^\n]*)*,", rest)
    if gap:  # a trailing comma after the last item: the new one goes after it
        at += gap.end()
        return text[:at] + f"\n{' ' * col}" + item.flow(col) + text[at:]
    return text[:at] + f",\n{' ' * col}" + item.flow(col) + text[at:]
