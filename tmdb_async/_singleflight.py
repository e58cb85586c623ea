"""Coalesce identical concurrent calls: the first runs, the others await its result.

The first caller (the leader) runs the work inline: no task per call on the hot path, where
almost every call is alone. Followers wait on a shielded future, so cancelling one of them
touches nobody else. The result or error reaches every follower. If the leader is cancelled,
its work stops with it (its connection and limiter token are released) and a follower takes
over by running its own identical work. The entry is removed as soon as the leader is done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["SingleFlight"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _LeaderCancelled(Exception):
    """Told to followers when the leader was cancelled: one of them must run the work."""


class SingleFlight(Generic[K, V]):
    """A map of in-flight calls by key: None while nobody follows, else the followers' future."""

    def __init__(self) -> None:
        self._flights: dict[K, asyncio.Future[V] | None] = {}

    def __len__(self) -> int:
        return len(self._flights)

    async def run(self, key: K, work: Callable[[], Awaitable[V]]) -> tuple[V, bool]:
        """Return `work()`'s result and whether it came from a call already in flight."""
        flights = self._flights
        while key in flights:
            future = flights[key]
            if future is None:
                future = flights[key] = asyncio.get_running_loop().create_future()
            try:
                return await asyncio.shield(future), True
            except _LeaderCancelled:
                continue
        # The leader, inline: no task and, while nobody follows, no future either.
        flights[key] = None
        try:
            result = await work()
        except BaseException as err:
            future = flights.pop(key)
            if future is not None:
                failure = _LeaderCancelled() if isinstance(err, asyncio.CancelledError) else err
                future.set_exception(failure)
                future.exception()  # retrieved: no "never retrieved" warning
            raise
        future = flights.pop(key)
        if future is not None:
            future.set_result(result)
        return result, False
