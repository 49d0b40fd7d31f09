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


def test_a_sources_checks_are_found_by_a_small_index(engine: Engine) -> None:
    """Nothing in reassess reads check runs by source, but an operator asks "what were
    this source's last checks": ``ix_checkrun_source`` answers it, newest first, and on
    PostgreSQL costs ~11 B a row (a deduplicated btree on ``source_id`` alone) where
    ``(source_id, started_at)`` took ~54 B: an unchanged check's row stays under 200 B."""
    import random
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from storage.models import CheckRun

    migrate(engine)
    rng = random.Random(15)
    start = datetime(2026, 12, 1, tzinfo=UTC)
    rows = []
    for round_ in range(30):  # 300 sources checked in a new order each round
        order = [f"v{i // 3:04d}-{('subprocessors', 'changelog', 'status')[i % 3]}"
                 for i in range(300)]
        rng.shuffle(order)
        rows += [{"source_id": s, "started_at": start + timedelta(seconds=round_ * 900 + k),
                  "outcome": "not_modified", "duration_ms": 3, "http_status": 304,
                  "changes": 0, "triggers": 0, "worker": "bench"} for k, s in enumerate(order)]
    with engine.begin() as conn:
        conn.execute(insert(CheckRun.__table__), rows)  # type: ignore[attr-defined]
    query = ("SELECT id, started_at, outcome FROM checkrun WHERE source_id = 'v0042-status' "
             "ORDER BY id DESC LIMIT 20")
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE checkrun")
            per_row = conn.exec_driver_sql(
                "SELECT pg_relation_size('ix_checkrun_source')::float / count(*) FROM checkrun"
            ).scalar_one()
            assert per_row < 20, f"{per_row:.1f} B a row in ix_checkrun_source"
            plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + query))
        else:
            plan = "\n".join(r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + query))
            assert "TEMP B-TREE" not in plan, plan  # the index's rowids give the order
        found = conn.exec_driver_sql(query).all()
    assert "ix_checkrun_source" in plan, plan
    assert len(found) == 20 and [r[0] for r in found] == sorted((r[0] for r in found),
                                                                 reverse=True)
