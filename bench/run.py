"""One size of the benchmark: the site, three passes of reassess, the bare loop, urlwatch,
the database growth, and the daemon's change-to-notification delay.

Order of events for N documents::

    site up (own process) → warm every body (unmeasured bare loop)
    pass 1: reassess check │ bare loop │ urlwatch          everything new
    change ~5 % of the documents on the site
    pass 2: reassess check │ bare loop │ urlwatch          mostly 304
    pass 3: reassess check                                 nothing changed: DB growth
    daemon: reassess run, change a few documents, time the notifications
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import sqlite3
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import latency, peers
from .procs import Measured, Site, bin_path, measure
from .workload import Doc, documents, reassess_config, url_list, urlwatch_files, vendor_count

_SUMMARY = re.compile(r"checked (\d+), changed (\d+), unchanged (\d+), baseline (\d+), "
                      r"held (\d+), failed (\d+)(?:, rebaselined \d+)?, triggers fired (\d+)")


@dataclass(frozen=True)
class Options:
    concurrency: int = 16
    change_share: float = 0.05
    urlwatch: bool = True
    daemon: bool = True
    latency_interval: float = 20.0
    latency_rounds: int = 2
    seed: int = 1


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_mb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_mb = int(line.split()[1]) // 1024
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu or platform.processor(), "ram_mb": mem_mb,
            "python": platform.python_version(), "platform": platform.platform(),
            "sqlite": sqlite3.sqlite_version}


# --- database figures (read with the stdlib between passes; nothing else is writing) ----


def db_figures(db: Path) -> dict[str, int]:
    """Bytes in use (pages minus free pages, after a WAL checkpoint) and row counts."""
    with sqlite3.connect(db, timeout=30) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                  for t in ("snapshot", "checkrun", "trigger", "outbox")}
        run_id = conn.execute("SELECT coalesce(max(id), 0) FROM checkrun").fetchone()[0]
    return {"bytes": (pages - free) * page, "file_bytes": db.stat().st_size,
            "max_checkrun_id": run_id, **{f"{k}_rows": v for k, v in counts.items()}}


def statuses_since(db: Path, run_id: int) -> dict[str, int]:
    with sqlite3.connect(db, timeout=30) as conn:
        rows = conn.execute("SELECT coalesce(http_status, 0), count(*) FROM checkrun "
                            "WHERE id > ? GROUP BY 1", (run_id,)).fetchall()
    return {str(s): c for s, c in rows}


# --- the three tools ------------------------------------------------------------------


def reassess_argv(config: Path) -> list[str]:
    exe = bin_path("reassess")
    base = [str(exe)] if exe else [sys.executable, "-m", "monitor.cli"]
    return [*base, "check", "--config", str(config)]


def reassess_pass(config: Path, db: Path, workdir: Path, label: str, n: int,
                  site: Site) -> dict[str, Any]:
    before = db_figures(db) if db.exists() else None
    site.reset_stats()
    m = measure(reassess_argv(config), workdir, label=label)
    figures = m.figures(n)
    figures["requests"] = site.requests()
    found = _SUMMARY.search(m.stdout)
    if found:
        keys = ("checked", "changed", "unchanged", "baseline", "held", "failed", "triggers")
        figures["outcomes"] = dict(zip(keys, map(int, found.groups()), strict=True))
    else:
        figures["error"] = _last_line(m)
    after = db_figures(db) if db.exists() else None
    if after is not None:
        figures["db_after"] = after
        run_id = before["max_checkrun_id"] if before else 0
        figures["statuses"] = statuses_since(db, run_id)
        if before is not None:
            figures["db_growth_bytes"] = after["bytes"] - before["bytes"]
            figures["snapshot_rows_added"] = after["snapshot_rows"] - before["snapshot_rows"]
    return figures


def bare_pass(urls: Path, state: Path, workdir: Path, label: str, n: int, concurrency: int,
              site: Site) -> dict[str, Any]:
    import json

    site.reset_stats()
    argv = [sys.executable, "-m", "bench.bareloop", str(urls), str(state),
            "--concurrency", str(concurrency)]
    m = measure(argv, workdir, label=label)
    figures = m.figures(n)
    figures["requests"] = site.requests()
    try:
        result = json.loads(m.stdout.strip().splitlines()[-1])
        figures["statuses"], figures["bytes_read"] = result["statuses"], result["bytes"]
    except (IndexError, ValueError, KeyError):
        figures["error"] = _last_line(m)
    return figures


def urlwatch_pass(files: tuple[Path, Path, Path], workdir: Path, label: str, n: int,
                  site: Site) -> dict[str, Any]:
    site.reset_stats()
    m = peers.run_urlwatch(*files, workdir, label)
    figures = peers.pass_figures(m, n)
    figures["requests"] = site.requests()
    return figures


def _last_line(m: Measured) -> str:
    lines = (m.stderr or m.stdout).strip().splitlines()
    return lines[-1][:300] if lines else f"exit code {m.exit_code}"


def _warm(site: Site, paths: list[str]) -> None:
    """Render changed documents once (the site's cost, not any tool's)."""
    for path in paths:
        with urllib.request.urlopen(site.base_url + path, timeout=60) as resp:
            resp.read()


# --- one size -------------------------------------------------------------------------


def run_size(n: int, opts: Options, workdir: Path, log: Any) -> dict[str, Any]:
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    docs = documents(n)
    result: dict[str, Any] = {"n": n, "vendors": vendor_count(n),
                              "kinds": sorted({d.kind for d in docs}),
                              "concurrency": opts.concurrency}
    site = Site(vendor_count(n), workdir / "site")
    site.start()
    result["load_before"] = round(os.getloadavg()[0], 2)
    try:
        _run_size(n, docs, opts, workdir, site, result, log)
    finally:
        site.stop()
    result["load_after"] = round(os.getloadavg()[0], 2)
    return result


def _run_size(n: int, docs: list[Doc], opts: Options, workdir: Path, site: Site,
              result: dict[str, Any], log: Any) -> None:
    db = workdir / "reassess" / "reassess.db"
    (workdir / "reassess").mkdir()
    config = workdir / "reassess" / "reassess.yaml"
    config.write_text(reassess_config(docs, site.base_url, db, concurrency=opts.concurrency),
                      encoding="utf-8")
    urls = url_list(docs, site.base_url, workdir / "urls.txt")
    bare_dir, bare_state = workdir / "bare", workdir / "bare" / "state.json"
    bare_dir.mkdir()
    log(f"N={n}: warming the site ({len(docs)} documents)")
    bare_pass(urls, workdir / "warm.json", workdir, "warm", n, opts.concurrency, site)

    version = peers.urlwatch_version() if opts.urlwatch else None
    uw_files = urlwatch_files(docs, site.base_url, workdir / "urlwatch") if version else None
    if opts.urlwatch and version is None:
        result["urlwatch"] = {"error": "urlwatch is not installed: pip install -e '.[bench]'"}
    elif version and version != peers.WANTED:
        result["urlwatch_version_warning"] = f"urlwatch {version}, not {peers.WANTED}"

    def one_pass(p: int) -> None:
        log(f"N={n}: pass {p}: reassess")
        result.setdefault("reassess", {})[f"pass{p}"] = reassess_pass(
            config, db, workdir / "reassess", f"pass{p}", n, site)
        log(f"N={n}: pass {p}: bare loop")
        result.setdefault("bare", {})[f"pass{p}"] = bare_pass(
            urls, bare_state, bare_dir, f"pass{p}", n, opts.concurrency, site)
        if uw_files is not None:
            log(f"N={n}: pass {p}: urlwatch {version}")
            result.setdefault("urlwatch", {"version": version})[f"pass{p}"] = urlwatch_pass(
                uw_files, workdir / "urlwatch", f"pass{p}", n, site)

    one_pass(1)
    count = max(1, round(n * opts.change_share))
    changed = site.mutate(count, [d.path for d in docs], seed=opts.seed)
    _warm(site, changed)
    result["changed_documents"] = len(changed)
    one_pass(2)
    log(f"N={n}: pass 3 (nothing changed): reassess")
    result["reassess"]["pass3"] = reassess_pass(config, db, workdir / "reassess", "pass3", n,
                                                site)
    result["db"] = _db_growth(result, n, len(changed))
    if opts.daemon:
        log(f"N={n}: daemon: change → notification")
        result["latency"] = _latency(docs, site, db, workdir, opts)


def _db_growth(result: dict[str, Any], n: int, changed: int) -> dict[str, Any]:
    p2, p3 = result["reassess"]["pass2"], result["reassess"]["pass3"]
    per_source = p3.get("db_growth_bytes", 0) / n
    per_changed = ((p2.get("db_growth_bytes", 0) - per_source * n) / changed
                   if changed else None)
    return {
        "bytes_per_source_unchanged_pass": round(per_source, 1),
        "snapshot_rows_added_unchanged_pass": p3.get("snapshot_rows_added"),
        "bytes_per_changed_source": round(per_changed, 1) if per_changed is not None else None,
        "bytes_after_pass1_per_source": round(
            result["reassess"]["pass1"].get("db_after", {}).get("bytes", 0) / n, 1),
    }


def _latency(docs: list[Doc], site: Site, db: Path, workdir: Path,
             opts: Options) -> dict[str, Any]:
    lat_dir = workdir / "daemon"
    lat_dir.mkdir()
    lat_db = lat_dir / "reassess.db"
    with sqlite3.connect(db) as src, sqlite3.connect(lat_db) as dst:
        src.backup(dst)  # the checked database: the daemon starts from a baseline
    receiver = latency.Receiver() if latency.notifier_available() else None
    interval = f"{opts.latency_interval:g}s"
    try:
        if receiver is not None:
            receiver.__enter__()
        cfg = lat_dir / "reassess.yaml"
        cfg.write_text(reassess_config(
            docs, site.base_url, lat_db, concurrency=opts.concurrency, interval=interval,
            channel_url=latency.channel_url(receiver) if receiver else None), encoding="utf-8")
        return latency.probe(site, docs, cfg, lat_db, lat_dir, interval=opts.latency_interval,
                             receiver=receiver, rounds=opts.latency_rounds, seed=opts.seed)
    except RuntimeError as exc:
        return {"error": str(exc), "interval_s": opts.latency_interval}
    finally:
        if receiver is not None:
            receiver.__exit__()
