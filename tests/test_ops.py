"""Issue 7, operations: ``/metrics`` and ``/healthz``, SIGHUP reload, log formats, and no
secret in any log line.

The daemon runs as a real ``reassess run`` subprocess against the simulated vendor site;
what it did is read back through its web endpoints, the database and the site's counts.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from procs import RunningDaemon, wait_for
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from sqlalchemy.engine import Engine

from config.schema import Config
from monitor.daemon.daemon import Daemon
from monitor.daemon.ops import Ops
from storage.db import open_database, session_scope
from storage.models import CheckRun, Source

DB_PASSWORD = "Pg-Pass-7d1e9c"  # test secrets that must never reach a log
HOOK_TOKEN = "HookToken-b3f0a2"
CHANNEL = f"json://reassess:{DB_PASSWORD}x@127.0.0.1:9/hook/{HOOK_TOKEN}?token={HOOK_TOKEN}"


def source(sid: str, kind: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"id": sid, "kind": kind, "url": url, **extra}


def write(path: Path, db: str, sources: list[dict[str, Any]], *, tick: str = "1s",
          web_port: int = 0, extra: str = "") -> Path:
    lines = [f"database: {db}",
             f"schedule: {{interval: 2s, jitter: 0, tick: {tick}, lease: 30s}}",
             f"web: {{host: 127.0.0.1, port: {web_port}}}",
             "notify: {tick: 1s}",
             f"channels: {{ops: {{urls: [\"{CHANNEL}\"]}}}}",
             "vendors:",
             "  - id: acme", "    name: Acme AI", "    owner: ops", "    sources:"]
    for s in sources:
        lines.append("      - " + json.dumps(s))
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def metrics(base: str) -> dict[str, float]:
    """Every sample of ``/metrics`` as ``name{labels}`` → value, parsed by prometheus_client."""
    res = httpx.get(f"{base}/metrics", timeout=10)
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/plain")
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(res.text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return out


def checks_total(m: dict[str, float]) -> float:
    return sum(v for k, v in m.items() if k.startswith("reassess_checks_total{"))


def test_metrics_and_healthz_of_a_running_daemon(site: Any, sqlite_url: str,
                                                 tmp_path: Path) -> None:
    config = write(tmp_path / "c.yaml", sqlite_url, [
        source("acme-subs", "subprocessors", f"{site.base_url}/acme/subprocessors"),
        source("acme-dpa", "page", f"{site.base_url}/acme/dpa"),
        source("acme-status", "incidents", f"{site.base_url}/acme/status/history.rss")])
    daemon = RunningDaemon(config, tmp_path / "d.log")
    try:
        base = daemon.wait_log(r"web UI on (http://\S+)").group(1)

        def healthy() -> dict[str, Any] | None:
            res = httpx.get(f"{base}/healthz", timeout=10)
            body = res.json()
            return body if res.status_code == 200 and body.get("last_success_at") else None

        health = wait_for(healthy, 20, "a healthy daemon with a successful check")
        assert health["status"] == "ok" and health["database"] == "ok"
        assert health["scheduler"] == "ok" and health["worker"] == daemon.worker
        assert health["sources_active"] == 3 and health["sources_failing"] == 0
        assert health["last_check_at"] is not None

        first = metrics(base)
        assert first["reassess_database_up"] == 1
        assert first["reassess_sources_active"] == 3
        assert first["reassess_sources_failing"] == 0
        assert first["reassess_outbox_pending"] >= 0 and first["reassess_outbox_failed"] >= 0
        assert checks_total(first) >= 3
        assert first["reassess_check_duration_seconds_count"] == checks_total(first)
        assert first["reassess_triggers_total{type=subprocessor_change}"] == 0
        assert first["reassess_last_success_timestamp_seconds"] > time.time() - 60

        site.control("acme", "add_subprocessor", name="Metrics Labs", purpose="Inference")
        after = wait_for(lambda: (m := metrics(base))["reassess_triggers_total"
                                                      "{type=subprocessor_change}"] >= 1 and m,
                         20, "the trigger counted")
        assert after["reassess_checks_total{outcome=changed}"] >= 1
        assert checks_total(after) > checks_total(first)
    finally:
        assert daemon.stop() == 0


def test_health_says_stalled_without_a_scheduler_and_counts_checks(
        site: Any, engine: Engine, db_url: str) -> None:
    config = Config.model_validate({"database": db_url, "vendors": [{
        "id": "acme", "name": "Acme", "sources": [
            source("acme-dpa", "page", f"{site.base_url}/acme/dpa")]}]})
    daemon = Daemon(config, engine)
    ops = Ops(daemon)
    daemon.checker.observer = ops.metrics
    daemon.checker.sync()

    async def one_dispatch() -> None:
        try:
            await daemon.dispatch()
        finally:
            await daemon.checker.aclose()  # the kept HTTP client, as the daemon's stop does

    asyncio.run(one_dispatch())
    daemon.checker.close()
    body = ops.report()
    assert body["database"] == "ok" and body["sources_active"] == 1
    assert body["scheduler"] == "stalled" and body["status"] == "error"  # never started
    samples = {s.name: s.value for f in text_string_to_metric_families(
        ops.metrics.render().decode()) for s in f.samples if s.labels.get("outcome", "") in (
        "", "baseline")}
    assert samples["reassess_checks_total"] == 1
    assert samples["reassess_sources_active"] == 1


def _runs(engine: Engine) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    with session_scope(engine) as session:
        for sid, at in session.execute(select(CheckRun.source_id, CheckRun.started_at)):
            found.setdefault(sid, []).append(at)
    return found


def _active(engine: Engine) -> dict[str, bool]:
    with session_scope(engine) as session:
        return dict(session.execute(select(Source.id, Source.active)).all())  # type: ignore[arg-type]


def test_sighup_reloads_and_a_broken_file_changes_nothing(site: Any, sqlite_url: str,
                                                          tmp_path: Path) -> None:
    sub = source("acme-subs", "subprocessors", f"{site.base_url}/acme/subprocessors")
    dpa = source("acme-dpa", "page", f"{site.base_url}/acme/dpa")
    card = source("acme-card", "model_card", f"{site.base_url}/acme/model-card.md")
    config = write(tmp_path / "c.yaml", sqlite_url, [sub, dpa])
    daemon = RunningDaemon(config, tmp_path / "d.log", "--no-web")
    engine = open_database(sqlite_url)
    try:
        wait_for(lambda: {"acme-subs", "acme-dpa"} <= set(_runs(engine)), 20, "both checked")

        write(config, sqlite_url, [sub, card])  # dpa removed, card added
        hup = time.monotonic()
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: "acme-card" in _runs(engine), 10, "the added source checked")
        assert time.monotonic() - hup <= 1.0 + 1.5  # one tick, plus a check
        daemon.wait_log(r"configuration reloaded: 2 sources \(1 added, 1 removed\)")
        assert _active(engine) == {"acme-subs": True, "acme-card": True, "acme-dpa": False}
        dpa_requests = site.stats()["requests"].get("/acme/dpa", 0)
        n_subs = len(_runs(engine)["acme-subs"])
        wait_for(lambda: len(_runs(engine)["acme-subs"]) >= n_subs + 2, 15, "two more cycles")
        assert site.stats()["requests"].get("/acme/dpa", 0) == dpa_requests  # stopped

        config.write_text(config.read_text() + "  - id: [broken\n", encoding="utf-8")
        daemon.signal(signal.SIGHUP)
        daemon.wait_log(r"configuration NOT reloaded, the running one stays: .*c\.yaml")
        n_card = len(_runs(engine)["acme-card"])
        wait_for(lambda: len(_runs(engine)["acme-card"]) >= n_card + 2, 15,
                 "checks going on with the old config")
        assert daemon.alive()
        assert _active(engine) == {"acme-subs": True, "acme-card": True, "acme-dpa": False}
    finally:
        code = daemon.stop()
        engine.dispose()
    assert code == 0
    text = daemon.text()
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (INFO|WARNING|ERROR) ", text)
    _assert_no_secrets(text)


def _assert_no_secrets(text: str) -> None:
    for secret in (DB_PASSWORD, HOOK_TOKEN):
        assert secret not in text


@pytest.mark.postgres
def test_json_logs_parse_and_carry_no_secret(site: Any, pg_url: str, tmp_path: Path) -> None:
    db = pg_url.replace("postgres@", f"postgres:{DB_PASSWORD}@")  # trust auth ignores it
    site.control("acme", "fail", mode="500", path="dpa")
    config = write(tmp_path / "c.yaml", db, [
        source("acme-subs", "subprocessors", f"{site.base_url}/acme/subprocessors",
               headers={"Authorization": f"Bearer {HOOK_TOKEN}"}),
        source("acme-dpa", "page", f"{site.base_url}/acme/dpa?token={HOOK_TOKEN}")])
    daemon = RunningDaemon(config, tmp_path / "d.log", "--no-web", "--log-format", "json")
    engine = open_database(pg_url)
    try:
        wait_for(lambda: "acme-subs" in _runs(engine), 20, "a first check")
        site.control("acme", "add_subprocessor", name="Logging Labs", purpose="Inference")
        daemon.wait_log(r"acme-subs changed", 20)
        daemon.wait_log(r"reassess\.notify", 20)  # the delivery to the dead hook, tried
        daemon.wait_log(r"acme-dpa failed", 20)
    finally:
        code = daemon.stop()
        engine.dispose()
    assert code == 0
    lines = [line for line in daemon.text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any(r["level"] == "warning" and "acme-dpa failed" in r["message"] for r in records)
    _assert_no_secrets("\n".join(lines))
