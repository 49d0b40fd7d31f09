"""changelog — release notes and changelogs, as entries keyed by a stable id.

Formats (detected from the content, or forced with ``format:``):

* RSS 1.0/2.0 and Atom feeds, GitHub ``releases.atom`` included (HTML content read as text);
* Markdown and MDX: ``CHANGELOG.md`` (Keep a Changelog, release-please), docs-site pages
  with front matter, ``<Update label="…" description="…">``-style components, and bare
  date lines ("March 12, 2025", "**2025-03-12**") each followed by its list;
* HTML pages whose entries are headings (dated or versioned, at any level) with their
  following content, ``<article>`` elements, or dated list items (a heading's anchor link,
  a zero-width space or "Direct link" as docs sites write it, is not part of the title);
* JSON lists of releases (GitHub REST ``/releases``, JSON Feed, ``{"entries": [...]}``).

Each entry holds its key (feed guid or link without tracking parameters; else the version
its heading — or its first short line — names, else heading and date), title, date, link
and text lines. Feed-level dates, entry order, ``updated`` stamps, "3 days ago", "Last
updated: …", scripts, styles, hidden elements, navigation and markup are not part of it.

Changes: entries added, removed (a feed that keeps only its latest N drops old ones) or
edited (title or text). A retitled entry with the same text is an edit, not a new entry;
so is an entry whose key changed with the page's structure — headings that gain version
numbers, two releases that come to share a date and are grouped under it, entries merged
or split — found again by its lines and versions (an entry naming another version is
never the same one).

Triggers (the changelog rule classifies the statements of new and edited entries only): a
new entry fires ``model_change`` (new or updated model versions, default-model
switches, deprecations, retirements), ``new_capability`` (modalities, tool use / function
calling, browsing, agents, fine-tuning, memory, new endpoints), ``training_data_change``
(training on or retaining customer data) and/or ``policy_change`` — as many as its
statements support; entities name the models and capabilities as the entry writes them
("Claude Fable 5", "gpt-4.1-mini", "Sonnet", "audio input"; a capability's tag goes in the
evidence). Model names come from the ``model_families`` vocabulary (a family with its
versions and variants; a family alone where a model is added, retired or switched to; an
id in backticks where the entry speaks of models: every reader keeps inline code's
backticks in an entry's text; a capitalised name and a version, "Nimbus 2 Pro", where a
statement adds, launches or supports models and names no known one), capabilities from
the ``capabilities`` vocabulary (several-word phrases as written, a single word in a
capability's shape: "file support", "support for MCP"); the config's ``vocabulary:`` adds
to both. Unclassified
entries and removals fire nothing; an edit fires only when it brings a type or a named
model / capability the entry did not have. Items of fixes, docs, dependencies and chores
sections are skipped, and so are chores, except one that retires a model it names
("chore(models): remove obsolete Grok 2 models").

Options besides ``select``, ``ignore`` and ``format``:

* ``classify``: extra regexes per trigger type, added to the built-in patterns;
* ``exclude``: regexes; statements matching one never classify;
* ``builtin_rules``: ``false`` keeps only your own ``classify`` patterns.

Example::

    - id: acme-changelog
      kind: changelog
      url: https://docs.acme.example/changelog
      select: "main"
      classify:
        model_change: ["\\\\bnimbus-\\\\d+\\\\b"]
        new_capability: ["\\\\bcanvas\\\\b"]
      exclude: ["^Beta:"]
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import Any, Literal

from pydantic import Field, field_validator

from config.errors import ParseError

from ..base import BaseSettings, Change, Document
from ..read.dates import DATE_RX
from ..read.entries import VERSION_RX, has_version
from ..read.text import check_regexes
from ..read.urls import clean_key
from .match import merged, rekeyed
from .releases import raw_entries

NAME = "changelog"
PARSER_VERSION = "4"  # 4: inline code keeps its backticks; 3: bare date lines are entries
INTERVAL = 3600.0  # seconds: checked every hour unless the config says otherwise
RULES = "triggers.changelog:changelog_rule"  # its rule in triggers/, named
MAX_ENTRIES = 500

ClassifyType = Literal["model_change", "new_capability", "training_data_change",
                       "policy_change"]


class Settings(BaseSettings):
    """``classify`` (extra regexes per trigger type), ``exclude``, ``builtin_rules``: options
    of the rule that classifies the entries (``triggers/changelog.py``), set per source."""

    classify: dict[ClassifyType, tuple[str, ...]] = Field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    builtin_rules: bool = True

    @field_validator("classify")
    @classmethod
    def _regexes(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for kind, patterns in value.items():
            check_regexes(patterns, f"classify.{kind}")
        return value

    @field_validator("exclude", "ignore")
    @classmethod
    def _exclude(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return check_regexes(value, "pattern")


def _entry(raw: dict[str, Any]) -> dict[str, Any]:
    return {"id": clean_key(raw.get("key") or raw["title"]), "title": raw["title"],
            "date": raw.get("date"), "link": raw.get("link"), "text": raw["lines"]}


def parse(body: bytes, settings: BaseSettings) -> Document:
    try:
        raw = raw_entries(body, settings, MAX_ENTRIES)
    except ParseError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ParseError(f"cannot read changelog entries: {exc}") from exc
    built = [_entry(item) for item in raw]
    counts = Counter(entry["id"] for entry in built)
    entries: dict[str, dict[str, Any]] = {}
    for entry in built:
        if counts[entry["id"]] > 1:  # equal keys told apart by content, never by position
            digest = hashlib.sha256("\n".join(entry["text"]).encode()).hexdigest()[:8]
            entry["id"] = f"{entry['id']} #{digest}"
        key, n = entry["id"], 2
        while entry["id"] in entries:
            entry["id"] = f"{key} #{n}"
            n += 1
        entries[entry["id"]] = entry
    data = {"entries": [entries[k] for k in sorted(entries)]}
    return Document(kind=NAME, data=data, parser_version=PARSER_VERSION)


def diff(old: Document, new: Document) -> list[Change]:
    """Entries added, removed and edited. An entry under a new key that says what an old
    one said is that entry: retitled (the same text), or re-keyed by a change of the
    page's structure (``match.rekeyed``: its lines and versions found in entries that
    disappeared) — an edit of those, with ``key`` among its fields, never a new entry."""
    old_entries, new_entries = old.data.get("entries", []), new.data.get("entries", [])
    before = {e["id"]: e for e in old_entries}
    after = {e["id"]: e for e in new_entries}
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    changes: list[Change] = []
    by_text: dict[tuple[str, ...], str] = {}
    for key in removed:
        if before[key]["text"]:
            by_text.setdefault(tuple(before[key]["text"]), key)
    renamed: dict[str, str] = {}
    for key in added:
        old_key = by_text.pop(tuple(after[key]["text"]), None)
        if old_key is not None:
            renamed[key] = old_key
    gone = set(renamed.values())
    moved = rekeyed({k: after[k] for k in added if k not in renamed},
                    {k: before[k] for k in removed if k not in gone}, old_entries, new_entries)
    for key in added:
        if key in renamed:
            changes.append(Change("modified", key, before[renamed[key]], after[key],
                                  path="entry", fields=("title",)))
        elif key in moved:
            was = merged([before[k] for k in moved[key]])
            fields = tuple(f for f in ("title", "text") if was[f] != after[key][f])
            changes.append(Change("modified", key, was, after[key], path="entry",
                                  fields=(*fields, "key")))
            gone.update(moved[key])
        else:
            changes.append(Change("added", key, None, after[key], path="entry"))
    for key in sorted(before.keys() & after.keys()):
        fields = tuple(f for f in ("title", "text") if before[key][f] != after[key][f])
        if fields:
            changes.append(Change("modified", key, before[key], after[key], path="entry",
                                  fields=fields))
    changes += [Change("removed", key, before[key], None, path="entry")
                for key in removed if key not in gone]
    return changes


def size(document: Document) -> int:
    return len(document.data.get("entries", []))


_HEADER_LINE = re.compile(r"^(full changelog|what'?s changed|new contributors)\b", re.I)


def _summary(entry: dict[str, Any]) -> str:
    """What an entry is about: its first line that is more than a version, a date or a
    section heading."""
    title = str(entry.get("title") or "")
    for line in entry.get("text") or []:
        bare = VERSION_RX.sub("", line)
        bare = DATE_RX.sub("", bare).strip(" ()[]-–—:#⚠")
        if len(bare) > 12 and line not in title and not _HEADER_LINE.match(line):
            return line[:160]
    return ""


def describe(change: Change) -> str:
    entry = change.after if change.after is not None else change.before
    title = str(entry.get("title") or entry.get("id"))
    if change.op == "removed":
        return f"Entry removed: {title}"
    if change.op == "modified":
        old = set(change.before.get("text") or [])
        new_line = next((ln for ln in entry.get("text") or [] if ln not in old), "")
        if "key" in change.fields and not new_line:
            return f"Entry re-keyed: {change.before.get('title')} → {title}"
        if "title" in change.fields and "text" not in change.fields:
            return f"Entry retitled: {change.before.get('title')} → {title}"
        return f"Entry edited: {title}" + (f": {new_line[:160]}" if new_line else "")
    summary = _summary(entry)
    if has_version(title):
        return f"Release {title}: {summary}" if summary else f"Release {title}"
    return f"New entry: {title} — {summary}" if summary else f"New entry: {title}"
