"""``python -m bench``: run the benchmark, print a line per figure, write the JSON."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import report
from .procs import ROOT
from .run import Options, machine, run_size

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("sizes are integers, e.g. 1000,5000") from None
    if not sizes or any(n < 3 for n in sizes):
        raise argparse.ArgumentTypeError("each size is at least 3")
    return sizes


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--sizes", type=_sizes, default=None,
                   help="comma-separated N (default 1000,5000; --quick: 200)")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: N=200, a 10 s daemon interval, one latency round")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the JSON")
    p.add_argument("--concurrency", type=int, default=16,
                   help="requests in flight, for reassess and the bare loop alike")
    p.add_argument("--no-urlwatch", action="store_true", help="skip urlwatch")
    p.add_argument("--no-daemon", action="store_true", help="skip the latency probe")
    p.add_argument("--latency-interval", type=float, default=None,
                   help="the daemon's check interval in seconds (default 20; --quick 10)")
    p.add_argument("--latency-rounds", type=int, default=None,
                   help="rounds of changes the latency probe times (default 2; --quick 1)")
    p.add_argument("--rescore", type=Path, default=None, metavar="JSON",
                   help="recompute ratios, targets and summary of a results file, and exit")
    p.add_argument("--workdir", type=Path, default=None,
                   help="keep the databases and logs here (default: a temp dir)")
    return p.parse_args(argv)


def rescore(path: Path) -> int:
    """Ratios, targets and summary again from a results file's figures (same file)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    results = {int(n): size for n, size in doc["sizes"].items()}
    for size in results.values():
        size["ratios"] = report.ratios(size)
    doc["targets"] = report.targets(results)
    doc["summary"] = report.summary(results, doc["targets"])
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    _print(results, doc["targets"], doc["summary"])
    return 0


def _print(results: dict[int, dict[str, Any]], tgs: dict[str, dict[str, Any]],
           summary: str) -> None:
    for key, t in tgs.items():
        mark = {True: "met", False: "MISSED", None: "n/a"}[t["met"]]
        print(f"target {key}: {mark}: {t['target']} — {t['detail']}")
    print(summary)


def precompile() -> None:
    """Byte-compile the project once, as an installed deployment is: otherwise every
    measured ``reassess check`` would compile the modules whose ``.pyc`` is missing or
    stale (an editable install writes none) and count that as its start-up."""
    import compileall

    for package in ("config", "monitor", "sources", "storage", "triggers", "bench"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.rescore:
        return rescore(args.rescore)
    sizes = args.sizes or ([200] if args.quick else [1000, 5000])
    opts = Options(concurrency=args.concurrency, urlwatch=not args.no_urlwatch,
                   daemon=not args.no_daemon,
                   latency_interval=args.latency_interval or (10.0 if args.quick else 20.0),
                   latency_rounds=args.latency_rounds or (1 if args.quick else 2))

    def log(msg: str) -> None:
        print(f"  … {msg}", file=sys.stderr, flush=True)

    started = time.time()
    precompile()
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="reassess-bench-") as tmp:
        root = args.workdir or Path(tmp)
        for n in sizes:
            size = run_size(n, opts, root / f"n{n}", log)
            size["ratios"] = report.ratios(size)
            results[n] = size
            for line in report.lines(size):
                print(line, flush=True)
    tgs = report.targets(results)
    line = report.summary(results, tgs)
    _print(results, tgs, line)
    doc = {"schema": 1, "date": datetime.now(UTC).isoformat(timespec="seconds"),
           "machine": machine(), "options": asdict(opts), "duration_s": round(
               time.time() - started, 1), "sizes": {str(n): v for n, v in results.items()},
           "targets": tgs, "summary": line}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
