"""Issue 19 end to end through the real CLI against the simulated vendor site: a new
sub-processor fires a trigger carrying its controls; ``verify`` passes, then names a row
altered in SQL; an evidence bundle verifies offline and any altered byte of any of its
files is named; ``report.html`` renders in Chromium with no request outside the file;
the OSCAL export loads into compliance-trestle's models; the objection window is listed
by ``deadlines`` and its reminder and overdue notices are enqueued once each."""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import cli, write_config
from sqlalchemy import select, text

from config import load_config
from monitor.evidence.bundle import verify_zip
from monitor.evidence.deadlines import notify_deadlines, shutdown_date
from storage.db import open_database, session_scope
from storage.models import Outbox

Cli = Callable[..., subprocess.CompletedProcess[str]]
SECRET = "s3cr3t-evidence-token-4711"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

CONFIG = """\
database: {db}
frameworks: [iso42001, nist-ai-rmf, eu-ai-act, dora, gdpr]
deadlines:
  remind_before: 20d
channels:
  security: {{urls: ["json://127.0.0.1:9/hook"]}}
controls:
  - id: "INTERNAL TPRM-7"
    framework: gdpr
    requirement: "Our own rule: a new sub-processor is reviewed by the DPO."
    when: [{{type: subprocessor_change}}]
vendors:
  - id: acme
    name: Acme AI
    owner: security
    objection_days: 15
    sources:
      - id: acme-subprocessors
        kind: subprocessors
        url: {site}/acme/subprocessors?token=${{EV_TOKEN}}
assessments:
  - id: acme-support
    vendor: acme
    system: Support assistant
    owner: security
    disposition: approved
    assessed: {assessed}
"""


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout


@pytest.fixture(scope="module")
def fired(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One history for the module: a sub-processor added at acme, fired, acknowledged
    (each test copies the database before it alters anything)."""
    from monitor.demo.vendorsite import VendorSite

    os.environ["EV_TOKEN"] = SECRET  # a source secret: never in the chain nor a bundle
    site = VendorSite(vendors=["acme"])
    site.start(host="127.0.0.1", port=0)
    tmp = tmp_path_factory.mktemp("evidence")
    db = f"sqlite:///{tmp}/reassess.db"
    cfg = write_config(tmp / "reassess.yaml", CONFIG, db=db, site=site.base_url,
                       assessed=(datetime.now(UTC) - timedelta(days=10)).date())
    try:
        ok(cli("check", "--no-notify", "--config", str(cfg)))
        site.control("acme", "add_subprocessor", name="Cohere", purpose="LLM inference",
                     location="Canada")
        ok(cli("check", "--no-notify", "--config", str(cfg)))
    finally:
        site.stop()
    [trigger] = json.loads(ok(cli("triggers", "--json", "--config", str(cfg))))
    ok(cli("ack", str(trigger["id"]), "--by", "alice", "--note", "asked legal",
           "--config", str(cfg)))
    yield {"cfg": cfg, "db": db, "trigger": trigger}
    os.environ.pop("EV_TOKEN", None)


def test_controls_verify_bundle_and_oscal(fired: dict[str, Any], run_cli: Cli,
                                          tmp_path: Path) -> None:
    cfg, trigger = fired["cfg"], fired["trigger"]
    assert trigger["type"] == "subprocessor_change"
    ids = {c["id"] for c in trigger["controls"]}
    assert {"GDPR Art. 28(2)", "DORA Art. 30(2)(b)", "INTERNAL TPRM-7",
            "ISO/IEC 42001 A.10.3"} <= ids
    assert not any(c["framework"] == "nis2" for c in trigger["controls"])  # not configured
    for c in trigger["controls"]:
        assert set(c) == {"id", "framework", "requirement", "checked"}
        assert c["checked"] == "unchecked" or c["checked"].startswith("http")
    assert all(c["checked"] == "unchecked" for c in trigger["controls"]
               if c["framework"] == "iso42001")

    shown = json.loads(ok(run_cli("show", str(trigger["id"]), "--json", "--config", str(cfg))))
    assert shown["controls"] == trigger["controls"]
    assert [d["deadline"] for d in shown["deadlines"]] == ["objection"]

    report = json.loads(ok(run_cli("verify", "--json", "--config", str(cfg))))
    assert report["ok"] and report["records"] >= 4

    bundle = tmp_path / "acme.zip"
    ok(run_cli("evidence", "export", "--vendor", "acme", "--out", str(bundle),
               "--config", str(cfg)))
    assert "OK" in ok(run_cli("evidence", "verify", str(bundle)))
    with zipfile.ZipFile(bundle) as zf:
        names = zf.namelist()
        files = {n: zf.read(n) for n in names}
    assert {"manifest.json", "manifest.sha256", "chain.json", "report.html", "triggers.json",
            f"records/trigger-{trigger['id']}.json"} <= set(names)
    assert any(n.startswith("snapshots/") and "/body." in n for n in names)
    assert not any(SECRET.encode() in data for data in files.values())
    assert any(b"${EV_TOKEN}" in data for data in files.values())  # the placeholder is
    [t] = json.loads(files["triggers.json"])
    assert [e["action"] for e in t["lifecycle"]] == ["acknowledged"]
    assert t["lifecycle"][0]["by"] == "alice" and t["deadlines"][0]["deadline"] == "objection"

    # any one byte of any file altered: the bundle fails, naming that file
    for name in names:
        data = bytearray(files[name])
        data[len(data) // 2] ^= 0x01
        broken = tmp_path / "broken.zip"
        with zipfile.ZipFile(broken, "w") as zf:
            for other in names:
                zf.writestr(other, bytes(data) if other == name else files[other])
        problems = verify_zip(broken)
        assert problems and any(p.startswith(f"{name}:") for p in problems), (name, problems)
    result = run_cli("evidence", "verify", str(broken))
    assert result.returncode == 1 and name in result.stdout

    # a row altered directly in SQL: verify exits 1 naming it
    engine = open_database(fired["db"])
    with engine.begin() as conn:
        conn.execute(text('UPDATE "trigger" SET severity = \'low\' WHERE id = :i'),
                     {"i": trigger["id"]})
    result = run_cli("verify", "--config", str(cfg))
    assert result.returncode == 1 and f"trigger {trigger['id']}" in result.stdout
    with engine.begin() as conn:
        conn.execute(text('UPDATE "trigger" SET severity = :s WHERE id = :i'),
                     {"i": trigger["id"], "s": trigger["severity"]})
    engine.dispose()

    # OSCAL assessment results load into compliance-trestle's models
    from trestle.oscal.assessment_results import AssessmentResults

    oscal = tmp_path / "acme.json"
    ok(run_cli("evidence", "export", "--assessment", "acme-support", "--format", "oscal",
               "--out", str(oscal), "--config", str(cfg)))
    doc = json.loads(oscal.read_text())["assessment-results"]
    loaded = AssessmentResults.model_validate(doc)
    [result_] = loaded.results
    assert result_.findings and len(result_.findings) == 1
    assert result_.findings[0].target.target_id == "iso-iec-42001-a-10-2"


@pytest.mark.browser
def test_report_renders_offline_in_chromium(fired: dict[str, Any], run_cli: Cli,
                                            tmp_path: Path) -> None:
    bundle = tmp_path / "acme.zip"
    ok(run_cli("evidence", "export", "--assessment", "acme-support", "--out", str(bundle),
               "--config", str(fired["cfg"])))
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(folder)
    from playwright.sync_api import sync_playwright


    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.goto((folder / "report.html").as_uri())
        assert "Evidence bundle: assessment acme-support" in page.title()
        assert page.locator("h3").first.inner_text().startswith(
            f"Trigger {fired['trigger']['id']}")
        assert "GDPR Art. 28(2)" in page.content()
        browser.close()
    assert requests == [(folder / "report.html").as_uri()]


def test_deadlines_listed_and_notices_sent_once(fired: dict[str, Any], run_cli: Cli) -> None:
    cfg = fired["cfg"]
    [d] = json.loads(ok(run_cli("deadlines", "--json", "--config", str(cfg))))
    created = datetime.fromisoformat(fired["trigger"]["created_at"].replace("Z", "+00:00"))
    assert d["deadline"] == "objection" and d["trigger"] == fired["trigger"]["id"]
    assert d["due"] == (created + timedelta(days=15)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert not d["overdue"]
    config = load_config(cfg)
    engine = open_database(fired["db"])
    now = datetime.now(UTC)
    # the reminder (20 days ahead) went out with the check that fired it, once
    assert notify_deadlines(config, engine, now) == 0
    later = created + timedelta(days=16)
    assert notify_deadlines(config, engine, later) == 1  # overdue, trigger still open
    assert notify_deadlines(config, engine, later + timedelta(hours=1)) == 0
    with session_scope(engine) as s:
        rows = list(s.execute(select(Outbox).where(Outbox.dedupe_key.like("d:%")))  # type: ignore[attr-defined]
                    .scalars())
    engine.dispose()
    assert sorted(r.dedupe_key.split(":")[3] for r in rows) == ["overdue", "reminder"]
    titles = [r.payload["document"]["trigger"]["title"] for r in rows]  # type: ignore[index]
    assert all("objection window" in t for t in titles)
    assert all(r.payload["document"]["schema"] == "reassess.notification/2"  # type: ignore[index]
               for r in rows)


def test_deadline_job_takes_the_write_lock_only_to_send(fired: dict[str, Any],
                                                         tmp_path: Path) -> None:
    """The quarter-hourly job reads what is due without the write lock: with nothing to
    send it never waits for a writer (at a million triggers it held the lock for minutes
    and every check waited), and what is due is still sent once the lock is free."""
    import shutil
    import sqlite3

    path = Path(fired["db"].removeprefix("sqlite:///"))
    copy = tmp_path / "copy.db"
    shutil.copy(path, copy)
    earlier = sqlite3.connect(copy, isolation_level=None)  # what an earlier test sent
    earlier.execute("DELETE FROM deadline_notice WHERE stage = 'overdue'")
    earlier.execute("DELETE FROM outbox WHERE dedupe_key LIKE 'd:%:overdue%'")
    earlier.close()
    config = load_config(fired["cfg"])
    engine = open_database(f"sqlite:///{copy}?timeout=1")
    created = datetime.fromisoformat(fired["trigger"]["created_at"].replace("Z", "+00:00"))
    writer = sqlite3.connect(copy, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process's write transaction
        # the reminder went out with the check that fired it: nothing is due now
        assert notify_deadlines(config, engine, created + timedelta(hours=1)) == 0
        writer.execute("ROLLBACK")
        assert notify_deadlines(config, engine, created + timedelta(days=16)) == 1
    finally:
        writer.close()
        engine.dispose()


def test_shutdown_dates_in_model_changes() -> None:
    assert str(shutdown_date(["gpt-x will be retired on 2027-01-15"])) == "2027-01-15"
    assert str(shutdown_date(["Deprecation: acme-1 shuts down March 3, 2027"])) == "2027-03-03"
    assert shutdown_date(["acme-2 released on 2027-01-15"]) is None


def test_web_download_for_reviewers(fired: dict[str, Any], tmp_path: Path) -> None:
    import httpx
    from web_fixtures import TOKENS, LiveServer, web_section

    config = load_config(fired["cfg"])
    config = config.model_copy(update={"web": type(config.web).model_validate(web_section())})
    engine = open_database(fired["db"])
    live = LiveServer(config, engine).start()
    try:
        reviewer = {"Authorization": f"Bearer {TOKENS['ci-bot'][1]}"}
        viewer = {"Authorization": f"Bearer {TOKENS['dash'][1]}"}
        url = f"{live.url}/assessments/acme-support/evidence.zip"
        got = httpx.get(url, headers=reviewer, timeout=30)
        assert got.status_code == 200, got.text
        assert got.headers["content-type"] == "application/zip"
        (tmp_path / "web.zip").write_bytes(got.content)
        assert verify_zip(tmp_path / "web.zip") == []
        assert httpx.get(url, headers=viewer, timeout=30).status_code == 403
        got = httpx.get(f"{live.url}/vendors/acme/evidence.zip", headers=reviewer, timeout=30)
        assert got.status_code == 200
        page = httpx.get(f"{live.url}/triggers/{fired['trigger']['id']}", headers=reviewer,
                         timeout=30)
        assert "GDPR Art. 28(2)" in page.text and "objection window" in page.text
        api = httpx.get(f"{live.url}/api/triggers", headers=viewer, timeout=30).json()
        assert any(c["id"] == "GDPR Art. 28(2)" for c in api["items"][0]["controls"])
    finally:
        live.stop()
        engine.dispose()
