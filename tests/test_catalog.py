"""The vendor catalog: its files, ``reassess catalog``, ``catalog verify`` and ``add``.

``verify`` runs against the simulated vendor site on loopback through a test catalog
(``--catalog``, ``--base-url``); the catalog's real URLs are never fetched here.
"""

from __future__ import annotations

import difflib
import json
import re
import textwrap
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, cli

from config import parse_config
from config.catalog import (
    CATALOG_DIR,
    CatalogError,
    find_vendor,
    load_catalog,
    load_vendor_file,
    set_confirmed,
)
from config.catalog.edit import add_vendor

# What config/example.yaml's own channels need; the catalog's additions need nothing.
EXAMPLE_ENV = {"SMTP_USER": "u", "SMTP_PASS": "p",
               "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B000/XXXXXXXX"}


# --- the shipped catalog ---------------------------------------------------------------

def test_the_catalog_has_at_least_25_vendors_each_from_its_own_file() -> None:
    vendors = load_catalog()
    assert len(vendors) >= 25
    assert len({v.id for v in vendors}) == len(vendors)
    for name in ("openai", "anthropic", "google-gemini", "azure-openai", "aws-bedrock",
                 "mistral", "cohere", "meta-llama", "hugging-face", "xai", "deepseek",
                 "groq", "together", "perplexity", "elevenlabs", "github-copilot",
                 "atlassian", "slack", "zoom", "salesforce"):
        assert (CATALOG_DIR / f"{name}.yaml").is_file(), name


def test_no_url_is_confirmed_by_hand_and_each_says_where_it_was_found() -> None:
    for vendor in load_catalog():
        for source in vendor.sources:
            assert source.confirmed is None, (vendor.id, source.id)
            assert source.found_in.startswith(("https://", "http://")), (vendor.id, source.id)
        text = (CATALOG_DIR / f"{vendor.id}.yaml").read_text(encoding="utf-8")
        assert text.count("confirmed: null") == len(vendor.sources), vendor.id


def test_sources_that_need_a_secret_say_what_to_set() -> None:
    keyed = [(v.id, s) for v in load_catalog() for s in v.sources if s.headers]
    assert keyed
    for vendor_id, source in keyed:
        assert source.needs, vendor_id
        for value in source.headers.values():
            assert "${" in value or not re.search(r"[A-Za-z0-9]{20,}", value), vendor_id


def test_the_catalog_files_ship_in_the_wheel() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = project["tool"]["setuptools"]
    assert "config.catalog" in setuptools["packages"]
    assert "*.yaml" in setuptools["package-data"]["config.catalog"]


# --- the loader --------------------------------------------------------------------------

def _vendor_file(directory: Path, name: str, body: str) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_a_misspelt_key_is_named_with_its_file_and_line(tmp_path: Path) -> None:
    path = _vendor_file(tmp_path, "acme", """\
        id: acme
        name: Acme
        sources:
          - id: status
            kind: incidents
            url: https://acme.example/status.atom
            foundin: https://acme.example/status
            confirmed: null
        """)
    with pytest.raises(CatalogError) as caught:
        load_vendor_file(path)
    message = str(caught.value)
    assert f"{path}:7: sources[0].foundin: unknown key 'foundin'; did you mean 'found_in'?" \
        in message
    assert f"{path}:4: sources[0].found_in: required key is missing" in message


@pytest.mark.parametrize(("body", "expected"), [
    ("id: other\nname: X\nsources: []\n", "at least 1 item"),
    ("id: other\nname: X\nsources:\n  - {id: a, kind: page, url: 'https://x.example/',"
     " found_in: 'https://x.example/', confirmed: null}\n", "must be the file's name"),
    ("id: acme\nname: X\nsources:\n  - {id: a, kind: pages, url: 'https://x.example/',"
     " found_in: 'https://x.example/', confirmed: null}\n", "kind 'pages' is not"),
    ("id: acme\nname: X\nsources:\n  - {id: a, kind: page, url: 'https://x.example/',"
     " found_in: 'https://x.example/', confirmed: 2026-13-01}\n", "confirmed"),
    ("id: acme\nname: X\nsources:\n  - {id: a, kind: models, url: 'https://x.example/',"
     " headers: {Authorization: 'Bearer ${KEY}'}, found_in: 'https://x.example/',"
     " confirmed: null}\n", "say what to set in needs:"),
    ("id: acme\nname: X\nsources:\n  - {id: a, kind: page, url: 'https://x.example/',"
     " options: {selct: main}, found_in: 'https://x.example/', confirmed: null}\n",
     "options are not valid for kind page"),
])
def test_a_bad_catalog_file_is_refused_with_the_reason(tmp_path: Path, body: str,
                                                        expected: str) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(CatalogError, match=re.escape(expected)):
        load_vendor_file(path)


def test_an_unknown_vendor_gets_a_did_you_mean() -> None:
    vendors = load_catalog()
    assert find_vendor(vendors, "OpenAI").id == "openai"
    with pytest.raises(CatalogError, match="did you mean openai"):
        find_vendor(vendors, "opnai")
    with pytest.raises(CatalogError, match="did you mean anthropic"):
        find_vendor(vendors, "claude")


# --- reassess catalog ----------------------------------------------------------------------

def test_catalog_json_lists_every_vendor_with_id_name_and_sources() -> None:
    done = cli("catalog", "--json")
    assert done.returncode == 0, done.stderr
    vendors = json.loads(done.stdout)
    assert isinstance(vendors, list) and len(vendors) >= 25
    for vendor in vendors:
        assert {"id", "name", "sources"} <= set(vendor)
        for source in vendor["sources"]:
            assert {"kind", "url", "found_in", "confirmed"} <= set(source)
    openai = next(v for v in vendors if v["id"] == "openai")
    assert any(s["kind"] == "models" and s["needs"] for s in openai["sources"])


def test_catalog_table_fits_80_columns() -> None:
    done = cli("catalog", env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(line.startswith("openai ") for line in lines)
    assert "reassess add VENDOR --config FILE" in done.stdout
    plain = cli("catalog", "--plain").stdout.splitlines()
    assert plain[0].split("\t") == ["ID", "NAME", "SRC", "KINDS (* needs a key)"]
    assert len(plain) == len(load_catalog()) + 1


# --- reassess add --------------------------------------------------------------------------

FLOW = """\
# a flow-style config: every collection in brackets
database: "sqlite:///reassess.db"   # where history goes
vendors: [
  {id: acme, name: Acme AI, sources: [
    {id: acme-dpa, kind: page, url: "https://acme.example/legal/dpa"}  # the DPA
  ]}
]
assessments: [{id: acme-chat, vendor: acme, disposition: approved}]
"""

COMMENTED = """\
# Our AI vendors. Reviewed quarterly by the AI governance group.
database: sqlite:///reassess.db

vendors:
# --- model providers ---------------------------------------------------------
- id: acme                 # our chat vendor
  name: Acme AI
  sources:
  - id: acme-dpa
    kind: page
    url: https://acme.example/legal/dpa   # the DPA, signed 2026-01-10
    # ignore: ["Version \\\\d+"]

# --- assessments --------------------------------------------------------------
assessments:
- id: acme-chat
  vendor: acme
  disposition: approved    # see ticket GOV-12
"""

TRAILING_COMMA = "vendors: [\n  {id: acme, name: Acme, sources: []},\n  # more to come\n]\n"


def _starting_files(tmp_path: Path) -> dict[str, Path]:
    files = {"example": CATALOG_DIR.parent / "example.yaml",
             "starter": CATALOG_DIR.parent / "starter.yaml"}
    out = {}
    for name, src in files.items():
        out[name] = tmp_path / f"{name}.yaml"
        out[name].write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    for name, text in (("flow", FLOW), ("commented", COMMENTED),
                       ("trailing-comma", TRAILING_COMMA), ("empty-list", "vendors: []\n"),
                       ("no-vendors", "# nothing yet\ndatabase: sqlite:///r.db\n"),
                       ("null-vendors", "vendors:   # to fill in\nrules: []\n"),
                       ("flow-root", "{database: 'sqlite:///r.db'}\n")):
        out[name] = tmp_path / f"{name}.yaml"
        out[name].write_text(text, encoding="utf-8")
    return out


def _only_inserted(old: str, new: str) -> bool:
    """Every line of ``old`` is in ``new``, in order and unchanged: lines were only added
    (a line may have been split where the new text went in, as in a flow collection)."""
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    return all(tag == "insert" for tag, *_ in matcher.get_opcodes() if tag != "equal")


@pytest.mark.parametrize("name", ["example", "starter", "flow", "commented", "trailing-comma",
                                  "empty-list", "no-vendors", "null-vendors", "flow-root"])
def test_add_appends_the_vendor_and_keeps_the_rest_of_the_file(tmp_path: Path,
                                                               name: str) -> None:
    path = _starting_files(tmp_path)[name]
    old = path.read_text(encoding="utf-8")
    vendor = "cohere" if name == "example" else "openai"  # example.yaml has openai already
    added = add_vendor(old, find_vendor(load_catalog(), vendor), assessment="new-review")
    assert _only_inserted(old, added.text), added.text
    config = parse_config(added.text, str(path), {**EXAMPLE_ENV})
    found = config.vendor(vendor)
    assert [s.id for s in found.sources] == added.live
    assert all(s.url.startswith("https://") for s in found.sources)
    assert any(a.id == "new-review" and a.vendor == vendor and a.disposition == "pending"
               for a in config.assessments)
    if vendor == "openai":  # its models API needs a key: written, but as a comment
        assert "openai-models" in added.commented
        assert re.search(r"#\s+- id: openai-models|# \{id: openai-models", added.text)
        assert "needs an API key in OPENAI_API_KEY" in added.text


def test_add_then_validate_accepts_the_file_with_no_key_set(tmp_path: Path) -> None:
    path = _starting_files(tmp_path)["commented"]
    old = path.read_text(encoding="utf-8")
    done = cli("add", "openai", "--config", str(path))
    assert done.returncode == 0, done.stderr
    assert "Added OpenAI (openai)" in done.stdout
    new = path.read_text(encoding="utf-8")
    for line in old.splitlines():
        assert line in new.splitlines()
    valid = cli("validate", "--config", str(path))
    assert valid.returncode == 0, valid.stderr
    assert valid.stdout.startswith("OK: 2 vendors")
    assert parse_config(new, str(path), env={}).vendor("openai").sources  # no variable set


def test_add_refuses_a_vendor_already_there(tmp_path: Path) -> None:
    path = _starting_files(tmp_path)["example"]
    before = path.read_text(encoding="utf-8")
    done = cli("add", "openai", "--config", str(path))
    assert done.returncode == 2
    assert "vendor 'openai' is already in the config" in done.stderr
    assert path.read_text(encoding="utf-8") == before


def test_add_refuses_an_unknown_vendor_with_a_did_you_mean(tmp_path: Path) -> None:
    path = _starting_files(tmp_path)["starter"]
    done = cli("add", "antropic", "--config", str(path))
    assert done.returncode == 2
    assert "no vendor 'antropic' in the catalog; did you mean anthropic?" in done.stderr


def test_add_refuses_an_assessment_id_already_taken(tmp_path: Path) -> None:
    path = _starting_files(tmp_path)["flow"]
    done = cli("add", "mistral", "--assessment", "acme-chat", "--config", str(path))
    assert done.returncode == 2
    assert "assessment 'acme-chat' is already in the config, for vendor 'acme'" in done.stderr


def test_a_second_add_leaves_the_first_vendors_commented_sources_with_it(
        tmp_path: Path) -> None:
    text = (CATALOG_DIR.parent / "starter.yaml").read_text(encoding="utf-8")
    vendors = load_catalog()
    first = add_vendor(text, find_vendor(vendors, "openai")).text
    second = add_vendor(first, find_vendor(vendors, "anthropic")).text
    assert _only_inserted(first, second)
    assert second.index("# - id: openai-models") < second.index("- id: anthropic")
    assert [v.id for v in parse_config(second).vendors] == ["acme", "openai", "anthropic"]


def test_add_keeps_source_ids_unique(tmp_path: Path) -> None:
    text = ("vendors:\n  - id: acme\n    name: Acme\n    sources:\n"
            "      - {id: mistral-terms, kind: page, url: 'https://acme.example/'}\n")
    added = add_vendor(text, find_vendor(load_catalog(), "mistral"))
    config = parse_config(added.text)
    ids = [s.id for _, s in config.sources()]
    assert "mistral-terms-2" in ids and len(ids) == len(set(ids))


# --- reassess catalog verify ----------------------------------------------------------------

def _test_catalog(directory: Path) -> Path:
    """Two fictional vendors whose URLs name paths the simulated site serves under /acme."""
    directory.mkdir()
    _vendor_file(directory, "acme", """\
        # Acme's presets (a test catalog)
        id: acme
        name: Acme AI
        aliases: [Acme Chat]
        sources:
          - id: subprocessors
            kind: subprocessors
            url: https://acme.example/subprocessors
            found_in: https://acme.example/trust
            confirmed: null        # set by verify --write
          - id: status
            kind: incidents
            url: https://status.acme.example/status/history.atom
            found_in: https://status.acme.example/
            confirmed: null
          - id: sdk
            kind: changelog
            url: https://github.example/changelog.atom
            found_in: https://github.example/releases
            confirmed: null
          - id: card
            kind: model_card
            url: https://acme.example/model-card.md
            found_in: https://acme.example/models
            confirmed: null
          - id: models
            kind: models
            url: https://api.acme.example/v1/models
            headers: {Authorization: "Bearer ${ACME_API_KEY}"}
            needs: an API key in ACME_API_KEY
            found_in: https://acme.example/docs/models
            confirmed: null
        """)
    _vendor_file(directory, "brokenco", """\
        id: brokenco
        name: Broken Co
        sources:
          - id: gone
            kind: page
            url: https://brokenco.example/no-such-page
            found_in: https://brokenco.example/legal
            confirmed: null
        """)
    return directory


def test_verify_reports_what_answers_what_does_not_and_what_it_skipped(
        site: Any, tmp_path: Path) -> None:
    directory = _test_catalog(tmp_path / "catalog")
    base = f"{str(site.base_url).rstrip('/')}/acme"
    done = cli("catalog", "verify", "--json", "--catalog", str(directory), "--base-url", base,
               "--timeout", "5")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    by_source = {(r["vendor"], r["source"]): r for r in report["results"]}
    for source in ("subprocessors", "status", "sdk", "card"):
        assert by_source[("acme", source)]["status"] == "ok", by_source[("acme", source)]
        assert by_source[("acme", source)]["items"] > 0
    assert by_source[("acme", "models")]["status"] == "skipped"
    assert "ACME_API_KEY" in by_source[("acme", "models")]["detail"]
    gone = by_source[("brokenco", "gone")]
    assert gone["status"] == "failed" and gone["http_status"] == 404
    assert (report["ok"], report["failed"], report["skipped"], report["written"]) == (4, 1, 1, 0)


def test_verify_sends_a_keyed_source_its_key_when_it_is_set(site: Any,
                                                             tmp_path: Path) -> None:
    directory = tmp_path / "catalog"
    directory.mkdir()
    _vendor_file(directory, "acme", """\
        id: acme
        name: Acme AI
        sources:
          - id: status
            kind: incidents
            url: https://acme.example/status/api/v2/incidents.json
            headers: {Authorization: "Bearer ${ACME_TEST_KEY}"}
            needs: an API key in ACME_TEST_KEY
            found_in: https://acme.example/
            confirmed: null
        """)
    args = ("catalog", "verify", "--json", "--catalog", str(directory), "--base-url",
            f"{str(site.base_url).rstrip('/')}/acme")
    skipped = json.loads(cli(*args).stdout)["results"][0]
    assert skipped["status"] == "skipped"
    done = cli(*args, env={"ACME_TEST_KEY": "sk-test-0123456789"})
    assert done.returncode == 0, done.stdout
    assert json.loads(done.stdout)["results"][0]["status"] == "ok"
    assert "sk-test-0123456789" not in done.stdout + done.stderr


def test_verify_fails_a_url_that_no_longer_parses_as_its_kind(site: Any,
                                                              tmp_path: Path) -> None:
    directory = tmp_path / "catalog"
    directory.mkdir()
    _vendor_file(directory, "acme", """\
        id: acme
        name: Acme AI
        sources:
          - id: subprocessors
            kind: subprocessors
            url: https://acme.example/changelog.atom
            found_in: https://acme.example/
            confirmed: null
        """)
    done = cli("catalog", "verify", "--json", "--catalog", str(directory), "--base-url",
               f"{str(site.base_url).rstrip('/')}/acme")
    assert done.returncode == 1
    result = json.loads(done.stdout)["results"][0]
    assert result["status"] == "failed" and result["http_status"] == 200
    assert result["detail"].startswith("not a subprocessors document"), result


def test_verify_write_sets_confirmed_and_leaves_the_rest_of_the_file(site: Any,
                                                                      tmp_path: Path) -> None:
    directory = _test_catalog(tmp_path / "catalog")
    path = directory / "acme.yaml"
    before = path.read_text(encoding="utf-8")
    base = f"{str(site.base_url).rstrip('/')}/acme"
    done = cli("catalog", "verify", "--vendor", "acme", "--write", "--catalog", str(directory),
               "--base-url", base, env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 ok, 0 failed, 1 skipped; confirmed written for 4 sources" in done.stdout
    after = path.read_text(encoding="utf-8")
    today = datetime.now(UTC).date().isoformat()
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True)
               if a != b]
    assert len(changed) == 4
    for old, new in changed:
        assert old.replace("confirmed: null", f"confirmed: {today}") == new
    vendor = load_vendor_file(path)
    assert [str(s.confirmed) if s.confirmed else None for s in vendor.sources] == \
        [today] * 4 + [None]
    assert "# set by verify --write" in after


def test_set_confirmed_edits_flow_style_files_too(tmp_path: Path) -> None:
    path = tmp_path / "acme.yaml"
    path.write_text("{id: acme, name: Acme, sources: [{id: a, kind: page, "
                    "url: 'https://a.example/', found_in: 'https://a.example/', "
                    "confirmed: null}]}\n", encoding="utf-8")
    written = set_confirmed(path, {"a": datetime(2026, 12, 6, tzinfo=UTC).date()})
    assert written == 1
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["sources"][0]["confirmed"] \
        .isoformat() == "2026-12-06"


def test_add_writes_the_aliases_a_match_names_source_looks_for(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("# mine\nvendors:\n  - id: acme\n    name: Acme\n    sources: []\n",
                    encoding="utf-8")
    vendor = next(v for v in load_catalog()
                  if any(s.options.get("match_names") for s in v.sources if s.public))
    added = add_vendor(path.read_text(encoding="utf-8"), vendor)
    config = parse_config(added.text, str(path), env={})
    assert config.vendor(vendor.id).aliases == vendor.aliases
    assert "# mine" in added.text
