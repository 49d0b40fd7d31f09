"""Write the expected parsed documents of the file cases: ``tests/cases/<kind>/<case>/``
``old.document.json`` and ``new.document.json``, what ``parse`` makes of ``old.*`` and
``new.*`` (with the case's ``settings.json``).

``tests/test_cases.py`` compares every parse with these files. Run this deliberately, after
a change to a parser, and read the diff it leaves in git: each changed line is a change to
what users' documents hold. When a kind's documents change, bump that kind's
``PARSER_VERSION`` (the daemon then re-baselines its sources instead of firing); the tool
refuses to write a changed document under an unchanged version.

    python tools/golden.py               # every case
    python tools/golden.py changelog     # the cases of one kind
    python tools/golden.py --check       # write nothing; exit 1 when a file would change
    python tools/golden.py --force       # also under an unchanged version (a wrong golden)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sources import REGISTRY  # noqa: E402

CASES = ROOT / "tests" / "cases"
SIDES = ("old", "new")


def case_folders(kinds: list[str] | None = None) -> list[Path]:
    """Every case folder (``<kind>/<case>`` holding an ``old.*`` body), sorted."""
    return sorted(p for p in CASES.glob("*/*") if p.is_dir()
                  and (not kinds or p.parent.name in kinds) and body_file(p, "old"))


def body_file(folder: Path, side: str) -> Path | None:
    found = [p for p in folder.iterdir() if p.stem == side]  # not old.document.json
    return found[0] if len(found) == 1 else None


def settings_of(folder: Path) -> dict[str, Any]:
    path = folder / "settings.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def expected(folder: Path, side: str) -> dict[str, Any]:
    """What parsing one side of a case gives: ``{"parser_version", "data"}``."""
    kind = REGISTRY[folder.parent.name]
    body = body_file(folder, side)
    assert body is not None, f"{folder}: no single {side}.* body"
    doc = kind.parse(body.read_bytes(), kind.Settings.model_validate(settings_of(folder)))
    return {"parser_version": doc.parser_version, "data": doc.data}


def render(document: dict[str, Any]) -> str:
    """Sorted keys, one value a line: a changed field shows as a changed line in git."""
    return json.dumps(document, sort_keys=True, ensure_ascii=False, indent=1) + "\n"


def golden_path(folder: Path, side: str) -> Path:
    return folder / f"{side}.document.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kinds", nargs="*", help="only the cases of these kinds")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    parser.add_argument("--force", action="store_true",
                        help="write changed documents even under an unchanged PARSER_VERSION")
    args = parser.parse_args(argv)
    stale, refused = [], []
    for folder in case_folders(args.kinds):
        for side in SIDES:
            path = golden_path(folder, side)
            new = expected(folder, side)
            old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
            if old == new:
                continue
            name = str(path.relative_to(ROOT))
            same_version = old is not None and old["parser_version"] == new["parser_version"]
            if same_version and not args.force:
                refused.append(name)
                continue
            stale.append(name)
            if not args.check:
                path.write_text(render(new), encoding="utf-8")
    for name in refused:
        print(f"refused {name}: its document changed but PARSER_VERSION did not")
    verb = "stale" if args.check else "wrote"
    for name in stale:
        print(f"{verb} {name}")
    return 1 if refused or (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
