"""Shared byte stores through aiocache: Redis from a `redis://` URL, or any aiocache instance.

Bytes stay bytes: our own RedisCache uses a pass-through serializer with `encoding=None`
(aiocache 0.12 decodes values with the serializer's encoding, UTF-8 by default) and a
redis-py pool with `decode_responses=False`. No aiocache operation timeout (it wraps every call
in `asyncio.wait_for`); the socket timeouts of the pool bound a hung server instead. The
client, its pool and its retry on a fresh connection are `tmdb_async._redis`'s.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

from .._constants import CACHE_NAMESPACE, REDIS_CLEAR_BATCH, REDIS_SOCKET_TIMEOUT
from .._redis import describe_url, redis_client, redis_hint

__all__ = ["AiocacheStore", "redis_store"]


def _same(value: Any) -> Any:
    return value


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


def redis_store(url: str) -> AiocacheStore:
    """Build an aiocache RedisCache for `url` (redis://, rediss:// or unix://) that keeps bytes.

    The pool and its URL options are `tmdb_async._redis`'s; a bad URL or option raises
    ParameterError here, before any I/O.
    """
    client = redis_client(url, "cache", timeout=REDIS_SOCKET_TIMEOUT)
    try:
        from aiocache.backends.redis import RedisCache  # type: ignore[import-untyped]
        from aiocache.serializers import NullSerializer  # type: ignore[import-untyped]
    except ImportError as err:  # pragma: no cover - depends on the installed extras
        raise ImportError(redis_hint("cache")) from err

    serializer = NullSerializer(encoding=None)
    if "client" in inspect.signature(RedisCache.__init__).parameters:  # aiocache >= 0.13
        cache = RedisCache(client=client, serializer=serializer, namespace="", timeout=None)
    else:  # aiocache 0.12 builds its own client around the pool it is given
        pool = client.connection_pool
        cache = RedisCache(
            serializer=serializer,
            namespace="",
            timeout=None,
            connection_pool_class=lambda **_: pool,
        )
    return AiocacheStore(cache, owned=True, name=f"Redis {describe_url(url)}")
