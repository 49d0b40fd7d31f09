"""``vendor_activity``: the UTC day of each vendor's newest trigger, kept by the database.

The dashboard's chart lists the vendors with triggers in its 90 days: read from the
triggers, that is every trigger of the window (~250,000 at a million) to find ~33,000
vendors. This table holds one row per vendor that has triggers (``last_day``: the day of
its newest one), so the busy vendors are one index range of it.

SQL triggers on the trigger table keep it, whoever writes (the check path, the seed's
``COPY``, a test):

* insert: ``last_day`` moves forward to the new trigger's day. Only the first trigger of a
  vendor's day writes the row (the later ones find it current and write nothing), so the
  check path seldom touches it and two writers seldom wait for each other on it;
* delete, or a change of a trigger's vendor or time: the old vendor's ``last_day`` is
  recomputed from its triggers (``ix_trigger_vendor_created``) when the trigger was on it,
  then the new values count as an insert.

A trigger's status (acknowledge, suppress) does not change it. Retention never deletes
triggers; a delete would still keep the row exact.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from .db import run_ddl

TABLE = "vendor_activity"
SQLITE_TRIGGERS = ("vendor_activity_insert", "vendor_activity_delete", "vendor_activity_update")
PG_FUNCTION = "vendor_activity_keep"
PG_TRIGGER = "vendor_activity_keep"


def _sqlite_ddl() -> list[str]:
    def seen(row: str) -> str:
        return (f"INSERT OR IGNORE INTO {TABLE} (vendor_id, last_day) VALUES "
                f"({row}.vendor_id, date({row}.created_at)); "
                f"UPDATE {TABLE} SET last_day = date({row}.created_at) "
                f"WHERE vendor_id = {row}.vendor_id AND (last_day IS NULL OR "
                f"last_day < date({row}.created_at));")

    def gone(row: str) -> str:
        return (f"UPDATE {TABLE} SET last_day = (SELECT date(max(created_at)) FROM \"trigger\" "
                f"WHERE vendor_id = {row}.vendor_id) WHERE vendor_id = {row}.vendor_id "
                f"AND last_day <= date({row}.created_at);")

    return [
        f'CREATE TRIGGER {SQLITE_TRIGGERS[0]} AFTER INSERT ON "trigger" '
        f"WHEN NOT EXISTS (SELECT 1 FROM {TABLE} WHERE vendor_id = new.vendor_id "
        f"AND last_day >= date(new.created_at)) BEGIN {seen('new')} END",
        f'CREATE TRIGGER {SQLITE_TRIGGERS[1]} AFTER DELETE ON "trigger" BEGIN {gone("old")} END',
        f'CREATE TRIGGER {SQLITE_TRIGGERS[2]} AFTER UPDATE OF vendor_id, created_at ON "trigger" '
        f"BEGIN {gone('old')} {seen('new')} END",
        f'INSERT INTO {TABLE} (vendor_id, last_day) SELECT vendor_id, date(max(created_at)) '
        f'FROM "trigger" GROUP BY vendor_id',
    ]


def _pg_ddl() -> list[str]:
    day = "(({row}.created_at AT TIME ZONE 'UTC')::date)"
    new_day, old_day = day.format(row="NEW"), day.format(row="OLD")
    return [
        f"""CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE {TABLE} SET last_day = (
            SELECT (max(created_at) AT TIME ZONE 'UTC')::date FROM "trigger"
            WHERE vendor_id = OLD.vendor_id)
        WHERE vendor_id = OLD.vendor_id AND last_day <= {old_day};
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NOT EXISTS (
            SELECT 1 FROM {TABLE} WHERE vendor_id = NEW.vendor_id
            AND last_day >= {new_day}) THEN
        INSERT INTO {TABLE} (vendor_id, last_day) VALUES (NEW.vendor_id, {new_day})
        ON CONFLICT (vendor_id) DO UPDATE SET last_day = EXCLUDED.last_day
        WHERE {TABLE}.last_day IS NULL OR {TABLE}.last_day < EXCLUDED.last_day;
    END IF;
    RETURN NULL;
END $$""",
        f'CREATE TRIGGER {PG_TRIGGER} AFTER INSERT OR DELETE OR UPDATE OF vendor_id, created_at '
        f'ON "trigger" FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()',
        f"INSERT INTO {TABLE} (vendor_id, last_day) SELECT vendor_id, "
        f"(max(created_at) AT TIME ZONE 'UTC')::date FROM \"trigger\" GROUP BY vendor_id "
        f"ON CONFLICT (vendor_id) DO NOTHING",
    ]


def create(conn: Connection) -> None:
    """Create the SQL triggers that keep ``vendor_activity`` (the table is a model's) and
    fill it from the triggers already stored."""
    run_ddl(conn, {"sqlite": _sqlite_ddl, "postgresql": _pg_ddl})


def drop(conn: Connection) -> None:
    run_ddl(conn, {
        "sqlite": lambda: [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS],
        "postgresql": lambda: [f'DROP TRIGGER IF EXISTS {PG_TRIGGER} ON "trigger"',
                               f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()"],
    })
