"""The arithmetic of the shared budget's Lua script, run by a real redis-server (its clock).

A slot is the moment the script says a request may leave: the script's own clock at the call
(which it writes into the peers set, read back here) plus the delay it returned, in seconds
from the first call of the test. Both are the script's numbers, so slots are exact (to the
microsecond), however busy the machine; only a call that waits nothing has the time of the
call itself for its slot, and for those the tests check that no wait was asked.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.crc import key_slot

from tests.conftest import RedisServer
from tmdb_async._ratelimit._shared import BUDGET_SCRIPT, budget_key, peers_key, script_args

pytestmark = pytest.mark.redis

EXACT = 1e-6
"""The script counts in integer microseconds."""
KEYS = ["budget", "budget:peers"]


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url)
    await client.ping()  # connected: the first call times the script only
    try:
        yield client
    finally:
        await client.aclose()


async def call(redis: Redis, **options: Any) -> tuple[float, float, int]:
    """One run of the script: (seconds to wait, effective rate, peers)."""
    options.setdefault("max_rate", 10.0)
    options.setdefault("burst", 3)
    options.setdefault("member", "one")
    delay, rate, peers = await redis.eval(BUDGET_SCRIPT, len(KEYS), *KEYS, *script_args(**options))
    return int(delay) / 1e6, float(rate), int(peers)


class Budget:
    """Calls of the script, and when (on its clock) each asked its caller to send."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.start: float | None = None
        self.delays: list[float] = []

    async def call(self, **options: Any) -> tuple[float, float, int]:
        """`call()`, noting the script's clock at the first call of the test."""
        result = await call(self.redis, **options)
        if self.start is None:
            self.start = await self._now(options.get("member", "one"))
        return result

    async def take(self, count: int = 1, **options: Any) -> list[float]:
        """The slots of `count` calls that take one, in seconds from the first call."""
        slots = []
        for _ in range(count):
            delay = (await self.call(**options))[0]
            self.delays.append(delay)
            now = await self._now(options.get("member", "one"))
            assert self.start is not None
            slots.append(now + delay - self.start)
        return slots

    async def _now(self, member: str) -> float:
        """The script's clock at its last call by `member` (the score it gave it, in µs)."""
        score = await self.redis.zscore(KEYS[1], member)
        assert score is not None
        return score / 1e6


def exactly(*expected: float) -> list[Any]:
    return [pytest.approx(value, abs=EXACT) for value in expected]


async def test_a_new_budget_starts_empty_and_spaces_slots_by_the_interval(redis: Redis) -> None:
    budget = Budget(redis)
    assert await budget.take(5, max_rate=1.0) == exactly(0, 1, 2, 3, 4)  # 1 s interval
    assert budget.delays[0] == 0


async def test_an_idle_budget_refills_up_to_the_burst(redis: Redis) -> None:
    await call(redis, max_rate=2.0)
    await asyncio.sleep(1.6)  # more than burst (3) intervals of 0.5 s
    budget = Budget(redis)
    slots = await budget.take(5, max_rate=2.0)
    assert budget.delays[:3] == [0, 0, 0]  # the burst, at once
    assert slots[3:] == exactly(0.5, 1.0)  # then the interval, from the first of them


async def test_a_report_takes_no_slot(redis: Redis) -> None:
    budget = Budget(redis)
    await budget.take(max_rate=1.0)
    assert [(await budget.call(max_rate=1.0, take=False))[0] for _ in range(3)] == [0, 0, 0]
    assert await budget.take(max_rate=1.0) == exactly(1)


async def test_a_429_halves_the_rate_once_per_cooldown_and_empties_the_bucket(
    redis: Redis,
) -> None:
    budget = Budget(redis)
    _, rate, _ = await budget.call(max_rate=4.0, take=False, limited=True)
    assert rate == 2.0
    _, rate, _ = await budget.call(max_rate=4.0, take=False, limited=True)  # the same burst
    assert rate == 2.0
    # Empty: the next slot is one interval (of the new rate) away, then every interval.
    assert await budget.take(2, max_rate=4.0) == exactly(0.5, 1.0)
    _, rate, _ = await budget.call(max_rate=4.0, take=False, limited=True, cooldown=0)
    assert rate == 1.0


async def test_retry_after_pauses_everyone_then_no_burst(redis: Redis) -> None:
    budget = Budget(redis)
    await budget.call(take=False, limited=True, retry_after=1.5)
    slots = await budget.take(member="other") + await budget.take()
    assert slots == exactly(1.5, 1.5 + 1 / 5)


async def test_retry_after_is_capped(redis: Redis) -> None:
    budget = Budget(redis)
    await budget.call(take=False, limited=True, retry_after=10_000, retry_after_max=60)
    assert await budget.take() == exactly(60)


async def test_successes_bring_the_rate_back_up_to_the_maximum_only(redis: Redis) -> None:
    await call(redis, take=False, limited=True)
    assert (await call(redis, take=False, successes=20))[1] == pytest.approx(7.0)
    assert (await call(redis, take=False, successes=1000))[1] == 10.0


async def test_the_rate_never_drops_below_the_floor(redis: Redis) -> None:
    for _ in range(10):
        _, rate, _ = await call(redis, take=False, limited=True, cooldown=0)
    assert rate == 1.0


async def test_a_floor_above_the_maximum_is_the_maximum(redis: Redis) -> None:
    _, rate, _ = await call(redis, max_rate=0.5, take=False, limited=True)
    assert rate == 0.5


async def test_a_lower_maximum_applies_at_once(redis: Redis) -> None:
    await call(redis)
    assert (await call(redis, max_rate=4.0, take=False))[1] == 4.0


async def test_peers_are_the_members_seen_within_the_window(redis: Redis) -> None:
    assert (await call(redis, member="a"))[2] == 1
    assert (await call(redis, member="b"))[2] == 2
    assert (await call(redis, member="a"))[2] == 2
    await asyncio.sleep(0.3)  # b's last call is more than 0.2 s old, however busy the machine
    assert (await call(redis, member="a", peers_window=0.2))[2] == 1


async def test_an_idle_budget_expires(redis: Redis) -> None:
    await call(redis, state_ttl=5)
    state_ttl, peers_ttl = await redis.pttl(KEYS[0]), await redis.pttl(KEYS[1])
    assert 0 < state_ttl <= 5_000 + 1_000  # plus the slot booked ahead
    assert 0 < peers_ttl <= 5_000


def test_keys_are_namespaced_versioned_and_per_host_by_default() -> None:
    host = socket.gethostname()
    assert budget_key(None) == budget_key("host") == f"{{tmdb-ratelimit:v2:host:{host}}}"
    assert budget_key("global") == "{tmdb-ratelimit:v2:global}"
    assert budget_key("nat-1") == "{tmdb-ratelimit:v2:name:nat-1}"
    for scope in (None, "global", "nat-1"):  # one script call touches one Redis Cluster slot
        key = budget_key(scope)
        assert key_slot(key.encode()) == key_slot(peers_key(key).encode())
    assert key_slot(budget_key("nat-1").encode()) != key_slot(budget_key("nat-2").encode())
