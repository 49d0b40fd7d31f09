"""One way to fire (``triggers.fire``), the offline diff built on it, the suspect-document
guard in ``reassess diff``, and a kind's vocabulary coming from the registry alone."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from config import ConfigError, parse_config
from sources import REGISTRY, get_kind
from sources.base import Change
from sources.guard import MIN_GUARDED, suspect
from triggers.events import SEVERITIES, TRIGGER_TYPES, TriggerEvent
from triggers.fire import fire
from triggers.offline import diff_bodies
from triggers.page import page_rule
from triggers.policy import BUILTIN_RULES, Policy
from triggers.rules import KIND_RULES, RuleContext, evaluate, rule_for

CTX = RuleContext(vendor_id="acme", vendor_name="Acme AI", source_id="acme-dpa", kind="page",
                  old_hash="a", new_hash="b")
# Words the built-in training-terms policy rule knows, in a page change the page rule
# types as a policy change (no data is said to be trained on).
TRAINING = [Change("added", "Hosting", None,
                   "Our machine learning models are hosted in the United States.")]


def page(*lines: str) -> bytes:
    return ("<main>" + "".join(f"<p>{line}</p>" for line in lines) + "</main>").encode()


def test_every_kind_names_a_rule_the_registry_resolves() -> None:
    assert set(KIND_RULES) == set(REGISTRY)
    for kind in REGISTRY:
        assert callable(rule_for(kind)) and KIND_RULES[kind] is rule_for(kind)
    assert rule_for("page") is page_rule
    with pytest.raises(KeyError):
        rule_for("nope")


def test_fire_is_the_kind_rule_then_the_policy() -> None:
    [bare] = evaluate(TRAINING, CTX)
    assert bare.severity == "medium" and bare.rule is None
    [builtin] = fire(TRAINING, CTX)  # the built-in policy rules by default
    assert builtin.severity == "high" and builtin.rule == BUILTIN_RULES[0].name
    configured = Policy.build(parse_config(
        "rules:\n  - {name: calm, match: {vendor: acme}, severity: low}\n").rules)
    [calm] = fire(TRAINING, CTX, configured)
    assert calm.severity == "low" and calm.rule == f"{BUILTIN_RULES[0].name}, calm"
    assert fire([], CTX) == []


def test_vocabulary_is_checked_when_an_event_is_made() -> None:
    assert TRIGGER_TYPES[0] == "model_change" and SEVERITIES == ("low", "medium", "high",
                                                                 "critical")
    with pytest.raises(ValueError, match="unknown trigger type"):
        TriggerEvent(type="model_swap", severity="high", title="x")
    with pytest.raises(ValueError, match="unknown severity"):
        TriggerEvent(type="incident", severity="urgent", title="x")


def test_offline_diff_applies_the_builtin_policy_and_names_the_source() -> None:
    old = page("We keep your data for 30 days.")
    new = page("We keep your data for 30 days.", "Customer content is used for training.")
    result = diff_bodies("page", old, new, vendor_name="Acme AI", source_id="acme-dpa")
    [t] = result["triggers"]
    assert (t["type"], t["severity"]) == ("training_data_change", "high")
    assert t["title"] == ("Acme AI: training-data terms changed (acme-dpa): "
                          "added \u201cCustomer content is used for training.\u201d")
    assert result["suspect"] is False and result["reason"] is None


def test_guard_flags_an_empty_or_collapsed_document() -> None:
    kind = get_kind("page")
    settings = kind.Settings()
    full = kind.parse(page(*(f"clause {i}" for i in range(10))), settings)
    few = kind.parse(page("clause 0", "clause 1"), settings)
    empty = kind.parse(b"<main></main>", settings)
    assert suspect(kind, None, full) is None and suspect(kind, full, full) is None
    assert "empty" in (suspect(kind, None, empty) or "")
    # a page's size is its words
    assert "collapsed: 4 items where there were 20" in (suspect(kind, full, few) or "")
    small = kind.parse(page(*(f"c{i}" for i in range(MIN_GUARDED - 1))), settings)
    assert suspect(kind, small, kind.parse(page("c0"), settings)) is None  # too few to judge


def test_a_suspect_new_document_fires_nothing_offline() -> None:
    old = page(*(f"Clause {i}: we do not train on customer content." for i in range(12)))
    new = page("Please sign in to continue.")
    result = diff_bodies("page", old, new)
    assert result["changed"] is True and result["changes"]
    assert result["suspect"] is True and result["triggers"] == []
    assert result["reason"].startswith("login wall: ")


@pytest.fixture
def files(tmp_path: Path) -> Callable[..., tuple[str, str]]:
    def write(old: bytes, new: bytes) -> tuple[str, str]:
        (tmp_path / "old.html").write_bytes(old)
        (tmp_path / "new.html").write_bytes(new)
        return str(tmp_path / "old.html"), str(tmp_path / "new.html")
    return write


def test_diff_cli_reports_a_suspect_document_and_exits_0(
        files: Callable[..., tuple[str, str]], run_cli: Callable[..., Any]) -> None:
    old, new = files(page(*(f"Clause {i}." for i in range(12))), b"<main></main>")
    res = run_cli("diff", "--kind", "page", old, new, "--json")
    assert res.returncode == 0, res.stderr
    result = json.loads(res.stdout)
    assert result["suspect"] is True and result["triggers"] == [] and result["reason"]
    text = run_cli("diff", "--kind", "page", old, new)
    assert text.returncode == 0 and "Suspect new document" in text.stdout


CONFIG = """\
vendors:
  - id: acme
    name: Acme AI
    sources:
      - {{id: acme-dpa, kind: page, url: "http://127.0.0.1:9/dpa", select: main}}
rules:
  - {{name: dpa-critical, match: {{source: acme-dpa}}, severity: critical}}
"""


def test_diff_cli_with_a_configured_source_applies_its_rules(
        files: Callable[..., tuple[str, str]], run_cli: Callable[..., Any],
        make_config: Callable[..., Path]) -> None:
    config = str(make_config(CONFIG))
    old, new = files(b"<nav>menu</nav>" + page("Retention: 30 days."),
                     b"<nav>other menu</nav>" + page("Retention: 90 days."))
    res = run_cli("diff", "--config", config, "--source", "acme-dpa", old, new, "--json")
    assert res.returncode == 0, res.stderr
    [t] = json.loads(res.stdout)["triggers"]
    assert t["severity"] == "critical" and t["title"] == (
        "Acme AI: wording changed (acme-dpa): \u201cRetention: 30 days.\u201d \u2192 "
        "\u201cRetention: 90 days.\u201d")
    assert json.loads(res.stdout)["changes"][0]["after"] == "Retention: 90 days."  # select
    plain = json.loads(run_cli("diff", "--kind", "page", old, new, "--json").stdout)
    assert plain["triggers"][0]["severity"] == "medium"
    for args, words in ((("--source", "acme-dpa"), "--config"),
                        (("--config", config, "--source", "nope"), "known: acme-dpa"),
                        (("--config", config, "--source", "acme-dpa", "--kind", "changelog"),
                         "differs"),
                        ((), "--kind"), (("--kind", "pages"), "valid: ")):
        bad = run_cli("diff", *args, old, new)
        assert bad.returncode == 2 and words in bad.stderr, (args, bad.stderr)


# --- a kind's vocabulary comes from the registry -----------------------------------------

@pytest.fixture
def new_kind(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A kind registered as a new one would be: one module plus one registry line."""
    base = get_kind("page")
    module = types.ModuleType("reassess_test_kind")
    for name in ("Settings", "parse", "diff", "size", "describe"):
        setattr(module, name, getattr(base, name))
    module.__doc__ = "test — a kind added by a test."
    module.NAME, module.PARSER_VERSION = "test_kind", "1"
    module.INTERVAL, module.RULES = 123.0, "triggers.page:page_rule"
    monkeypatch.setitem(sys.modules, "reassess_test_kind", module)
    monkeypatch.setitem(REGISTRY._paths, "test_kind", "reassess_test_kind")  # type: ignore[attr-defined]
    yield "test_kind"
    REGISTRY._loaded.pop("test_kind", None)  # type: ignore[attr-defined]


def test_a_new_kind_needs_no_edit_in_config_or_rules(new_kind: str) -> None:
    config = parse_config(f"""\
schedule: {{intervals: {{{new_kind}: 10m}}}}
vendors:
  - id: acme
    name: Acme AI
    sources:
      - {{id: a, kind: {new_kind}, url: "http://127.0.0.1:9/a"}}
      - {{id: b, kind: page, url: "http://127.0.0.1:9/b"}}
rules:
  - {{match: {{kind: {new_kind}}}, severity: high}}
""", "c.yaml")
    vendor = config.vendors[0]
    assert config.interval_for(vendor, vendor.sources[0]) == 600
    no_schedule = config.model_copy(update={"schedule": type(config.schedule)()})
    assert no_schedule.interval_for(vendor, vendor.sources[0]) == 123.0
    assert no_schedule.interval_for(vendor, vendor.sources[1]) == get_kind("page").INTERVAL
    assert rule_for(new_kind) is page_rule and new_kind in KIND_RULES


@pytest.mark.parametrize(("text", "line"), [
    ("vendors:\n  - id: a\n    name: A\n    sources:\n"
     "      - {id: s, kind: pagez, url: 'http://x/'}\n", 5),
    ("schedule:\n  intervals: {pagez: 1m}\n", 2),
    ("rules:\n  - match: {kind: [page, pagez]}\n    severity: low\n", 2),
])
def test_an_unregistered_kind_is_refused_with_the_valid_ones(text: str, line: int) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "c.yaml")
    message = str(info.value)
    assert f"c.yaml:{line}:" in message and "'pagez'" in message, message
    assert "valid kinds: " + ", ".join(sorted(REGISTRY)) in message, message
