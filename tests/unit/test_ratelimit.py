"""The token bucket on an injected clock: rate, burst, FIFO fairness, cancellation, AIMD."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from tmdb_async._clock import FakeClock
from tmdb_async._constants import (
    ADAPTIVE_COOLDOWN,
    ADAPTIVE_DECREASE,
    ADAPTIVE_INCREASE,
    ADAPTIVE_MIN_RATE,
)
from tmdb_async._ratelimit import RateLimiter


async def test_burst_then_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, burst=3, clock=clock)
    start = clock.now()
    times = []
    for _ in range(13):
        await limiter.acquire()
        times.append(clock.now() - start)
    assert times[:3] == [0, 0, 0]
    assert times[-1] == pytest.approx(1.0)
    gaps = [b - a for a, b in itertools.pairwise(times[3:])]
    assert all(gap == pytest.approx(0.1) for gap in gaps)


async def test_sliding_window_never_exceeds_rate_plus_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(35, burst=4, clock=clock)

    async def one() -> float:
        await limiter.acquire()
        return clock.now()

    times = sorted(await asyncio.gather(*(one() for _ in range(200))))
    for i, t in enumerate(times):
        in_window = sum(1 for u in times[i:] if u < t + 1.0 - 1e-9)
        assert in_window <= 39


async def test_refills_up_to_burst_only() -> None:
    clock = FakeClock()
    limiter = RateLimiter(5, burst=2, clock=clock)
    await limiter.acquire()
    clock.advance(100)
    for _ in range(2):
        await limiter.acquire()
    assert clock.sleeps == []
    await limiter.acquire()
    assert clock.sleeps == [pytest.approx(0.2)]


async def test_waiters_are_served_in_arrival_order() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1, burst=1, clock=clock)
    order: list[int] = []

    async def take(n: int) -> None:
        await limiter.acquire()
        order.append(n)

    tasks = []
    for n in range(6):
        tasks.append(asyncio.create_task(take(n)))
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert order == list(range(6))
    assert limiter.waiting == 0


async def test_a_newcomer_never_takes_a_token_while_an_earlier_waiter_sleeps() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1, burst=1, clock=clock)
    await limiter.acquire()  # the bucket is empty
    wake = asyncio.Event()
    real_sleep = clock.sleep

    async def held_sleep(seconds: float) -> None:  # the head sleeps until the test wakes it
        await wake.wait()
        await real_sleep(seconds)

    clock.sleep = held_sleep  # type: ignore[method-assign]
    order: list[int] = []

    async def take(n: int) -> None:
        await limiter.acquire()
        order.append(n)

    head = asyncio.create_task(take(0))
    await asyncio.sleep(0)
    assert limiter.waiting == 1  # asleep, waiting for the next token
    clock.advance(1.0)  # that token is in the bucket now, while the head still sleeps
    newcomers = [asyncio.create_task(take(n)) for n in (1, 2, 3)]
    for _ in range(10):
        await asyncio.sleep(0)
    assert order == []  # nobody took the sleeping head's token
    assert limiter.waiting == 4
    wake.set()
    await asyncio.gather(head, *newcomers)
    assert order == [0, 1, 2, 3]
    assert limiter.waiting == 0


async def test_cancelled_waiters_leave_no_trace_and_lose_no_token() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1, burst=1, clock=clock)
    await limiter.acquire()  # the bucket is now empty
    gate = asyncio.Event()

    async def blocked_sleep(seconds: float) -> None:
        await gate.wait()

    clock.sleep = blocked_sleep  # type: ignore[method-assign]
    head = asyncio.create_task(limiter.acquire())
    queued = [asyncio.create_task(limiter.acquire()) for _ in range(3)]
    await asyncio.sleep(0)
    assert limiter.waiting == 4
    for task in [head, *queued]:
        task.cancel()
    await asyncio.gather(head, *queued, return_exceptions=True)
    assert limiter.waiting == 0
    clock.advance(1.0)
    await asyncio.wait_for(limiter.acquire(), 10)  # the refilled token was not taken by the dead


async def test_cancelling_the_head_wakes_the_next() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1, burst=1, clock=clock)
    await limiter.acquire()
    gate = asyncio.Event()
    real_sleep = clock.sleep

    async def gated_sleep(seconds: float) -> None:
        await gate.wait()
        await real_sleep(seconds)

    clock.sleep = gated_sleep  # type: ignore[method-assign]
    head = asyncio.create_task(limiter.acquire())
    second = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    head.cancel()
    await asyncio.sleep(0)
    gate.set()
    await asyncio.wait_for(second, 10)
    assert head.cancelled()
    assert limiter.waiting == 0


async def test_bound_to_one_loop() -> None:
    limiter = RateLimiter(10)
    await limiter.acquire()

    def other_loop() -> None:
        asyncio.run(limiter.acquire())

    with pytest.raises(
        RuntimeError, match=r"first used in another event loop \(a second asyncio.run\(\)\?\)"
    ):
        await asyncio.to_thread(other_loop)


def test_invalid_rate() -> None:
    for rate in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="rate"):
            RateLimiter(rate)


async def test_adaptive_decrease_once_per_burst_of_429s() -> None:
    clock = FakeClock()
    limiter = RateLimiter(40, clock=clock)
    for _ in range(20):
        limiter.on_rate_limited()
    assert limiter.rate == 40 * ADAPTIVE_DECREASE
    clock.advance(ADAPTIVE_COOLDOWN)
    limiter.on_rate_limited()
    assert limiter.rate == 40 * ADAPTIVE_DECREASE**2
    for _ in range(50):
        clock.advance(ADAPTIVE_COOLDOWN)
        limiter.on_rate_limited()
    assert limiter.rate == ADAPTIVE_MIN_RATE


async def test_adaptive_additive_recovery_up_to_the_configured_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock)
    limiter.on_rate_limited()
    assert limiter.rate == 5
    limiter.on_success()
    assert limiter.rate == pytest.approx(5 + ADAPTIVE_INCREASE)
    for _ in range(1000):
        limiter.on_success()
    assert limiter.rate == 10


async def test_retry_after_pauses_every_waiter() -> None:
    clock = FakeClock()
    limiter = RateLimiter(100, clock=clock)
    start = clock.now()
    limiter.on_rate_limited(retry_after=3.0)
    await limiter.acquire()
    assert clock.now() - start >= 3.0


async def test_floor_never_exceeds_a_low_configured_rate() -> None:
    limiter = RateLimiter(0.5, clock=FakeClock())
    limiter.on_rate_limited()
    assert limiter.rate == 0.5


async def test_non_adaptive_ignores_429() -> None:
    limiter = RateLimiter(10, clock=FakeClock(), adaptive=False)
    limiter.on_rate_limited(5.0)
    assert limiter.rate == 10
