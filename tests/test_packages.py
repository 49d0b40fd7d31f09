"""Each top-level package is this project's, not a same-named one from elsewhere.

(What the pure stages may import is ``tests/test_purity.py``'s.)
"""

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
