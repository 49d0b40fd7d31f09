"""The history's text search index: words anywhere in a trigger's title or entities.

The search (``TriggerFilter.text``, ``q=`` on ``/triggers``) matches a trigger when every
word is a substring of ``lower(title)`` or of ``lower(entities as text)``, as ``LIKE
'%word%'`` over those two expressions finds it. Without an index that is a scan of
every trigger (~0.5 s at a million); these objects serve it from an index:

* **SQLite**: ``trigger_search``, an FTS5 table with the ``trigram`` tokenizer
  (case-sensitive) over exactly those two lowered expressions, kept by SQL triggers on
  the trigger table's inserts, deletes and title/entities updates. It has no content of
  its own (``content=''``): only the rowids it answers are read. A trigram phrase
  matches a substring of three characters or more exactly as ``LIKE`` over the lowered
  text does (``storage.queries`` keeps ``LIKE`` for shorter words).
* **PostgreSQL**: ``pg_trgm`` GIN indexes on the two lowered expressions, which serve
  the ``LIKE`` itself (its matches are rechecked, so the results cannot differ). When
  the extension cannot be created (not installed, no right to), the migration leaves
  them out: the search still works, by a scan.

These are not SQLAlchemy models (a virtual table, expression indexes with an operator
class); ``include_name`` keeps them out of autogenerate's comparison.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from .db import run_ddl

log = logging.getLogger(__name__)

FTS_TABLE = "trigger_search"
TRIGGERS = ("trigger_search_insert", "trigger_search_delete", "trigger_search_update")
PG_INDEXES = ("ix_trigger_title_trgm", "ix_trigger_entities_trgm")
# FTS5 answers a phrase of this many characters or more from its trigrams; a shorter
# word has none, and is matched by LIKE alone.
MIN_WORD = 3

# The lowered texts the index holds, as the search's LIKE sees them.
_TITLE = "lower({row}.title)"
_ENTITIES = "lower(CAST({row}.entities AS TEXT))"


def _sqlite_ddl() -> list[str]:
    def values(row: str) -> str:
        return f"{row}.id, {_TITLE.format(row=row)}, {_ENTITIES.format(row=row)}"

    insert = f"INSERT INTO {FTS_TABLE} (rowid, title, entities) VALUES ({values('new')});"
    delete = (f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, title, entities) "
              f"VALUES ('delete', {values('old')});")
    return [
        f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(title, entities, content='', "
        "tokenize='trigram case_sensitive 1')",
        f'INSERT INTO {FTS_TABLE} (rowid, title, entities) SELECT '
        f'{values(chr(34) + "trigger" + chr(34))} FROM "trigger"',
        f'CREATE TRIGGER {TRIGGERS[0]} AFTER INSERT ON "trigger" BEGIN {insert} END',
        f'CREATE TRIGGER {TRIGGERS[1]} AFTER DELETE ON "trigger" BEGIN {delete} END',
        f'CREATE TRIGGER {TRIGGERS[2]} AFTER UPDATE OF title, entities ON "trigger" '
        f"BEGIN {delete} {insert} END",
    ]


def _pg_ddl() -> list[str]:
    # The expressions exactly as storage.queries renders them, so the planner matches them.
    return [
        f'CREATE INDEX {PG_INDEXES[0]} ON "trigger" USING gin (lower(title) gin_trgm_ops)',
        f'CREATE INDEX {PG_INDEXES[1]} ON "trigger" USING gin '
        "(lower(CAST(entities AS VARCHAR)) gin_trgm_ops)",
    ]


def create(conn: Connection) -> bool:
    """Create the search index on ``conn``'s database (in the migration's transaction).
    False when this database cannot have one (PostgreSQL without ``pg_trgm``)."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        run_ddl(conn, {"sqlite": _sqlite_ddl})
        return True
    if dialect != "postgresql":
        return False
    try:
        with conn.begin_nested():  # a savepoint: a failure leaves the migration going
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as exc:
        first = str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc) else ""
        log.warning("no text search index: cannot create the pg_trgm extension (%s); "
                    "text search scans the triggers", first)
        return False
    run_ddl(conn, {"postgresql": _pg_ddl})
    return True


def drop(conn: Connection) -> None:
    """Remove what ``create`` made (the extension stays: other things may use it)."""
    run_ddl(conn, {
        "sqlite": lambda: [*(f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS),
                           f"DROP TABLE IF EXISTS {FTS_TABLE}"],
        "postgresql": lambda: [f"DROP INDEX IF EXISTS {name}" for name in PG_INDEXES],
    })


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's filter: the search objects (and FTS5's shadow tables) are no model's."""
    if name is None:
        return True
    if type_ == "table":
        return name != FTS_TABLE and not name.startswith(FTS_TABLE + "_")
    if type_ == "index":
        return name not in PG_INDEXES
    return True


def has_index(conn: Connection) -> bool:
    """Whether this database has the search index (PostgreSQL: the trigram indexes)."""
    if conn.dialect.name == "sqlite":
        return conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
            (FTS_TABLE,)).first() is not None
    if conn.dialect.name == "postgresql":
        return conn.exec_driver_sql(
            "SELECT 1 FROM pg_indexes WHERE indexname = %(n)s",
            {"n": PG_INDEXES[0]}).first() is not None
    return False
