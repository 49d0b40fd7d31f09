"""What the query-plan tests share: the statements an engine runs, and their plans."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


def record(engine: Engine, *, selects_only: bool = False) -> list[tuple[str, Any]]:
    """Every statement ``engine`` runs from now on, with its parameters (an
    ``executemany``'s first row); ``selects_only``: single SELECTs alone."""
    seen: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
             executemany: bool) -> None:
        if not selects_only:
            seen.append((statement, parameters[0] if executemany else parameters))
        elif statement.lstrip().upper().startswith("SELECT") and not executemany:
            seen.append((statement, parameters))
    return seen


def explain(engine: Engine, statement: str, parameters: Any) -> list[str]:
    """The plan's lines: PostgreSQL's ``EXPLAIN`` with sequential scans disabled (as a
    large table has them), SQLite's ``EXPLAIN QUERY PLAN`` details."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "postgresql":
            cur.execute("SET enable_seqscan = off")
            cur.execute("EXPLAIN " + statement, parameters)
            return [row[0] for row in cur.fetchall()]
        cur.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        return [row[3] for row in cur.fetchall()]
    finally:
        raw.rollback()
        raw.close()
