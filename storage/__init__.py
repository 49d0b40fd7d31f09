"""Storage: sqlmodel tables, sessions, migrations and history queries."""

from .db import make_engine, migrate, open_database, session_scope

__all__ = ["make_engine", "migrate", "open_database", "session_scope"]
