"""Coalescing: identical GETs in flight at the same time share one reply (single-flight).

Identical means the same normalised URL (query, `append_to_response` set, session id) and
the same validators (a conditional GET is only shared with conditional GETs for the same
ETag, so a 304 only reaches callers holding that entry); the in-flight map belongs to one
client and the clients derived from it, which share its credentials. Each caller gets its
own decoded copy; an error reaches every caller.
"""

from __future__ import annotations

from typing import Any

from .._singleflight import SingleFlight
from .._stats import Stats
from ._types import Call, Reply, Stage
from .decoding import redecoded

__all__ = ["Coalescing"]


class Coalescing:
    """Runs one identical GET at a time; the callers who arrive meanwhile share its reply."""

    __slots__ = ("_flights", "_inner", "_stats")

    def __init__(self, inner: Stage, flights: SingleFlight[Any, Reply], stats: Stats) -> None:
        self._inner = inner
        self._flights = flights
        self._stats = stats

    async def send(self, call: Call) -> Reply:
        """Send `call` on, or wait for the identical call already in flight."""
        request = call.request
        if request.method != "GET":
            return await self._inner.send(call)
        validators = call.validators
        key = request.url if validators is None else (request.url, validators["If-None-Match"])
        reply, shared = await self._flights.run(key, lambda: self._inner.send(call))
        if not shared:
            return reply
        self._stats.coalesced += 1
        return redecoded(call, reply)
