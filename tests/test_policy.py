"""The rules engine (triggers/policy.py), pure: match, severity, suppress, route, order."""

from __future__ import annotations

from typing import Any

import pytest

from config.schema import RuleConfig
from sources.base import Change
from triggers.events import TriggerEvent
from triggers.policy import BUILTIN_RULES, Policy, event_text
from triggers.rules import RuleContext

CTX = RuleContext(vendor_id="acme", vendor_name="Acme AI", source_id="acme-subs",
                  kind="subprocessors", old_hash="a", new_hash="b")


def event(**kw: Any) -> TriggerEvent:
    base: dict[str, Any] = {"type": "subprocessor_change", "severity": "medium",
                            "title": "Subprocessor added: Cohere", "entities": ("Cohere",),
                            "basis": "a>b"}
    return TriggerEvent(**{**base, **kw})


def rule(**kw: Any) -> RuleConfig:
    return RuleConfig.model_validate(kw)


def run(rules: list[dict[str, Any]], events: list[TriggerEvent], ctx: RuleContext = CTX,
        changes: list[Change] | None = None, builtin: bool = False) -> list[TriggerEvent]:
    policy = Policy.build([rule(**r) for r in rules], builtin=builtin)
    return policy.apply(events, ctx, changes or [])


@pytest.mark.parametrize(("match", "hit"), [
    ({}, True),
    ({"type": "subprocessor_change"}, True),
    ({"type": ["incident", "model_change"]}, False),
    ({"vendor": "acme"}, True),
    ({"vendor": ["northwind"]}, False),
    ({"source": "acme-subs"}, True),
    ({"source": "acme-dpa"}, False),
    ({"kind": "subprocessors"}, True),
    ({"kind": "page"}, False),
    ({"entity": "^co(here|mpany)$"}, True),  # case-insensitive search
    ({"entity": "openai|anthropic"}, False),
    ({"words": ["cohere"]}, True),  # in the title
    ({"words": ["coher"]}, False),  # whole words only
    ({"words": ["Canada"]}, True),  # in the change's after value
    ({"severity": ["medium", "high"]}, True),
    ({"severity": "low"}, False),
    ({"vendor": "acme", "type": "incident"}, False),  # every condition must hold
], ids=lambda v: repr(v) if isinstance(v, dict) else str(v))
def test_match_conditions(match: dict[str, Any], hit: bool) -> None:
    ev = event(changes=({"op": "added", "key": "cohere", "before": None,
                         "after": {"name": "Cohere", "location": "Canada"}},))
    [got] = run([{"name": "r", "match": match, "severity": "critical"}], [ev])
    assert (got.severity == "critical") is hit
    assert (got.rule == "r") is hit


def test_severity_last_matching_rule_wins() -> None:
    [got] = run([{"name": "one", "severity": "low"},
                 {"name": "two", "match": {"vendor": "acme"}, "severity": "high"},
                 {"name": "three", "match": {"vendor": "other"}, "severity": "critical"}],
                [event()])
    assert got.severity == "high"
    assert got.rule == "one, two"


def test_severity_match_sees_earlier_rules() -> None:
    [got] = run([{"name": "raise", "severity": "high"},
                 {"name": "high-to-critical", "match": {"severity": "high"},
                  "severity": "critical"}], [event(severity="low")])
    assert got.severity == "critical"


def test_suppress_and_route() -> None:
    events = [event(), event(type="incident", title="Elevated errors", entities=())]
    got = run([{"name": "quiet", "match": {"type": "incident"}, "suppress": True},
               {"name": "sec", "match": {"type": "subprocessor_change"}, "route": "security"},
               {"name": "all", "route": ["security", "legal"]}], events)
    assert not got[0].suppressed and got[0].channels == ("security", "legal")
    assert got[1].suppressed and got[1].channels == ("security", "legal")
    assert got[1].rule == "quiet, all"


def test_no_rules_leaves_events_alone() -> None:
    ev = event()
    assert run([], [ev]) == [ev]


def test_unnamed_rules_are_numbered_in_config_order() -> None:
    policy = Policy.build([rule(severity="low"), rule(name="named", suppress=True)],
                          builtin=False)
    assert [r["name"] for r in policy.to_list()] == ["rule 1", "named"]
    [got] = policy.apply([event()], CTX)
    assert got.rule == "rule 1, named"


def test_words_search_all_changes_when_the_event_carries_none() -> None:
    changes = [Change("added", "line 3", None, "We may use your content to train our models.")]
    ev = event(type="policy_change", title="Acme AI: page changed", entities=())
    assert "train our models" in event_text(ev, changes)
    [got] = run([{"match": {"words": "train our models"}, "severity": "high"}], [ev],
                changes=changes)
    assert got.severity == "high"


def test_builtin_rules_come_first_and_config_overrides() -> None:
    changes = [Change("added", "line 3", None, "Customer content is used for training.")]
    ev = event(type="policy_change", title="Acme AI: page changed", entities=())
    [raised] = Policy.build([]).apply([ev], CTX, changes)
    assert raised.severity == "high" and raised.rule == BUILTIN_RULES[0].name
    [overridden] = Policy.build([rule(name="calm", match={"source": "acme-subs"},
                                      severity="low")]).apply([ev], CTX, changes)
    assert overridden.severity == "low"
    assert [r["origin"] for r in Policy.build([rule()]).to_list()] == ["builtin"] * len(
        BUILTIN_RULES) + ["config"]


def test_builtin_rules_never_lower_a_severity() -> None:
    changes = [Change("added", "line 3", None, "Customer content is used for training.")]
    ev = event(type="policy_change", severity="critical", entities=())
    [got] = Policy.build([]).apply([ev], CTX, changes)
    assert got.severity == "critical" and got.rule is None


def test_rule_config_rejects_bad_values() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="regex"):
        rule(match={"entity": "("})
    with pytest.raises(ValidationError):
        rule(severity="urgent")
    with pytest.raises(ValidationError):
        rule(match={"colour": "red"})


def test_a_reloaded_checker_applies_the_new_rules(tmp_path: Any) -> None:
    """SIGHUP reloads reach the rules: the checker must not keep the old config's policy."""
    from config import parse_config
    from monitor.check.pipeline import Checker
    from storage.db import open_database

    base = ("database: sqlite:///{db}\nvendors:\n  - id: acme\n    name: Acme AI\n"
            "    sources:\n      - {{id: s, kind: page, url: 'http://127.0.0.1:9/x'}}\n")
    old = parse_config(base.format(db=tmp_path / "r.db"))
    new = parse_config(base.format(db=tmp_path / "r.db")
                       + "rules:\n  - {name: quiet, match: {vendor: acme}, suppress: true}\n")
    engine = open_database(old.database)
    checker = Checker(old, engine)
    assert not checker.policy.apply([event()], CTX, [])[0].suppressed
    checker.reload(new)
    assert checker.policy.apply([event()], CTX, [])[0].suppressed
    engine.dispose()
