"""One client, one event loop: what a client opens belongs to the loop that first used it."""

from __future__ import annotations

import asyncio

__all__ = ["OTHER_LOOP", "LoopBinding"]

OTHER_LOOP = (
    "this TMDB client was first used in another event loop (a second asyncio.run()?): its"
    " connections (HTTP and Redis) and rate limiter belong to that loop. Create one client per"
    " event loop, inside it: `async with TMDB() as tmdb:` in the coroutine that asyncio.run()"
    " runs"
)


class LoopBinding:
    """The event loop of the first `check()`; any other loop's is a RuntimeError that says
    what to do (aiohttp's sessions, asyncio's futures and Redis connections would otherwise
    fail in their own words, or hang)."""

    __slots__ = ("_loop",)

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None

    def check(self) -> asyncio.AbstractEventLoop:
        """The running loop, bound on the first call; RuntimeError in any other loop."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            if self._loop is not None:
                raise RuntimeError(OTHER_LOOP)
            self._loop = loop
        return loop
