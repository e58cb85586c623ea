"""Rate limiters: a token bucket in this process (`RateLimiter`) or a budget shared through
Redis (`_shared.SharedRateLimiter`, imported only when asked for: it needs the redis extra).

The transport depends only on the `Limiter` protocol and gets its limiter from `make_limiter`.
"""

from __future__ import annotations

from typing import Protocol

from .._clock import Clock
from .._redis import redis_hint
from ._local import RateLimiter

__all__ = ["Limiter", "RateLimiter", "make_limiter"]


class Limiter(Protocol):
    """What sending a request asks of a rate limiter."""

    async def acquire(self) -> None:
        """Wait until one more request may be sent."""

    def on_rate_limited(self, retry_after: float | None) -> None:
        """The server answered 429 (`retry_after`: its Retry-After in seconds, if any)."""

    def on_success(self) -> None:
        """The server answered, and not with a 429."""

    async def aclose(self) -> None:
        """Release what the limiter holds (connections, background tasks); idempotent."""


def make_limiter(
    rate: float | None,
    *,
    store: str | None = None,
    scope: str | None = None,
    clock: Clock | None = None,
) -> Limiter | None:
    """The limiter for the client options `rate_limit`, `rate_limit_store`, `rate_limit_scope`.

    None without a rate; a local token bucket without a store; else the budget named by
    `scope` (None: this machine's) in the Redis at `store`. No I/O here: Redis is reached on
    the first `acquire()`. ImportError (with the install line) when redis-py is missing.
    """
    if rate is None:
        return None
    if store is None:
        return RateLimiter(rate, clock=clock)
    try:
        from ._shared import SharedRateLimiter
    except ImportError as err:
        raise ImportError(redis_hint("rate_limit_store")) from err
    return SharedRateLimiter(rate, store, scope=scope, clock=clock)
