"""A fast path for ``feeds.parse_feed``: plain Atom 1.0 and RSS 2.0 read with lxml.

feedparser builds every feed through Python SAX callbacks (~8 ms for a 40 KB status feed
on the benchmark machine); lxml parses the same bytes in C in ~0.2 ms. This module reads
the entry fields the kinds use — ``id``, ``title``, ``link``, ``content``, ``summary``
(``description``), ``published``/``updated`` and their ``_parsed`` forms — exactly as
feedparser gives them (its whitespace stripping, link/guid precedence, URI fix-up,
UTF-8 and cp1252 repairs, its own date parser), and nothing else:

* a feed outside the plain shapes (not well-formed, another encoding, a DOCTYPE,
  ``xml:base``, an entry child this module does not know, a duplicated field, markup
  inside a text field, a non-text content type, …) returns ``None`` and feedparser
  reads it, so anything unusual keeps feedparser's exact behaviour;
* any other key or attribute a kind asks for (``author``, ``tags``, ``feed``, ``bozo``
  …) is answered by running feedparser on the same bytes, once, on first use.

``tests/test_fastparse.py`` checks that every kind's documents are identical with the
fast path on and off, over the file cases and the simulated vendor site's feeds.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from typing import Any

from lxml import etree

try:  # feedparser's own pieces, so dates and repairs are its, not a re-implementation
    from feedparser.datetimes import _date_handlers, _parse_date
    from feedparser.datetimes.w3dtf import _parse_date_w3dtf
    from feedparser.mixin import _cp1252
except ImportError:  # pragma: no cover - another feedparser: no fast path
    _parse_date = None
    _cp1252 = None

# Off: every call takes the original path (``REASSESS_NO_FASTPATH=1``, or tests).
ENABLED = os.environ.get("REASSESS_NO_FASTPATH", "") in ("", "0")
ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"
MEDIA = "{http://search.yahoo.com/mrss/}"

FIELDS = frozenset({"id", "guid", "title", "link", "content", "summary", "description",
                    "published", "published_parsed", "updated", "updated_parsed"})
_ALIASES = {"guid": "id", "description": "summary"}
_HTML_TYPES = {"application/xhtml+xml", "text/html"}
_URIFIXER = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*://)(/*)(.*?)")
_ENTITY_FIX = re.compile(r"&([A-Za-z0-9_]+);")
# The date every Statuspage feed writes; what feedparser's first date handler,
# ``_parse_date_w3dtf``, reads as ``datetime(...) - timedelta(0)`` (see ``_date``).
_ZULU = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")
_DECL = re.compile(rb"^(\xef\xbb\xbf)?\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']")

# Entry children that never touch the fields above (feedparser files them elsewhere).
_INERT_ATOM = {"author", "contributor", "category", "rights"}
_INERT_RSS = {"author", "category", "comments", "enclosure"}
_INERT_NS = {DC + "creator", DC + "subject", MEDIA + "thumbnail", MEDIA + "content"}


class _Unsupported(Exception):
    """The feed is outside what this module reproduces exactly: use feedparser."""


def parse(body: bytes, slow: Callable[[bytes], Any]) -> Any | None:
    """The entries of a plain Atom/RSS 2.0 feed, or None when feedparser must read it.

    ``slow`` is feedparser as ``parse_feed`` runs it; it answers whatever this module
    does not (called at most once, only when such a key is asked for).
    """
    if _parse_date is None or _cp1252 is None:
        return None
    try:
        items, atom = _items(body)
        entries = [_entry(item, atom) for item in items]
    except _Unsupported:
        return None
    return FastFeed(body, entries, slow)


def _items(body: bytes) -> tuple[list[Any], bool]:
    decl = _DECL.match(body)
    if decl and decl.group(2).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise _Unsupported("encoding")
    head = body[:4096]
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head or b"xml:base" in body or \
            b" base=" in body:
        raise _Unsupported("doctype or xml:base")
    try:
        body.decode("utf-8")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        root = etree.fromstring(body, parser)
    except (ValueError, etree.XMLSyntaxError) as exc:
        raise _Unsupported("not well-formed") from exc
    if parser.error_log:
        raise _Unsupported("parser warnings")
    if root.tag == ATOM + "feed":
        entries = root.findall(ATOM + "entry")
        if len(entries) != sum(1 for _ in root.iter(ATOM + "entry")):
            raise _Unsupported("nested entries")
        return entries, True
    if root.tag == "rss" and root.get("version") in ("2.0", "2.0.1", "2.01"):
        channels = root.findall("channel")
        if len(channels) != 1 or (root.find(".//item") is not None and \
                len(root.findall("channel/item")) != len(list(root.iter("item")))):
            raise _Unsupported("items outside the channel")
        return channels[0].findall("item"), False
    raise _Unsupported("not Atom 1.0 or RSS 2.0")


def _raw(el: Any) -> str:
    """An element's text, stripped as feedparser's ``pop`` does (no markup inside)."""
    if len(el):
        raise _Unsupported("markup inside a text field")
    return (el.text or "").strip()


def _repair(out: str) -> str:
    """feedparser's repairs of every text value: UTF-8 read as latin-1, then cp1252."""
    if out.isascii():  # neither repair changes ASCII
        return out
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        out = out.encode("iso-8859-1").decode("utf-8")
    return out.translate(_cp1252)


def _text(el: Any) -> str:
    return _repair(_raw(el))


def _uri(value: str) -> str:
    """``_URIFIXER.sub(r"\\1\\3", value)`` (feedparser's): the slashes after ``scheme://``
    go. The match is anchored and its last group lazy, so it spans groups 1 and 2."""
    m = _URIFIXER.match(value)
    if m is None or m.start(2) == m.end(2):
        return value
    return value[:m.end(1)] + value[m.end(2):]


def _date(value: str) -> time.struct_time | None:
    """feedparser's ``_parse_date``. Its first handler, ``_parse_date_w3dtf``, reads
    ``YYYY-MM-DDTHH:MM:SSZ`` as ``(datetime(...) - timedelta(0)).utctimetuple()``; that
    shape is read here the same way, anything else (or an invalid date, which the other
    handlers get) by feedparser."""
    m = _ZULU.fullmatch(value)
    if m is not None and _date_handlers[0] is _parse_date_w3dtf:
        y, mo, d, h, mi, s = m.groups()
        try:
            return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s)).utctimetuple()
        except ValueError:
            pass
    return _parse_date(value)  # type: ignore[no-any-return]


_CONTENT_TYPES = {"text": "text/plain", "plain": "text/plain", "html": "text/html",
                  "xhtml": "application/xhtml+xml"}


def _content_type(value: str | None, default: str) -> str:
    kind = (value or default).lower()
    kind = _CONTENT_TYPES.get(kind, kind)
    if kind not in ("text/plain", "text/html"):
        raise _Unsupported("content type")
    return kind


def _entry(item: Any, atom: bool) -> dict[str, Any]:
    """One entry's fields, following feedparser's order-dependent assignments."""
    data: dict[str, Any] = {}
    seen: set[str] = set()
    known = _ATOM_CHILDREN if atom else _RSS_CHILDREN
    for child in item:
        tag = child.tag
        if tag in known:  # a usual child, resolved as below once for all
            spec = known[tag]
            if spec is None:
                continue
            name, key = spec
            if key in seen:
                raise _Unsupported(f"two {key} fields")
            seen.add(key)
            _apply(data, name, key, child, atom)
            continue
        if not isinstance(tag, str):
            continue  # comments and processing instructions
        if atom and tag.startswith(ATOM):
            name = tag[len(ATOM):]
        elif not atom and "{" not in tag:
            name = tag.lower()
        elif tag == CONTENT + "encoded" and not atom:
            name = "content:encoded"
        elif tag in _INERT_NS:
            continue
        else:
            raise _Unsupported(f"entry child {tag}")
        if name in (_INERT_ATOM if atom else _INERT_RSS):
            continue
        key = _field(name, atom)
        if key in seen:
            raise _Unsupported(f"two {key} fields")
        seen.add(key)
        _apply(data, name, key, child, atom)
    return data


_ATOM_FIELDS = {"id": "id", "title": "title", "link": "link", "content": "content",
                "summary": "summary", "published": "published", "updated": "updated"}
_RSS_FIELDS = {"guid": "id", "title": "title", "link": "link", "description": "summary",
               "content:encoded": "content", "pubdate": "published"}


# Entry child tag → (name, field) as ``_entry`` resolves it, or None for an inert child.
_ATOM_CHILDREN: dict[Any, tuple[str, str] | None] = {
    **{ATOM + name: (name, key) for name, key in _ATOM_FIELDS.items()},
    **{ATOM + name: None for name in _INERT_ATOM}, **dict.fromkeys(_INERT_NS)}
_RSS_CHILDREN: dict[Any, tuple[str, str] | None] = {
    **{name: (name, key) for name, key in _RSS_FIELDS.items() if ":" not in name},
    "pubDate": ("pubdate", "published"), CONTENT + "encoded": ("content:encoded", "content"),
    **dict.fromkeys(_INERT_RSS), **dict.fromkeys(_INERT_NS)}


def _field(name: str, atom: bool) -> str:
    names = _ATOM_FIELDS if atom else _RSS_FIELDS
    if name not in names:
        raise _Unsupported(f"entry child {name}")
    return names[name]


def _apply(data: dict[str, Any], name: str, key: str, child: Any, atom: bool) -> None:
    if key == "id":
        attrs = _lower_attrs(child)
        permalink = atom or attrs.get("ispermalink", "true") == "true"
        value = _raw(child)
        if permalink and value:
            value = _uri(value)
        value = _repair(value)
        data["id"] = value
        if permalink:
            data.setdefault("link", value)
    elif key == "link":
        _link(data, child, atom)
    elif key == "title":
        _content_type(child.get("type"), "text/plain")
        data["title"] = _text(child)
    elif key == "content":
        if child.get("src") is not None or child.get("mode") is not None:
            raise _Unsupported("content src or mode")
        kind = _content_type(child.get("type"), "text/plain" if atom else "text/html")
        value = _text(child)
        data["content"] = [{"type": kind, "language": _language(child), "base": "",
                            "value": value}]
        data.setdefault("summary", value)
    elif key == "summary":
        if child.get("mode") is not None:
            raise _Unsupported("summary mode")
        _content_type(child.get("type"), "text/plain" if atom else "text/html")
        data["summary"] = _text(child)
    else:  # published / updated
        value = _text(child)
        data[key] = value
        data[f"{key}_parsed"] = _date(value)


def _lower_attrs(el: Any) -> dict[str, str]:
    """Attributes by lower-case name, as feedparser sees them (no namespaced ones)."""
    items = el.items()
    if not items:
        return {}
    attrs = {k.lower(): v for k, v in items}
    if len(attrs) != len(items) or any(k.startswith("{") for k in attrs):
        raise _Unsupported("attributes feedparser would read differently")
    return attrs


_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _language(el: Any) -> str | None:
    """feedparser's ``language`` of a content element: the nearest xml:lang (or lang)."""
    while el is not None:
        lang = el.get(_XML_LANG)
        if lang is None:
            lang = el.get("lang")
        if lang is not None:
            return lang.replace("_", "-") if lang else None
        el = el.getparent()
    return None


def _link(data: dict[str, Any], child: Any, atom: bool) -> None:
    attrs = _lower_attrs(child)
    href = attrs.get("url", attrs.get("uri", attrs.get("href")))
    if not href:
        if atom and attrs:
            raise _Unsupported("atom link without href")
        value = _raw(child)
        if value:
            value = _uri(value)
        value = _repair(value)
        value = _ENTITY_FIX.sub(r"&\g<1>", value.replace("&amp;", "&"))
        data["link"] = value
        return
    if len(child) or (child.text or "").strip():
        raise _Unsupported("link with both href and text")
    rel = (attrs.get("rel") or "alternate").lower()
    kind = attrs.get("type")
    kind = (kind.lower() if kind else ("application/atom+xml" if rel == "self" else
                                       "text/html"))
    kind = {"html": "text/html", "xhtml": "application/xhtml+xml"}.get(kind, kind)
    if rel == "alternate" and kind in _HTML_TYPES:
        data["link"] = _uri(href)


class _Entry(dict):  # type: ignore[type-arg]
    """An entry with the fast fields; any other key comes from feedparser's entry."""

    def __init__(self, feed: FastFeed, index: int, data: dict[str, Any]) -> None:
        super().__init__(data)
        self._feed, self._index = feed, index

    def _slow(self) -> Any:
        return self._feed.slow_entry(self._index)

    def __getitem__(self, key: str) -> Any:
        if key not in FIELDS:
            return self._slow()[key]
        key = _ALIASES.get(key, key)
        if key in ("updated", "updated_parsed") and not dict.__contains__(self, key):
            other = key.replace("updated", "published")
            if dict.__contains__(self, other):
                warnings.warn("To avoid breaking existing software while fixing issue 310, a "
                              "temporary mapping has been created from `updated` to "
                              "`published` if `updated` doesn't exist. This fallback will be "
                              "removed in a future version of feedparser.",
                              DeprecationWarning, stacklevel=2)
                return dict.__getitem__(self, other)
        return dict.__getitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        if key in FIELDS:  # held: what ``self[key]`` gives, without its detours
            held = _ALIASES.get(key, key)
            if dict.__contains__(self, held):
                return dict.__getitem__(self, held)
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        if key not in FIELDS:
            return key in self._slow()
        return dict.__contains__(self, _ALIASES.get(str(key), str(key)))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class FastFeed:
    """``entries`` read fast; everything else (``feed``, ``bozo`` …) from feedparser."""

    def __init__(self, body: bytes, entries: list[dict[str, Any]],
                 slow: Callable[[bytes], Any]) -> None:
        self._body, self._slow_parse = body, slow
        self._slow_result: Any = None
        self.entries = [_Entry(self, i, e) for i, e in enumerate(entries)]

    def _slow(self) -> Any:
        if self._slow_result is None:
            self._slow_result = self._slow_parse(self._body)
        return self._slow_result

    def slow_entry(self, index: int) -> Any:
        return self._slow().entries[index]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._slow(), name)

    def __getitem__(self, key: str) -> Any:
        return self.entries if key == "entries" else self._slow()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.entries if key == "entries" else self._slow().get(key, default)
