"""The web UI in headless Chromium (Debian's package), driven by Playwright.

The data is demo-like and real: the pipeline ran against the simulated vendor site over
the last 90 days (its clock set back), then a round of changes of every kind and a
hostile DPA page. With ``REASSESS_SCREENSHOTS=1`` the tests write
``docs/screenshots/``: the dashboard, a trigger's detail, a comparison of two snapshots
and the history on a phone.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_fixtures import PASSWORDS, LiveServer, demo_config, seed, seed_history

from monitor.demo.vendorsite import VendorSite
from storage.db import open_database

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    site = VendorSite(vendors=["acme", "northwind", "heliosml"])
    site.start(host="127.0.0.1", port=0)
    tmp = tmp_path_factory.mktemp("browser")
    config = demo_config(site.base_url, f"sqlite:///{tmp}/reassess.db", helios=True)
    engine = open_database(config.database)
    seed_history(site, config, engine)
    seed(site, config, engine)
    live = LiveServer(config, engine).start()
    yield live
    live.stop()
    engine.dispose()
    site.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (tools/test-services.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


class Watch:
    """A page plus what it did: dialogs opened, requests made, console errors."""

    def __init__(self, browser: Any, base: str, width: int = 1280) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.base = base
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("request", lambda req: self.requests.append(req.url))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def go(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, path
        return self.page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watch(browser: Any, server: LiveServer) -> Iterator[Watch]:
    w = Watch(browser, server.url)
    yield w
    w.close()
    assert not w.dialogs
    outside = [u for u in w.requests if not u.startswith(server.url)]
    assert not outside, f"the UI fetched from outside its server: {outside}"


def _shoot(page: Any, name: str) -> None:
    if os.environ.get("REASSESS_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / name), full_page=True)


def test_dashboard_filter_history_open_detail(watch: Watch) -> None:
    page = watch.go("/")
    assert page.locator("h1").inner_text() == "Dashboard"
    assert page.locator(".card", has_text="acme-support-bot").count() == 1
    assert page.locator("svg.timeline circle").count() >= 10
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui")
    _shoot(page, "dashboard.png")

    page.get_by_role("link", name="Triggers", exact=True).click()
    page.wait_for_url(re.compile(r"/triggers$"))
    everything = int(page.locator("#total").inner_text())
    page.locator("select[name=vendor]").select_option(label="Acme AI")
    page.locator("select[name=type]").select_option("subprocessor_change")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"type=subprocessor_change"))
    filtered = int(page.locator("#total").inner_text())
    assert 0 < filtered < everything
    types = page.locator("table.triggers tbody td:nth-child(3)").all_inner_texts()
    assert types and set(types) == {"subprocessor change"}

    page.locator("table.triggers a", has_text="Cohere").click()
    page.wait_for_url(re.compile(r"/triggers/\d+$"))
    entities = page.locator("table.entities")
    assert "Cohere Inc." in entities.inner_text() and "Germany" in entities.inner_text()
    assert page.get_by_role("heading", name="Affected assessments").is_visible()
    assert page.locator("a", has_text="acme-support-bot").count() >= 1
    _shoot(page, "trigger-detail.png")
    page.locator("dd a[href^='/snapshots/']").last.click()
    assert page.locator("h1").inner_text().startswith("Snapshot #")
    assert "Content hash" in page.locator("dl.evidence").inner_text()


def test_sign_in_ack_and_resolve(watch: Watch) -> None:
    page = watch.go("/assessments/acme-code-review")
    assert page.locator("#assessment-status").inner_text() == "re-review required"
    page.get_by_role("link", name="Sign in").first.click()
    page.locator("input[name=name]").fill("rita")
    page.locator("input[name=password]").fill(PASSWORDS["rita"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/assessments/acme-code-review$"))
    assert "rita" in page.locator("header .user").inner_text()

    page.locator("table.list a[href^='/triggers/']").first.click()
    page.wait_for_url(re.compile(r"/triggers/\d+$"))
    page.locator("#ack-form input[name=note]").fill("Checked the release notes")
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_url(re.compile(r"done=acknowledged"))
    assert page.locator(".notice").inner_text() == "Acknowledged."
    assert page.locator(".badges .status").inner_text() == "acknowledged"
    assert "by rita" in page.locator("dl.facts").inner_text()

    page = watch.go("/assessments/acme-code-review")
    page.locator("#resolve-form select[name=disposition]").select_option("approved")
    page.locator("#resolve-form input[name=note]").fill("New model reviewed; approved")
    page.get_by_role("button", name="Resolve").click()
    page.wait_for_url(re.compile(r"done=resolved"))
    assert page.locator("#assessment-status").inner_text() == "current"
    assert page.locator("#disposition").inner_text() == "approved"
    assert "New model reviewed; approved" in page.locator("ul.audit").inner_text()
    page = watch.go("/")
    assert page.locator(".card", has_text="acme-code-review").count() == 0
    assert page.locator(".card", has_text="acme-support-bot").count() == 1


def test_hostile_vendor_content_shows_as_text(watch: Watch) -> None:
    page = watch.go("/triggers?vendor=acme")
    links = page.locator("table.triggers td.title a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    shown = ""
    for path in ["/", "/vendors/acme", *hrefs]:
        page = watch.go(path)
        assert page.locator("script").count() == 0, path
        assert page.locator("img").count() == 0, path
        assert page.locator("a[href^='javascript:' i]").count() == 0, path
        shown += page.locator("main").inner_text()
    assert "<script>alert(1)</script>" in shown
    assert "<img src=x onerror=alert(1)>" in shown
    assert "javascript:alert(1)" in shown
    page = watch.go("/triggers?source=acme-dpa")
    page.locator("table.triggers td.title a").first.click()
    page.wait_for_url(re.compile(r"/triggers/\d+$"))
    quoted = page.get_by_text("Quoted: <script>alert(1)</script>").first
    assert quoted.is_visible()
    assert watch.dialogs == []


def test_readable_on_a_phone(browser: Any, server: LiveServer) -> None:
    phone = Watch(browser, server.url, width=390)
    try:
        for path in ("/", "/triggers", "/vendors/acme", "/assessments/acme-support-bot"):
            page = phone.go(path)
            overflow = page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= 392, (path, overflow)
        # a trigger list shows each title and vendor without scrolling sideways
        page = phone.go("/triggers")
        row = page.locator("table.triggers tbody tr").first
        for cell in ("td.title", "td.vendor-cell"):
            box = row.locator(cell).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, cell
            assert row.locator(cell).is_visible()
        _shoot(page, "history-phone.png")
    finally:
        phone.close()


def _sign_in(watch: Watch, name: str = "rita") -> Any:
    page = watch.go("/login")
    page.locator("input[name=name]").fill(name)
    page.locator("input[name=password]").fill(PASSWORDS[name])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$"))
    return page


def test_bulk_acknowledge_search_and_check_now(watch: Watch) -> None:
    page = _sign_in(watch)
    page = watch.go("/triggers?status=open")
    page.locator("input[name=q]").fill("subprocessor")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"q=subprocessor"))
    titles = page.locator("table.triggers td.title").all_inner_texts()
    assert titles and all("subprocessor" in t.lower() for t in titles)
    boxes = page.locator("input[name=ids]")
    picked = min(2, boxes.count())
    assert picked >= 1
    for i in range(picked):
        boxes.nth(i).check()
    page.locator("#bulk-ack input[name=note]").fill("seen in the weekly review")
    page.get_by_role("button", name="Acknowledge selected").click()
    page.wait_for_url(re.compile(r"done=acked-"))
    assert page.locator(".notice").inner_text().startswith(f"Acknowledged {picked} trigger")
    assert "q=subprocessor" in page.url  # back to the same filtered history

    page = watch.go("/triggers")
    sources = page.locator("select[name=source] option").all_inner_texts()
    assert "acme-dpa" in sources
    page.locator("select[name=source]").select_option("acme-dpa")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"source=acme-dpa"))
    assert set(page.locator("table.triggers td.type-cell").all_inner_texts()) == {
        "policy change"}

    page = watch.go("/vendors/acme")
    page.locator("form.check-now").first.get_by_role("button", name="Check now").click()
    page.wait_for_url(re.compile(r"done=queued"))
    assert "is due now" in page.locator(".notice").inner_text()


def test_compare_two_snapshots(watch: Watch) -> None:
    page = watch.go("/sources/acme-dpa/compare")
    options = page.locator("select[name=a] option")
    assert options.count() >= 3
    page.locator("select[name=a]").select_option(index=options.count() - 1)  # the oldest
    page.locator("select[name=b]").select_option(index=0)  # the newest
    page.get_by_role("button", name="Compare").click()
    page.wait_for_url(re.compile(r"a=\d+&b=\d+"))
    diff = page.locator("table.sbs")
    assert diff.count() >= 1
    assert page.locator("table.sbs del").count() >= 1 and page.locator("table.sbs ins").count() >= 1
    # word-level: inside a changed line, only the changed words are marked
    marked = page.locator("tr.d-replace td.r ins").first.inner_text()
    line = page.locator("tr.d-replace td.r").first.inner_text()
    assert marked and len(marked) < len(line)
    _shoot(page, "compare.png")


def _pages(server: LiveServer) -> list[str]:
    """Every kind of page: lists, each trigger type's detail, vendors, assessments,
    snapshots, a comparison, sign-in and an error page."""
    import httpx

    with httpx.Client(base_url=server.url, timeout=10) as client:
        items = client.get("/api/triggers", params={"limit": 1000}).json()["items"]
        assessments = [a["id"] for a in client.get("/api/assessments").json()]
        vendors = [v["id"] for v in client.get("/api/vendors").json()]
        snapshot = client.get("/api/vendors/acme").json()["snapshots"][0]["id"]
    per_type = {t["type"]: t["id"] for t in reversed(items)}
    return ["/", "/triggers", "/triggers?vendor=acme&status=open", "/vendors",
            "/assessments", "/login", "/no-such-page", f"/snapshots/{snapshot}",
            "/sources/acme-dpa/compare", "/sources/acme-subprocessors/compare",
            *[f"/triggers/{i}" for i in per_type.values()],
            *[f"/vendors/{v}" for v in vendors], *[f"/assessments/{a}" for a in assessments]]


@pytest.mark.parametrize("width", [1280, 390])
def test_axe_finds_nothing_critical_or_serious(browser: Any, server: LiveServer,
                                               width: int) -> None:
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    found: dict[str, list[str]] = {}
    for signed_in in (False, True):
        watch = Watch(browser, server.url, width=width)
        try:
            if signed_in:
                _sign_in(watch, "adam")
            paths = _pages(server)
            for path in paths:
                page = watch.page
                page.goto(server.url + path)
                results = axe.run(page).response
                bad = [f"{v['id']} ({v['impact']}): {len(v['nodes'])} node(s)"
                       for v in results["violations"] if v["impact"] in ("critical", "serious")]
                if bad:
                    found[f"{path} {'signed in' if signed_in else 'anonymous'}"] = bad
        finally:
            watch.close()
    assert len(paths) >= 20
    assert not found, found
