"""Ratios, targets and the printed lines, from the figures ``run.py`` collected."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

RSS_LIMIT_MB = 150.0
BYTES_PER_SOURCE_LIMIT = 200.0
LATENCY_SLACK_S = 2.0


def _get(d: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def _ratio(a: Any, b: Any) -> float | None:
    return round(a / b, 2) if isinstance(a, int | float) and isinstance(b, int | float) and b \
        else None


def ratios(size: dict[str, Any]) -> dict[str, Any]:
    """reassess over the bare loop and over urlwatch, per pass."""
    out: dict[str, Any] = {}
    for p in ("pass1", "pass2"):
        r = _get(size, "reassess", p) or {}
        bare = _get(size, "bare", p) or {}
        uw = _get(size, "urlwatch", p) or {}
        out[p] = {
            "rate_vs_bare": _ratio(r.get("checks_per_s"), bare.get("checks_per_s")),
            "cpu_vs_bare": _ratio(r.get("cpu_ms_per_check"), bare.get("cpu_ms_per_check")),
            "rate_vs_urlwatch": _ratio(r.get("checks_per_s"), uw.get("checks_per_s")),
            "cpu_vs_urlwatch": _ratio(r.get("cpu_ms_per_check"), uw.get("cpu_ms_per_check")),
        }
    statuses = _get(size, "reassess", "pass2", "statuses") or {}
    total = sum(statuses.values())
    out["share_304_pass2"] = round(statuses.get("304", 0) / total, 3) if total else None
    bare_st = _get(size, "bare", "pass2", "statuses") or {}
    bare_total = sum(bare_st.values())
    out["bare_share_304_pass2"] = (round(bare_st.get("304", 0) / bare_total, 3)
                                   if bare_total else None)
    return out


Check = Callable[[dict[int, dict[str, Any]]], tuple[bool | None, str]]


def _at(sizes: dict[int, dict[str, Any]], n: int, *path: str) -> Any:
    return _get(sizes.get(n, {}), *path)


def _t_pass2_1000(s: dict[int, dict[str, Any]]) -> tuple[bool | None, str]:
    rate, cpu = _at(s, 1000, "ratios", "pass2", "rate_vs_urlwatch"), \
        _at(s, 1000, "ratios", "pass2", "cpu_vs_urlwatch")
    if rate is None or cpu is None:
        return None, "needs N=1000 with urlwatch"
    return rate >= 2 and cpu <= 0.5, f"{rate}× urlwatch's checks/s, {cpu}× its CPU per check"


def _t_pass2_5000(s: dict[int, dict[str, Any]]) -> tuple[bool | None, str]:
    rate = _at(s, 5000, "ratios", "pass2", "rate_vs_urlwatch")
    if rate is None:
        return None, "needs N=5000 with urlwatch"
    return rate >= 4, f"{rate}× urlwatch's checks/s"


def _t_bare(s: dict[int, dict[str, Any]]) -> tuple[bool | None, str]:
    got = {n: _get(v, "ratios", "pass2", "rate_vs_bare") for n, v in s.items()}
    got = {n: r for n, r in got.items() if r is not None}
    if not got:
        return None, "no pass 2"
    return all(r >= 0.7 for r in got.values()), ", ".join(
        f"N={n}: {r:.0%} of the bare loop" for n, r in sorted(got.items()))


def _t_pass1_1000(s: dict[int, dict[str, Any]]) -> tuple[bool | None, str]:
    rate = _at(s, 1000, "ratios", "pass1", "rate_vs_urlwatch")
    if rate is None:
        return None, "needs N=1000 with urlwatch"
    return rate >= 1.5, f"{rate}× urlwatch's checks/s"


def _memory(f: dict[str, Any]) -> float:
    """A tool's memory: its largest process's peak RSS or, when it runs several processes
    (parse workers), the peak PSS summed over all of them, whichever is larger."""
    return max(f.get("peak_rss_mb", 0), f.get("peak_tree_pss_mb", 0))


def _t_rss(s: dict[int, dict[str, Any]]) -> tuple[bool | None, str]:
    """The issue's targets are measured on ``reassess check`` passes (one process per pass,
    start-up included): those decide; the daemon's figure is reported beside them."""
    passes = _at(s, 5000, "reassess") or {}
    checks = max((_memory(p) for p in passes.values()), default=None)
    if checks is None:
        return None, "needs N=5000"
    daemon_f = _at(s, 5000, "latency", "daemon")
    daemon = _memory(daemon_f) if daemon_f else None
    detail = f"{checks} MB for `reassess check` (every process of it)"
    if daemon:
        detail += (f"; the daemon (with a json:// channel, so apprise loaded): {daemon} MB, "
                   f"{'under' if daemon < RSS_LIMIT_MB else 'over'} {RSS_LIMIT_MB:g} MB")
    return checks < RSS_LIMIT_MB, detail


def _t_storage(s: dict[int, dict[str, Any]]) -> tuple[bool | None, str]:
    # values are the JSON objects themselves (the filter drops the missing ones)
    got: dict[int, Any] = {n: v.get("db") for n, v in s.items() if v.get("db")}
    if not got:
        return None, "no unchanged pass"
    ok = all(d["snapshot_rows_added_unchanged_pass"] == 0
             and d["bytes_per_source_unchanged_pass"] < BYTES_PER_SOURCE_LIMIT
             for d in got.values())
    return ok, ", ".join(f"N={n}: {d['snapshot_rows_added_unchanged_pass']} snapshot rows, "
                         f"{d['bytes_per_source_unchanged_pass']} B/source"
                         for n, d in sorted(got.items()))


def _t_latency(s: dict[int, dict[str, Any]]) -> tuple[bool | None, str]:
    got: dict[int, Any] = {n: v.get("latency") for n, v in s.items() if v.get("latency")}
    got = {n: d for n, d in got.items() if d.get("max_s") is not None or d.get("error")}
    if not got:
        return None, "not measured"
    ok = all(not d.get("error") and not d.get("missed")
             and d["max_s"] <= d["interval_s"] + LATENCY_SLACK_S for d in got.values())
    return ok, ", ".join(
        f"N={n}: " + (d["error"] if d.get("error") else
                      f"max {d['max_s']} s at interval {d['interval_s']:g} s"
                      + (f", {d['missed']} missed" if d.get("missed") else ""))
        for n, d in sorted(got.items()))


TARGETS: dict[str, tuple[str, Check]] = {
    "pass2_1000_vs_urlwatch": ("pass 2, N=1000: ≥2× urlwatch checks/s and ≤½ its CPU/check",
                               _t_pass2_1000),
    "pass2_5000_vs_urlwatch": ("pass 2, N=5000: ≥4× urlwatch checks/s", _t_pass2_5000),
    "pass2_vs_bare": ("pass 2, every N: ≥70 % of the bare loop's checks/s", _t_bare),
    "pass1_1000_vs_urlwatch": ("pass 1, N=1000: ≥1.5× urlwatch checks/s", _t_pass1_1000),
    "rss_5000": ("peak RSS < 150 MB at N=5000", _t_rss),
    "unchanged_pass_storage": ("unchanged pass: no snapshot rows, < 200 B/source",
                               _t_storage),
    "latency": ("change → notification within interval + 2 s", _t_latency),
}


def targets(sizes: dict[int, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for key, (label, check) in TARGETS.items():
        met, detail = check(sizes)
        out[key] = {"target": label, "met": met, "detail": detail}
    return out


# --- printing --------------------------------------------------------------------------


def _pass_line(tool: str, n: int, p: str, f: dict[str, Any] | None) -> str:
    if not f:
        return f"N={n:<5} {p} {tool:<9} not run"
    if f.get("error") and not f.get("wall_s"):
        return f"N={n:<5} {p} {tool:<9} error: {f['error']}"
    line = (f"N={n:<5} {p} {tool:<9} {f['wall_s']:7.2f} s  {f['checks_per_s']:7.1f} checks/s"
            f"  {f['cpu_ms_per_check']:6.2f} CPU ms/check  {f['peak_rss_mb']:6.1f} MB peak")
    if f.get("processes", 1) > 1:
        line += f" ({f['processes']} processes: {f.get('peak_tree_pss_mb', 0):.1f} MB PSS in all)"
    if f.get("error"):
        line += f"  (error: {f['error']})"
    return line


def lines(size: dict[str, Any]) -> list[str]:
    n = size["n"]
    out: list[str] = []
    busy = max(size.get("load_before") or 0, size.get("load_after") or 0)
    if busy > 0.5:
        out.append(f"N={n:<5} warning: load average {busy} around this size: other "
                   f"processes shared the CPUs, so timings are pessimistic")
    for p in ("pass1", "pass2", "pass3"):
        for tool in ("reassess", "bare", "urlwatch"):
            f = _get(size, tool, p)
            if p == "pass3" and tool != "reassess":
                continue
            if tool == "urlwatch" and f is None and _get(size, "urlwatch", "error"):
                if p == "pass1":
                    out.append(f"N={n:<5} urlwatch  {size['urlwatch']['error']}")
                continue
            out.append(_pass_line(tool, n, p, f))
    r = size.get("ratios", {})
    for p in ("pass1", "pass2"):
        q = r.get(p, {})
        out.append(f"N={n:<5} {p} ratios    reassess/bare: rate {q.get('rate_vs_bare')}, "
                   f"CPU {q.get('cpu_vs_bare')}; reassess/urlwatch: rate "
                   f"{q.get('rate_vs_urlwatch')}, CPU {q.get('cpu_vs_urlwatch')}")
    out.append(f"N={n:<5} pass2 304 share: reassess {r.get('share_304_pass2')}, "
               f"bare loop {r.get('bare_share_304_pass2')} "
               f"({size.get('changed_documents')} documents changed)")
    db = size.get("db") or {}
    out.append(f"N={n:<5} database: {db.get('bytes_per_source_unchanged_pass')} B/source on "
               f"an unchanged pass ({db.get('snapshot_rows_added_unchanged_pass')} snapshot "
               f"rows), {db.get('bytes_per_changed_source')} B per changed source, "
               f"{db.get('bytes_after_pass1_per_source')} B/source after pass 1")
    lat = size.get("latency")
    if lat:
        out.append(f"N={n:<5} daemon: " + (lat["error"] if lat.get("error") else
                   f"change → {lat['measured']}: median {lat['median_s']} s, max "
                   f"{lat['max_s']} s at interval {lat['interval_s']:g} s "
                   f"({lat['samples']} samples, {lat['missed']} missed)"))
        d = lat.get("daemon") or {}
        if d:
            out.append(f"N={n:<5} daemon: steady state {d['checks_per_s']} checks/s over "
                       f"{d['window_s']} s, {d['cpu_share']:.0%} of a core, "
                       f"{d['peak_rss_mb']} MB peak"
                       + (f" ({d['processes']} processes: {d.get('peak_tree_pss_mb')} MB PSS "
                          "in all)" if d.get("processes", 1) > 1 else ""))
    return out


def summary(sizes: dict[int, dict[str, Any]], tgs: dict[str, dict[str, Any]]) -> str:
    parts = []
    for n, size in sorted(sizes.items()):
        p2 = _get(size, "reassess", "pass2") or {}
        q = _get(size, "ratios", "pass2") or {}
        parts.append(f"N={n} pass 2 {p2.get('checks_per_s')} checks/s "
                     f"({q.get('rate_vs_urlwatch')}× urlwatch, "
                     f"{q.get('rate_vs_bare')}× bare loop)")
    met = sum(1 for t in tgs.values() if t["met"] is True)
    missed = [k for k, t in tgs.items() if t["met"] is False]
    judged = sum(1 for t in tgs.values() if t["met"] is not None)
    return (f"summary: {'; '.join(parts)}; targets met {met}/{judged}"
            + (f", missed: {', '.join(missed)}" if missed else ""))
