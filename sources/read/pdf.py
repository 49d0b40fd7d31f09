"""PDF bodies as text (pure): a system card, a red-team summary, a DPA published as PDF.

A body is a PDF when it starts (after whitespace or a BOM) with ``%PDF-``.
Its text is extracted page by page with pypdf, bounded: at most ``MAX_PAGES`` pages and
``MAX_CHARS`` characters are read (a hostile PDF's time is capped by the parse worker's
timeout, ``parse.timeout``). The text becomes Markdown the kinds already read: a line
that reads as a heading ("3. Data Processing", "SAFETY EVALUATIONS", "Model Overview")
becomes ``##`` and its words, the rest is joined into paragraphs; a page break is not a
change, and running page numbers ("Page 3 of 12", "- 3 -") are dropped.

The evidence keeps the PDF itself: the raw body a snapshot stores is the PDF.
"""

from __future__ import annotations

import io
import re

from config.errors import ParseError

MAGIC = b"%PDF-"
MAX_PAGES = 300  # a long system card is ~100 pages
MAX_CHARS = 2_000_000  # of extracted text, all pages together
HEADING_CHARS = 90  # a heading line is at most this long
HEADING_WORDS = 10

_PAGE_NUMBER = re.compile(r"^\s*(page\s+)?[-\u2013]?\s*\d{1,4}\s*[-\u2013]?\s*(of\s+\d{1,4})?\s*$",
                          re.I)
_NUMBERED = re.compile(r"^(\d{1,2}(\.\d{1,2}){0,3}\.?|[A-Z]\.|[IVX]{1,5}\.)\s+\S")
# "Knowledge cutoff: March 2025": a label of a few words, a colon, its value.
_LABELLED = re.compile(r"^[A-Z][\w()/&'-]*(\s[\w()/&'-]+){0,4}:\s+\S")
_SMALL = frozenset(["a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of",
                    "on", "or", "the", "to", "with", "via", "vs"])


def is_pdf(body: bytes) -> bool:
    """Whether ``body`` is a PDF: it starts with the magic (after whitespace or a BOM);
    a page that merely mentions ``%PDF-`` is not one."""
    return body[:64].lstrip(b"\xef\xbb\xbf\x00\t\r\n ").startswith(MAGIC)


def pdf_pages(body: bytes, max_pages: int = MAX_PAGES, max_chars: int = MAX_CHARS) -> list[str]:
    """The text of each page, at most ``max_pages`` pages and ``max_chars`` characters."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(body), strict=False)
        if reader.is_encrypted:
            try:
                reader.decrypt("")  # an owner password alone still lets text be read
            except Exception:
                raise ParseError("pdf: the document is encrypted") from None
        pages: list[str] = []
        total = 0
        for index, page in enumerate(reader.pages):
            if index >= max_pages:
                break
            text = page.extract_text() or ""
            text = text[:max_chars - total]
            total += len(text)
            pages.append(text)
            if total >= max_chars:
                break
    except ParseError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, OSError, ZeroDivisionError) as exc:
        raise ParseError(f"pdf: cannot read the document: {type(exc).__name__}: "
                         f"{str(exc)[:200]}") from None
    return pages


def pdf_markdown(body: bytes, max_pages: int = MAX_PAGES, max_chars: int = MAX_CHARS) -> str:
    """The PDF's text as Markdown: headings as ``##`` lines, paragraphs joined."""
    blocks: list[str] = []
    para: list[str] = []

    def end_paragraph() -> None:
        if para:
            blocks.append(" ".join(para))
            para.clear()

    for page in pdf_pages(body, max_pages, max_chars):
        for raw in page.splitlines():
            line = " ".join(raw.split())
            if not line:
                end_paragraph()
                continue
            if _PAGE_NUMBER.match(line):
                continue
            if _reads_as_heading(line) and not (para and para[-1].endswith((",", "-"))):
                end_paragraph()
                blocks.append("## " + line.lstrip("#").strip())
                continue
            if _LABELLED.match(line):  # "License: MIT", a fact on its own line
                end_paragraph()
                blocks.append(line)
                continue
            if para and para[-1].endswith("-") and line[:1].islower():
                para[-1] = para[-1][:-1] + line  # a word hyphenated across lines
                continue
            para.append(line)
            if line.endswith((".", ":", ";", "?", "!")) and len(line) < 60:
                end_paragraph()  # a short last line ends its paragraph
        end_paragraph()  # a page's last paragraph may go on: join only within a page
    return "\n\n".join(_escape(b) if not b.startswith("## ") else b for b in blocks) + "\n"


def _reads_as_heading(line: str) -> bool:
    closed = line.endswith((".", ",", ";", ":")) and not _NUMBERED.match(line)
    if len(line) > HEADING_CHARS or closed:
        return False
    words = line.split()
    if not words or len(words) > HEADING_WORDS or not any(c.isalpha() for c in line):
        return False
    if _NUMBERED.match(line) and not line.endswith((",", ";")):
        return words[1][:1].isupper() if len(words) > 1 else False
    letters = [c for c in line if c.isalpha()]
    if len(letters) >= 4 and all(c.isupper() for c in letters):
        return True
    significant = [w for w in words if w.lower() not in _SMALL]
    return len(words) >= 2 and all(w[:1].isupper() or not w[:1].isalpha()
                                   for w in significant)


def _escape(text: str) -> str:
    """A paragraph that Markdown would read as a heading, a quote or a table row kept a
    paragraph (a numbered or bulleted line stays a list item)."""
    if re.match(r"^(#|>|\|)", text):
        return "\\" + text
    return text
