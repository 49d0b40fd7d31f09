"""The ``subprocessors`` kind on the shapes vendors publish, piece by piece: header words
from the vocabulary (and the config's additions), one heading per vendor, nested bullets,
names in prose, YAML records, renames and document-wide rewording.

The file cases (``tests/cases/subprocessors/``) show each shape end to end; these tests
pin the rules that decide between shapes, where a file case cannot say why.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from config import parse_config
from sources import subprocessors, vocab
from sources.base import Change, Document
from sources.subprocessors import diff, new_columns, renames, term_renames
from sources.subprocessors.columns import header_columns, role_scores
from sources.subprocessors.names import name_key, strip_footnotes
from sources.subprocessors.prose import name_like
from triggers.rules import RuleContext
from triggers.subprocessors import subprocessor_rule


@pytest.fixture(autouse=True)
def _no_additions() -> Iterator[None]:
    vocab.extend({})
    yield
    vocab.extend({})


def entities(body: str) -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = subprocessors.parse(
        body.encode(), subprocessors.Settings()).data["entities"]
    return data


def doc(ents: dict[str, dict[str, str]]) -> Document:
    return Document(kind="subprocessors", data={"entities": ents}, parser_version="2")


def fire(changes: list[Change]) -> list[dict[str, object]]:
    ctx = RuleContext(vendor_id="v", vendor_name="V", source_id="s", kind="subprocessors",
                      old_hash="a", new_hash="b")
    return [{"entities": list(e.entities), "severity": e.severity}
            for e in subprocessor_rule(changes, ctx)]


# --- header words are data -------------------------------------------------------------

@pytest.mark.parametrize(("headers", "name", "purpose", "location"), [
    (["업체명", "위탁 업무", "이전 국가", "보유 기간"], 0, 1, 2),
    (["수탁업체", "위탁업무 내용", "보유 및 이용 기간"], 0, 1, None),
    (["委託先", "委託内容", "所在国"], 0, 1, 2),
    (["Sous-traitant", "Finalité du traitement", "Pays d'hébergement"], 0, 1, 2),
    (["Proveedor", "Finalidad", "Ubicación"], 0, 1, 2),
    (["Company", "Purpose", "Type of Data", "Categories of Data Subjects",
      "Location of Data Processing"], 0, 1, 4),
])
def test_headers_in_other_languages(headers: list[str], name: int, purpose: int,
                                    location: int | None) -> None:
    columns = header_columns(headers)
    assert columns is not None
    assert columns[name] == "name" and columns[purpose] == "purpose"
    if location is not None:
        assert columns[location] == "location"


def test_a_header_word_added_in_the_config_names_the_column() -> None:
    headers = ["Kategorie", "Auftragnehmer", "Land"]
    assert (header_columns(headers) or {}).get(1) != "name"
    config = parse_config("vendors: []\nvocabulary:\n  header_words: {name: [Auftragnehmer]}\n")
    vocab.extend(config.vocabulary.additions())
    assert role_scores("auftragnehmer") == {"name": 6}
    assert header_columns(headers) == {1: "name", 2: "location", 0: "kategorie"}


def test_a_change_log_table_lists_no_entities() -> None:
    assert header_columns(["날짜", "변경 내용"]) is None
    assert header_columns(["Date", "Subprocessor", "Change"]) is None


# --- one heading per vendor ----------------------------------------------------------------

LABELLED = """# Subprocessors

## Infrastructure

### Render
- **What they process:** Application servers
- **Region:** United States
- **Certifications:** SOC 2 Type II

### Neon
- **What they process:** Postgres database
- **Region:** Germany

### Product analytics
We do not use a third-party analytics vendor today.
"""


def test_labelled_cards_take_every_label_and_skip_headings_without_labels() -> None:
    found = entities(LABELLED)
    assert sorted(found) == ["neon", "render"]
    assert found["render"] == {"name": "Render", "purpose": "Application servers",
                               "location": "United States",
                               "certifications": "SOC 2 Type II", "section": "Infrastructure"}


TOPICS = """# Services we use

## Payment processing

Card payments are taken by **Stripe**; we keep only a token.

## Support

Our help desk runs on **Zendesk**.

## Accounting

Our tax advisers keep the accounting records.
"""


def test_topical_sections_are_not_vendors_but_their_bold_names_are() -> None:
    assert sorted(entities(TOPICS)) == ["stripe", "zendesk"]


@pytest.mark.parametrize(("text", "expected"), [
    ("Fathom", True), ("hCaptcha", True), ("page2images", True), ("Amazon Web Services", True),
    ("Google Cloud Platform", True), ("Ernst & Young", True), ("30 days' notice", False),
    ("Google forms", False), ("Note:", False), ("all of them", False),
    ("Version 1.1, 22.6.2026", False),
])
def test_bold_text_that_reads_like_a_name(text: str, expected: bool) -> None:
    assert name_like(text) is expected


def test_a_link_is_a_name_when_it_points_to_the_named_site() -> None:
    found = entities("""<html><body><main><h2>Fraud</h2><p>We check addresses with
    <a href="https://www.zerobounce.net">ZeroBounce</a>, see the
    <a href="https://www.zerobounce.net/terms">ZeroBounce terms</a> and
    <a href="https://postmarkapp.com/">Postmark</a>; <a href="https://x.example/">here</a>.
    </p></main></body></html>""")
    assert sorted(found) == ["postmark", "zerobounce"]


# --- data files -------------------------------------------------------------------------

def test_yaml_records_in_block_and_flow_style_read_alike() -> None:
    block = "vendors:\n  - name: Acme Ltd\n    purpose: Hosting\n    country: UK\n" \
            "  - name: Beta GmbH\n    purpose: Email\n    country: Germany\n"
    flow = "vendors: [{name: Acme Ltd, purpose: Hosting, country: UK}, " \
           "{name: Beta GmbH, purpose: Email, country: Germany}]\n"
    assert entities(block) == entities(flow)
    assert entities(block)["beta"]["location"] == "Germany"


def test_markdown_that_is_not_yaml_is_read_as_markdown() -> None:
    md = "# Subprocessors\n\nNote: we list them below.\n\n| Vendor | Purpose |\n|---|---|\n" \
         "| Acme | Hosting |\n| Beta | Email |\n"
    assert sorted(entities(md)) == ["acme", "beta"]


# --- names ------------------------------------------------------------------------------

@pytest.mark.parametrize(("a", "b"), [
    ("(주)NHN KCP", "NHN KCP"), ("포트원(주)", "포트원"), ("株式会社サイバー", "サイバー"),
    ("Société Générale SA", "Societe Generale"),
])
def test_legal_forms_in_any_script(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_kana_keep_their_voicing_marks() -> None:
    assert name_key("バイドゥ") != name_key("ハイトゥ")


@pytest.mark.parametrize(("raw", "clean"), [
    ("Ticketing " + "*" * 40, "Ticketing"), ("Acme [1] (2) †", "Acme"), ("Acme¹²", "Acme"),
    ("Acme (Inc)", "Acme (Inc)"), ("Acme *x", "Acme *x"),
])
def test_footnote_markers(raw: str, clean: str) -> None:
    assert strip_footnotes(raw) == clean


# --- what counts as a change ----------------------------------------------------------------

def test_a_typo_fix_is_a_rename_that_fires_nothing() -> None:
    assert renames(["matamo"], ["matomo"]) == [("matamo", "matomo")]
    assert renames(["new relic"], ["newrelic"]) == [("new relic", "newrelic")]
    assert renames(["stripe"], ["sentry"]) == []
    assert renames(["aws"], ["gcp"]) == []
    # a badge dropped from a name; but not when two names could be meant
    assert renames(["sentry rolling out in v1 0"], ["sentry"]) == [
        ("sentry rolling out in v1 0", "sentry")]
    assert renames(["google"], ["google analytics", "google cloud"]) == []
    old = doc({"matamo": {"name": "Matamo", "purpose": "Analytics", "location": "EU"}})
    new = doc({"matomo": {"name": "Matomo", "purpose": "Analytics", "location": "EU"}})
    changes = diff(old, new)
    assert [(c.op, c.key, c.fields) for c in changes] == [("modified", "Matomo", ("name",))]
    assert fire(changes) == []


def test_a_rename_with_a_move_fires_under_the_new_name() -> None:
    old = doc({"matamo": {"name": "Matamo", "purpose": "Analytics", "location": "Germany"}})
    new = doc({"matomo": {"name": "Matomo", "purpose": "Analytics", "location": "France"}})
    events = fire(diff(old, new))
    assert len(events) == 1 and events[0]["entities"] == ["Matomo"]
    assert events[0]["severity"] == "high"


def _vendors(term: str, place: str = "US") -> dict[str, dict[str, str]]:
    return {k: {"name": k.title(), "purpose": f"Stores {term} records for billing",
                "location": place, "data": f"{term} name and email"}
            for k in ("acme", "beta", "gamma")}


def test_a_term_renamed_throughout_the_document_is_not_a_change() -> None:
    assert term_renames([(a, b) for a, b in zip(_vendors("operator").values(),
                                                _vendors("owner").values(), strict=True)]
                        ) == {("operator", "owner")}
    assert diff(doc(_vendors("operator")), doc(_vendors("owner"))) == []


def test_a_change_made_to_one_vendor_only_is_a_change() -> None:
    old, new = _vendors("customer"), _vendors("customer")
    new["beta"] = {**new["beta"], "purpose": "Stores employee records for billing"}
    changes = diff(doc(old), doc(new))
    assert [(c.key, c.fields) for c in changes] == [("Beta", ("purpose",))]


def test_every_vendor_moving_country_is_a_change() -> None:
    changes = diff(doc(_vendors("customer", "US")), doc(_vendors("customer", "UK")))
    assert len(changes) == 3 and all(c.fields == ("location",) for c in changes)


def test_a_header_row_in_the_body_is_not_an_entity() -> None:
    found = entities("|  |  |  |\n|---|---|---|\n| Sub-Processor | Location | Link |\n"
                     "| Atlassian | USA | https://www.atlassian.com |\n"
                     "| Stripe | USA | https://stripe.com |\n")
    assert sorted(found) == ["atlassian", "stripe"]


def test_a_column_added_to_every_row_is_not_a_change() -> None:
    old = _vendors("customer")
    new = {k: {**v, "certifications": "SOC 2"} for k, v in old.items()}
    assert new_columns(list(zip(old.values(), new.values(), strict=True))) == {
        "certifications"}
    assert diff(doc(old), doc(new)) == []
    one = {**old, "beta": {**old["beta"], "certifications": "SOC 2"}}
    assert [c.fields for c in diff(doc(old), doc(one))] == [("certifications",)]
