"""Shapes of real documents the development corpus does not hold, each as a small snippet
written in that shape's own markup (never a copied document): what the kind makes of it
and what a change to it fires.
"""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest

from sources import incidents, subprocessors, vocab
from sources.base import Change
from triggers.offline import diff_bodies
from triggers.rules import RuleContext
from triggers.subprocessors import subprocessor_rule


@pytest.fixture(autouse=True)
def _no_additions() -> Iterator[None]:
    vocab.extend({})
    yield
    vocab.extend({})


def _entities(body: str) -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = subprocessors.parse(
        body.encode(), subprocessors.Settings()).data["entities"]
    return data


def _sub_changes(old: str, new: str) -> list[Change]:
    settings = subprocessors.Settings()
    return subprocessors.diff(subprocessors.parse(old.encode(), settings),
                              subprocessors.parse(new.encode(), settings))


def _fired(changes: list[Change]) -> list[str]:
    ctx = RuleContext(vendor_id="v", vendor_name="V", source_id="s", kind="subprocessors",
                      old_hash="a", new_hash="b")
    return [e for t in subprocessor_rule(changes, ctx) for e in t.entities]


# --- subprocessors: a bold name on its own line stands for a heading --------------------

_GRID = """<html><body><main><h1>Subprocessors</h1>
<h3>1. Core infrastructure</h3>
<p>These apply to every customer.</p>
<div class="grid">
  <div class="card"><p><strong>Northwind Hosting</strong></p>
    <p class="muted">Type: Hosting | Location: USA</p></div>
  <div class="card"><p><strong>Quill Labs</strong></p>
    <p class="muted">Type: LLM | Location: USA</p></div>
  {extra}
</div>
<h3>2. Support</h3>
<p>These apply when you contact support.</p>
<div class="grid">
  <div class="card"><p><strong>Helpdesk Co</strong></p>
    <p class="muted">Type: Ticketing | Location: {where}</p></div>
</div>
</main></body></html>"""


def _grid(extra: str = "", where: str = "USA") -> str:
    return _GRID.format(extra=extra, where=where)


def _diff_triggers(kind: str, old: str, new: str) -> list[tuple[str, list[str]]]:
    """The triggers ``reassess diff`` fires for two bodies of ``kind``: type and entities."""
    result = diff_bodies(kind, old.encode(), new.encode(), vendor_id="v", vendor_name="V",
                         source_id="s")
    return [(t["type"], list(t["entities"])) for t in result["triggers"]]


def _incident_entities(old: str, new: str) -> list[list[str]]:
    return [entities for _, entities in _diff_triggers("incidents", old, new)]


def test_bold_names_in_a_div_grid_under_category_headings_are_the_entities() -> None:
    got = _entities(_grid())
    assert sorted(e["name"] for e in got.values()) == ["Helpdesk Co", "Northwind Hosting",
                                                       "Quill Labs"]
    quill = next(e for e in got.values() if e["name"] == "Quill Labs")
    assert (quill["purpose"], quill["location"]) == ("LLM", "USA")  # " | " splits labels
    assert quill["section"] == "1. Core infrastructure"


def test_a_vendor_added_to_a_div_grid_fires_with_its_name() -> None:
    card = ('<div class="card"><p><strong>Ostrich AI</strong></p>'
            '<p class="muted">Type: LLM | Location: USA</p></div>')
    assert _fired(_sub_changes(_grid(), _grid(extra=card))) == ["Ostrich AI"]
    moved = _sub_changes(_grid(), _grid(where="Ireland"))
    assert [(c.key, c.fields) for c in moved] == [("Helpdesk Co", ("location",))]


_MD = """# Subprocessor List

## Infrastructure & Hosting

**Northwind Hosting**
- **Purpose**: Application hosting and storage
- **Data Location**: United States

## Payment Processing

**Ledgerly**
- **Purpose**: Payment processing
- **Data Location**: {where}
{extra}"""


def test_markdown_bold_name_lines_with_labelled_bullets_under_categories() -> None:
    old = _MD.format(where="United States", extra="")
    assert sorted(e["name"] for e in _entities(old).values()) == ["Ledgerly",
                                                                  "Northwind Hosting"]
    added = _MD.format(where="United States", extra=(
        "\n**Quill Labs**\n- **Purpose**: Language model inference\n"
        "- **Data Location**: United States\n"))
    assert _fired(_sub_changes(old, added)) == ["Quill Labs"]
    moved = _sub_changes(old, _MD.format(where="Ireland", extra=""))
    assert [(c.key, c.fields) for c in moved] == [("Ledgerly", ("location",))]


def test_a_bold_label_repeated_under_every_vendor_heading_is_not_a_name() -> None:
    body = """# Subprocessors

### Northwind Hosting

**Details**
- Purpose: Hosting
- Location: United States

### Ledgerly

**Details**
- Purpose: Payments
- Location: Ireland
"""
    assert sorted(e["name"] for e in _entities(body).values()) == ["Ledgerly",
                                                                   "Northwind Hosting"]


# --- incidents: status.io's public status JSON -----------------------------------------

def _statusio(title: str, messages: int = 1) -> str:
    msgs = ",".join(
        f'{{"_id": "m{i}", "details": "Update {i}.", "state": 100, "status": 400,'
        f' "datetime": "2026-12-06T1{i}:00:00.000Z"}}' for i in range(messages))
    return f"""{{"result": {{
  "status_overall": {{"updated": "2026-12-06T10:00:00.000Z", "status": "Operational",
                      "status_code": 100}},
  "status": [{{"id": "c1", "name": "Inference API", "status": "Operational",
               "status_code": 100}}],
  "incidents": [{{"_id": "65a1f0", "name": "{title}",
                  "datetime_open": "2026-12-06T10:55:00.000Z", "messages": [{msgs}],
                  "components_affected": [{{"_id": "c1", "name": "Inference API"}}]}}],
  "maintenance": {{"active": [], "upcoming": []}}}}}}"""


def test_statusio_incident_is_keyed_by_its_id_so_a_retitle_is_not_a_new_incident() -> None:


    settings = incidents.Settings()
    old = incidents.parse(_statusio("Inference latency").encode(), settings)
    (inc,) = old.data["incidents"]
    assert (inc["id"], inc["created"], inc["components"]) == (
        "65a1f0", "2026-12-06T10:55:00Z", ["Inference API"])
    new = incidents.parse(_statusio("Inference latency in US East", 2).encode(), settings)
    changes = incidents.diff(old, new)
    assert [(c.op, c.key) for c in changes] == [("modified", "65a1f0")]


# --- changelog: inline code keeps its backticks ------------------------------------------

_RELEASES = """# Changelog

{new}## 0.37.1 (2025-12-04)

### Bug Fixes

* consume stream to prevent hanging ([#260](https://example.com/issues/260))
"""
_FEATURE = """## 0.38.0 (2025-12-10)

### Features

* **api:** add `acme/orbit-safeguard-20b` to the models enum ([a1b2c3d](https://example.com/c/a1b2c3d))

"""

_ATOM = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>tag:github.com,2008:https://github.com/acme/acme-python/releases</id>
  <title>Release notes from acme-python</title>
  <updated>2025-12-10T00:00:00Z</updated>
  {new}<entry>
    <id>tag:github.com,2008:Repository/1/v0.37.1</id>
    <updated>2025-12-04T00:00:00Z</updated>
    <link rel="alternate" type="text/html" href="https://github.com/acme/acme-python/releases/tag/v0.37.1"/>
    <title>v0.37.1</title>
    <content type="html">{fixes}</content>
  </entry>
</feed>
"""
_ATOM_ENTRY = """<entry>
    <id>tag:github.com,2008:Repository/1/v0.38.0</id>
    <updated>2025-12-10T00:00:00Z</updated>
    <link rel="alternate" type="text/html" href="https://github.com/acme/acme-python/releases/tag/v0.38.0"/>
    <title>v0.38.0</title>
    <content type="html">{features}</content>
  </entry>
  """.format(features=html.escape(
    "<h3>Features</h3><ul><li><strong>api:</strong> add <code>acme/orbit-safeguard-20b</code>"
    " to the models enum</li></ul>"))
_ATOM = _ATOM.replace("{fixes}", html.escape(
    "<h3>Bug Fixes</h3><ul><li>consume stream</li></ul>"))


@pytest.mark.parametrize(("shape", "extra"), [(_RELEASES, _FEATURE), (_ATOM, _ATOM_ENTRY)])
def test_a_model_id_written_as_code_in_a_release_is_a_model_change(shape: str,
                                                                   extra: str) -> None:
    fired = _diff_triggers("changelog", shape.format(new=""), shape.format(new=extra))
    assert fired == [("model_change", ["orbit-safeguard-20b"])]


def test_inline_code_stays_code_in_the_entry_text_not_in_code_blocks() -> None:
    from sources import changelog

    body = ("# Changelog\n\n## 1.0.0 (2025-01-01)\n\n- use `acme-2` now\n\n"
            "```\npip install acme\n```\n")
    (entry,) = changelog.parse(body.encode(), changelog.Settings()).data["entries"]
    assert entry["text"] == ["use `acme-2` now", "pip install acme"]


# --- MDX components (Mintlify, Docusaurus): unwrapped, titled ones as <details> ----------

_ACCORDIONS = """---
title: "Subprocessors"
---

<AccordionGroup>
  <Accordion title="Northwind Hosting">
    **Purpose:** Cloud infrastructure

    **Location:** {where}
  </Accordion>
  <Accordion
    title="Quill Labs"
    icon="robot">
    **Purpose:** LLM inference

    **Location:** United States
  </Accordion>
{extra}</AccordionGroup>
"""


def test_mdx_accordions_are_one_vendor_each() -> None:
    old = _ACCORDIONS.format(where="United States", extra="")
    got = _entities(old)
    assert {e["name"]: e["location"] for e in got.values()} == {
        "Northwind Hosting": "United States", "Quill Labs": "United States"}
    added = _ACCORDIONS.format(where="United States", extra=(
        '  <Accordion title="Ostrich AI">\n    **Purpose:** Embeddings\n\n'
        "    **Location:** Canada\n  </Accordion>\n"))
    assert _fired(_sub_changes(old, added)) == ["Ostrich AI"]
    moved = _sub_changes(old, _ACCORDIONS.format(where="Ireland", extra=""))
    assert [(c.key, c.fields) for c in moved] == [("Northwind Hosting", ("location",))]


def test_unwrap_components_keeps_markdown_inside_and_leaves_plain_text_alone() -> None:
    from sources.read.markdown import unwrap_components

    plain = "# Title\n\n    indented code\n\n<div>html</div>\n"
    assert unwrap_components(plain) == plain
    mdx = ("<Note>\n  Read this.\n</Note>\n<Tabs>\n  <Tab title=\"Python\">\n"
           "    - a\n      - nested\n    ```py\n    x = 1\n    ```\n  </Tab>\n</Tabs>\n")
    out = unwrap_components(mdx)
    assert "<Note>" not in out and "<Tabs>" not in out
    assert "<details><summary>Python</summary>" in out and "</details>" in out
    assert "\nRead this.\n" in out
    assert "\n- a\n  - nested\n```py\nx = 1\n```\n" in out  # nesting and fences kept


def test_a_details_cell_of_labelled_lines_gives_purpose_and_location() -> None:
    table = """<html><body><main><h2>Sub-processors</h2><table>
<tr><th>Sub-processor</th><th>Details</th></tr>
<tr><td>Northwind Hosting</td><td>Purpose: Hosting<br>Location: {where}</td></tr>
<tr><td>Quill Labs</td><td>Purpose: AI features<br>Location: United States</td></tr>
<tr><td>Helpdesk Co</td><td>Ticketing and chat, for customers who contact us</td></tr>
</table></main></body></html>"""
    got = {e["name"]: (e["purpose"], e["location"])
           for e in _entities(table.format(where="United States")).values()}
    assert got == {"Northwind Hosting": ("Hosting", "United States"),
                   "Quill Labs": ("AI features", "United States"),
                   "Helpdesk Co": ("Ticketing and chat, for customers who contact us", "")}
    moved = _sub_changes(table.format(where="United States"), table.format(where="Ireland"))
    assert [(c.key, c.fields) for c in moved] == [("Northwind Hosting", ("location",))]


# --- incidents: a feed that posts the resolution as an entry of its own ------------------

def _rss(*items: tuple[str, str, str]) -> str:
    body = "".join(
        f"<item><title><![CDATA[{title}]]></title><link>https://status.example.com/</link>"
        f"<pubDate>{date}</pubDate><guid isPermaLink=\"false\">https://status.example.com/"
        f"#svc_{guid}</guid><description><![CDATA[{title}.]]></description></item>"
        for title, guid, date in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Service Status'
            f"</title><link>https://status.example.com/</link>{body}</channel></rss>")


_OPEN = ("Informational message: Increased Latency", "2", "Fri, 06 Dec 2026 09:12:00 PST")
_CLOSE = ("Service is operating normally: [RESOLVED] Increased Latency", "3",
          "Fri, 06 Dec 2026 11:40:00 PST")
_EARLIER = ("Service is operating normally: [RESOLVED] Increased Error Rates", "1",
            "Sat, 30 Nov 2026 12:40:00 PST")


def test_the_resolution_post_of_a_known_incident_fires_nothing() -> None:
    assert _incident_entities(_rss(_EARLIER), _rss(_OPEN, _EARLIER)) == [[_OPEN[0]]]
    assert _incident_entities(_rss(_OPEN, _EARLIER), _rss(_CLOSE, _OPEN, _EARLIER)) == []
    # opened and resolved between two checks: one incident, not two
    assert _incident_entities(_rss(_EARLIER), _rss(_CLOSE, _OPEN, _EARLIER)) == [[_OPEN[0]]]


def test_a_recurring_incident_resolved_before_it_was_seen_still_fires() -> None:
    again = ("Service is operating normally: [RESOLVED] Increased Error Rates", "4",
             "Sat, 07 Dec 2026 10:00:00 PST")
    assert _incident_entities(_rss(_EARLIER), _rss(again, _EARLIER)) == [[again[0]]]


_LOGOS = """<html><body><main><h1>Subprocessors</h1><table>
<thead><tr><th>Vendor</th><th>Purpose</th><th>Location</th></tr></thead><tbody>
<tr><td><img src="/l/a.svg" alt="Northwind Hosting"></td><td>Hosting</td><td>USA</td></tr>
<tr><td><a href="https://quill.example"><img src="/l/q.svg" alt="Quill Labs"></a></td>
    <td>AI features</td><td>USA</td></tr>
<tr><td><img src="/l/h.svg" alt="logo"> Helpdesk Co</td><td>Support</td><td>USA</td></tr>
{extra}</tbody></table></main></body></html>"""


@pytest.mark.parametrize("select", [None, "main"])
def test_a_logo_alone_in_a_name_cell_names_the_vendor(select: str | None) -> None:
    settings = subprocessors.Settings(select=select)
    extra = ('<tr><td><img src="/l/o.svg" alt="Ostrich AI"></td><td>AI features</td>'
             "<td>USA</td></tr>")
    old = subprocessors.parse(_LOGOS.format(extra="").encode(), settings)
    assert sorted(e["name"] for e in old.data["entities"].values()) == [
        "Helpdesk Co", "Northwind Hosting", "Quill Labs"]  # a cell with text keeps it
    new = subprocessors.parse(_LOGOS.format(extra=extra).encode(), settings)
    assert _fired(subprocessors.diff(old, new)) == ["Ostrich AI"]


_CMS_ITEM = ('<div role="listitem" class="w-dyn-item"><div class="row"><div class="n">{}</div>'
             '<div class="p">{}</div><div class="l">{}</div></div></div>')
_CMS_ROWS = [("Northwind Hosting", "Cloud hosting", "United States"),
             ("Quill Labs", "AI model provider", "United States"),
             ("Helpdesk Co", "Error monitoring", "United States")]


def _cms(rows: list[tuple[str, str, str]], header: bool = True) -> str:
    head = ('<div class="row header"><div>Name</div><div>Purpose</div><div>Location</div>'
            "</div>" if header else "")
    items = "".join(_CMS_ITEM.format(*r) for r in rows)
    return (f"<html><body><main><h1>Subprocessors</h1>{head}<div class=\"w-dyn-list\">"
            f"<div role=\"list\" class=\"w-dyn-items\">{items}</div></div></main></body></html>")


@pytest.mark.parametrize("header", [True, False])
def test_a_cms_collection_list_with_wrapped_rows_is_a_table(header: bool) -> None:
    got = _entities(_cms(_CMS_ROWS, header))
    assert {e["name"]: e["location"] for e in got.values()} == {
        n: loc for n, _, loc in _CMS_ROWS}
    more = [*_CMS_ROWS, ("Ostrich AI", "AI model provider", "United States")]
    assert _fired(_sub_changes(_cms(_CMS_ROWS, header), _cms(more, header))) == ["Ostrich AI"]


_NESTED = """# Subprocessors

- Infrastructure
  - Northwind Hosting — hosting — United States
  - Cobalt CDN — content delivery — United States
- AI
  - Quill Labs — LLM inference — United States
{extra}- Support
  - Helpdesk Co — ticketing — Ireland
"""


def test_a_category_with_one_vendor_in_a_nested_list_is_read_like_its_siblings() -> None:
    old = _NESTED.format(extra="")
    assert sorted(e["name"] for e in _entities(old).values()) == [
        "Cobalt CDN", "Helpdesk Co", "Northwind Hosting", "Quill Labs"]
    new = _NESTED.format(extra="  - Ostrich AI — embeddings — United States\n")
    assert _fired(_sub_changes(old, new)) == ["Ostrich AI"]


_PLACES = """# Subprocessors

These subprocessors are all located in the United States:

* [Northwind Hosting](https://northwind.example) - Cloud services provider
* [Quill Labs](https://quill.example) - Language model provider
{us}
This subprocessor is located in the United Kingdom:
{uk}
If you want to be notified of changes, watch this page.
"""
_HELPDESK = "* [Helpdesk Co](https://helpdesk.example) - Support desk\n"


def test_list_items_take_the_one_place_their_introduction_names() -> None:
    old = _PLACES.format(us="", uk=_HELPDESK)
    got = {e["name"]: e["location"] for e in _entities(old).values()}
    assert got == {"Northwind Hosting": "United States", "Quill Labs": "United States",
                   "Helpdesk Co": "United Kingdom"}  # a one-item list beside the other
    moved = _sub_changes(old, _PLACES.format(us=_HELPDESK, uk=""))
    assert [(c.key, c.fields) for c in moved] == [("Helpdesk Co", ("location",))]


# --- model_card: the model's own deprecation written in prose ---------------------------

_CARD = """<html><body><main><article><h1>Orbit 2 Pro</h1>
{notice}<p>Orbit 2 Pro is our most capable model for reasoning.</p>
<table><tr><th>Property</th><th>Value</th></tr>
<tr><td>Context window</td><td>200,000 tokens</td></tr>
<tr><td>Knowledge cutoff</td><td>June 2026</td></tr></table>
<h2>Parameters</h2><p>{param}Temperature defaults to 1.</p>
</article></main></body></html>"""


def test_a_deprecation_notice_for_the_model_is_a_model_change_naming_it() -> None:
    old = _CARD.format(notice="", param="")
    notice = ("<p>Orbit 2 Pro is deprecated and will be retired on March 1, 2027. "
              "Migrate to Orbit 3.</p>")
    new = _CARD.format(notice=notice, param="")
    assert _diff_triggers("model_card", old, new) == [
        ("model_change", ["Orbit 2 Pro — 2027-03-01"])]
    reworded = _CARD.format(notice="<p>Orbit 2 Pro has been deprecated; it will be retired "
                                   "on 1 March 2027.</p>", param="")
    assert _diff_triggers("model_card", new, reworded) == []
    param = "The <code>logit_bias</code> parameter is deprecated since 2026-11-01. "
    assert _diff_triggers("model_card", old, _CARD.format(notice="", param=param)) == []


def test_a_docusaurus_heading_anchor_is_not_part_of_the_entry_title() -> None:
    from sources import changelog

    page = ('<html><body><main><article><h1>Changelog</h1>'
            '<h2 id="d">December 4, 2026<a href="#d" class="hash-link">{}</a></h2>'
            "<ul><li>Fixed a timeout.</li></ul>"
            '<h2 id="e">November 2, 2026<a href="#e" class="hash-link">{}</a></h2>'
            "<ul><li>Fixed streaming.</li></ul></article></main></body></html>")
    old = changelog.parse(page.format("\u200b", "\u200b").encode(), changelog.Settings())
    assert [e["title"] for e in old.data["entries"]] == ["December 4, 2026",
                                                           "November 2, 2026"]
    new = changelog.parse(page.format("#", "#").encode(), changelog.Settings())
    assert changelog.diff(old, new) == []


_ROLES = """# Subprocessors

We use the following subprocessors to provide the service:

- **Infrastructure:** Northwind Hosting, Cobalt CDN
- **AI model providers:** Quill Labs{more}
- **Payment processor:** Ledgerly
"""


def test_an_item_labelled_with_a_role_lists_one_entity_per_name() -> None:
    old = _ROLES.format(more="")
    got = {e["name"]: e["purpose"] for e in _entities(old).values()}
    assert got["Quill Labs"] == "AI model providers" and got["Ledgerly"] == "Payment processor"
    assert got["Infrastructure"] == "Northwind Hosting, Cobalt CDN"  # no role word: as read
    new = _ROLES.format(more=", Ostrich AI and Pelican Labs")
    assert _fired(_sub_changes(old, new)) == ["Ostrich AI", "Pelican Labs"]
