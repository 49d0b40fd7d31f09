"""Bytes as text: a body decoded for the line-based formats, and the encodings an HTML
body may be in, in the order a browser settles on one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any


def decode(body: bytes) -> str:
    """Decode a body as UTF-8, falling back to latin-1 so parsing never fails on bytes."""
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("latin-1")


# A declared encoding: an XML declaration, else a <meta charset> or http-equiv.
_XML_ENCODING = re.compile(rb"^\s*<\?.*encoding=['\"](.*?)['\"].*\?>", re.I)
_HTML_META = re.compile(rb"<\s*meta[^>]+charset\s*=\s*[\"']?([^>]*?)[ /;'\">]", re.I)
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\x00\x00\xfe\xff", "utf-32be"),
         (b"\xff\xfe\x00\x00", "utf-32le"))


def strip_bom(data: bytes) -> tuple[bytes, str | None]:
    """The body without its byte-order mark, and the encoding the mark names."""
    if len(data) >= 4 and data[2:4] != b"\x00\x00":
        if data[:2] == b"\xfe\xff":
            return data[2:], "utf-16be"
        if data[:2] == b"\xff\xfe":
            return data[2:], "utf-16le"
    for mark, encoding in _BOMS:
        if data.startswith(mark):
            return data[len(mark):], encoding
    return data, None


def _declared(markup: bytes) -> str | None:
    match = _XML_ENCODING.search(markup, 0, 1024)
    if not match:
        match = _HTML_META.search(markup, 0, max(2048, int(len(markup) * 0.05)))
    found = match.groups()[0] if match is not None else None
    return found.decode("ascii", "replace").lower() if found else None


@cache
def _detector() -> Any | None:
    """A character set detector, when one is installed (charset-normalizer comes with
    the HTTP stack): for bodies that say nothing of their encoding."""
    import importlib

    for name in ("cchardet", "chardet", "charset_normalizer"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def encodings(markup: bytes, sniffed: str | None) -> Iterator[str]:
    """The encodings to try, in order, for a body without its byte-order mark; the
    detector runs only when neither a mark nor a declaration decided."""
    tried: set[str] = set()

    def fresh(encoding: str) -> bool:
        if encoding.lower() in tried:
            return False
        tried.add(encoding.lower())
        return True

    for found in (sniffed, _declared(markup)):
        if found is not None and fresh(found):
            yield found
    detector = _detector()
    guess: str | None = detector.detect(markup)["encoding"] if detector is not None else None
    if guess is not None and fresh(guess):
        yield guess
    for encoding in ("utf-8", "windows-1252"):
        if fresh(encoding):
            yield encoding
