"""The memory cache against FakeTMDB: hits, keys, classes, revalidation, 404s, single-flight."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tmdb_async import TMDB
from tmdb_async._cache import MemoryCache
from tmdb_async._clock import FakeClock
from tmdb_async._constants import CACHE_NEGATIVE_TTL
from tmdb_async._errors import DecodeError, NotFoundError
from tmdb_async._generated.operations import (
    AUTHENTICATION_VALIDATE_KEY,
    CHANGES_MOVIE_LIST,
    CONFIGURATION_DETAILS,
    MOVIE_LISTS_POPULAR,
    MOVIES_DETAILS,
)
from tmdb_async._operation import Operation
from tmdb_async._options import resolve_options
from tmdb_async._transport import Transport
from tmdb_async.testing import CacheHeaders, FakeTMDB, InvalidJSON, Latency

DETAILS = "movie-details"
DAY = 24 * 3600
TICK = 0.001
"""How far either side of an expiry time the tests look: an entry lives exactly its TTL."""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(wall_start=time.time())


@pytest.fixture
async def transport(fake_tmdb: FakeTMDB, clock: FakeClock) -> AsyncIterator[Any]:
    """Transports on FakeTMDB whose cache reads the fake clock; closed after the test."""
    made: list[Transport] = []

    def make(**options: Any) -> Transport:
        options.setdefault("rate_limit", None)
        built = Transport(
            resolve_options(access_token=fake_tmdb.access_token, base_url=fake_tmdb.url, **options),
            clock=clock,
        )
        made.append(built)
        return built

    yield make
    for built in made:
        await built.aclose()


async def details(transport: Transport, movie_id: int = 550) -> Any:
    return await transport.request(MOVIES_DETAILS, (movie_id,), {})


async def test_a_second_identical_request_is_served_from_memory(
    tmdb: TMDB, fake_tmdb: FakeTMDB
) -> None:
    first = await tmdb.movies.details(550)
    second = await tmdb.movies.details(550)
    assert first == second
    assert first is not second  # each caller gets its own decoded Struct
    assert fake_tmdb.stats.count(DETAILS) == 1
    stats = tmdb.stats
    assert (stats.cache_hits, stats.cache_misses, stats.requests) == (1, 1, 1)


async def test_append_order_shares_an_entry_and_other_arguments_do_not(
    tmdb: TMDB, fake_tmdb: FakeTMDB
) -> None:
    await tmdb.movies.details(550, append_to_response=["credits", "images"])
    movie = await tmdb.movies.details(550, append_to_response=["images", "credits"])
    assert movie.credits is not None
    assert fake_tmdb.stats.count(DETAILS) == 1
    await tmdb.movies.details(550)
    await tmdb.movies.details(551)
    await tmdb.movies.details(550, language="fr-FR")
    assert fake_tmdb.stats.count(DETAILS) == 4


async def test_cache_none_and_a_zero_ttl_disable_caching(fake_tmdb: FakeTMDB) -> None:
    for options in ({"cache": None}, {"cache_ttl": {"detail": 0}}):
        fake_tmdb.reset_stats()
        async with TMDB(
            access_token=fake_tmdb.access_token, base_url=fake_tmdb.url, **options
        ) as tmdb:
            await tmdb.movies.details(550)
            await tmdb.movies.details(550)
            assert fake_tmdb.stats.count(DETAILS) == 2
            assert tmdb.stats.cache_hits == 0


async def test_session_scoped_and_non_get_requests_are_never_cached(
    tmdb: TMDB, fake_tmdb: FakeTMDB
) -> None:
    alice, bob = fake_tmdb.create_session(1), fake_tmdb.create_session(2)
    guest = fake_tmdb.create_guest_session()
    await tmdb.movies.add_rating(550, value=8.5, session_id=alice)
    await tmdb.movies.add_rating(550, value=8.5, session_id=alice)
    assert fake_tmdb.stats.count("movie-add-rating") == 2

    mine = await tmdb.movies.account_states(550, session_id=alice)
    theirs = await tmdb.movies.account_states(550, session_id=bob)
    again = await tmdb.movies.account_states(550, session_id=alice)
    assert fake_tmdb.stats.count("movie-account-states") == 3
    assert mine == again
    assert mine != theirs  # bob never sees alice's rating
    await tmdb.guest_sessions.rated_movies(guest)
    await tmdb.guest_sessions.rated_movies(guest)
    assert fake_tmdb.stats.count("guest-session-rated-movies") == 2
    await tmdb.account.details(1, session_id=alice)
    await tmdb.account.details(1, session_id=alice)
    assert fake_tmdb.stats.count("account-details") == 2

    cache = tmdb._transport._cache
    assert cache is not None
    assert cache.memory is not None
    assert len(cache.memory) == 0
    assert (tmdb.stats.cache_hits, tmdb.stats.cache_misses) == (0, 0)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as borrowed:
        yield borrowed


@pytest.mark.parametrize("borrowed", [False, True], ids=["own-pool", "borrowed-session"])
async def test_a_stale_entry_is_revalidated_with_if_none_match(
    transport: Any,
    fake_tmdb: FakeTMDB,
    clock: FakeClock,
    session: aiohttp.ClientSession,
    borrowed: bool,
) -> None:
    # Both wires hand the cache the response headers (ETag, Cache-Control) by the same names.
    client: Transport = transport(session=session if borrowed else None)
    first = await details(client)
    assert "If-None-Match" not in fake_tmdb.stats.last.headers

    clock.advance(3_601)  # FakeTMDB: detail responses say max-age=3600
    second = await details(client)
    assert second == first
    request = fake_tmdb.stats.last
    cache = client._cache
    assert cache is not None
    stored = await cache.get(cache.key("GET", f"{fake_tmdb.url}/3/movie/550"))
    assert stored is not None
    assert request.headers["If-None-Match"] == stored.etag
    assert request.status == 304
    assert client.stats.revalidated == 1

    third = await details(client)  # refreshed: fresh again, no request
    assert third == first
    assert fake_tmdb.stats.count(DETAILS) == 2
    assert (client.stats.cache_hits, client.stats.cache_misses) == (1, 2)


async def test_the_smaller_of_class_ttl_and_max_age_wins(
    transport: Any, fake_tmdb: FakeTMDB, clock: FakeClock
) -> None:
    short = transport(cache_ttl={"detail": 5})
    await details(short)
    clock.advance(4)
    await details(short)
    assert fake_tmdb.stats.count(DETAILS) == 1
    clock.advance(2)
    await details(short)
    assert fake_tmdb.stats.count(DETAILS) == 2

    long = transport(cache_ttl={"detail": 10 * 24 * 3600})
    await details(long, 600)
    clock.advance(3_000)
    await details(long, 600)
    assert fake_tmdb.stats.count(DETAILS) == 3
    clock.advance(700)  # past the server's max-age=3600, long before the class TTL
    await details(long, 600)
    assert fake_tmdb.stats.count(DETAILS) == 4
    assert fake_tmdb.stats.last.status == 304


@pytest.mark.parametrize(
    ("operation", "args", "ttl"),
    [
        (CONFIGURATION_DETAILS, (), DAY),  # static
        (MOVIES_DETAILS, (550,), 3600),  # detail
        (MOVIE_LISTS_POPULAR, (), 600),  # listing
        (CHANGES_MOVIE_LIST, (), 300),  # changes
        (AUTHENTICATION_VALIDATE_KEY, (), 0),  # never
    ],
    ids=["static", "detail", "listing", "changes", "never"],
)
async def test_an_entry_lives_exactly_the_default_ttl_of_its_class(
    transport: Any,
    fake_tmdb: FakeTMDB,
    clock: FakeClock,
    operation: Operation[Any],
    args: tuple[Any, ...],
    ttl: int,
) -> None:
    fake_tmdb.inject(CacheHeaders(cache_control=""))  # no max-age: the class TTL decides
    client: Transport = transport()

    async def sent() -> int:
        await client.request(operation, args, {})
        return fake_tmdb.stats.count(operation.operation_id)

    assert await sent() == 1
    clock.advance(max(0.0, ttl - TICK))
    assert await sent() == (1 if ttl else 2)
    clock.advance(2 * TICK)
    assert await sent() == (2 if ttl else 3)
    if ttl:
        assert fake_tmdb.stats.last.status == 304  # kept past its TTL, stale, to revalidate


async def test_no_ttl_outlives_six_months(
    transport: Any, fake_tmdb: FakeTMDB, clock: FakeClock
) -> None:
    fake_tmdb.inject(CacheHeaders(cache_control=""))
    client: Transport = transport(cache_ttl={"detail": 365 * DAY})  # TMDB's terms: 180 days
    await details(client)
    clock.advance(180 * DAY - TICK)
    await details(client)
    assert fake_tmdb.stats.count(DETAILS) == 1
    clock.advance(2 * TICK)
    await details(client)
    assert fake_tmdb.stats.count(DETAILS) == 2
    assert fake_tmdb.stats.last.status == 200  # not even kept stale: a full download


async def test_the_age_tmdb_reports_shortens_the_entry(
    transport: Any, fake_tmdb: FakeTMDB, clock: FakeClock
) -> None:
    # TMDB's CDN answers a hit with `Age`, the seconds it has held the response: the client
    # keeps it for max-age (3600 for details) minus that, from the 200 and from a 304.
    fake_tmdb.inject(CacheHeaders(age=600), DETAILS)
    client: Transport = transport()
    for sent in (1, 2):
        await details(client)
        clock.advance(3_000 - TICK)
        await details(client)
        assert fake_tmdb.stats.count(DETAILS) == sent
        clock.advance(2 * TICK)
    await details(client)
    assert fake_tmdb.stats.count(DETAILS) == 3
    assert [r.status for r in fake_tmdb.stats.requests] == [200, 304, 304]
    assert all(r.headers.get("If-None-Match") for r in list(fake_tmdb.stats.requests)[1:])


async def test_not_found_is_remembered_for_a_minute(
    transport: Any, fake_tmdb: FakeTMDB, clock: FakeClock
) -> None:
    fake_tmdb.missing_ids.add(999)
    client: Transport = transport()
    for _ in range(3):
        with pytest.raises(NotFoundError) as caught:
            await details(client, 999)
        assert caught.value.status_code == 34
        assert caught.value.http_status == 404
    assert fake_tmdb.stats.count(DETAILS) == 1
    assert client.stats.errors["NotFoundError"] == 3
    clock.advance(CACHE_NEGATIVE_TTL + 1)
    fake_tmdb.missing_ids.discard(999)  # the id came back
    movie = await details(client, 999)
    assert movie.id == 999
    assert fake_tmdb.stats.count(DETAILS) == 2


async def test_a_body_that_does_not_decode_is_never_cached(
    transport: Any, fake_tmdb: FakeTMDB
) -> None:
    client: Transport = transport(max_retries=0)
    fake_tmdb.inject(InvalidJSON(), DETAILS, count=1)
    with pytest.raises(DecodeError):
        await details(client)
    movie = await details(client)
    assert movie.id == 550
    assert fake_tmdb.stats.count(DETAILS) == 2


async def test_single_flight_and_cache_100_cold_gets_cost_one_request(
    tmdb: TMDB, fake_tmdb: FakeTMDB
) -> None:
    fake_tmdb.inject(Latency(0.05), DETAILS)
    movies = await asyncio.gather(*(tmdb.movies.details(550) for _ in range(100)))
    assert fake_tmdb.stats.count(DETAILS) == 1
    assert len({id(m) for m in movies}) == 100
    assert all(m == movies[0] for m in movies)
    assert tmdb.stats.coalesced == 99
    again = await asyncio.gather(*(tmdb.movies.details(550) for _ in range(100)))
    assert all(m == movies[0] for m in again)
    assert fake_tmdb.stats.count(DETAILS) == 1
    assert tmdb.stats.cache_hits == 100


async def test_cache_clear_forgets_everything(tmdb: TMDB, fake_tmdb: FakeTMDB) -> None:
    await tmdb.movies.details(550)
    await tmdb.genres.movie_list()
    await tmdb.cache_clear()
    await tmdb.movies.details(550)
    await tmdb.genres.movie_list()
    assert fake_tmdb.stats.count(DETAILS) == 2
    assert tmdb.stats.cache_hits == 0


async def test_memory_bound_holds_under_a_random_workload(fake_tmdb: FakeTMDB) -> None:
    memory = MemoryCache(max_entries=10_000, max_bytes=64 * 1024)
    rng = random.Random(7)
    async with TMDB(
        access_token=fake_tmdb.access_token, base_url=fake_tmdb.url, cache=memory, rate_limit=None
    ) as tmdb:
        for _ in range(300):
            movie_id = rng.randrange(1, 120)
            if rng.random() < 0.5:
                await tmdb.movies.details(movie_id)
            else:
                await tmdb.movies.details(movie_id, append_to_response=["credits"])
            assert memory.nbytes <= memory.max_bytes
        assert memory.nbytes >= memory.max_bytes * 0.8
        assert 0 < tmdb.stats.cache_hits < 300
