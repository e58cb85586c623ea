"""Coalescing: identical GETs in flight at the same time share one reply (single-flight).

Identical means the same normalised URL (query, `append_to_response` set, session id), the
same credentials and the same validators (a conditional GET is only shared with conditional
GETs for the same ETag, so a 304 only reaches callers holding that entry). Each caller gets
its own decoded copy; an error reaches every caller.
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

    __slots__ = ("_flights", "_inner", "_scope", "_stats")

    def __init__(
        self, inner: Stage, flights: SingleFlight[Any, Reply], scope: str, stats: Stats
    ) -> None:
        """`scope` tells the credentials apart (a hash of them, never the secrets)."""
        self._inner = inner
        self._flights = flights
        self._scope = scope
        self._stats = stats

    async def send(self, call: Call) -> Reply:
        """Send `call` on, or wait for the identical call already in flight."""
        request = call.request
        if request.method != "GET":
            return await self._inner.send(call)
        etag = call.validators.get("If-None-Match") if call.validators else None
        key = (request.url, self._scope, etag)
        reply, shared = await self._flights.run(key, lambda: self._inner.send(call))
        if not shared:
            return reply
        self._stats.coalesced += 1
        return redecoded(call, reply)
