"""The response cache as the transport sees it: tiers, keys, failure handling, counters.

A `ResponseCache` has a memory tier (`MemoryCache`, synchronous: a hit never awaits), a shared
tier (a `ByteStore`: Redis through aiocache), or both (memory in front of Redis). The shared
tier sits behind a circuit breaker (`_breaker.py`): on the first error the cache logs one
warning and is left alone for CACHE_RETRY_MIN seconds, then one request probes it (the others
keep going to the network), and each failed probe doubles the wait up to CACHE_RETRY_MAX. A
cache error never reaches the caller: the request just goes to the network.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Protocol

import msgspec
from yarl import URL

from .._constants import (
    CACHE_FORMAT_VERSION,
    CACHE_NAMESPACE,
    CACHE_NEGATIVE_TTL,
    CACHE_STALE_KEEP_MAX,
    LOGGER_NAME,
    MAX_TTL,
)
from .._stats import Stats
from .._urls import cache_key
from ._breaker import CircuitBreaker
from ._entry import Entry, decode_entry, encode_entry
from ._memory import MemoryCache
from ._policy import fresh_ttl, keep_ttl

__all__ = ["NO_LOOKUP", "ByteStore", "Lookup", "NotModified", "ResponseCache"]

logger = logging.getLogger(f"{LOGGER_NAME}.cache")


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


class Lookup(msgspec.Struct, frozen=True, gc=False):
    """What the cache knows about one request, from lookup to store."""

    key: str | None = None
    """None when the request is not cached (no cache, class `never`, or a TTL of 0)."""
    class_ttl: float = 0.0
    entry: Entry | None = None
    """The entry found, fresh or stale."""
    fresh: bool = False

    @property
    def validators(self) -> Mapping[str, str] | None:
        """`If-None-Match` for a stale 200 entry with an ETag (RFC 9111 §4.3.1), else None."""
        entry = self.entry
        if self.fresh or entry is None or entry.etag is None or entry.status != 200:
            return None
        return {"If-None-Match": entry.etag}


NO_LOOKUP = Lookup()


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
        self._prefix = f"{CACHE_NAMESPACE}:v{CACHE_FORMAT_VERSION}:"
        self._breaker = CircuitBreaker(shared.name, monotonic=monotonic) if shared else None
        self._storing: set[str] = set()

    def key(self, method: str, url: str | URL) -> str:
        """The namespaced, versioned, credential-free key of a request (`cache_key`)."""
        return self._prefix + cache_key(method, url)

    def built_key(self, method: str, url: URL) -> str:
        """`key()` for a URL from `build_request`, already in `cache_key`'s normal form.

        Its query is sorted, `append_to_response` sorted and deduplicated, and it holds no
        credential (those are added when sending); a property test keeps the two equal.
        """
        return f"{self._prefix}{method} {url}"

    async def lookup(self, key: str, class_ttl: float) -> Lookup:
        """Find the entry of a request and count a hit (fresh) or a miss (absent or stale)."""
        memory = self.memory
        entry = memory.get(key) if memory is not None else None
        now = self.now()
        if self.shared is not None and (entry is None or entry.fresh_until <= now):
            entry = await self._shared_get(key, entry)
        if entry is not None and entry.fresh_until > now:
            self.stats.cache_hits += 1
            return Lookup(key, class_ttl, entry, True)
        self.stats.cache_misses += 1
        return Lookup(key, class_ttl, entry, False)

    async def store(
        self, lookup: Lookup, status: int, body: bytes, headers: Mapping[str, str]
    ) -> None:
        """Keep a response of a cacheable request: a 200 for its TTL, a 404 (code 34) briefly.

        The TTL is the class TTL, or `Cache-Control: max-age` minus `Age` when smaller; an entry
        with an ETag is kept a while longer, stale, to be revalidated.
        """
        if lookup.key is None:
            return
        if status == 404:
            fresh, etag = min(CACHE_NEGATIVE_TTL, lookup.class_ttl), None
        else:
            fresh = fresh_ttl(lookup.class_ttl, headers.get("cache-control"), headers.get("age"))
            etag = headers.get("etag")
        keep = keep_ttl(
            fresh, has_etag=etag is not None, stale_keep_max=CACHE_STALE_KEEP_MAX, max_ttl=MAX_TTL
        )
        if keep <= 0:
            if self.memory is not None:
                self.memory.delete(lookup.key)  # superseded by a response that may not be kept
            return
        now = self.now()
        await self.set(lookup.key, Entry(status, body, now + fresh, now + keep, etag))

    async def revalidated(self, lookup: Lookup, headers: Mapping[str, str]) -> bytes:
        """Refresh the stale entry of `lookup` after a 304 and return its body."""
        entry = lookup.entry
        assert entry is not None
        self.stats.revalidated += 1
        # RFC 9111 §4.3.4: the 304's validators and freshness replace the stored ones.
        names = ("etag", "cache-control", "age")
        refreshed = {name: headers[name] for name in names if headers.get(name)}
        if entry.etag is not None:
            refreshed.setdefault("etag", entry.etag)
        await self.store(lookup, entry.status, entry.body, refreshed)
        return entry.body

    async def get(self, key: str) -> Entry | None:
        """The entry for `key`, fresh or stale (for revalidation), or None; never raises."""
        memory = self.memory
        entry = memory.get(key) if memory is not None else None
        if self.shared is None or (entry is not None and entry.fresh_until > self.now()):
            return entry
        return await self._shared_get(key, entry)

    async def _shared_get(self, key: str, entry: Entry | None) -> Entry | None:
        """Ask the shared tier; keep what memory had if it is newer or the tier fails."""
        assert self.shared is not None
        assert self._breaker is not None
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
        self._breaker.succeeded(ticket)
        shared_entry = decode_entry(value) if value is not None else None
        if shared_entry is None or (
            entry is not None and entry.fresh_until >= shared_entry.fresh_until
        ):
            return entry
        if memory is not None:
            memory.set(key, shared_entry)
        return shared_entry

    async def set(self, key: str, entry: Entry) -> None:
        """Keep `entry` until its `keep_until`; never raises."""
        if self.memory is not None:
            self.memory.set(key, entry)
        ttl = entry.keep_until - self.now()
        if self.shared is None or self._breaker is None or ttl <= 0 or key in self._storing:
            # Callers coalesced by single-flight store the same response: one write is enough.
            return
        ticket = self._breaker.ticket()
        if ticket is None:
            return
        self._storing.add(key)
        try:
            await self.shared.set(key, encode_entry(entry), ttl)
        except Exception as err:
            self.stats.cache_errors += 1
            self._breaker.failed(ticket, err, "write")
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
            await self.shared.clear()
            self._breaker.close()

    async def aclose(self) -> None:
        """Release the shared store's connections (if it opened them)."""
        if self.shared is not None:
            try:
                await self.shared.aclose()
            except Exception as err:  # closing a dead connection must not fail `aclose()`
                logger.debug("closing cache %s failed: %s", self.shared.name, type(err).__name__)

    def __repr__(self) -> str:
        tiers = [repr(t) for t in (self.memory, self.shared) if t is not None]
        return f"<ResponseCache {' + '.join(tiers)}>"


class NotModified(Exception):
    """A conditional GET was answered 304: the cached body is still valid (RFC 9110 §15.4.5)."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        super().__init__("304 Not Modified")
        self.headers = headers
