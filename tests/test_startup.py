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
