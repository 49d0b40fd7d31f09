"""What format a body is in, told from its content rather than its URL or Content-Type."""

from __future__ import annotations

import json
import re

from ..base import Format
from .encoding import decode
from .markdown import MDX_LINE, split_front_matter

_XML_DECL = re.compile(rb"^\s*(<\?xml[^>]*\?>\s*)?(<!--.*?-->\s*)*", re.S)
_HTML_HINT = re.compile(rb"<(!doctype html|html|head|body|div|table|p|ul|h[1-6]|main|article)\b",
                        re.I)
_MD_HINT = re.compile(r"^(#{1,6} |\s*[-*] |\|.*\||---\s*$)", re.M)


def detect(body: bytes) -> Format:
    """Guess a body's format: html, rss, atom, json, csv, markdown or text."""
    head = body[:4096].lstrip()
    if head[:1] in (b"{", b"["):
        try:
            json.loads(body)
            return "json"
        except (ValueError, RecursionError):  # nested past what json reads: garbage
            pass
    stripped = _XML_DECL.sub(b"", head, count=1)
    low = stripped[:512].lower()
    if low.startswith(b"<rss") or low.startswith(b"<rdf:rdf") or b"<channel" in low[:200]:
        return "rss"
    if low.startswith(b"<feed"):
        return "atom"
    if _HTML_HINT.search(head[:2048]):
        return "html"
    text = decode(body[:8192])
    if text.startswith("---\n") or _MD_HINT.search(text):
        return "markdown"
    first = text.splitlines()[0] if text.strip() else ""
    if first.count(",") >= 1 and "," in text and len(text.splitlines()) > 1 and "<" not in first:
        return "csv"
    return "text"


_DOC_TAG = re.compile(r"<(!doctype\s+html|html|head|body)\b", re.I)
_MD_BLOCK = re.compile(r"^(#{1,6}\s+\S|\|.*\|\s*$|\s{0,3}[-*+]\s+\S|\s{0,3}\d+[.)]\s+\S)", re.M)


def detect_format(body: bytes, forced: Format | None) -> Format:
    """``detect``, unless forced, with Markdown that embeds HTML (model cards with
    ``<p align="center">``, MDX with components) or starts with front matter kept
    Markdown."""
    if forced:
        return forced
    head = decode(body[:16384]).lstrip("\ufeff \t\r\n")
    if head.startswith("---") and split_front_matter(head)[0] is not None:
        return "markdown"
    found = detect(body)
    if found == "html" and not _DOC_TAG.search(head[:4096]) and _MD_BLOCK.search(head):
        return "markdown"
    if found == "text" and MDX_LINE.search(head[:2048]) and "<" in head:
        return "markdown"
    return found


_FEED_ROOT = re.compile(rb"<(rss|rdf:RDF|feed)\b[^>]*>", re.I)


def sniff_feed(body: bytes) -> str | None:
    """``rss`` or ``atom`` for an XML feed that ``detect`` missed (a stylesheet processing
    instruction or a long comment before the root element)."""
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<"):
        return None
    m = _FEED_ROOT.search(head)
    if not m or re.search(rb"<(html|body)\b", head[:m.start()], re.I):
        return None
    return "atom" if m.group(1).lower() == b"feed" else "rss"
