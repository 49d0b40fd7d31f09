"""bench.steady's arithmetic: the ratios it judges and what a changed document costs."""

from __future__ import annotations

import pytest

from bench.steady import judge, ratios


def _window(cpu: float, main: float, share_parsed: float, worker: float | None) -> dict:
    return {"cpu_ms_per_check": cpu, "main_cpu_ms_per_check": main,
            "share_parsed": share_parsed, "worker_cpu_ms_per_parse": worker,
            "checkrun_bytes_per_row": 180.0}


def test_two_windows_give_the_cost_of_a_changed_document_and_its_allowance() -> None:
    size = {"change_share": 0.05,
            "quiet": _window(0.5, 0.5, 0.0, None),
            "daemon": _window(0.85, 0.65, 0.05, 4.0),
            "bare_quiet": [{"cpu_ms_per_request": 0.38}, {"cpu_ms_per_request": 0.42}],
            "bare": [{"cpu_ms_per_request": 0.4}, {"error": "no figures"}]}
    out = ratios(size)
    assert out["ratio_quiet_cpu_per_check"] == pytest.approx(0.5 / 0.4)
    assert out["ratio_cpu_per_check"] == pytest.approx(0.85 / 0.4)
    doc = out["per_changed_document"]
    # (0.65 - 0.5) / 0.05 in the main process, 4 ms in the worker
    assert doc["main_cpu_ms"] == pytest.approx(3.0)
    assert doc["cpu_ms"] == pytest.approx(7.0)
    # 1.5 x 0.4 leaves 0.1 ms per check over the quiet 0.5: 2 ms per changed document
    assert doc["allowance_ms"] == pytest.approx(2.0)
    size["quiet"]["checkrun_bytes_per_row"] = 210.0  # judged on the quiet window's rows
    verdicts = judge({**size, **out})
    assert verdicts["bytes_per_unchanged_check"].startswith("missed: 210 B")
    assert verdicts["cpu_per_check_vs_bare_quiet"].startswith("met: 1.25×")
    assert verdicts["cpu_per_check_vs_bare"].startswith("missed: 2.12×")
    assert "5% changing" in verdicts["cpu_per_check_vs_bare"]


def test_one_window_gives_no_cost_per_changed_document() -> None:
    size = {"change_share": 0.0, "daemon": _window(0.44, 0.44, 0.0, None),
            "bare": [{"cpu_ms_per_request": 0.4}]}
    out = ratios(size)
    assert out["ratio_cpu_per_check"] == pytest.approx(1.1)
    assert "per_changed_document" not in out
    assert "ratio_quiet_cpu_per_check" not in out
    assert judge({**size, **out})["cpu_per_check_vs_bare"].startswith("met (goal")
