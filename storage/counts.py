"""``trigger_count``: how many triggers there are of each (type, severity, status), kept
by the database.

The dashboard and ``/api/summary`` show the open triggers by type and severity: counted
from the triggers, that is every open trigger (~163,000 at a million: 35 ms from an
index-only scan, up to 200 ms when PostgreSQL plans parallel workers on a cold cache).
The history counts every trigger for its page count (a million index entries). This
table answers both from a few dozen rows: a key's count is the sum of ``n`` over its
rows.

SQL triggers on the trigger table keep it, whoever writes (the check path, the seed's
``COPY``, acknowledgement, resolution, a bulk action, a test); a change of a trigger's
type, severity or status moves one from its old key to its new one, a delete takes one
off. Every count is the triggers' own in every transaction: the rows are written in the
transaction that changes the triggers.

* **PostgreSQL**: statement-level triggers with transition tables. Each statement that
  inserts, deletes or updates triggers *appends* one row per key it changed (its
  ``±n``). No two writers ever update the same row, so two daemons firing triggers of
  the same key never wait for each other on a counter until commit, nor deadlock taking
  two keys in opposite orders. ``compact`` (run by retention, hourly, and after each
  ``reassess check``) folds the rows: one statement deletes the rows it sees and
  inserts their sums, so a row committed meanwhile is neither lost nor counted twice.
  A ``TRUNCATE`` of the triggers empties it.
* **SQLite**: one writer at a time (``BEGIN IMMEDIATE``), so no contention to avoid:
  each key has one row, updated in place by row-level triggers (the table stays as
  small as the keys).
"""

from __future__ import annotations

import zlib
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col

from .db import run_ddl
from .models import TriggerCount

TABLE = "trigger_count"
SQLITE_TRIGGERS = ("trigger_count_insert", "trigger_count_delete", "trigger_count_update")
PG_TRIGGERS = ("trigger_count_insert", "trigger_count_delete", "trigger_count_update",
               "trigger_count_truncate")
KEY = "type, severity, status"


def _sqlite_ddl() -> list[str]:
    def bump(row: str, sign: str) -> str:
        same = (f"type = {row}.type AND severity = {row}.severity "
                f"AND status = {row}.status")
        return (f"INSERT INTO {TABLE} ({KEY}, n) SELECT {row}.type, {row}.severity, "
                f"{row}.status, 0 WHERE NOT EXISTS (SELECT 1 FROM {TABLE} WHERE {same}); "
                f"UPDATE {TABLE} SET n = n {sign} 1 WHERE id = "
                f"(SELECT min(id) FROM {TABLE} WHERE {same});")

    changed = ("old.type IS NOT new.type OR old.severity IS NOT new.severity "
               "OR old.status IS NOT new.status")
    return [
        f'CREATE TRIGGER {SQLITE_TRIGGERS[0]} AFTER INSERT ON "trigger" '
        f"BEGIN {bump('new', '+')} END",
        f'CREATE TRIGGER {SQLITE_TRIGGERS[1]} AFTER DELETE ON "trigger" '
        f"BEGIN {bump('old', '-')} END",
        f'CREATE TRIGGER {SQLITE_TRIGGERS[2]} AFTER UPDATE OF type, severity, status '
        f'ON "trigger" WHEN {changed} BEGIN {bump("old", "-")} {bump("new", "+")} END',
        _fill(),
    ]


def _pg_ddl() -> list[str]:
    # One function per event: each names only the transition tables its trigger has.
    bodies = {
        "insert": f"INSERT INTO {TABLE} ({KEY}, n) SELECT {KEY}, count(*) FROM new_rows "
                  f"GROUP BY {KEY};",
        "delete": f"INSERT INTO {TABLE} ({KEY}, n) SELECT {KEY}, -count(*) FROM old_rows "
                  f"GROUP BY {KEY};",
        # a change of another column moves nothing: its +1 and -1 cancel
        "update": f"INSERT INTO {TABLE} ({KEY}, n) SELECT {KEY}, sum(d) FROM ("
                  f"SELECT {KEY}, 1 AS d FROM new_rows UNION ALL "
                  f"SELECT {KEY}, -1 AS d FROM old_rows) AS moved "
                  f"GROUP BY {KEY} HAVING sum(d) <> 0;",
        "truncate": f"DELETE FROM {TABLE};",
    }
    referencing = {"insert": "REFERENCING NEW TABLE AS new_rows",
                   "delete": "REFERENCING OLD TABLE AS old_rows",
                   "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
                   "truncate": ""}
    ddl = []
    for event, body in bodies.items():
        name = f"{TABLE}_{event}"
        ddl.append(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                   f"BEGIN\n    {body}\n    RETURN NULL;\nEND $$")
        ddl.append(f'CREATE TRIGGER {name} AFTER {event.upper()} ON "trigger" '
                   f"{referencing[event]} FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
    ddl.append(_fill())
    return ddl


def _fill() -> str:
    """The counts of the triggers already stored."""
    return (f'INSERT INTO {TABLE} ({KEY}, n) SELECT {KEY}, count(*) FROM "trigger" '
            f"GROUP BY {KEY}")


def create(conn: Connection) -> None:
    """Create the SQL triggers that keep ``trigger_count`` (the table is a model's) and
    fill it from the triggers already stored."""
    run_ddl(conn, {"sqlite": _sqlite_ddl, "postgresql": _pg_ddl})


def drop(conn: Connection) -> None:
    run_ddl(conn, {
        "sqlite": lambda: [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS],
        "postgresql": lambda: [statement for name in PG_TRIGGERS for statement in (
            f'DROP TRIGGER IF EXISTS {name} ON "trigger"', f"DROP FUNCTION IF EXISTS {name}()")],
    })


# --- reading ------------------------------------------------------------------------------


def open_counts(session: Session) -> dict[tuple[str, str], int]:
    """(type, severity) → number of open triggers (keys with none left out)."""
    total = func.sum(col(TriggerCount.n))
    rows = session.execute(select(col(TriggerCount.type), col(TriggerCount.severity), total)
                           .where(col(TriggerCount.status) == "open")
                           .group_by(col(TriggerCount.type), col(TriggerCount.severity))
                           .having(total != 0))
    return {(str(t), str(s)): int(n) for t, s, n in rows}


def count(session: Session, *, type: str | None = None, severity: str | None = None,
          status: str | None = None) -> int:
    """How many triggers there are of this type, severity and status (``None``: any)."""
    stmt: Any = select(func.coalesce(func.sum(col(TriggerCount.n)), 0))
    for column, value in ((TriggerCount.type, type), (TriggerCount.severity, severity),
                          (TriggerCount.status, status)):
        if value is not None:
            stmt = stmt.where(col(column) == value)
    return int(session.execute(stmt).scalar_one())


# --- compaction ---------------------------------------------------------------------------


def compact(engine: Engine) -> int | None:
    """Fold each key's rows into one (keys whose sum is 0 go); the rows there are after,
    or ``None`` when another process is compacting (PostgreSQL: it is skipped, not
    waited for). Its own short transaction; the counts read the same before and after."""
    from .db import session_scope

    with session_scope(engine) as session:
        if engine.dialect.name == "postgresql":
            key = zlib.crc32(f"reassess:{TABLE}".encode()) - 2**31
            if not session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"),
                                   {"k": key}).scalar_one():
                return None
            # One statement: it deletes the rows its snapshot sees and inserts their
            # sums; a row another transaction commits meanwhile is not deleted and not
            # summed. Writers only ever insert, so nothing here waits for them.
            session.execute(text(
                f"WITH gone AS (DELETE FROM {TABLE} RETURNING {KEY}, n) "
                f"INSERT INTO {TABLE} ({KEY}, n) SELECT {KEY}, sum(n) FROM gone "
                f"GROUP BY {KEY} HAVING sum(n) <> 0"))
        else:  # SQLite: this transaction is the only writer
            last = session.execute(select(func.max(col(TriggerCount.id)))).scalar_one()
            if last is not None:
                session.execute(text(
                    f"INSERT INTO {TABLE} ({KEY}, n) SELECT {KEY}, sum(n) FROM {TABLE} "
                    f"WHERE id <= :last GROUP BY {KEY} HAVING sum(n) <> 0"), {"last": last})
                session.execute(text(f"DELETE FROM {TABLE} WHERE id <= :last"),
                                {"last": last})
        return int(session.execute(select(func.count()).select_from(TriggerCount))
                   .scalar_one())
