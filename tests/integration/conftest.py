"""Fixtures of the command-line tests: `tmdb-async fake-server` in a process of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._fake_process import Server


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """One fake-server process per test module."""
    started = Server()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def fake(server: Server) -> Server:
    """The module's server with no faults, no missing ids and zeroed counters."""
    server.control("POST", "/__fake__/reset")
    server.control("DELETE", "/__fake__/missing_ids")
    return server
