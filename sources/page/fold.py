"""Page text folded for comparison: what a reader would not call a change is folded away.

The page document keeps the text as the reader reads it; two versions are compared on
*tokens*: the words and numbers of a line, with

* typography folded: case, quotes and apostrophes, dashes, ligatures and full-width forms,
  punctuation between words (a serial comma, a full stop, a bracket), ``&`` for "and";
* a line's numbering and bullet dropped ("A.1.", "I.2.a.", "(iv)", "3)", "§ 4", "•"),
  and a clause number opening a sentence ("… these Terms. 7.4 You agree");
* written dates read as one date ("December 1, 2025" = "1 December 2025" = "2025-12-01"),
  and numbers with their thousands separated or not ("10,000" = "10000");
* British spellings read as American ones ("licence", "organisation", "colour",
  "centre", "catalogue", "cancelled": the ``spelling`` pairs of
  ``sources/vocab/page_noise.yaml`` and the regular endings);
* symbols, icons and footnote marks dropped ("ⓘ", "™", "↗", "¹", "[3]");
* letters and digits split ("GPT4o" is "gpt 4 o"), so a space or a hyphen added or lost
  inside a word is caught by ``same_words``, which compares the tokens run together.

``noise_free_ops`` is the word-level diff of two token lists without the edits that are
only such folding, or a date after a "last updated" or "effective" label; ``units`` and
``changed_runs`` cut lines into sentences and align those first. Pure: every pattern is
linear (no nested repetition), and ``opcodes`` keeps alignments from going quadratic.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from .. import vocab

# Quotes, apostrophes and dashes of every kind, and the characters that are not text.
_TYPO = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u02bc": "'", "\u2032": "'",
    "\u00b4": "'", "`": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"',
    "\u00bb": '"', "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-", "\u00a0": " ", "\u200b": "", "\u200c": "", "\u200d": "",
    "\u2060": "", "\ufeff": "", "\u00ad": "", "&": " and "})

# A line's numbering and bullet: "A.1.", "I.2.a.", "1)", "(iv)", "§ 4."; "1.5 GB" is no
# numbering (it does not end in "." or ")" before a space). Each part is bounded: no
# nested repetition.
_NUM = r"(?:\d{1,3}|[a-z]|[ivxlc]{1,6})"
_BULLETS = r"[\s#>*+•·▪◦‣○●■□➢►–—-]*"
_PREFIX = re.compile(
    rf"^{_BULLETS}(?:(?:§+\s*)?(?:{_NUM}(?:\.{_NUM}){{0,6}}[.)]|\({_NUM}\))(?=\s|$))?{_BULLETS}",
    re.I)
# A clause number opening a sentence inside a line ("…these Terms. 7.4 You agree",
# "Services.11. Changes"): dotted, or ending in a dot, before a capitalised word, at the
# start of the text or after a word's closing stop, colon, semicolon or bracket. The
# pattern starts with a digit (the engine skips to digits); the callback looks behind.
_CLAUSE = re.compile(r"\d{1,3}(?:(?:\.\d{1,3}){1,4}\.?|\.)\s+(?=[A-Z][a-z])")
_CLAUSE_AFTER = re.compile(r"(?:^|[^\W\d][.!?;:]|[)\]])\s*$")


def _clause(m: re.Match[str]) -> str:
    before = m.string[max(0, m.start() - 8):m.start()]
    at_start = m.start() == 0 or not m.string[:m.start()].strip()
    return " " if at_start or _CLAUSE_AFTER.search(before) else m.group(0)


# "10,000" and "10 000" are 10000; "1,5" and "1,50" are not thousands.
_THOUSANDS = re.compile(r"(?<=\d)[,\u202f\u2009](\d{3})(?!\d)")
_TOKEN = re.compile(r"\d+(?:[.,:/]\d+)*|[^\W\d_]+(?:'[^\W\d_]+)*")

_MON = (r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
        r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
           "sep": 9, "oct": 10, "nov": 11, "dec": 12}
# "December 1, 2025", "Dec. 1st 2025", "1 December 2025", "1st of December, 2025",
# "2025-12-01", "December 2025": the year may be glued to the next word ("2025These").
_DAY = r"(?:st|nd|rd|th)?"
_YEAR4 = r"(?:19|20)\d\d(?!\d)"
_DATE = re.compile(
    r"(?<![\w-])(?:"
    r"(?P<y>(?:19|20)\d\d)-(?P<m>\d\d)-(?P<d>\d\d)(?!\d)"
    rf"|{_MON.replace('mon>', 'mon1>')}\s+(?P<d1>\d{{1,2}}){_DAY},?\s+(?P<y1>{_YEAR4})"
    rf"|(?P<d2>\d{{1,2}}){_DAY}\s+(?:of\s+)?{_MON.replace('mon>', 'mon2>')},?\s+(?P<y2>{_YEAR4})"
    rf"|{_MON.replace('mon>', 'mon3>')},?\s+(?P<y3>{_YEAR4}))",
    re.I)


def _iso(m: re.Match[str]) -> str:
    g = m.groupdict()
    if g["y"]:
        return f" {g['y']}-{g['m']}-{g['d']} "
    mon = (g["mon1"] or g["mon2"] or g["mon3"]).lower()[:3]
    month = _MONTHS[mon]
    if g["mon3"]:
        return f" {g['y3']}-{month:02d} "
    day, year = (g["d1"], g["y1"]) if g["mon1"] else (g["d2"], g["y2"])
    return f" {year}-{month:02d}-{int(day):02d} "


_DIGIT = re.compile(r"\d")
_YEARISH = re.compile(r"(?:19|20)\d\d")


def fold_dates(text: str) -> str:
    """Written dates as ``YYYY-MM-DD`` (or ``YYYY-MM``), spaced off from the words around."""
    if not _YEARISH.search(text):
        return text
    return _DATE.sub(_iso, text)


def strip_prefix(line: str) -> str:
    """A line without its numbering, bullet or heading marks."""
    m = _PREFIX.match(line)
    return line[m.end():] if m and m.end() else line


# Regular British endings → American ones, on one token (stems of three letters or more,
# so "size", "rise", "hour", "your" and "four" stay as they are).
_ENDINGS = (
    (re.compile(r"^(\w{3,})is(e|es|ed|ing|er|ers|ation|ations|able)$"), r"\1iz\2"),
    (re.compile(r"^(\w{2,})ys(e|es|ed|ing|er|ers)$"), r"\1yz\2"),
    (re.compile(r"^(\w{3,})our(s|ed|ing|able|ite|ites|ful|less)?$"), r"\1or\2"),
    (re.compile(r"^(\w{3,})tre(s|d)?$"), r"\1ter\2"),
    (re.compile(r"^(\w{3,})ogue(s)?$"), r"\1og\2"),
    (re.compile(r"^(\w{2,}[ae]l)l(ed|ing|er|ers)$"), r"\1\2"),
)


@cache
def _spelling(generation: int) -> dict[str, str]:
    pairs = vocab.get("page_noise").get("spelling") or {}
    return {str(k).casefold(): str(v).casefold() for k, v in pairs.items()}


@lru_cache(maxsize=65536)
def _fold_word(word: str, generation: int) -> str:
    stem, apostrophe, rest = word.partition("'")  # "organisation's": the word, then "'s"
    stem = _spelling(generation).get(stem, stem)
    if 6 <= len(stem) <= 40 and stem.isalpha():
        for rx, repl in _ENDINGS:
            folded = rx.sub(repl, stem)
            if folded != stem:
                stem = folded
                break
    return stem + apostrophe + rest


# Symbols and icons ("ⓘ", "™", "↗", emoji, superscript footnote marks) are no words: NFKC
# would read "ⓘ" as "i" and "™" as "TM". Nor is a bracketed footnote number ("[3]").
_ICONS = re.compile("[\u00a9\u00ae\u00b9\u00b2\u00b3\u2070-\u209f\u2120-\u2122"
                    "\u2190-\u21ff\u2300-\u23ff\u2460-\u27bf\u2900-\u297f\u2b00-\u2bff"
                    "\ufe00-\ufe0f\U0001f000-\U0001faff]+" r"|\[\d{1,3}\]")


def tokens(text: str) -> list[str]:
    """The folded words and numbers of a text, in order (no line prefix handling)."""
    text = unicodedata.normalize("NFKC", _ICONS.sub(" ", text)).translate(_TYPO)
    if _DIGIT.search(text):
        text = _THOUSANDS.sub(r"\1", _CLAUSE.sub(_clause, fold_dates(text)))
    text = text.casefold()
    gen = vocab.generation()
    return [_fold_word(t, gen) for t in _TOKEN.findall(text)]


def line_tokens(line: str) -> list[str]:
    """``tokens`` of a line without its numbering, bullet or heading marks."""
    return tokens(strip_prefix(line))


def line_key(line: str) -> str:
    """What two lines are compared by: their tokens, a heading's marked as one (a table
    of contents' "- Scope" is not the heading "## Scope" it points to)."""
    words = " ".join(line_tokens(line))
    return "# " + words if words and line.startswith("#") else words


def same_words(a: Sequence[str], b: Sequence[str]) -> bool:
    """Token lists that read alike run together ("e-mail" / "email", "UsesWe" / "Uses We")."""
    return list(a) == list(b) or "".join(a) == "".join(b)


@cache
def _stamp_words(generation: int) -> frozenset[str]:
    words = vocab.get("page_noise").get("stamp_words") or ()
    return frozenset(t for w in words for t in tokens(str(w)))


_DATE_PART = re.compile(r"^(\d{1,4}|st|nd|rd|th|of)$")
_YEAR = re.compile(r"^(19|20)\d\d$")


def _stamp_only(seq: Sequence[str], i1: int, i2: int, stamps: frozenset[str]) -> bool:
    """``seq[i1:i2]`` only touches a date (with a year, in it or just before it) and its
    label, within five words after a stamp label ("Updated", "Effective")."""
    words = seq[i1:i2]
    if not words:
        return True
    if any(not (_DATE_PART.match(w) or w in stamps) for w in words):
        return False
    near = seq[max(0, i1 - 2):i2 + 2]
    if not any(_YEAR.match(w) for w in near):
        return False
    return any(w in stamps for w in words) or any(w in stamps for w in seq[max(0, i1 - 5):i1])


Opcode = tuple[str, int, int, int, int]

# Past this many items on a side, an item found in more than 1 % of them no longer anchors
# the alignment (``difflib``'s autojunk): the same line or word repeated thousands of
# times would make the alignment quadratic.
JUNK_FROM = 3000


def opcodes(a: Sequence[str], b: Sequence[str]) -> list[Opcode]:
    """``difflib``'s edit script from ``a`` to ``b``, with their common head and tail
    taken off first, and repeated items kept from anchoring long sequences."""
    head = 0
    while head < len(a) and head < len(b) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < len(a) - head and tail < len(b) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    mid_a, mid_b = a[head:len(a) - tail], b[head:len(b) - tail]
    junk = max(len(mid_a), len(mid_b)) > JUNK_FROM
    ops: list[Opcode] = []
    if head:
        ops.append(("equal", 0, head, 0, head))
    if mid_a or mid_b:
        matcher = difflib.SequenceMatcher(a=mid_a, b=mid_b, autojunk=junk)
        ops += [(tag, i1 + head, i2 + head, j1 + head, j2 + head)
                for tag, i1, i2, j1, j2 in matcher.get_opcodes()]
    if tail:
        ops.append(("equal", len(a) - tail, len(a), len(b) - tail, len(b)))
    return ops


def noise_free_ops(a: Sequence[str], b: Sequence[str]) -> list[Opcode]:
    """The edits between two token lists that a reader would call a change: not those
    whose words run together alike, nor a date after a stamp label ("Updated:", "Release
    Date:", "Effective") changed alone."""
    if same_words(a, b):
        return []
    stamps = _stamp_words(vocab.generation())
    out: list[Opcode] = []
    for tag, i1, i2, j1, j2 in opcodes(a, b):
        if tag == "equal" or same_words(a[i1:i2], b[j1:j2]):
            continue
        if _stamp_only(a, i1, i2, stamps) and _stamp_only(b, j1, j2, stamps):
            continue
        out.append((tag, i1, i2, j1, j2))
    return out


# --- sentences ----------------------------------------------------------------------------

# Sentence ends: a stop, question or exclamation mark or a semicolon before a space; a
# semicolon before anything; a stop glued to the next sentence ("Terms.7.", "Services.Meta").
# Each alternative starts with the mark: the engine skips to marks.
_SENTENCE_END = re.compile(r"[.!?;]\s+(?=\S)|;(?=\S)|[.!?](?<=[a-z)][.!?])(?=[A-Z(\d])")


def sentences(line: str) -> list[str]:
    """A line cut after each sentence's closing mark."""
    out, at = [], 0
    for m in _SENTENCE_END.finditer(line):
        out.append(line[at:m.start() + 1])
        at = m.end()
    out.append(line[at:])
    return [s for s in out if s]


@dataclass(frozen=True)
class Unit:
    """A sentence of a page's lines: its text as written, its tokens, and whether its line
    is a list item or a table row."""

    text: str
    words: tuple[str, ...]
    item: bool


def units(lines: Iterable[str]) -> list[Unit]:
    """The sentences of lines (a heading's marks dropped), each with its tokens."""
    out: list[Unit] = []
    for line in lines:
        item = line.startswith("- ") or " | " in line
        if line.startswith("#"):
            line = line.lstrip("#").strip()
        for i, sentence in enumerate(sentences(line)):
            words = line_tokens(sentence) if i == 0 else tokens(sentence)
            if words:
                out.append(Unit(sentence, tuple(words), item))
    return out


# (old units from, to, new units from, to, the word edits within the run's words)
Run = tuple[int, int, int, int, list[Opcode]]


def changed_runs(old: Sequence[Unit], new: Sequence[Unit]) -> list[Run]:
    """The runs of sentences that changed, aligned on their tokens, with the word edits a
    reader would call a change (``noise_free_ops``); runs with none are left out. Aligning
    sentences first keeps a page written as one long line cheap to compare."""
    ka, kb = [" ".join(u.words) for u in old], [" ".join(u.words) for u in new]
    out: list[Run] = []
    for tag, i1, i2, j1, j2 in opcodes(ka, kb):
        if tag == "equal":
            continue
        a_words = [w for u in old[i1:i2] for w in u.words]
        b_words = [w for u in new[j1:j2] for w in u.words]
        ops = noise_free_ops(a_words, b_words)
        if ops:
            out.append((i1, i2, j1, j2, ops))
    return out
