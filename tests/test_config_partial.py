"""``load_config_for``: the config as the history commands (``reassess triggers``,
``show``) read it: what they use is what the whole file gives, and its mistakes are the
same errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, load_config, load_config_for
from config.loader import _cut

TEXT = """\
# a comment at the top
database: sqlite:///history.db
channels:
  ops: {urls: "json://127.0.0.1:9/x"}
deadlines: {migration_days: 30}
controls:
  - {id: CARD-1, framework: internal, requirement: "Cards are read", when: [{kind: model_card}]}
frameworks: [iso42001, internal]
vendors:
  - id: acme
    name: Acme AI
    owner: ops
    objection_days: 30
    sources:
      - {id: acme-card, kind: model_card, url: "http://127.0.0.1:9/card", hub: acme/model}
      - id: acme-status
        kind: incidents
        url: "http://127.0.0.1:9/status?a=1&b=2"

  # between two vendors
  - id: acme-two
    name: Acme Two
    objection_days: 10
    sources:
      - {id: acme-two-page, kind: page, url: "http://127.0.0.1:9/two"}
  - id: beta
    name: Beta
    sources:
      - {id: beta-card, kind: model_card, url: "http://127.0.0.1:9/beta", hub: beta/m}
assessments:
  - {id: r1, vendor: acme, owner: ops}
  - {id: r2, vendor: beta}
"""


@pytest.fixture
def path(tmp_path: Path) -> Path:
    out = tmp_path / "reassess.yaml"
    out.write_text(TEXT, encoding="utf-8")
    return out


def test_what_a_history_command_uses_is_what_the_whole_file_gives(path: Path) -> None:
    whole = load_config(path)
    part = load_config_for(path, {"acme-card", "beta"})
    assert [v.id for v in part.vendors] == ["acme", "beta"]  # not acme-two: a longer id
    assert part.assessments == []
    for vendor in part.vendors:
        assert vendor == whole.vendor(vendor.id)
    assert part.model_dump(exclude={"vendors", "assessments"}) == whole.model_dump(
        exclude={"vendors", "assessments"})
    for source in ("acme-card", "beta-card"):
        assert part.controls_for("model_change", source, "high") == whole.controls_for(
            "model_change", source, "high")
    assert any(c["id"] == "CARD-1" for c in part.controls_for("model_change", "acme-card"))
    assert [v.id for v in load_config_for(path, ()).vendors] == []
    assert [v.id for v in load_config_for(path, ["acme-two"]).vendors] == ["acme-two"]


def test_every_line_keeps_its_number() -> None:
    cut = _cut(TEXT, ["beta"])
    assert cut is not None
    assert cut.count("\n") == TEXT.count("\n")
    for number, line in enumerate(cut.splitlines()):
        assert line in ("", TEXT.splitlines()[number])


@pytest.mark.parametrize("mistake", [
    ("frameworks: [iso42001, internal]", "frameworks: [iso42001, internl]"),
    ("deadlines: {migration_days: 30}", "deadlines: {migration_dayz: 30}"),
    ("      - {id: beta-card, kind: model_card", "      - {id: beta-card, kind: model_cart"),
    ("    name: Beta\n", "    name: Beta\n    colour: red\n"),
    ("database: sqlite:///history.db", "database: sqlite:///history.db\ndatabase: again"),
])
def test_a_mistake_in_what_is_read_is_the_whole_files_error(
        path: Path, mistake: tuple[str, str]) -> None:
    path.write_text(TEXT.replace(*mistake), encoding="utf-8")
    with pytest.raises(ConfigError) as whole:
        load_config(path)
    with pytest.raises(ConfigError) as part:
        load_config_for(path, ["beta-card"])
    assert str(part.value) == str(whole.value)
    assert part.value.line == whole.value.line


def test_what_is_not_read_is_not_checked(path: Path) -> None:
    path.write_text(TEXT.replace("kind: page", "kind: pagez"), encoding="utf-8")
    with pytest.raises(ConfigError):
        load_config(path)
    assert [v.id for v in load_config_for(path, ["beta-card"]).vendors] == ["beta"]


@pytest.mark.parametrize("layout", [
    TEXT.replace("vendors:\n  - id: acme\n", "vendors:\n  - &first\n    id: acme\n"),
    "---\n" + TEXT,
    TEXT.replace("vendors:\n", "vendors: [{id: zeta, name: Z}]\nunused:\n"),
    TEXT.replace("database: sqlite", '"database": sqlite'),
])
def test_a_layout_it_cannot_cut_is_read_whole(tmp_path: Path, layout: str) -> None:
    assert _cut(layout, ["beta"]) is None
    path = tmp_path / "reassess.yaml"
    path.write_text(layout, encoding="utf-8")
    try:
        whole = load_config(path)
    except ConfigError as exc:
        with pytest.raises(ConfigError) as part:
            load_config_for(path, ["beta"])
        assert str(part.value) == str(exc)
        return
    assert load_config_for(path, ["beta"]) == whole


def test_items_at_column_zero_and_comments_are_cut(tmp_path: Path) -> None:
    text = ("vendors:\n- id: a\n  name: A\n# a comment\n- id: b\n  name: B\n"
            "  sources: [{id: b-page, kind: page, url: 'http://127.0.0.1:9/b'}]\n")
    cut = _cut(text, ["b-page"])
    assert cut is not None and "id: a" not in cut and "id: b" in cut
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    assert [v.id for v in load_config_for(path, ["b-page"]).vendors] == ["b"]
