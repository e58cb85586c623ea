"""Redis clients built from a URL, for the cache and the shared rate limiter alike: one place
that checks the URL, sizes the pool, sets the timeouts and the retry on a fresh connection, and
names a Redis in logs and errors without its password.

The pool is a `BlockingConnectionPool`: a burst beyond its size waits (briefly) for a connection
instead of failing with `MaxConnectionsError`. A command that fails on a pooled connection that
a live server dropped (a failover, a proxy's idle timeout, `CLIENT KILL`) is sent again on a
fresh connection (`Retry(NoBackoff(), REDIS_RETRIES)`) before the caller sees an error.

redis-py is imported when a client is built or a URL checked, so `import tmdb_async` works
without the "redis" extra.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final, TypeGuard

from yarl import URL

from ._constants import REDIS_MAX_CONNECTIONS, REDIS_POOL_TIMEOUT, REDIS_RETRIES
from ._errors import ParameterError

if TYPE_CHECKING:
    from redis.asyncio import BlockingConnectionPool, Redis

__all__ = [
    "check_redis_url",
    "describe_url",
    "is_redis_url",
    "redis_client",
    "redis_hint",
]

_SCHEMES: Final = ("redis", "rediss", "unix")


def is_redis_url(value: object) -> TypeGuard[str]:
    """True for a string with one of the _SCHEMES (what it holds is checked when used)."""
    if not isinstance(value, str):
        return False
    scheme, separator, _ = value.partition("://")
    return bool(separator) and scheme in _SCHEMES


def redis_hint(option: str) -> str:
    """The install line for an option that needs redis-py."""
    return f'{option} needs the "redis" extra: pip install "tmdb-async[redis]"'


def describe_url(url: str) -> str:
    """A Redis URL fit for logs: scheme, host, port and path, never a user or password."""
    try:
        parsed = URL(url)
        return str(parsed.with_user(None).with_password(None).with_query(None))
    except (TypeError, ValueError):  # yarl's message may quote the URL, password included
        scheme = url.partition("://")[0] if "://" in url else "?"
        return f"{scheme}://<unparseable>"


def _unusable(url: str, option: str, why: object) -> ParameterError:
    return ParameterError(f"{option}: unusable Redis URL {describe_url(url)}: {why}")


def _pool_options(url: str, option: str) -> dict[str, Any]:
    """The pool size and wait of a Redis URL: our defaults, or its `max_connections`/`timeout`."""
    try:
        query = URL(url).query
    except (TypeError, ValueError):
        raise _unusable(url, option, "not a valid URL") from None
    options: dict[str, Any] = {
        "max_connections": REDIS_MAX_CONNECTIONS,
        "timeout": REDIS_POOL_TIMEOUT,
    }
    for name, parse, kind in (("max_connections", int, "integer"), ("timeout", float, "number")):
        if name not in query:
            continue
        try:
            value = parse(query[name])
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or value <= 0:
            why = f"{name} must be a positive {kind}, got {query[name]!r}"
            raise _unusable(url, option, why)
        options[name] = value
    return options


def _pool(url: str, option: str, *, timeout: float | None) -> BlockingConnectionPool:
    """A connection pool for `url` (no I/O); ParameterError naming `option` if unusable."""
    pool_options = _pool_options(url, option)
    try:
        from redis.asyncio import BlockingConnectionPool
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
    except ImportError as err:
        raise ImportError(redis_hint(option)) from err
    try:
        # The URL's own query options win over these (redis-py's from_url).
        pool = BlockingConnectionPool.from_url(
            url,
            **pool_options,
            decode_responses=False,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            # ConnectionError and TimeoutError (redis-py's default supported errors).
            retry=Retry(NoBackoff(), REDIS_RETRIES),
        )
        pool.connection_class(**pool.connection_kwargs)  # no I/O: rejects an unknown option
    except (TypeError, ValueError) as err:
        raise _unusable(url, option, err) from None
    return pool


def check_redis_url(url: str, option: str) -> None:
    """ParameterError (naming `option`, never showing a password) unless redis-py can connect
    to `url` as written: its scheme, port and query options (`?max_connections=`,
    `?socket_timeout=`...). No I/O."""
    _pool(url, option, timeout=None)


def redis_client(url: str, option: str, *, timeout: float) -> Redis:
    """A client of the Redis at `url`: `timeout` seconds per connect and per command, one retry
    on a fresh connection, a pool of `?max_connections=` (default REDIS_MAX_CONNECTIONS) that
    a command waits for at most `?timeout=` seconds (default REDIS_POOL_TIMEOUT); the other
    query options are redis-py's. ParameterError naming `option` if the URL is unusable.
    No I/O until its first command."""
    from redis.asyncio import Redis

    pool = _pool(url, option, timeout=timeout)
    return Redis.from_pool(pool)  # closing the client closes the pool
