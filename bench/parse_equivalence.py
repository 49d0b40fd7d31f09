"""Every document's parse, hashed: ``python -m bench.parse_equivalence``.

A check that a parser optimisation changes no parsed result. It parses every body it
can find and writes ``{name: Document.hash or "!" + exception type}`` to a JSON file;
run it on the old code and on the new one and compare (``--compare OLD.json``).

The bodies:

* every file under the shared corpus (``real/``, ``cases/``, ``terms/``) and under
  ``tests/cases/``, each parsed as every registered kind (a body read as a kind it is
  not must fail or parse the same way too);
* the simulated vendor site's documents for ``--vendors`` vendors, as served and after
  several rounds of random mutations, each as its own kind. Served HTML carries fresh
  random noise, so these bodies are rendered once into ``--snapshot`` and read from
  there on later runs (the same bytes for the old and the new code);
* seeded damage of the corpus files (truncated, lines dropped, bytes flipped), as every
  kind: the malformed paths must agree too;
* a few forced ``format`` settings per kind on the corpus files.

    python -m bench.parse_equivalence --out base.json
    python -m bench.parse_equivalence --out new.json --compare base.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path("/work/shared/corpus")
KINDS = ("page", "changelog", "incidents", "model_card", "subprocessors", "models", "mailbox")
FORMATS = ("html", "rss", "atom", "json", "csv", "markdown", "text")
SKIP_SUFFIXES = (".py", ".pyc")


def corpus_files(corpus: Path) -> list[Path]:
    roots = [corpus / "real", corpus / "cases", corpus / "terms", ROOT / "tests" / "cases"]
    out: list[Path] = []
    for root in roots:
        if root.is_dir():
            out += sorted(p for p in root.rglob("*")
                          if p.is_file() and not p.name.endswith(SKIP_SUFFIXES))
    return out


def snapshot(directory: Path, vendors: int, rounds: int, mutations: int) -> None:
    """Render the simulated site's documents once into ``directory`` (with a manifest)."""
    sys.path.insert(0, str(ROOT))
    from monitor.demo.vendorsite.common import DOCS
    from monitor.demo.vendorsite.server import VendorSite

    site = VendorSite.generated(vendors)
    manifest: dict[str, str] = {}
    for r in range(rounds):
        for vendor in site.vendors:
            for doc, spec in DOCS.items():
                name = f"r{r}/{vendor}/{doc.replace('/', '_')}"
                path = directory / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(site.document(vendor, doc))
                manifest[name] = spec.kind
        site.mutate_random(mutations, seed=1000 + r)
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=0, sort_keys=True))


def label(path: Path, corpus: Path) -> str:
    """``path`` relative to the repository (``repo/…``) or the corpus (``corpus/…``)."""
    for base, name in ((ROOT, "repo"), (corpus, "corpus")):
        try:
            return f"{name}/{path.relative_to(base)}"
        except ValueError:
            continue
    return str(path)


def damaged(body: bytes, seed: int) -> Iterator[tuple[str, bytes]]:
    rng = random.Random(seed)
    if len(body) > 8:
        yield "trunc", body[: rng.randrange(1, len(body))]
        lines = body.split(b"\n")
        if len(lines) > 3:
            keep = [ln for ln in lines if rng.random() > 0.1]
            yield "droplines", b"\n".join(keep)
        flipped = bytearray(body)
        for _ in range(max(1, len(body) // 500)):
            i = rng.randrange(len(flipped))
            flipped[i] = rng.choice(b"<>&\"'/ \n\t;:#*|-=x\xc3\xa9\x00")
        yield "flip", bytes(flipped)


def run(args: argparse.Namespace) -> dict[str, str]:
    sys.path.insert(0, str(ROOT))
    from sources import get_kind, parse

    kinds = {k: get_kind(k) for k in KINDS}
    defaults = {k: m.Settings() for k, m in kinds.items()}
    results: dict[str, str] = {}

    def one(name: str, kind: str, body: bytes, settings: object | None = None) -> None:
        km = kinds[kind]
        try:
            doc = parse(km, settings or defaults[kind], body)  # type: ignore[arg-type]
            results[name] = doc.hash
        except Exception as exc:
            results[name] = "!" + type(exc).__name__

    k, n = (int(x) for x in args.shard.split("/"))
    files = corpus_files(Path(args.corpus))[k::n]
    for path in files:
        body = path.read_bytes()
        # named (and damaged) by its place in the corpus or the repository, not by where
        # the checkout is: runs of the old and the new code from two trees then compare
        where = label(path, Path(args.corpus))
        for kind in KINDS:
            one(f"file:{where}:{kind}", kind, body)
            for fmt in FORMATS if args.formats else ():
                try:
                    settings = kinds[kind].Settings(format=fmt)  # type: ignore[call-arg,arg-type]
                except Exception:
                    continue
                one(f"file:{where}:{kind}:format={fmt}", kind, body, settings)
        if args.damage:
            for i in range(args.damage):
                for how, bad in damaged(body, zlib.crc32(where.encode()) * 8 + i):
                    for kind in KINDS:
                        one(f"damaged:{where}:{how}{i}:{kind}", kind, bad)
    snap = Path(args.snapshot)
    # a comparing run reads the bodies its baseline rendered (it may still be rendering)
    for _ in range(720 if args.compare else 0):
        if (snap / "manifest.json").exists():
            break
        time.sleep(5)
    if not (snap / "manifest.json").exists():
        snapshot(snap, args.vendors, args.rounds, args.mutations)
    manifest = json.loads((snap / "manifest.json").read_text())
    for name, kind in list(manifest.items())[k::n]:
        body = (snap / name).read_bytes()
        one(f"site:{name}:{kind}", kind, body)
        if name.startswith("r0/") and name.split("/")[1] <= "v0010":
            for other in KINDS:
                if other != kind:
                    one(f"site:{name}:{other}", other, body)
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.parse_equivalence", description=__doc__)
    p.add_argument("--out", required=True)
    p.add_argument("--compare", help="an earlier --out file: every result must be equal")
    p.add_argument("--corpus", default=str(CORPUS))
    p.add_argument("--snapshot", default="/work/parse-eq/site")
    p.add_argument("--vendors", type=int, default=100)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--mutations", type=int, default=300)
    p.add_argument("--damage", type=int, default=2, help="damaged copies per corpus file")
    p.add_argument("--no-formats", dest="formats", action="store_false")
    p.add_argument("--shard", default="0/1", help="K/N: every Nth body from the Kth (a "
                   "comparison merges the shards' files: --compare OLD.json NEW1.json …)")
    p.add_argument("--merge", nargs="*", default=[], help="with --compare: compare these "
                   "earlier --out files (the shards of one run) instead of running")
    args = p.parse_args(argv)
    started = time.monotonic()
    if args.merge:
        results = {}
        for part in args.merge:
            results.update(json.loads(Path(part).read_text()))
    else:
        results = run(args)
    Path(args.out).write_text(json.dumps(results, indent=0, sort_keys=True))
    errors = sum(v.startswith("!") for v in results.values())
    print(f"{len(results)} parses ({errors} raised) in {time.monotonic() - started:.0f} s",
          flush=True)
    if args.compare:
        old = json.loads(Path(args.compare).read_text())
        differ = sorted(k for k in old.keys() | results.keys() if old.get(k) != results.get(k))
        for key in differ[:40]:
            print(f"DIFFERS {key}: {old.get(key)} -> {results.get(key)}")
        print(f"compared {len(old.keys() | results.keys())}: {len(differ)} differ")
        return 1 if differ else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
