"""Redis URLs, the same rules for the cache (`cache=`) and the rate budget (`rate_limit_store=`):
refused before any I/O with a ParameterError that names the option and never shows the
password; a good one gives a pool sized from its query, with the timeouts of its user."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tmdb_async import TMDB
from tmdb_async._cache import AiocacheStore, make_cache
from tmdb_async._constants import (
    RATE_LIMIT_STORE_TIMEOUT,
    REDIS_MAX_CONNECTIONS,
    REDIS_POOL_TIMEOUT,
    REDIS_RETRIES,
    REDIS_SOCKET_TIMEOUT,
)
from tmdb_async._errors import ParameterError
from tmdb_async._ratelimit._shared import SharedRateLimiter

BUILDERS: dict[str, Callable[[str], TMDB]] = {
    "cache": lambda url: TMDB(api_key="k", cache=url),
    "rate_limit_store": lambda url: TMDB(api_key="k", rate_limit_store=url),
}
HOST = "redis://:s3cret@127.0.0.1:1/0"  # nothing listens there


@pytest.mark.parametrize("option", BUILDERS)
@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"{HOST}?max_connections=0", "max_connections must be a positive integer, got '0'"),
        (f"{HOST}?max_connections=ten", "max_connections must be a positive integer"),
        (f"{HOST}?timeout=-1", "timeout must be a positive number, got '-1'"),
        (f"{HOST}?timeout=inf", "timeout must be a positive number"),
        (f"{HOST}?max_conections=5", "unexpected keyword argument 'max_conections'"),
        (f"{HOST}?socket_timeout=soon", "Invalid value for 'socket_timeout'"),
        ("redis://:s3cret@host:abc/0", "not a valid URL"),
        ("redis://:s3cret@host:99999/0", "not a valid URL"),
        ("redis://:s3cret@[::1/0", "not a valid URL"),
    ],
)
def test_a_bad_redis_url_is_refused_before_any_io(option: str, url: str, message: str) -> None:
    with pytest.raises(ParameterError) as caught:
        BUILDERS[option](url)
    shown = "redis://127.0.0.1:1/0" if url.startswith(HOST) else "redis://<unparseable>"
    assert str(caught.value).startswith(f"{option}: unusable Redis URL {shown}: ")
    assert message in str(caught.value)
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize("option", BUILDERS)
def test_a_url_of_another_scheme_is_refused_and_never_echoed(option: str) -> None:
    with pytest.raises(ParameterError, match=f"^{option} must be") as caught:
        BUILDERS[option]("http://user:s3cret@host/0")
    assert "s3cret" not in str(caught.value)


def _cache_pool(url: str) -> Any:
    cache = make_cache(url)
    assert cache is not None
    assert isinstance(cache.shared, AiocacheStore)
    return cache.shared._cache.client.connection_pool


def _limiter_pool(url: str) -> Any:
    limiter = SharedRateLimiter(10.0, url)
    limiter._connect()  # builds the client: no I/O until its first command
    assert limiter._redis is not None
    return limiter._redis.connection_pool


@pytest.mark.parametrize(
    ("pool_of", "timeout"),
    [(_cache_pool, REDIS_SOCKET_TIMEOUT), (_limiter_pool, RATE_LIMIT_STORE_TIMEOUT)],
)
def test_the_pool_comes_from_the_url_and_the_timeouts_from_its_user(
    pool_of: Callable[[str], Any], timeout: float
) -> None:
    default = pool_of("redis://127.0.0.1:1/0")
    assert (default.max_connections, default.timeout) == (REDIS_MAX_CONNECTIONS, REDIS_POOL_TIMEOUT)
    kwargs = default.connection_kwargs
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (timeout, timeout)
    assert kwargs["retry"].get_retries() == REDIS_RETRIES
    assert kwargs["decode_responses"] is False
    sized = pool_of("redis://127.0.0.1:1/0?max_connections=7&timeout=0.25")
    assert (sized.max_connections, sized.timeout) == (7, 0.25)
