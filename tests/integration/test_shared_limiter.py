"""The shared limiter in one process, against a real redis-server: shared slots, 429s that reach
the other limiters, the fallback when Redis is gone and the return, and the client's options."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as redis

from tests._fake_process import child_env
from tests.conftest import RedisServer, _free_port
from tmdb_async import TMDB, DeadlineExceededError, DeadlinePhase
from tmdb_async._constants import (
    ADAPTIVE_INCREASE,
    ADAPTIVE_MIN_RATE,
    RATE_LIMIT_REJOIN_GRACE,
    RATE_LIMIT_RETRY_MAX,
    RATE_LIMIT_RETRY_MIN,
    REDIS_RETRIES,
)
from tmdb_async._ratelimit import RateLimiter, make_limiter
from tmdb_async._ratelimit._shared import SharedRateLimiter, budget_key, peers_key
from tmdb_async.testing import FakeTMDB, RateLimited

pytestmark = pytest.mark.redis


@pytest.fixture
async def limiters(redis_server: RedisServer) -> AsyncIterator[Callable[..., SharedRateLimiter]]:
    made: list[SharedRateLimiter] = []

    def make(rate: float = 20.0, url: str = redis_server.url, **options: Any) -> SharedRateLimiter:
        options.setdefault("scope", "test")
        limiter = SharedRateLimiter(rate, url, **options)
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        await limiter.aclose()


async def timed(limiter: SharedRateLimiter, count: int) -> list[float]:
    """When each of `count` concurrent acquisitions was granted (monotonic seconds)."""

    async def one() -> float:
        await limiter.acquire()
        return time.monotonic()

    return list(await asyncio.gather(*(one() for _ in range(count))))


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(sorted(times))]


async def test_two_limiters_share_one_budget_fairly(
    limiters: Callable[..., SharedRateLimiter],
) -> None:
    first, second = limiters(), limiters()
    start = time.monotonic()
    a, b = await asyncio.gather(timed(first, 15), timed(second, 15))
    granted = sorted(t - start for t in a + b)
    # 30 slots 1/20 s apart, whoever asks: 29 intervals.
    assert granted[-1] == pytest.approx(29 / 20, abs=0.1)
    assert all(gap > 0.03 for gap in gaps(granted))
    # Fair: in the first second each got about half.
    assert abs(sum(t < start + 1 for t in a) - sum(t < start + 1 for t in b)) <= 2
    assert first.peers == second.peers == 2


async def test_a_429_seen_by_one_pauses_and_slows_the_other(
    limiters: Callable[..., SharedRateLimiter],
) -> None:
    first, second = limiters(), limiters()
    await first.acquire()
    first.on_rate_limited(1.0)
    await asyncio.sleep(0.05)  # the report is sent in the background
    start = time.monotonic()
    await second.acquire()
    assert time.monotonic() - start == pytest.approx(1.0, abs=0.1)
    assert second.rate == 10.0


async def test_successes_are_carried_by_the_next_call(
    limiters: Callable[..., SharedRateLimiter],
) -> None:
    limiter = limiters()
    await limiter.acquire()
    limiter.on_rate_limited(None)
    await asyncio.sleep(0.05)
    assert limiter.rate == 10.0
    for _ in range(30):
        limiter.on_success()
    await limiter.acquire()
    assert limiter.rate == pytest.approx(10.0 + 30 * ADAPTIVE_INCREASE)


@pytest.mark.parametrize(
    ("scope", "share"),
    [
        # One machine: at most one process per CPU shares its budget.
        ("host", 40.0 / (os.cpu_count() or 1)),
        # Machines without number: the least the adaptive rate ever goes down to.
        ("global", ADAPTIVE_MIN_RATE),
    ],
)
async def test_unreachable_redis_never_fails_a_request_and_logs_once(
    limiters: Callable[..., SharedRateLimiter],
    caplog: pytest.LogCaptureFixture,
    scope: str,
    share: float,
) -> None:
    caplog.set_level(logging.WARNING, logger="tmdb_async")
    url = f"redis://:secret-pw@127.0.0.1:{_free_port()}/0"
    limiter = limiters(rate=40.0, url=url, scope=scope)
    granted = await timed(limiter, 3)
    assert not limiter.shared
    assert f"local {share:g}/s" in repr(limiter)
    assert all(gap == pytest.approx(1 / share, abs=0.02) for gap in gaps(granted))
    await acquire_for(limiter, 3 * RATE_LIMIT_RETRY_MIN)  # failed probes log nothing
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1, warnings
    assert (
        "failed to take a slot (ConnectionError: Error 111 connecting to 127.0.0.1:"
        in (warnings[0])
    )
    assert f"this process goes on at {share:.3g}/s of 40/s" in warnings[0]
    assert "secret-pw" not in warnings[0] + repr(limiter)


async def acquire_for(limiter: SharedRateLimiter, seconds: float) -> None:
    """Acquire one after another for `seconds` (a busy process)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        await limiter.acquire()


async def test_probes_of_an_unreachable_redis_back_off(
    limiters: Callable[..., SharedRateLimiter],
) -> None:
    attempts: list[float] = []

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        attempts.append(time.monotonic())  # a server that drops every connection at once
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        limiter = limiters(rate=100.0, url=f"redis://127.0.0.1:{port}/0", scope="host")
        await acquire_for(limiter, 2 * RATE_LIMIT_RETRY_MIN + 2 * RATE_LIMIT_RETRY_MAX)
    finally:
        server.close()
        await server.wait_closed()
    assert not limiter.shared
    # Each call tries a fresh connection once more: group the connections by call.
    calls = attempts[:: 1 + REDIS_RETRIES]
    assert len(attempts) == len(calls) * (1 + REDIS_RETRIES)
    # The first call fails, then one probe per back-off step: 0.5 s, 1 s, 2 s (then 2 s at
    # 5.5 s): in 5 s, 4 calls where one every 0.5 s would make 10.
    waited = gaps(calls)
    steps = [RATE_LIMIT_RETRY_MIN, 2 * RATE_LIMIT_RETRY_MIN, RATE_LIMIT_RETRY_MAX]
    assert waited == pytest.approx(steps, abs=0.2)


async def test_a_dropped_connection_is_replaced_not_an_outage(
    limiters: Callable[..., SharedRateLimiter],
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="tmdb_async")
    limiter = limiters(rate=50.0)
    await limiter.acquire()
    raw = redis.Redis.from_url(redis_server.url)
    try:
        # A failover, a proxy's idle timeout: the limiter's connection is closed under it.
        assert await raw.client_kill_filter(_type="normal", skipme=True) >= 1
        await limiter.acquire()
        assert limiter.shared
        assert caplog.records == []
        assert len(await raw.client_list()) == 2  # the limiter reconnected
    finally:
        await raw.aclose()


async def test_closing_during_an_acquisition_ends_it_cleanly(
    limiters: Callable[..., SharedRateLimiter], redis_server: RedisServer
) -> None:
    limiter = limiters(rate=50.0)
    await limiter.acquire()
    assert redis_server.process is not None
    redis_server.process.send_signal(signal.SIGSTOP)  # hung: the next call waits its timeout
    try:
        waiting = asyncio.create_task(limiter.acquire())
        queued = asyncio.create_task(limiter.acquire())  # behind it, on the process's lock
        await asyncio.sleep(0.1)
        await limiter.aclose()
        await asyncio.wait_for(asyncio.gather(waiting, queued), 5)
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
    await limiter.acquire()  # closed: returns, and opens no new connection
    assert limiter._redis is None


async def test_redis_killed_then_back(
    limiters: Callable[..., SharedRateLimiter],
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tmdb_async")
    first, second = limiters(rate=20.0), limiters(rate=20.0)
    await second.acquire()
    await first.acquire()
    assert first.peers == 2
    redis_server.kill()
    granted = await timed(first, 4)
    assert not first.shared
    # Its share: the budget over the two processes Redis last counted.
    assert all(gap == pytest.approx(1 / 10, abs=0.04) for gap in gaps(granted))
    await acquire_for(first, RATE_LIMIT_RETRY_MIN + RATE_LIMIT_RETRY_MAX)  # probes fail
    redis_server.start()
    started = time.monotonic()
    while not first.shared:  # a busy process probes within its longest back-off
        await first.acquire()
        assert time.monotonic() - started < RATE_LIMIT_RETRY_MAX + 0.5
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "goes on at 10/s of 20/s (its share among 2 processes" in warnings[0]
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(infos) == 1, infos
    assert f"rate budget {first.key} in Redis {redis_server.url} is reachable again" in infos[0]
    # Rejoined, still capped at the fallback share for the grace period.
    granted = await timed(first, 4)
    assert all(gap == pytest.approx(1 / 10, abs=0.04) for gap in gaps(granted))
    await asyncio.sleep(RATE_LIMIT_REJOIN_GRACE)
    granted = await timed(first, 4)
    assert all(gap == pytest.approx(1 / 20, abs=0.03) for gap in gaps(granted))


async def test_a_cancelled_probe_does_not_keep_the_limiter_off_redis(
    limiters: Callable[..., SharedRateLimiter], redis_server: RedisServer
) -> None:
    limiter = limiters(rate=100.0, scope="host")
    await limiter.acquire()
    redis_server.pause()  # hung: calls wait for their timeouts
    try:
        await limiter.acquire()  # times out: the outage begins
        assert not limiter.shared
        await asyncio.sleep(RATE_LIMIT_RETRY_MIN)
        probe = asyncio.create_task(limiter.acquire())
        await asyncio.sleep(0.2)
        assert not probe.done()  # the probe waits for the hung Redis; the others do not
        await limiter.acquire()
        probe.cancel()  # its caller left (a deadline)
        with pytest.raises(asyncio.CancelledError):
            await probe
    finally:
        redis_server.resume()
    # The next acquisition probes (before the fix: none ever did again) and rejoins.
    await acquire_for(limiter, 0.2)
    assert limiter.shared


async def test_aclose_is_idempotent_leaves_the_peers_and_closes_the_connection(
    limiters: Callable[..., SharedRateLimiter], redis_server: RedisServer
) -> None:
    limiter, other = limiters(), limiters()
    await limiter.acquire()
    await other.acquire()
    raw = redis.Redis.from_url(redis_server.url)
    try:
        assert len(await raw.client_list()) == 3
        assert await raw.zcard(peers_key(limiter.key)) == 2
        await limiter.aclose()
        await limiter.aclose()
        assert len(await raw.client_list()) == 2
        # The others' fallback share now counts one process fewer.
        assert await raw.zcard(peers_key(limiter.key)) == 1
    finally:
        await raw.aclose()


# -- through the client -------------------------------------------------------------------


async def test_the_client_shares_its_budget_and_its_429s(
    fake_tmdb: FakeTMDB, redis_server: RedisServer
) -> None:
    raw = redis.Redis.from_url(redis_server.url)
    options: dict[str, Any] = {
        "access_token": fake_tmdb.access_token,
        "base_url": fake_tmdb.url,
        "cache": None,
        "rate_limit": 30,
        "rate_limit_store": redis_server.url,
        "rate_limit_scope": "global",
    }
    try:
        async with TMDB(**options) as one, TMDB(**options) as two:
            await one.movies.details(550)
            key = budget_key("global")
            assert await raw.hget(key, "rate") == b"30"
            fake_tmdb.inject(RateLimited(retry_after=1), "/3/movie/*", count=1)
            await one.movies.details(551)  # 429, then the retry
            assert one.stats.rate_limited == 1
            await asyncio.sleep(0.05)
            assert float(await raw.hget(key, "rate") or 0) < 30  # halved, recovering
            await two.movies.details(552)
            assert await raw.zcard(f"{key}:peers") == 2
    finally:
        await raw.aclose()


async def test_a_deadline_leaves_the_shared_queue_clean(
    fake_tmdb: FakeTMDB, redis_server: RedisServer
) -> None:
    options: dict[str, Any] = {
        "access_token": fake_tmdb.access_token,
        "base_url": fake_tmdb.url,
        "cache": None,
        "rate_limit": 2,
        "rate_limit_store": redis_server.url,
        "rate_limit_scope": "deadline",
    }
    async with TMDB(**options) as tmdb:
        await tmdb.movies.details(1)  # the next shared slot is about 0.5 s away
        started = time.monotonic()
        bounded = tmdb.with_options(deadline=0.1)
        late = await asyncio.gather(
            *(bounded.movies.details(i) for i in range(2, 6)), return_exceptions=True
        )
        assert all(isinstance(error, DeadlineExceededError) for error in late), late
        assert all(error.phase is DeadlinePhase.QUEUED for error in late)  # type: ignore[union-attr]
        assert time.monotonic() - started < 0.3
        # The queue moves on: the callers that left hold no turn, at most the one slot the
        # first of them had reserved is lost, and the limiter is still sharing through Redis.
        await asyncio.gather(tmdb.movies.details(10), tmdb.movies.details(11))
        assert time.monotonic() - started < 2.0
        limiter = tmdb._transport._limiter
        assert isinstance(limiter, SharedRateLimiter)
        assert limiter.shared
    left = {f"/3/movie/{i}" for i in range(2, 6)}
    assert not [r for r in fake_tmdb.stats.requests if r.path in left]


def test_make_limiter() -> None:
    assert make_limiter(None) is None
    assert isinstance(make_limiter(10), RateLimiter)
    shared = make_limiter(10, store="redis://localhost:1/0", scope="global")
    assert isinstance(shared, SharedRateLimiter)
    assert shared.key == budget_key("global")


def test_without_redis_py_the_error_says_what_to_install() -> None:
    code = (
        "import sys; sys.modules['redis'] = None\n"
        "from tmdb_async import TMDB\n"
        "try:\n"
        "    TMDB(base_url='http://127.0.0.1:1', rate_limit_store='redis://localhost/0')\n"
        "except ImportError as err:\n"
        "    print(err)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=child_env(), timeout=60
    )
    assert done.stdout.strip() == (
        'rate_limit_store needs the "redis" extra: pip install "tmdb-async[redis]"'
    ), done.stderr
