"""Configuration: accepted shapes, and errors that name file, line and fix (exit 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parent.parent

BASE = """\
database: sqlite:///reassess.db
vendors:
  - id: acme
    name: Acme AI
    sources:
      - id: acme-subprocessors
        kind: page
        url: http://127.0.0.1:8765/acme/subprocessors
        interval: 1h
        select: "main"
        ignore: ["Last updated: .*"]
"""


def test_issue_shape_is_accepted() -> None:
    cfg = parse_config(BASE, "c.yaml")
    source = cfg.vendors[0].sources[0]
    assert source.interval == 3600
    assert source.settings() == {"select": "main", "ignore": ["Last updated: .*"]}


@pytest.mark.parametrize(("text", "line", "words"), [
    (BASE.replace("interval: 1h", "interval: fast"), 9, ["interval", "30s"]),
    (BASE.replace("select:", "selct:"), 10, ["selct", "did you mean 'select'"]),
    (BASE.replace("    name: Acme AI", "    name: Acme AI\n    colour: red"), 5, ["colour"]),
    (BASE.replace("kind: page", "kind: pagez"), 7, ["kind", "page"]),
    (BASE.replace("url: http://", "url: ftp://"), 8, ["url", "http"]),
    (BASE.replace('ignore: ["Last updated: .*"]', 'ignore: ["(unclosed"]'), 11, ["regex"]),
    (BASE + "  - id: acme\n    name: Again\n", 12, ["vendors[1].id", "duplicate id 'acme'"]),
    ("vendors:\n  - id: a\n    name: [unclosed\n", 4, ["YAML"]),
])
def test_errors_name_file_line_and_fix(text: str, line: int, words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "conf.yaml")
    message = str(info.value)
    assert f"conf.yaml:{line}:" in message, message
    for word in words:
        assert word in message, message


ASSESSED = BASE + """\
channels:
  log: {urls: "json://127.0.0.1:9/x"}
assessments:
  - id: a1
    vendor: acme
    assessed: 2026-03-01
"""


@pytest.mark.parametrize(("text", "line", "words"), [
    # a date YAML cannot build: the schema names it, never a traceback
    (ASSESSED.replace("2026-03-01", "2026-02-30"), 17, ["assessed", "date"]),
    # a duration without its unit: six seconds or six hours?
    (BASE.replace("interval: 1h", "interval: 6"), 9, ["interval", "unit", "6s", "6h"]),
    (BASE.replace("interval: 1h", "interval: 2.5"), 9, ["unit"]),
    # a URL with a space, a selector soupsieve cannot compile
    (BASE.replace("/acme/subprocessors", "/acme/sub processors"), 8, ["url", "space"]),
    (BASE.replace('select: "main"', 'select: "main >> ["'), 10, ["select", "CSS selector"]),
    (BASE.replace('select: "main"', 'select: "div:nope(1)"'), 10, ["select", "CSS selector"]),
    # cross-references: the line of the bad reference, not line 1
    (ASSESSED.replace("vendor: acme", "vendor: acme-ai"), 16, ["assessments[0].vendor",
                                                              "'acme-ai'"]),
    (ASSESSED.replace("    assessed: 2026-03-01", "    owner: [team]\n    assessed: 2026-03-01"),
     17, ["assessments[0].owner[0]", "'team'"]),
    (ASSESSED + "  - id: a1\n    vendor: acme\n", 18, ["assessments[1].id", "duplicate"]),
    (BASE + "      - {id: acme-subprocessors, kind: page, url: 'http://x.example/'}\n", 12,
     ["sources", "duplicate id 'acme-subprocessors'"]),
])
def test_every_mistake_names_the_line_of_its_value(text: str, line: int,
                                                   words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "conf.yaml")
    message = str(info.value)
    assert message.startswith(f"conf.yaml:{line}: "), message
    for word in words:
        assert word in message, message


@pytest.mark.parametrize("text", ["", "# nothing here\n", "\n\n"])
def test_an_empty_file_is_refused(tmp_path: Path, text: str, run_cli) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "empty.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:1: ") and "empty" in str(info.value)
    res = run_cli("validate", "--config", str(path))
    assert res.returncode == 2 and res.stderr.startswith(f"{path}:1: ")


def test_plain_seconds_stay_valid_in_code() -> None:
    """A model built in code (not read from a file) may still give seconds as a number."""
    from config.schema import SourceConfig

    assert SourceConfig.model_validate({"id": "s", "kind": "page", "url": "http://x.example/",
                                        "interval": 30}).interval == 30


def test_every_missing_variable_in_one_message() -> None:
    text = BASE.replace("http://127.0.0.1:8765", "${SITE}").replace(
        '"main"', '"${SELECTOR}"') + "channels:\n  c: {urls: \"${HOOK}\"}\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text, "c.yaml", env={})
    lines = str(info.value).splitlines()
    assert [line.split(": ")[0] for line in lines] == ["c.yaml:8", "c.yaml:10", "c.yaml:13"]
    assert all(name in str(info.value) for name in ("SITE", "SELECTOR", "HOOK"))


def test_several_reference_mistakes_are_listed_together() -> None:
    text = ASSESSED.replace("vendor: acme", "vendor: nobody") + \
        "  - id: a2\n    vendor: acme\n    owner: ghost\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text, "c.yaml")
    lines = str(info.value).splitlines()
    assert lines[0].startswith("c.yaml:16: ") and "'nobody'" in lines[0]
    assert lines[1].startswith("c.yaml:20: ") and "'ghost'" in lines[1]


def test_env_substitution_and_missing_variable() -> None:
    text = BASE.replace("http://127.0.0.1:8765", "${SITE}")
    cfg = parse_config(text, "c.yaml", env={"SITE": "http://10.0.0.1:9"})
    source = cfg.vendors[0].sources[0]
    assert source.url.startswith("${SITE}/")  # stored and shown with its placeholder
    assert source.request_url().startswith("http://10.0.0.1:9/")
    with pytest.raises(ConfigError) as info:
        parse_config(text, "c.yaml", env={})
    assert "SITE" in str(info.value) and "c.yaml:8" in str(info.value)


def test_secret_values_are_not_echoed() -> None:
    text = BASE + "channels:\n  sec:\n    urls: ${HOOK}\n    immediate: urgent\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text, "c.yaml", env={"HOOK": "json://hooks.example/T0SECRET"})
    assert "T0SECRET" not in str(info.value)
    assert "immediate" in str(info.value)


def test_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml")
    assert "reassess init" in str(info.value)


def test_validate_cli_exit_codes(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.yaml"
    good.write_text(BASE)
    res = run_cli("validate", "--config", str(good))
    assert res.returncode == 0, res.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE.replace("interval: 1h", "interval: soon"))
    res = run_cli("validate", "--config", str(bad))
    assert res.returncode == 2
    assert f"{bad}:9:" in res.stderr and "interval" in res.stderr
    typo = tmp_path / "typo.yaml"
    typo.write_text(BASE.replace("kind: page", "knd: page"))
    res = run_cli("validate", "--config", str(typo))
    assert res.returncode == 2 and ":7:" in res.stderr and "knd" in res.stderr


def test_init_writes_a_valid_config(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "new.yaml"
    assert run_cli("init", str(target)).returncode == 0
    assert run_cli("validate", "--config", str(target)).returncode == 0
    assert run_cli("init", str(target)).returncode == 2  # never overwrites silently


def test_example_configs_are_valid() -> None:
    from config import CONFIG_DIR

    for name in ("example.yaml", "starter.yaml"):
        load_config(CONFIG_DIR / name, env={"SLACK_WEBHOOK_URL": "json://127.0.0.1:9/x",
                                            "SMTP_USER": "u", "SMTP_PASS": "p"})


YAML_SHAPES = [
    "", "# only a comment\n", "a: 1\n", "a: [1, 2.5, -3, 0x1f, 1e3, .inf]\n",
    "a: {b: yes, c: No, d: ~, e: null, f: 'true', g: \"1\"}\n",
    "when: 2024-05-01\nat: 2024-05-01T10:00:00Z\n", "a: !!str 1\nb: !!int '2'\n",
    "base: &b {x: 1}\nother: *b\n", "base: &b {x: 1}\nmerged: {<<: *b, y: 2}\n",
    "- a\n- b: [c, {d: e}]\n", "a: |\n  block\n  text\nb: >\n  folded\n  text\n",
    "1: one\n2.5: two\ntrue: three\nnull: four\n", "? [complex, key]\n: value\n",
    "a: 1\n---\nb: 2\n", "plain scalar\n", "a: b: c\n", "a: [1, 2\n", "a:\n\tb: 1\n",
    "x: 1\nx: 2\n", "v:\n  - {id: a, id: b}\n",
]


@pytest.mark.parametrize("text", YAML_SHAPES)
def test_the_event_reader_loads_what_the_composer_loads(text: str) -> None:
    """``loader._load`` builds data from parser events; whatever it gives (or whatever
    error it raises) is what PyYAML's composer and constructor give."""
    from config import loader

    def run(fn: Any) -> Any:
        try:
            return ("ok", fn(text))
        except loader._Unusual:
            return ("unusual", None)
        except (yaml.YAMLError, ConfigError) as exc:
            return ("error", type(exc).__name__, str(exc))

    fast = run(loader._load)
    if fast[0] == "unusual":  # left to the composer, which parse_config falls back to
        return
    slow = run(lambda t: loader._compose_and_load(t)[1])
    assert fast == slow
    if fast[0] == "ok":
        assert repr(fast[1]) == repr(slow[1])  # same types, not only equal values


def test_the_event_reader_takes_every_shipped_config() -> None:
    from config import loader

    for path in sorted((ROOT / "config").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert loader._load(text) == loader._compose_and_load(text)[1], path
