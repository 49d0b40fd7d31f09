"""Where a second pass spends its instructions: ``python -m bench.anatomy``.

The benchmark's figures say how fast a pass is; this says what the main process of
``reassess check`` does with its instructions on pass 2 (~5 % of the documents changed,
the rest answered 304), against the bare loop on the same client. It counts
instructions under valgrind's callgrind, which a busy or drifting machine does not
disturb: two runs of the same pass agree within a tenth of a percent.

Each part is the difference between two runs of the same pass on a copy of the same
database, with a piece of the check left out in the measured process:

* ``imports``: only the modules a check imports before it reads its config;
* ``startup``: the pass checks nothing (imports, config, sync, reading the sources'
  rows, the summary, the review-due pass, closing);
* ``fetch``: every source fetched through ``sources.fetch.Fetcher`` and dropped;
* ``no-persist``: the whole check but nothing written;
* ``full``: the whole check.

and for the bare loop (``bench/bareloop.py``) its whole run and its imports alone.
Needs valgrind (``apt-get install valgrind``); N=1,000 takes about five minutes.

    python -m bench.anatomy [--n 1000] [--workdir DIR] [--out FILE.json]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

# The measured process imports this module and nothing else of the harness: what it
# needs for the harness is imported inside the harness's functions.
VARIANTS = ("full", "no-persist", "fetch", "startup", "imports")
CLIENT_IMPORTS = "import httpx, aiohttp, httpx_aiohttp"
CHECK_PATH = ("monitor.cli", "monitor.check.runner", "monitor.check.pipeline",
              "monitor.check.persist", "monitor.notify.routing",
              "storage.repo", "storage.lifecycle",
              "sqlalchemy.dialects.sqlite")


# --- inside the measured process --------------------------------------------------------


def _leave_out(variant: str) -> None:
    """Patch the checker so this process runs ``variant`` of the pass."""
    import asyncio

    from monitor.check import pipeline
    from sources.fetch import Fetcher

    if variant == "no-persist":
        pipeline.Checker._flush = lambda self, outcomes, states, held=None: 0  # type: ignore[method-assign]
    elif variant == "startup":
        async def nothing(self: Any, rows: Any, progress: Any, held: Any = None,
                          watches: Any = None) -> pipeline.PassSummary:
            return pipeline.PassSummary()

        pipeline.Checker._run = nothing  # type: ignore[method-assign]
    elif variant == "fetch":
        async def fetch_only(self: Any, rows: Any, progress: Any, held: Any = None,
                             watches: Any = None) -> pipeline.PassSummary:
            watches = watches or self.watches
            async with Fetcher(self.fetch_options) as fetcher:  # the pass's own fetch step
                await asyncio.gather(*(self._one(fetcher, row, watches[row.id])
                                       for row in rows))
            return pipeline.PassSummary()

        pipeline.Checker._run = fetch_only  # type: ignore[method-assign]


def child(variant: str, argv: list[str]) -> int:
    if variant == "imports":  # what a check imports before it reads its config
        import importlib

        for module in CHECK_PATH:
            importlib.import_module(module)
        return 0
    _leave_out(variant)
    sys.argv = ["reassess", *argv]
    from monitor.cli import main

    try:
        main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


# --- the harness ------------------------------------------------------------------------


def instructions(out_file: Path) -> int:
    import re

    text = out_file.read_text(encoding="utf-8", errors="replace")
    found = re.search(r"^(?:summary|totals):\s+(\d+)", text, re.M)
    if not found:
        raise RuntimeError(f"no instruction total in {out_file}")
    return int(found.group(1))


def callgrind(argv: list[str], out_dir: Path, label: str, cwd: Path) -> int:
    """Instructions of the process ``argv`` starts (not of the workers it forks)."""
    import subprocess

    from .procs import child_env

    pattern = out_dir / f"{label}.%p"
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={pattern}",
                             *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=child_env(), cwd=cwd, text=True)
    _, err = proc.communicate(timeout=3600)
    if proc.returncode not in (0, 1):  # 1: a check with a failed source still counts
        raise RuntimeError(f"{label}: exit {proc.returncode}: {err.strip()[-500:]}")
    return instructions(out_dir / f"{label}.{proc.pid}")


def _settled_copy(db: Path, to: Path) -> None:
    """Copy pass 1's SQLite database with everything its write-ahead log still holds (a
    check may exit before the log is checkpointed, and a copy of the main file alone
    then lacks the last batches of the pass), once every source has its baseline."""
    import shutil
    import sqlite3

    conn = sqlite3.connect(db, timeout=30)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        missing = conn.execute("SELECT count(*) FROM source "
                               "WHERE current_snapshot_id IS NULL").fetchone()[0]
    finally:
        conn.close()
    if missing:  # pass 2 would parse and store these too, and count more than it should
        raise RuntimeError(f"pass 1 left {missing} sources without a baseline; see {db}")
    shutil.copy(db, to)


def run(n: int, workdir: Path, log: Any = print) -> dict[str, Any]:
    import shutil
    import subprocess
    import urllib.request

    from .procs import ROOT, Site, child_env
    from .workload import documents, reassess_config, url_list, vendor_count

    py = sys.executable
    for stale in ("reassess.db", "reassess.db-wal", "reassess.db-shm", "pass1.db",
                  "bare.json", "bare.pass1.json", "callgrind"):  # a reused --workdir
        path = workdir / stale
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    docs = documents(n)
    site = Site(vendor_count(n), workdir / "site")
    site.start()
    try:
        db, pristine = workdir / "reassess.db", workdir / "pass1.db"
        config = workdir / "reassess.yaml"
        config.write_text(reassess_config(docs, site.base_url, db, concurrency=16),
                          encoding="utf-8")
        urls = url_list(docs, site.base_url, workdir / "urls.txt")
        bare_state = workdir / "bare.json"
        log(f"N={n}: pass 1 (not counted)")
        for argv in ([py, "-m", "bench.bareloop", str(urls), str(bare_state),
                      "--concurrency", "16"],
                     [py, "-m", "monitor.cli", "check", "--config", str(config), "--no-notify"]):
            subprocess.run(argv, env=child_env(), cwd=ROOT, check=False,
                           capture_output=True, timeout=1800)
        _settled_copy(db, pristine)
        shutil.copy(bare_state, workdir / "bare.pass1.json")
        changed = site.mutate(max(1, round(n * 0.05)), [d.path for d in docs], seed=1)
        for changed_path in changed:
            with urllib.request.urlopen(site.base_url + changed_path, timeout=60) as resp:
                resp.read()
        counts: dict[str, int] = {}
        out_dir = workdir / "callgrind"
        out_dir.mkdir(exist_ok=True)
        for variant in VARIANTS:
            log(f"N={n}: pass 2 under callgrind: {variant}")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            shutil.copy(pristine, db)
            counts[variant] = callgrind(
                [py, "-m", "bench.anatomy", "--child", variant, "--", "check", "--config",
                 str(config), "--no-notify"], out_dir, variant, ROOT)
        log(f"N={n}: the bare loop under callgrind")
        shutil.copy(workdir / "bare.pass1.json", bare_state)
        counts["bare"] = callgrind([py, "-m", "bench.bareloop", str(urls), str(bare_state),
                                    "--concurrency", "16"], out_dir, "bare", ROOT)
        counts["bare_imports"] = callgrind([py, "-c", CLIENT_IMPORTS], out_dir,
                                           "bare-imports", ROOT)
    finally:
        site.stop()
    return {"n": n, "changed_documents": len(changed), "instructions": counts,
            "parts": parts(counts, n)}


def parts(c: dict[str, int], n: int) -> dict[str, Any]:
    """The differences that name each part: G instructions, and M per check for the
    parts that grow with the number of sources (imports do not)."""
    rows = {
        "python and the imports of the check path": (c["imports"], False),
        "rest of start-up (config, sync, rows, summary, close)":
            (c["startup"] - c["imports"], True),
        "fetching (Fetcher over httpx + aiohttp)": (c["fetch"] - c["startup"], True),
        "pipeline without writes (triage, queue, parse hand-off, analysis)":
            (c["no-persist"] - c["fetch"], True),
        "writes (persist)": (c["full"] - c["no-persist"], True),
        "reassess check, main process": (c["full"], False),
        "bare loop: python and its imports": (c["bare_imports"], False),
        "bare loop: requests": (c["bare"] - c["bare_imports"], True),
        "bare loop, whole": (c["bare"], False),
    }
    return {name: {"g": round(v / 1e9, 3),
                   "m_per_check": round(v / n / 1e6, 3) if scales else None}
            for name, (v, scales) in rows.items()}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--child"]:
        rest = args[3:] if args[2:3] == ["--"] else args[2:]
        return child(args[1], rest)
    import argparse
    import json
    import shutil
    import tempfile

    p = argparse.ArgumentParser(prog="python -m bench.anatomy", description=__doc__.split(
        "\n\n")[0])
    p.add_argument("--n", type=int, default=1000, help="sources (default 1000)")
    p.add_argument("--workdir", type=Path, help="keep the databases and callgrind files here")
    p.add_argument("--out", type=Path, help="write the counts and parts as JSON")
    opts = p.parse_args(args)
    if shutil.which("valgrind") is None:
        print("bench.anatomy needs valgrind: apt-get install valgrind", file=sys.stderr)
        return 2
    from .__main__ import precompile

    precompile()
    workdir = opts.workdir or Path(tempfile.mkdtemp(prefix="reassess-anatomy-"))
    workdir.mkdir(parents=True, exist_ok=True)
    result = run(opts.n, workdir, log=lambda s: print(s, file=sys.stderr, flush=True))
    width = max(map(len, result["parts"]))
    print(f"pass 2 at N={opts.n} ({result['changed_documents']} documents changed), "
          f"instructions:")
    for name, v in result["parts"].items():
        per = f"{v['m_per_check']:6.3f} M/check" if v["m_per_check"] is not None else ""
        print(f"  {name:<{width}}  {v['g']:7.3f} G  {per}")
    if opts.out:
        opts.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if opts.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
