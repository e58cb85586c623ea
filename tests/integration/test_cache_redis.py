"""The Redis cache against FakeTMDB and a real redis-server (see the `redis_server` fixture)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
import redis.asyncio as redis
from aiocache import SimpleMemoryCache  # type: ignore[import-untyped]
from aiocache.backends.redis import RedisCache  # type: ignore[import-untyped]

from tests._waiting import eventually
from tests.conftest import RedisServer
from tmdb_async import TMDB, DeadlineExceededError, DeadlinePhase
from tmdb_async._clock import FakeClock
from tmdb_async._constants import (
    CACHE_FORMAT_VERSION,
    CACHE_RETRY_MIN,
    REDIS_MAX_CONNECTIONS,
    REDIS_SOCKET_TIMEOUT,
)
from tmdb_async._generated.operations import MOVIES_DETAILS
from tmdb_async._options import resolve_options
from tmdb_async._transport import Transport
from tmdb_async.testing import FakeTMDB

pytestmark = pytest.mark.redis

DETAILS = "movie-details"
PREFIX = f"tmdb:v{CACHE_FORMAT_VERSION}:".encode()


@pytest.fixture
async def raw(redis_server: RedisServer) -> AsyncIterator[redis.Redis]:
    """A plain redis-py client on the test server, to look at what the cache wrote."""
    client = redis.Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
async def clients(fake_tmdb: FakeTMDB) -> AsyncIterator[Any]:
    made: list[TMDB] = []

    def make(**options: Any) -> TMDB:
        options.setdefault("access_token", fake_tmdb.access_token)
        client = TMDB(base_url=fake_tmdb.url, rate_limit=None, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


async def all_keys(raw: redis.Redis) -> list[bytes]:
    return [key async for key in raw.scan_iter(count=1000)]


async def test_two_clients_share_entries_through_redis(
    clients: Any, fake_tmdb: FakeTMDB, redis_server: RedisServer
) -> None:
    first, second = clients(cache=redis_server.url), clients(cache=redis_server.url)
    movie = await first.movies.details(550, append_to_response=["credits"])
    same = await second.movies.details(550, append_to_response=["credits"])
    assert same == movie
    assert fake_tmdb.stats.count(DETAILS) == 1
    assert (second.stats.cache_hits, second.stats.requests) == (1, 0)


async def test_values_are_raw_bytes_with_a_ttl_and_one_get_per_lookup(
    clients: Any, fake_tmdb: FakeTMDB, redis_server: RedisServer, raw: redis.Redis
) -> None:
    tmdb = clients(cache=redis_server.url)
    await tmdb.movies.details(550)
    [key] = await all_keys(raw)
    assert key == PREFIX + f"GET {fake_tmdb.url}/3/movie/550".encode()
    value = await raw.get(key)
    assert isinstance(value, bytes)
    header, body = value.split(b"\n", 1)
    assert msgspec.json.decode(body)["id"] == 550
    assert msgspec.json.decode(header)[0] == CACHE_FORMAT_VERSION
    assert 0 < await raw.ttl(key) <= 2 * 3600

    setup = {"cmdstat_info", "cmdstat_hello", "cmdstat_config|resetstat", "cmdstat_client|setinfo"}
    # Redis alone: ten hits, ten GETs, nothing else. A Redis URL alone (memory in front): one GET.
    for option, gets in (((None, redis_server.url), 10), (redis_server.url, 1)):
        await raw.config_resetstat()
        other = clients(cache=option)
        for _ in range(10):
            await other.movies.details(550)
        info = await raw.info("commandstats")
        commands = {name: stat["calls"] for name, stat in info.items() if name not in setup}
        assert commands == {"cmdstat_get": gets}, (option, commands)


async def test_no_credential_or_session_id_in_any_key_or_value(
    clients: Any, fake_tmdb: FakeTMDB, redis_server: RedisServer, raw: redis.Redis
) -> None:
    session = fake_tmdb.create_session(1)
    guest = fake_tmdb.create_guest_session()
    user_token, account = fake_tmdb.user_token(2)
    secrets = [fake_tmdb.api_key, fake_tmdb.access_token, session, guest, user_token]
    for auth in ({"api_key": fake_tmdb.api_key}, {"access_token": fake_tmdb.access_token}):
        tmdb = clients(cache=redis_server.url, **auth)
        me = tmdb.as_user(user_token, account_id=account)  # a v4 user's calls: none kept
        await me.movies.details(551)
        await me.v4.lists.details(3)
        await me.v4.account.rated_movies()
        await tmdb.movies.details(550, append_to_response=["credits", "images"])
        await tmdb.movie_lists.popular(page=2)
        await tmdb.genres.movie_list()
        await tmdb.movies.add_rating(550, value=7.0, session_id=session)
        await tmdb.movies.account_states(550, session_id=session)
        await tmdb.movies.account_states(550, guest_session_id=guest)
        await tmdb.guest_sessions.rated_movies(guest)
        await tmdb.account.details(1, session_id=session)
    keys = await all_keys(raw)
    assert len(keys) == 3  # details, popular, genres: the rest is never cached
    for key in keys:
        assert key.startswith(PREFIX)
        value = await raw.get(key)
        assert value is not None
        for secret in secrets:
            assert secret.encode() not in key, key
            assert secret.encode() not in value, key
        assert b"session" not in key
        assert await raw.pttl(key) > 0  # every key expires


async def test_account_scoped_responses_are_never_served_to_another_session(
    clients: Any, fake_tmdb: FakeTMDB, redis_server: RedisServer, raw: redis.Redis
) -> None:
    alice, bob = fake_tmdb.create_session(1), fake_tmdb.create_session(2)
    first, second = clients(cache=redis_server.url), clients(cache=redis_server.url)
    await first.movies.add_rating(550, value=9.0, session_id=alice)
    mine = await first.movies.account_states(550, session_id=alice)
    theirs = await second.movies.account_states(550, session_id=bob)
    assert mine.rated != theirs.rated
    assert fake_tmdb.stats.count("movie-account-states") == 2
    assert await all_keys(raw) == []


async def test_redis_killed_mid_run_and_restarted_every_request_succeeds(
    fake_tmdb: FakeTMDB, redis_server: RedisServer, raw: redis.Redis, caplog: Any
) -> None:
    caplog.set_level(logging.WARNING, logger="tmdb_async")
    clock = FakeClock(wall_start=time.time())
    transport = Transport(
        resolve_options(
            access_token=fake_tmdb.access_token,
            base_url=fake_tmdb.url,
            cache=(None, redis_server.url),  # Redis alone: the breaker is what is tested
            rate_limit=None,
        ),
        clock=clock,
    )

    async def run(ids: range) -> None:
        movies = await asyncio.gather(*(transport.request(MOVIES_DETAILS, (i,), {}) for i in ids))
        assert [m.id for m in movies] == list(ids)

    try:
        await run(range(1, 21))
        assert transport.stats.cache_errors == 0
        redis_server.kill()
        await run(range(1, 41))  # Redis is gone: every request still succeeds, from TMDB
        errors = transport.stats.cache_errors
        assert errors >= 1
        await run(range(41, 61))  # backing off: Redis is not even tried
        assert transport.stats.cache_errors == errors
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1
        assert "requests go to the network" in warnings[0].getMessage()
        assert redis_server.url.split("@")[-1].split("/")[2] in warnings[0].getMessage()

        redis_server.start()  # empty, on the same port
        await run(range(61, 71))  # still inside the backoff window
        assert await all_keys(raw) == []
        clock.advance(CACHE_RETRY_MIN)
        await run(range(71, 72))  # one probe reconnects; the cache works again
        await run(range(72, 81))
        assert len(await all_keys(raw)) == 10
        before = fake_tmdb.stats.count(DETAILS)
        await run(range(71, 81))
        assert fake_tmdb.stats.count(DETAILS) == before  # served by Redis
        assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
    finally:
        await transport.aclose()


async def test_two_tiers_keep_serving_from_memory_when_redis_dies(
    clients: Any, fake_tmdb: FakeTMDB, redis_server: RedisServer
) -> None:
    writer = clients(cache=redis_server.url)
    await writer.movies.details(550)
    tiered = clients(cache=("memory", redis_server.url))
    await tiered.movies.details(550)  # from Redis, now in memory too
    assert fake_tmdb.stats.count(DETAILS) == 1
    redis_server.kill()
    for _ in range(5):
        await tiered.movies.details(550)
    assert fake_tmdb.stats.count(DETAILS) == 1
    assert tiered.stats.cache_hits == 6
    assert tiered.stats.cache_errors == 0  # a fresh memory hit never touches Redis


async def test_cache_clear_deletes_only_our_keys(
    clients: Any, fake_tmdb: FakeTMDB, redis_server: RedisServer, raw: redis.Redis
) -> None:
    await raw.set(b"someone:else", b"keep me")
    await raw.set(b"tmdb:v0:GET old-format", b"x", ex=60)
    tmdb = clients(cache=("memory", redis_server.url))
    for movie_id in range(1, 1201):  # more than one SCAN batch
        await raw.set(PREFIX + str(movie_id).encode(), b"x", ex=60)
    await tmdb.movies.details(550)
    await tmdb.cache_clear()
    assert await all_keys(raw) == [b"someone:else"]
    await tmdb.movies.details(550)
    assert fake_tmdb.stats.count(DETAILS) == 2


async def test_an_aiocache_instance_with_a_text_serializer_still_works(
    clients: Any, fake_tmdb: FakeTMDB, redis_server: RedisServer, raw: redis.Redis
) -> None:
    users = RedisCache(endpoint="127.0.0.1", port=redis_server.port, namespace="app")
    memory = SimpleMemoryCache()
    try:
        first, second = clients(cache=users), clients(cache=users)
        movie = await first.movies.details(550)
        assert await second.movies.details(550) == movie
        assert fake_tmdb.stats.count(DETAILS) == 1
        [key] = await all_keys(raw)
        assert key.startswith(b"app:" + PREFIX)
        await first.cache_clear()
        assert await all_keys(raw) == []

        local = clients(cache=memory)
        await local.movies.details(551)
        await local.movies.details(551)
        assert fake_tmdb.stats.count(DETAILS) == 2
        await local.cache_clear()
        await local.movies.details(551)
        assert fake_tmdb.stats.count(DETAILS) == 3
    finally:
        await first.aclose()  # our clients never close a cache they were given
        assert await users.exists("probe") is False
        await users.client.aclose()  # aiocache 0.12's close() calls redis-py's deprecated close()


# -- connection churn, bursts and outages (a web backend under load) -------------------------


async def fetch_all(tmdb: TMDB, ids: range) -> None:
    """Ask for every id at once (as many concurrent requests as ids); check every answer."""
    movies = await asyncio.gather(*(tmdb.movies.details(i) for i in ids))
    assert [m.id for m in movies] == list(ids)


def cache_logs(caplog: Any, level: int) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "tmdb_async.cache" and r.levelno == level
    ]


async def test_client_kill_during_a_warm_run_sends_nothing_upstream(
    clients: Any, fake_tmdb: FakeTMDB, redis_server: RedisServer, raw: redis.Redis, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG, logger="tmdb_async.cache")
    await fetch_all(clients(cache=(None, redis_server.url)), range(1, 401))  # Redis is warm
    upstream = fake_tmdb.stats.total
    backend = clients(
        cache=redis_server.url
    )  # its memory tier is cold: every id is read from Redis
    for first in range(1, 401, 100):
        # Redis drops every client connection (a failover, a proxy's idle timeout), data intact:
        # idle pooled connections are stale, and GETs in flight lose their connection.
        run = asyncio.ensure_future(fetch_all(backend, range(first, first + 100)))
        assert await raw.client_kill_filter(_type="normal", skipme=True) > 0
        await run
    assert fake_tmdb.stats.total == upstream  # not one request went to TMDB
    assert (backend.stats.cache_hits, backend.stats.cache_errors) == (400, 0)
    assert cache_logs(caplog, logging.WARNING) == cache_logs(caplog, logging.INFO) == []


@pytest.mark.parametrize("size", [None, 20])
async def test_a_burst_larger_than_the_pool_waits_for_a_connection(
    clients: Any,
    fake_tmdb: FakeTMDB,
    redis_server: RedisServer,
    raw: redis.Redis,
    caplog: Any,
    size: int | None,
) -> None:
    caplog.set_level(logging.WARNING, logger="tmdb_async")
    url = redis_server.url if size is None else f"{redis_server.url}?max_connections={size}"
    tmdb = clients(cache=url)
    await fetch_all(tmdb, range(1, 201))  # 200 cold requests at once: 200 GETs, then 200 SETs
    assert tmdb.stats.cache_errors == 0
    assert cache_logs(caplog, logging.WARNING) == []
    assert len(await all_keys(raw)) == 200  # every response was stored
    connections = len(await raw.client_list()) - 1  # ours are the pool's, `raw` is the other
    assert 1 <= connections <= (REDIS_MAX_CONNECTIONS if size is None else size)


async def test_redis_killed_the_default_backend_serves_hot_keys_from_memory(
    clients: Any, fake_tmdb: FakeTMDB, redis_server: RedisServer
) -> None:
    tmdb = clients(cache=redis_server.url)
    await fetch_all(tmdb, range(1, 101))
    upstream = fake_tmdb.stats.total
    redis_server.kill()
    for _ in range(3):
        await fetch_all(tmdb, range(1, 101))
    assert fake_tmdb.stats.total == upstream  # hot keys: memory, not TMDB
    await fetch_all(tmdb, range(101, 121))  # cold keys still work, from TMDB
    assert fake_tmdb.stats.total == upstream + 20


class ClockedBackend:
    """A transport with the backend default (`cache=<redis url>`) on a fake clock: the breaker's
    back-off is stepped through, never slept."""

    def __init__(self, fake_tmdb: FakeTMDB, url: str) -> None:
        self.clock = FakeClock(wall_start=time.time())
        options = resolve_options(
            access_token=fake_tmdb.access_token, base_url=fake_tmdb.url, cache=url, rate_limit=None
        )
        self.transport = Transport(options, clock=self.clock)

    async def run(self, ids: range) -> None:
        """Ask for every id at once; cold ids, so that each lookup reaches Redis."""
        request = self.transport.request
        movies = await asyncio.gather(*(request(MOVIES_DETAILS, (i,), {}) for i in ids))
        assert [m.id for m in movies] == list(ids)


@pytest.fixture
async def backend(fake_tmdb: FakeTMDB, redis_server: RedisServer) -> AsyncIterator[ClockedBackend]:
    made = ClockedBackend(fake_tmdb, redis_server.url)
    yield made
    await made.transport.aclose()


async def test_an_outage_is_logged_once_and_its_end_once(
    backend: ClockedBackend, redis_server: RedisServer, raw: redis.Redis, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG, logger="tmdb_async.cache")
    stats = backend.transport.stats
    await backend.run(range(1, 101))  # the pool holds many idle connections
    redis_server.kill()
    await backend.run(range(101, 201))
    errors = stats.cache_errors
    assert errors >= 1
    backend.clock.advance(CACHE_RETRY_MIN)
    await backend.run(range(201, 301))  # one probe, which fails: the back-off doubles, silently
    assert stats.cache_errors == errors + 1
    assert len(cache_logs(caplog, logging.WARNING)) == 1

    redis_server.start()  # empty, on the same port: every pooled connection is stale
    backend.clock.advance(2 * CACHE_RETRY_MIN)
    await backend.run(range(301, 302))  # the probe succeeds
    await backend.run(range(302, 402))  # a burst over the stale connections
    await backend.run(range(402, 502))
    assert stats.cache_errors == errors + 1
    assert len(await all_keys(raw)) == 201  # 301..501: the cache works again
    [warning] = cache_logs(caplog, logging.WARNING)
    assert "requests go to the network" in warning
    [recovered] = cache_logs(caplog, logging.INFO)
    assert "reachable again after 3 s" in recovered


async def test_redis_refusing_new_connections_is_one_outage_not_one_per_connection(
    backend: ClockedBackend, raw: redis.Redis, caplog: Any
) -> None:
    caplog.set_level(logging.INFO, logger="tmdb_async.cache")
    await raw.config_set("maxclients", 6)  # `raw` and 5 of the pool's 50
    await backend.run(range(1, 101))  # 5 connections work, the others are refused
    assert backend.transport.stats.cache_errors >= 1
    assert len(cache_logs(caplog, logging.WARNING)) == 1
    assert cache_logs(caplog, logging.INFO) == []  # GETs that worked do not end the outage

    await raw.config_set("maxclients", 10_000)
    backend.clock.advance(CACHE_RETRY_MIN)
    errors = backend.transport.stats.cache_errors
    await backend.run(range(101, 201))
    assert backend.transport.stats.cache_errors == errors
    assert len(cache_logs(caplog, logging.WARNING)) == 1
    assert len(cache_logs(caplog, logging.INFO)) == 1


async def test_a_hung_redis_holds_a_burst_no_longer_than_one_command(
    clients: Any, fake_tmdb: FakeTMDB, redis_server: RedisServer, caplog: Any
) -> None:
    caplog.set_level(logging.WARNING, logger="tmdb_async.cache")
    tmdb = clients(cache=redis_server.url)
    await fetch_all(tmdb, range(1, 201))  # the pool is warm: every connection is open
    redis_server.pause()  # accepts, never answers

    async def timed(movie_id: int) -> float:
        started = time.monotonic()
        assert (await tmdb.movies.details(movie_id)).id == movie_id
        return time.monotonic() - started

    # 200 cold ids at once: 50 GETs on the pool's connections, 150 queued for one.
    took = await asyncio.gather(*(timed(i) for i in range(201, 401)))
    # A queued GET gives up after 1 s; one in flight after 1 s and its retry on a fresh
    # connection (docs/caching.md); then TMDB answers. Before the pool wait was bounded by the
    # command's, most waited 5 s. The one call whose store probes Redis after the back-off
    # waits for that too.
    took.sort()
    assert took[-2] < 3.5, took[-5:]
    assert took[-1] < 5.5, took[-5:]
    assert len(cache_logs(caplog, logging.WARNING)) == 1


async def test_a_cancelled_probe_does_not_keep_the_cache_off(
    backend: ClockedBackend, redis_server: RedisServer, raw: redis.Redis, caplog: Any
) -> None:
    caplog.set_level(logging.INFO, logger="tmdb_async.cache")
    redis_server.pause()
    await backend.run(range(1, 3))  # both GETs time out: the outage begins
    assert backend.transport.stats.cache_errors >= 1
    backend.clock.advance(CACHE_RETRY_MIN)
    probe = asyncio.ensure_future(backend.run(range(3, 4)))  # the probe hangs on Redis...
    await asyncio.sleep(0.2)
    probe.cancel()  # ...and its caller leaves (a deadline, a client that hung up)
    with pytest.raises(asyncio.CancelledError):
        await probe
    redis_server.resume()
    await backend.run(range(4, 5))  # the next call probes: Redis is back
    assert len(cache_logs(caplog, logging.INFO)) == 1
    await backend.run(range(5, 15))
    assert len(await all_keys(raw)) == 11  # 4..14 stored: the cache is in use again


async def test_a_deadline_bounds_a_hung_redis_and_the_breaker_still_opens(
    clients: Any, fake_tmdb: FakeTMDB, redis_server: RedisServer, caplog: Any
) -> None:
    caplog.set_level(logging.WARNING, logger="tmdb_async.cache")
    tmdb = clients(cache=(None, redis_server.url), deadline=0.3)
    await tmdb.movies.details(1)  # a pooled connection
    redis_server.pause()
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError) as caught:
        await tmdb.movies.details(2)
    # Before the Redis command's own timeout (1 s, REDIS_SOCKET_TIMEOUT): the deadline (0.3 s)
    # ended the wait, with 0.7 s to spare for a stalled event loop.
    assert time.monotonic() - started < REDIS_SOCKET_TIMEOUT
    assert caught.value.phase is DeadlinePhase.CACHE
    assert 0.25 < caught.value.cache_seconds < REDIS_SOCKET_TIMEOUT
    # The GET the call stopped waiting for runs on, to the socket timeout and its retry (about
    # 2 s): the breaker learns that Redis is hung (a cancelled GET would teach it nothing, and
    # every call would spend its deadline on Redis).
    await eventually(lambda: bool(cache_logs(caplog, logging.WARNING)), "the breaker's warning")
    assert len(cache_logs(caplog, logging.WARNING)) == 1
    # From TMDB, Redis skipped: a lookup on the hung Redis would spend the 0.3 s deadline.
    assert (await tmdb.movies.details(3)).id == 3
