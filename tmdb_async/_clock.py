"""Time as an injectable dependency: the loop's clock in production, a manual one in tests."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

__all__ = ["Clock", "FakeClock", "LoopClock"]


class Clock(Protocol):
    """What the limiter and the retry loop need from time."""

    def now(self) -> float:
        """Monotonic seconds."""

    def wall(self) -> float:
        """Seconds since the epoch, to read `Retry-After` HTTP dates."""

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds`."""


class LoopClock:
    """The event loop's clock (asyncio's is `time.monotonic`) and `asyncio.sleep`."""

    __slots__ = ()

    # The C functions themselves: no Python frame in between on every call of the hot path.
    now = staticmethod(time.monotonic)
    wall = staticmethod(time.time)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FakeClock:
    """A clock that only moves when slept on: tests wait for a `Retry-After: 30` in microseconds.

    `sleep(s)` records `s`, advances the time by `s` and yields to the loop once.
    """

    def __init__(self, start: float = 1_000.0, wall_start: float = 1_700_000_000.0) -> None:
        self.time = start
        self.wall_offset = wall_start - start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    def wall(self) -> float:
        return self.time + self.wall_offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward without sleeping."""
        self.time += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += max(0.0, seconds)
        await asyncio.sleep(0)
