"""changelog — release notes and changelogs, as entries keyed by a stable id.

Formats (detected from the content, or forced with ``format:``):

* RSS 1.0/2.0 and Atom feeds, GitHub ``releases.atom`` included (HTML content read as text);
* Markdown and MDX: ``CHANGELOG.md`` (Keep a Changelog, release-please), docs-site pages
  with front matter and ``<Update label="…" description="…">``-style components;
* HTML pages whose entries are headings (dated or versioned, at any level) with their
  following content, ``<article>`` elements, or dated list items;
* JSON lists of releases (GitHub REST ``/releases``, JSON Feed, ``{"entries": [...]}``).

Each entry holds its key (feed guid or link without tracking parameters; else heading and
date), title, date, link, text lines, and the statements the classifier found in it.
Feed-level dates, entry order, ``updated`` stamps, "3 days ago", "Last updated: …",
scripts, styles, hidden elements, navigation and markup are not part of it.

Changes: entries added, removed (a feed that keeps only its latest N drops old ones) or
edited (title or text). A retitled entry with the same text is an edit, not a new entry.

Triggers: a new entry fires ``model_change`` (new or updated model versions, default-model
switches, deprecations, retirements), ``new_capability`` (modalities, tool use / function
calling, browsing, agents, fine-tuning, memory, new endpoints), ``training_data_change``
(training on or retaining customer data) and/or ``policy_change`` — as many as its
statements support; entities name the models or capabilities. Unclassified entries and
removals fire nothing; an edit fires only when it brings a type or a named model /
capability the entry did not have.

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
from triggers.changelog import classify

from .base import BaseSettings, Change, Document
from .entries import (
    VERSION_RX,
    has_version,
    html_entries,
    markdown_entries,
    page_roots,
    version_of,
)
from .feeds import (
    DATE_RX,
    as_text,
    check_regexes,
    clean_key,
    clean_lines,
    clean_url,
    find_date,
    fragment_lines,
    iso_date,
    json_items,
    load_json,
    parse_feed,
    pick,
    quiet_soup,
    sniff_feed,
    struct_iso,
)
from .formats import decode, detect, text_lines
from .markup import looks_like_wall

NAME = "changelog"
PARSER_VERSION = "1"
INTERVAL = 3600.0  # seconds: checked every an hour unless the config says otherwise
RULES = "triggers.changelog:changelog_rule"  # its rule in triggers/, named
MAX_ENTRIES, MAX_LINES, MAX_LINE = 500, 300, 2000

ClassifyType = Literal["model_change", "new_capability", "training_data_change",
                       "policy_change"]


class Settings(BaseSettings):
    """``classify`` (extra regexes per trigger type), ``exclude``, ``builtin_rules``."""

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


_MD_SIGNS = re.compile(r"^(#{1,6} \S|---\s*$)|<Update\b|^\s*\[[^\]]+\]:\s*http", re.M)


def _format(body: bytes, settings: BaseSettings) -> str:
    if settings.format:
        return settings.format
    fmt: str = detect(body)
    if fmt not in ("json", "rss", "atom"):
        fmt = sniff_feed(body) or fmt
    if fmt == "html":
        head = decode(body[:4096]).lstrip().lower()
        if not head.startswith(("<!doctype", "<html", "<?xml")) and _MD_SIGNS.search(
                decode(body[:65536])):
            return "markdown"
    if fmt == "csv":
        return "markdown"
    return fmt


def _feed_entries(body: bytes) -> list[dict[str, Any]]:
    out = []
    for entry in parse_feed(body).entries:
        html = entry["content"][0].get("value") if entry.get("content") else None
        html = html or entry.get("summary") or entry.get("description") or ""
        stamp = struct_iso(entry.get("published_parsed")) or struct_iso(
            entry.get("updated_parsed"))
        title = " ".join((entry.get("title") or "").split())
        link = clean_url(entry.get("link"))
        out.append({"key": entry.get("id") or link, "title": title, "link": link,
                    "date": stamp[:10] if stamp else None,
                    "lines": fragment_lines(html, markdown="<" not in html)})
    return out


_J_ID = ("id", "guid", "tag_name", "version", "slug", "uuid")
_J_TITLE = ("name", "title", "tag_name", "version", "headline")
_J_BODY = ("body", "content_html", "content_text", "content", "description", "summary",
           "notes", "markdown", "html", "text", "changes")
_J_DATE = ("published_at", "date_published", "release_date", "releaseDate", "date",
           "published", "publishedAt", "created_at", "createdAt")
_J_LINK = ("html_url", "url", "link", "permalink")
_J_LISTS = ("releases", "entries", "items", "data", "results", "changelog", "changes",
            "updates", "posts", "versions", "news", "release", "entry", "item")


def _json_entries(data: Any) -> list[dict[str, Any]]:
    out = []
    for _, rec in json_items(data, _J_LISTS):
        if rec.get("draft") is True:
            continue
        body = pick(rec, _J_BODY)
        if isinstance(body, dict):  # {"added": [...], "fixed": [...]}
            body = "\n\n".join(f"### {k}\n\n" + "\n".join(
                f"- {as_text(i) or ''}" for i in (v if isinstance(v, list) else [v]))
                for k, v in body.items())
        if isinstance(body, list):
            body = "\n".join(f"- {as_text(b) or ''}" for b in body)
        text = str(body) if body is not None and not isinstance(body, dict) else ""
        link = clean_url(as_text(pick(rec, _J_LINK)))
        title = as_text(pick(rec, _J_TITLE)) or ""
        if not (title or text):
            continue
        out.append({"key": pick(rec, _J_ID) or link, "title": title, "link": link,
                    "date": iso_date(pick(rec, _J_DATE)),
                    "lines": fragment_lines(text, markdown=not re.search(r"<[a-z]", text))})
    return out


def _raw_entries(body: bytes, settings: BaseSettings) -> list[dict[str, Any]]:
    fmt = _format(body, settings)
    if fmt in ("rss", "atom"):
        return _feed_entries(body)
    if fmt == "json":
        return _json_entries(load_json(body))
    if fmt == "html":
        doc = quiet_soup(body)
        roots = page_roots(doc, settings.select)
        found = html_entries(doc, roots)
        if len(found) > 2:
            return found
        page = text_lines(page_roots(quiet_soup(body), None))
        return [] if looks_like_wall(" ".join(page)) else found
    if fmt in ("markdown", "text"):
        return markdown_entries(decode(body))
    return []


def _ignore(text: str, rxs: list[re.Pattern[str]]) -> str:
    for rx in rxs:
        text = rx.sub("", text)
    return " ".join(text.split())


def _clean(raw: dict[str, Any], rxs: list[re.Pattern[str]]) -> dict[str, Any]:
    """Title and lines with noise and ``ignore`` matches removed; an untitled entry takes
    its first line as title."""
    title = _ignore(raw.get("title") or "", rxs)
    lines = [_ignore(line, rxs)[:MAX_LINE] for line in clean_lines(raw.get("lines") or [])]
    lines = [line for line in lines if line][:MAX_LINES]
    if not title and lines:
        title, lines = lines[0][:200], lines[1:]
    return {**raw, "title": title, "lines": lines}


def _entry(raw: dict[str, Any], settings: Settings) -> dict[str, Any]:
    title, lines = raw["title"], raw["lines"]
    extra = {str(kind): patterns for kind, patterns in settings.classify.items()}
    signals = classify(title, lines, extra, settings.exclude, settings.builtin_rules)
    return {"id": clean_key(raw.get("key") or title), "title": title, "date": raw.get("date"),
            "link": raw.get("link"), "text": lines, "signals": signals}


def _page_keys(raw: list[dict[str, Any]]) -> None:
    """Keys for entries of a page (no guid): the version its title names when that is
    unique, else the title, with the date only to tell equal titles apart — so a re-dated
    or re-worded heading, or an edit to the text, is an edit, not a new release."""
    pending = [r for r in raw if r.get("key") in (None, "")]
    versions = [version_of(r.get("title") or "") for r in pending]
    titles = [" ".join(str(r.get("title") or "").split()) for r in pending]
    for item, version, title in zip(pending, versions, titles, strict=True):
        if version and versions.count(version) == 1:
            item["key"] = version
        elif titles.count(title) > 1 and item.get("date") and not find_date(title):
            item["key"] = f"{title} ({item['date']})"
        else:
            item["key"] = title


def parse(body: bytes, settings: BaseSettings) -> Document:
    opts = settings if isinstance(settings, Settings) else Settings.model_validate(
        settings.model_dump())
    try:
        raw = _raw_entries(body, opts)
    except ParseError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ParseError(f"cannot read changelog entries: {exc}") from exc
    rxs = [re.compile(p) for p in opts.ignore]
    cleaned = [c for c in (_clean(r, rxs) for r in raw[:MAX_ENTRIES]) if c["title"]]
    _page_keys(cleaned)
    built = [_entry(item, opts) for item in cleaned]
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
    before = {e["id"]: e for e in old.data.get("entries", [])}
    after = {e["id"]: e for e in new.data.get("entries", [])}
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
    for key in added:
        if key in renamed:
            changes.append(Change("modified", key, before[renamed[key]], after[key],
                                  path="entry", fields=("title",)))
        else:
            changes.append(Change("added", key, None, after[key], path="entry"))
    for key in sorted(before.keys() & after.keys()):
        fields = tuple(f for f in ("title", "text") if before[key][f] != after[key][f])
        if fields:
            changes.append(Change("modified", key, before[key], after[key], path="entry",
                                  fields=fields))
    gone = set(renamed.values())
    changes += [Change("removed", key, before[key], None, path="entry")
                for key in removed if key not in gone]
    return changes


def size(document: Document) -> int:
    return len(document.data.get("entries", []))


_HEADER_LINE = re.compile(r"^(full changelog|what'?s changed|new contributors)\b", re.I)


def _summary(entry: dict[str, Any]) -> str:
    """The statement that best says what an entry is about: its first classified one,
    else its first line that is more than a version, a date or a section heading."""
    title = str(entry.get("title") or "")
    signals = [s for s in entry.get("signals") or [] if s["text"] not in title]
    if signals:
        return str(signals[0]["text"])[:160]
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
        if "title" in change.fields and "text" not in change.fields:
            return f"Entry retitled: {change.before.get('title')} → {title}"
        return f"Entry edited: {title}" + (f": {new_line[:160]}" if new_line else "")
    summary = _summary(entry)
    if has_version(title):
        return f"Release {title}: {summary}" if summary else f"Release {title}"
    return f"New entry: {title} — {summary}" if summary else f"New entry: {title}"
