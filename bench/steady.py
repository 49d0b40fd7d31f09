"""The daemon in steady state: ``reassess run`` (web UI on) kept busy over N sources.

    python -m bench.steady --n 1000 [--n 10000] [--db sqlite|postgresql] [--window 60]

For each N: the simulated vendor site (its own process) with N/3 vendors; one
``reassess check`` lays the baselines (not measured; with ``--baselines seed``,
``bench.seed`` writes what that first check would store instead, the site's validators
and parsed documents, cached on disk: a first pass over 100,000 sources is a long
warm-up, and its result is the same); then ``reassess run`` with every
source at an interval short enough that something is always due (``--interval``,
default N/1000 s, at least 2 s) and ticks of 1 s. While it runs, the harness asks the site
to change documents at 5 % of the daemon's own check rate (``--change-share``), so most
checks are answered ``304`` and about one in twenty fetches a changed document. After
``--warmup`` seconds it measures a window of ``--quiet-window`` seconds with nothing
changing, then starts changing documents and, ``--settle`` seconds later, measures over
``--window`` seconds (``--quiet-window 0`` or ``--change-share 0``: the one window):

* checks per second (check-run rows written) and their outcomes;
* CPU per check of the daemon's whole process tree (main process, parse worker, and the
  children they reaped: user + sys from ``/proc``);
* peak RSS of the main process (``VmHWM``) and peak PSS of the tree;
* database bytes per check: all of it, and the check-run table with its indexes per
  check-run row (what an unchanged check adds; SQLite ``dbstat``, PostgreSQL
  ``pg_total_relation_size``).

In the same run, before and after the daemon (with seeded baselines, after it only: the
loop changes documents, which would be changes the daemon sees first), the bare client
loop (``bench/bareloop.py --rounds``: conditional GETs over httpx + ``httpx_aiohttp``, the
same concurrency, the same 5 % of changed documents per pass) gives the floor: its CPU
per request, start-up and imports excluded as the daemon's are. The ratio ``daemon CPU
per check ÷ bare CPU per request`` is the issue's target (≤ 1.5×, goal ≤ 1.1×), judged for
each window against the bare loop with the same changes (none for the quiet window).
From the two windows of one daemon comes what a changed document costs (``ratios``) and
what the target leaves for it. Figures print as lines and go to
``bench/results/steady-<date>.json`` (or ``--out``). The load average is recorded.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from .__main__ import precompile
from .latency import _proc_cpu_s, _proc_hwm_mb
from .procs import ROOT, Site, TreeMemory, bin_path, child_env, measure, stop
from .run import machine
from .seed import CACHE, seed
from .workload import documents, reassess_config, url_list, vendor_count

PG_ADMIN = os.environ.get("REASSESS_BENCH_PG",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")


# --- the database under test ------------------------------------------------------------


class Database:
    """A fresh SQLite file or PostgreSQL database, and the few figures read from it."""

    def __init__(self, backend: str, workdir: Path) -> None:
        self.backend = backend
        self.pg_name: str | None = None
        if backend == "sqlite":
            self.path: Path | None = workdir / "reassess.db"
            self.url = f"sqlite:///{self.path}"
        else:
            self.path = None
            self.pg_name = f"reassess_bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.pg_name}"'))
            admin.dispose()
            self.url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{self.pg_name}"
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_engine(self.url, pool_size=1, max_overflow=0)
        return self._engine

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())

    def max_id(self, table: str) -> int:
        return int(self.scalar(f'SELECT coalesce(max(id), 0) FROM "{table}"'))

    def sizes(self) -> dict[str, int]:
        """Bytes in use: the whole database, and the check-run table with its indexes."""
        if self.backend == "sqlite":
            # A reader's snapshot includes the WAL: no checkpoint needed while the daemon
            # writes. dbstat counts each table's and index's pages.
            whole = int(self.scalar("SELECT sum(pgsize) FROM dbstat"))
            runs = int(self.scalar(
                "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = 'checkrun' OR "
                "name IN (SELECT name FROM sqlite_master WHERE tbl_name = 'checkrun')"))
            return {"bytes": whole, "checkrun_bytes": runs}
        whole = int(self.scalar("SELECT pg_database_size(current_database())"))
        runs = int(self.scalar("SELECT pg_total_relation_size('checkrun')"))
        return {"bytes": whole, "checkrun_bytes": runs}

    def outcomes_since(self, run_id: int, until: int) -> dict[str, int]:
        """Outcomes of the check runs with ``run_id < id <= until`` (the window's)."""
        return {str(o): int(c) for o, c in self.rows(
            "SELECT outcome, count(*) FROM checkrun WHERE id > :i AND id <= :j "
            "GROUP BY outcome", i=run_id, j=until)}

    def statuses_since(self, run_id: int, until: int) -> dict[str, int]:
        return {str(s): int(c) for s, c in self.rows(
            "SELECT coalesce(http_status, 0), count(*) FROM checkrun WHERE id > :i "
            "AND id <= :j GROUP BY 1", i=run_id, j=until)}

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self.pg_name:
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)'))
            admin.dispose()


# --- helpers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reassess_argv(*args: str) -> list[str]:
    exe = bin_path("reassess")
    return [str(exe), *args] if exe else [sys.executable, "-m", "monitor.cli", *args]


def bare_steady(urls: Path, state: Path, workdir: Path, label: str, *, concurrency: int,
                rounds: int, site: Site, share: float) -> dict[str, Any]:
    argv = [sys.executable, "-m", "bench.bareloop", str(urls), str(state),
            "--concurrency", str(concurrency), "--rounds", str(rounds),
            "--control", site.base_url, "--change-share", str(share)]
    m = measure(argv, workdir, label=label)
    try:
        result: dict[str, Any] = json.loads(m.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"error": (m.stderr or m.stdout).strip()[-300:]}
    result["peak_rss_mb"] = round(m.peak_rss_mb, 1)
    return result


class Mutator(threading.Thread):
    """Changes documents on the site at ``share`` of the daemon's check rate."""

    def __init__(self, site: Site, db: Database, paths: list[str], share: float) -> None:
        super().__init__(daemon=True, name="mutator")
        self.site, self.db, self.paths, self.share = site, db, paths, share
        self.done = threading.Event()
        self.changed = 0
        self.error: str | None = None

    def run(self) -> None:
        last = self.db.max_id("checkrun")
        owed = 0.0
        seed = 1
        while not self.done.wait(1.0):
            try:
                now = self.db.max_id("checkrun")
                owed += (now - last) * self.share
                last = now
                count = int(owed)
                if count:
                    owed -= count
                    seed += 1
                    self.changed += len(self.site.mutate(count, self.paths, seed=seed))
            except Exception as exc:  # the measurement goes on; the JSON says why
                self.error = f"{type(exc).__name__}: {exc}"

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=30)


# --- one size -----------------------------------------------------------------------------


def run_size(n: int, args: argparse.Namespace, log: Any) -> dict[str, Any]:
    workdir = Path(args.workdir) / f"steady-{args.db}-{n}"
    if workdir.exists():
        import shutil
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    docs = documents(n)
    interval = args.interval or max(2.0, n / 1000)
    result: dict[str, Any] = {"n": n, "db": args.db, "interval_s": interval,
                              "tick_s": 1.0, "concurrency": args.concurrency,
                              "change_share": args.change_share,
                              "warmup_s": args.warmup, "window_s": args.window,
                              "load_before": round(os.getloadavg()[0], 2)}
    site = Site(vendor_count(n), workdir / "site")
    site.start()
    db = Database(args.db, workdir)
    try:
        _run(n, docs, interval, args, workdir, site, db, result, log)
    finally:
        site.stop()
        db.close()
    result["load_after"] = round(os.getloadavg()[0], 2)
    return result


def _run(n: int, docs: list[Any], interval: float, args: argparse.Namespace, workdir: Path,
         site: Site, db: Database, result: dict[str, Any], log: Any) -> None:
    urls = url_list(docs, site.base_url, workdir / "urls.txt")
    bare_state = workdir / "bare-state.json"
    bare: list[dict[str, Any]] = []
    bare_quiet: list[dict[str, Any]] = []  # with nothing changing, for the quiet window
    if args.baselines == "check":  # a seeded baseline is the site's first state: no change yet
        log(f"N={n}: bare loop (before)")
        bare.append(bare_steady(urls, bare_state, workdir, "bare-before",
                                concurrency=args.concurrency, rounds=args.bare_rounds,
                                site=site, share=args.change_share))
        if args.change_share > 0 and args.quiet_window > 0:
            bare_quiet.append(bare_steady(urls, bare_state, workdir, "bare-before-quiet",
                                          concurrency=args.concurrency,
                                          rounds=args.bare_rounds, site=site, share=0.0))

    web_port = free_port()
    config = workdir / "reassess.yaml"
    body = reassess_config(docs, site.base_url, Path("unused"), concurrency=args.concurrency,
                           interval=f"{interval:g}s", tick="1s")
    body = body.replace("database: sqlite:///unused", f"database: {db.url}")
    body = body.replace("schedule: {jitter: 0, tick: 1s}",
                        f"schedule: {{jitter: 0, tick: 1s}}\n"
                        f"web: {{host: 127.0.0.1, port: {web_port}}}")
    config.write_text(body, encoding="utf-8")

    if args.baselines == "seed":
        log(f"N={n}: baselines (bench.seed: the first check's result written directly)")
        result["baseline_seed"] = seed(db.url, config, sources=n, triggers=0, checkruns=1,
                                       base_url=site.base_url, interval=f"{interval:g}s",
                                       days=1, workers=args.workers, cache=CACHE, log=log,
                                       concurrency=args.concurrency)
        config.write_text(config.read_text(encoding="utf-8").replace(
            "schedule: {jitter: 0, tick: 1s}", f"schedule: {{jitter: 0, tick: 1s}}\n"
            f"web: {{host: 127.0.0.1, port: {web_port}}}"), encoding="utf-8")
    else:
        log(f"N={n}: baselines (reassess check, not measured)")
        first = measure(reassess_argv("check", "--config", str(config)), workdir,
                        label="baseline")
        result["baseline_pass"] = {"wall_s": round(first.wall_s, 2),
                                   "exit_code": first.exit_code}
        if first.exit_code not in (0, 3):  # 3: triggers fired (the first pass fires none)
            result["error"] = (f"reassess check exited {first.exit_code}; see "
                               f"{workdir}/baseline.err")
            return

    log(f"N={n}: daemon up (web UI on port {web_port})")
    daemon_log = (workdir / "daemon.log").open("w")
    started = time.monotonic()
    proc = subprocess.Popen(reassess_argv("run", "--config", str(config)), stdout=daemon_log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=child_env(), cwd=workdir)
    memory = TreeMemory(proc.pid, period=0.5)
    memory.start()
    mutator = Mutator(site, db, [d.path for d in docs], args.change_share)
    paired = args.change_share > 0 and args.quiet_window > 0
    try:
        result["startup_s"] = _wait_running(workdir / "daemon.log", proc, started)
        if paired:  # first nothing changing, then the same daemon with changes
            time.sleep(args.warmup)
            log(f"N={n}: window with nothing changing ({args.quiet_window:g} s)")
            result["quiet"] = _window(proc, db, memory, args.quiet_window)
            mutator.start()
            time.sleep(args.settle)
        else:
            mutator.start()
            time.sleep(args.warmup)
        log(f"N={n}: window with {args.change_share:.0%} changing ({args.window:g} s)"
            if args.change_share else f"N={n}: window ({args.window:g} s)")
        result["daemon"] = _window(proc, db, memory, args.window, args.py_spy)
        result["documents_changed_by_site"] = mutator.changed
        if mutator.error:
            result["mutator_error"] = mutator.error
    finally:
        mutator.stop()
        memory.stop()
        stop(proc)
        daemon_log.close()

    log(f"N={n}: bare loop (after)")
    bare.append(bare_steady(urls, bare_state, workdir, "bare-after", concurrency=args.concurrency,
                            rounds=args.bare_rounds, site=site, share=args.change_share))
    if paired:
        bare_quiet.append(bare_steady(urls, bare_state, workdir, "bare-after-quiet",
                                      concurrency=args.concurrency, rounds=args.bare_rounds,
                                      site=site, share=0.0))
        result["bare_quiet"] = bare_quiet
    result["bare"] = bare
    result.update(ratios(result))


def _window(proc: subprocess.Popen[bytes], db: Database, memory: TreeMemory,
            seconds: float, py_spy: Path | None = None) -> dict[str, Any]:
    """The daemon's figures over the next ``seconds``."""
    if proc.poll() is not None:
        raise RuntimeError(f"the daemon exited with {proc.returncode}")
    run0, trig0 = db.max_id("checkrun"), db.max_id("trigger")
    size0, cpu0, t0 = db.sizes(), _proc_cpu_s(proc.pid), time.monotonic()
    main0 = _own_cpu_s(proc.pid)
    spy = _py_spy(proc.pid, py_spy, seconds) if py_spy else None
    time.sleep(seconds)
    if spy is not None:
        spy.wait(timeout=60)
    run1, trig1 = db.max_id("checkrun"), db.max_id("trigger")
    cpu1, t1 = _proc_cpu_s(proc.pid), time.monotonic()
    main_cpu = _own_cpu_s(proc.pid) - main0
    size1 = db.sizes()
    window = t1 - t0
    checks = run1 - run0
    statuses = db.statuses_since(run0, run1)
    cpu = cpu1 - cpu0
    # the parse worker's CPU per document it parsed (a 200): what a changed document
    # costs beside the main process
    parsed = statuses.get("200", 0)

    def per_check(value: float, scale: float = 1000.0, digits: int = 4) -> float | None:
        return round(scale * value / checks, digits) if checks else None

    return {
        "window_s": round(window, 2), "checks": checks,
        "checks_per_s": round(checks / window, 1) if window else 0.0,
        "cpu_s": round(cpu, 3), "cpu_share": round(cpu / window, 3),
        "cpu_ms_per_check": per_check(cpu), "main_cpu_ms_per_check": per_check(main_cpu),
        "outcomes": db.outcomes_since(run0, run1), "statuses": statuses,
        "share_304": per_check(statuses.get("304", 0), 1.0, 3),
        "share_parsed": per_check(parsed, 1.0),
        "triggers": trig1 - trig0,
        "peak_rss_mb": round(_proc_hwm_mb(proc.pid), 1),
        "peak_tree_pss_mb": round(memory.peak_kb / 1024, 1),
        "processes": memory.max_processes,
        "db_bytes_per_check": per_check(size1["bytes"] - size0["bytes"], 1.0, 1),
        "checkrun_bytes_per_row": per_check(
            size1["checkrun_bytes"] - size0["checkrun_bytes"], 1.0, 1),
        "db_bytes_after": size1["bytes"],
        "worker_cpu_ms_per_parse": round(1000 * (cpu - main_cpu) / parsed, 3)
        if parsed else None,
    }


def _floor(bare: list[dict[str, Any]]) -> float | None:
    per_req = [b["cpu_ms_per_request"] for b in bare if "cpu_ms_per_request" in b]
    return sum(per_req) / len(per_req) if per_req else None


def ratios(size: dict[str, Any]) -> dict[str, Any]:
    """The daemon's CPU per check over the bare loop's per request (the target), and,
    for a run with a window of each, what one changed document costs: the main process's
    extra CPU per check in the changing window over the quiet one, divided by the share of
    checks that parsed a document, plus the parse worker's CPU per document; and what the
    1.5× target leaves for it (the bare loop's floor with changes, times 1.5, less what a
    check costs with nothing changing, divided by the same share)."""
    out: dict[str, Any] = {}
    d, floor = size.get("daemon") or {}, _floor(size.get("bare", []))
    if floor and d.get("cpu_ms_per_check"):
        out["bare_cpu_ms_per_request"] = round(floor, 4)
        out["ratio_cpu_per_check"] = round(d["cpu_ms_per_check"] / floor, 3)
        out["ratio_main_cpu_per_check"] = round(d["main_cpu_ms_per_check"] / floor, 3)
    q, quiet_floor = size.get("quiet") or {}, _floor(size.get("bare_quiet", []))
    if quiet_floor and q.get("cpu_ms_per_check"):
        out["bare_quiet_cpu_ms_per_request"] = round(quiet_floor, 4)
        out["ratio_quiet_cpu_per_check"] = round(q["cpu_ms_per_check"] / quiet_floor, 3)
    share = d.get("share_parsed")
    if q.get("main_cpu_ms_per_check") and d.get("main_cpu_ms_per_check") and share and floor:
        main = (d["main_cpu_ms_per_check"] - q["main_cpu_ms_per_check"]) / share
        worker = d.get("worker_cpu_ms_per_parse") or 0.0
        out["per_changed_document"] = {
            "share_parsed": share, "main_cpu_ms": round(main, 3),
            "worker_cpu_ms": round(worker, 3), "cpu_ms": round(main + worker, 3),
            "allowance_ms": round((1.5 * floor - q["cpu_ms_per_check"]) / share, 3),
        }
    return out


def _own_cpu_s(pid: int) -> float:
    """user + sys seconds of ``pid`` alone (not its parse workers)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _py_spy(pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    """py-spy (not a dependency: ``pip install py-spy``) samples the daemon over the window
    as collapsed stacks; the CPU it costs the daemon makes that run's figures unfit to
    report."""
    return subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--duration",
                             str(int(seconds)), "--format", "raw", "--nonblocking",
                             "--rate", "200", "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_running(logfile: Path, proc: subprocess.Popen[bytes], started: float,
                  timeout: float = 600.0) -> float:
    """Seconds from the daemon's start until it logs that it runs."""
    deadline = started + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the daemon exited with {proc.returncode}; see {logfile}")
        with contextlib.suppress(OSError):
            if "reassess running" in logfile.read_text(errors="replace"):
                return round(time.monotonic() - started, 2)
        time.sleep(0.1)
    raise RuntimeError(f"the daemon did not start within {timeout:.0f}s; see {logfile}")


# --- targets and output -------------------------------------------------------------------


def judge(size: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, ratio_key, what in (
            ("cpu_per_check_vs_bare_quiet", "ratio_quiet_cpu_per_check", "nothing changing"),
            ("cpu_per_check_vs_bare", "ratio_cpu_per_check",
             f"{size.get('change_share', 0):.0%} changing")):
        ratio = size.get(ratio_key)
        if ratio is not None:
            verdict = "met (goal ≤ 1.1× met too)" if ratio <= 1.1 else \
                "met" if ratio <= 1.5 else "missed"
            out[key] = f"{verdict}: {ratio:.2f}× with {what} (target ≤ 1.5×)"
    # an unchanged check's row: from the window with nothing changing, when there is one
    per_row = (size.get("quiet") or size.get("daemon") or {}).get("checkrun_bytes_per_row")
    if per_row is not None:
        out["bytes_per_unchanged_check"] = \
            f"{'met' if per_row <= 200 else 'missed'}: {per_row:.0f} B (target ≤ 200 B)"
    return out


def lines(size: dict[str, Any]) -> list[str]:
    n, d = size["n"], size.get("daemon", {})
    if not d:
        return [f"N={n} [{size['db']}]: {size.get('error', 'no figures')}"]
    bare = size.get("bare_cpu_ms_per_request")
    out = [
        f"N={n} [{size['db']}] daemon: {d['checks_per_s']} checks/s over {d['window_s']} s, "
        f"{d['cpu_ms_per_check']} ms CPU/check ({d['main_cpu_ms_per_check']} main process; "
        f"{100 * d['cpu_share']:.0f} % of a core), "
        f"304 share {d['share_304']}, outcomes {d['outcomes']}; parse worker "
        f"{d.get('worker_cpu_ms_per_parse')} ms CPU per document parsed",
        f"N={n} [{size['db']}] memory: {d['peak_rss_mb']} MB RSS (main), "
        f"{d['peak_tree_pss_mb']} MB PSS ({d['processes']} processes); start-up "
        f"{size.get('startup_s')} s",
        f"N={n} [{size['db']}] database: {d['db_bytes_per_check']} B/check overall, "
        f"{d['checkrun_bytes_per_row']} B per check-run row",
        f"N={n} [{size['db']}] bare loop: {bare} ms CPU/request "
        f"({[b.get('cpu_ms_per_request') for b in size.get('bare', [])]}); ratio "
        f"{size.get('ratio_cpu_per_check')}× (main process alone "
        f"{size.get('ratio_main_cpu_per_check')}×)",
        f"N={n} [{size['db']}] load average {size['load_before']} → {size['load_after']}",
    ]
    q = size.get("quiet")
    if q:
        out.insert(1, f"N={n} [{size['db']}] nothing changing: {q['checks_per_s']} checks/s, "
                      f"{q['cpu_ms_per_check']} ms CPU/check against the bare loop's "
                      f"{size.get('bare_quiet_cpu_ms_per_request')} ms/request: ratio "
                      f"{size.get('ratio_quiet_cpu_per_check')}×")
    per_doc = size.get("per_changed_document")
    if per_doc:
        out.append(f"N={n} [{size['db']}] a changed document: {per_doc['cpu_ms']} ms CPU "
                   f"({per_doc['main_cpu_ms']} main process, {per_doc['worker_cpu_ms']} parse "
                   f"worker); the 1.5× target leaves {per_doc['allowance_ms']} ms for it at "
                   f"{100 * per_doc['share_parsed']:.1f} % of checks parsing")
    out += [f"N={n} [{size['db']}] target {k}: {v}" for k, v in judge(size).items()]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.steady", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--n", type=int, action="append", help="sources (repeatable)")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--interval", type=float, default=None,
                        help="seconds between a source's checks (default N/1000, ≥ 2)")
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--change-share", type=float, default=0.05)
    parser.add_argument("--quiet-window", type=float, default=20.0,
                        help="with a change share: first a window of this many seconds with "
                             "nothing changing, in the same daemon (0: none)")
    parser.add_argument("--settle", type=float, default=10.0,
                        help="seconds between the site starting to change documents and "
                             "the changing window")
    parser.add_argument("--bare-rounds", type=int, default=8,
                        help="measured passes of the bare loop before and after the daemon "
                             "(~1 s each at N = 1,000; with 3, one run's two floors differed "
                             "by half)")
    parser.add_argument("--baselines", choices=("check", "seed"), default="check",
                        help="lay the baselines with one reassess check pass (default), or "
                             "write a first check's result directly (bench.seed: true "
                             "baselines, cached on disk; for N = 100,000)")
    parser.add_argument("--workers", type=int, default=2,
                        help="with --baselines seed: processes computing them")
    parser.add_argument("--workdir", default="/tmp/reassess-bench")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--py-spy", type=Path, default=None, metavar="FILE",
                        help="profile the daemon's main process over the window "
                             "(collapsed stacks; figures of such a run are not to report)")
    args = parser.parse_args(argv)
    sizes = args.n or [1000]

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    precompile()
    report: dict[str, Any] = {"kind": "steady", "at": datetime.now(UTC).isoformat(),
                              "machine": machine(), "sizes": {}}
    for n in sizes:
        size = run_size(n, args, log)
        size["targets"] = judge(size)
        report["sizes"][str(n)] = size
        for line in lines(size):
            print(line, flush=True)
    out = args.out or ROOT / "bench" / "results" / \
        f"steady-{args.db}-{datetime.now(UTC):%Y-%m-%dT%H%M}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
