"""The response cache's storage: tiers, keys, failure handling (what to keep, and for how long,
is the caching stage's business: `tmdb_async._pipeline.caching`).

A `ResponseCache` has a memory tier (`MemoryCache`, synchronous: a hit never awaits), a shared
tier (a `ByteStore`: Redis through aiocache), or both (memory in front of Redis). The shared
tier sits behind a circuit breaker (`tmdb_async._breaker`): on the first error the cache logs one
warning and is left alone for CACHE_RETRY_MIN seconds, then one request probes it (the others
keep going to the network), and each failed probe doubles the wait up to CACHE_RETRY_MAX. A
cache error never reaches the caller: the request just goes to the network. The shared tier's
connections belong to the event loop that first used them: in another, the cache raises the
client's one-loop RuntimeError (`tmdb_async._loop`), which is no cache error.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar

from yarl import URL

from .._breaker import CircuitBreaker
from .._constants import (
    CACHE_FORMAT_VERSION,
    CACHE_NAMESPACE,
    CACHE_RETRY_MAX,
    CACHE_RETRY_MIN,
    LOGGER_NAME,
)
from .._loop import LoopBinding
from .._stats import Stats
from .._urls import cache_key
from ._entry import Entry, decode_entry, encode_entry
from ._memory import MemoryCache

__all__ = ["KEY_PREFIX", "ByteStore", "ResponseCache", "built_key"]

logger = logging.getLogger(f"{LOGGER_NAME}.cache")

T = TypeVar("T")


class ByteStore(Protocol):
    """A shared backend: bytes by key with a TTL (`AiocacheStore` implements it)."""

    name: str

    async def get(self, key: str) -> bytes | str | None:
        """The stored value, or None."""
        ...

    async def set(self, key: str, value: bytes, ttl: float) -> None:
        """Store `value` for `ttl` seconds."""
        ...

    async def clear(self) -> None:
        """Delete every tmdb_async key, and nothing else."""
        ...

    async def aclose(self) -> None:
        """Release connections opened by the store."""
        ...


KEY_PREFIX = f"{CACHE_NAMESPACE}:v{CACHE_FORMAT_VERSION}:"
"""Every key starts with it: namespaced (a shared Redis) and versioned (the entry format)."""


def built_key(method: str, url: URL) -> str:
    """The key of a request whose URL comes from `build_request`, already in `cache_key`'s
    normal form: its query sorted, `append_to_response` sorted and deduplicated, and no
    credential in it (those are added when sending); a property test keeps the two equal."""
    return f"{KEY_PREFIX}{method} {url}"


class ResponseCache:
    """Cached TMDB responses by request key, in memory, in a shared store, or both."""

    def __init__(
        self,
        memory: MemoryCache | None = None,
        shared: ByteStore | None = None,
        *,
        stats: Stats | None = None,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if memory is None and shared is None:
            raise ValueError("a cache needs a memory tier, a shared tier or both")
        self.memory = memory
        self.shared = shared
        self.stats = stats if stats is not None else Stats()
        self.now = wall
        """Wall-clock seconds: entries carry absolute expiry times shared across processes."""
        self._breaker = (
            CircuitBreaker(
                f"cache {shared.name}",
                consequence=lambda: "requests go to the network",
                skipped="reads and writes skipped",
                retry_min=CACHE_RETRY_MIN,
                retry_max=CACHE_RETRY_MAX,
                logger=logger,
                monotonic=monotonic,
            )
            if shared
            else None
        )
        self._storing: set[str] = set()
        self._detached: set[asyncio.Task[Any]] = set()
        self._loop = LoopBinding()
        """The shared tier's loop (its connections'): another is refused before the tier is
        asked, so that the breaker does not take redis-py's error there for an outage."""

    def key(self, method: str, url: str | URL) -> str:
        """The namespaced, versioned, credential-free key of a request (`cache_key`)."""
        return KEY_PREFIX + cache_key(method, url)

    def peek(self, key: str) -> Entry | None:
        """The memory tier's entry for `key` if it is fresh, without awaiting (a hit's path)."""
        memory = self.memory
        entry = memory.get(key) if memory is not None else None
        return entry if entry is not None and entry.fresh_until > self.now() else None

    async def get(self, key: str) -> Entry | None:
        """The entry for `key`, fresh or stale (for revalidation), or None; raises nothing but
        the RuntimeError of another event loop."""
        memory = self.memory
        entry = memory.get(key) if memory is not None else None
        if self.shared is None or (entry is not None and entry.fresh_until > self.now()):
            return entry
        return await self._shared_get(key, entry)

    async def _shared_get(self, key: str, entry: Entry | None) -> Entry | None:
        """Ask the shared tier; keep what memory had if it is newer or the tier fails."""
        assert self.shared is not None
        assert self._breaker is not None
        self._loop.check()
        memory = self.memory
        ticket = self._breaker.ticket()
        if ticket is None:
            return entry
        try:
            value = await self.shared.get(key)
        except Exception as err:
            self.stats.cache_errors += 1
            self._breaker.failed(ticket, err, "read")
            return entry
        except BaseException:  # cancelled: no outcome to record
            self._breaker.abandon(ticket)
            raise
        self._breaker.succeeded(ticket)
        shared_entry = decode_entry(value) if value is not None else None
        if shared_entry is None or (
            entry is not None and entry.fresh_until >= shared_entry.fresh_until
        ):
            return entry
        if memory is not None:
            memory.set(key, shared_entry)
        return shared_entry

    def discard(self, key: str) -> None:
        """Forget `key` in memory (a shared tier lets it expire)."""
        if self.memory is not None:
            self.memory.delete(key)

    async def set(self, key: str, entry: Entry) -> None:
        """Keep `entry` until its `keep_until`; raises nothing but the RuntimeError of another
        event loop."""
        if self.memory is not None:
            self.memory.set(key, entry)
        ttl = entry.keep_until - self.now()
        if self.shared is None or self._breaker is None or ttl <= 0 or key in self._storing:
            # Callers coalesced by single-flight store the same response: one write is enough.
            return
        self._loop.check()
        ticket = self._breaker.ticket()
        if ticket is None:
            return
        self._storing.add(key)
        try:
            await self.shared.set(key, encode_entry(entry), ttl)
        except Exception as err:
            self.stats.cache_errors += 1
            self._breaker.failed(ticket, err, "write")
        except BaseException:
            self._breaker.abandon(ticket)
            raise
        else:
            self._breaker.succeeded(ticket)
        finally:
            self._storing.discard(key)

    async def clear(self) -> None:
        """Purge every entry of every tier (TMDB's terms: on termination, delete cached content).

        Unlike a lookup, a purge that fails raises: the caller must know it did not happen.
        """
        if self.memory is not None:
            self.memory.clear()
        if self.shared is not None and self._breaker is not None:
            self._loop.check()
            await self.shared.clear()
            self._breaker.close()

    def detach(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run `work` (a `get` or `set`) as a task that finishes even if its caller stops
        waiting for it (a deadline): the breaker still learns how the shared tier did, and a
        hung tier opens it. `aclose()` cancels what is left."""
        task = asyncio.ensure_future(work)
        self._detached.add(task)
        task.add_done_callback(self._detached.discard)
        return task

    async def aclose(self) -> None:
        """Cancel detached reads and writes, release the shared store's connections (if it
        opened them)."""
        detached = list(self._detached)
        for task in detached:
            task.cancel()
        await asyncio.gather(*detached, return_exceptions=True)
        if self.shared is not None:
            try:
                await self.shared.aclose()
            except Exception as err:  # closing a dead connection must not fail `aclose()`
                logger.debug("closing cache %s failed: %s", self.shared.name, type(err).__name__)

    def __repr__(self) -> str:
        tiers = [repr(t) for t in (self.memory, self.shared) if t is not None]
        return f"<ResponseCache {' + '.join(tiers)}>"
