"""The simulated vendor site, over real HTTP on loopback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest

from monitor.demo.vendorsite import DOCS, ControlError, VendorSite

ROOT = Path(__file__).resolve().parents[1]
NOISE = re.compile(r'nonce="[^"]*"|"buildId":"[^"]*"|/_assets/[0-9a-f]+/|value="[^"]*"'
                   r'|__CSRF_TOKEN__="[^"]*"|Page generated at [^<]*')
CONTENT_TYPES = {"subprocessors": "text/html", "subprocessors.md": "text/markdown",
                 "status/history.rss": "application/rss+xml",
                 "status/history.atom": "application/atom+xml",
                 "status/api/v2/incidents.json": "application/json",
                 "changelog.atom": "application/atom+xml", "changelog.md": "text/markdown",
                 "changelog": "text/html", "model-card.md": "text/markdown",
                 "model-card": "text/html", "dpa": "text/html"}


@pytest.fixture
def site() -> Iterator[VendorSite]:
    vendor_site = VendorSite()
    vendor_site.start()
    yield vendor_site
    vendor_site.stop()


@pytest.fixture
def client(site: VendorSite) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=site.base_url or "", timeout=10) as http:
        yield http


def control(client: httpx.Client, vendor: str, action: str, **params: object) -> httpx.Response:
    return client.post(f"/_control/{vendor}/{action}", json=params)


@pytest.mark.parametrize("doc", list(DOCS))
@pytest.mark.parametrize("vendor", ["acme", "northwind", "heliosml"])
def test_every_document_is_served_with_its_media_type(client: httpx.Client, vendor: str,
                                                      doc: str) -> None:
    response = client.get(f"/{vendor}/{doc}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(CONTENT_TYPES[doc])
    assert response.headers["etag"] and response.headers["last-modified"]
    if doc.endswith((".rss", ".atom")):
        ElementTree.fromstring(response.content)
    elif doc.endswith(".json"):
        assert {"page", "incidents"} <= set(response.json())
    elif doc.endswith(".md"):
        assert response.text.startswith(("---\n", "# "))
    else:
        assert response.text.startswith("<!DOCTYPE html>") and "</html>" in response.text


def test_noise_changes_on_every_request_but_not_the_validators(client: httpx.Client) -> None:
    first, second = client.get("/acme/subprocessors"), client.get("/acme/subprocessors")
    assert first.text != second.text
    assert NOISE.sub("", first.text) == NOISE.sub("", second.text)
    assert first.headers["etag"] == second.headers["etag"]
    assert first.headers["last-modified"] == second.headers["last-modified"]


def test_conditional_requests_get_304(client: httpx.Client) -> None:
    first = client.get("/northwind/changelog")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    by_etag = client.get("/northwind/changelog", headers={"If-None-Match": etag})
    by_date = client.get("/northwind/changelog", headers={"If-Modified-Since": modified})
    assert (by_etag.status_code, by_etag.content) == (304, b"")
    assert by_etag.headers["etag"] == etag
    assert by_date.status_code == 304
    assert client.get("/northwind/changelog", headers={"If-None-Match": '"x"'}).status_code == 200


def test_a_control_action_changes_content_and_validators(client: httpx.Client) -> None:
    before = client.get("/acme/subprocessors")
    result = control(client, "acme", "add_subprocessor", name="Cohere Inc.",
                     purpose="LLM inference", location="Canada").json()
    assert set(result["changed"]) == {"/acme/subprocessors", "/acme/subprocessors.md"}
    after = client.get("/acme/subprocessors")
    assert "Cohere Inc." in after.text and "Cohere Inc." not in before.text
    assert "| Cohere Inc. | LLM inference | Canada |" in client.get("/acme/subprocessors.md").text
    assert after.headers["etag"] != before.headers["etag"]
    assert (parsedate_to_datetime(after.headers["last-modified"])
            > parsedate_to_datetime(before.headers["last-modified"]))
    stale = client.get("/acme/subprocessors",
                       headers={"If-Modified-Since": before.headers["last-modified"]})
    assert stale.status_code == 200
    untouched = client.get("/acme/dpa", headers={"If-None-Match": "*"})
    assert untouched.status_code == 304


def test_two_tables_and_subprocessor_edits(site: VendorSite, client: httpx.Client) -> None:
    page = client.get("/northwind/subprocessors").text
    assert page.count("<table") == 2 and "AI model providers" in page and "Entity Name" in page
    site.control("northwind", "add_subprocessor", name="Cohere Inc.", purpose="LLM inference",
                 location="Canada")
    ai_table = client.get("/northwind/subprocessors").text.split("AI model providers")[1]
    assert "Cohere Inc." in ai_table
    site.control("northwind", "modify_subprocessor", name="Mistral AI SAS", location="Germany")
    site.control("northwind", "remove_subprocessor", name="Anthropic")
    text = client.get("/northwind/subprocessors.md").text
    assert "| Mistral AI SAS | Model inference for EU-resident workloads | Germany |" in text
    assert "Anthropic" not in text


def test_incidents_flow_through_all_three_feeds(client: httpx.Client) -> None:
    added = control(client, "acme", "add_incident", title="Elevated errors on acme-large-2",
                    impact="major").json()
    for doc in ("status/history.rss", "status/history.atom"):
        assert "Elevated errors on acme-large-2" in client.get(f"/acme/{doc}").text
    control(client, "acme", "update_incident", id=added["id"], status="resolved",
            body="Fixed <b>now</b>.")
    incident = client.get("/acme/status/api/v2/incidents.json").json()["incidents"][0]
    assert (incident["id"], incident["status"], incident["impact"]) == (added["id"], "resolved",
                                                                        "major")
    assert incident["resolved_at"]
    assert incident["incident_updates"][0]["body"] == "Fixed <b>now</b>."
    atom = ElementTree.fromstring(client.get("/acme/status/history.atom").content)
    entry = atom.find("{http://www.w3.org/2005/Atom}entry")
    assert entry is not None
    assert entry.findtext("{http://www.w3.org/2005/Atom}id", "").endswith(
        f"Incident/{added['number']}")
    assert "<strong>Resolved</strong> - Fixed &lt;b&gt;now&lt;/b&gt;." in entry.findtext(
        "{http://www.w3.org/2005/Atom}content", "")


def test_release_model_card_and_page_actions(site: VendorSite, client: httpx.Client) -> None:
    site.control("heliosml", "add_release", tag="v9.0.0", title="v9.0.0: helios-large-2",
                 body="- Released `helios-large-2`.\n- Added image input to the API.")
    assert "tag:github.com,2008:Repository/" in client.get("/heliosml/changelog.atom").text
    assert "## [9.0.0] - " in client.get("/heliosml/changelog.md").text
    assert "<code>helios-large-2</code>" in client.get("/heliosml/changelog").text
    site.control("heliosml", "set_model_card", fields={"base_model": "meta-llama/Llama-3.1-8B"},
                 sections={"Training Data": "Now trained on customer chats."})
    card = client.get("/heliosml/model-card.md").text
    assert "base_model: meta-llama/Llama-3.1-8B" in card
    assert "## Training Data\n\nNow trained on customer chats." in card
    assert "Now trained on customer chats." in client.get("/heliosml/model-card").text
    hostile = "<script>alert(1)</script><img src=x onerror=alert(1)><!channel>" + "x" * 1_000_000
    site.control("heliosml", "set_page", path="dpa", html=hostile)
    assert hostile in client.get("/heliosml/dpa").text


def test_control_errors(client: httpx.Client, site: VendorSite) -> None:
    assert control(client, "nobody", "add_incident", title="x").status_code == 404
    assert control(client, "acme", "explode").status_code == 400
    assert control(client, "acme", "add_incident", title="x", color="red").status_code == 400
    assert control(client, "acme", "add_incident", title="x", impact="huge").status_code == 400
    assert control(client, "acme", "remove_subprocessor", name="Nobody").status_code == 404
    assert client.post("/_control/acme/fail", content=b"[1]").status_code == 400
    assert client.get("/acme/nothing").status_code == 404
    assert client.get("/nobody/dpa").status_code == 404
    with pytest.raises(ControlError):
        site.control("acme", "set_page", path="nothing", html="x")


@pytest.mark.parametrize(("mode", "status"), [("500", 500), ("503", 503), ("empty", 200),
                                              ("challenge", 200)])
def test_fail_modes(client: httpx.Client, mode: str, status: int) -> None:
    control(client, "acme", "fail", path="/acme/dpa", mode=mode)
    failed = client.get("/acme/dpa")
    assert failed.status_code == status
    assert "etag" not in failed.headers
    assert client.get("/acme/changelog").status_code == 200
    if mode == "empty":
        assert failed.content == b""
    if mode == "challenge":
        assert "Just a moment..." in failed.text and "Subprocessors" not in failed.text
    control(client, "acme", "fail", path="dpa", mode="ok")
    assert "Data Processing Addendum" in client.get("/acme/dpa").text


def test_vendor_wide_and_slow_failures(client: httpx.Client) -> None:
    control(client, "acme", "fail", mode="503")
    assert client.get("/acme/changelog.md").status_code == 503
    control(client, "acme", "fail", mode="slow", seconds=0.3)
    started = time.monotonic()
    assert client.get("/acme/changelog.md").status_code == 200
    assert time.monotonic() - started >= 0.3
    control(client, "acme", "fail", mode="ok")
    assert client.get("/acme/changelog.md").status_code == 200


def test_requests_are_counted_including_304s(client: httpx.Client) -> None:
    client.post("/_control/stats/reset")
    etag = client.get("/acme/dpa").headers["etag"]
    client.get("/acme/dpa", headers={"If-None-Match": etag})
    client.get("/acme/missing")
    stats = client.get("/_control/stats").json()
    assert stats == {"requests": {"/acme/dpa": 2, "/acme/missing": 1}, "total": 3}
    client.post("/_control/stats/reset")
    assert client.get("/_control/stats").json() == {"requests": {}, "total": 0}


def test_reset_restores_the_initial_content(client: httpx.Client) -> None:
    initial = client.get("/acme/changelog.md").headers["etag"]
    control(client, "acme", "add_release", tag="v99.0.0", body="- Big change.")
    assert client.get("/acme/changelog.md").headers["etag"] != initial
    control(client, "acme", "reset")
    assert client.get("/acme/changelog.md").headers["etag"] == initial


def test_mutate_random_changes_what_it_reports(client: httpx.Client) -> None:
    paths = [p for v in ("acme", "northwind", "heliosml") for p in
             (f"/{v}/{d}" for d in DOCS)]
    before = {p: client.get(p).headers["etag"] for p in paths}
    result = client.post("/_control/mutate_random", json={"count": 4, "seed": 7}).json()
    assert len(result["changes"]) >= 1 and len(result["changed"]) >= 4
    after = {p: client.get(p).headers["etag"] for p in paths}
    assert {p for p in paths if before[p] != after[p]} == set(result["changed"])


def test_generated_site_is_deterministic_and_sized_like_real_pages() -> None:
    with VendorSite.generated(12) as site, httpx.Client(base_url=site.base_url or "") as http:
        listing = http.get("/_control/vendors").json()
        assert [v["slug"] for v in listing["vendors"]] == [f"v{i:04d}" for i in range(1, 13)]
        assert listing["documents"]["dpa"]["kind"] == "page"
        for vendor in ("v0001", "v0007", "v0012"):
            page = http.get(f"/{vendor}/subprocessors")
            assert 20_000 <= len(page.content) <= 60_000
            feed = ElementTree.fromstring(http.get(f"/{vendor}/changelog.atom").content)
            assert 30 <= len(feed.findall("{http://www.w3.org/2005/Atom}entry")) <= 50
        etag = http.get("/v0003/model-card.md").headers["etag"]
    other = VendorSite(["v0003"])
    assert other.document("v0003", "model-card.md") == site.document("v0003", "model-card.md")
    assert etag.strip('"')


def test_demo_vendor_pages_are_sized_like_real_pages(site: VendorSite) -> None:
    for vendor in site.vendors:
        assert 20_000 <= len(site.document(vendor, "subprocessors")) <= 60_000


def test_demo_step_makes_a_semantic_change(site: VendorSite) -> None:
    before = {v: [site.document(v, d) for d in DOCS if not DOCS[d].html] for v in site.vendors}
    text = site.demo_step()
    vendor = text.split(":")[0]
    assert [site.document(vendor, d) for d in DOCS if not DOCS[d].html] != before[vendor]


def test_demo_every_changes_documents_in_the_background() -> None:
    site = VendorSite(demo_every=0.05)

    def snapshot() -> list[bytes]:
        return [site.document(v, d) for v in site.vendors for d in DOCS if not DOCS[d].html]

    before = snapshot()
    site.start()
    try:
        deadline = time.monotonic() + 5
        while snapshot() == before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert snapshot() != before
    finally:
        site.stop()


def test_set_page_replaces_a_feed_verbatim(site: VendorSite, client: httpx.Client) -> None:
    site.control("acme", "set_page", path="/acme/changelog.atom", html="<feed>broken")
    assert client.get("/acme/changelog.atom").text == "<feed>broken"
    site.control("acme", "set_page", path="changelog.atom", html=None)
    ElementTree.fromstring(client.get("/acme/changelog.atom").content)


def test_cli_serves_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "monitor.demo.vendorsite", "--port", "0"],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        with httpx.Client() as http:
            assert json.loads(http.get(f"{url}/_control/vendors").text)["vendors"]
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
