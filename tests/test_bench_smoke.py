"""The benchmark harness runs end to end on a small site and writes every figure.

Behaviour only: the keys are there and the values make sense (every check answered,
pass 2 mostly 304, no snapshot rows on an unchanged pass). Timings belong to ``bench/``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PASS_KEYS = {"checks", "wall_s", "checks_per_s", "cpu_ms_per_check", "user_s", "sys_s",
             "peak_rss_mb", "peak_tree_pss_mb", "processes", "exit_code"}


def test_quick_benchmark_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    res = subprocess.run(
        [sys.executable, "-m", "bench", "--sizes", "60", "--out", str(out),
         "--latency-interval", "2", "--latency-rounds", "1", "--workdir", str(tmp_path / "w")],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "summary:" in res.stdout
    doc = json.loads(out.read_text())
    assert {"machine", "options", "sizes", "targets", "summary"} <= set(doc)
    assert doc["machine"]["nproc"] >= 1
    size = doc["sizes"]["60"]
    for tool, passes in (("reassess", ("pass1", "pass2", "pass3")), ("bare", ("pass1", "pass2"))):
        for p in passes:
            figures = size[tool][p]
            assert set(figures) >= PASS_KEYS, (tool, p)
            assert figures["checks"] == 60 and figures["exit_code"] == 0, (tool, p)
            assert figures["requests"] == 60, (tool, p)  # one request per check, no retries
            assert figures["wall_s"] > 0 and figures["peak_rss_mb"] > 0
    assert size["reassess"]["pass1"]["outcomes"]["baseline"] == 60
    # 60 sources fork parse workers on a machine with a second core: the sampler sees them
    if doc["machine"]["nproc"] >= 2:
        assert size["reassess"]["pass1"]["processes"] >= 2
        assert size["reassess"]["pass1"]["peak_tree_pss_mb"] > 0
    assert size["changed_documents"] >= 1
    assert size["reassess"]["pass2"]["outcomes"]["changed"] >= 1
    ratios = size["ratios"]
    assert 0.8 <= ratios["share_304_pass2"] < 1
    assert ratios["pass2"]["rate_vs_bare"] > 0
    db = size["db"]
    assert db["snapshot_rows_added_unchanged_pass"] == 0
    assert db["bytes_per_source_unchanged_pass"] >= 0
    assert db["bytes_per_changed_source"] is not None
    latency = size["latency"]
    assert not latency.get("error"), latency
    assert latency["samples"] >= 1 and latency["max_s"] > 0
    uw = size["urlwatch"]
    assert "error" in uw or {"pass1", "pass2"} <= set(uw)  # optional: the bench extra
    assert set(doc["targets"]) == {"pass2_1000_vs_urlwatch", "pass2_5000_vs_urlwatch",
                                   "pass2_vs_bare", "pass1_1000_vs_urlwatch", "rss_5000",
                                   "unchanged_pass_storage", "latency"}


def test_anatomy_variants_leave_out_what_they_name(site: Any, tmp_path: Path) -> None:
    """``bench.anatomy`` counts each part of a pass as the difference between variants
    of the same pass; each variant must do exactly what its name says (valgrind is not
    needed for that: the variants run here without it)."""
    from storage.db import open_database

    config = tmp_path / "reassess.yaml"
    config.write_text(
        f"database: sqlite:///{tmp_path}/r.db\n"
        "vendors:\n  - id: acme\n    name: Acme AI\n    sources:\n"
        f"      - {{id: acme-dpa, kind: page, url: '{site.base_url}/acme/dpa'}}\n"
        f"      - {{id: acme-status, kind: incidents,\n"
        f"         url: '{site.base_url}/acme/status/history.atom'}}\n",
        encoding="utf-8")

    def runs_and_requests(variant: str) -> tuple[int, int]:
        site.reset_stats()
        engine = open_database(f"sqlite:///{tmp_path}/r.db")
        with engine.connect() as conn:
            before = conn.exec_driver_sql("SELECT count(*) FROM checkrun").scalar_one()
        res = subprocess.run([sys.executable, "-m", "bench.anatomy", "--child", variant, "--",
                              "check", "--config", str(config), "--no-notify"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
        assert res.returncode == 0, res.stderr[-2000:]
        with engine.connect() as conn:
            after = conn.exec_driver_sql("SELECT count(*) FROM checkrun").scalar_one()
        engine.dispose()
        return after - before, int(site.stats()["total"])

    assert runs_and_requests("full") == (2, 2)
    assert runs_and_requests("no-persist") == (0, 2)
    assert runs_and_requests("fetch") == (0, 2)
    assert runs_and_requests("startup") == (0, 0)
    assert runs_and_requests("imports") == (0, 0)
