"""An adaptive token bucket on the loop's clock, with fair (FIFO) waiters.

The bucket refills at `rate` tokens/s up to `burst`. Waiters queue in arrival order; only the
head of the queue sleeps, and a token is taken only at the moment it is granted, so a cancelled
caller never holds one. Adaptive (AIMD, as TCP congestion control): a 429 multiplies the
effective rate by ADAPTIVE_DECREASE (once per ADAPTIVE_COOLDOWN, so one burst of 429s counts
once) and pauses the bucket for the server's Retry-After; every other response adds
ADAPTIVE_INCREASE back, up to the configured rate.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque

from .._clock import Clock, LoopClock
from .._constants import (
    ADAPTIVE_COOLDOWN,
    ADAPTIVE_DECREASE,
    ADAPTIVE_INCREASE,
    ADAPTIVE_MIN_RATE,
    RATE_LIMIT_BURST,
    RETRY_AFTER_MAX,
)
from .._loop import LoopBinding

__all__ = ["RateLimiter"]

# Float slack on "one whole token": `now - then` at loop-clock magnitudes loses low bits, and a
# wait shorter than the clock's resolution would never advance it.
_SLACK = 1e-9


class RateLimiter:
    """Allow `rate` acquisitions per second on average, `burst` at once, first come first served.

    The limiter binds to the event loop of its first `acquire()` and refuses any other.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float = RATE_LIMIT_BURST,
        clock: Clock | None = None,
        adaptive: bool = True,
        tokens: float | None = None,
    ) -> None:
        """`tokens`: what the bucket holds at first (default: full, `burst`)."""
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be a positive number, got {rate!r}")
        self.max_rate = float(rate)
        self.rate = float(rate)
        """The effective rate: lowered by 429s, recovering towards `max_rate`."""
        self.burst = max(1.0, float(burst))
        self.adaptive = adaptive
        self._clock: Clock = clock or LoopClock()
        self._tokens = self.burst if tokens is None else min(self.burst, max(0.0, tokens))
        self._updated: float | None = None
        self._resume_at = -math.inf
        self._last_decrease = -math.inf
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._loop = LoopBinding()

    @property
    def waiting(self) -> int:
        """Callers queued for a token."""
        return len(self._waiters)

    def _refill(self, now: float) -> None:
        if self._updated is None:
            self._updated = now
        elif now > self._updated:
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now

    def _take(self, now: float) -> float:
        """Take a token and return 0, or return the seconds until one is available."""
        if now < self._resume_at:
            return self._resume_at - now
        self._refill(now)
        if self._tokens >= 1 - _SLACK:
            self._tokens = max(0.0, self._tokens - 1)
            return 0.0
        return (1 - self._tokens) / self.rate

    async def acquire(self) -> None:
        """Wait for a token, behind every caller that came first."""
        loop = self._loop.check()
        if not self._waiters and not self._take(self._clock.now()):
            return
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        try:
            if self._waiters[0] is not waiter:
                await waiter
            while wait := self._take(self._clock.now()):
                await self._clock.sleep(wait)
        finally:
            if self._waiters and self._waiters[0] is waiter:
                self._waiters.popleft()
                if self._waiters and not self._waiters[0].done():
                    self._waiters[0].set_result(None)
            else:
                self._waiters.remove(waiter)

    def on_rate_limited(self, retry_after: float | None = None) -> None:
        """Record a 429: slow down, and hold every token for the server's `retry_after`."""
        if not self.adaptive:
            return
        now = self._clock.now()
        self._refill(now)
        if now - self._last_decrease >= ADAPTIVE_COOLDOWN:
            floor = min(ADAPTIVE_MIN_RATE, self.max_rate)
            self.rate = max(floor, self.rate * ADAPTIVE_DECREASE)
            self._tokens = min(self._tokens, 0.0)
            self._last_decrease = now
        if retry_after is not None:
            self._resume_at = max(self._resume_at, now + min(retry_after, RETRY_AFTER_MAX))

    def on_success(self) -> None:
        """Record a response that was not a 429: creep back towards the configured rate."""
        if self.rate < self.max_rate:
            self._refill(self._clock.now())
            self.rate = min(self.max_rate, self.rate + ADAPTIVE_INCREASE)

    async def aclose(self) -> None:
        """Nothing to release: the bucket lives in this process."""

    def __repr__(self) -> str:
        return (
            f"<RateLimiter rate={self.rate:g}/{self.max_rate:g} burst={self.burst:g} "
            f"waiting={len(self._waiters)}>"
        )
