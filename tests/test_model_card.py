"""The ``model_card`` kind read as facts: labels named through the ``card_fields``
vocabulary, variants keyed by their id, prose compared as claims, structure changes that
re-key nothing, and bounded work on hostile bodies."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from sources import model_card, vocab
from sources.base import Change
from sources.model_card.claims import capabilities_in, same_claim, tokens
from sources.model_card.facts import items, label_role, line_fact
from triggers.model_card import model_card_rule
from triggers.rules import RuleContext

MC = model_card.Settings()
CTX = RuleContext(vendor_id="v", vendor_name="Vendor", source_id="s", kind="model_card",
                  old_hash="a" * 8, new_hash="b" * 8)


@pytest.fixture(autouse=True)
def _no_additions() -> Iterator[None]:
    vocab.extend({})
    yield
    vocab.extend({})


def _fired(old: str, new: str) -> list[tuple[str, str, tuple[str, ...]]]:
    a, b = model_card.parse(old.encode(), MC), model_card.parse(new.encode(), MC)
    events = model_card_rule(model_card.diff(a, b), CTX)
    return [(e.type, e.severity, e.entities) for e in events]


@pytest.mark.parametrize(("label", "role"), [
    ("License", "license"), ("**Licence**", "license"), ("Cutoff date", "knowledge_cutoff"),
    ("Input modalities", "input_modalities"), ("Parameters (B)", "parameters"),
    ("Language(s) (NLP)", "languages"), ("Primary languages", "languages"),
    ("Context Length (tokens)", "context_window"), ("Model Name", "model_name"),
    ("Finetuned from model", "base_model"), ("Base model structure", "architecture"),
    ("Model developer", None), ("Image input", None), ("Epsilon", None), ("Z loss", None),
])
def test_labels_name_their_field(label: str, role: str | None) -> None:
    assert label_role(label) == role


def test_the_config_adds_labels_and_capabilities() -> None:
    assert label_role("Weights grant") is None
    assert not capabilities_in("It reads minds.")
    vocab.extend({"card_fields": {"license": ["weights grant"]},
                  "capabilities": {"telepathy": ["reads minds"]}})
    assert label_role("Weights grant") == "license"
    assert capabilities_in("It now reads minds.") == [("reads minds", "telepathy")]


@pytest.mark.parametrize(("line", "fact"), [
    ("- **Base model**: org/x-3B — Wang et al., paper", ("base_model", "org/x-3B")),
    ("Supported languages: Arabic, English, French, German, Hindi, Indonesian, Italian, "
     "Portuguese, Spanish, Tagalog, Thai, and Vietnamese.",
     ("supported_languages", "Arabic, English, French, German, Hindi, Indonesian, Italian, "
      "Portuguese, Spanish, Tagalog, Thai, and Vietnamese")),
    ("- Language(s) (NLP): English; code", ("language", "English; code")),
    ("Overview: the model was trained on web data.", None),
    ("Where to send questions or comments about the model: see README.", None),
])
def test_label_lines_are_facts(line: str, fact: tuple[str, str] | None) -> None:
    assert line_fact(line) == fact


def test_listed_values_are_items_in_no_order() -> None:
    assert items("Text, Image") == items("Image ,Text") == ["Image", "Text"]
    assert items("English, German, and Thai") == ["English", "German", "Thai"]
    assert items("text+vision") == ["text", "vision"]


VARIANTS = """# Orca

## Variants

| Model variant | Parameters | Quantization | Context window | VRAM¹ |
|---|---|---|---|---|
{rows}
"""
ROWS = ["| `ai/orca:latest`<br><br>`ai/orca:7B-Q4` | 7B | Q4 | 32K tokens | 4.6 GiB |",
        "| `ai/orca:3B-F16` | 3B | F16 | 32K tokens | 6.9 GiB |",
        "| `ai/orca:7B-Q4` | 7B | Q4 | 32K tokens | 4.6 GiB |"]


def test_variants_are_keyed_by_id_whatever_the_row_order_or_duplicates() -> None:
    doc = model_card.parse(VARIANTS.format(rows="\n".join(ROWS)).encode(), MC)
    assert set(doc.data["variants"]) == {"ai/orca:latest", "ai/orca:7b-q4", "ai/orca:3b-f16"}
    assert doc.data["variants"]["ai/orca:3b-f16"] == {
        "id": "ai/orca:3B-F16", "parameters": "3B", "quantization": "F16",
        "context_window": "32K tokens", "vram": "6.9 GiB"}
    shuffled = "\n".join([ROWS[2], ROWS[1], ROWS[0], ROWS[2]])
    assert model_card.parse(VARIANTS.format(rows=shuffled).encode(), MC).hash == doc.hash


def test_a_variant_added_is_a_model_change_named_by_its_id() -> None:
    old = VARIANTS.format(rows="\n".join(ROWS))
    new = VARIANTS.format(rows="\n".join([*ROWS, "| `ai/orca:13B-Q4` | 13B | Q4 | 32K | 8 GiB |"]))
    assert _fired(old, new) == [("model_change", "medium", ("ai/orca:13B-Q4",))]
    memory = VARIANTS.format(rows="\n".join(r.replace("GiB", "GB") for r in ROWS))
    assert _fired(old, memory) == []


def test_a_row_without_an_id_continues_the_row_above() -> None:
    card = """# K

|  | Params | Context length |
| :- | :- | :- |
| Kestrel (text only) | 1B | 128k |
|  | 3B |  |
"""
    variants = model_card.parse(card.encode(), MC).data["variants"]
    assert variants == {"kestrel (text only)": {
        "id": "Kestrel (text only)", "params": "1B; 3B", "context_length": "128k"}}


def test_comparison_and_benchmark_tables_are_not_variants() -> None:
    card = """# M

## Compared

| Model | Params | MMLU | GSM8K |
|---|---|---|---|
| Ours | 7B | 61.2 | 50.3 |
| Other-8B | 8B | 66.0 | 79.6 |

## Scores

| Benchmark | Score |
|---|---|
| MMLU | 61.2 |
"""
    data = model_card.parse(card.encode(), MC).data
    assert data["variants"] == {} and data["facts"] == {}
    assert "Other-8B | 8B | 66.0 | 79.6" in data["sections"]["Compared"]


CARD = """---
license: apache-2.0
---

# Wren-2B

Wren-2B is a small bilingual model for chat. It supports a 32k context window.

## Model Details

- **Developed by:** Wren Labs
- **Release date:** May 2, 2025

| Attribute | Details |
|---|---|
| Input modalities | Text |
| Languages | English, French |

## Training Data

Wren-2B was pretrained on 3 trillion tokens of public web data with a cutoff of January 2025.

## Limitations

The model can state incorrect facts with confidence.

## Variants

| Tag | Parameters | Size |
|---|---|---|
| wren:2b | 2B | 1.6 GB |
| wren:2b-q4 | 2B | 1.1 GB |

## Contributors

Ana Ruiz, Bo Chen
"""


def test_structure_changes_re_key_nothing() -> None:
    """Headings gain numbers, sections move, a table gains a column, rows are reordered,
    list markers and wrapping change: no fact changed, nothing fires."""
    new = (CARD.replace("## Model Details", "## 1. Model Details")
           .replace("## Training Data", "## 2. Training Data")
           .replace("- **", "* **")
           .replace("| Tag | Parameters | Size |\n|---|---|---|",
                    "| Tag | Parameters | Size | Download |\n|---|---|---|---|")
           .replace("| wren:2b | 2B | 1.6 GB |\n| wren:2b-q4 | 2B | 1.1 GB |",
                    "| wren:2b-q4 | 2B | 1.1 GB | [link](https://x.invalid/a) |\n"
                    "| wren:2b | 2B | 1.6 GB | [link](https://x.invalid/b) |")
           .replace("## Limitations\n\nThe model can state incorrect facts with confidence.\n\n",
                    "")
           .replace("## Contributors", "## Limitations\n\nThe model can state incorrect\n"
                    "facts with confidence.\n\n## Contributors"))
    assert _fired(CARD, new) == []


@pytest.mark.parametrize("edit", [
    ("incorrect facts", "incorect facts"),  # a typo
    ("is a small bilingual model", "is a small, bilingual model"),  # punctuation
    ("can state incorrect", "may state incorrect"),  # grammar
    ("Ana Ruiz, Bo Chen", "Ana Ruiz, Bo Chen, Cy Dahl"),  # a contributor
    ("pretrained on 3 trillion", "pre-trained on 3 trillion"),  # spelling
    ("apache-2.0", "Apache-2.0"),  # case
])
def test_edits_that_change_no_fact_fire_nothing(edit: tuple[str, str]) -> None:
    assert _fired(CARD, CARD.replace(*edit)) == []


@pytest.mark.parametrize(("edit", "expected"), [
    (("license: apache-2.0", "license: cc-by-nc-4.0"), ("policy_change", "cc-by-nc-4.0")),
    (("| Input modalities | Text |", "| Input modalities | Text, Image |"),
     ("new_capability", "Image")),
    (("| Languages | English, French |", "| Languages | English, French, German |"),
     ("new_capability", "German")),
    (("**Release date:** May 2, 2025", "**Release date:** June 9, 2025"),
     ("model_change", "June 9, 2025")),
    (("| wren:2b-q4 | 2B | 1.1 GB |", "| wren:2b-q4 | 2B | 1.1 GB |\n| wren:7b | 7B | 4.4 GB |"),
     ("model_change", "wren:7b")),
    (("It supports a 32k context window.", "It supports a 32k context window and now supports "
      "function calling."), ("new_capability", "function calling")),
])
def test_fact_changes_fire_with_the_entity_as_written(edit: tuple[str, str],
                                                      expected: tuple[str, str]) -> None:
    fired = _fired(CARD, CARD.replace(*edit))
    assert any(t == expected[0] and expected[1] in e for t, _, e in fired), fired


def test_training_data_prose_fires_when_its_claims_change() -> None:
    new = CARD.replace("3 trillion tokens of public web data with a cutoff of January 2025",
                       "4 trillion tokens of public web data and licensed books with a cutoff "
                       "of March 2025")
    assert ("training_data_change", "medium", ()) in _fired(CARD, new)


def test_a_new_limitation_is_low_and_a_translation_is_nothing() -> None:
    new = CARD.replace("with confidence.", "with confidence. In our tests it also ignored "
                       "system prompt instructions in long multi-turn conversations.")
    assert _fired(CARD, new) == [("model_change", "low", ())]
    zh = "# 鹪鹩\n\n## 简介\n\n鹪鹩-2B 支持 32k 上下文，在 12 项评测中有 9 项领先。\n"
    en = "# 鹪鹩\n\n## Introduction\n\nWren-2B supports a 32k context and leads on 9 of 12 evals.\n"
    assert _fired(zh, en) == []


def test_claims_compare_numbers_dates_and_ids() -> None:
    assert tokens("~15 trillion tokens, cutoff December 2023, on H100-80GB") == {
        "15t", "2023", "dec", "h100-80gb"}
    assert same_claim("The data has a cutoff of May 2024", "The data has the cutoff of May 2024")
    assert not same_claim("cutoff of May 2024", "cutoff of June 2024")


def test_label_lines_in_a_section_are_judged_by_their_label() -> None:
    change = Change("modified", "Model Description", "- Type: x\n- License: MIT",
                    "- Type: x\n- License: Apache 2.0", path="section")
    (event,) = model_card_rule([change], CTX)
    assert event.type == "policy_change"


HOSTILE = [
    b"# M\n\n" + (b"word" + b"*" * 40 + b" ") * 5000,
    b"<html><body>" + b"<div>" * 16000 + b"x" + b"</div>" * 16000 + b"</body></html>",
    b"a" * 10_000_000,
    b"# M\n\n| Model | Parameters |\n|---|---|\n" + b"".join(
        b"| m%d:1b | 1B |\n" % i for i in range(5000)),
    b"# M\n\n## Training data\n\n" + b"GPT-4o-2024 x: " * 100_000,
]


@pytest.mark.parametrize("body", HOSTILE, ids=["stars", "divs", "one-char", "rows", "ids"])
def test_hostile_bodies_parse_and_judge_in_bounded_time(body: bytes) -> None:
    start = time.perf_counter()
    old = model_card.parse(body, MC)
    new = model_card.parse(body + b"\n\nThe model now supports audio input.\n", MC)
    model_card_rule(model_card.diff(old, new), CTX)
    assert time.perf_counter() - start < 30
    assert len(old.data["variants"]) <= 500
