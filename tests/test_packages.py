"""Each top-level package is this project's, not a same-named one from elsewhere."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["monitor", "sources", "triggers", "storage", "config"])
def test_package_is_ours(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().parent == ROOT / name


def test_pure_stages_import_no_io() -> None:
    """parse, diff and rules never import the network, database or scheduler libraries."""
    import subprocess
    import sys

    code = ("import sys, sources, triggers, triggers.offline\n"
            "import sources.page\n"
            "bad = [m for m in ('httpx','sqlmodel','sqlalchemy','apprise','apscheduler',"
            "'monitor','storage') if m in sys.modules]\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == ""
