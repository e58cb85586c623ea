"""The mirror's fixtures: a real PostgreSQL server per session, a fresh database per test,
and the database URLs every backend test runs on (an SQLite file, a PostgreSQL database)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._postgres import PostgresServer, find_bindir


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server on a free port; skipped without the binaries (fails under CI)."""
    server = PostgresServer(find_bindir())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty mirror database: an SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mirror.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.database()
