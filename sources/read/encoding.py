"""Bytes as text: a body decoded for the line-based formats, the encodings an HTML
body may be in (in the order a browser settles on one, except that bytes which are
valid UTF-8 are read as UTF-8 whatever a page declares: "Müller" in UTF-8 declared as
ISO-8859-1 is "Müller", never "MÃ¼ller"), and whether a body is text at all."""

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

    declared = _declared(markup)
    if sniffed is None and declared is not None and _utf8_mislabelled(markup, declared):
        sniffed = "utf-8"  # the bytes say UTF-8 louder than the declaration says otherwise
    for found in (sniffed, declared):
        if found is not None and fresh(found):
            yield found
    detector = _detector()
    guess: str | None = detector.detect(markup)["encoding"] if detector is not None else None
    if guess is not None and fresh(guess):
        yield guess
    for encoding in ("utf-8", "windows-1252"):
        if fresh(encoding):
            yield encoding


# Single-byte encodings a page may declare while its bytes are UTF-8 (a CMS template's
# old meta tag): UTF-8's multi-byte sequences read in them are the "Ã¼" of mojibake.
_SINGLE_BYTE = re.compile(r"^(iso[-_]?8859[-_]?\d+|latin[-_]?\d|l\d|windows[-_]?125\d|"
                          r"cp125\d|us-ascii|ascii|iso[-_]?646.*)$")


def _utf8_mislabelled(markup: bytes, declared: str) -> bool:
    """Bytes with non-ASCII that are valid UTF-8, declared in a single-byte encoding:
    random Latin-1 text is almost never valid UTF-8, so the bytes decide."""
    if not _SINGLE_BYTE.match(declared.strip().lower()) or markup.isascii():
        return False
    try:
        markup.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# Above this share of characters that are no text (controls, NULs, undecodable bytes),
# a body is not text in any encoding: random bytes, a binary served as a page.
NOT_TEXT_SHARE = 0.02
_SAMPLE = 65536


# Control characters other than tab, newline, form feed and carriage return; C1 controls
# and DEL; U+FFFD. One regex scan (C), not a Python test per character.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")


def undecodable(body: bytes) -> str | None:
    """Why a (text format) body does not decode cleanly, or ``None`` when it does.

    UTF-8 first, else Windows-1252; what is left counts: control characters other than
    whitespace, NULs, U+FFFD and bytes neither encoding defines. A PDF is never text.
    """
    if body.startswith(b"%PDF-"):
        return None
    sample, _ = strip_bom(body[:_SAMPLE])
    if not sample:
        return None
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3:  # a character cut by the sample's end
            text = sample[:exc.start].decode("utf-8", "replace")
        else:
            text = sample.decode("windows-1252", "replace")
    bad = len(_NOT_TEXT.findall(text))
    if bad > NOT_TEXT_SHARE * len(text):
        return (f"undecodable: {bad} of the first {len(text)} characters are no text "
                "(binary or corrupt bytes?)")
    return None
