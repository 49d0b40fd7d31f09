"""Markup helpers for the structured kinds (subprocessors, model_card); pure.

* ``detect_format``: ``formats.detect`` plus Markdown that embeds HTML (model cards with
  ``<p align="center">``, MDX with components) and front matter,
* ``split_front_matter``, ``markdown_html`` (Markdown → HTML via markdown-it; shared with
  the feed-shaped kinds) and ``markdown_soup`` (Markdown/MDX, parsed),
* ``content_root``: the page without its chrome (nav, header, footer, cookie banners),
* ``clean_text`` / ``is_date_noise``: text normalisation and "last updated" lines,
* ``looks_like_wall``: bot challenges and login walls, which must parse to nothing (every
  kind uses this one).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import TYPE_CHECKING

from .base import Format
from .formats import decode, detect, select_root, soup, strip_noise

if TYPE_CHECKING:  # bs4 and markdown-it are imported on first use, not with the module
    from bs4 import BeautifulSoup, Tag
    from markdown_it import MarkdownIt

_FRONT_MATTER = re.compile(r"\A[ \t]*---[ \t]*\r?\n(.*?)(?:\r?\n)?^(?:---|\.\.\.)[ \t]*$\r?\n?",
                           re.S | re.M)
_DOC_TAG = re.compile(r"<(!doctype\s+html|html|head|body)\b", re.I)
_MD_BLOCK = re.compile(r"^(#{1,6}\s+\S|\|.*\|\s*$|\s{0,3}[-*+]\s+\S|\s{0,3}\d+[.)]\s+\S)", re.M)
_MDX_LINE = re.compile(r"^(import\s.*\bfrom\s*['\"].*|import\s*['\"].*|"
                       r"export\s+(const|let|default|function|async)\b.*)$", re.M)
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_MDX_COMMENT = re.compile(r"\{/\*.*?\*/\}", re.S)


def split_front_matter(text: str) -> tuple[str | None, str]:
    """(YAML front matter or ``None``, the rest) of a Markdown text, with ``\n`` newlines."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    match = _FRONT_MATTER.match(text)
    if not match:
        return None, text
    return match.group(1), text[match.end():]


def detect_format(body: bytes, forced: Format | None) -> Format:
    """The body's format: forced, else detected, with Markdown-with-HTML kept Markdown."""
    if forced:
        return forced
    head = decode(body[:16384]).lstrip("\ufeff \t\r\n")
    if head.startswith("---") and split_front_matter(head)[0] is not None:
        return "markdown"
    found = detect(body)
    if found == "html" and not _DOC_TAG.search(head[:4096]) and _MD_BLOCK.search(head):
        return "markdown"
    if found == "text" and _MDX_LINE.search(head[:2048]) and "<" in head:
        return "markdown"
    return found


def _strip_mdx(text: str) -> str:
    """Drop MDX ``import``/``export`` lines outside code fences."""
    out, fence = [], ""
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if match and (not fence or match.group(1).startswith(fence)):
            fence = "" if fence else match.group(1)[:3]
        elif not fence and _MDX_LINE.match(line):
            continue
        out.append(line)
    return "\n".join(out)


@cache
def _markdown(strikethrough: bool) -> MarkdownIt:
    """The renderer, built once: CommonMark with raw HTML and tables (and ``~~``)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    return md.enable("strikethrough") if strikethrough else md


def markdown_html(text: str, *, strikethrough: bool = True) -> str:
    """Markdown rendered as HTML: CommonMark with raw HTML and tables; ``~~struck~~`` text
    becomes ``<s>`` unless ``strikethrough`` is off (then the tildes stay in the text)."""
    return _markdown(strikethrough).render(text)


def markdown_soup(text: str) -> BeautifulSoup:
    """Markdown or MDX (front matter already split off) rendered and parsed as HTML.

    Struck text keeps its tildes: in a card or a list, "Do ~~not~~ use" must not read as
    "Do not use"."""
    text = _strip_mdx(_MDX_COMMENT.sub("", text))
    return soup("<html><body>" + markdown_html(text, strikethrough=False) + "</body></html>")


_CHROME_TAGS = ("nav", "footer")
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "search", "dialog"}
_CHROME_ATTR = re.compile(r"cookie|consent|gdpr|onetrust|skip-?link|breadcrumb|newsletter|"
                          r"announcement-bar|site-header|site-footer|global-nav|toc\b|"
                          r"\blikes?\b|like-?count|download-?count|\bcounters?\b|view-?count",
                          re.I)


def _attr_text(tag: Tag) -> str:
    if tag.attrs is None:
        return ""
    classes: list[str] | str = tag.get("class") or []
    return " ".join([str(tag.get("id") or ""), *(str(c) for c in classes)])


def strip_chrome(root: BeautifulSoup | Tag) -> None:
    """Remove navigation, page header and footer, sidebars and cookie banners in place."""
    for tag in root.find_all(_CHROME_TAGS):
        tag.decompose()
    for tag in root.find_all(["header", "aside"]):
        if tag.find_parent(["main", "article"]) is None:
            tag.decompose()  # a sidebar inside the main content is content (model metadata)
    chrome = [tag for tag in root.find_all(True)
              if tag.get("role") in _CHROME_ROLES or _CHROME_ATTR.search(_attr_text(tag))]
    marked = {id(tag) for tag in chrome}
    for tag in chrome:
        if not any(id(parent) in marked for parent in tag.parents):
            tag.decompose()
    for tag in root.find_all(["img", "picture", "video", "audio", "source"]):
        tag.decompose()


def content_root(doc: BeautifulSoup, select: str | None) -> list[Tag]:
    """The parts of a page worth reading: what ``select`` picks, else the main content."""
    from bs4 import Tag

    strip_noise(doc)
    if select:
        return list(doc.select(select))
    strip_chrome(doc)
    main = doc.find("main") or doc.find(True, attrs={"role": "main"})
    if isinstance(main, Tag) and main.find(["h1", "h2", "h3", "table", "ul", "dl", "p"]):
        return [main]
    return select_root(doc, None)


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                         "\u00a0": " ", "\u2009": " ", "\u200b": "", "\u2060": "",
                         "\ufeff": "", "\u00ad": ""})
_TRACKING = re.compile(
    r"([?&])(utm_\w+|gclid|fbclid|msclkid|dclid|mc_cid|mc_eid|_hsenc|_hsmi|hsa_\w+|ref_src|"
    r"igshid|yclid|_ga|_gl|spm|trk|nonce|csrf\w*|_token|sessionid|session_id|cb|cachebust\w*)"
    r"=[^&#\s)\]\"'>]*", re.I)
_WS = re.compile(r"\s+")


def strip_tracking(text: str) -> str:
    """Drop tracking, nonce and cache-busting query parameters from the URLs in a text."""
    if "=" not in text:
        return text
    out = _TRACKING.sub(lambda m: m.group(1), text)
    out = re.sub(r"\?&+", "?", out)
    out = re.sub(r"&{2,}", "&", out)
    return re.sub(r"[?&](?=[\s#)\]\"'>]|$)", "", out)


def clean_text(text: str) -> str:
    """NFC, straight quotes, no zero-width characters, one space, no tracking parameters."""
    text = unicodedata.normalize("NFC", text.translate(_QUOTES))
    return _WS.sub(" ", strip_tracking(text)).strip()


_MONTH = (r"(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|"
          r"sep(t(ember)?)?|oct(ober)?|nov(ember)?|dec(ember)?)\.?")
DATE = (rf"(\d{{4}}-\d{{2}}-\d{{2}}([t ][\d:.]+(z|[+-]\d\d:?\d\d)?)?|"
        rf"\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}}|\d{{4}}/\d{{1,2}}/\d{{1,2}}|"
        rf"{_MONTH}\s+\d{{1,2}}(st|nd|rd|th)?,?\s+\d{{4}}|"
        rf"\d{{1,2}}(st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}|{_MONTH}\s+\d{{4}})")
# The three long patterns below are compiled on first use (~6 ms at import otherwise).
_DATE_LINE = (
    rf"^\W*((published|posted|date|updated|modified|revised|effective( date)?|as of|"
    rf"generated|rendered|fetched|retrieved|last\s+\w+)(\s+(on|at|date))?\s*:?\s*{DATE}\W*|"
    rf"last\s+(updated|modified|revised|reviewed|edited|refreshed)\b.{{0,40}}|"
    rf"this (page|list|document) was (last )?(updated|modified|generated|rendered)\b.{{0,60}}|"
    rf"{DATE}|(©|copyright)\s.{{0,80}}|.{{0,40}}\b\d+\s+(seconds?|minutes?|hours?|days?|"
    rf"weeks?|months?)\s+ago)\W*$")
_INLINE_DATE = (
    rf"[(·•|—-]?\s*\b(last\s+(updated|modified|revised|reviewed)|updated|generated|rendered|"
    rf"published|posted)(\s+(on|at))?:?\s+{DATE}\)?\.?")


@cache
def _rx(pattern: str) -> re.Pattern[str]:
    """One of the patterns above, compiled once, case-insensitive."""
    return re.compile(pattern, re.I)


def is_date_noise(line: str) -> bool:
    """A line that only says when the page was rendered, published or last updated."""
    return bool(_rx(_DATE_LINE).match(line))


def drop_inline_dates(text: str) -> str:
    """Remove "last updated March 3, 2025" phrases inside a longer line."""
    return _WS.sub(" ", _rx(_INLINE_DATE).sub("", text)).strip()


_WALL = (
    r"just a moment|checking (if the site connection is secure|your browser)|"
    r"enable javascript and cookies|attention required|verify (that )?you are (a )?human|"
    r"are you a robot|captcha|access denied|request unsuccessful|ddos protection|"
    r"please (sign|log) ?in|(sign|log) ?in to (continue|view|access)|"
    r"you (need|must) (to )?(sign|log) ?in|you need to enable javascript|"
    r"enable javascript to run this app")


def looks_like_wall(text: str) -> bool:
    """A short page (under 400 words or 3,000 characters) that is a bot challenge, a login
    wall or an empty app shell. Callers ask only when a page gave (almost) nothing, so a
    long page, or one with records, that mentions a captcha is never a wall."""
    short = len(text) < 3000 or len(text.split()) < 400
    return short and bool(_rx(_WALL).search(text))


_SEP = "\x1e"
_BLOCKS = {"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "tr", "table", "section", "article",
           "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption",
           "header", "footer", "main", "details", "summary", "hr", "address"}
_FOOTNOTE_SUP = re.compile(r"^\s*(\[?\(?[\d*†‡§a-z]{1,3}\)?\]?[,\s]*)+$")


def text_parts(node: Tag) -> list[str]:
    """The node's visible text, split at line breaks and block boundaries, each part clean.

    Source newlines inside a paragraph are spaces (re-wrapping is not a change); footnote
    superscripts are dropped. The tree is not modified.
    """
    # Imported here, once per call, not in the recursive walk: bs4 loads with the first parse.
    from bs4.element import NavigableString, PreformattedString, Tag

    out: list[str] = []

    def pieces(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Tag):
                name = child.name
                if name == "br":
                    out.append(_SEP)
                elif name == "sup" and _FOOTNOTE_SUP.match(child.get_text()):
                    continue
                elif name in _BLOCKS:
                    out.append(_SEP)
                    pieces(child)
                    out.append(_SEP)
                else:
                    pieces(child)
            elif isinstance(child, NavigableString) and not isinstance(child,
                                                                       PreformattedString):
                out.append(str(child))

    pieces(node)
    parts = (clean_text(p) for p in "".join(out).split(_SEP))
    return [p for p in parts if p]
