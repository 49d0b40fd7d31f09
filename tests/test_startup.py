"""Start-up shortcuts of ``reassess check`` keep their meaning: a database already at the
migrations' head is opened without alembic, anything else is migrated as before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from storage.db import at_head, head_revisions, make_engine, migrate


def test_head_is_read_from_the_migration_files() -> None:
    heads = head_revisions()
    assert len(heads) == 1


def test_at_head_only_when_the_stored_version_is_the_head(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/r.db")
    assert not at_head(engine)  # no alembic_version table yet
    migrate(engine)
    assert at_head(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    assert not at_head(engine)
    engine.dispose()


def test_a_current_database_opens_without_importing_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/r.db"
    code = ("import sys; from storage.db import open_database; open_database(%r); "
            "print('alembic' in sys.modules)")
    first = subprocess.run([sys.executable, "-c", code % url], capture_output=True, text=True,
                           check=True, cwd=Path(__file__).parent.parent)
    assert first.stdout.strip() == "True"  # a new database is migrated by alembic
    again = subprocess.run([sys.executable, "-c", code % url], capture_output=True, text=True,
                           check=True, cwd=Path(__file__).parent.parent)
    assert again.stdout.strip() == "False"


STEADY = """\
import gc, sys
from monitor.cli import main
from config import load_config
from monitor.cli.common import get_engine
from monitor.check.runner import run_check
from monitor.heap import GC_YOUNG
cfg = load_config(sys.argv[1])  # a library caller: not the CLI's get_config (it freezes)
before = gc.get_freeze_count(), gc.get_threshold()
run_check(cfg, get_engine(cfg), ["acme-dpa"], notify=False)
print("library", (gc.get_freeze_count(), gc.get_threshold()) == before)
sys.argv = ["reassess", "check", "--config", sys.argv[1], "--no-notify"]
try:
    main()
except SystemExit as exc:
    print("cli", exc.code, gc.get_freeze_count() > before[0], gc.get_threshold()[0] >= GC_YOUNG)
"""


def test_a_check_freezes_what_start_up_built(tmp_path: Path) -> None:
    """``reassess check`` takes its config, watches and engine out of the collector's
    generations once start-up is done (``monitor.heap.steady_heap``); a library caller of
    ``run_check`` (a test, an embedding service) keeps its collector as it was."""
    config = tmp_path / "reassess.yaml"
    config.write_text(f"database: sqlite:///{tmp_path}/r.db\n"
                      "vendors:\n  - id: acme\n    name: Acme AI\n    sources:\n"
                      "      - {id: acme-dpa, kind: page, url: 'http://127.0.0.1:9/dpa'}\n",
                      encoding="utf-8")
    res = subprocess.run([sys.executable, "-c", STEADY, str(config)], capture_output=True,
                         text=True, check=False, cwd=Path(__file__).parent.parent, timeout=120)
    lines = [line for line in res.stdout.splitlines() if line.startswith(("library", "cli"))]
    assert lines == ["library True", "cli 1 True True"], res.stdout + res.stderr


def test_table_classes_build_their_validators_on_first_use() -> None:
    """The tables' pydantic validators are not built at import (the check path never
    validates a table row); the first validation or dump builds them as before."""
    from storage import models

    tables = [c for c in vars(models).values()
              if isinstance(c, type) and getattr(c, "__table__", None) is not None]
    assert len(tables) >= 9
    code = ("from storage import models\n"
            "print(sorted(n for n, c in vars(models).items() if isinstance(c, type)\n"
            "      and getattr(c, '__table__', None) is not None and c.__pydantic_complete__))")
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, cwd=Path(__file__).parent.parent)
    assert fresh.stdout.strip() == "[]"
    vendor = models.Vendor.model_validate({"id": "acme", "name": "Acme AI"})
    assert vendor.model_dump()["name"] == "Acme AI"
