"""Readers and the daemon never lock each other out: ``reassess run`` checks its sources
at a short interval while four clients read the web UI and the API, with no error, a p95
page time under 500 ms and every source checked once per interval plus one tick.

The short version of ``make load`` (``bench/load.py``: 500 sources at 10 s, four
clients, 60 s), run the same way: ``python -m bench.load``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_ui_and_api_stay_fast_while_the_daemon_checks_on_time() -> None:
    res = subprocess.run([sys.executable, "-m", "bench.load", "--sources", "120",
                          "--interval", "10", "--seconds", "20", "--clients", "4"],
                         cwd=ROOT, capture_output=True, text=True, timeout=400, check=False)
    lines = [line for line in res.stdout.splitlines() if line.startswith("{")]
    assert lines, res.stdout + res.stderr
    figures = json.loads(lines[-1])
    assert figures["requests"] > 100
    assert figures["errors"] == 0, figures["error_samples"]
    assert figures["page_p95_ms"] < 500, figures
    assert figures["checks"] >= 120 and figures["checks_failed"] == 0
    assert figures["longest_unchecked_s"] <= figures["allowed_unchecked_s"], figures
