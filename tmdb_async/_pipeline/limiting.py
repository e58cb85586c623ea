"""Limiting: every attempt takes one token of the rate budget; 429s slow the budget down.

The stage depends only on the `Limiter` protocol (`_ratelimit`): the local token bucket, or a
budget shared through Redis by every process behind one IP. With a deadline, the wait for a
token is bounded by it: a caller who runs out leaves the queue (the limiter's own cancellation
path) and gets a DeadlineExceededError; the callers behind it move up.
"""

from __future__ import annotations

from .._deadline import DeadlinePhase
from .._ratelimit import Limiter
from ._types import Call, Reply, Stage

__all__ = ["Limiting"]


class Limiting:
    """Acquires a token before each attempt and reports its outcome to the limiter."""

    __slots__ = ("_inner", "_limiter")

    def __init__(self, inner: Stage, limiter: Limiter) -> None:
        self._inner = inner
        self._limiter = limiter

    async def send(self, call: Call) -> Reply:
        """Wait for a token, send `call` on, tell the limiter how it went."""
        limiter = self._limiter
        deadline = call.deadline
        if deadline is None:
            await limiter.acquire()
        else:
            with deadline.phase(DeadlinePhase.QUEUED):
                acquired = await deadline.within(limiter.acquire())
            if not acquired:
                request = call.request
                late = deadline.exceeded(method=request.method, url=request.redacted_url())
                return Reply(error=late)
        reply = await self._inner.send(call)
        if reply.status == 429:
            limiter.on_rate_limited(reply.retry_after)
        elif reply.status:
            limiter.on_success()
        return reply
