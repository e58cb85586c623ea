"""Redis clients built from a URL: one place that checks the URL, sets the timeouts and the one
retry on a fresh connection, and names a Redis in logs and errors without its password.

redis-py is imported when a client is built or a URL checked, so `import tmdb_async` works
without the "redis" extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from yarl import URL

from ._constants import REDIS_RETRIES
from ._errors import ParameterError

if TYPE_CHECKING:
    from redis.asyncio import ConnectionPool, Redis

__all__ = ["REDIS_SCHEMES", "check_redis_url", "describe_url", "redis_client", "redis_hint"]

REDIS_SCHEMES: Final = ("redis", "rediss", "unix")


def redis_hint(option: str) -> str:
    """The install line for an option that needs redis-py."""
    return f'{option} needs the "redis" extra: pip install "tmdb-async[redis]"'


def describe_url(url: str) -> str:
    """A Redis URL fit for logs: scheme, host, port and path, never a user or password."""
    try:
        parsed = URL(url)
        return str(parsed.with_user(None).with_password(None).with_query(None))
    except (TypeError, ValueError):
        scheme = url.partition("://")[0] if "://" in url else "?"
        return f"{scheme}://<unparseable>"


def _pool(url: str, option: str, **options: Any) -> ConnectionPool:
    """A connection pool for `url` (no I/O); ParameterError naming `option` if unusable."""
    try:
        from redis.asyncio import ConnectionPool
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
    except ImportError as err:
        raise ImportError(redis_hint(option)) from err
    try:
        # The URL's own query options win over these (redis-py's from_url).
        pool = ConnectionPool.from_url(
            url,
            decode_responses=False,
            # ConnectionError and TimeoutError (redis-py's default): a connection a failover,
            # a proxy's idle timeout or CLIENT KILL closed is replaced, not reported.
            retry=Retry(NoBackoff(), REDIS_RETRIES),
            **options,
        )
        pool.connection_class(**pool.connection_kwargs)  # no I/O: rejects an unknown option
    except (TypeError, ValueError) as err:
        raise ParameterError(f"{option}: unusable Redis URL {describe_url(url)}: {err}") from None
    return pool


def check_redis_url(url: str, option: str) -> None:
    """ParameterError (naming `option`, never showing a password) unless redis-py can connect
    to `url` as written: its scheme, port and query options (`?socket_timeout=`...). No I/O."""
    _pool(url, option)


def redis_client(url: str, option: str, *, timeout: float) -> Redis:
    """A client of the Redis at `url`: `timeout` seconds per connect and per command, one
    retry on a fresh connection. No I/O until its first command."""
    from redis.asyncio import Redis

    pool = _pool(url, option, socket_timeout=timeout, socket_connect_timeout=timeout)
    return Redis.from_pool(pool)  # closing the client closes the pool
