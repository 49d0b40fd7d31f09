"""The ``page`` kind on terms and policy pages: what a reader would not call a change is
none (``sources/page``), and what changed is typed by ``triggers/page.py``: a change to
training on customer data is a high ``training_data_change``, other wording a
``policy_change``. The file cases in ``tests/cases/page/`` cover whole documents; these
tests pin each rule down, and the parse cost on hostile bodies."""

from __future__ import annotations

import time

import pytest

from sources import get_kind, vocab
from sources.base import Change, Document
from sources.page import LEAD_SEP, diff, parse
from sources.page.fold import line_key, sentences, strip_prefix, tokens
from sources.page.markdown import markdown_events
from sources.page.read import is_stamp_line, page_lines
from sources.read.html import parse_html
from sources.read.markdown import markdown_page
from sources.read.sections import events
from triggers.offline import diff_bodies
from triggers.page import is_training, page_rule, terms
from triggers.rules import RuleContext

KIND = get_kind("page")
SETTINGS = KIND.Settings()
CTX = RuleContext(vendor_id="acme", vendor_name="Acme AI", source_id="acme-dpa", kind="page",
                  old_hash="a", new_hash="b")


def doc(*lines: str) -> Document:
    return Document(kind="page", data={"lines": list(lines)}, parser_version="2")


def md(text: str) -> list[str]:
    return page_lines(text.encode(), SETTINGS)


# --- what is no change ---------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), [
    ("Chats won't be used", "Chats won\u2019t be used"),
    ("\u201cServices\u201d means", '"services" means'),
    ("hosting, cloud, and other services", "hosting, cloud and other services"),
    ("Terms and Conditions", "Terms & Conditions"),
    ("our licence and organisation's behaviour", "our license and organization\u2019s behavior"),
    ("cancelled at the centre of the catalogue", "canceled at the center of the catalog"),
    ("we will analyse and minimise it", "we will analyze and minimize it"),
    ("Effective December 1, 2025", "Effective 1 December 2025"),
    ("from 2025-12-01 on", "from 1st of December, 2025 on"),
    ("opt-out of e-mail", "opt out of e mail"),
    ("Learn more\u2060 about ChatGPT\u00a0Business", "Learn more about ChatGPT Business"),
    ("\u24d8 For registered users", "For registered users"),
    ("Acme\u2122 Assistant \u2197", "Acme Assistant"),
    ("Meta Products[1] and Services\u00b9", "Meta Products[2] and Services\u00b2"),
    ("10,000 requests a day", "10000 requests a day"),
])
def test_typography_spelling_and_date_formats_read_alike(a: str, b: str) -> None:
    assert "".join(tokens(a)) == "".join(tokens(b))


@pytest.mark.parametrize(("a", "b"), [
    ("data is kept for 30 days", "data is kept for 90 days"),
    ("Acme shall not use Customer Data", "Acme may use Customer Data"),
    ("It costs $1.5 per GB", "It costs $2.5 per GB"),
    ("governed by the laws of Ireland", "governed by the laws of California"),
    ("Prices rise on 1 May 2026", "Prices rise on 1 June 2026"),
])
def test_what_a_reader_calls_a_change_stays_one(a: str, b: str) -> None:
    assert tokens(a) != tokens(b)


@pytest.mark.parametrize(("line", "rest"), [
    ("1. Overview", "Overview"), ("A.1. Overview", "Overview"), ("I.2.a. Scope", "Scope"),
    ("(iv) Scope", "Scope"), ("3) Scope", "Scope"), ("\u00a7 4. Scope", "Scope"),
    ("- \u2022Engage in", "Engage in"), ("## 5. Fees", "Fees"),
    ("1.5 GB of storage", "1.5 GB of storage"), ("30 days", "30 days"),
])
def test_a_lines_numbering_and_bullet_are_not_its_words(line: str, rest: str) -> None:
    assert strip_prefix(line) == rest


def test_a_clause_number_opening_a_sentence_is_not_a_word() -> None:
    assert tokens("these Terms. 7.4 You agree") == tokens("these Terms. 7.5 You agree")
    assert tokens("Terms.7. Meta may") == tokens("Terms.11. Meta may")
    assert tokens("see Section 7.4 of the DPA") != tokens("see Section 7.5 of the DPA")


@pytest.mark.parametrize(("line", "stamp"), [
    ("Last updated: March 3, 2026", True), ("Updated: 1 December 2025", True),
    ("Effective September 15, 2025Previous Version", True), ("Updated:", True),
    ("Release Date: April 29, 2025", True), ("\u00a9 2026 Acme AI, Inc.", True),
    ("December 1, 2025", True), ("Effective Date", True),
    ("Updated our retention period to 30 days for all API customers", False),
    ("Effective immediately.", False), ("Version 2.1", False),
    ("Effective from 1 May 2026, Customer Data is kept for 90 days in the EU", False),
])
def test_stamp_lines(line: str, stamp: bool) -> None:
    assert is_stamp_line(line) is stamp


def test_link_labels_and_relative_times_are_not_text() -> None:
    assert md("See [More Information](https://a.example/x)Opens in new tab.") == [
        "See More Information ."]
    assert md("Read the [Help Center (opens in a new window)](https://h.example).") == [
        "Read the Help Center ."]
    assert md("Help \u00b7 Updated: 5 days ago") == md("Help \u00b7 Updated: 6 days ago")


def test_links_images_and_their_tokens_are_not_text() -> None:
    a = ("[![Logo](https://cdn.example/l.png?sig=1)](https://a.example) Read [our terms]"
         "(https://a.example/terms?utm_source=x&did=1) and [Meta Products\\[1\\]]"
         "(https://m.example/%23annotation-1=) <https://a.example/help>")
    b = ("[![Logo](https://cdn.example/l.png?sig=2)](https://a.example/) Read [our terms]"
         "(http://a.example/terms/#top) and [Meta Products\\[1\\]](https://m.example/x) "
         "<https://a.example/help>")
    assert md(a) == md(b) == ["Read our terms and Meta Products[1] https://a.example/help"]


SAMPLE = """\
Acme Terms
==========

Updated: May 1, 2026

## 1. Scope

These **Terms** apply to [the Services](https://a.example/s "Services") and
to *Outputs*.

1.  Do not misuse the Services.
2.  Do not resell access:
    *   directly; or
    *   through an aggregator.

| Cookie | Purpose | Expiry |
| --- | :-: | --- |
| _ga | Analytics<br>    <br>Advertising | 2 years |

> Quoted: `code` and \\*stars\\* &amp; more.

```
keep   this
```
"""


def test_the_markdown_reader_reads_what_a_commonmark_renderer_shows() -> None:
    fast = [line_key(t) for _, _, t in markdown_events(SAMPLE)]
    full = [line_key(t) for _, _, t in events([parse_html(markdown_page(SAMPLE))])]
    assert "".join(fast).replace(" ", "") == "".join(full).replace(" ", "")
    assert md(SAMPLE) == [
        "# Acme Terms", "## 1. Scope", "These Terms apply to the Services and to Outputs.",
        "- Do not misuse the Services.", "- Do not resell access:", "- directly; or",
        "- through an aggregator.", "Cookie | Purpose | Expiry",
        "_ga | Analytics Advertising | 2 years", "Quoted: code and *stars* & more.",
        "keep this"]


def test_html_chrome_goes_but_an_element_that_wraps_the_content_stays() -> None:
    body = (b"<html><body><nav>Home Pricing</nav><div class='cookie-banner'>We use cookies"
            b"</div><div class='cookie-policy'><h1>Cookie Policy</h1><p>We set a session "
            b"cookie that expires when you close the browser.</p><p>Analytics cookies last "
            b"two years.</p></div><footer>\xc2\xa9 2026 Acme</footer></body></html>")
    assert parse(body, SETTINGS).data["lines"] == [
        "# Cookie Policy", "We set a session cookie that expires when you close the browser.",
        "Analytics cookies last two years."]


def test_a_moved_paragraph_and_a_reflowed_list_are_no_change() -> None:
    old = doc("# Terms", "Alpha clause applies to everyone.", "Beta clause applies to you.",
              "- One - Two", "- Three")
    new = doc("# Terms", "Beta clause applies to you.", "Alpha clause applies to everyone.",
              "- One", "- Two - Three")
    assert diff(old, new) == []


def test_a_change_is_keyed_by_its_section_title_and_lead_in() -> None:
    old = doc("# Privacy", "Developing and improving AI", "We use these categories:",
              "- Interactions with the assistant")
    new = doc("# Privacy", "Developing and improving AI", "We use these categories:",
              "- Interactions with the assistant", "- Public posts you share")
    [change] = diff(old, new)
    assert change.op == "added" and change.after == "- Public posts you share"
    assert change.key == LEAD_SEP.join(["Privacy", "Developing and improving AI",
                                        "We use these categories:"])


def test_a_stamp_date_changed_alone_inside_a_line_is_no_change() -> None:
    old = doc("_Preview terms._Release Date: July 8, 2026These Terms are an agreement.")
    new = doc("_Preview terms._Last updated: August 5, 2026These Terms are an agreement.")
    assert diff(old, new) == []
    moved = doc("These Terms apply from 1 May 2026 to all customers.")
    assert diff(moved, doc("These Terms apply from 1 June 2026 to all customers."))


# --- what a change means ------------------------------------------------------------------


@pytest.mark.parametrize(("sentence", "training"), [
    ("Acme shall not use Customer Data to train its models.", True),
    ("Customer Data will not be used for training.", True),
    ("We may use your Inputs and Outputs to train and improve our models unless you opt out.",
     True),
    ("You have the right to opt-out of using your Personal Data for training our models.", True),
    ("These entities process Personal Data for storage, foundation model training and "
     "optimization.", True),
    ("Information shared with Acme for Teachers is not used to train our models by default.",
     True),
    ("You may not use Output to train models that compete with Acme.", False),
    ("Our staff receive data protection training every year.", False),
    ("Learn more about our model mechanism and training methods.", False),
    ("Artificial intelligence and large language models are under rapid development and "
     "improving in accuracy.", False),
    ("We use machine learning models to detect fraud.", False),
    ("Conversations are deleted within 30 days.", False),
])
def test_training_wording(sentence: str, training: bool) -> None:
    assert is_training(tokens(sentence), terms(vocab.generation())) is training


def test_the_dpa_example_fires_a_high_training_data_change() -> None:
    old = (b"# Data Processing Addendum\n\n## Use of Customer Data\n\nAcme shall not use "
           b"Customer Data to train its models.\n")
    new = (b"# Data Processing Addendum\n\n## Use of Customer Data\n\nAcme may use "
           b"de-identified Customer Data to train its models unless Customer opts out.\n")
    result = diff_bodies("page", old, new, vendor_name="Acme AI", source_id="acme-dpa")
    [event] = result["triggers"]
    assert (event["type"], event["severity"]) == ("training_data_change", "high")
    assert event["entities"] == ["Use of Customer Data"]
    assert event["title"] == (
        "Acme AI: training-data terms changed in \u201cUse of Customer Data\u201d (acme-dpa): "
        "\u201cAcme shall not use Customer Data to train its models.\u201d \u2192 \u201cAcme "
        "may use de-identified Customer Data to train its models unless Customer opts out.\u201d")
    [passage] = event["evidence"]["passages"]
    assert passage == {"section": "Use of Customer Data",
                       "before": "Acme shall not use Customer Data to train its models.",
                       "after": "Acme may use de-identified Customer Data to train its models "
                                "unless Customer opts out."}


def test_a_data_category_under_a_training_purpose_is_a_training_change() -> None:
    old = doc("# Privacy", "Developing and improving AI at Acme",
              "We use information to develop and improve AI at Acme.", "Categories we use:",
              "- Interactions with the assistant", "- Public posts you share")
    new = doc("# Privacy", "Developing and improving AI at Acme",
              "We use information to develop and improve AI at Acme.", "Categories we use:",
              "- Interactions with the assistant")
    [event] = page_rule(diff(old, new), CTX)
    assert event.type == "training_data_change" and event.severity == "high"
    assert "removed \u201c- Public posts you share\u201d" in event.title


def test_training_and_other_wording_fire_one_event_each() -> None:
    old = doc("# Terms", "Acme does not train on Customer Content.",
              "Fees are due within 30 days.", "You may cancel at any time.")
    new = doc("# Terms", "Acme trains on Customer Content unless you opt out.",
              "Fees are due within 15 days.", "You may cancel at any time!")
    events = {e.type: e for e in page_rule(diff(old, new), CTX)}
    assert set(events) == {"training_data_change", "policy_change"}
    policy = events["policy_change"]
    assert policy.severity == "medium" and "30 days" in policy.evidence["excerpt"]
    assert [c["before"] for c in policy.changes] == ["Fees are due within 30 days."]
    assert "train" not in str(policy.changes)


def test_wording_without_obligation_rights_price_or_data_words_is_low() -> None:
    [event] = page_rule(diff(doc("# About", "Acme builds helpful assistants."),
                             doc("# About", "Acme builds friendly assistants.")), CTX)
    assert (event.type, event.severity) == ("policy_change", "low")


def test_a_typography_only_change_handed_to_the_rule_fires_nothing() -> None:
    change = Change("modified", "Terms", "Chats won't be used to train our models.",
                    "Chats won\u2019t be used to train our models.", path="line")
    assert page_rule([change], CTX) == []


# --- cost on hostile bodies -----------------------------------------------------------------


@pytest.mark.parametrize("body", [
    b"<p>Ticketing " + b"*" * 40 + b"</p>", b"Ticketing " + b"*" * 40,
    b"<html><body>" + b"<div>" * 16000 + b"x" + b"</div>" * 16000 + b"</body></html>",
    b"a" * 10_000_000, b"<" * 2_000_000, b"[" * 200_000 + b"](" * 200_000,
    b"*a " * 200_000, b"1." * 200_000 + b" X", b"December 1, 2025 " * 50_000,
    b"| a " * 100_000 + b"|\n" + b"|---" * 1000 + b"|\n",
], ids=["stars-html", "stars-md", "nested-divs", "10MB-one-char", "lt", "brackets", "emphasis",
        "dots", "dates", "wide-table"])
def test_parse_and_diff_stay_fast_on_hostile_bodies(body: bytes) -> None:
    started = time.monotonic()
    parsed = KIND.parse(body, SETTINGS)
    assert time.monotonic() - started < 4.0
    assert all(len(line) <= 500_000 for line in parsed.data["lines"])
    started = time.monotonic()
    diff_bodies("page", b"<p>Acme keeps data for 30 days.</p>", body)
    assert time.monotonic() - started < 12.0


def test_sentences_are_cut_after_their_marks() -> None:
    assert sentences("One. Two;(ii) three.Meta four! e.g. five") == [
        "One.", "Two;", "(ii) three.", "Meta four!", "e.g.", "five"]


def test_a_table_of_contents_added_is_no_change_but_a_category_removed_is_one() -> None:
    body = ["# Privacy", "## Personal Data we collect", "We collect Account Information.",
            "## How we use Personal Data", "We use it to provide the Services.",
            "## Your rights", "You may delete your data.", "## Account Information",
            "Your name and email.", "Purposes that use:", "- Account Information",
            "- Usage Data"]
    toc = ["- Personal Data we collect", "- How we use Personal Data", "- Your rights"]
    assert diff(doc(*body), doc(body[0], *toc, *body[1:])) == []
    [change] = diff(doc(*body), doc(*body[:10], body[11]))
    assert change.op == "removed" and change.before == "- Account Information"


@pytest.mark.parametrize(("old", "new"), [
    (b"a\n\n" * 200_000, b"b\n\n" + b"a\n\n" * 200_000 + b"b\n\n"),
    (b"1 " * 250_000, b"2 " + b"1 " * 250_000 + b"2"),
    (b"x\n\ny\n\n" * 100_000, b"z\n\n" + b"y\n\nx\n\n" * 100_000),
], ids=["one-line-repeated", "one-word-repeated", "two-lines-repeated"])
def test_repeated_lines_and_words_keep_the_diff_from_going_quadratic(old: bytes,
                                                                    new: bytes) -> None:
    started = time.monotonic()
    result = diff_bodies("page", old, new)
    assert result["changed"] and time.monotonic() - started < 12.0
