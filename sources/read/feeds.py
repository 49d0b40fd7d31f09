"""RSS and Atom feeds as entries: lxml reads plain Atom 1.0 and RSS 2.0, feedparser the rest.

An entry is what the kinds read of it: id, title, link, its HTML (content, else summary
or description) and its published and updated dates, as feedparser gives them — its
whitespace stripping, link and guid precedence, URI fix-up, UTF-8 and cp1252 repairs and
its own date parser, which the lxml reader calls. A feed outside the plain shapes (not
well-formed, another encoding than UTF-8, a DOCTYPE, ``xml:base``, an entry child the
reader does not know, a duplicated field, markup inside a text field, a content type
other than text or HTML, RSS 0.9x or 1.0 …) is declined as a whole and feedparser reads
it: a feed read either way gives the same entries (``tests/test_read.py``), so one that
changes shape does not look changed.

feedparser is run on bytes only (wrapped in a stream, so a body is never mistaken for a
URL or a file name), without relative-URI resolution or sanitising. lxml and feedparser
are imported with the first feed read.
"""

from __future__ import annotations

import contextlib
import io
import re
import time
import warnings
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One entry of a feed, its fields as feedparser names them."""

    id: str | None = None
    title: str | None = None
    link: str | None = None
    content: str | None = None  # the first content element's value
    summary: str | None = None  # summary or description (feedparser's ``summary``)
    published: time.struct_time | None = None  # ``published_parsed``, UTC
    updated: time.struct_time | None = None  # ``updated_parsed``, UTC

    @property
    def html(self) -> str:
        """What the entry says: its content, else its summary."""
        return self.content or self.summary or ""


def read_feed(body: bytes) -> list[FeedEntry]:
    """The entries of an RSS or Atom feed, in feed order."""
    try:
        return [_from_fields(fields) for fields in _lxml_entries(body)]
    except _Declined:
        return read_with_feedparser(body)


# A DOCTYPE's internal subset: entity declarations that expat would expand (a billion
# laughs took seconds of feedparser's per-character handling). Bounded repetitions only.
_SUBSET = re.compile(rb"<!DOCTYPE[^\[>]{0,1000}\[[^\]]{0,200000}\]\s*>", re.I)


def read_with_feedparser(body: bytes) -> list[FeedEntry]:
    import feedparser

    found = _SUBSET.search(body, 0, 250_000)
    if found is not None:  # its entities are then unknown references, read as text
        body = body[:found.start()] + body[found.end():]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = feedparser.parse(io.BytesIO(body), resolve_relative_uris=False,
                                  sanitize_html=False,
                                  response_headers={"content-location": "", "content-type":
                                                    "application/xml"})
    # dict.get: feedparser's own ``get`` maps a missing ``updated`` to ``published``
    return [_from_fields({k: dict.get(e, k) for k in _FIELDS}) for e in parsed.entries]


_FIELDS = ("id", "title", "link", "content", "summary", "published_parsed", "updated_parsed")


def _from_fields(fields: dict[str, Any]) -> FeedEntry:
    content = fields.get("content")
    return FeedEntry(id=fields.get("id"), title=fields.get("title"), link=fields.get("link"),
                     content=content[0].get("value") if content else None,
                     summary=fields.get("summary"),
                     published=fields.get("published_parsed"),
                     updated=fields.get("updated_parsed"))


# --- the lxml reader ---------------------------------------------------------------------

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"
MEDIA = "{http://search.yahoo.com/mrss/}"

_HTML_TYPES = {"application/xhtml+xml", "text/html"}
_URIFIXER = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*://)(/*)(.*?)")
_ENTITY_FIX = re.compile(r"&([A-Za-z0-9_]+);")
# The date every Statuspage feed writes; what feedparser's first date handler,
# ``_parse_date_w3dtf``, reads as ``datetime(...) - timedelta(0)`` (see ``_date``).
_ZULU = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")
_DECL = re.compile(rb"^(\xef\xbb\xbf)?\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']")

# Entry children that never touch the fields read (feedparser files them elsewhere).
_INERT_ATOM = {"author", "contributor", "category", "rights"}
_INERT_RSS = {"author", "category", "comments", "enclosure"}
_INERT_NS = {DC + "creator", DC + "subject", MEDIA + "thumbnail", MEDIA + "content"}


class _Declined(Exception):
    """A feed outside what the lxml reader reads as feedparser does: feedparser reads it."""


@cache
def _feedparser_parts() -> tuple[Any, Any, Any, Any]:
    """feedparser's date parser, its first date handler and its cp1252 repair table: the
    lxml reader's dates and repairs are feedparser's, not a re-implementation."""
    try:
        from feedparser.datetimes import _date_handlers, _parse_date
        from feedparser.datetimes.w3dtf import _parse_date_w3dtf
        from feedparser.mixin import _cp1252
    except ImportError as exc:  # a feedparser without them: it reads every feed itself
        raise _Declined("feedparser internals") from exc
    return _parse_date, _date_handlers, _parse_date_w3dtf, _cp1252


def _lxml_entries(body: bytes) -> list[dict[str, Any]]:
    parts = _feedparser_parts()
    items, atom = _items(body)
    return [_entry(item, atom, parts) for item in items]


def _items(body: bytes) -> tuple[list[Any], bool]:
    from lxml import etree  # with the first feed read, not with a kind

    decl = _DECL.match(body)
    if decl and decl.group(2).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise _Declined("encoding")
    head = body[:4096]
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head or b"xml:base" in body or \
            b" base=" in body:
        raise _Declined("doctype or xml:base")
    try:
        body.decode("utf-8")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        root = etree.fromstring(body, parser)
    except (ValueError, etree.XMLSyntaxError) as exc:
        raise _Declined("not well-formed") from exc
    if parser.error_log:
        raise _Declined("parser warnings")
    if root.tag == ATOM + "feed":
        entries = root.findall(ATOM + "entry")
        if len(entries) != sum(1 for _ in root.iter(ATOM + "entry")):
            raise _Declined("nested entries")
        return entries, True
    if root.tag == "rss" and root.get("version") in ("2.0", "2.0.1", "2.01"):
        channels = root.findall("channel")
        if len(channels) != 1 or (root.find(".//item") is not None and
                                  len(root.findall("channel/item"))
                                  != len(list(root.iter("item")))):
            raise _Declined("items outside the channel")
        return channels[0].findall("item"), False
    raise _Declined("not Atom 1.0 or RSS 2.0")


def _raw(el: Any) -> str:
    """An element's text, stripped as feedparser's ``pop`` does (no markup inside)."""
    if len(el):
        raise _Declined("markup inside a text field")
    return (el.text or "").strip()


def _repair(out: str, cp1252: Any) -> str:
    """feedparser's repairs of every text value: UTF-8 read as latin-1, then cp1252."""
    if out.isascii():  # neither repair changes ASCII
        return out
    with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
        out = out.encode("iso-8859-1").decode("utf-8")
    return out.translate(cp1252)


def uri(value: str) -> str:
    """``_URIFIXER.sub(r"\\1\\3", value)`` (feedparser's): the slashes after ``scheme://``
    go. The match is anchored and its last group lazy, so it spans groups 1 and 2."""
    m = _URIFIXER.match(value)
    if m is None or m.start(2) == m.end(2):
        return value
    return value[:m.end(1)] + value[m.end(2):]


def feed_date(value: str) -> time.struct_time | None:
    """feedparser's ``_parse_date``. Its first handler, ``_parse_date_w3dtf``, reads
    ``YYYY-MM-DDTHH:MM:SSZ`` as ``(datetime(...) - timedelta(0)).utctimetuple()``; that
    shape is read here the same way, anything else (or an invalid date, which the other
    handlers get) by feedparser."""
    parse_date, handlers, w3dtf, _ = _feedparser_parts()
    m = _ZULU.fullmatch(value)
    if m is not None and handlers[0] is w3dtf:
        y, mo, d, h, mi, s = m.groups()
        try:
            return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s)).utctimetuple()
        except ValueError:
            pass
    return parse_date(value)  # type: ignore[no-any-return]


_CONTENT_TYPES = {"text": "text/plain", "plain": "text/plain", "html": "text/html",
                  "xhtml": "application/xhtml+xml"}


def _content_type(value: str | None, default: str) -> str:
    kind = (value or default).lower()
    kind = _CONTENT_TYPES.get(kind, kind)
    if kind not in ("text/plain", "text/html"):
        raise _Declined("content type")
    return kind


_ATOM_FIELDS = {"id": "id", "title": "title", "link": "link", "content": "content",
                "summary": "summary", "published": "published", "updated": "updated"}
_RSS_FIELDS = {"guid": "id", "title": "title", "link": "link", "description": "summary",
               "content:encoded": "content", "pubdate": "published"}
# Entry child tag → (name, field), or None for an inert child.
_ATOM_CHILDREN: dict[Any, tuple[str, str] | None] = {
    **{ATOM + name: (name, key) for name, key in _ATOM_FIELDS.items()},
    **{ATOM + name: None for name in _INERT_ATOM}, **dict.fromkeys(_INERT_NS)}
_RSS_CHILDREN: dict[Any, tuple[str, str] | None] = {
    **{name: (name, key) for name, key in _RSS_FIELDS.items() if ":" not in name},
    "pubDate": ("pubdate", "published"), CONTENT + "encoded": ("content:encoded", "content"),
    **dict.fromkeys(_INERT_RSS), **dict.fromkeys(_INERT_NS)}


def _entry(item: Any, atom: bool, parts: tuple[Any, ...]) -> dict[str, Any]:
    """One entry's fields, following feedparser's order-dependent assignments."""
    data: dict[str, Any] = {}
    seen: set[str] = set()
    known = _ATOM_CHILDREN if atom else _RSS_CHILDREN
    for child in item:
        tag = child.tag
        if not isinstance(tag, str):
            continue  # a comment or a processing instruction
        if tag in known:
            spec = known[tag]
            if spec is None:
                continue  # inert
            name, key = spec
        else:
            name, key = _child_field(tag, atom)
        if not name:
            continue
        if key in seen:
            raise _Declined(f"two {key} fields")
        seen.add(key)
        _apply(data, key, child, atom, parts[3])
    return data


def _child_field(tag: str, atom: bool) -> tuple[str, str]:
    """(name, field) of an entry child outside the usual spellings; ("", "") when inert."""
    if atom and tag.startswith(ATOM):
        name = tag[len(ATOM):]
    elif not atom and "{" not in tag:
        name = tag.lower()
    elif tag == CONTENT + "encoded" and not atom:
        name = "content:encoded"
    elif tag in _INERT_NS:
        return "", ""
    else:
        raise _Declined(f"entry child {tag}")
    if name in (_INERT_ATOM if atom else _INERT_RSS):
        return "", ""
    names = _ATOM_FIELDS if atom else _RSS_FIELDS
    if name not in names:
        raise _Declined(f"entry child {name}")
    return name, names[name]


def _apply(data: dict[str, Any], key: str, child: Any, atom: bool, cp1252: Any) -> None:
    if key == "id":
        attrs = _lower_attrs(child)
        permalink = atom or attrs.get("ispermalink", "true") == "true"
        value = _raw(child)
        if permalink and value:
            value = uri(value)
        value = _repair(value, cp1252)
        data["id"] = value
        if permalink:
            data.setdefault("link", value)
    elif key == "link":
        _link(data, child, atom, cp1252)
    elif key == "title":
        _content_type(child.get("type"), "text/plain")
        data["title"] = _repair(_raw(child), cp1252)
    elif key == "content":
        if child.get("src") is not None or child.get("mode") is not None:
            raise _Declined("content src or mode")
        _content_type(child.get("type"), "text/plain" if atom else "text/html")
        value = _repair(_raw(child), cp1252)
        data["content"] = [{"value": value}]
        data.setdefault("summary", value)
    elif key == "summary":
        if child.get("mode") is not None:
            raise _Declined("summary mode")
        _content_type(child.get("type"), "text/plain" if atom else "text/html")
        data["summary"] = _repair(_raw(child), cp1252)
    else:  # published / updated
        data[f"{key}_parsed"] = feed_date(_repair(_raw(child), cp1252))


def _lower_attrs(el: Any) -> dict[str, str]:
    """Attributes by lower-case name, as feedparser sees them (no namespaced ones)."""
    items = el.items()
    if not items:
        return {}
    attrs = {k.lower(): v for k, v in items}
    if len(attrs) != len(items) or any(k.startswith("{") for k in attrs):
        raise _Declined("attributes feedparser would read differently")
    return attrs


def _link(data: dict[str, Any], child: Any, atom: bool, cp1252: Any) -> None:
    attrs = _lower_attrs(child)
    href = attrs.get("url", attrs.get("uri", attrs.get("href")))
    if not href:
        if atom and attrs:
            raise _Declined("atom link without href")
        value = _raw(child)
        if value:
            value = uri(value)
        value = _repair(value, cp1252)
        data["link"] = _ENTITY_FIX.sub(r"&\g<1>", value.replace("&amp;", "&"))
        return
    if len(child) or (child.text or "").strip():
        raise _Declined("link with both href and text")
    rel = (attrs.get("rel") or "alternate").lower()
    kind = attrs.get("type")
    kind = (kind.lower() if kind else ("application/atom+xml" if rel == "self" else
                                       "text/html"))
    kind = {"html": "text/html", "xhtml": "application/xhtml+xml"}.get(kind, kind)
    if rel == "alternate" and kind in _HTML_TYPES:
        data["link"] = uri(href)


def declines(body: bytes) -> bool:
    """Whether the lxml reader leaves this feed to feedparser."""
    try:
        _lxml_entries(body)
    except _Declined:
        return True
    return False
