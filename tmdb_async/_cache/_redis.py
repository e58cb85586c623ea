"""Shared byte stores through aiocache: Redis from a `redis://` URL, or any aiocache instance.

Bytes stay bytes: our own RedisCache uses a pass-through serializer with `encoding=None`
(aiocache 0.12 decodes values with the serializer's encoding, UTF-8 by default) and a
redis-py pool with `decode_responses=False`. No aiocache operation timeout (it wraps every call
in `asyncio.wait_for`); the socket timeouts of the pool bound a hung server instead.

The pool rides out connection churn with redis-py's own machinery: a command that fails on a
pooled connection that a live server dropped (a proxy's idle timeout, `CLIENT KILL`) is sent once
more on a fresh connection (`Retry(NoBackoff(), 1)`) before the cache layer sees an error and
backs off. The pool is a `BlockingConnectionPool`: a burst beyond its size waits (briefly) for a
connection instead of failing with `MaxConnectionsError`.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

from yarl import URL

from .._constants import (
    CACHE_NAMESPACE,
    REDIS_CLEAR_BATCH,
    REDIS_CONNECT_TIMEOUT,
    REDIS_MAX_CONNECTIONS,
    REDIS_POOL_TIMEOUT,
    REDIS_RETRIES,
    REDIS_SOCKET_TIMEOUT,
)
from .._errors import ParameterError

__all__ = ["AiocacheStore", "describe_url", "redis_store"]

REDIS_HINT = 'the Redis cache needs the "redis" extra: pip install "tmdb-async[redis]"'


def _same(value: Any) -> Any:
    return value


def describe_url(url: str) -> str:
    """A Redis URL fit for logs: scheme, host, port and path, never the password."""
    parsed = URL(url)
    return str(parsed.with_user(None).with_password(None).with_query(None))


class AiocacheStore:
    """Bytes in, bytes (or the `str` an encoding serializer made of them) out, over aiocache."""

    __slots__ = ("_cache", "_owned", "_redis", "name")

    def __init__(self, cache: Any, *, owned: bool = False, name: str | None = None) -> None:
        self._cache = cache
        self._owned = owned
        self._redis = hasattr(getattr(cache, "client", None), "scan_iter")
        self.name = name or type(cache).__name__

    async def get(self, key: str) -> bytes | str | None:
        """One GET: the stored value or None."""
        value: bytes | str | None = await self._cache.get(key, loads_fn=_same)
        return value

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """One SET with an expiry of `ttl` seconds (rounded up to whole seconds, at least 1)."""
        seconds = max(1, math.ceil(ttl))
        if self._redis:
            # `SET key value EX n` through aiocache's `raw`: its `set` calls SETEX, which
            # redis-py >= 5 deprecates (a DeprecationWarning on every write).
            await self._cache.raw("set", self._cache.build_key(key), value, ex=seconds)
        else:
            await self._cache.set(key, value, ttl=seconds, dumps_fn=_same)

    async def clear(self) -> None:
        """Delete every key of this client's namespace (all format versions), nothing else."""
        namespace = self._cache.build_key(CACHE_NAMESPACE)
        if self._redis:
            client = self._cache.client
            batch: list[bytes | str] = []
            async for key in client.scan_iter(match=f"{namespace}:*", count=REDIS_CLEAR_BATCH):
                batch.append(key)
                if len(batch) >= REDIS_CLEAR_BATCH:
                    await client.unlink(*batch)
                    batch.clear()
            if batch:
                await client.unlink(*batch)
        else:
            await self._cache.clear(namespace=namespace)

    async def aclose(self) -> None:
        """Close the connections if we opened them; a cache passed in by the user stays open."""
        if not self._owned:
            return
        client = getattr(self._cache, "client", None)
        if client is not None and hasattr(client, "aclose"):
            await client.aclose(close_connection_pool=True)
        else:
            await self._cache.close()

    def __repr__(self) -> str:
        return f"<AiocacheStore {self.name}>"


def _pool_options(url: URL) -> dict[str, Any]:
    """The pool size and wait of a Redis URL: our defaults, or its `max_connections`/`timeout`."""
    query = url.query
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
            raise ParameterError(
                f"{name} in the Redis URL must be a positive {kind}, got {query[name]!r}"
            )
        options[name] = value
    return options


def redis_store(url: str) -> AiocacheStore:
    """Build an aiocache RedisCache for `url` (redis://, rediss:// or unix://) that keeps bytes.

    `?max_connections=N` sets the pool size (default REDIS_MAX_CONNECTIONS) and `?timeout=S`
    how long a command may wait for a free connection (default REDIS_POOL_TIMEOUT); other query
    options are redis-py's. A bad option raises ParameterError here, before any I/O.
    """
    try:
        name = f"Redis {describe_url(url)}"
    except ValueError:  # yarl's message may quote the URL, password included
        raise ParameterError("unusable cache URL: not a valid redis:// URL") from None
    pool_options = _pool_options(URL(url))
    try:
        import redis.asyncio as redis
        from aiocache.backends.redis import RedisCache  # type: ignore[import-untyped]
        from aiocache.serializers import NullSerializer  # type: ignore[import-untyped]
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
    except ImportError as err:  # pragma: no cover - depends on the installed extras
        raise ImportError(REDIS_HINT) from err

    try:
        # The URL's own query options win over these keyword arguments (redis-py's from_url).
        pool = redis.BlockingConnectionPool.from_url(
            url,
            **pool_options,
            decode_responses=False,
            socket_timeout=REDIS_SOCKET_TIMEOUT,
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
            # Retries ConnectionError and TimeoutError (redis-py's default supported errors).
            retry=Retry(NoBackoff(), REDIS_RETRIES),
        )
        pool.connection_class(**pool.connection_kwargs)  # no I/O: rejects an unknown option
    except (TypeError, ValueError) as err:
        raise ParameterError(f"unusable cache URL {describe_url(url)}: {err}") from None
    serializer = NullSerializer(encoding=None)
    if "client" in inspect.signature(RedisCache.__init__).parameters:  # aiocache >= 0.13
        client = redis.Redis(connection_pool=pool)
        cache = RedisCache(client=client, serializer=serializer, namespace="", timeout=None)
    else:  # aiocache 0.12 builds its own client around the pool it is given
        cache = RedisCache(
            serializer=serializer,
            namespace="",
            timeout=None,
            connection_pool_class=lambda **_: pool,
        )
    return AiocacheStore(cache, owned=True, name=name)
