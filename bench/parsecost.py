"""CPU per parse of the simulated vendor site's documents: ``python -m bench.parsecost``.

The parse worker's cost offline: ``sources.parse`` of each document (the kind's parse,
its serialisation and hash), for the first ``--vendors`` generated vendors, as CPU time
(``time.process_time``) per parse, ``--repeat`` times; prints each run and the median.

    python -m bench.parsecost [--vendors 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

DOCS = {"subprocessors": "subprocessors", "changelog.atom": "changelog",
        "status/history.atom": "incidents"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.parsecost", description=__doc__)
    p.add_argument("--vendors", type=int, default=60)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--passes", type=int, default=3, help="parses of each body per run")
    args = p.parse_args(argv)
    from monitor.demo.vendorsite.server import VendorSite
    from sources import get_kind, parse

    site = VendorSite.generated(334)
    for doc, kind in DOCS.items():
        km = get_kind(kind)
        settings = km.Settings()
        bodies = [site.document(v, doc) for v in site.vendors[:args.vendors]]
        for body in bodies[:3]:  # warm: imports, caches of compiled patterns
            parse(km, settings, body)
        runs = []
        for _ in range(args.repeat):
            started = time.process_time()
            for _ in range(args.passes):
                for body in bodies:
                    parse(km, settings, body)
            runs.append((time.process_time() - started) / (len(bodies) * args.passes) * 1000)
        print(json.dumps({"kind": kind, "doc": doc, "ms_per_parse": [round(r, 2) for r in runs],
                          "median": round(statistics.median(runs), 2),
                          "bytes": round(statistics.mean(map(len, bodies)))}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
