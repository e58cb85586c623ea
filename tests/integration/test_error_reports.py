"""Errors that say what happened, against FakeTMDB's faults over real loopback sockets: what
each attempt got, which time limit ran out, a client reused in a second event loop, and the
credentials message in our own words."""

from __future__ import annotations

import asyncio
import logging
import pickle
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tmdb_async import (
    TMDB,
    Attempt,
    DeadlineExceededError,
    DeadlinePhase,
    Failure,
    NotFoundError,
    ParameterError,
    ServerError,
    TransportError,
)
from tmdb_async._clock import FakeClock
from tmdb_async._generated.operations import MOVIES_DETAILS
from tmdb_async._options import resolve_options
from tmdb_async._retry import RetryPolicy
from tmdb_async._transport import Transport
from tmdb_async.testing import FakeTMDB, Latency, ResetMidBody
from tmdb_async.testing import ServerError as ServerFault

from .._fake_process import TOKEN, Server

DETAILS = "movie-details"


@pytest.fixture
async def transport(fake_tmdb: FakeTMDB) -> AsyncIterator[tuple[Transport, FakeClock]]:
    """A transport on FakeTMDB whose back-off runs on a FakeClock, jitter at its ceiling
    (waits 0.5, 1, 2 s: 3.5 s in all, in no real time)."""
    clock = FakeClock(wall_start=time.time())
    options = resolve_options(
        access_token=fake_tmdb.access_token, base_url=fake_tmdb.url, rate_limit=None, cache=None
    )
    made = Transport(options, clock=clock, retry_policy=RetryPolicy(random=lambda: 1.0))
    yield made, clock
    await made.aclose()


async def test_the_error_says_what_each_attempt_got(
    fake_tmdb: FakeTMDB, transport: tuple[Transport, FakeClock]
) -> None:
    fake_tmdb.inject(ServerFault(503), DETAILS, count=2)
    fake_tmdb.inject(ResetMidBody(0.5), DETAILS, count=1)
    fake_tmdb.inject(ServerFault(503), DETAILS, count=1)
    client, clock = transport
    with pytest.raises(ServerError) as caught:
        await client.request(MOVIES_DETAILS, (550,), {})
    error = caught.value
    assert str(error) == (
        f"503 Service Unavailable GET {fake_tmdb.url}/3/movie/550"
        " (after 4 attempts in 3.5 s: 503, 503, reset, 503)"
    )
    assert [(a.status, a.failure) for a in error.attempts] == [
        (503, None),
        (503, None),
        (None, Failure.DISCONNECT),
        (503, None),
    ]
    assert [a.start for a in error.attempts] == [0.0, 0.5, 1.5, 3.5]  # after each back-off
    assert clock.sleeps == [0.5, 1.0, 2.0]


async def test_one_attempt_keeps_the_plain_message(
    fake_tmdb: FakeTMDB, transport: tuple[Transport, FakeClock]
) -> None:
    fake_tmdb.missing_ids = {13}
    client, _ = transport
    with pytest.raises(NotFoundError) as caught:
        await client.request(MOVIES_DETAILS, (13,), {})
    assert caught.value.attempts == (Attempt(404, None, 34, 0.0, 0.0),)
    assert "attempts" not in str(caught.value)


def test_attempts_survive_pickling() -> None:
    """Dask ships a shard's errors between processes: the history is data, not words only."""
    error = ServerError("503 Service Unavailable", http_status=503)
    error.attempts = (
        Attempt(503, start=0.0, duration=0.1),
        Attempt(None, Failure.DISCONNECT, start=0.6),
    )
    copy = pickle.loads(pickle.dumps(error))
    assert copy.attempts == error.attempts
    assert (
        str(copy) == str(error) == "503 Service Unavailable (after 2 attempts in 0.6 s: 503, reset)"
    )


# -- which time limit ran out ----------------------------------------------------------------


async def _transport_error(fake: FakeTMDB, **options: Any) -> TransportError:
    async with TMDB(
        access_token=fake.access_token, base_url=fake.url, rate_limit=None, cache=None, **options
    ) as tmdb:
        with pytest.raises(TransportError) as caught:
            await tmdb.movies.details(550)
    return caught.value


async def test_a_total_timeout_names_its_limit(fake_tmdb: FakeTMDB) -> None:
    fake_tmdb.inject(Latency(2.0), DETAILS)
    error = await _transport_error(fake_tmdb, timeout=0.3, max_retries=0)
    assert error.failure is Failure.TOTAL_TIMEOUT
    assert str(error) == (
        f"GET {fake_tmdb.url}/3/movie/550 failed:"
        " no complete response within the total limit of 0.3 s"
    )


async def test_a_read_timeout_names_its_limit(fake_tmdb: FakeTMDB) -> None:
    fake_tmdb.inject(Latency(2.0), DETAILS)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=0.3)
    error = await _transport_error(fake_tmdb, timeout=timeout, max_retries=0)
    assert error.failure is Failure.READ_TIMEOUT
    assert str(error).endswith("failed: no data within the read limit of 0.3 s (sock_read)")


async def test_a_connect_timeout_names_its_limit(fake_tmdb: FakeTMDB) -> None:
    """aiohttp's connect limit covers the wait for a free connection: with one connection,
    busy with a slow answer, a second call cannot connect in time (and, since nothing was
    sent, it is retried: the history says so)."""
    fake_tmdb.inject(Latency(3.0), "/3/movie/551")
    timeout = aiohttp.ClientTimeout(total=10, connect=0.3)
    async with TMDB(
        access_token=fake_tmdb.access_token,
        base_url=fake_tmdb.url,
        rate_limit=None,
        cache=None,
        max_connections=1,
        max_retries=1,
        timeout=timeout,
    ) as tmdb:
        slow = asyncio.ensure_future(tmdb.movies.details(551))
        await asyncio.sleep(0.1)  # the slow call holds the only connection
        with pytest.raises(TransportError) as caught:
            await tmdb.movies.details(550)
        await slow
    error = caught.value
    assert error.failure is Failure.CONNECT_TIMEOUT
    assert f"GET {fake_tmdb.url}/3/movie/550 failed: could not connect within" in str(error)
    assert "the connect limit of 0.3 s (after 2 attempts in " in str(error)
    assert str(error).endswith("s: connect timeout, connect timeout)")
    assert [a.failure for a in error.attempts] == [Failure.CONNECT_TIMEOUT] * 2


# -- deadline phases are data ------------------------------------------------------------------


async def test_the_deadline_phase_is_an_enum_the_message_keeps_the_words(
    fake_tmdb: FakeTMDB,
) -> None:
    fake_tmdb.inject(Latency(2.0), DETAILS)
    async with TMDB(
        access_token=fake_tmdb.access_token, base_url=fake_tmdb.url, rate_limit=None, deadline=0.3
    ) as tmdb:
        with pytest.raises(DeadlineExceededError) as caught:
            await tmdb.movies.details(550)
    error = caught.value
    assert error.phase is DeadlinePhase.UPSTREAM
    assert str(error.phase) == f"{error.phase}" == "TMDB"
    assert str(error).startswith("deadline of 0.3 s exceeded in TMDB after ")


# -- one client, one event loop ----------------------------------------------------------------


SECOND_LOOP_CLIENTS: dict[str, dict[str, Any]] = {
    "rate-limited": {"rate_limit": 35.0},
    "no-limiter": {"rate_limit": None},
    "shared-budget": {"rate_limit": 35.0, "rate_limit_store": "redis"},
    "redis-cache": {"rate_limit": None, "cache": (None, "redis")},  # Redis alone: no memory hit
}


@pytest.mark.parametrize("options", SECOND_LOOP_CLIENTS.values(), ids=SECOND_LOOP_CLIENTS.keys())
def test_a_second_asyncio_run_is_told_what_to_do(
    options: dict[str, Any], request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    """A client made at import time and used by two `asyncio.run()` calls: the second is told,
    in words, that a client belongs to one event loop and where to create it; its Redis
    (cache or shared budget) is not blamed for it, and nothing is sent."""
    if "redis" in repr(options):
        url = request.getfixturevalue("redis_server").url
        options = {
            name: (None, url) if name == "cache" else url if value == "redis" else value
            for name, value in options.items()
        }
    with Server() as server:
        tmdb = TMDB(access_token=TOKEN, base_url=server.url, **{"cache": None, **options})

        async def title() -> str | None:
            return (await tmdb.movies.details(550)).title

        first = asyncio.new_event_loop()
        try:
            assert first.run_until_complete(title())
            with pytest.raises(RuntimeError) as caught:
                asyncio.run(title())
        finally:
            first.run_until_complete(tmdb.aclose())
            first.close()
        assert server.count(DETAILS) == 1  # the second loop sent nothing
    message = str(caught.value)
    assert "first used in another event loop (a second asyncio.run()?)" in message
    assert "Create one client per event loop, inside it" in message
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert tmdb.stats.cache_errors == 0


# -- credentials messages in our own words ----------------------------------------------------


def test_the_missing_credentials_message_is_not_redacted() -> None:
    with pytest.raises(ParameterError) as caught:
        resolve_options(environ={})
    assert str(caught.value) == (
        "no TMDB credentials: pass TMDB(access_token=...) or TMDB(api_key=...), or set"
        " TMDB_ACCESS_TOKEN (preferred) or TMDB_API_KEY in the environment"
    )


def test_words_naming_a_credential_are_kept_and_values_in_urls_are_masked() -> None:
    error = ServerError("pass api_key=, or set it: GET http://h/3/movie/1?api_key=SECRET&x=1")
    assert str(error) == "pass api_key=, or set it: GET http://h/3/movie/1?api_key=***&x=1"
