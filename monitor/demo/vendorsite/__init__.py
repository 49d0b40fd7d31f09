"""The simulated vendor site: fictional AI vendors' documents on a real HTTP server.

End-to-end tests, ``reassess demo`` and the benchmark watch this site instead of the
internet. Each vendor (a slug such as ``acme`` or ``v0042``) serves, under ``/{slug}/``:

===============================  ==============================================  =========
path                             what                                            kind
===============================  ==============================================  =========
``subprocessors``                CMS trust page with one or two tables           subprocessors
``subprocessors.md``             the same list, docs-site Markdown table         subprocessors
``status/history.rss``           Atlassian Statuspage incident history (RSS)     incidents
``status/history.atom``          the same (Atom)                                 incidents
``status/api/v2/incidents.json`` Statuspage v2 JSON                              incidents
``changelog.atom``               GitHub releases Atom of the SDK                 changelog
``changelog.md``                 Markdown CHANGELOG                              changelog
``changelog``                    the changelog as an HTML page                   changelog
``model-card.md``                Hugging Face model card (YAML front matter)     model_card
``model-card``                   the card as an HTML page                        model_card
``dpa``                          Data Processing Addendum (HTML policy page)     page
===============================  ==============================================  =========

Content is deterministic (a RNG seeded by the slug) and changes only on command
(:meth:`VendorSite.control`, ``POST /_control/...``). HTML pages carry noise that
changes on every request (script nonce, build id, CSRF token, "Page generated at"),
while ``ETag``/``Last-Modified`` follow the semantic content only, and conditional
requests get ``304``. Bodies are rendered once per content version and cached as byte
chunks with holes for the noise, so a request costs a dict lookup and a join.

Markup lives in ``monitor/demo/sitedata/templates``; names, pools and legal text in
``monitor/demo/sitedata/vendors.yaml``. Run it alone with
``python -m monitor.demo.vendorsite --port 8765 [--vendors N] [--demo-every 20s]``.

Modules: :mod:`.common` (constants, the document table, site data), :mod:`.state`
(vendor content and its generation), :mod:`.control` (control actions, random changes),
:mod:`.render` (document rendering and the body cache), :mod:`.responses` (HTTP
responses), :mod:`.server` (:class:`VendorSite`) and :mod:`.cli` (the command line).
"""

from __future__ import annotations

from .cli import main
from .common import (
    ANCHOR,
    DEMO_VENDORS,
    DOCS,
    FAIL_MODES,
    HTML_CT,
    IMPACTS,
    MAX_MUTATIONS,
    MAX_OVERRIDE,
    MD_CT,
    SITEDATA,
    SLUG_RE,
    STATUSES,
    TITLES,
    TOPICS,
    ControlError,
    DocSpec,
    log,
)
from .control import (
    ACTIONS,
    MUTATORS,
    act_add_incident,
    act_add_release,
    act_add_subprocessor,
    act_fail,
    act_modify_subprocessor,
    act_remove_subprocessor,
    act_set_dpa,
    act_set_model_card,
    act_set_page,
    act_update_incident,
    apply_action,
    doc_name,
)
from .render import CONTEXTS, Rendered, render, render_text
from .server import VendorSite
from .state import (
    Card,
    Failure,
    Incident,
    Release,
    Subprocessor,
    Update,
    VendorState,
    build_vendor,
    vendor_name,
)

__all__ = [
    "ACTIONS",
    "ANCHOR",
    "CONTEXTS",
    "DEMO_VENDORS",
    "DOCS",
    "FAIL_MODES",
    "HTML_CT",
    "IMPACTS",
    "MAX_MUTATIONS",
    "MAX_OVERRIDE",
    "MD_CT",
    "MUTATORS",
    "SITEDATA",
    "SLUG_RE",
    "STATUSES",
    "TITLES",
    "TOPICS",
    "Card",
    "ControlError",
    "DocSpec",
    "Failure",
    "Incident",
    "Release",
    "Rendered",
    "Subprocessor",
    "Update",
    "VendorSite",
    "VendorState",
    "act_add_incident",
    "act_add_release",
    "act_add_subprocessor",
    "act_fail",
    "act_modify_subprocessor",
    "act_remove_subprocessor",
    "act_set_dpa",
    "act_set_model_card",
    "act_set_page",
    "act_update_incident",
    "apply_action",
    "build_vendor",
    "doc_name",
    "log",
    "main",
    "render",
    "render_text",
    "vendor_name",
]
