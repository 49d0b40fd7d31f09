"""page — a terms, policy or any other web page, watched as the text a reader reads.

Accepts HTML (scripts, styles, hidden elements, navigation, header, footer and cookie
banners are dropped), Markdown, plain text or PDF (a DPA or policy published as PDF: its
text page by page, read as Markdown; the snapshot keeps the PDF). ``select`` narrows the
page to a CSS selector; ``ignore`` regexes remove volatile text (counters, nonces) before diffing.

What a reader would not call a change changes nothing: link targets and their tracking,
redirect or CDN tokens (a link or an image is its text only); whitespace, markup, list
numbering, a table of contents and "Opens in new tab" labels; typography (quotes,
apostrophes, capitals, punctuation, British or American spelling); a date written
another way, "N days ago", a "Last updated" or "Effective" date alone. Changes are the
passages whose words changed, keyed by their section. A change to what the page says
about training on customer data (its use, the opt-out, retention for training) fires
``training_data_change`` (high); other wording fires ``policy_change`` (medium when it
holds an obligation, right, price, jurisdiction or data-handling word, else low). A
captured error, login, bot-challenge or redirect page on either side is a suspect
document, not a rewrite: it fires nothing.

The words are data in ``sources/vocab/``: ``policy_terms.yaml`` (training phrases and
the words of obligations, rights, prices, jurisdictions, data handling),
``page_noise.yaml`` (link labels, "last updated" labels, British spellings) and
``suspect_pages.yaml`` (what error, login, bot and redirect pages say, for every kind).

Example::

    - id: acme-dpa
      kind: page
      url: https://acme.example/legal/dpa
      select: "main"
      ignore: ["Version \\\\d+"]
"""

from __future__ import annotations

from collections import Counter

from config.errors import ParseError

from ..base import BaseSettings, Change, ChangeOp, Document
from ..read.pdf import is_pdf, pdf_markdown
from .fold import changed_runs, line_key, opcodes, units
from .read import page_lines

NAME = "page"
PARSER_VERSION = "3"  # 3: MDX components unwrapped (titled ones as <details>)
INTERVAL = 6 * 3600.0  # seconds: checked every six hours unless the config says otherwise
RULES = "triggers.page:page_rule"  # its rule in triggers/, named

INTRO = "(intro)"
# A change's key: its section, then the title-like line under it, and for a list item or
# table row the line leading into the list ("We use the following information to improve
# our models:").
LEAD_SEP = " \u203a "
LEAD_CHARS = 160
# A short line with no closing punctuation reads as a title ("Developing and improving
# AI", a heading that lost its markup in conversion).
TITLE_WORDS = 8
# A run of this many lines that each read as one of the page's headings is its table of
# contents: added, removed or re-flowed, it changes nothing.
TOC_RUN = 3


class Settings(BaseSettings):
    """A page takes only the common options: ``select``, ``ignore``, ``format``."""


def parse(body: bytes, settings: BaseSettings) -> Document:
    try:
        if is_pdf(body):  # a PDF's text, per page, as Markdown (sources/read/pdf.py)
            body = pdf_markdown(body).encode()
            settings = settings.model_copy(update={"format": "markdown"})
        lines = page_lines(body, settings)
    except ParseError:
        raise
    except Exception as exc:  # a third-party parser's failure becomes ours
        raise ParseError(f"page: cannot read the body: {exc}") from exc
    return Document(kind=NAME, data={"lines": lines}, parser_version=PARSER_VERSION)


def is_heading(line: str) -> bool:
    return line.startswith("#")


def heading_words(line: str) -> str:
    return line.lstrip("#").strip()


def is_item(line: str) -> bool:
    """A list item or a table row."""
    return line.startswith("- ") or " | " in line


def _reads_as_title(line: str) -> bool:
    """A short line with no closing punctuation: a heading that lost its markup, or a
    link's label ("Play Video"); either way, context rather than a section."""
    if is_heading(line) or is_item(line) or line.endswith((".", ",", ";", ":", "!", "?", ")")):
        return False
    first = next((c for c in line if c.isalpha()), "")
    return first.isupper() and 0 < len(line.split()) <= TITLE_WORDS


def _keys(lines: list[str]) -> list[str]:
    """Each line's key: the heading it sits under (its own words for a heading), then,
    separated by ``LEAD_SEP``, the title-like line under that heading and, for a list item
    or table row, the line that leads into its list. Under no heading, the title-like
    line is the section."""
    out, section, title, lead = [], INTRO, "", ""
    for line in lines:
        if is_heading(line):
            section, title, lead = heading_words(line) or section, "", ""
            out.append(section)
            continue
        if _reads_as_title(line):
            title, lead = line, ""
            out.append(_join(section, title, ""))
            continue
        if not is_item(line):
            lead = line if line.endswith(":") else ""
            out.append(_join(section, title, ""))
            continue
        out.append(_join(section, title, lead))
    return out


def _join(section: str, title: str, lead: str) -> str:
    if section == INTRO and title:
        section, title = title, ""
    parts = [section] + [_cut(p, LEAD_CHARS) for p in (title, lead) if p]
    return LEAD_SEP.join(parts)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rsplit(" ", 1)[0] + "\u2026"


def diff(old: Document, new: Document) -> list[Change]:
    """The passages whose words changed, each keyed by its section heading.

    Lines are aligned on their folded keys; a run of changed lines whose words read alike
    (a re-flowed paragraph, a list renumbered) is no change, nor is a line that only moved
    (removed here, added there), nor a table of contents (``TOC_RUN``) added or removed."""
    a: list[str] = old.data["lines"]
    b: list[str] = new.data["lines"]
    ka, kb = [line_key(x) for x in a], [line_key(x) for x in b]
    blocks = [op for op in opcodes(ka, kb) if op[0] != "equal"]
    moved = (Counter(k for _, i1, i2, _, _ in blocks for k in ka[i1:i2] if k)
             & Counter(k for _, _, _, j1, j2 in blocks for k in kb[j1:j2] if k))
    gone, came = Counter(moved), Counter(moved)
    sec_a, sec_b = _keys(a), _keys(b)
    toc_a, toc_b = _contents(a, ka), _contents(b, kb)
    changes: list[Change] = []
    for _, i1, i2, j1, j2 in blocks:
        removed = [i for i in range(i1, i2)
                   if ka[i] and i not in toc_a and not _take(gone, ka[i])]
        added = [j for j in range(j1, j2)
                 if kb[j] and j not in toc_b and not _take(came, kb[j])]
        if not removed and not added:
            continue
        if not changed_runs(units(a[i] for i in removed), units(b[j] for j in added)):
            continue
        before = "\n".join(a[i] for i in removed) or None
        after = "\n".join(b[j] for j in added) or None
        key = sec_b[added[0]] if added else sec_a[removed[0]]
        op: ChangeOp = "modified" if before and after else "added" if after else "removed"
        changes.append(Change(op, key, before, after, path="line"))
    return changes


def _contents(lines: list[str], keys: list[str]) -> set[int]:
    """The lines of a table of contents: runs of at least ``TOC_RUN`` lines, none a
    heading, each reading as one of the page's headings."""
    heads = {k.removeprefix("# ") for line, k in zip(lines, keys, strict=True)
             if is_heading(line) and k}
    out: set[int] = set()
    run: list[int] = []
    for i, (line, key) in enumerate(zip(lines, keys, strict=True)):
        if key in heads and not is_heading(line):
            run.append(i)
            continue
        if len(run) >= TOC_RUN:
            out.update(run)
        run = []
    if len(run) >= TOC_RUN:
        out.update(run)
    return out


def _take(pool: Counter[str], key: str) -> bool:
    """Take one ``key`` from ``pool`` if it holds one."""
    if pool[key] > 0:
        pool[key] -= 1
        return True
    return False


def size(document: Document) -> int:
    """How many words the page holds: a rewrite to a shorter text of the same page keeps
    most of them; an error page in its place keeps a handful."""
    return sum(len(line.split()) for line in document.data["lines"])


def describe(change: Change) -> str:
    text = change.after if change.op != "removed" else change.before
    first = str(text or "").split("\n", 1)[0]
    verb = {"added": "Added", "removed": "Removed", "modified": "Changed"}[change.op]
    section = change.key.partition(LEAD_SEP)[0]
    where = f" in {section}" if section and section != INTRO else ""
    return f"{verb} text{where}: {first[:160]}"
