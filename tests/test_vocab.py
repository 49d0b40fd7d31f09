"""Vocabularies as data: the shipped YAML files, the config's ``vocabulary:`` additions,
and what a change of vocabulary does to stored documents (a re-baseline, never a trigger).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from config import ConfigError, load_config, parse_config
from monitor.check.parsing import parse_in_worker
from monitor.check.pipeline import Checker
from sources import get_kind, parser_version, vocab
from sources.subprocessors.names import name_key
from sources.subprocessors.places import places_in
from storage.db import open_database, session_scope
from storage.models import Source, Trigger


@pytest.fixture(autouse=True)
def _no_additions() -> Iterator[None]:
    vocab.extend({})
    yield
    vocab.extend({})


@pytest.mark.parametrize("name", vocab.NAMES)
def test_every_shipped_vocabulary_loads_in_its_shape(name: str) -> None:
    data = vocab.builtin(name)
    assert data, f"sources/vocab/{name}.yaml is empty"
    if name in vocab.LISTS:
        assert isinstance(data, list) and all(isinstance(w, str) and w for w in data)
    else:
        assert isinstance(data, dict) and all(isinstance(k, str) for k in data)


def test_additions_extend_lists_and_merge_mappings_without_duplicates() -> None:
    vocab.extend({"model_families": ["Fable", "claude"],
                  "capabilities": {"audio": ["sound input"], "telepathy": ["mind reading"]}})
    families = vocab.get("model_families")
    assert families[-1] == "Fable" and sum(f.casefold() == "claude" for f in families) == 1
    caps = vocab.get("capabilities")
    assert "sound input" in caps["audio"] and "transcription" in caps["audio"]
    assert caps["telepathy"] == ["mind reading"]
    assert vocab.fingerprint()
    vocab.extend({})
    assert "Fable" not in vocab.get("model_families") and vocab.fingerprint() == ""


def test_unknown_vocabulary_is_refused() -> None:
    with pytest.raises(KeyError, match="unknown vocabulary"):
        vocab.extend({"colours": ["red"]})


CONFIG = """\
database: sqlite:///{db}
vocabulary:
  legal_suffixes: [zrt]
  countries:
    Atlantis: {{code: AQ, aliases: [Lost Continent]}}
vendors: []
"""


def test_config_additions_reach_the_parsers(tmp_path: Path) -> None:
    assert name_key("Acme Zrt") == "acme zrt"
    assert places_in("Hosted on the Lost Continent") == []
    path = tmp_path / "reassess.yaml"
    path.write_text(CONFIG.format(db=tmp_path / "r.db"))
    load_config(path)
    assert name_key("Acme Zrt") == "acme"
    assert places_in("Hosted on the Lost Continent") == ["atlantis"]
    assert parser_version(get_kind("subprocessors")).startswith(
        get_kind("subprocessors").PARSER_VERSION + "+")


def test_a_mistake_under_vocabulary_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "reassess.yaml"
    path.write_text("vendors: []\nvocabulary:\n  header_words:\n    colour: [hue]\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}:4:"), str(err.value)


def test_a_worker_forked_before_the_config_is_handed_the_additions() -> None:
    body = (b"<table><tr><th>Name</th><th>Location</th></tr>"
            b"<tr><td>Acme Zrt</td><td>Hungary</td></tr></table>")
    settings = get_kind("subprocessors").Settings()
    plain = parse_in_worker("subprocessors", settings, body, {})
    extended = parse_in_worker("subprocessors", settings, body, {"legal_suffixes": ["zrt"]})
    assert plain.parser_version == get_kind("subprocessors").PARSER_VERSION
    assert extended.parser_version != plain.parser_version
    assert list(plain.data["entities"]) == ["acme zrt"]
    assert list(extended.data["entities"]) == ["acme"]


SITE_CONFIG = """\
database: {db}
{vocabulary}
vendors:
  - id: acme
    name: Acme AI
    sources:
      - {{id: acme-sub, kind: subprocessors, url: "{site}/acme/subprocessors"}}
"""


def _check(text: str) -> dict[str, Any]:
    config = parse_config(text)
    engine = open_database(config.database)
    checker = Checker(config, engine)
    checker.sync()
    try:
        asyncio.run(checker.check())
    finally:
        checker.close()
    with session_scope(engine) as s:
        source = s.exec(select(Source)).scalars().one()  # type: ignore[call-overload]
        triggers = s.exec(select(Trigger)).scalars().all()  # type: ignore[call-overload]
        result = {"outcome": source.last_outcome, "version": source.parser_version,
                  "triggers": len(triggers)}
    engine.dispose()
    return result


def test_a_new_vocabulary_rebaselines_and_fires_nothing(site: Any, db_url: str) -> None:
    base = {"db": db_url, "site": site.base_url}
    first = _check(SITE_CONFIG.format(vocabulary="", **base))
    assert first["outcome"] == "baseline" and first["triggers"] == 0
    extended = SITE_CONFIG.format(
        vocabulary="vocabulary: {legal_suffixes: [zrt], model_families: [Fable]}", **base)
    second = _check(extended)
    assert second["version"] != first["version"], "the additions change the parser version"
    assert second["outcome"] in ("rebaselined", "unchanged")
    assert second["triggers"] == 0
    third = _check(extended)
    assert third["outcome"] in ("unchanged", "not_modified") and third["triggers"] == 0
