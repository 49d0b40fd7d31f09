"""Turn stored triggers and snapshots into what the templates show, per kind.

Everything here returns plain data; the templates escape every string (autoescape), and
``safe_href`` decides which vendor-supplied links become links at all: only absolute
http(s) URLs, never ``javascript:``, ``data:`` or anything else.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import zip_longest
from typing import Any
from urllib.parse import urlsplit

MAX_DIFF_ROWS = 3000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_URLISH = re.compile(r"^https?://\S+$", re.I)


def safe_href(value: Any) -> str | None:
    """``value`` if it is an absolute http(s) URL that is safe to link to, else None."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not _URLISH.match(url) or _CONTROL.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


_SECRETISH = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.I)


def redact(text: str | None) -> str | None:
    """An error message without URLs: a channel's apprise URL may carry its secret."""
    return _SECRETISH.sub("<url>", text)[:500] if text else text


def as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def fmt_time(value: datetime | str | None) -> str:
    """The one way the UI shows a time: ``2026-12-06 14:25 UTC``."""
    if isinstance(value, str):
        parsed = parse_time(value)
        return fmt_time(parsed) if parsed else value
    found = as_utc(value)
    return found.strftime("%Y-%m-%d %H:%M UTC") if found else "—"


_ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$")


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 date-time string (as feeds and evidence carry them), else None."""
    if not isinstance(value, str) or not _ISO_TIME.match(value.strip()):
        return None
    try:
        found = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return as_utc(found)


def iso(value: datetime | None) -> str | None:
    found = as_utc(value)
    return found.isoformat().replace("+00:00", "Z") if found else None


def text_of(value: Any) -> str:
    """A value as one readable string (nested values as compact JSON)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# --- changes, per kind ----------------------------------------------------------------

PATH_OF_KIND = {"subprocessors": "entity", "incidents": "entry", "changelog": "entry",
                "model_card": "field", "page": "line"}
TITLE_KEYS = ("title", "name", "version", "id")
LINK_KEYS = ("link", "url", "href", "website")
DATE_KEYS = ("published", "date", "updated", "created", "started", "resolved")
BODY_KEYS = ("body", "summary", "content", "description", "text", "notes")


@dataclass
class Attr:
    name: str
    before: Any = None
    after: Any = None
    changed: bool = False


@dataclass
class Item:
    """One change as shown: an entity row, an entry, a field or a section."""

    op: str
    key: str
    attrs: list[Attr] = field(default_factory=list)
    title: str = ""
    link: str | None = None
    date: str = ""
    body: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)


@dataclass
class Row:
    """One row of a side-by-side diff; ``kind`` is equal/replace/delete/insert/gap.

    A ``replace`` row also has its two lines cut into parts (text, changed), so the words
    that changed inside the line are marked, not only the line."""

    kind: str
    left_no: int | None = None
    left: str = ""
    right_no: int | None = None
    right: str = ""
    left_parts: list[tuple[str, bool]] = field(default_factory=list)
    right_parts: list[tuple[str, bool]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.kind == "replace" and not self.left_parts:
            self.left_parts, self.right_parts = word_diff(self.left, self.right)


_WORDS = re.compile(r"\s+|\w+|[^\w\s]")
MAX_WORD_DIFF = 4000  # characters per line: beyond, the whole line is marked


def word_diff(left: str, right: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """Both lines as (text, changed) parts: the words (and punctuation) that differ."""
    if len(left) > MAX_WORD_DIFF or len(right) > MAX_WORD_DIFF:
        return [(left, True)], [(right, True)]
    a, b = _WORDS.findall(left), _WORDS.findall(right)
    out_a: list[tuple[str, bool]] = []
    out_b: list[tuple[str, bool]] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        _add(out_a, "".join(a[i1:i2]), tag != "equal")
        _add(out_b, "".join(b[j1:j2]), tag != "equal")
    return out_a, out_b


def _add(parts: list[tuple[str, bool]], text: str, changed: bool) -> None:
    if not text:
        return
    if parts and parts[-1][1] == changed:
        parts[-1] = (parts[-1][0] + text, changed)
    else:
        parts.append((text, changed))


def path_of(change: dict[str, Any], kind: str | None) -> str:
    return str(change.get("path") or PATH_OF_KIND.get(kind or "", "generic"))


def group_changes(changes: list[dict[str, Any]], kind: str | None) -> dict[str, list[Item]]:
    """path (entity/entry/field/section/line/generic) → the changes shown that way."""
    out: dict[str, list[Item]] = {}
    for change in changes:
        path = path_of(change, kind)
        builder = _BUILDERS.get(path, _generic)
        out.setdefault(path if path in _BUILDERS else "generic", []).append(builder(change))
    return out


def _attrs(change: dict[str, Any]) -> list[Attr]:
    before, after = change.get("before"), change.get("after")
    b = before if isinstance(before, dict) else {}
    a = after if isinstance(after, dict) else {}
    touched = set(change.get("fields") or ())
    names = list(dict.fromkeys([*b, *a]))
    return [Attr(n, b.get(n), a.get(n),
                 change.get("op") == "modified" and (n in touched or b.get(n) != a.get(n)))
            for n in names]


def _entity(change: dict[str, Any]) -> Item:
    item = Item(op=change["op"], key=str(change.get("key", "")), attrs=_attrs(change))
    if change["op"] == "modified":
        item.attrs = [x for x in item.attrs if x.changed] or item.attrs
    return item


def _pick(data: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for k in keys:
        if data.get(k):
            return data[k]
    return None


def _entry(change: dict[str, Any]) -> Item:
    value = change.get("after") if change.get("after") is not None else change.get("before")
    item = Item(op=change["op"], key=str(change.get("key", "")))
    if not isinstance(value, dict):
        item.body = text_of(value).splitlines()
        return item
    item.title = text_of(_pick(value, TITLE_KEYS) or item.key)
    item.link = safe_href(_pick(value, LINK_KEYS))
    when = _pick(value, DATE_KEYS)
    item.date = fmt_time(when) if parse_time(when) else text_of(when or "")
    body = _pick(value, BODY_KEYS)
    item.body = (body if isinstance(body, list) else text_of(body).splitlines()) if body else []
    shown = {*TITLE_KEYS, *LINK_KEYS, *DATE_KEYS, *BODY_KEYS}
    # an entry's false flags (``maintenance: false``) say nothing worth a line
    item.attrs = [a for a in _attrs(change) if a.name not in shown
                  and (a.changed or (change["op"] != "modified" and a.after is not False
                                     and a.after not in (None, "", [])))]
    return item


def _field(change: dict[str, Any]) -> Item:
    return Item(op=change["op"], key=str(change.get("key", "")),
                attrs=[Attr("value", change.get("before"), change.get("after"), True)])


def _lines(value: Any) -> list[str]:
    if isinstance(value, list):
        return [text_of(v) for v in value]
    return text_of(value).splitlines()


def _section(change: dict[str, Any]) -> Item:
    item = Item(op=change["op"], key=str(change.get("key", "")))
    before, after = _lines(change.get("before")), _lines(change.get("after"))
    if item.op == "modified":
        item.rows = side_by_side(before, after, context=2)
    else:  # a whole section added or removed: its text, not half an empty table
        item.body = after if item.op == "added" else before
    return item


def _line(change: dict[str, Any]) -> Item:
    before, after = _lines(change.get("before")), _lines(change.get("after"))
    rows = [Row("replace" if b is not None and a is not None else
                "delete" if b is not None else "insert", left=b or "", right=a or "")
            for b, a in zip_longest(before, after)]
    return Item(op=change["op"], key=str(change.get("key", "")), rows=rows)


def _generic(change: dict[str, Any]) -> Item:
    return Item(op=str(change.get("op", "")), key=str(change.get("key", "")),
                attrs=[Attr("value", change.get("before"), change.get("after"), True)])


_BUILDERS = {"entity": _entity, "entry": _entry, "field": _field, "section": _section,
             "line": _line}


def side_by_side(a: list[str], b: list[str], context: int = 3) -> list[Row]:
    """A side-by-side diff of two line lists: changed hunks with ``context`` lines around."""
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for n, group in enumerate(matcher.get_grouped_opcodes(context)):
        if n:
            rows.append(Row("gap"))
        for tag, i1, i2, j1, j2 in group:
            for left, right in zip_longest(range(i1, i2), range(j1, j2)):
                kind = tag if tag != "replace" else (
                    "replace" if left is not None and right is not None else
                    "delete" if left is not None else "insert")
                rows.append(Row(kind, None if left is None else left + 1,
                                "" if left is None else a[left],
                                None if right is None else right + 1,
                                "" if right is None else b[right]))
                if len(rows) >= MAX_DIFF_ROWS:
                    rows.append(Row("gap", left="(diff truncated)"))
                    return rows
    return rows


def page_lines(document: Any) -> list[str] | None:
    """The text lines of a page document, or None when it is not one."""
    if isinstance(document, dict) and isinstance(document.get("lines"), list):
        return [text_of(x) for x in document["lines"]]
    return None


# --- snapshot documents ---------------------------------------------------------------


@dataclass
class Block:
    """One part of a normalised document: a table, lines, fields or raw JSON."""

    kind: str  # table | lines | fields | json
    title: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    fields: list[tuple[str, Any]] = field(default_factory=list)
    text: str = ""


def document_blocks(data: Any, title: str = "document") -> list[Block]:
    """A document as tables (lists of records), lines, fields, or JSON as a last resort."""
    if isinstance(data, list):
        if data and all(isinstance(x, dict) for x in data):
            columns = list(dict.fromkeys(k for x in data for k in x))[:12]
            return [Block("table", title, columns=columns,
                          rows=[[x.get(c) for c in columns] for x in data[:5000]])]
        if all(isinstance(x, str) for x in data):
            return [Block("lines", title, lines=list(data))]
        return [Block("json", title, text=json.dumps(data, indent=2, ensure_ascii=False))]
    if isinstance(data, dict):
        scalars = [(k, v) for k, v in data.items() if not isinstance(v, list | dict)]
        blocks = [Block("fields", title, fields=scalars)] if scalars else []
        for k, v in data.items():
            if isinstance(v, list):
                blocks += document_blocks(v, k)
            elif isinstance(v, dict):
                if all(not isinstance(x, list | dict) for x in v.values()):
                    blocks.append(Block("fields", k, fields=list(v.items())))
                else:
                    blocks += document_blocks(v, k)
        return blocks
    return [Block("fields", title, fields=[("value", data)])]
