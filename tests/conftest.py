"""Shared fixtures: real databases (SQLite file, PostgreSQL), the simulated vendor site,
the ``reassess`` CLI as a subprocess, and config files written for them.

PostgreSQL tests create a fresh database per test on the server at
``$REASSESS_TEST_PG`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``);
``.ci/run`` starts that server when it is down.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("REASSESS_TEST_PG",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_database() -> Iterator[str]:
    name = f"reassess_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL on each backend: a fresh SQLite file, a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/reassess.db"
    else:
        yield from _pg_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/reassess.db"


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from _pg_database()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    from storage.db import open_database

    eng = open_database(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def site() -> Iterator[Any]:
    """The simulated vendor site on 127.0.0.1, with the demo vendors; fresh per test."""
    from monitor.demo.vendorsite import VendorSite

    s = VendorSite(vendors=["acme", "northwind", "heliosml"])
    s.start(host="127.0.0.1", port=0)
    yield s
    s.stop()


@pytest.fixture
def generated_site(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The simulated site with the generated vendors of the test module's ``N`` documents
    (``bench.workload``: the benchmark's three documents a vendor), on 127.0.0.1."""
    from bench.workload import vendor_count
    from monitor.demo.vendorsite import VendorSite

    s = VendorSite.generated(vendor_count(getattr(request.module, "N", 12)))
    s.start(host="127.0.0.1", port=0)
    yield s
    s.stop()


@pytest.fixture
def site_url(site: Any) -> str:
    return str(site.base_url)


def write_config(path: Path, body: str, **fmt: Any) -> Path:
    path.write_text(textwrap.dedent(body).format(**fmt), encoding="utf-8")
    return path


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Path]:
    """Write a config file from a YAML template (``{site}``, ``{db}`` … substituted)."""
    def make(body: str, name: str = "reassess.yaml", **fmt: Any) -> Path:
        return write_config(tmp_path / name, body, **fmt)
    return make


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``reassess`` as a user would: a real subprocess."""
    full_env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "monitor.cli", *args], capture_output=True,
                          text=True, env=full_env, timeout=timeout, cwd=cwd or ROOT,
                          check=False)


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return cli
