"""The ``models`` kind's pure parts beyond the file cases: where the next page is, pages
joined into one document, deprecation tables in the wordings vendors use, the rule's
edges, and ``reassess diff --kind models`` on each API shape.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sources.base import Change, ChangeOp
from sources.models import Settings, diff, join_pages, next_page, parse
from triggers.models import models_rule
from triggers.rules import RuleContext

CASES = Path(__file__).parent / "cases" / "models"
CTX = RuleContext("v", "Vendor", "s", "models")


def _body(data: Any) -> bytes:
    return json.dumps(data).encode()


def test_next_page_of_each_paging_style() -> None:
    anthropic = _body({"data": [{"id": "a"}], "has_more": True, "first_id": "a",
                       "last_id": "b"})
    assert next_page(anthropic, "https://api.example/v1/models?limit=2") == \
        "https://api.example/v1/models?limit=2&after_id=b"
    assert next_page(anthropic, "https://api.example/v1/models?after_id=a&before_id=z") == \
        "https://api.example/v1/models?after_id=b"
    openai = _body({"object": "list", "data": [], "has_more": True, "last_id": "m9"})
    assert next_page(openai, "https://api.example/v1/models") == \
        "https://api.example/v1/models?after=m9"
    gemini = _body({"models": [], "nextPageToken": "Ch1tb2RlbHM="})
    assert next_page(gemini, "https://g.example/v1beta/models?key=K") == \
        "https://g.example/v1beta/models?key=K&pageToken=Ch1tb2RlbHM%3D"
    for last in (_body({"data": [], "has_more": False, "last_id": "x"}),
                 _body({"models": [], "nextPageToken": ""}), b"<html></html>", b"{broken",
                 _body([1, 2]), _body({"has_more": True, "last_id": None})):
        assert next_page(last, "https://api.example/v1/models") is None
    # A page that names itself as the next one ends the walk.
    assert next_page(_body({"has_more": True, "last_id": "b"}),
                     "https://api.example/m?after_id=b") is None


def test_pages_joined_parse_as_one_list() -> None:
    pages = [_body({"data": [{"type": "model", "id": f"m{i}", "display_name": f"M{i}"}],
                    "has_more": i < 2, "last_id": f"m{i}"}) for i in range(3)]
    doc = parse(join_pages(pages), Settings())
    assert doc.data["shape"] == "anthropic" and sorted(doc.data["models"]) == ["m0", "m1", "m2"]
    single = parse(pages[0], Settings())
    assert list(single.data["models"]) == ["m0"]


@pytest.mark.parametrize("header", [
    "| Shutdown date | Legacy model | Legacy model price | Recommended replacement |",
    "| Model | Release date | Shutdown date | Recommended replacement |",
    "| Retirement Date | Deprecated Model | Recommended Replacement |",
    "| Model name | Discontinuation date | Replacement |",
])
def test_deprecation_tables_in_vendor_wordings(header: str) -> None:
    cols = [c.strip().lower() for c in header.strip("|").split("|")]
    cells = {"model": "`old-model-1`", "date": "2025-06-06", "price": "$1.00",
             "replacement": "`new-model-2`", "release": "2024-01-01"}
    row = []
    for col in cols:
        key = ("replacement" if "replacement" in col else "price" if "price" in col
               else "release" if "release" in col else "model" if "model" in col else "date")
        row.append(cells[key])
    text = f"# Deprecations\n\n{header}\n|{'---|' * len(cols)}\n| {' | '.join(row)} |\n"
    [(ident, model)] = parse(text.encode(), Settings()).data["models"].items()
    assert ident == "old-model-1"
    assert (model["shutdown"], model["replacement"], model["status"]) == (
        "2025-06-06", "new-model-2", "deprecated")


def test_a_table_without_dates_or_replacements_is_no_deprecation_table() -> None:
    text = b"| Model | Context window |\n|---|---|\n| m-1 | 128k |\n"
    assert parse(text, Settings()).data["models"] == {}


def test_lifecycle_edges() -> None:
    def fired(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
        op: ChangeOp = ("added" if before is None else "removed" if after is None
                        else "modified")
        change = Change(op, "m", before, after, path="entity",
                        fields=("status", "shutdown") if op == "modified" else ())
        return [f"{e.type}:{e.severity}" for e in models_rule([change], CTX)]

    base = {"id": "m", "status": None, "shutdown": None, "replacement": None}
    assert fired(base, {**base, "status": "legacy"}) == ["model_change:high"]
    assert fired({**base, "status": "legacy"}, {**base, "status": "deprecated"}) == [
        "model_change:high"]
    assert fired({**base, "status": "deprecated"}, {**base, "status": "legacy"}) == []
    assert fired({**base, "shutdown": "2026-01-01"}, base) == []  # withdrawn: nothing
    assert fired(base, {**base, "status": "active", "shutdown": "not before 2026-05-14"}) == []
    assert fired(None, {**base, "status": "active", "shutdown": "not before 2026-05-14"}) == [
        "model_change:medium"]
    assert fired(None, {**base, "status": "retired"}) == ["model_change:high"]


def test_new_model_brings_only_what_no_model_had() -> None:
    old = parse(_body({"modelSummaries": [
        {"modelId": "a", "inputModalities": ["TEXT"], "outputModalities": ["TEXT"]}]}),
        Settings())
    new = parse(_body({"modelSummaries": [
        {"modelId": "a", "inputModalities": ["TEXT"], "outputModalities": ["TEXT"]},
        {"modelId": "b", "inputModalities": ["TEXT", "IMAGE"], "outputModalities": ["TEXT"]}]}),
        Settings())
    fired = models_rule(diff(old, new), CTX)
    assert sorted((e.type, e.entities) for e in fired) == [
        ("model_change", ("b",)), ("new_capability", ("IMAGE",))]


def test_diff_cli_on_each_api_shape() -> None:
    from typer.testing import CliRunner

    from monitor.cli.app import app

    for case in ("openai-list", "anthropic-list", "gemini-list", "openrouter-list",
                 "bedrock-list"):
        folder = CASES / case
        res = CliRunner().invoke(app, ["diff", "--kind", "models", str(folder / "old.json"),
                                       str(folder / "new.json"), "--json"])
        assert res.exit_code == 0, res.output
        got = json.loads(res.stdout)
        want = json.loads((folder / "expected.json").read_text())["triggers"]
        assert sorted((t["type"], sorted(t["entities"])) for t in got["triggers"]) == sorted(
            (t["type"], sorted(t["entities"])) for t in want), case


def test_azure_style_retirement_table() -> None:
    text = (b"| Model | Version | Deployment type | Legacy date | Retirement date | "
            b"Replacement model |\n|---|---|---|---|---|---|\n"
            b"| gpt-4o | 2024-05-13 | Standard | 2025-03-31 | 2025-10-15 | gpt-4.1 |\n"
            b"| gpt-4o | 2024-08-06 | Standard | | 2026-02-27 | gpt-4.1 |\n")
    models = parse(text, Settings()).data["models"]
    assert sorted(models) == ["gpt-4o-2024-05-13", "gpt-4o-2024-08-06"]
    first = models["gpt-4o-2024-05-13"]
    assert (first["legacy"], first["shutdown"], first["replacement"]) == (
        "2025-03-31", "2025-10-15", "gpt-4.1")
