"""``render: browser`` (issue 18): a loopback page that builds its subprocessor table in
JavaScript. A plain fetch sees no table (its source is held as empty, in the same
passes); the source rendered by headless Chromium
(the system's /usr/bin/chromium, as tests/test_web_browser.py uses) sees it, and a
subprocessor added by the script fires ``subprocessor_change`` once, on SQLite and
PostgreSQL. Images are never requested."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from loopback_site import LoopbackSite, fired

from sources import get_kind

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"

PAGE = """<!doctype html>
<html><head><title>Acme AI subprocessors</title></head>
<body><main>
<h1>Acme AI subprocessors</h1>
<p>The third parties that process customer data on our behalf.</p>
<img src="/pixel.png" alt="">
<div id="list">Loading…</div>
<script src="/app.js"></script>
</main></body></html>
"""

APP = """
const rows = %s;
setTimeout(() => {
  const table = document.createElement('table');
  table.id = 'subprocessors';
  table.innerHTML = '<thead><tr><th>Name</th><th>Purpose</th><th>Location</th></tr></thead>';
  const body = document.createElement('tbody');
  for (const [name, purpose, location] of rows) {
    const tr = document.createElement('tr');
    for (const cell of [name, purpose, location]) {
      const td = document.createElement('td'); td.textContent = cell; tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  table.appendChild(body);
  const list = document.getElementById('list');
  list.textContent = '';
  list.appendChild(table);
}, 150);
"""

ROWS = [["Amazon Web Services, Inc.", "Cloud hosting", "United States"],
        ["Snowflake Inc.", "Data warehousing", "United States"],
        ["Zendesk, Inc.", "Customer support", "United States"],
        ["Stripe, Inc.", "Payments", "United States"]]
NEW_ROW = ["Anthropic, PBC", "LLM inference", "United States"]


def serve(site: LoopbackSite, rows: list[list[str]]) -> None:
    site.set("/trust/subprocessors", PAGE)
    site.set("/app.js", APP % json.dumps(rows), "application/javascript")
    site.set("/pixel.png", b"\x89PNG\r\n\x1a\n", "image/png")


CONFIG = """\
database: {db}
vendors:
  - id: acme
    name: Acme AI
    sources:
      - id: acme-subprocessors
        kind: subprocessors
        url: {site}/trust/subprocessors
        render: browser
        wait_for: "#subprocessors tbody tr"
        timeout: 30s
      - id: acme-subprocessors-plain
        kind: subprocessors
        url: {site}/trust/subprocessors
"""


@pytest.fixture
def chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (tools/test-services.sh)")


def test_plain_fetch_sees_no_table(tmp_path: Path) -> None:
    kind = get_kind("subprocessors")
    doc = kind.parse(PAGE.encode(), kind.Settings())
    assert kind.size(doc) == 0  # the table is not in the HTML the server sends


def test_render_browser_end_to_end(chromium: None, db_url: str, make_config: Any,
                                   run_cli: Callable[..., Any]) -> None:
    with LoopbackSite() as site:
        serve(site, ROWS)
        config = make_config(CONFIG, db=db_url, site=site.url)
        first = run_cli("check", "--config", str(config))
        assert first.returncode == 0, first.stdout + first.stderr
        # the rendered page is the baseline; the plain fetch got a page with no table in
        # it, held as suspect (empty) and never compared
        assert "baseline 1, held 1" in first.stdout
        serve(site, [*ROWS, NEW_ROW])
        for _ in range(2):  # the change, then the same rendered page again
            res = run_cli("check", "--config", str(config))
            assert res.returncode == 0, res.stdout + res.stderr
        assert "/pixel.png" not in site.hits  # images are blocked
        assert site.hits.count("/app.js") == 3
    assert [t[:2] for t in fired(db_url)] == [("subprocessor_change", ["Anthropic, PBC"])]


def test_render_wait_for_missing_fails(chromium: None, sqlite_url: str, make_config: Any,
                                       run_cli: Callable[..., Any]) -> None:
    with LoopbackSite() as site:
        serve(site, ROWS)
        config = make_config(CONFIG.replace("#subprocessors tbody tr", "#never")
                             .replace("30s", "2s"), db=sqlite_url, site=site.url)
        res = run_cli("check", "--config", str(config), "--source", "acme-subprocessors")
    assert res.returncode == 1
    assert "wait_for '#never' was not on the page" in res.stdout + res.stderr
