"""The response cache: classes and TTLs (`_policy`), entries, memory and Redis tiers.

`make_cache(option)` turns the `cache=` option of `TMDB(...)` into a `ResponseCache` (or None).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .._errors import ParameterError
from .._operation import CacheClass
from .._redis import is_redis_url
from .._stats import Stats
from ._core import KEY_PREFIX, ByteStore, ResponseCache, built_key
from ._entry import Entry, decode_entry, encode_entry
from ._memory import MemoryCache
from ._redis import AiocacheStore, redis_store

__all__ = [
    "CACHE_USAGE",
    "KEY_PREFIX",
    "AiocacheStore",
    "ByteStore",
    "CacheClass",
    "Entry",
    "MemoryCache",
    "ResponseCache",
    "built_key",
    "decode_entry",
    "encode_entry",
    "is_shared_cache",
    "make_cache",
]

CACHE_USAGE = (
    'cache must be "memory", a redis:// URL, None, a MemoryCache, an aiocache cache, '
    'or a pair (memory tier or None, shared tier) such as (None, "redis://localhost:6379/0")'
)


def _is_aiocache(value: object) -> bool:
    from aiocache.base import BaseCache  # type: ignore[import-untyped]

    return isinstance(value, BaseCache)


def is_shared_cache(value: object) -> bool:
    """True for what `make_cache` accepts as a shared tier: a Redis URL or an aiocache cache."""
    return is_redis_url(value) or _is_aiocache(value)


def _memory_tier(value: object, wall: Callable[[], float]) -> MemoryCache | None:
    if value == "memory":
        return MemoryCache(clock=wall)
    return value if isinstance(value, MemoryCache) else None


def _shared_tier(value: object) -> ByteStore | None:
    if is_redis_url(value):
        return redis_store(value)
    if _is_aiocache(value):
        return AiocacheStore(value, owned=False)
    return None


def _tiers(
    option: object, wall: Callable[[], float]
) -> tuple[MemoryCache | None, ByteStore | None]:
    """The memory and shared tiers an option asks for; ParameterError if it is not one."""
    if isinstance(option, (tuple, list)):
        if len(option) != 2:
            raise ParameterError(CACHE_USAGE)
        memory = None if option[0] is None else _memory_tier(option[0], wall)
        shared = _shared_tier(option[1])
        if (memory is None and option[0] is not None) or shared is None:
            raise ParameterError(CACHE_USAGE)
        return memory, shared
    if is_redis_url(option):
        # A Redis URL alone gets a bounded memory tier in front (docs/caching.md, "Production").
        return MemoryCache(clock=wall), _shared_tier(option)
    memory = _memory_tier(option, wall)
    if memory is not None:
        return memory, None
    shared = _shared_tier(option)
    if shared is None:
        raise ParameterError(f"{CACHE_USAGE}; got {type(option).__name__}")
    return None, shared


def make_cache(
    option: object,
    *,
    stats: Stats | None = None,
    wall: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
) -> ResponseCache | None:
    """Build the cache for the `cache=` option; ParameterError (before any I/O) if unusable.

    `"memory"` or a `MemoryCache`: in-process LRU. A `redis://`/`rediss://`/`unix://` URL: Redis
    with a memory tier in front. An aiocache cache instance: that cache alone. A pair
    `(memory, shared)`: those two tiers; `(None, "redis://...")`: Redis alone. `None`: no cache.
    """
    if option is None:
        return None
    memory, shared = _tiers(option, wall)
    return ResponseCache(memory, shared, stats=stats, wall=wall, monotonic=monotonic)
