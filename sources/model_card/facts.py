"""A model card's facts from its body (pure): label/value tables ("Attribute | Details",
"Spec name | Value"), definition lists, "**Label:** value" lines, and tables of variants
keyed by their model column ("Model variant | Parameters | Quantization | …").

A fact is keyed by its label's own words ("Cutoff date" → ``cutoff_date``), so two
labels of one field keep their own values whatever their order; the ``card_fields``
vocabulary says which field a label states (``key_role``: ``cutoff_date`` →
``knowledge_cutoff``). A label it does not name ("Epsilon") is kept, so the document
shows it, and the rule judges it as nothing. A variants
table becomes records keyed by the model id as the table writes it, one per id when a
cell holds several (``ai/gemma3:latest`` and ``ai/gemma3:4B-Q4_K_M``): row order, a
duplicate row and the column widths of the Markdown are not changes.

The tables and lists read are removed from the tree, so their text is not prose too.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from .. import vocab
from ..base import canonical_json
from ..read.dates import DATE
from ..read.html import drop, first, text_parts
from ..read.tables import Grid, norm_header, read_grid
from ..read.text import clean_text

Facts = dict[str, str]
Variants = dict[str, dict[str, str]]

MAX_TABLES = 300  # tables and lists read per document; a page of more is not a card
MAX_ROWS = 500
_FOOTNOTES = str.maketrans("", "", "¹²³⁴⁵⁶⁷⁸⁹⁰ⁱⁿ†‡`")
_SCORE = re.compile(r"^[+-]?\d{1,4}(\.\d+)?\s*%?$")
_EVAL = re.compile(r"\b(benchmarks?|metrics?|scores?|accuracy|shots?|eval\w*|pass 1|results?)\b")
_VALUE_HEADER = re.compile(r"^(values?|details?|descriptions?|specs?|specifications?|"
                           r"information|info|attributes?|properties|property|fields?|keys?|"
                           r"items?|spec names?|features?|settings?|parameters?)$")
# The roles whose column, beside a model column, makes a table one of variants.
_VARIANT_COLUMNS = frozenset({"parameters", "context_window", "input_modalities",
                              "output_modalities", "modalities", "license", "release_date",
                              "deprecation_date", "knowledge_cutoff", "training_data",
                              "datasets", "languages", "version", "model_id", "architecture"})


@lru_cache(maxsize=2)
def _phrases(generation: int) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """(exact phrase → field, multi-word phrases longest first) of the vocabulary."""
    exact: dict[str, str] = {}
    multi: list[tuple[str, str]] = []
    for name, words in vocab.get("card_fields").items():
        for phrase in words or ():
            key = norm_header(str(phrase))
            exact.setdefault(key, name)
            if " " in key:
                multi.append((key, name))
    multi.sort(key=lambda p: -len(p[0]))
    return exact, tuple(multi)


# Fields a two-word label names by its last word alone ("Primary languages", "Code license").
_HEADS = frozenset({"languages", "license", "parameters", "datasets"})
_ASIDE = re.compile(r"\([^()]{0,40}\)")


@lru_cache(maxsize=4096)
def _role(label: str, generation: int, exact_only: bool) -> str | None:
    exact, multi = _phrases(generation)
    for words in dict.fromkeys((norm_header(label), norm_header(_ASIDE.sub(" ", label)))):
        if words in exact:
            return exact[words]
        if exact_only:
            continue
        for phrase, name in multi:
            if words.startswith(phrase + " ") or words.endswith(" " + phrase):
                return name
        parts = words.split(" ")
        if len(parts) == 2 and exact.get(parts[1]) in _HEADS:
            return exact[parts[1]]
    return None


def label_role(label: str, exact_only: bool = False) -> str | None:
    """The field a label names: the vocabulary phrase it is (an aside in brackets left
    out: "Parameters (B)"), or (unless ``exact_only``) a phrase of two words or more that
    it starts or ends with."""
    return _role(label[:120], vocab.generation(), exact_only)


def fact_key(label: str) -> str:
    """A label as a document key: its own words, an aside in brackets left out ("Context
    Length (tokens)" → ``context_length``), so two labels of one field ("Context window",
    "Max output") keep their own values whatever their order. ``key_role`` names the
    field."""
    return (norm_header(_ASIDE.sub(" ", label)) or norm_header(label)).replace(" ", "_")[:60] or "_"


def key_role(key: str) -> str | None:
    """The field a fact key names (``cutoff_date`` → ``knowledge_cutoff``), without the
    ``_2`` a second value of one label gets; None for a key no field names."""
    role = label_role(re.sub(r"_\d{1,2}$", "", key).replace("_", " "))
    return None if role == "variant" else role


def clean_value(text: str) -> str:
    """A cell or value as written, without footnote marks, backticks and extra space."""
    return clean_text(text.translate(_FOOTNOTES)).strip(" *")


LISTS = frozenset({"datasets", "languages", "input_modalities", "output_modalities",
                   "modalities", "capabilities"})
_SPLIT = re.compile(r"\s*(?:[,;]|\band\b|&|(?<=[A-Za-z])\s*\+\s*(?=[A-Za-z]))\s*", re.I)


def items(text: str) -> list[str]:
    """The items a value lists, as written, in an order that carries no meaning:
    "Text, Image" → ["Image", "Text"]; "English and French" → ["English", "French"]."""
    found: dict[str, str] = {}
    for part in _SPLIT.split(text):
        part = part.strip(" .*_`")
        if part:
            found.setdefault(part.casefold(), part)
    return [found[k] for k in sorted(found)]


def listed(key: str, value: str) -> str:
    """A value of a field that lists things as its items, sorted: "Text, Image" →
    "Image, Text"."""
    return ", ".join(items(value)) if key_role(key) in LISTS else value


def put(facts: Facts, key: str, value: str) -> None:
    """Add a fact; a second, different value of the same key goes under ``key_2`` …
    A value that lists things (datasets, languages, modalities) is kept as its items."""
    value = listed(key, value)
    for n in range(1, 50):
        slot = key if n == 1 else f"{key}_{n}"
        if slot not in facts or facts[slot] == value:
            facts[slot] = value
            return


def read_facts(roots: list[Any]) -> tuple[Facts, Variants]:
    """Facts and variants of the tables and definition lists under ``roots``.

    A label/value table that names its model ("Model code | gemini-x") is a record of that
    model when the page has several such tables, one per model: it goes into the variants
    under that name, so a model added or moved re-keys nothing."""
    variants: Variants = {}
    nodes = [n for r in roots for n in r.iterdescendants("dl", "table")][:MAX_TABLES]
    found = set(nodes)
    tables: list[list[tuple[str, str]]] = []
    for node in nodes:
        if node.tag == "table" and first(node, "table") is not None:
            continue  # a layout table
        if any(a in found for a in node.iterancestors("dl", "table")):
            continue
        pairs = _read(node, variants)
        if pairs is not None:
            tables.append(pairs)
            drop(node)
    named = [(t, _model_named(t)) for t in tables]
    per_model = sum(1 for _, name in named if name) >= 2
    facts: Facts = {}
    for pairs, name in named:
        if per_model and name:
            record: Facts = {}
            for label, value in pairs:
                put(record, fact_key(label), value)
            _merge(variants, [(name, 1, record)])
        else:
            for label, value in pairs:
                put(facts, fact_key(label), value)
    return facts, variants


def _model_named(pairs: list[tuple[str, str]]) -> str | None:
    """The model id (else name) a label/value table states."""
    roles = {label_role(label): value for label, value in pairs}
    return roles.get("model_id") or roles.get("model_name") or None


def _read(node: Any, variants: Variants) -> list[tuple[str, str]] | None:
    """A definition list or label/value table as its pairs; a table of variants into
    ``variants`` (then ``[]``); None when the table is prose (scores, a comparison)."""
    if node.tag == "dl":
        return _pairs_read(_dl_pairs(node))
    head = next(node.iterdescendants("tr"), None)
    if head is not None and any(_EVAL.search(norm_header(" ".join(text_parts(c))))
                                for c in head if c.tag in ("th", "td")):
        return None  # scores stay in the prose, which judges them as nothing
    grid = read_grid(node, _is_header)
    grid.rows = grid.rows[:MAX_ROWS]
    width = max([len(grid.header or ())] + [len(r) for r in grid.rows])
    if any(_EVAL.search(norm_header(h)) for h in grid.header or ()):
        return None  # scores stay in the prose, which judges them as nothing
    if width == 2 and not _variant_list(grid):
        return _pairs_read(_kv_pairs(grid))
    if width >= 2 and grid.header:
        records = _variant_records(grid)
        if records is None and width >= 3:
            records = _transposed_records(grid)
        if records is not None:
            _merge(variants, records)
            return []
    return None


def _is_header(cells: list[str]) -> bool:
    """A first row of ``<td>`` that names columns: short labels, one naming a field."""
    return (all(c and len(c.split()) <= 5 and not _SCORE.match(c) for c in cells)
            and any(label_role(c) for c in cells))


def _dl_pairs(node: Any) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for item in node.iterdescendants("dt", "dd"):
        text = "; ".join(text_parts(item))
        if item.tag == "dt":
            pairs.append((text, ""))
        elif pairs:
            pairs[-1] = (pairs[-1][0], "; ".join(filter(None, (pairs[-1][1], text))))
    return pairs


def _kv_pairs(grid: Grid) -> list[tuple[str, str]]:
    rows = [r for r in grid.rows if len(r) == 2]
    header = grid.header
    if header and len(header) == 2 and header[1] and not _VALUE_HEADER.match(
            norm_header(header[1])) and label_role(header[0]):
        rows.insert(0, header)  # a Markdown table's first row is a pair too
    return [(a, b) for a, b in rows]


def _pairs_read(pairs: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
    """Label/value pairs, clean, when they read as such: short labels, not questions."""
    pairs = [(clean_value(a), clean_value(b)) for a, b in pairs]
    pairs = [(a, b) for a, b in pairs if a]
    if not pairs or any(len(a.split()) > 8 or a.endswith("?") for a, _ in pairs):
        return None
    return pairs


def _variant_list(grid: Grid) -> bool:
    """A two-column table whose first column names models ("Tag | Description"), not a
    table of labels and values."""
    header = grid.header
    if not header or len(header) != 2 or label_role(header[0]) != "variant":
        return False
    labelled = sum(1 for r in grid.rows if r and label_role(r[0]) not in (None, "variant"))
    return labelled * 2 < len(grid.rows)


def _key_column(header: list[str]) -> int | None:
    for i, text in enumerate(header):
        if label_role(text) in ("variant", "model_id", "model_name"):
            return i
    return 0 if header and not header[0].strip() else None


def _variant_records(grid: Grid) -> list[tuple[str, int, dict[str, str]]] | None:
    """(id, ids in its cell, record) of a table of variants, or None when the table is
    something else (benchmark scores, a comparison with other models)."""
    header = grid.header or []
    key = _key_column(header)
    if key is None:
        return None
    names = [fact_key(clean_value(h)) if h.strip() else f"column_{i + 1}"
             for i, h in enumerate(header)]
    roles = [key_role(n) for n in names]
    if len(header) > 2 and not {r for i, r in enumerate(roles) if i != key} & _VARIANT_COLUMNS:
        return None
    rows = _keyed_rows(grid.rows, len(header), key)
    if not rows:
        return None
    for i in range(len(header)):
        values = [r[i] for r in rows if r[i].strip()]
        if i != key and values and roles[i] not in _VARIANT_COLUMNS and sum(
                1 for v in values if _SCORE.match(v)) * 5 >= len(values) * 4:
            return None  # a column of scores: a comparison table
    out = []
    for row in rows:
        ids = [clean_value(x) for x in row[key].split("; ") if clean_value(x)]
        record = {names[i]: listed(names[i], clean_value(v)) for i, v in enumerate(row)
                  if i != key}
        out += [(x, len(ids), record) for x in ids]
    return out


def _keyed_rows(rows: list[list[str]], width: int, key: int) -> list[list[str]]:
    """Rows with a model id; a row without one continues the row above it (another size
    of the same model): its cells are added to that row's."""
    out: list[list[str]] = []
    for row in rows:
        if not key < len(row) <= width or len(row) < 2:
            continue
        row = row + [""] * (width - len(row))  # a ragged row: the cells it has
        if row[key].strip():
            out.append(list(row))
        elif out:
            last = out[-1]
            for i, cell in enumerate(row):
                if cell.strip() and cell not in last[i].split("; "):
                    last[i] = f"{last[i]}; {cell}" if last[i].strip() else cell
    return out


def _transposed_records(grid: Grid) -> list[tuple[str, int, dict[str, str]]] | None:
    """A table with a model per column and a field per row ("Feature | Model A | Model
    B", rows "Context window", "API model name" …) as records keyed by the column's
    model."""
    header = grid.header or []
    models = [clean_value(h) for h in header[1:]]
    rows = [r for r in grid.rows if len(r) == len(header) and r[0].strip()]
    roles = [label_role(r[0]) for r in rows]
    if (len([x for x in roles if x and x != "variant"]) < 2 or not all(models)
            or len(set(models)) != len(models)):
        return None
    out = []
    for i, model in enumerate(models, start=1):
        record: dict[str, str] = {}
        for row in rows:
            key = fact_key(clean_value(row[0]))
            put(record, key, clean_value(row[i]))
        out.append((model, 1, record))
    return out


def _merge(variants: Variants, records: list[tuple[str, int, dict[str, str]]]) -> None:
    """Records keyed by their id; an id listed twice keeps the row that names it alone
    (then the first by content, so row order does not count)."""
    best: dict[str, tuple[int, str, dict[str, str]]] = {}
    for ident, count, record in records:
        key = variant_key(ident)
        rank = (count, canonical_json(record), {"id": ident, **record})
        if key not in best or rank[:2] < best[key][:2]:
            best[key] = rank
    for key, (_, _, record) in best.items():
        variants.setdefault(key, {}).update(record)


def variant_key(ident: str) -> str:
    return re.sub(r"\s+", " ", ident.casefold()).strip()


_LINE = re.compile(r"^(?:- )?([^:|]{1,50}?)\s*:\s+(\S.*)$")
_VALUE_END = re.compile(r"\s[—–]\s|\s\(|;\s|\.(\s|$)")
_LIST_END = re.compile(r"\s[—–]\s|\s\(|\.(\s|$)")


def line_fact(line: str) -> tuple[str, str] | None:
    """A "Label: value" line whose label is a field's phrase and whose value is short, as
    (key, value): "- Base model: org/x — paper" → ("base_model", "org/x")."""
    match = _LINE.match(line)
    if not match:
        return None
    label = match.group(1).strip(" *")
    role = label_role(label, exact_only=True)
    if not role or role == "variant":
        return None
    value = match.group(2)
    listing = role in LISTS  # "English, German, …, and Thai": a list runs longer
    end = (_LIST_END if listing else _VALUE_END).search(value)
    value = clean_value(value[: end.start()] if end else value)
    if not value or len(value.split()) > (40 if listing else 12):
        return None
    return fact_key(clean_value(label)), value


# What a grid of divs writes on the line beside a label: "Fine-tuning" / "Supported",
# "128,000" / "context window".
_VALUE_LINE = re.compile(
    rf"^(✅|❌|✓|✔|✗|✘|yes|no|none|n/?a|supported|not supported|unsupported|available|"
    rf"not available|unavailable|beta|preview|ga|generally available|coming soon|deprecated|"
    rf"input only|output only|input and output|input & output|"
    rf"~?[\d.,]+ ?([kmbt]|[kmgt]i?b)?( tokens| params| parameters)?|{DATE})$", re.I)


def _value_line(line: str) -> bool:
    return len(line) <= 40 and _VALUE_LINE.match(line.removeprefix("- ").strip()) is not None


# A model id ("gemma3:270m", "gpt-4o-2024-08-06") names a model, it is not a label.
MODEL_ID = re.compile(r"^[A-Za-z][\w.]*[-:/][\w.:/-]*\d[\w.:/-]*$|"
                       r"^[A-Za-z][\w.]*\d[\w.]*[-:/][\w.:/-]*$")


def _label_line(line: str) -> bool:
    text = line.removeprefix("- ").strip()
    return (0 < len(text.split()) <= 5 and text[:1].isalpha()
            and not text.endswith((".", ":", "!", "?", ","))
            and not _value_line(text) and "|" not in text and not MODEL_ID.match(text))


def _line_pair(a: str, b: str) -> tuple[str, str] | None:
    """(label, value) of two lines a grid of divs laid out: label then value, or a value
    then the label of a field ("Oct 2023" / "knowledge cutoff")."""
    if _label_line(a) and _value_line(b):
        return a.removeprefix("- ").strip(), b.removeprefix("- ").strip()
    if _value_line(a) and _label_line(b) and label_role(b.removeprefix("- ")):
        return b.removeprefix("- ").strip(), a.removeprefix("- ").strip()
    return None


def take_line_facts(sections: dict[str, str], facts: Facts) -> dict[str, str]:
    """Sections without their fact lines ("Label: value", or a label and its value on two
    lines), which go into ``facts``."""
    out: dict[str, str] = {}
    for heading, text in sections.items():
        kept: list[str] = []
        lines = text.split("\n")
        i = 0
        while i < len(lines):
            pair = _line_pair(lines[i], lines[i + 1]) if i + 1 < len(lines) else None
            found = line_fact(lines[i])
            if pair is not None:
                put(facts, fact_key(clean_value(pair[0])), clean_value(pair[1]))
                i += 2
                continue
            if found:
                put(facts, *found)
            else:
                kept.append(lines[i])
            i += 1
        out[heading] = "\n".join(kept)
    return out
