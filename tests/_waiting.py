"""Waiting for what a test cannot await (a server noticing a closed connection, a report sent
in the background): poll until it is so, instead of sleeping a guess that a busy machine
outlasts."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

__all__ = ["eventually"]

PATIENCE = 30.0
"""Seconds before giving up: far beyond any wait a passing test has, even on a busy machine."""


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]], what: str, timeout: float = PATIENCE
) -> None:
    """Return once `condition()` (or the awaitable it returns) is true; AssertionError naming
    `what` after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + timeout
    while True:
        outcome = condition()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return
        if loop.time() > give_up:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        await asyncio.sleep(0.01)
