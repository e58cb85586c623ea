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
from tests._waiting import eventually
from tests.conftest import RedisServer, _free_port
from tmdb_async import TMDB, DeadlineExceededError, DeadlinePhase
from tmdb_async._clock import FakeClock
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


async def granted_at(limiter: SharedRateLimiter, clock: FakeClock) -> float:
    """When one acquisition was granted, on the limiter's FakeClock (one at a time: while one
    caller waits on a socket, another's sleep would move the shared fake time)."""
    await limiter.acquire()
    return clock.now()


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(sorted(times))]


async def test_two_limiters_share_one_budget_fairly(
    limiters: Callable[..., SharedRateLimiter],
) -> None:
    first, second = limiters(), limiters()
    start = time.monotonic()
    a, b = await asyncio.gather(timed(first, 15), timed(second, 15))
    # 30 slots 1/20 s apart, whoever asks (each budget alone would be done in 0.7 s): the last
    # never sooner than 29 intervals after the start, since Redis never books a slot early.
    # A busy machine wakes a caller late, so only the lower bound is tight; the upper one
    # leaves a second for that, and still fails a budget twice as slow (2.9 s).
    last = max(a + b) - start
    assert 29 / 20 - 0.01 <= last < 29 / 20 + 1.0
    # Fair: they take turns (each process holds one reservation at a time), whatever the
    # timing: at no point has one been granted more than two more than the other.
    turns = [owner for _, owner in sorted([(t, 1) for t in a] + [(t, -1) for t in b])]
    assert max(abs(balance) for balance in itertools.accumulate(turns)) <= 2
    assert first.peers == second.peers == 2


async def test_a_429_seen_by_one_pauses_and_slows_the_other(
    limiters: Callable[..., SharedRateLimiter],
) -> None:
    first, second = limiters(), limiters()
    await first.acquire()
    start = time.monotonic()
    first.on_rate_limited(1.0)
    await eventually(lambda: first.rate == 10.0, "the 429 reported (in the background)")
    await second.acquire()
    # The pause runs from the report, which came after `start`: never less than the
    # Retry-After; a busy machine may add to it, but not the second Retry-After of a
    # doubled pause.
    assert 1.0 - 0.01 <= time.monotonic() - start < 1.8
    assert second.rate == 10.0


async def test_successes_are_carried_by_the_next_call(
    limiters: Callable[..., SharedRateLimiter],
) -> None:
    limiter = limiters()
    await limiter.acquire()
    limiter.on_rate_limited(None)
    await eventually(lambda: limiter.rate == 10.0, "the 429 reported (in the background)")
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
    clock = FakeClock()  # never reaching Redis, the limiter lives on its clock alone
    limiter = limiters(rate=40.0, url=url, scope=scope, clock=clock)
    granted = [await granted_at(limiter, clock) for _ in range(3)]
    assert not limiter.shared
    assert f"local {share:g}/s" in repr(limiter)
    assert gaps(granted) == pytest.approx([1 / share] * 2)
    await acquire_for(limiter, 3 * RATE_LIMIT_RETRY_MIN, clock.now)  # failed probes log nothing
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1, warnings
    assert (
        "failed to take a slot (ConnectionError: Error 111 connecting to 127.0.0.1:"
        in (warnings[0])
    )
    assert f"this process goes on at {share:.3g}/s of 40/s" in warnings[0]
    assert "secret-pw" not in warnings[0] + repr(limiter)


async def acquire_for(
    limiter: SharedRateLimiter, seconds: float, now: Callable[[], float] = time.monotonic
) -> None:
    """Acquire one after another for `seconds` of `now()` (a busy process)."""
    end = now() + seconds
    while now() < end:
        await limiter.acquire()


async def test_probes_of_an_unreachable_redis_back_off(
    limiters: Callable[..., SharedRateLimiter],
) -> None:
    attempts: list[float] = []
    clock = FakeClock()  # the back-off and the local share run on it: exact, in no time

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        attempts.append(clock.now())  # a server that drops every connection at once
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    rate = 1000.0
    try:
        url = f"redis://127.0.0.1:{port}/0"
        limiter = limiters(rate=rate, url=url, scope="host", clock=clock)
        seconds = 2 * RATE_LIMIT_RETRY_MIN + 2 * RATE_LIMIT_RETRY_MAX
        await acquire_for(limiter, seconds, clock.now)
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
    # A probe rides on the first token of the local share after its back-off.
    token = (os.cpu_count() or 1) / rate
    assert waited == pytest.approx(steps, abs=token + 1e-9)


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
    # Real time (Redis keeps the shared schedule on its clock). Token buckets never grant
    # early, so the tight bounds are lower ones: a busy machine only makes grants later.
    started = time.monotonic()
    granted = await timed(first, 4)
    assert not first.shared
    # Its share: the budget over the two processes Redis last counted, 10/s from an empty
    # bucket: the 4th token 0.4 s after the start (0.2 s at the whole 20/s; 4 s at the
    # minimum rate of a process that never counted its peers).
    assert 0.4 - 0.01 <= max(granted) - started < 2.0
    await acquire_for(first, RATE_LIMIT_RETRY_MIN + RATE_LIMIT_RETRY_MAX)  # probes fail
    redis_server.start()
    started = time.monotonic()
    while not first.shared:  # a busy process probes within its longest back-off
        await first.acquire()
        assert time.monotonic() - started < RATE_LIMIT_RETRY_MAX + 2.0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "goes on at 10/s of 20/s (its share among 2 processes" in warnings[0]
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(infos) == 1, infos
    assert f"rate budget {first.key} in Redis {redis_server.url} is reachable again" in infos[0]
    # Rejoined, still capped at the fallback share for the grace period: 4 grants at 10/s
    # (the first may find a token) take 0.3 s at least, 0.15 s at the whole 20/s.
    started = time.monotonic()
    granted = await timed(first, 4)
    assert 0.3 - 0.01 <= max(granted) - started < 2.0
    await asyncio.sleep(RATE_LIMIT_REJOIN_GRACE)
    # Then the whole rate: 21 grants at 20/s (the first on an idle budget at once) take 1 s,
    # 2 s if still capped.
    started = time.monotonic()
    granted = await timed(first, 21)
    assert 1.0 - 0.01 <= max(granted) - started < 1.8


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

            async def halved() -> bool:  # reported in the background; recovering since
                return float(await raw.hget(key, "rate") or 0) < 30

            await eventually(halved, "the 429 in the shared budget")
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
        "rate_limit": 1,
        "rate_limit_store": redis_server.url,
        "rate_limit_scope": "deadline",
    }
    async with TMDB(**options) as tmdb:
        await tmdb.movies.details(1)  # the next shared slot is about 1 s away
        started = time.monotonic()
        bounded = tmdb.with_options(deadline=0.1)
        late = await asyncio.gather(
            *(bounded.movies.details(i) for i in range(2, 6)), return_exceptions=True
        )
        assert all(isinstance(error, DeadlineExceededError) for error in late), late
        assert all(error.phase is DeadlinePhase.QUEUED for error in late)  # type: ignore[union-attr]
        assert time.monotonic() - started < 0.7  # at the deadline, not at the slot (1 s)
        # The queue moves on: the callers that left hold no turn, at most the one slot the
        # first of them had reserved is lost (slots at 1 s and 2 s, or 3 s; 6 s if every one
        # that left had kept its turn), and the limiter is still sharing through Redis.
        await asyncio.gather(tmdb.movies.details(10), tmdb.movies.details(11))
        assert time.monotonic() - started < 4.5
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
