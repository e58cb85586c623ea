"""The deadline's bookkeeping on a fake clock: time left, phases, the error, a shared flight's
timeline (the pipeline's use of it: tests/integration/test_deadline.py)."""

from __future__ import annotations

import asyncio
import math

import pytest

from tmdb_async._deadline import Deadline, DeadlinePhase, Timeline, wait_done
from tmdb_async._errors import TMDBError, TransportError


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
    with deadline.phase(DeadlinePhase.CACHE):
        clock.now += 0.0625
    with deadline.phase(DeadlinePhase.QUEUED):
        clock.now += 0.5
    with deadline.phase(DeadlinePhase.UPSTREAM):
        clock.now += 0.25
    with deadline.phase(DeadlinePhase.BACKOFF):
        clock.now += 0.125
    with deadline.phase(DeadlinePhase.UPSTREAM):
        clock.now += 0.0625
        assert deadline.expired()
        error = deadline.exceeded(method="GET", url="https://x/3/movie/550?api_key=SECRET")
    assert isinstance(error, TransportError)
    assert isinstance(error, TMDBError)
    assert error.phase is DeadlinePhase.UPSTREAM  # where the time ran out
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
    with deadline.phase(DeadlinePhase.UPSTREAM):
        clock.now += 0.5
    assert not deadline.allows(30.0)  # a Retry-After: 30
    error = deadline.exceeded(DeadlinePhase.BACKOFF, needed=30.0)
    assert error.phase is DeadlinePhase.BACKOFF
    assert str(error).startswith(
        "deadline of 2 s cannot be met: retry back-off needs 30.00 s, 1.50 s left (0.00 s queued"
    )
    assert "reading the cache" not in str(error)  # no cache time, no mention
    # Outside any block, the phase is the one charged last.
    assert deadline.exceeded().phase is DeadlinePhase.UPSTREAM


def test_phases_do_not_nest_and_a_deadline_is_positive() -> None:
    deadline = Deadline(1.0, Clock())
    queued, nested = deadline.phase(DeadlinePhase.QUEUED), deadline.phase(DeadlinePhase.UPSTREAM)
    with queued, pytest.raises(RuntimeError, match="do not nest"), nested:
        pass
    for bad in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="> 0"):
            Deadline(bad, Clock())


def test_without_a_limit_it_only_keeps_the_accounts() -> None:
    clock = Clock()
    timeline = Deadline(math.inf, clock)
    with timeline.phase(DeadlinePhase.QUEUED):
        clock.now += 1e6
        assert timeline.spent(DeadlinePhase.QUEUED) == 1e6  # the running charge counts
    assert (timeline.expired(), timeline.allows(1e9)) == (False, True)
    assert repr(timeline) == "<Deadline inf s, no limit>"


def test_a_shared_flight_allows_a_wait_one_of_its_callers_can_use() -> None:
    clock = Clock()
    short, long = Deadline(1.0, clock), Deadline(40.0, clock)
    timeline = short.timeline()
    assert isinstance(timeline, Timeline)
    assert (timeline.remaining, timeline.expired()) == (math.inf, False)  # never bounds a wait
    timeline.waiting.append(short)
    assert not timeline.allows(30.0)  # a Retry-After: 30 nobody can use
    timeline.waiting.append(long)
    assert timeline.allows(30.0)
    timeline.waiting[:] = [short, None]  # a caller without a deadline can use any wait
    assert timeline.allows(1e9)


def test_a_follower_is_charged_with_the_flight_time_since_it_joined() -> None:
    clock = Clock()
    flight = Deadline(1.0, clock).timeline()
    with flight.phase(DeadlinePhase.QUEUED):
        clock.now += 2.0  # before the follower came
        follower = Deadline(0.5, clock)
        mark = flight.mark()
        clock.now += 0.25
    with flight.phase(DeadlinePhase.UPSTREAM):
        clock.now += 0.125
        follower.charge_since(flight, mark)
    error = follower.exceeded()
    assert error.phase is DeadlinePhase.UPSTREAM  # where the flight is now
    assert (error.queued_seconds, error.upstream_seconds) == (0.25, 0.125)
    # A flight that kept no accounts (its leader had no deadline): waiting on TMDB.
    silent = Deadline(1.0, clock).timeline()
    other = Deadline(0.5, clock)
    mark = silent.mark()
    clock.now += 0.5
    other.charge_since(silent, mark)
    assert (other.spent(DeadlinePhase.UPSTREAM), other.exceeded().phase) == (
        0.5,
        DeadlinePhase.UPSTREAM,
    )


async def test_within_cancels_what_runs_past_the_deadline() -> None:
    # `within` waits on the loop's real clock for the time left: a deadline of 30 s that
    # surely outlasts sleep(0) on a busy machine, one of 0.05 s that sleep(10) surely misses.
    assert await Deadline(30.0, Clock()).within(asyncio.sleep(0)) is True
    deadline = Deadline(0.05, Clock())
    cancelled = asyncio.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    assert await deadline.within(slow()) is False
    assert cancelled.is_set()
    assert await deadline.timeline().within(asyncio.sleep(0.06)) is True  # no limit


async def test_wait_done_never_cancels_what_it_waits_for() -> None:
    loop = asyncio.get_running_loop()
    slow = loop.create_future()
    assert await wait_done(slow, 0.01) is False
    assert not slow.cancelled()
    loop.call_later(0.01, slow.set_result, 7)
    assert await wait_done(slow, None) is True
    assert slow.result() == 7
    assert await wait_done(slow, 0.0) is True  # already done: no wait
