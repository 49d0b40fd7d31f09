"""Rules on statements of real changelogs and model cards the development corpus does not
hold, each as a small snippet written in that document's own markup (never a copied
document): what a new entry or sentence fires, and what stays silent.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sources import changelog, vocab
from sources.base import Change
from triggers.changelog import changelog_rule
from triggers.rules import RuleContext


@pytest.fixture(autouse=True)
def _no_additions() -> Iterator[None]:
    vocab.extend({})
    yield
    vocab.extend({})


def _changelog_changes(old: str, new: str) -> list[Change]:
    settings = changelog.Settings()
    return changelog.diff(changelog.parse(old.encode(), settings),
                          changelog.parse(new.encode(), settings))


def _fired(old: str, new: str) -> list[tuple[str, tuple[str, ...]]]:
    ctx = RuleContext(vendor_id="v", vendor_name="V", source_id="s", kind="changelog",
                      old_hash="a", new_hash="b")
    return [(t.type, t.entities) for t in changelog_rule(_changelog_changes(old, new), ctx)]


# --- changelog: a chore that retires a model -------------------------------------------

_CHANGESETS = """# @acme/ai-provider

{new}## 2.0.4

### Patch Changes

- 3c1d9e2: fix(provider): handle empty tool results
"""

_RELEASE_PLEASE = """# Changelog

{new}## 1.4.0 (2026-10-02)

### Features

* **api:** add streaming usage events ([1a2b3c4](https://github.com/acme/acme-python/commit/1a2b3c4))
"""


def _changeset(*items: str) -> str:
    lines = "".join(f"- {item}\n" for item in items)
    return _CHANGESETS.format(new=f"## 2.0.5\n\n### Patch Changes\n\n{lines}\n")


def _release(heading: str, *items: str) -> str:
    lines = "".join(f"* {item} ([3c4d5e6](https://github.com/acme/acme-python/commit/3c4d5e6))\n"
                    for item in items)
    return _RELEASE_PLEASE.format(new=f"## 1.4.1 (2026-10-09)\n\n### {heading}\n\n{lines}\n")


@pytest.mark.parametrize("item", [
    "aa5a583: chore(models): remove obsolete Grok 2 models now that they are shut down",
    "chore: gpt-4-32k is retired upstream, drop it from the enum",
])
def test_a_chore_that_retires_a_model_fires(item: str) -> None:
    fired = _fired(_changeset(), _changeset(item))
    assert [t for t, _ in fired] == ["model_change"]
    assert fired[0][1][0] in ("Grok 2", "gpt-4-32k")


def test_a_chores_section_item_that_retires_a_model_fires() -> None:
    new = _release("Chores",
                   "**models:** remove obsolete Grok 2 models now that they are shut down",
                   "**deps:** bump httpx to 0.28")
    assert _fired(_release("Chores"), new) == [("model_change", ("Grok 2",))]


@pytest.mark.parametrize("items", [
    ("1f2e3d4: chore(deps): bump zod to 3.25.1", "5e6f7a8: chore: remove unused lint config",
     "7a8b9c0: chore(ci): drop Node 18 from the test matrix"),
    ("chore: remove deprecated `maxTokens` handling for gpt-4o",
     "chore(models): update the models enum", "chore: remove gpt-4o from the tests",
     "chore(examples): remove gemini-1.5-pro", "chore(deps): remove gpt-4o",
     "chore: remove obsolete model IDs for Anthropic, Google, OpenAI, xAI"),
])
def test_plain_chores_stay_silent(items: tuple[str, ...]) -> None:
    assert _fired(_changeset(), _changeset(*items)) == []


def test_chores_and_fixes_sections_stay_silent() -> None:
    new = _release("Chores", "**internal:** remove deprecated test helpers",
                   "**deps:** bump httpx to 0.28", "**ci:** remove Python 3.8 from the matrix")
    new = new.replace("\n## 1.4.0", "### Bug Fixes\n\n* handle removed gpt-4 model gracefully\n"
                      "* deprecate nothing: remove the stale claude-2.1 retry\n\n## 1.4.0")
    assert _fired(_release("Chores"), new) == []


# --- changelog: "(e.g. `id`)" belongs to its statement ----------------------------------

def test_an_example_in_brackets_stays_in_its_statement() -> None:
    from triggers.changelog_classifier import statements

    line = "feat(provider): add the new reasoning models (e.g. `acme-reason-2-mini`)"
    assert statements("2.0.5", [line]) == [("2.0.5", ""), (line, "")]
    assert statements("x", ["Use i.e. Grok. Then retire it."]) == [
        ("x", ""), ("Use i.e. Grok.", ""), ("Then retire it.", "")]


@pytest.mark.parametrize("item", [
    "4d5e6f7: feat(provider): add the new reasoning models (e.g. `acme-reason-2-mini`)",
    "4d5e6f7: feat(provider): new default model for chat (e.g. `acme-reason-2-mini`). "
    "Faster first token.",
])
def test_the_model_an_example_names_is_the_entity(item: str) -> None:
    fired = dict(_fired(_changeset(), _changeset(item)))
    assert fired["model_change"] == ("acme-reason-2-mini",)


# --- changelog: a new model of a family no vocabulary knows ----------------------------

_KEEP = """# Changelog

All notable changes to this project will be documented in this file.

{new}## [1.2.0] - 2026-09-14

### Added

- Streaming responses for the chat endpoint.

### Fixed

- Retries no longer drop the request body.
"""


def _kept(*sections: tuple[str, tuple[str, ...]]) -> str:
    body = "".join(f"### {heading}\n\n" + "".join(f"- {item}\n" for item in items) + "\n"
                   for heading, items in sections)
    return _KEEP.format(new=f"## [1.3.0] - 2026-10-20\n\n{body}" if sections else "")


@pytest.mark.parametrize(("items", "names"), [
    (("Nimbus 2 Pro is now available as our most capable model.",), ("Nimbus 2 Pro",)),
    (("Orbit 3 and Orbit 3 Mini models are now supported.",), ("Orbit 3", "Orbit 3 Mini")),
    (("Added Orbit 3, our new flagship model.",), ("Orbit 3",)),
    (("The new Stratus 1.5 70B model is available in the EU.",), ("Stratus 1.5 70B",)),
])
def test_a_new_model_of_an_unknown_family_is_named(items: tuple[str, ...],
                                                  names: tuple[str, ...]) -> None:
    fired = _fired(_kept(), _kept(("Added", items)))
    assert fired == [("model_change", names)]


def test_a_new_model_in_a_changeset_is_named() -> None:
    item = "4d5e6f7: feat(provider): add Orbit 3, our new flagship model"
    assert _fired(_changeset(), _changeset(item)) == [("model_change", ("Orbit 3",))]


@pytest.mark.parametrize("items", [
    ("Support for Python 3.14 and Node 22.", "Tested against Postgres 17 (e.g. `pg-17`)."),
    ("Added Python 3.14 wheels for the model client.",
     "Models hosted in Azure Region 2 can be selected.",
     "New model picker groups Orbit 3 variants.", "Added Step 2 of the model setup guide.",
     "Orbit 3 pricing reduced for all models."),
])
def test_other_versioned_names_are_no_new_model(items: tuple[str, ...]) -> None:
    new = _kept(("Added", items), ("Fixed", ("The model picker no longer shows retired "
                                             "Orbit 2 models twice.",)))
    assert _fired(_kept(), new) == []


# --- model_card: a new sentence of what the model is trained on, outside its section ----

_CARD = """---
license: apache-2.0
language:
- en
base_model: acme/nimbus-7b-base
---

# Nimbus-7B-Chat

Nimbus-7B-Chat is a 7 billion parameter instruction-tuned model for support chat.
{intro}It answers in English and follows short system prompts.

## Training Data

The model was fine-tuned on 1.2M synthetic support dialogues and the OpenAssist corpus.

## Limitations

The model may produce incorrect answers about products it has not seen.
"""


def _card_fired(old_intro: str, new_intro: str) -> list[tuple[str, tuple[str, ...]]]:
    from sources import model_card
    from triggers.model_card import model_card_rule

    settings = model_card.Settings()
    old = model_card.parse(_CARD.format(intro=old_intro).encode(), settings)
    new = model_card.parse(_CARD.format(intro=new_intro).encode(), settings)
    ctx = RuleContext(vendor_id="v", vendor_name="V", source_id="s", kind="model_card",
                      old_hash="a", new_hash="b")
    return [(t.type, t.entities) for t in model_card_rule(model_card.diff(old, new), ctx)]


@pytest.mark.parametrize("sentence", [
    "As of 2027-01-15 this model is trained on an expanded corpus that includes licensed "
    "news archives and support transcripts from partner companies.",
    "Since January 2027, Nimbus-7B-Chat has been trained with additional multilingual web "
    "data.",
])
def test_a_new_intro_sentence_of_training_data_fires(sentence: str) -> None:
    assert _card_fired("", sentence + "\n") == [("training_data_change", ())]


@pytest.mark.parametrize(("old", "new"), [
    ("", "As of 2027-01-15 this card is maintained by the Acme developer relations team.\n"),
    ("It was trained on public dialogues and synthetic tickets.\n",
     "It has been trained on synthetic tickets and public dialogues.\n"),
    ("", "Outputs of this model may not be used to train other models.\n"),
])
def test_other_intro_sentences_stay_silent(old: str, new: str) -> None:
    assert _card_fired(old, new) == []
