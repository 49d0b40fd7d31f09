"""``python -m bench.fuzz``: the long fuzz run of every registered kind, fixed seed.

``tests/test_fuzz.py`` with ``REASSESS_FUZZ_EXAMPLES`` examples per kind (default here
2,000; the tests run 60) and hypothesis's seed fixed, so a run is repeatable. Prints
the examples run, the time per kind and the slowest parse seen.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from .procs import ROOT


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__)
    p.add_argument("--examples", type=int, default=2000, help="examples per kind")
    p.add_argument("--seed", type=int, default=16)
    args = p.parse_args(argv)
    env = {**os.environ, "REASSESS_FUZZ_EXAMPLES": str(args.examples),
           "REASSESS_FUZZ_REPORT": "1"}
    started = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "tests/test_fuzz.py", f"--hypothesis-seed={args.seed}",
                          "-k", "any_body", "-s"],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    figures = [json.loads(line[line.index("{\"kind\""):]) for line in res.stdout.splitlines()
               if "{\"kind\"" in line]
    for figure in figures:
        print(json.dumps(figure), flush=True)
    tail = res.stdout.strip().splitlines()[-1:] or [""]
    print(json.dumps({"examples_per_kind": args.examples, "seed": args.seed,
                      "seconds": round(time.monotonic() - started, 1),
                      "result": tail[0], "ok": res.returncode == 0}), flush=True)
    if res.returncode != 0:
        sys.stderr.write(res.stdout[-5000:] + res.stderr[-2000:])
    return res.returncode


if __name__ == "__main__":
    raise SystemExit(main())
