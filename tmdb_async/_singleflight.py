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

    def lead(self, key: K) -> bool:
        """Claim `key` if nobody runs it: True, and the caller runs the work inline, then
        calls `land` with its result or `crash` with its error (exactly one of them)."""
        flights = self._flights
        if key in flights:
            return False
        flights[key] = None
        return True

    def land(self, key: K, result: V) -> None:
        """The leader's work for `key` returned `result`: hand it to the followers."""
        future = self._flights.pop(key)
        if future is not None:
            future.set_result(result)

    def crash(self, key: K, err: BaseException) -> None:
        """The leader's work for `key` raised `err` (a cancellation: a follower takes over)."""
        future = self._flights.pop(key)
        if future is not None:
            failure = _LeaderCancelled() if isinstance(err, asyncio.CancelledError) else err
            future.set_exception(failure)
            future.exception()  # retrieved: no "never retrieved" warning

    async def run(self, key: K, work: Callable[[], Awaitable[V]]) -> tuple[V, bool]:
        """Return `work()`'s result and whether it came from a call already in flight."""
        flights = self._flights
        while not self.lead(key):
            future = flights[key]
            if future is None:
                future = flights[key] = asyncio.get_running_loop().create_future()
            try:
                return await asyncio.shield(future), True
            except _LeaderCancelled:
                continue
        # The leader, inline: no task and, while nobody follows, no future either.
        try:
            result = await work()
        except BaseException as err:
            self.crash(key, err)
            raise
        self.land(key, result)
        return result, False
