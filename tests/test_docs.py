"""Docs that are generated from the code are up to date."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_sources_doc_is_current() -> None:
    spec = importlib.util.spec_from_file_location("gen", ROOT / "tools/gen_sources_doc.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    current = (ROOT / "docs/sources.md").read_text(encoding="utf-8")
    assert current == gen.render(), "docs/sources.md is stale: run tools/gen_sources_doc.py"
