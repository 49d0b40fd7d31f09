"""A changelog's raw entries from each format it comes in: RSS and Atom feeds, JSON
release lists, HTML pages, Markdown and MDX; cleaned and keyed (pure)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..base import BaseSettings
from ..read.dates import find_date, iso_date, struct_iso
from ..read.detect import detect, sniff_feed
from ..read.encoding import decode
from ..read.entries import html_entries, markdown_entries, page_roots, version_of
from ..read.feeds import read_feed
from ..read.html import fragment_lines, visible_lines
from ..read.json_records import as_text, json_items, load_json, pick
from ..read.text import clean_lines, clean_lines_again, looks_like_wall
from ..read.urls import clean_url

MAX_LINES, MAX_LINE = 300, 2000


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
    for entry in read_feed(body):
        html = entry.html
        stamp = struct_iso(entry.published) or struct_iso(entry.updated)
        title = " ".join((entry.title or "").split())
        link = clean_url(entry.link)
        out.append({"key": entry.id or link, "title": title, "link": link,
                    "date": stamp[:10] if stamp else None,
                    "lines": fragment_lines(html, markdown="<" not in html, code=True)})
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
                    "lines": fragment_lines(text, markdown=not re.search(r"<[a-z]", text),
                                            code=True)})
    return out


# The formats whose entries' lines are ``fragment_lines``', cleaned by ``clean_lines``.
_CLEANED = ("rss", "atom", "json")


def _raw_entries(body: bytes, settings: BaseSettings, fmt: str) -> list[dict[str, Any]]:
    if fmt in ("rss", "atom"):
        return _feed_entries(body)
    if fmt == "json":
        return _json_entries(load_json(body))
    if fmt == "html":
        found = html_entries(page_roots(body, settings.select), code=True)
        if len(found) > 2:
            return found
        page = visible_lines(page_roots(body, None))
        return [] if looks_like_wall(" ".join(page)) else found
    if fmt in ("markdown", "text"):
        return markdown_entries(decode(body), code=True)
    return []


def _ignore(text: str, rxs: list[re.Pattern[str]]) -> str:
    for rx in rxs:
        text = rx.sub("", text)
    return " ".join(text.split())


def _clean(raw: dict[str, Any], rxs: list[re.Pattern[str]],
           clean: Callable[[list[str]], list[str]] = clean_lines) -> dict[str, Any]:
    """Title and lines with noise and ``ignore`` matches removed; an untitled entry takes
    its first line as title. ``clean`` is ``clean_lines``, or ``clean_lines_again`` (the
    same result, cheaper) for lines ``clean_lines`` gave."""
    title = _ignore(raw.get("title") or "", rxs)
    lines = [_ignore(line, rxs)[:MAX_LINE] for line in clean(raw.get("lines") or [])]
    lines = [line for line in lines if line][:MAX_LINES]
    if not title and lines:
        title, lines = lines[0][:200], lines[1:]
    return {**raw, "title": title, "lines": lines}


_VERSION_LINE = 40  # a first line this short that names a version is the entry's version


def _version(entry: dict[str, Any]) -> str | None:
    """The version an entry's title names, else the one its first line names when that
    line is short: ``<Update label="Jun 10, 2026">`` then ``## v1.14.7rc2``."""
    found = version_of(entry.get("title") or "")
    lines = entry.get("lines") or []
    if found is None and lines and len(lines[0]) <= _VERSION_LINE:
        found = version_of(lines[0])
    return found


def _page_keys(raw: list[dict[str, Any]]) -> None:
    """Keys for entries of a page (no guid): the version its title (or its first short
    line) names when that is unique, else the title, with the date only to tell equal
    titles apart — so a re-dated or re-worded heading, or an edit to the text, is an edit,
    not a new release."""
    pending = [r for r in raw if r.get("key") in (None, "")]
    versions = [_version(r) for r in pending]
    titles = [" ".join(str(r.get("title") or "").split()) for r in pending]
    for item, version, title in zip(pending, versions, titles, strict=True):
        if version and versions.count(version) == 1:
            item["key"] = version
        elif titles.count(title) > 1 and item.get("date") and not find_date(title):
            item["key"] = f"{title} ({item['date']})"
        else:
            item["key"] = title


def raw_entries(body: bytes, settings: BaseSettings, limit: int) -> list[dict[str, Any]]:
    """The body's first ``limit`` entries ``{"key", "title", "date", "link", "lines"}``,
    ``ignore`` matches and noise removed, untitled ones dropped, each with a key."""
    rxs = [re.compile(p) for p in settings.ignore]
    fmt = _format(body, settings)
    clean = clean_lines_again if fmt in _CLEANED else clean_lines
    cleaned = [c for c in (_clean(r, rxs, clean)
                           for r in _raw_entries(body, settings, fmt)[:limit]) if c["title"]]
    _page_keys(cleaned)
    return cleaned
