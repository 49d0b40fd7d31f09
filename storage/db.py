"""Engines, sessions and migrations: SQLite (WAL) by default, PostgreSQL by URL.

SQLite transactions and what they wait for: readers never wait for writers (WAL gives
each read transaction its snapshot), and a transaction that writes takes the write lock
up front (``BEGIN IMMEDIATE``), so two writers never deadlock upgrading a read lock. A
session says which it is with ``session_scope(engine, write=False)`` (DEFERRED: it
only reads, and never waits) or ``write=True``; one that does not say is taken for a
writer, the safe default (a DEFERRED transaction that reads and then writes fails as
busy whenever another writer committed in between).
"""

from __future__ import annotations

import functools
import re
import sqlite3
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, create_engine

from config.errors import StorageError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT = 30.0  # seconds a SQLite writer waits for the write lock


class DatabaseURLError(StorageError):
    """The configured database URL is not one: a configuration error (exit 2), where any
    other ``StorageError`` is the database's trouble (exit 1)."""


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` as psycopg 3 URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str, **kw: Any) -> Engine:
    """An engine for ``url``; SQLite files get WAL, a busy timeout and foreign keys."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot create the database's folder {folder}: "
                                   f"{exc.strerror}") from None
        # How long a writer waits for another's write lock (``?timeout=`` seconds in the
        # URL; readers never wait): then "database is locked", an exit 1 for `check`.
        busy = float(str(parsed.query.get("timeout", BUSY_TIMEOUT)))
        url = parsed.difference_update_query(["timeout"]).render_as_string(
            hide_password=False)
        engine = create_engine(url, connect_args={"timeout": busy, "check_same_thread": False},
                               **kw)
        event.listen(engine, "connect", functools.partial(_sqlite_pragmas, busy=busy))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kw.setdefault("pool_pre_ping", True)
    return create_engine(url, **kw)


# Pages the WAL may hold before a commit copies them back to the database (SQLite's
# default: 1,000, 4 MB). A daemon's every write transaction rewrites the pages it touched
# (its sources' rows, their indexes, the check runs' indexes) into the WAL; the larger
# the window, the more rewrites of a page one checkpoint copies (and syncs) once: 7 and
# 14 % less CPU per check in two alternated pairs of the steady state (bench.steady,
# N = 1,000, a shared machine), for a WAL file of up to ~40 MB.
WAL_AUTOCHECKPOINT = 10_000


def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: Any, *,
                   busy: float = 30.0) -> None:
    # Let SQLAlchemy's BEGIN go through our "begin" hook (pysqlite defers it otherwise).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
    cur.execute(f"PRAGMA busy_timeout={int(busy * 1000)}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


# The execution option that says how a SQLite transaction begins (``bound``).
BEGIN_OPTION = "reassess_begin"


def _sqlite_begin(conn: Any) -> None:
    # DEFERRED for a reader (``bound(engine, write=False)``); otherwise IMMEDIATE, which
    # takes the write lock up front, so two processes never deadlock upgrading.
    deferred = conn.get_execution_options().get(BEGIN_OPTION) == "DEFERRED"
    conn.exec_driver_sql("BEGIN DEFERRED" if deferred else "BEGIN IMMEDIATE")


def run_ddl(conn: Connection, by_dialect: Mapping[str, Callable[[], Iterable[str]]]) -> None:
    """Run the statements ``by_dialect`` gives for ``conn``'s dialect (SQL triggers and
    functions no model describes: a migration creates and drops them); a dialect it does
    not name is an error."""
    statements = by_dialect.get(conn.dialect.name)
    if statements is None:
        raise NotImplementedError(conn.dialect.name)
    for statement in statements():
        conn.exec_driver_sql(statement)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False)
                        .replace("%", "%%"))
    return cfg


_REVISION = re.compile(r"^revision\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*(?::[^=]*)?=\s*(.+)$", re.M)


def head_revisions() -> set[str]:
    """The heads of the migration scripts, read from the files without importing alembic."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        found = _REVISION.search(text)
        if found:
            revisions.add(found.group(1))
        down = _DOWN.search(text)
        if down:
            downs.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    return revisions - downs


def at_head(engine: Engine) -> bool:
    """Whether the database's ``alembic_version`` is already the scripts' head.

    Every ``reassess check`` opens the database: this one query spares it alembic's import
    and environment, a large part of its start-up. Anything unexpected says no, and
    ``migrate`` runs alembic as before.
    """
    heads = head_revisions()
    if not heads:
        return False
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except SQLAlchemyError:
        return False
    return {str(r[0]) for r in rows} == heads


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (run on every start; cheap when current)."""
    if at_head(engine):
        return
    from alembic import command

    cfg = alembic_config(engine)
    try:
        with engine.begin() as conn:
            from .leases import advisory_lock

            advisory_lock(conn, "migrate")  # daemons starting together migrate one by one
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except SQLAlchemyError as exc:
        problem = storage_problem(exc)
        raise StorageError(f"cannot migrate the database: {problem}") from exc


def open_database(url: str) -> Engine:
    """Engine for ``url`` with the schema migrated to head."""
    try:
        engine = make_engine(url)
    except (SQLAlchemyError, ValueError) as exc:
        raise DatabaseURLError(f"bad database URL: {exc}") from exc
    migrate(engine)
    return engine


def bound(engine: Engine, write: bool = True) -> Engine:
    """``engine`` for transactions that write (SQLite: IMMEDIATE, the default) or only
    read (``write=False``: DEFERRED, never waiting for a writer)."""
    if write or not is_sqlite(engine):
        return engine
    return _readers(engine)


_READERS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def _readers(engine: Engine) -> Engine:
    found = _READERS.get(engine)
    if found is None:
        found = _READERS[engine] = engine.execution_options(**{BEGIN_OPTION: "DEFERRED"})
    return found


@contextmanager
def session_scope(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error.

    ``write=False`` for a transaction that only reads: on SQLite it begins DEFERRED and
    never waits for a writer. A read-only transaction that writes after all may fail as
    busy; one that reads and then writes must leave ``write`` at ``True``.
    """
    with Session(bound(engine, write), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise


_LOCKED = re.compile(r"database is locked|database table is locked|busy", re.I)
_READONLY = re.compile(r"readonly database|read-only|attempt to write a readonly", re.I)
_FULL = re.compile(r"database or disk is full|disk is full|no space left|disk i/o error",
                   re.I)


def storage_problem(exc: BaseException) -> StorageError | None:
    """A database failure said in one line (locked, read-only, full, unreachable), or
    ``None`` when ``exc`` is not one: what ``reassess check`` prints before it exits 1."""
    if isinstance(exc, StorageError):
        return exc
    if not isinstance(exc, SQLAlchemyError | sqlite3.Error):
        return None
    text = str(getattr(exc, "orig", None) or exc)
    if _LOCKED.search(text):
        what = "the database is locked by another process (waited for it, in vain)"
    elif _READONLY.search(text):
        what = "the database is read-only (check the file's and its folder's permissions)"
    elif _FULL.search(text):
        what = "the database cannot be written: the disk is full (or failing)"
    else:
        first = text.strip().splitlines()[0][:300] if text.strip() else type(exc).__name__
        what = f"database error: {first}"
    return StorageError(what)
