"""Network errors of both wires, sorted by what they mean for a retry."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tmdb_async._http import (
    ConnectFailed,
    ConnectTimeout,
    Disconnected,
    ProtocolViolation,
    ResponseTimeout,
    TLSFailed,
)
from tmdb_async._retry import Failure
from tmdb_async._wire import failure_of


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (TLSFailed("bad certificate"), Failure.FATAL),
        (aiohttp.InvalidURL("x"), Failure.FATAL),
        (ConnectFailed("refused"), Failure.CONNECT),
        (ConnectTimeout("no free connection"), Failure.CONNECT),  # nothing was sent
        (ResponseTimeout("slow"), Failure.TIMEOUT),
        (asyncio.TimeoutError(), Failure.TIMEOUT),
        (Disconnected("reset", started=True), Failure.DISCONNECT),
        (ProtocolViolation("garbage"), Failure.DISCONNECT),
        (aiohttp.ServerDisconnectedError(), Failure.DISCONNECT),
        (None, Failure.DISCONNECT),
    ],
)
def test_failure_of(error: BaseException | None, failure: Failure) -> None:
    assert failure_of(error) is failure
