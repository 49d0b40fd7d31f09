"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import storage.models  # noqa: F401
from storage.db import migrate
from storage.search import include_name


def test_migrations_match_models(engine: Engine) -> None:
    migrate(engine)  # a second run is a no-op
    with engine.connect() as conn:
        # the text search's FTS table / trigram indexes are no model's (storage/search.py)
        ctx = MigrationContext.configure(conn, opts={"compare_type": False,
                                                     "include_name": include_name})
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == [], f"models and migrations disagree; run tools/regen_migration.py: {diff}"


def test_check_runs_by_start_are_a_brin_index_on_postgresql(engine: Engine) -> None:
    """Only retention reads check runs by ``started_at`` alone (a range): on PostgreSQL a
    BRIN index, so an unchanged check's row costs no btree entry for it (docs/performance.md)."""
    migrate(engine)
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        method = conn.exec_driver_sql(
            "SELECT am.amname FROM pg_class c JOIN pg_am am ON c.relam = am.oid "
            "WHERE c.relname = 'ix_checkrun_started_at'").scalar()
    assert method == "brin"


def test_downgrade_removes_everything_and_upgrade_builds_it_again(engine: Engine) -> None:
    """``alembic downgrade base`` drops the SQL triggers and functions the counts, the
    activity and the search keep (``storage.db.run_ddl``) with the tables; upgrading again
    builds the same schema."""
    from alembic import command
    from sqlalchemy import inspect

    from storage.db import alembic_config

    migrate(engine)
    cfg = alembic_config(engine)
    command.downgrade(cfg, "base")
    with engine.connect() as conn:
        assert inspect(conn).get_table_names() == ["alembic_version"]
        if engine.dialect.name == "sqlite":
            left = conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'").all()
        else:
            left = conn.exec_driver_sql(
                "SELECT proname FROM pg_proc WHERE proname ~ '^(trigger_count|vendor_activity)'"
            ).all()
    assert left == []
    command.upgrade(cfg, "head")
    test_migrations_match_models(engine)
