"""The `deadline` option against FakeTMDB: one bound on the rate limit queue, the attempts and
the back-off of a call, an error that says where the time went, and nothing shared broken by a
caller who leaves (the limiter's queue, a coalesced flight).

A deadline bounds waits on the loop's real clock, so most of these tests run in real time.
Each leaves at least a second between what the deadline allows and what the call would take
without it (a token 2 s away, a TMDB 10 s slow, a flight held until the test lets it land),
so that a stalled event loop on a busy 2-core machine neither fails them nor lets them pass
when the behaviour is broken. Back-off and Retry-After run on a FakeClock.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from tests._loopback import Loopback, serving
from tmdb_async import (
    TMDB,
    DeadlineExceededError,
    DeadlinePhase,
    Failure,
    ParameterError,
    RateLimitError,
    ServerError,
    TransportError,
)
from tmdb_async._clock import FakeClock
from tmdb_async._constants import RATE_LIMIT_BURST
from tmdb_async._generated.operations import MOVIES_DETAILS
from tmdb_async._options import resolve_options
from tmdb_async._retry import RetryPolicy
from tmdb_async._transport import Transport
from tmdb_async.testing import FakeTMDB, Latency, RateLimited
from tmdb_async.testing import ServerError as ServerFault

DETAILS = "movie-details"


@pytest.fixture
async def clients(fake_tmdb: FakeTMDB) -> AsyncIterator[Any]:
    made: list[TMDB] = []

    def make(**options: Any) -> TMDB:
        options.setdefault("rate_limit", None)
        options.setdefault("cache", None)
        client = TMDB(access_token=fake_tmdb.access_token, base_url=fake_tmdb.url, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


def asked_for(fake_tmdb: FakeTMDB, movie_id: int) -> int:
    return sum(1 for r in fake_tmdb.stats.requests if r.path == f"/3/movie/{movie_id}")


@dataclass
class Held(Loopback):
    """A TMDB that holds every movie's answer until the test sets `release`: a flight that
    surely outlasts the deadlines of its callers, however slow the machine."""

    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a request reaches the server."""
    release: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
async def held() -> AsyncIterator[Held]:
    state = Held()

    async def movie(request: web.Request) -> web.Response:
        state.requests.append(request)
        state.arrived.set()
        await state.release.wait()
        return web.json_response({"id": int(request.match_info["movie_id"])})

    async with serving(state, {"/3/movie/{movie_id}": movie}):
        try:
            yield state
        finally:
            state.release.set()


@pytest.fixture
async def held_client(held: Held) -> AsyncIterator[TMDB]:
    async with TMDB(access_token="t", base_url=held.url, cache=None, rate_limit=None) as tmdb:
        yield tmdb


async def test_a_call_queued_behind_the_rate_limit_fails_in_time_and_the_queue_moves_on(
    clients: Any, fake_tmdb: FakeTMDB
) -> None:
    tmdb = clients(rate_limit=0.5, deadline=0.5)  # after the burst, a token every 2 s
    await asyncio.gather(*(tmdb.movies.details(i) for i in range(1, RATE_LIMIT_BURST + 1)))
    started = time.monotonic()  # the bucket is empty: the next token comes in about 2 s
    with pytest.raises(DeadlineExceededError) as caught:
        await tmdb.movies.details(100)
    assert time.monotonic() - started < 1.5  # at the deadline (0.5 s), long before the token
    error = caught.value
    assert isinstance(error, TransportError)  # caught by `except TransportError` as well
    assert error.phase is DeadlinePhase.QUEUED
    assert 0.45 < error.queued_seconds < 1.5
    assert (error.upstream_seconds, error.backoff_seconds) == (0.0, 0.0)
    message = r"deadline of 0.5 s exceeded in the rate limit queue after \d+\.\d\d s"
    assert re.match(message, str(error))
    assert str(error.url).endswith("/3/movie/100")

    # The queue lost its waiter cleanly: the next call gets the token the one that left would
    # have had (about 2 s after the burst; 4 s if that one had taken it), and the call that
    # left never reaches TMDB.
    await tmdb.with_options(deadline=5.0).movies.details(101)
    assert time.monotonic() - started < 3.5
    await asyncio.sleep(0.3)
    assert asked_for(fake_tmdb, 100) == 0
    assert asked_for(fake_tmdb, 101) == 1
    assert tmdb.stats.errors["DeadlineExceededError"] == 1


async def test_a_write_queued_behind_the_rate_limit_leaves_the_queue_in_time(
    clients: Any, fake_tmdb: FakeTMDB
) -> None:
    tmdb = clients(rate_limit=0.5, deadline=0.5)  # a POST waits for its token in limiting
    session = fake_tmdb.create_session()
    await asyncio.gather(*(tmdb.movies.details(i) for i in range(1, RATE_LIMIT_BURST + 1)))
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError) as caught:
        await tmdb.movies.add_rating(550, value=8.0, session_id=session)
    assert time.monotonic() - started < 1.5  # the token is 2 s away
    assert caught.value.phase is DeadlinePhase.QUEUED
    assert len(caught.value.attempts) == 0  # nothing was sent
    assert (await tmdb.with_options(deadline=5.0).movies.details(101)).id == 101
    assert time.monotonic() - started < 3.5  # that token, not the next one (4 s)
    assert fake_tmdb.stats.count("movie-add-rating") == 0


async def test_a_slow_tmdb_is_named_as_where_the_time_went(
    clients: Any, fake_tmdb: FakeTMDB
) -> None:
    fake_tmdb.inject(Latency(10.0), DETAILS)
    tmdb = clients(deadline=0.3)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError) as caught:
        await tmdb.movies.details(550)
    assert time.monotonic() - started < 3.0  # at the deadline, not after TMDB's 10 s
    error = caught.value
    assert error.phase is DeadlinePhase.UPSTREAM
    assert 0.25 < error.upstream_seconds < 3.0
    assert error.queued_seconds == 0.0
    assert tmdb.stats.requests == 1


async def test_an_attempt_is_cut_to_the_time_left(clients: Any, fake_tmdb: FakeTMDB) -> None:
    fake_tmdb.inject(Latency(10.0), "movie-add-rating")
    tmdb = clients(deadline=0.3)  # a POST is not coalesced: the wire bounds its attempt
    session = fake_tmdb.create_session()
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError) as caught:
        await tmdb.movies.add_rating(550, value=8.0, session_id=session)
    assert time.monotonic() - started < 3.0  # at the deadline, not after TMDB's 10 s
    error = caught.value
    assert error.phase is DeadlinePhase.UPSTREAM
    cause = error.__cause__  # the attempt's own error: aiohttp's, cut to the deadline
    assert isinstance(cause, TransportError)
    assert cause.failure is Failure.TOTAL_TIMEOUT
    assert len(error.attempts) == 1  # not retried: no time was left
    assert session not in str(error)


def fake_clock_transport(fake_tmdb: FakeTMDB, clock: FakeClock, **options: Any) -> Transport:
    """A transport whose waits (back-off, Retry-After) and deadline run on `clock`."""
    return Transport(
        resolve_options(
            access_token=fake_tmdb.access_token,
            base_url=fake_tmdb.url,
            rate_limit=None,
            cache=None,
            **options,
        ),
        clock=clock,
        retry_policy=RetryPolicy(random=lambda: 1.0),  # back-off at its ceiling: 0.5, 1, 2...
    )


async def test_a_retry_after_longer_than_the_time_left_fails_at_once(
    fake_tmdb: FakeTMDB,
) -> None:
    fake_tmdb.inject(RateLimited(retry_after=30), DETAILS, count=1)
    clock = FakeClock(wall_start=time.time())
    transport = fake_clock_transport(fake_tmdb, clock, deadline=5.0)
    try:
        with pytest.raises(DeadlineExceededError) as caught:
            await transport.request(MOVIES_DETAILS, (550,), {})
    finally:
        await transport.aclose()
    assert clock.sleeps == []  # it did not sleep through the 30 s it could not use
    error = caught.value
    assert error.phase is DeadlinePhase.BACKOFF
    assert str(error).startswith("deadline of 5 s cannot be met: retry back-off needs 30.00 s")
    assert isinstance(error.__cause__, RateLimitError)
    assert error.__cause__.retry_after == 30
    assert len(error.attempts) == 1
    assert fake_tmdb.stats.count(DETAILS) == 1


async def test_retries_and_back_off_share_one_budget(fake_tmdb: FakeTMDB) -> None:
    clock = FakeClock(wall_start=time.time())
    # A Retry-After that fits is waited for, and the retry succeeds.
    fake_tmdb.inject(RateLimited(retry_after=1), DETAILS, count=1)
    fits = fake_clock_transport(fake_tmdb, clock, deadline=5.0)
    # 503s: back-off 0.5 s then 1 s; after the first, 1 s no longer fits in 1.2 s.
    failing = fake_clock_transport(fake_tmdb, clock, deadline=1.2)
    try:
        assert (await fits.request(MOVIES_DETAILS, (550,), {})).id == 550
        assert clock.sleeps == [1.0]
        fake_tmdb.inject(ServerFault(503), DETAILS)
        with pytest.raises(DeadlineExceededError) as caught:
            await failing.request(MOVIES_DETAILS, (551,), {})
    finally:
        await fits.aclose()
        await failing.aclose()
    assert clock.sleeps == [1.0, 0.5]
    error = caught.value
    assert error.phase is DeadlinePhase.BACKOFF
    assert error.backoff_seconds == 0.5
    assert len(error.attempts) == 2
    assert isinstance(error.__cause__, ServerError)


async def test_a_follower_that_gives_up_leaves_the_flight_to_the_others(
    held: Held, held_client: TMDB
) -> None:
    tmdb = held_client
    leader = asyncio.ensure_future(tmdb.with_options(deadline=60.0).movies.details(550))
    await held.arrived.wait()  # the leader's GET is at TMDB, held there
    started = time.monotonic()
    impatient = asyncio.ensure_future(tmdb.with_options(deadline=0.1).movies.details(550))
    patient = asyncio.ensure_future(tmdb.movies.details(550))  # no deadline
    with pytest.raises(DeadlineExceededError) as caught:
        await impatient
    waited = time.monotonic() - started
    assert caught.value.phase is DeadlinePhase.UPSTREAM  # where the shared flight was
    assert 0.05 < caught.value.upstream_seconds <= waited  # its own time on the flight
    held.release.set()
    first, second = await leader, await patient
    assert first.id == second.id == 550
    assert first is not second  # each caller has its own copy
    assert len(held.requests) == 1
    assert tmdb.stats.coalesced == 1


async def test_a_leader_that_gives_up_does_not_cancel_the_flight(
    held: Held, held_client: TMDB
) -> None:
    tmdb = held_client
    # Created together, the impatient one first: it starts the flight, the others join it
    # before any of them waits on anything.
    impatient = asyncio.ensure_future(tmdb.with_options(deadline=0.1).movies.details(550))
    patient = [asyncio.ensure_future(tmdb.movies.details(550)) for _ in range(2)]
    bounded = asyncio.ensure_future(tmdb.with_options(deadline=60.0).movies.details(550))
    with pytest.raises(DeadlineExceededError):
        await impatient
    await held.arrived.wait()
    held.release.set()
    movies = await asyncio.gather(*patient, bounded)
    assert [m.id for m in movies] == [550, 550, 550]
    assert len(held.requests) == 1  # one GET, never cancelled nor sent again


async def test_a_flight_nobody_waits_for_is_given_up(clients: Any, fake_tmdb: FakeTMDB) -> None:
    tmdb = clients(rate_limit=0.5, deadline=0.2)  # after the burst, a token every 2 s
    await asyncio.gather(*(tmdb.movies.details(i) for i in range(1, RATE_LIMIT_BURST + 1)))
    calls = [asyncio.ensure_future(tmdb.movies.details(100)) for _ in range(3)]
    for call in calls:
        with pytest.raises(DeadlineExceededError):
            await call
    # The next call queues behind every waiter left: the flight, had it stayed, would have
    # taken the next token and sent its GET first.
    assert (await tmdb.with_options(deadline=None).movies.details(101)).id == 101
    await asyncio.sleep(0.2)
    assert asked_for(fake_tmdb, 100) == 0


async def test_with_options_sets_changes_and_removes_the_deadline(
    clients: Any, fake_tmdb: FakeTMDB
) -> None:
    fake_tmdb.inject(Latency(10.0), "/3/movie/550")  # far beyond the deadline of 0.1 s
    tmdb = clients()
    assert tmdb.options.deadline is None
    bounded = tmdb.with_options(deadline=0.1)
    assert bounded.options.deadline == 0.1
    assert bounded.with_options(language="de-DE").options.deadline == 0.1  # kept unless given
    with pytest.raises(DeadlineExceededError):
        await bounded.movies.details(550)
    assert (await bounded.with_options(deadline=None).movies.details(551)).id == 551
    assert (await tmdb.movies.details(552)).id == 552
    with pytest.raises(ParameterError, match="deadline must be > 0"):
        tmdb.with_options(deadline=0)
    with pytest.raises(ParameterError, match="deadline must be a number"):
        clients(deadline="1")


async def test_without_a_deadline_calls_wait_as_long_as_they_must(
    clients: Any, fake_tmdb: FakeTMDB
) -> None:
    fake_tmdb.inject(Latency(0.3), DETAILS, count=1)
    tmdb = clients(rate_limit=2)
    started = time.monotonic()
    movies = await asyncio.gather(*(tmdb.movies.details(i) for i in range(1, RATE_LIMIT_BURST + 3)))
    assert [m.id for m in movies] == list(range(1, RATE_LIMIT_BURST + 3))
    assert time.monotonic() - started > 0.9  # two calls queued for 0.5 s and 1 s: no error
    assert tmdb.stats.errors == {}
