"""A rate budget shared by every process that names it, kept in Redis (docs/distributed.md).

Each acquisition is one call of one Lua script (`_budget.lua`): GCRA on the Redis server's
clock, so the clocks of the clients do not matter, and the adaptive back-off lives in the
shared state, so a 429 seen by one process slows all of them. The script reserves the next
free slot and returns how long to wait for it: the caller sleeps exactly that long, no
polling. Within a process the callers queue in arrival order and one at a time holds a
reservation, so a process never has more than one slot booked ahead (a Retry-After pause
reaches every process within one slot) and a cancelled caller wastes at most that slot.

Successes are counted locally and folded into the next call; a 429 is reported at once, in
the background (the protocol's callbacks are synchronous).

Redis unreachable: a circuit breaker (`tmdb_async._breaker`) opens, and the process falls
back to a local token bucket at its share of the budget (the effective rate divided by the
peers Redis last reported: the limiters that acquired in the last RATE_LIMIT_PEERS_WINDOW
seconds and have not closed). A process that never reached Redis cannot know its peers: on a
per-host budget it assumes one per CPU, the most a machine usually runs; on a "global" or named
budget, shared by an unknown number of machines, it goes on at ADAPTIVE_MIN_RATE. It logs once.
Every acquisition then takes a token of that share; after RATE_LIMIT_RETRY_MIN seconds, one of
them also probes Redis (for a slot of the budget), and each failed probe doubles the wait up to
RATE_LIMIT_RETRY_MAX. A probe that succeeds rejoins (one more log line), keeping the fallback
share as a cap for RATE_LIMIT_REJOIN_GRACE seconds while the others rejoin. No request ever
fails because of the store.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from importlib import resources
from typing import TYPE_CHECKING, Any, Final

from redis.exceptions import RedisError

from .._breaker import CircuitBreaker
from .._clock import Clock, LoopClock
from .._constants import (
    ADAPTIVE_COOLDOWN,
    ADAPTIVE_DECREASE,
    ADAPTIVE_INCREASE,
    ADAPTIVE_MIN_RATE,
    LOGGER_NAME,
    RATE_LIMIT_KEY_PREFIX,
    RATE_LIMIT_PEERS_WINDOW,
    RATE_LIMIT_REJOIN_GRACE,
    RATE_LIMIT_RETRY_MAX,
    RATE_LIMIT_RETRY_MIN,
    RATE_LIMIT_SHARED_BURST,
    RATE_LIMIT_STATE_TTL,
    RATE_LIMIT_STORE_TIMEOUT,
    RETRY_AFTER_MAX,
)
from .._loop import LoopBinding
from .._redis import describe_url, redis_client
from ._local import RateLimiter

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = ["BUDGET_SCRIPT", "SharedRateLimiter", "budget_key", "peers_key", "script_args"]

logger = logging.getLogger(LOGGER_NAME)

BUDGET_SCRIPT: Final = resources.files(__package__).joinpath("_budget.lua").read_text("utf-8")
_STORE_ERRORS: Final = (RedisError, OSError, asyncio.TimeoutError)


def script_args(
    *,
    max_rate: float,
    burst: float,
    successes: int = 0,
    limited: bool = False,
    retry_after: float | None = None,
    take: bool = True,
    member: str,
    increase: float = ADAPTIVE_INCREASE,
    decrease: float = ADAPTIVE_DECREASE,
    min_rate: float = ADAPTIVE_MIN_RATE,
    cooldown: float = ADAPTIVE_COOLDOWN,
    retry_after_max: float = RETRY_AFTER_MAX,
    peers_window: float = RATE_LIMIT_PEERS_WINDOW,
    state_ttl: float = RATE_LIMIT_STATE_TTL,
) -> list[Any]:
    """The ARGV of `_budget.lua`, in its order (the tunables default to the client's)."""
    return [
        max_rate,
        burst,
        successes,
        int(limited),
        -1 if retry_after is None else retry_after,
        int(take),
        member,
        increase,
        decrease,
        min_rate,
        cooldown,
        retry_after_max,
        peers_window,
        state_ttl,
    ]


def _per_host(scope: str | None) -> bool:
    return scope is None or scope == "host"


def budget_key(scope: str | None) -> str:
    """The Redis key of a budget: per machine (None or "host"), "global", or a named one.

    All braces: a hash tag, so the budget and its `:peers` land in one Redis Cluster slot.
    """
    if _per_host(scope):
        name = f"host:{socket.gethostname()}"
    else:
        name = "global" if scope == "global" else f"name:{scope}"
    return f"{{{RATE_LIMIT_KEY_PREFIX}:{name}}}"


def peers_key(key: str) -> str:
    """The sorted set of the limiters using the budget `key`."""
    return f"{key}:peers"


class SharedRateLimiter:
    """`rate` acquisitions per second, `burst` at once, across every process on one budget."""

    def __init__(
        self,
        rate: float,
        url: str,
        *,
        scope: str | None = None,
        burst: float = RATE_LIMIT_SHARED_BURST,
        clock: Clock | None = None,
    ) -> None:
        self.max_rate = float(rate)
        self.rate = float(rate)
        """The effective rate Redis last reported (lowered by 429s, recovering)."""
        self.burst = max(1.0, float(burst))
        self.key = budget_key(scope)
        self.peers: int | None = None
        """Limiters on this budget in the last RATE_LIMIT_PEERS_WINDOW s, as Redis last said."""
        self._per_host = _per_host(scope)
        self._url = url
        self._clock: Clock = clock or LoopClock()
        self._member = uuid.uuid4().hex
        self._redis: Redis | None = None
        self._script: AsyncScript | None = None
        self._lock = asyncio.Lock()
        self._loop = LoopBinding()
        """The loop of the Redis connection and the lock: another is refused, in words (the
        breaker must not take redis-py's error in another loop for an outage)."""
        self._successes = 0
        self._fallback: RateLimiter | None = None
        self._cap: RateLimiter | None = None
        self._cap_until = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._breaker = CircuitBreaker(
            f"rate budget {self.key} in Redis {describe_url(url)}",
            consequence=self._outage,
            skipped="acquisitions paced locally",
            retry_min=RATE_LIMIT_RETRY_MIN,
            retry_max=RATE_LIMIT_RETRY_MAX,
            logger=logger,
            monotonic=self._clock.now,
        )

    @property
    def shared(self) -> bool:
        """False while Redis is unreachable and a local share of the budget applies."""
        return self._fallback is None

    def _connect(self) -> AsyncScript:
        if self._script is None:
            self._redis = redis_client(
                self._url, "rate_limit_store", timeout=RATE_LIMIT_STORE_TIMEOUT
            )
            self._script = self._redis.register_script(BUDGET_SCRIPT)
        return self._script

    async def _call(
        self, *, take: bool, limited: bool = False, retry_after: float | None = None
    ) -> float:
        """Run the script once; the seconds to wait for the slot taken (0 without `take`)."""
        script = self._connect()
        successes, self._successes = self._successes, 0
        args = script_args(
            max_rate=self.max_rate,
            burst=self.burst,
            successes=successes,
            limited=limited,
            retry_after=retry_after,
            take=take,
            member=self._member,
        )
        try:
            delay, rate, peers = await script(keys=[self.key, peers_key(self.key)], args=args)
        except BaseException:
            self._successes += successes  # not counted: the next call carries them
            raise
        self.rate, self.peers = float(rate), int(peers)
        return int(delay) / 1e6

    async def acquire(self) -> None:
        """Wait for this process's turn, then for the slot Redis reserved for it; while Redis
        is out, for a token of the local share (and, when due, probe Redis for the slot).

        Once closed it returns at once: what it was acquiring for finds the client closed.
        RuntimeError in an event loop other than the first one's.
        """
        self._loop.check()
        if self._fallback is None:
            async with self._lock:
                if self._fallback is None:  # else Redis failed while this call queued
                    await self._capped()
                    if self._closed:
                        return
                    ticket = self._breaker.ticket()
                    if ticket is not None and await self._take(ticket):
                        return
        fallback = self._fallback
        if fallback is None:  # closed while this call waited
            return
        await fallback.acquire()
        if self._breaker.open and not self._closed:
            ticket = self._breaker.ticket()
            if ticket is not None:
                # This call is the probe. It leaves on a slot of the budget if Redis answers
                # (after a token of its share, as a capped call does), on its token if not.
                await self._take(ticket)

    async def _take(self, ticket: int) -> bool:
        """Reserve a slot of the shared budget and wait for it; False if Redis failed."""
        delay = await self._guarded(ticket, "take a slot", take=True)
        if delay is None:
            return False
        if delay > 0:
            await self._clock.sleep(delay)
        return True

    async def _guarded(
        self,
        ticket: int,
        action: str,
        *,
        take: bool,
        limited: bool = False,
        retry_after: float | None = None,
    ) -> float | None:
        """`_call` under the breaker: what it returns, or None if Redis failed (then fall back
        if that began an outage; not once closed: `aclose` cut the connection)."""
        try:
            delay = await self._call(take=take, limited=limited, retry_after=retry_after)
        except _STORE_ERRORS as err:
            if not self._closed and self._breaker.failed(ticket, err, action):
                self._fall_back()
            return None
        except BaseException:  # cancelled: no outcome, but the next call may probe
            self._breaker.abandon(ticket)
            raise
        if self._breaker.succeeded(ticket):
            self._rejoin()
        return delay

    async def _capped(self) -> None:
        """Just after rejoining, until the grace ends: first a token of the fallback share.

        Taken before the shared slot, so the request leaves on that slot and Redis's schedule
        is the real one (the other way round, sends would lag their slots and bunch up).
        """
        cap = self._cap
        if cap is not None:
            if self._clock.now() < self._cap_until:
                await cap.acquire()
            else:
                self._cap = None

    def _share(self) -> tuple[float, str]:
        """The rate to fall back to, and why."""
        if self.peers is not None:
            peers = self.peers
            why = f"its share among {peers} processes, as Redis last counted them"
        elif self._per_host:
            peers = os.cpu_count() or 1
            why = f"its share among {peers} processes, assumed: one per CPU"
        else:
            return min(ADAPTIVE_MIN_RATE, self.rate), "the minimum: its peers were never counted"
        return self.rate / peers, why

    def _outage(self) -> str:
        """What this process does while Redis is out (the breaker's warning)."""
        rate, why = self._share()
        return f"this process goes on at {rate:.3g}/s of {self.rate:.3g}/s ({why})"

    def _fall_back(self) -> None:
        rate, _ = self._share()
        burst = max(1.0, self.burst * rate / self.rate)
        self._fallback = RateLimiter(rate, burst=burst, clock=self._clock, tokens=0)

    def _rejoin(self) -> None:
        self._cap, self._fallback = self._fallback, None
        self._cap_until = self._clock.now() + RATE_LIMIT_REJOIN_GRACE

    def on_rate_limited(self, retry_after: float | None = None) -> None:
        """A 429: halve the shared rate and pause every process for `retry_after`."""
        for local in (self._fallback, self._cap):
            if local is not None:
                local.on_rate_limited(retry_after)
        if self._breaker.open or self._closed:
            return  # Redis is out: the local share slows down alone
        ticket = self._breaker.ticket()
        if ticket is not None:
            task = asyncio.get_running_loop().create_task(self._report(ticket, retry_after))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _report(self, ticket: int, retry_after: float | None) -> None:
        await self._guarded(
            ticket, "report a 429", take=False, limited=True, retry_after=retry_after
        )

    def on_success(self) -> None:
        """A response that was not a 429: the shared rate creeps back (at the next call)."""
        self._successes += 1
        for local in (self._fallback, self._cap):
            if local is not None:
                local.on_success()

    async def aclose(self) -> None:
        """Stop reporting, leave the peers (the others' fallback share grows) and
        close the connection to Redis; idempotent."""
        if self._closed:
            return
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        client, self._redis, self._script = self._redis, None, None
        if client is None:
            return
        try:
            if not self._breaker.open:  # else it would only wait for a timeout
                await client.zrem(peers_key(self.key), self._member)
        except _STORE_ERRORS:
            pass  # the window forgets this member in RATE_LIMIT_PEERS_WINDOW seconds
        finally:
            await client.aclose()

    def __repr__(self) -> str:
        mode = "shared" if self._fallback is None else f"local {self._fallback.rate:g}/s"
        return (
            f"<SharedRateLimiter {self.key} rate={self.rate:g}/{self.max_rate:g}"
            f" burst={self.burst:g} {mode} store={describe_url(self._url)}>"
        )
