"""The mirror's fixtures: a real PostgreSQL server per session, and fresh databases of each
backend (every backend test runs on an SQLite file and on a PostgreSQL database)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tmdb_async.testing import PostgresServer, PostgresUnavailable


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server on a free port; skipped without the binaries (fails under CI)."""
    try:
        server = PostgresServer()
    except PostgresUnavailable as err:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{err}: required when CI=true")
        pytest.skip(str(err))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def new_db(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Makes fresh, empty databases of one backend: SQLite files, or PostgreSQL databases."""
    if request.param == "sqlite":
        numbers = itertools.count(1)
        return lambda: f"sqlite:///{tmp_path / f'mirror{next(numbers)}.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.database


@pytest.fixture
def db_url(new_db: Callable[[], str]) -> str:
    """A fresh, empty mirror database (an SQLite file, or a PostgreSQL database)."""
    return new_db()
