"""Issue 2 end to end: `reassess check` and `reassess run` against the simulated site.

A first check stores a baseline and fires nothing; a change fires exactly one trigger;
a check without change fires nothing; with the site down, check exits 1, records the
failure on the source and fires nothing. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from procs import RunningDaemon, wait_for
from sqlalchemy import select

from storage.db import open_database, session_scope
from storage.models import CheckRun, Snapshot, Source

CONFIG = """\
database: {db}
schedule: {{tick: 1s, jitter: 0}}
vendors:
  - id: acme
    name: Acme AI
    sources:
      - id: acme-dpa
        kind: page
        url: {site}/acme/dpa
        interval: {interval}
        select: "main"
"""


def triggers(run_cli: Callable[..., Any], config: Path) -> list[dict[str, Any]]:
    res = run_cli("triggers", "--config", str(config), "--json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_check_baseline_change_nochange_down(site: Any, db_url: str, make_config: Any,
                                             run_cli: Callable[..., Any]) -> None:
    config = make_config(CONFIG, db=db_url, site=site.base_url, interval="1h")
    policy = ("<h1>DPA</h1><h2>Retention</h2><p>Customer content is retained for {} days.</p>"
              "<h2>Training</h2><p>We do not train on customer content.</p>"
              "<h2>Security</h2><p>Data is encrypted at rest and in transit.</p>")
    site.control("acme", "set_page", path="dpa", html=policy.format(30))

    first = run_cli("check", "--config", str(config))
    assert first.returncode == 0, first.stderr
    assert "baseline 1" in first.stdout
    assert triggers(run_cli, config) == []

    site.control("acme", "set_page", path="dpa", html=policy.format(90))
    second = run_cli("check", "--config", str(config))
    assert second.returncode == 0, second.stderr
    fired = triggers(run_cli, config)
    assert len(fired) == 1
    trigger = fired[0]
    assert trigger["type"] == "policy_change"
    for key in ("id", "type", "severity", "title", "entities", "vendor", "source",
                "created_at", "status"):
        assert key in trigger
    assert trigger["vendor"] == "acme" and trigger["source"] == "acme-dpa"
    assert trigger["status"] == "open"

    third = run_cli("check", "--config", str(config))
    assert third.returncode == 0
    assert len(triggers(run_cli, config)) == 1

    site.control("acme", "fail", mode="500")
    down = run_cli("check", "--config", str(config))
    assert down.returncode == 1
    assert "acme-dpa" in down.stderr
    assert len(triggers(run_cli, config)) == 1
    engine = open_database(db_url)
    with session_scope(engine) as s:
        source = s.execute(select(Source)).scalar_one()
        assert source.consecutive_failures == 1 and "500" in (source.last_error or "")
        outcomes = [r.outcome for r in s.execute(select(CheckRun)
                                                  .order_by(CheckRun.id)).scalars()]
        snapshots = s.execute(select(Snapshot)).scalars().all()
    engine.dispose()
    assert outcomes[0] == "baseline" and outcomes[1] == "changed" and outcomes[-1] == "failed"
    assert len(snapshots) == 2  # baseline and the change; unchanged checks add none


def test_noise_only_changes_fire_nothing(site: Any, sqlite_url: str, make_config: Any,
                                         run_cli: Callable[..., Any]) -> None:
    """The site changes nonces, build ids and timestamps on every request."""
    config = make_config(CONFIG, db=sqlite_url, site=site.base_url, interval="1h")
    for _ in range(3):
        assert run_cli("check", "--config", str(config)).returncode == 0
    assert triggers(run_cli, config) == []


def _checks(engine: Any) -> int:
    with session_scope(engine) as s:
        return len(s.execute(select(CheckRun.id)).all())


def _daemon(config: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.Popen([sys.executable, "-m", "monitor.cli", "run", "--config",
                             str(config), "--no-web"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("daemon did not stop within 30 s of SIGTERM") from None
    assert proc.returncode == 0, out
    return out


def test_daemon_rechecks_after_interval_and_resumes(site: Any, db_url: str,
                                                    make_config: Any) -> None:
    config = make_config(CONFIG, db=db_url, site=site.base_url, interval="3s")
    engine = open_database(db_url)
    proc = _daemon(config)
    try:
        wait_for(lambda: _checks(engine) >= 2, 20, "a second check after the interval")
    finally:
        _stop(proc)
    with session_scope(engine) as s:
        runs = s.execute(select(CheckRun).order_by(CheckRun.id)).scalars().all()
        due = s.execute(select(Source.next_due_at)).scalar_one()
    gap = (runs[1].started_at - runs[0].started_at).total_seconds()
    assert gap >= 2.5, f"re-checked after {gap:.1f}s, before its 3s interval"

    # A restart resumes from the stored schedule: nothing is checked before it is due.
    before = _checks(engine)
    proc = _daemon(config)
    try:
        wait_for(lambda: _checks(engine) > before, 20, "the resumed daemon's next check")
    finally:
        _stop(proc)
    with session_scope(engine) as s:
        resumed = s.execute(select(CheckRun).order_by(CheckRun.id)
                            .offset(before).limit(1)).scalar_one()
    assert resumed.started_at >= due.replace(microsecond=0)
    engine.dispose()


def test_restart_does_not_recheck_what_is_not_due(site: Any, sqlite_url: str,
                                                  make_config: Any, tmp_path: Path) -> None:
    config = make_config(CONFIG, db=sqlite_url, site=site.base_url, interval="1h")
    engine = open_database(sqlite_url)
    proc = _daemon(config)
    try:
        wait_for(lambda: _checks(engine) == 1, 20, "the first check")
    finally:
        _stop(proc)
    daemon = RunningDaemon(config, tmp_path / "second.log", "--no-web")
    try:
        # Running (its schedule read back from the database), then several dispatch ticks
        # (1 s each): the source is not due for an hour.
        daemon.wait_log(r"reassess running: 1 source", 60)
        time.sleep(3.5)
        assert daemon.alive()
    finally:
        code = daemon.stop(30)
    out = daemon.text()
    assert code == 0, out
    assert _checks(engine) == 1, out
    engine.dispose()
