"""The resilient transport against FakeTMDB's faults, over real loopback sockets.

Retry waits run on a FakeClock (a `Retry-After: 30` costs nothing); the rate tests use the
real loop clock, because FakeTMDB time-stamps requests with it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests._waiting import eventually
from tmdb_async._clock import FakeClock
from tmdb_async._constants import RETRY_AFTER_MAX, RETRY_BASE_DELAY
from tmdb_async._errors import (
    DecodeError,
    Failure,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
)
from tmdb_async._generated.operations import (
    MOVIES_ACCOUNT_STATES,
    MOVIES_ADD_RATING,
    MOVIES_CREDITS,
    MOVIES_DELETE_RATING,
    MOVIES_DETAILS,
)
from tmdb_async._options import resolve_options
from tmdb_async._retry import RetryPolicy
from tmdb_async._transport import Transport
from tmdb_async.testing import (
    ConnectionReset,
    ErrorResponse,
    FakeTMDB,
    InvalidJSON,
    Latency,
    RateLimit,
    RateLimited,
    ResetMidBody,
    TruncatedJSON,
)
from tmdb_async.testing import ServerError as ServerFault

DETAILS = "movie-details"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(wall_start=time.time())


@pytest.fixture
async def make(fake_tmdb: FakeTMDB, clock: FakeClock) -> AsyncIterator[Any]:
    """Build transports on FakeTMDB (fake clock, jitter pinned to its ceiling); closed after."""
    made: list[Transport] = []

    def make(*, real_clock: bool = False, **options: Any) -> Transport:
        options.setdefault("rate_limit", None)
        options.setdefault("base_url", fake_tmdb.url)
        transport = Transport(
            resolve_options(access_token=fake_tmdb.access_token, **options),
            clock=None if real_clock else clock,
            retry_policy=RetryPolicy(max_retries=options.get("max_retries", 3), random=lambda: 1.0),
        )
        made.append(transport)
        return transport

    yield make
    for transport in made:
        await transport.aclose()


async def details(transport: Transport, movie_id: int = 550) -> Any:
    return await transport.request(MOVIES_DETAILS, (movie_id,), {})


def statuses(fake: FakeTMDB) -> list[int | None]:
    return [r.status for r in fake.stats.requests]


# -- 429 and Retry-After ------------------------------------------------------------------


async def test_429_retry_after_seconds(fake_tmdb: FakeTMDB, make: Any, clock: FakeClock) -> None:
    fake_tmdb.inject(RateLimited(retry_after=30), DETAILS, count=1)
    transport = make()
    movie = await details(transport)
    assert movie.id == 550
    assert clock.sleeps == [30.0]
    assert statuses(fake_tmdb) == [429, 200]
    stats = transport.stats
    assert (stats.requests, stats.retries, stats.rate_limited) == (2, 1, 1)


async def test_429_retry_after_http_date(fake_tmdb: FakeTMDB, make: Any, clock: FakeClock) -> None:
    fake_tmdb.inject(RateLimited(retry_after=20, http_date=True), DETAILS, count=1)
    await details(make())
    [delay] = clock.sleeps
    assert 18 <= delay <= 21  # the date has a one-second resolution
    assert fake_tmdb.stats.count(DETAILS) == 2


async def test_429_without_retry_after_backs_off(
    fake_tmdb: FakeTMDB, make: Any, clock: FakeClock
) -> None:
    fake_tmdb.inject(RateLimited(retry_after=None), DETAILS, count=2)
    await details(make())
    assert clock.sleeps == [RETRY_BASE_DELAY, RETRY_BASE_DELAY * 2]


async def test_retry_after_beyond_the_cap_raises_at_once(
    fake_tmdb: FakeTMDB, make: Any, clock: FakeClock
) -> None:
    fake_tmdb.inject(RateLimited(retry_after=int(RETRY_AFTER_MAX) + 1), DETAILS)
    transport = make()
    with pytest.raises(RateLimitError) as info:
        await details(transport)
    assert info.value.retry_after == RETRY_AFTER_MAX + 1
    assert len(info.value.attempts) == 1
    assert clock.sleeps == []
    assert transport.stats.errors == {"RateLimitError": 1}


async def test_post_is_retried_after_429(fake_tmdb: FakeTMDB, make: Any) -> None:
    session = fake_tmdb.create_session()
    fake_tmdb.inject(RateLimited(retry_after=1), "movie-add-rating", count=1)
    result = await make().request(
        MOVIES_ADD_RATING, (550,), {"session_id": session}, {"value": 8.5}
    )
    assert result.status_code in {1, 12}
    assert fake_tmdb.stats.count("movie-add-rating") == 2


# -- 5xx --------------------------------------------------------------------------------


async def test_503_html_is_retried(fake_tmdb: FakeTMDB, make: Any) -> None:
    fake_tmdb.inject(ServerFault(503), DETAILS, count=2)
    assert (await details(make())).id == 550
    assert statuses(fake_tmdb) == [503, 503, 200]


async def test_retry_budget_exhausted_carries_the_attempts(
    fake_tmdb: FakeTMDB, make: Any, clock: FakeClock
) -> None:
    fake_tmdb.inject(ServerFault(502), DETAILS)
    transport = make(max_retries=2)
    with pytest.raises(ServerError) as info:
        await details(transport)
    assert (info.value.http_status, len(info.value.attempts)) == (502, 3)
    assert len(clock.sleeps) == 2
    assert fake_tmdb.stats.count(DETAILS) == 3
    assert transport.stats.errors == {"ServerError": 1}


async def test_delete_is_retried_on_503(fake_tmdb: FakeTMDB, make: Any) -> None:
    session = fake_tmdb.create_session()
    transport = make()
    await transport.request(MOVIES_ADD_RATING, (550,), {"session_id": session}, {"value": 8.5})
    fake_tmdb.inject(ServerFault(503), "movie-delete-rating", count=1)
    await transport.request(MOVIES_DELETE_RATING, (550,), {"session_id": session})
    assert fake_tmdb.stats.count("movie-delete-rating") == 2


async def test_post_is_not_retried_on_503(fake_tmdb: FakeTMDB, make: Any) -> None:
    session = fake_tmdb.create_session()
    fake_tmdb.inject(ServerFault(503), "movie-add-rating", count=1)
    with pytest.raises(ServerError) as info:
        await make().request(MOVIES_ADD_RATING, (550,), {"session_id": session}, {"value": 8.5})
    assert len(info.value.attempts) == 1
    assert fake_tmdb.stats.count("movie-add-rating") == 1


async def test_tmdb_code_44_is_final_despite_the_5xx(fake_tmdb: FakeTMDB, make: Any) -> None:
    fake_tmdb.inject(ErrorResponse(500, 44, "The ID is invalid."), DETAILS)
    with pytest.raises(ServerError) as info:
        await details(make())
    assert (info.value.status_code, len(info.value.attempts)) == (44, 1)


# -- broken connections and bodies ---------------------------------------------------------


async def test_reset_before_response_is_retried(fake_tmdb: FakeTMDB, make: Any) -> None:
    fake_tmdb.inject(ConnectionReset(), DETAILS, count=1)
    assert (await details(make())).id == 550
    assert fake_tmdb.stats.count(DETAILS) == 2


async def test_reset_mid_body_is_retried_for_get(fake_tmdb: FakeTMDB, make: Any) -> None:
    fake_tmdb.inject(ResetMidBody(), DETAILS, count=1)
    transport = make()
    assert (await details(transport)).id == 550
    assert fake_tmdb.stats.count(DETAILS) == 2
    assert transport.stats.retries == 1


async def test_post_is_not_retried_after_a_mid_body_reset(fake_tmdb: FakeTMDB, make: Any) -> None:
    session = fake_tmdb.create_session()
    fake_tmdb.inject(ResetMidBody(), "movie-add-rating", count=1)
    with pytest.raises(TransportError) as info:
        await make().request(MOVIES_ADD_RATING, (550,), {"session_id": session}, {"value": 8.5})
    assert len(info.value.attempts) == 1
    assert fake_tmdb.stats.count("movie-add-rating") == 1


async def test_truncated_json_is_retried(fake_tmdb: FakeTMDB, make: Any) -> None:
    fake_tmdb.inject(TruncatedJSON(), DETAILS, count=2)
    assert (await details(make())).id == 550
    assert fake_tmdb.stats.count(DETAILS) == 3


async def test_always_truncated_json_ends_in_decode_error(fake_tmdb: FakeTMDB, make: Any) -> None:
    fake_tmdb.inject(TruncatedJSON(), DETAILS)
    with pytest.raises(DecodeError) as info:
        await details(make(max_retries=1))
    assert len(info.value.attempts) == 2


async def test_invalid_json_is_a_decode_error_without_retry(fake_tmdb: FakeTMDB, make: Any) -> None:
    fake_tmdb.inject(InvalidJSON(), DETAILS)
    with pytest.raises(DecodeError, match="not valid JSON") as info:
        await details(make())
    assert len(info.value.attempts) == 1
    assert fake_tmdb.stats.count(DETAILS) == 1


async def test_timeout_is_retried_then_a_transport_error(fake_tmdb: FakeTMDB, make: Any) -> None:
    fake_tmdb.inject(Latency(1.0), DETAILS)
    with pytest.raises(TransportError) as info:
        await details(make(timeout=0.05, max_retries=1))
    assert len(info.value.attempts) == 2
    assert info.value.failure is Failure.TOTAL_TIMEOUT


@pytest.mark.parametrize("post", [False, True])
async def test_connect_errors_are_retried_for_every_method(
    make: Any, clock: FakeClock, post: bool
) -> None:
    async with TestServer(web.Application(), host="127.0.0.1", port=0) as dead:
        base_url = str(dead.make_url("/"))
    transport = make(base_url=base_url, max_retries=2)
    call = (
        transport.request(MOVIES_ADD_RATING, (550,), {}, {"value": 8.5})
        if post
        else details(transport)
    )
    with pytest.raises(TransportError) as info:
        await call
    assert len(info.value.attempts) == 3
    assert len(clock.sleeps) == 2


# -- limits --------------------------------------------------------------------------------


def max_in_window(times: Sequence[float], window: float = 1.0) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_limiter_holds_the_configured_rate(fake_tmdb: FakeTMDB, make: Any) -> None:
    rate, burst = 200, 4
    transport = make(real_clock=True, rate_limit=rate)
    await asyncio.gather(*(details(transport, i) for i in range(1, 261)))
    times = list(fake_tmdb.stats.timestamps)
    assert len(times) == 260
    # The limiter spaces the sends; the server time-stamps arrivals on the same event loop, so
    # a stall between a send and its arrival (first connections, a busy machine) bunches them:
    # 15 % of slack holds one of 150 ms (without the limiter all 260 arrive within one second).
    # The span is bounded from below, which no stall can shorten.
    assert max_in_window(times) <= rate + burst + rate * 0.15
    assert times[-1] - times[0] >= (260 - burst) / rate * 0.95


async def test_adaptive_rate_converges_under_the_server_limit(
    fake_tmdb: FakeTMDB, make: Any
) -> None:
    # 50/s: far enough under what even a busy 2-core machine sends that 429s always come.
    fake_tmdb.inject(RateLimit(per_second=50))
    transport = make(real_clock=True, rate_limit=400)
    semaphore = asyncio.Semaphore(20)

    async def one(movie_id: int) -> int:
        async with semaphore:
            return int((await details(transport, movie_id)).id)

    ids = await asyncio.gather(*(one(i) for i in range(1, 201)))
    assert ids == list(range(1, 201))  # zero failed calls
    assert transport.stats.errors == {}
    limiter = transport._limiter
    assert limiter is not None
    assert limiter.rate < 400
    assert transport.stats.rate_limited == fake_tmdb.stats.by_status[429] > 0
    assert fake_tmdb.stats.by_status[429] < 100


async def test_connection_cap_is_held(fake_tmdb: FakeTMDB, make: Any) -> None:
    fake_tmdb.inject(Latency(0.02), DETAILS)
    transport = make(max_connections=5)
    await asyncio.gather(*(details(transport, i) for i in range(1, 41)))
    assert fake_tmdb.stats.max_in_flight == 5


class RecordingLimiter:
    """A `Limiter` that lets everything through and notes what the limiting stage tells it."""

    def __init__(self) -> None:
        self.events: list[object] = []

    async def acquire(self) -> None:
        self.events.append("acquire")

    def on_rate_limited(self, retry_after: float | None) -> None:
        self.events.append(("429", retry_after))

    def on_success(self) -> None:
        self.events.append("ok")

    async def aclose(self) -> None:
        self.events.append("closed")


async def test_any_limiter_plugs_in_and_hears_every_attempt(
    fake_tmdb: FakeTMDB, clock: FakeClock
) -> None:
    limiter = RecordingLimiter()
    transport = Transport(
        resolve_options(access_token=fake_tmdb.access_token, base_url=fake_tmdb.url),
        clock=clock,
        retry_policy=RetryPolicy(random=lambda: 1.0),
        limiter=limiter,
    )
    fake_tmdb.inject(RateLimited(retry_after=2), DETAILS, count=1)
    fake_tmdb.inject(ConnectionReset(), "movie-credits", count=2)  # aiohttp resends once itself
    await details(transport)
    await transport.request(MOVIES_CREDITS, (550,), {})
    await transport.aclose()
    assert limiter.events == [
        *("acquire", ("429", 2.0), "acquire", "ok"),  # details: a 429, then a 200
        *("acquire", "acquire", "ok"),  # credits: a dropped connection says nothing
        "closed",
    ]


# -- single-flight and cancellation ---------------------------------------------------------


async def test_identical_concurrent_gets_send_one_request(fake_tmdb: FakeTMDB, make: Any) -> None:
    fake_tmdb.inject(Latency(0.05), DETAILS)
    transport = make()
    movies = await asyncio.gather(*(details(transport) for _ in range(50)))
    assert fake_tmdb.stats.count(DETAILS) == 1
    assert all(m == movies[0] for m in movies)
    assert len({id(m) for m in movies}) == 50  # each caller owns its copy
    assert (transport.stats.requests, transport.stats.coalesced) == (1, 49)
    assert len(transport._flights) == 0


async def test_single_flight_is_scoped_by_session(fake_tmdb: FakeTMDB, make: Any) -> None:
    fake_tmdb.inject(Latency(0.05), "movie-account-states")
    transport = make()
    sessions = [fake_tmdb.create_session(), fake_tmdb.create_session()]
    await asyncio.gather(
        *(transport.request(MOVIES_ACCOUNT_STATES, (550,), {"session_id": s}) for s in sessions * 3)
    )
    assert fake_tmdb.stats.count("movie-account-states") == 2


async def test_an_error_reaches_every_coalesced_caller(fake_tmdb: FakeTMDB, make: Any) -> None:
    fake_tmdb.inject(Latency(0.05), DETAILS)
    fake_tmdb.inject(ErrorResponse(404, 34, "Not found."), DETAILS)
    transport = make()
    results = await asyncio.gather(*(details(transport) for _ in range(10)), return_exceptions=True)
    assert all(isinstance(r, NotFoundError) and r.http_status == 404 for r in results)
    assert fake_tmdb.stats.count(DETAILS) == 1
    assert transport.stats.errors == {"NotFoundError": 10}


async def test_a_cancelled_leader_hands_its_flight_to_a_follower(
    fake_tmdb: FakeTMDB, make: Any
) -> None:
    fake_tmdb.inject(Latency(60), DETAILS, count=1)  # the leader's answer never comes in time
    transport = make()
    leader = asyncio.create_task(details(transport))
    await eventually(lambda: fake_tmdb.stats.count(DETAILS) == 1, "the leader's GET at TMDB")
    followers = [asyncio.create_task(details(transport)) for _ in range(5)]
    for _ in range(20):  # turns of the loop, not time: the followers join without any I/O
        await asyncio.sleep(0)
    leader.cancel()
    movies = await asyncio.gather(*followers)
    assert leader.cancelled()
    assert all(m == movies[0] for m in movies)
    # The leader's request was dropped; one follower sent its own, the others shared it.
    assert transport.stats.requests == 2
    assert transport.stats.coalesced == 4
    assert len(transport._flights) == 0


async def test_cancellation_leaves_nothing_behind(fake_tmdb: FakeTMDB, make: Any) -> None:
    fake_tmdb.inject(Latency(30), DETAILS)
    transport = make(real_clock=True, max_connections=2, rate_limit=50)
    # 2 on the wire, the rest queued for a connection or a token; duplicates coalesced.
    tasks = [asyncio.create_task(details(transport, i % 6 + 1)) for i in range(1, 25)]
    await eventually(lambda: fake_tmdb.stats.in_flight == 2, "two requests at TMDB")
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert all(task.cancelled() for task in tasks)
    assert len(transport._flights) == 0
    limiter = transport._limiter
    assert limiter is not None
    assert limiter.waiting == 0
    # The server sees the cancelled requests' connections close.
    await eventually(lambda: fake_tmdb.stats.in_flight == 0, "no request in flight")
    # Both connections and the tokens are usable again at once.
    fake_tmdb.faults.clear()
    movies = await asyncio.wait_for(asyncio.gather(*(details(transport, i) for i in (1, 2, 3))), 10)
    assert [m.id for m in movies] == [1, 2, 3]


async def test_a_retry_after_aclose_opens_nothing(
    fake_tmdb: FakeTMDB, make: Any, clock: FakeClock
) -> None:
    fake_tmdb.inject(ServerFault(503), DETAILS)
    backing_off, back_off_ends = asyncio.Event(), asyncio.Event()
    sleep = clock.sleep

    async def held_back_off(seconds: float) -> None:  # lasts until the test ends it
        backing_off.set()
        await back_off_ends.wait()
        await sleep(seconds)

    clock.sleep = held_back_off  # type: ignore[method-assign]
    transport = make()
    call = asyncio.create_task(details(transport))
    await backing_off.wait()  # the 503 came back; the retry is waiting
    assert fake_tmdb.stats.count(DETAILS) == 1
    await transport.aclose()  # lands in the back-off
    back_off_ends.set()
    with pytest.raises(RuntimeError, match="closed"):
        await call
    assert transport._wire.session is None
    assert fake_tmdb.stats.count(DETAILS) == 1
