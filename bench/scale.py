"""A large install at work: N sources, a long trigger history, the daemon and its web UI.

    python -m bench.scale --sources 100000 --triggers 1000000 [--db sqlite|postgresql]
                          [--window 120] [--interval 15m] [--web daemon|separate]

1. The simulated vendor site with N/3 vendors; ``bench.seed`` writes the config (every
   source at ``--interval`` on that site) and the history: each source's true baseline
   (the document the site serves, parsed and stored as a first check stores it, with the
   site's ETag and Last-Modified on the source), ``--checkruns`` check runs per source
   and ``--triggers`` triggers.
2. Just before the daemon starts, the sources' next due times are spread over one
   interval from that moment, as a steady install leaves them (each due an interval
   after its last check). ``reassess run`` (web UI on) starts on it: start-up until it
   logs that it runs (the config read, the migrations checked, the config synced against
   N sources), and its memory (peak RSS of the main process, peak PSS of its process
   tree).
3. Over ``--window`` seconds while it checks what falls due (answered 304, as a steady
   install's checks mostly are): the schedule kept, and each page of the web UI and API
   asked repeatedly, one at a time (dashboard; history first page and a deep page,
   unfiltered and with each filter; ``/api/triggers`` first and deep; ``/api/summary``):
   p50, p95 and max per page.
4. ``reassess triggers`` and ``reassess show`` (their wall time, as a user runs them,
   start-up included) while the daemon still runs, then the database's size.

The schedule kept: every source due before the window's end is either checked (its
check run's start minus its due time is how late it was) or still waiting (the window's
end minus its due time); the most overdue of them, against the allowance of one tick.
Sources that fell due while the daemon was starting, or within ``SETTLE`` seconds of
it running (its catch-up), are reported apart (``schedule.startup``) from those due
after (``schedule.steady``, the target: a restart's backlog is not the steady state).
A sample every 5 s of the most overdue source no daemon holds is kept as well
(``max_unclaimed_late_s``). Prints lines, writes JSON to
``bench/results/scale-<db>-<N>-<time>.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .__main__ import precompile
from .latency import _proc_hwm_mb
from .procs import ROOT, Site, TreeMemory, child_env, stop
from .run import machine
from .seed import CACHE, seed, update_sources
from .steady import Database, _wait_running, free_port, reassess_argv
from .workload import documents, vendor_count

SETTLE = 30.0  # seconds after the daemon runs that its start-up backlog may take

FILTERS = ("vendor=v0002", "type=incident", "severity=high", "status=open",
           "source=v0002-status", "assessment=v0002-review", "since=2026-09-01",
           "q=entity")


def _get(url: str) -> tuple[float, int, int]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            body = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    return time.perf_counter() - started, status, len(body)


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p * (len(ordered) - 1))))]


def probe_pages(base: str, pages: dict[str, str], rounds: int) -> dict[str, Any]:
    samples: dict[str, list[float]] = {name: [] for name in pages}
    statuses: dict[str, set[int]] = {name: set() for name in pages}
    size: dict[str, int] = {}
    for _ in range(rounds):
        for name, path in pages.items():
            took, status, n = _get(base + path)
            samples[name].append(took)
            statuses[name].add(status)
            size[name] = n
    return {name: {"path": pages[name], "p50_ms": round(1000 * statistics.median(s), 1),
                   "p95_ms": round(1000 * _pct(s, 0.95), 1),
                   "max_ms": round(1000 * max(s), 1), "n": len(s),
                   "status": sorted(statuses[name]), "bytes": size[name]}
            for name, s in samples.items()}


def lateness(db: Database) -> float:
    """Seconds the most overdue source that no daemon holds is late (0: none)."""
    row = db.scalar("SELECT min(next_due_at) FROM source WHERE active AND "
                    "lease_owner IS NULL")
    if row is None:
        return 0.0
    due = row if isinstance(row, datetime) else datetime.fromisoformat(str(row))
    if due.tzinfo is None:
        due = due.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - due).total_seconds())


def _utc(value: Any) -> datetime:
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def spread_due(db: Database, ids: list[str], interval: float, start: datetime,
               seed_value: int = 2) -> dict[str, datetime]:
    """Each source due at a random moment of the interval from ``start``, last checked an
    interval before: the schedule a daemon that has run a while leaves."""
    rng = random.Random(seed_value)
    dues = {sid: start + timedelta(seconds=rng.uniform(0, interval)) for sid in ids}
    period = timedelta(seconds=interval)
    update_sources(db.engine, [{"_id": sid, "next_due_at": due, "last_checked_at": due - period,
                                "last_success_at": due - period} for sid, due in dues.items()])
    return dues


def schedule_kept(db: Database, dues: dict[str, datetime], run0: int, end: datetime,
                  running: datetime, tick: float) -> dict[str, Any]:
    """How late each source due before ``end`` was checked (its first check run since
    ``run0``: started minus due), or still is (``end`` minus due, unchecked); the most
    overdue of those due after the start-up backlog (``running`` + ``SETTLE``) and of
    those before, each against one tick."""
    first = {str(sid): _utc(at) for sid, at in db.rows(
        "SELECT source_id, min(started_at) FROM checkrun WHERE id > :i GROUP BY source_id",
        i=run0)}
    settled = running + timedelta(seconds=SETTLE)
    parts: dict[str, dict[str, Any]] = {}
    for name, due_in in (("startup", lambda d: d < settled),
                         ("steady", lambda d: settled <= d)):
        late: list[float] = []
        waiting = 0
        for sid, due in dues.items():
            if due >= end or not due_in(due):
                continue
            checked = first.get(sid)
            if checked is None:
                waiting += 1
                late.append((end - due).total_seconds())
            else:
                late.append(max(0.0, (checked - due).total_seconds()))
        late.sort()
        parts[name] = {"due": len(late), "unchecked_at_end": waiting,
                       "max_late_s": round(late[-1], 2) if late else 0.0,
                       "p99_late_s": round(_pct(late, 0.99), 2) if late else 0.0,
                       "p50_late_s": round(_pct(late, 0.5), 2) if late else 0.0,
                       "over_a_tick": sum(1 for x in late if x > tick),
                       "kept": bool(late) and late[-1] <= tick}
    return parts


def run(args: argparse.Namespace, log: Any) -> dict[str, Any]:
    n = args.sources
    workdir = Path(args.workdir) / f"scale-{args.db}-{n}"
    if workdir.exists():
        import shutil
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    result: dict[str, Any] = {"sources": n, "triggers": args.triggers, "db": args.db,
                              "web_process": args.web,
                              "interval": args.interval, "window_s": args.window,
                              "load_before": round(os.getloadavg()[0], 2)}
    log(f"site: {vendor_count(n)} vendors")
    site = Site(vendor_count(n), workdir / "site")
    site.start(timeout=600)
    db = Database(args.db, workdir)
    try:
        log(f"seeding {n} sources, {args.triggers} triggers")
        config = workdir / "reassess.yaml"
        result["seed"] = seed(db.url, config, sources=n, triggers=args.triggers,
                              checkruns=args.checkruns, base_url=site.base_url,
                              interval=args.interval, days=365, workers=args.workers,
                              cache=CACHE, log=log)
        web_port = free_port()
        text = config.read_text(encoding="utf-8").replace(
            "schedule: {jitter: 0, tick: 1s}",
            f"schedule: {{jitter: 0, tick: 1s}}\nweb: {{host: 127.0.0.1, port: {web_port}}}")
        config.write_text(text, encoding="utf-8")
        _daemon(args, config, web_port, workdir, db, result, log)
        result["db_bytes"] = db.sizes()["bytes"]
    finally:
        site.stop()
        db.close()
    result["load_after"] = round(os.getloadavg()[0], 2)
    return result


def _daemon(args: argparse.Namespace, config: Path, web_port: int, workdir: Path,
            db: Database, result: dict[str, Any], log: Any) -> None:
    from config.durations import parse_duration
    interval = parse_duration(args.interval)
    run0, trig0 = db.max_id("checkrun"), db.max_id("trigger")
    dues = spread_due(db, [d.source_id for d in documents(args.sources)], interval,
                      datetime.now(UTC))
    log(f"due times spread over {interval:g} s from now; daemon up")
    daemon_log = (workdir / "daemon.log").open("w")
    started = time.monotonic()
    launched = datetime.now(UTC)
    separate = args.web == "separate"
    argv = reassess_argv("run", "--config", str(config), *(["--no-web"] if separate else []))
    proc = subprocess.Popen(argv, stdout=daemon_log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=child_env(), cwd=workdir)
    web: subprocess.Popen[bytes] | None = None
    if separate:  # ``reassess serve``: the web UI in its own process, beside the daemon
        web = subprocess.Popen(reassess_argv("serve", "--config", str(config)),
                               stdout=(workdir / "serve.log").open("w"),
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               env=child_env(), cwd=workdir)
    memory = TreeMemory(proc.pid, period=1.0)
    memory.start()
    try:
        result["startup_s"] = _wait_running(workdir / "daemon.log", proc, started)
        running = datetime.now(UTC)
        result["rss_after_startup_mb"] = round(_proc_hwm_mb(proc.pid), 1)
        base = f"http://127.0.0.1:{web_port}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:  # the web UI listens a moment after
            with contextlib.suppress(OSError):
                if _get(base + "/api/summary")[1] == 200:
                    break
            time.sleep(0.2)
        total = int(db.scalar('SELECT count(*) FROM "trigger"'))
        deep = max(1, total // 25 // 2)  # the history page shows 25 a page
        pages = {"dashboard": "/", "history": "/triggers",
                 "history_deep": f"/triggers?page={deep}",
                 **{f"history_{f.split('=')[0]}": f"/triggers?{f}" for f in FILTERS},
                 **{f"history_{f.split('=')[0]}_p20": f"/triggers?{f}&page=20"
                    for f in FILTERS[:5]},
                 "api_triggers": "/api/triggers?limit=100",
                 "api_triggers_deep": f"/api/triggers?limit=100&offset={total // 2}",
                 "api_triggers_type": "/api/triggers?limit=100&type=incident",
                 "api_summary": "/api/summary"}
        t0 = time.monotonic()
        late: list[float] = []
        probes: list[dict[str, Any]] = []
        while time.monotonic() - t0 < args.window:
            late.append(lateness(db))
            probes.append(probe_pages(base, pages, 1))
            time.sleep(max(0.0, 5.0 - (time.monotonic() - t0) % 5.0))
            if proc.poll() is not None:
                raise RuntimeError(f"the daemon exited with {proc.returncode}")
        result["window_measured_s"] = round(time.monotonic() - t0, 1)
        end = datetime.now(UTC)
        checks = db.max_id("checkrun") - run0
        kept = schedule_kept(db, dues, run0, end, running, 1.0)
        outcomes = {str(o): int(c) for o, c in db.rows(
            "SELECT outcome, count(*) FROM checkrun WHERE id > :i GROUP BY outcome", i=run0)}
        fired = db.max_id("trigger") - trig0
        checked = sum(outcomes.values())
        merged: dict[str, list[float]] = {}
        for p in probes:
            for name, fig in p.items():
                merged.setdefault(name, []).append(fig["p50_ms"])
        result["web"] = {name: {"path": pages[name], "n": len(v),
                                "p50_ms": round(statistics.median(v), 1),
                                "p95_ms": round(_pct(v, 0.95), 1), "max_ms": round(max(v), 1),
                                "status": probes[-1][name]["status"],
                                "bytes": probes[-1][name]["bytes"]}
                         for name, v in merged.items()}
        # Checked within its interval plus one tick: due at the last check plus the
        # interval, so at most a tick (1 s) late.
        result["schedule"] = {"allowed_s": 1.0, "interval_s": interval,
                              "settle_s": SETTLE, **kept,
                              "kept": kept["steady"]["kept"],
                              "max_unclaimed_late_s": round(max(late), 1),
                              "samples": len(late),
                              "checks": checks,
                              "checks_per_s": round(checks / (end - launched)
                                                    .total_seconds(), 1),
                              "needed_per_s": round(args.sources / interval, 1),
                              "outcomes": outcomes,
                              "share_304": round(outcomes.get("not_modified", 0) / checked, 4)
                              if checked else None,
                              "triggers_fired": fired}
        log("CLI: reassess triggers / show")
        result["cli"] = _cli(config, workdir)
        result["peak_rss_mb"] = round(_proc_hwm_mb(proc.pid), 1)
        result["peak_tree_pss_mb"] = round(memory.peak_kb / 1024, 1)
    finally:
        memory.stop()
        if web is not None:
            result["web_process_peak_rss_mb"] = round(_proc_hwm_mb(web.pid), 1) \
                if web.poll() is None else None
            stop(web)
        stop(proc, 60)
        daemon_log.close()


def _cli(config: Path, workdir: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, argv in (("triggers", ["triggers", "--config", str(config)]),
                       ("triggers_type", ["triggers", "--config", str(config), "--type",
                                          "incident"]),
                       ("triggers_json", ["triggers", "--config", str(config), "--json"]),
                       ("show", ["show", "--config", str(config), "5"])):
        t = time.perf_counter()
        res = subprocess.run(reassess_argv(*argv), capture_output=True, text=True,
                             env=child_env(), cwd=workdir, timeout=300, check=False)
        out[name] = {"wall_s": round(time.perf_counter() - t, 2), "exit_code": res.returncode}
        if res.returncode not in (0, 3):
            out[name]["error"] = (res.stderr or res.stdout).strip()[-300:]
    return out


def lines(r: dict[str, Any]) -> list[str]:
    tag = f"N={r['sources']} [{r['db']}, web {r.get('web_process', 'daemon')}]"
    out = [f"{tag} seed: {json.dumps(r.get('seed', {}))}",
           f"{tag} daemon start-up {r.get('startup_s')} s (target ≤ 30 s), RSS after "
           f"start-up {r.get('rss_after_startup_mb')} MB, peak RSS {r.get('peak_rss_mb')} MB "
           f"(target ≤ 400 MB), tree PSS {r.get('peak_tree_pss_mb')} MB",
           f"{tag} schedule: {json.dumps(_brief(r.get('schedule', {})))}"]
    for part in ("steady", "startup"):
        fig = r.get("schedule", {}).get(part)
        if fig:
            out.append(f"{tag} schedule {part}: {fig['due']} sources due, most overdue "
                       f"{fig['max_late_s']} s (p99 {fig['p99_late_s']} s, p50 "
                       f"{fig['p50_late_s']} s; allowed 1 tick = 1 s: "
                       f"{'kept' if fig['kept'] else 'MISSED'}), {fig['over_a_tick']} over a "
                       f"tick, {fig['unchecked_at_end']} unchecked at the end")
    for name, fig in r.get("web", {}).items():
        target = 150 if name.startswith("api") else 300
        mark = "met" if fig["p95_ms"] <= target else "MISSED"
        out.append(f"{tag} web {name:24} p50 {fig['p50_ms']:8.1f} ms  p95 {fig['p95_ms']:8.1f} "
                   f"ms  max {fig['max_ms']:8.1f} ms  ({mark}: ≤ {target} ms) {fig['status']} "
                   f"{fig['bytes']} B")
    for name, fig in r.get("cli", {}).items():
        out.append(f"{tag} cli {name}: {fig}")
    out.append(f"{tag} database {r.get('db_bytes', 0) / 1e6:.0f} MB; load "
               f"{r['load_before']} → {r.get('load_after')}")
    return out


def _brief(schedule: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schedule.items() if k not in ("steady", "startup")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=100_000)
    parser.add_argument("--triggers", type=int, default=1_000_000)
    parser.add_argument("--checkruns", type=int, default=5)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--interval", default="15m")
    parser.add_argument("--window", type=float, default=120.0)
    parser.add_argument("--web", choices=("daemon", "separate"), default="daemon",
                        help="the web UI in the daemon (reassess run) or in its own "
                             "process beside it (reassess run --no-web + reassess serve)")
    parser.add_argument("--workers", type=int, default=2,
                        help="processes computing the seeded baselines (cached on disk)")
    parser.add_argument("--workdir", default="/tmp/reassess-bench")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    precompile()
    result = run(args, log)
    result["machine"] = machine()
    result["at"] = datetime.now(UTC).isoformat()
    for line in lines(result):
        print(line, flush=True)
    out = args.out or ROOT / "bench" / "results" / \
        f"scale-{args.db}-{args.sources}-{datetime.now(UTC):%Y-%m-%dT%H%M}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


