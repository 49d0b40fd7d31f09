"""A loaded config's models share their equal parts (``config/schema.py`` ``_share``):
what that relies on, and what it must never change."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

from config import Config, load_config, parse_config
from config.schema import SourceConfig

TEXT = """\
vendors:
  - id: acme
    name: Acme AI
    interval: 1h
    sources:
      - {id: acme-a, kind: page, url: "http://127.0.0.1:9/a"}
      - {id: acme-b, kind: page, url: "http://127.0.0.1:9/b"}
      - id: acme-c
        kind: page
        url: "http://127.0.0.1:9/c?key=${KEY}"
        headers: {Authorization: "Bearer ${TOKEN}"}
        select: main
  - id: beta
    name: Beta
    interval: 1h
    sources:
      - {id: beta-a, kind: page, url: "http://127.0.0.1:9/beta"}
assessments:
  - {id: r1, vendor: acme, system: Assistant, review_every: 12 months}
  - {id: r2, vendor: beta, system: Assistant, review_every: 12 months}
  - {id: r3, vendor: beta, system: Assistant, triggers: [incident], flag_overdue: false}
"""
ENV = {"KEY": "k-secret-1", "TOKEN": "t-secret-2"}


def _sources(config: Config) -> dict[str, SourceConfig]:
    return {s.id: s for _, s in config.sources()}


def test_equal_parts_are_shared_within_one_load() -> None:
    config = parse_config(TEXT, "c.yaml", ENV)
    s = _sources(config)
    a, b, beta = s["acme-a"], s["acme-b"], s["beta-a"]
    assert a.model_fields_set is b.model_fields_set is beta.model_fields_set
    assert a.headers is b.headers and a.model_extra is b.model_extra
    assert a.kind is s["acme-c"].kind
    r1, r2, r3 = config.assessments
    assert r1.triggers is r2.triggers and r1.system is r3.system
    assert config.vendors[0].interval is config.vendors[1].interval


def test_a_bound_source_keeps_its_own_environment() -> None:
    """``bind_env`` must not write into the environment the unbound sources share."""
    s = _sources(parse_config(TEXT, "c.yaml", ENV))
    bound, plain = s["acme-c"], s["acme-a"]
    assert bound.request_url() == "http://127.0.0.1:9/c?key=k-secret-1"
    assert bound.request_headers() == {"Authorization": "Bearer t-secret-2"}
    assert bound.url.endswith("${KEY}")  # what is stored and shown keeps the placeholder
    assert bound.settings() == {"select": "main"}
    for other in (plain, s["acme-b"], s["beta-a"]):
        assert other.secrets() == {}
        assert "secret" not in other.request_url()
        assert other.request_headers() == {} and other.settings() == {}
    plain.bind_env({"KEY": "x-other-3"})  # binding one source again touches no other
    assert s["acme-b"].secrets() == {} and bound.request_url().endswith("k-secret-1")


def test_shared_containers_are_never_written_through() -> None:
    s = _sources(parse_config(TEXT, "c.yaml", ENV))
    a, b = s["acme-a"], s["acme-b"]
    copied = a.model_copy(update={"select": "article", "confirm": 2})
    assert copied.settings() == {"select": "article"} and copied.confirm == 2
    assert "confirm" in copied.model_fields_set
    assert a.settings() == b.settings() == {} and a.confirm == b.confirm == 1
    assert a.model_fields_set == b.model_fields_set == {"id", "kind", "url"}
    r1, r2, r3 = parse_config(TEXT, "c.yaml", ENV).assessments
    assert r1.triggers is r2.triggers and r1.triggers[-1] == "review_due"
    assert r3.triggers == ["incident"]  # flag_overdue: false: no review_due added


def test_a_second_load_sees_every_change_and_leaves_the_first(tmp_path: Path) -> None:
    """A reload reads the file again: nothing of the first load leaks into the second."""
    path = tmp_path / "reassess.yaml"
    path.write_text(TEXT, encoding="utf-8")
    first = load_config(path, ENV)
    path.write_text(TEXT.replace("interval: 1h", "interval: 2h", 1)
                    .replace("select: main", "select: article")
                    .replace("system: Assistant, review_every", "system: Copilot, review_every",
                             1), encoding="utf-8")
    second = load_config(path, {**ENV, "TOKEN": "t-rotated-4"})
    assert [v.interval for v in second.vendors] == [7200, 3600]
    assert [v.interval for v in first.vendors] == [3600, 3600]
    assert _sources(second)["acme-c"].settings() == {"select": "article"}
    assert _sources(first)["acme-c"].settings() == {"select": "main"}
    assert _sources(second)["acme-c"].request_headers() == {"Authorization": "Bearer t-rotated-4"}
    assert _sources(first)["acme-c"].request_headers() == {"Authorization": "Bearer t-secret-2"}
    assert [a.system for a in second.assessments] == ["Copilot", "Assistant", "Assistant"]
    assert [a.system for a in first.assessments] == ["Assistant"] * 3


def test_models_built_in_code_are_left_alone() -> None:
    source = SourceConfig(id="x", kind="page", url="http://127.0.0.1:9/x")
    other = SourceConfig(id="y", kind="page", url="http://127.0.0.1:9/y")
    assert source.headers is not other.headers
    assert source.model_fields_set is not other.model_fields_set


def _config(n: int) -> str:
    lines = ["vendors:"]
    for v in range(n // 3):
        lines += [f"  - id: v{v}", f"    name: Vendor {v}", "    interval: 15m", "    sources:"]
        lines += [f'      - {{id: v{v}-{k}, kind: {k}, url: "http://127.0.0.1:9/v{v}/{k}"}}'
                  for k in ("subprocessors", "changelog", "incidents")]
    lines.append("assessments:")
    lines += [f"  - {{id: v{v}-review, vendor: v{v}, system: Assistant, disposition: approved, "
              f"assessed: 2026-01-15, review_every: 12 months}}" for v in range(n // 3)]
    return "\n".join(lines) + "\n"


def test_memory_held_per_source() -> None:
    """The bench's shape (docs/performance.md, "A large install"): a source with its third
    of a vendor and of an assessment held ~2,100 B before the models shared their equal
    parts, ~1,050 B after (pydantic 2.14, CPython 3.11)."""
    n = 3000
    text = _config(n)
    parse_config(_config(30), "warm.yaml")
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        config = parse_config(text, "big.yaml")
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(config.sources()) == n
    assert held / n < 1500, f"{held / n:.0f} B per source"
