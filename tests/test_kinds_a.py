"""Unit tests of the ``subprocessors`` and ``model_card`` kinds and their rules.

What the file cases (tests/cases/<kind>/) cannot say: which column a header names, how
names and places are normalised, that garbage gives an empty document or a ParseError
and nothing else, that parsing is deterministic, and how severities and dedupe bases
are chosen.
"""

from __future__ import annotations

import contextlib
import json
import random

import pytest
from pydantic import ValidationError

from config.errors import ParseError
from sources import model_card, subprocessors
from sources.base import Change, Document
from sources.subprocessors.columns import header_columns, looks_like_header, value_columns
from sources.subprocessors.names import display_name, location_key, name_key, text_key
from sources.subprocessors.places import places_in
from triggers.card_sections import heading_class
from triggers.model_card import model_card_rule
from triggers.rules import RuleContext
from triggers.subprocessors import is_ai_provider, subprocessor_rule

SP = subprocessors.Settings()
MC = model_card.Settings()


def entities(body: bytes | str, **settings: str) -> dict[str, dict[str, str]]:
    raw = body.encode() if isinstance(body, str) else body
    data: dict[str, dict[str, str]] = subprocessors.parse(
        raw, subprocessors.Settings.model_validate(settings)).data["entities"]
    return data


def table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return (f"<html><body><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            "</body></html>")


# --- columns ---------------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "name", "purpose", "location"), [
    (["Sub-processor", "Purpose", "Location"], 0, 1, 2),
    (["Entity Name", "Nature of processing", "Country"], 0, 1, 2),
    (["Third Party", "Service", "Region"], 0, 1, 2),
    (["Name of Subprocessor", "Description of Processing", "Location of Processing",
      "Corporate Location"], 0, 1, 2),
    (["Purpose", "Subprocessor", "Location(s)"], 1, 0, 2),
    (["Service Provider", "Services Provided", "Hosting Region"], 0, 1, 2),
    (["Company", "Location", "Processing Purpose"], 0, 2, 1),
    (["Vendor", "Corporate location", "Data location", "Function"], 0, 3, 2),
    (["Service", "Purpose", "Country"], 0, 1, 2),
    (["#", "Sub-Processor", "Processing activities", "Location"], 1, 2, 3),
    (["entityName", "service_purpose", "dataLocation"], 0, 1, 2),
    (["Anbieter", "Zweck", "Standort"], 0, 1, 2),
])
def test_header_roles(headers: list[str], name: int, purpose: int, location: int) -> None:
    columns = header_columns(headers)
    assert columns is not None
    assert columns[name] == "name" and columns[purpose] == "purpose"
    assert columns[location] == "location"


def test_other_columns_are_kept_and_index_and_date_columns_dropped() -> None:
    columns = header_columns(["No.", "Subprocessor", "Purpose", "Location", "Transfer mechanism",
                              "Date added"])
    assert columns == {1: "name", 2: "purpose", 3: "location", 4: "transfer_mechanism"}


@pytest.mark.parametrize("headers", [
    ["Name of Cookie", "Reason"],
    ["Cookie", "Provider", "Purpose", "Expiry"],
    ["Date", "Subprocessor", "Description of change"],
    ["Date", "Change"],
    ["Data categories", "Purpose"],
    ["Section", "What can you find there?"],
])
def test_tables_that_list_no_entities(headers: list[str]) -> None:
    assert header_columns(headers) is None


def test_header_overrides_win() -> None:
    columns = header_columns(["Legal entity", "Affiliate", "Where"],
                             {"name_column": "affiliate", "purpose_column": None,
                              "location_column": None})
    assert columns is not None and columns[1] == "name"


@pytest.mark.parametrize(("cells", "expected"), [
    (["Subprocessor", "Purpose", "Location"], True),
    (["Entity", "Service", "Country"], True),
    (["Amazon Web Services", "Hosting", "United States"], False),
    (["Stripe", "Payment processing", "US"], False),
    (["OpenAI", "AI services", "Global"], False),
])
def test_first_row_as_header(cells: list[str], expected: bool) -> None:
    assert looks_like_header(cells) is expected


def test_headerless_table_found_by_its_values() -> None:
    found = value_columns([["1", "Rackspace", "Hosting", "United Kingdom"],
                           ["2", "Salesforce", "CRM", "United States"],
                           ["3", "Sage", "Accounting", "UK"]])
    assert found is not None
    columns, confident = found
    assert columns == {1: "name", 2: "purpose", 3: "location"} and confident


def test_first_row_header_without_th_and_nested_markup() -> None:
    html = """<table><tr><td><p><strong>Sub-processor</strong></p></td><td><b>Service</b></td>
    <td><b>Country</b></td></tr>
    <tr><td><div><img src=x><a href="https://openai.com/?utm_source=x">OpenAI, L.L.C.</a></div>
    </td><td><span>LLM</span> inference</td><td><ul><li>US</li><li>EU</li></ul></td></tr>
    </table>"""
    assert entities(html) == {"openai": {"name": "OpenAI, L.L.C.", "purpose": "LLM inference",
                                         "location": "US; EU"}}


def test_group_rows_and_rowspans() -> None:
    html = """<table><thead><tr><th>Vendor</th><th>Purpose</th><th>Location</th></tr></thead>
    <tbody><tr><td colspan="3">Infrastructure</td></tr>
    <tr><td rowspan="2">Amazon Web Services</td><td>Hosting</td><td>US</td></tr>
    <tr><td>Backups</td><td>Ireland</td></tr></tbody></table>"""
    got = entities(html)["amazon web services"]
    assert got["purpose"] == "Backups; Hosting" and got["location"] == "Ireland; US"
    assert got["section"] == "Infrastructure"


def test_title_row_in_thead_and_headerless_sibling_table() -> None:
    html = """<table><thead><tr><th colspan="3">Infrastructure</th></tr>
    <tr><th>Name</th><th>Purpose</th><th>Country</th></tr></thead>
    <tbody><tr><td>AWS</td><td>Hosting</td><td>US</td></tr></tbody></table>
    <h2>AI providers</h2><table><tr><td>OpenAI</td><td>LLM inference</td><td>US</td></tr>
    <tr><td>Cohere</td><td>Embeddings</td><td>Frankfurt and Toronto</td></tr></table>"""
    got = entities(html)
    assert got["amazon web services"]["section"] == "Infrastructure"
    assert got["cohere"] == {"name": "Cohere", "purpose": "Embeddings",
                             "location": "Frankfurt and Toronto", "section": "AI providers"}


def test_div_grid_with_a_header_row() -> None:
    rows = [("Cohere", "LLM inference", "Canada"), ("Stripe", "Payments", "United States"),
            ("Hetzner", "Hosting", "Germany (Falkenstein)")]
    items = "".join(f'<div role="listitem" class="w-dyn-item"><div>{n}</div><div>{p}</div>'
                    f"<div>{loc}</div></div>" for n, p, loc in rows)
    html = ('<main><div class="head"><div>Subprocessor</div><div>Purpose</div>'
            f'<div>Location</div></div><div role="list" class="w-dyn-items">{items}</div></main>')
    got = entities(html)
    assert set(got) == {"cohere", "stripe", "hetzner"}
    assert got["hetzner"]["location"] == "Germany (Falkenstein)"


def test_settings_select_and_ignore_apply() -> None:
    html = ("<div id='a'>" + table(["Subprocessor", "Purpose", "Location"],
                                   [["Acme", "Mail (v12)", "US"]]) + "</div><div id='b'>"
            + table(["Subprocessor", "Purpose", "Location"], [["Beta", "CRM", "US"]]) + "</div>")
    got = entities(html, select="#a")
    assert list(got) == ["acme"]
    got = subprocessors.parse(html.encode(), subprocessors.Settings(
        select="#a", ignore=(r"\s*\(v\d+\)",))).data["entities"]
    assert got["acme"]["purpose"] == "Mail"


def test_settings_forbid_unknown_options() -> None:
    with pytest.raises(ValidationError):
        subprocessors.Settings.model_validate({"name_colum": "x"})
    with pytest.raises(ValidationError):
        model_card.Settings.model_validate({"section": ["x"]})


# --- names, places, values ------------------------------------------------------------

@pytest.mark.parametrize(("a", "b"), [
    ("Amazon Web Services, Inc.", "Amazon Web Services Inc"),
    ("Amazon Web Services, Inc. (AWS)", "amazon web services"),
    ("OpenAI, L.L.C.", "OpenAI LLC"),
    ("Snowflake Inc.*", "Snowflake"),
    ("Société Générale S.A.", "Societe Generale"),
    ("Anthropic, PBC", "Anthropic"),
    ("The Rocket Science Group LLC", "Rocket Science Group"),
    ("Atlassian Pty Ltd", "Atlassian"),
    ("AWS", "Amazon Web Services"),
])
def test_names_that_are_the_same_entity(a: str, b: str) -> None:
    assert name_key(display_name(a)) == name_key(display_name(b))


@pytest.mark.parametrize(("a", "b"), [
    ("Google Cloud Platform", "Google Workspace"),
    ("Microsoft", "Microsoft Azure OpenAI"),
    ("Inc", "Ltd"),
])
def test_names_that_differ(a: str, b: str) -> None:
    assert name_key(a) != name_key(b)


@pytest.mark.parametrize(("raw", "shown"), [
    ("Cohere¹", "Cohere"), ("Cohere [1]", "Cohere"), ("Cohere (2)", "Cohere"),
    ("Cohere*", "Cohere"), ("  Cohere †", "Cohere"), ("• Cohere:", "Cohere"),
    ("Auth0", "Auth0"), ("1Password", "1Password"),
])
def test_display_name_drops_footnote_markers(raw: str, shown: str) -> None:
    assert display_name(raw) == shown


def test_location_and_purpose_keys() -> None:
    assert location_key("USA, EU") == location_key("European Union and the United States")
    assert location_key("U.S.") == location_key("United States of America")
    assert location_key("Frankfurt, Germany") == location_key("Germany (Frankfurt)")
    assert location_key("United States") != location_key("Germany")
    assert text_key("Hosting, storage") == text_key("Storage & hosting")
    assert text_key("Cloud hosting;\nand storage") == text_key("Cloud hosting and storage")
    assert text_key("Hosting") != text_key("Hosting and AI inference")


def test_places_need_capitals_for_short_codes() -> None:
    assert places_in("Contact us about it") == []
    assert places_in("Servers in the US and EU") == ["united states", "european union"]
    assert places_in("Dublin, Ireland; Northern Ireland") == ["ireland", "united kingdom"]
    assert places_in("DE", codes=True) == ["germany"]


# --- lists, definition lists, cards, CSV, JSON ---------------------------------------

@pytest.mark.parametrize("item", [
    "<li><strong>Cohere</strong> – LLM inference – Canada</li>",
    "<li>Cohere - LLM inference - Canada</li>",
    "<li>Cohere: LLM inference; Canada</li>",
    "<li>Cohere (LLM inference, Canada)</li>",
    "<li><a href='#'>Cohere</a> — LLM inference (Canada)</li>",
    "<li><b>Cohere</b><br>Purpose: LLM inference<br>Location: Canada</li>",
])
def test_list_item_forms(item: str) -> None:
    other = "<li><strong>Stripe</strong> – Payments – United States</li>"
    got = entities(f"<html><body><h2>Subprocessors</h2><ul>{item}{other}</ul></body></html>")
    assert got["cohere"] == {"name": "Cohere", "purpose": "LLM inference", "location": "Canada",
                             "section": "Subprocessors"}


def test_navigation_lists_are_not_entities() -> None:
    html = """<html><body><nav><ul><li>Home – start</li><li>Docs – read</li></ul></nav>
    <footer><ul><li>Terms – legal</li><li>Privacy – legal</li></ul></footer>
    <main><p>We have no subprocessors yet.</p></main></body></html>"""
    assert entities(html) == {}


def test_csv_with_preamble_semicolons_and_bom() -> None:
    body = "\ufeffLast updated: 2025-01-01\nAnbieter;Zweck;Standort\nHetzner;Hosting;Deutschland\n"
    body += "IONOS;E-Mail;Deutschland\n"
    got = entities(body.encode("utf-8"))
    assert set(got) == {"hetzner", "ionos"} and got["ionos"]["purpose"] == "E-Mail"


def test_json_list_and_object_forms() -> None:
    listed = {"data": {"items": [{"vendorName": "Cohere", "purpose": "Embeddings",
                                  "regions": ["CA", "US"]}]}}
    keyed = {"Cohere": {"purpose": "Embeddings", "location": "Canada"},
             "Stripe": {"purpose": "Payments", "location": "US"}}
    assert entities(json.dumps(listed))["cohere"]["location"] == "CA; US"
    assert set(entities(json.dumps(keyed))) == {"cohere", "stripe"}


# --- garbage, walls, determinism ------------------------------------------------------

GARBAGE: list[bytes] = [
    b"", b"   \n", b"\x00\x01\x02\xff\xfe", b"{", b"[1, 2, 3]", b'"just a string"', b"null",
    b"<html><body></body></html>", b"<table><tr><td>", b"<<<>>>", b"a,b\n\"unterminated",
    b"---\nkey: [unclosed\n---\n# Title\n", "😀 ünïcödé \u202e".encode(),
    b"[" * 5000 + b"]" * 5000, b"<div>" * 3000, bytes(random.Random(1).randrange(256)
                                                      for _ in range(4096)),
]


@pytest.mark.parametrize("kind", [subprocessors, model_card])
@pytest.mark.parametrize("body", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_is_an_empty_document_or_a_parse_error(kind: object, body: bytes) -> None:
    settings = kind.Settings()  # type: ignore[attr-defined]
    try:
        doc = kind.parse(body, settings)  # type: ignore[attr-defined]
    except ParseError:
        return
    assert isinstance(doc, Document)
    json.loads(doc.canonical())
    kind.size(doc)  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", [subprocessors, model_card])
@pytest.mark.parametrize("body", [b"https://trust.acme.example/subprocessors", b"list.html",
                                  b'<?xml version="1.0"?><rss><channel></channel></rss>'])
@pytest.mark.parametrize("format_", ["html", None])
def test_bodies_bs4_would_advise_on_parse_quietly(kind: object, body: bytes,
                                                  format_: str | None) -> None:
    doc = kind.parse(body, kind.Settings(format=format_))  # type: ignore[attr-defined]
    assert kind.size(doc) == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", [subprocessors, model_card])
@pytest.mark.parametrize("format_", ["json", "csv", "markdown", "html", "text"])
def test_forced_formats_on_garbage(kind: object, format_: str) -> None:
    settings = kind.Settings(format=format_)  # type: ignore[attr-defined]
    for body in GARBAGE[:12]:
        with contextlib.suppress(ParseError):
            kind.parse(body, settings)  # type: ignore[attr-defined]


WALLS = [
    b"<html><head><title>Just a moment...</title></head><body><h1>Checking your browser before "
    b"accessing trust.acme.example</h1><p>Enable JavaScript and cookies to continue</p>"
    b"<ul><li>Ray ID: 8a1b2c3d - 2025</li><li>Performance - security by Cloudflare</li></ul>"
    b"</body></html>",
    b"<html><body><h1>Sign in</h1><p>Please sign in to view this page.</p><form><input "
    b"name=email><button>Continue</button></form><ul><li>Terms - legal</li><li>Help - support"
    b"</li></ul></body></html>",
    b'<!doctype html><html><head><script src="/app.js"></script></head><body><div id="root">'
    b"</div><noscript>You need to enable JavaScript to run this app.</noscript></body></html>",
]


@pytest.mark.parametrize("kind", [subprocessors, model_card])
@pytest.mark.parametrize("body", WALLS, ids=["challenge", "login", "spa-shell"])
def test_walls_parse_to_nothing(kind: object, body: bytes) -> None:
    doc = kind.parse(body, kind.Settings())  # type: ignore[attr-defined]
    assert kind.size(doc) == 0  # type: ignore[attr-defined]


def test_parse_is_deterministic_and_order_free() -> None:
    rows = [["Acme", "Mail", "US"], ["Beta", "CRM", "Germany"], ["Gamma", "AI inference", "EU"]]
    a = table(["Subprocessor", "Purpose", "Location"], rows).encode()
    b = table(["Subprocessor", "Purpose", "Location"], rows[::-1]).encode()
    first, again = subprocessors.parse(a, SP), subprocessors.parse(a, SP)
    assert first.canonical() == again.canonical() == subprocessors.parse(b, SP).canonical()
    card = b"---\nlicense: mit\ntags: [b, a]\n---\n# M\n\n## Uses\n\nText.\n"
    swapped = b"---\ntags:\n- a\n- b\nlicense: mit\n---\n# M\n\n## Uses\n\nText.\n"
    assert model_card.parse(card, MC).hash == model_card.parse(swapped, MC).hash


# --- model cards --------------------------------------------------------------------------

CARD = """---
license: apache-2.0
base_model: org/base-7b
datasets: [org/data-b, org/data-a]
model-index:
- name: m-7b
  results:
  - task: {type: text-generation}
    dataset: {name: MMLU, type: mmlu}
    metrics: [{type: acc, value: 70.0}]
last_updated: 2025-01-01
---

# M-7B

Intro paragraph that
wraps over lines.

## 1. Model Details

- **Model type:** decoder
* **License:** Apache 2.0

## 2. Limitations ##

The model makes mistakes.

## Limitations

A second section with the same name.
"""


def test_model_card_shape() -> None:
    data = model_card.parse(CARD.encode(), MC).data
    fields, sections = data["fields"], data["sections"]
    assert fields["title"] == "M-7B" and "last_updated" not in fields
    assert fields["datasets"] == ["org/data-a", "org/data-b"]
    assert fields["model-index"][0]["results"][0]["metrics"][0]["value"] == 70
    assert sections["(intro)"] == "Intro paragraph that wraps over lines."
    assert sections["Model Details"] == ""  # its "Label: value" lines are facts
    assert data["facts"] == {"model_type": "decoder", "license": "Apache 2.0"}
    assert set(sections) == {"(intro)", "Model Details", "Limitations", "Limitations (2)"}


def test_model_card_settings_filter() -> None:
    settings = model_card.Settings(sections=("limitation",), ignore_fields=("model-index",))
    data = model_card.parse(CARD.encode(), settings).data
    assert set(data["sections"]) == {"Limitations", "Limitations (2)"}
    assert "model-index" not in data["fields"]


def test_model_card_from_hub_json() -> None:
    api = {"id": "org/m", "sha": "abc", "downloads": 5, "lastModified": "2025-01-01",
           "pipeline_tag": "text-generation",
           "cardData": {"license": "mit", "base_model": "org/base", "tags": ["b", "a"]}}
    fields = model_card.parse(json.dumps(api).encode(), MC).data["fields"]
    assert fields == {"license": "mit", "base_model": "org/base", "tags": ["a", "b"],
                      "pipeline_tag": "text-generation"}


def test_model_card_html_page_uses_main_content() -> None:
    html = """<html><body><nav><a>Home</a></nav><aside><h2>On this page</h2></aside>
    <main><h1>Nova</h1><h2 id="o">Overview <a class="anchor" href="#o">¶</a></h2>
    <p>Nova is a multimodal model for enterprise use with long context and tools. It reads
    text and images and writes text, and it is available through the API.</p>
    <h2>Limitations</h2><ul><li>It can be wrong about recent events and niche topics.</li></ul>
    </main><footer><h2>Company</h2></footer></body></html>"""
    data = model_card.parse(html.encode(), MC).data
    assert data["fields"] == {"title": "Nova"}
    assert set(data["sections"]) == {"Overview", "Limitations"}


def test_section_rename_is_one_change() -> None:
    old = Document("model_card", {"fields": {}, "sections": {"Limits": "Text."}})
    new = Document("model_card", {"fields": {}, "sections": {"Known limitations": "Text."}})
    (change,) = model_card.diff(old, new)
    assert change.op == "modified" and change.fields == ("heading",)
    assert model_card.describe(change) == "Section “Limits” renamed to “Known limitations”"


@pytest.mark.parametrize(("heading", "cls"), [
    ("Training Data", "training"), ("Training and evaluation data", "training"),
    ("Evaluation data", "scores"), ("Bias, Risks, and Limitations", "limits"),
    ("Intended uses & limitations", "mixed"), ("Capabilities", "capability"),
    ("Direct Use", "capability"), ("Out-of-Scope Use", "limits"), ("License", "policy"),
    ("Model Details", "identity"), ("Citation", "other"), ("Vision", "capability"),
])
def test_heading_classes(heading: str, cls: str) -> None:
    assert heading_class(heading) == cls


CTX = RuleContext(vendor_id="v", vendor_name="Vendor", source_id="s", kind="model_card",
                  old_hash="a" * 8, new_hash="b" * 8)


def _types(changes: list[Change]) -> dict[str, str]:
    return {e.type: e.severity for e in model_card_rule(changes, CTX)}


def test_model_card_rule_field_mapping() -> None:
    assert _types([Change("modified", "base_model", "a/x", "a/y", path="field")]) == {
        "model_change": "high"}
    assert _types([Change("modified", "license", "mit", "other", path="field")]) == {
        "policy_change": "high"}
    assert _types([Change("modified", "datasets", ["a"], ["a", "b"], path="field")]) == {
        "training_data_change": "high"}
    assert _types([Change("modified", "language", ["en"], ["en", "fr"], path="field")]) == {
        "new_capability": "medium"}
    assert _types([Change("modified", "widget", [], [{"text": "x"}], path="field")]) == {}


def test_model_card_rule_label_lines_and_customer_data() -> None:
    change = Change("modified", "Model Description", "- Type: x\n- License: MIT",
                    "- Type: x\n- License: Apache 2.0", path="section")
    assert _types([change]) == {"policy_change": "medium"}
    change = Change("modified", "Privacy", "We keep data for 30 days.",
                    "We keep data for 30 days. We may train models on customer prompts.",
                    path="section")
    assert _types([change])["training_data_change"] == "high"


# --- subprocessor rule --------------------------------------------------------------------

SCTX = RuleContext(vendor_id="v", vendor_name="Vendor", source_id="s", kind="subprocessors",
                   old_hash="a" * 8, new_hash="b" * 8)


def _entity(name: str, purpose: str = "", location: str = "") -> dict[str, str]:
    return {"name": name, "purpose": purpose, "location": location}


@pytest.mark.parametrize(("entity", "ai"), [
    (_entity("Cohere Inc."), True), (_entity("Amazon Bedrock"), True),
    (_entity("Acme Labs", "LLM inference"), True), (_entity("Acme", "AI-powered search"), True),
    (_entity("Stripe", "Payments"), False), (_entity("Google LLC", "Cloud hosting"), False),
    ({**_entity("Acme Labs", "Hosting"), "section": "AI model providers"}, True),
])
def test_ai_provider_detection(entity: dict[str, str], ai: bool) -> None:
    assert is_ai_provider(entity) is ai


@pytest.mark.parametrize(("change", "severity"), [
    (Change("added", "Stripe", None, _entity("Stripe", "Payments", "US")), "medium"),
    (Change("added", "Cohere", None, _entity("Cohere", "Embeddings", "Canada")), "high"),
    (Change("removed", "Stripe", _entity("Stripe", "Payments", "US"), None), "low"),
    (Change("modified", "Snowflake", _entity("Snowflake", "DWH", "US"),
            _entity("Snowflake", "DWH", "Germany"), fields=("location",)), "high"),
    (Change("modified", "Snowflake", _entity("Snowflake", "DWH", "US; Germany"),
            _entity("Snowflake", "DWH", "Germany"), fields=("location",)), "medium"),
    (Change("modified", "Snowflake", _entity("Snowflake", "DWH", "US"),
            _entity("Snowflake", "Data warehouse", "US"), fields=("purpose",)), "medium"),
    (Change("modified", "Snowflake", {**_entity("Snowflake"), "website": "a"},
            {**_entity("Snowflake"), "website": "b"}, fields=("website",)), "low"),
])
def test_subprocessor_severity(change: Change, severity: str) -> None:
    (event,) = subprocessor_rule([change], SCTX)
    assert event.severity == severity and event.entities == (change.key,)


def test_one_event_lists_every_entity_and_basis_identifies_the_change() -> None:
    added = Change("added", "Cohere", None, _entity("Cohere", "LLM", "Canada"))
    removed = Change("removed", "Stripe", _entity("Stripe", "Payments", "US"), None)
    (both,) = subprocessor_rule([added, removed], SCTX)
    assert set(both.entities) == {"Cohere", "Stripe"} and both.severity == "high"
    assert both.title == "2 subprocessor changes: +Cohere, −Stripe"
    (one,) = subprocessor_rule([added], SCTX)
    (same,) = subprocessor_rule([added], SCTX)
    assert one.title == "Subprocessor added: Cohere"
    assert one.basis == same.basis != both.basis
    assert one.dedupe_key("s") == same.dedupe_key("s") != both.dedupe_key("s")


def test_describe_lines() -> None:
    added = Change("added", "Cohere", None, _entity("Cohere", "LLM inference", "Canada"))
    moved = Change("modified", "Snowflake", _entity("Snowflake", "DWH", "United States"),
                   _entity("Snowflake", "DWH", "Germany"), fields=("location",))
    assert subprocessors.describe(added) == "Added subprocessor Cohere — LLM inference — Canada"
    assert subprocessors.describe(moved) == "Snowflake: location United States → Germany"


def test_canonical_place_sets_agree_with_the_patterns() -> None:
    """``canonical_place`` answers ASCII text from sets (``places._by_sets``) instead of
    compiling the two big patterns; on every spelling, case, spacing and punctuation
    around it, and random ASCII text, it gives what the patterns give."""
    import random

    from sources.subprocessors import places

    spellings = [alias for alias, _, _ in places._table()]
    variants: list[str] = []
    for alias in spellings:
        for form in (alias, alias.upper(), alias.lower(), alias.title(), alias.swapcase()):
            variants += [form, f" {form} ", f"{form}.", f".{form}", f"{form} .", f"({form})",
                         form.replace(" ", "  "), form.replace(" ", "\t"), f"\t{form}",
                         f"{form}\n", form.replace(" ", ""), f"{form}s", f"x{form}",
                         f"{form} and more", form + "\x1f", f".\t{form}", f"{form}\t."]
    rng = random.Random(7)
    pieces = [*spellings, " ", ".", "  ", "\t", "-", "(", ")", ",", "&", "ss", "k", "i"]
    variants += ["".join(rng.choices(pieces, k=rng.randint(0, 3))) for _ in range(3000)]
    variants += ["", " ", ".", "..", " . ", "\t.\n"]
    ascii_only = [v for v in variants if v.isascii()]
    assert len(ascii_only) > 10_000
    found = 0
    for text in ascii_only:
        expected = places._by_patterns(text)
        assert places._by_sets(text) == expected, text
        found += expected is not None
    assert found > 1_000  # the corpus does reach the places, not only misses
    # non-ASCII text takes the patterns themselves
    assert places.canonical_place("Türkiye") == places._by_patterns("Türkiye") == "turkey"
    assert places.canonical_place("\u212aenya") == places._by_patterns("\u212aenya")
