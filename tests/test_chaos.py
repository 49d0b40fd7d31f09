"""``kill -9`` of ``reassess check`` and ``reassess run`` at random moments: no trigger lost
or doubled, every notification delivered within the outbox lease after the restart.

The short version of ``make chaos`` (``bench/chaos.py``: 50 kills of each, SQLite and
PostgreSQL, figures in the report), run the same way: ``python -m bench.chaos``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
LEASE = 60.0  # monitor.notify.notifier.LEASE
KILLS = {("sqlite", "check"): 2, ("sqlite", "run"): 1,
         ("postgres", "check"): 1, ("postgres", "run"): 1}


def chaos(kind: str, mode: str) -> dict[str, Any]:
    res = subprocess.run([sys.executable, "-m", "bench.chaos", "--kills",
                          str(KILLS[kind, mode]), "--databases", kind, "--modes", mode],
                         cwd=ROOT, capture_output=True, text=True, timeout=400, check=False)
    lines = [line for line in res.stdout.splitlines() if line.startswith("{")]
    assert lines, res.stdout + res.stderr
    return json.loads(lines[-1])  # type: ignore[no-any-return]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_killed_checks_lose_and_double_nothing(kind: str) -> None:
    report = chaos(kind, "check")
    assert report["kills"] == KILLS[kind, "check"]
    assert report["triggers"] == report["rounds"]
    assert report["lost"] == 0 and report["doubled"] == 0 and report["undelivered"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_killed_daemon_delivers_after_restart_within_the_lease(kind: str) -> None:
    report = chaos(kind, "run")
    assert report["kills"] == KILLS[kind, "run"]
    assert report["triggers"] == report["rounds"]
    assert report["lost"] == 0 and report["doubled"] == 0 and report["undelivered"] == 0
    assert report["delivery_after_restart_max_s"] < LEASE
