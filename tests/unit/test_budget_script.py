"""The arithmetic of the shared budget's Lua script, run by a real redis-server (its clock).

A slot is the moment the script says a request may leave: the time of the call plus the
delay it returned, measured from the first call of the test (to within the few milliseconds
one call takes on a busy machine, hence `approx(abs=TOLERANCE)`).
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.crc import key_slot

from tests.conftest import RedisServer
from tmdb_async._ratelimit._shared import BUDGET_SCRIPT, budget_key, peers_key, script_args

pytestmark = pytest.mark.redis

TOLERANCE = 0.01
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


class Slots:
    """Slot times of successive calls, in seconds from the first call."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.start: float | None = None

    async def take(self, count: int = 1, **options: Any) -> list[float]:
        slots = []
        for _ in range(count):
            before = time.monotonic()
            delay = (await call(self.redis, **options))[0]
            now = (before + time.monotonic()) / 2
            if self.start is None:
                self.start = now
            slots.append(now + delay - self.start)
        return slots


def near(*expected: float) -> list[Any]:
    return [pytest.approx(value, abs=TOLERANCE) for value in expected]


async def test_a_new_budget_starts_empty_and_spaces_slots_by_the_interval(redis: Redis) -> None:
    assert await Slots(redis).take(5) == near(0, 0.1, 0.2, 0.3, 0.4)


async def test_an_idle_budget_refills_up_to_the_burst(redis: Redis) -> None:
    await call(redis)
    await asyncio.sleep(0.6)  # more than burst (3) intervals of 0.1 s
    assert await Slots(redis).take(5) == near(0, 0, 0, 0.1, 0.2)


async def test_a_report_takes_no_slot(redis: Redis) -> None:
    slots = Slots(redis)
    await slots.take()
    assert [(await call(redis, take=False))[0] for _ in range(3)] == [0, 0, 0]
    assert await slots.take() == near(0.1)


async def test_a_429_halves_the_rate_once_per_cooldown_and_empties_the_bucket(
    redis: Redis,
) -> None:
    _, rate, _ = await call(redis, take=False, limited=True)
    assert rate == 5.0
    _, rate, _ = await call(redis, take=False, limited=True)  # the same burst of 429s
    assert rate == 5.0
    # Empty: the next slot is one interval (of the new rate) away, then every interval.
    assert await Slots(redis).take(2) == near(0.2, 0.4)
    _, rate, _ = await call(redis, take=False, limited=True, cooldown=0)
    assert rate == 2.5


async def test_retry_after_pauses_everyone_then_no_burst(redis: Redis) -> None:
    slots = Slots(redis)
    await call(redis, take=False, limited=True, retry_after=1.5)
    assert await slots.take(member="other") + await slots.take() == near(1.5, 1.5 + 1 / 5)


async def test_retry_after_is_capped(redis: Redis) -> None:
    await call(redis, take=False, limited=True, retry_after=10_000, retry_after_max=60)
    assert (await call(redis))[0] == pytest.approx(60, abs=TOLERANCE)


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
    await asyncio.sleep(0.3)
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
