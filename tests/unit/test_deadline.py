"""The deadline's bookkeeping (a fake clock), its error, and a wait for the rate limiter bounded
by it (the real loop: the limiter's queue must survive the cancelled waiter)."""

from __future__ import annotations

import asyncio
import math

import pytest

from tmdb_async._deadline import Deadline, Phase
from tmdb_async._errors import DeadlineExceededError, TMDBError, TransportError
from tmdb_async._ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_remaining_elapsed_and_allows() -> None:
    clock = Clock()
    deadline = Deadline(0.5, clock)
    assert (deadline.elapsed, deadline.remaining, deadline.expired()) == (0.0, 0.5, False)
    assert deadline.allows(0.4)
    assert not deadline.allows(0.5)  # a wait that ends at the deadline leaves nothing to use
    clock.now += 0.3
    assert deadline.remaining == pytest.approx(0.2)
    clock.now += 0.3
    assert (deadline.remaining, deadline.expired()) == (0.0, True)


def test_the_error_says_where_the_time_went() -> None:
    clock = Clock()
    deadline = Deadline(1.0, clock)
    with deadline.phase(Phase.CACHE):
        clock.now += 0.0625
    with deadline.phase(Phase.QUEUED):
        clock.now += 0.5
    with deadline.phase(Phase.UPSTREAM):
        clock.now += 0.25
    with deadline.phase(Phase.BACKOFF):
        clock.now += 0.125
    with deadline.phase(Phase.UPSTREAM):
        clock.now += 0.0625
        assert deadline.expired()
        error = deadline.exceeded(method="GET", url="https://x/3/movie/550?api_key=SECRET")
    assert isinstance(error, TransportError)
    assert isinstance(error, TMDBError)
    assert error.phase == "TMDB"  # where the time ran out
    assert error.deadline == 1.0
    assert error.elapsed == 1.0
    assert error.queued_seconds == 0.5
    assert error.upstream_seconds == 0.3125
    assert error.backoff_seconds == 0.125
    assert error.cache_seconds == 0.0625
    message = str(error)
    assert message.startswith("deadline of 1 s exceeded in TMDB after 1.00 s (0.50 s queued")
    assert "0.31 s waiting on TMDB, 0.12 s in retry back-off, 0.06 s reading the cache" in message
    assert message.endswith(": GET https://x/3/movie/550?api_key=***")
    assert "SECRET" not in message
    assert error.url is not None
    assert "SECRET" not in error.url


def test_a_wait_that_cannot_fit_fails_early_and_says_so() -> None:
    clock = Clock()
    deadline = Deadline(2.0, clock)
    with deadline.phase(Phase.UPSTREAM):
        clock.now += 0.5
    assert not deadline.allows(30.0)  # a Retry-After: 30
    error = deadline.exceeded(Phase.BACKOFF, needed=30.0)
    assert error.phase == "retry back-off"
    assert str(error).startswith(
        "deadline of 2 s cannot be met: retry back-off needs 30.00 s, 1.50 s left (0.00 s queued"
    )
    assert "reading the cache" not in str(error)  # no cache time, no mention
    # Outside any block, the phase is the one charged last.
    assert deadline.exceeded().phase == "TMDB"


def test_phases_do_not_nest_and_a_deadline_is_positive() -> None:
    deadline = Deadline(1.0, Clock())
    queued, nested = deadline.phase(Phase.QUEUED), deadline.phase(Phase.UPSTREAM)
    with queued, pytest.raises(RuntimeError, match="do not nest"), nested:
        pass
    for bad in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="> 0"):
            Deadline(bad, Clock())


def test_without_a_limit_it_only_keeps_the_accounts() -> None:
    clock = Clock()
    timeline = Deadline(math.inf, clock)
    with timeline.phase(Phase.QUEUED):
        clock.now += 1e6
        assert timeline.spent(Phase.QUEUED) == 1e6  # the running charge counts
    assert (timeline.expired(), timeline.allows(1e9)) == (False, True)
    assert repr(timeline) == "<Deadline inf s, no limit>"


async def test_a_deadline_bounds_the_wait_for_a_token_and_the_queue_survives() -> None:
    loop = asyncio.get_running_loop()
    limiter = RateLimiter(1.0, burst=1, adaptive=False)
    await limiter.acquire()  # this second's token: the next one is about 1 s away
    deadline = Deadline(0.5, loop.time)

    async def queued_call() -> None:  # the limiting stage, as the wiring plan has it
        with deadline.phase(Phase.QUEUED):
            try:
                await asyncio.wait_for(limiter.acquire(), deadline.remaining)
            except asyncio.TimeoutError:
                raise deadline.exceeded() from None

    started = loop.time()
    with pytest.raises(DeadlineExceededError) as caught:
        await queued_call()
    assert loop.time() - started < 0.6
    assert caught.value.phase == "the rate limit queue"
    assert 0.45 < caught.value.queued_seconds < 0.6
    assert limiter.waiting == 0
    await asyncio.wait_for(limiter.acquire(), 1.0)  # the next call gets its token on time
