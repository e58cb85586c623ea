"""Caching: the one place the response cache is read and written.

A fresh entry answers the call here (a remembered 404 answers as TMDB did). A stale entry
with an ETag is revalidated: the call goes on with `If-None-Match`, and a 304 reply refreshes
the entry and answers from it, without a body download. A 200 is kept for its TTL; a 404
with TMDB's code 34 ("not found") for CACHE_NEGATIVE_TTL. What to keep, and for how long, is
`new_entry`, a pure function of the response.

With a deadline, the shared tier's lookup is bounded by it (the time is charged to the cache)
and so is the wait for a store (a response that arrived is answered with, stored or not); the
Redis command itself runs on (`ResponseCache.detach`), so a hung Redis still opens the breaker
rather than eating every deadline. A fresh memory entry answers without looking at the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import msgspec

from .._cache import Entry, ResponseCache
from .._cache._policy import fresh_ttl, keep_ttl
from .._constants import CACHE_NEGATIVE_TTL, CACHE_STALE_KEEP_MAX, MAX_TTL
from .._deadline import Deadline, DeadlinePhase, wait_done
from .._stats import Stats
from ._types import NO_HEADERS, Call, Reply, Stage
from .decoding import read

__all__ = ["Caching", "new_entry"]

_NOT_FOUND = 34
"""TMDB's code for "The resource you requested could not be found": negative-cacheable.
Other 404s (6 "invalid id", 37 "no image") and non-JSON 404 pages are not kept."""
_REFRESHED = ("etag", "cache-control", "age")


def new_entry(
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    status_code: int | None,
    class_ttl: float,
    now: float,
) -> Entry | None:
    """The entry to keep for a response at wall time `now`, or None when it may not be kept.

    A 200 stays fresh for the class TTL, or less when `Cache-Control: max-age` (minus `Age`)
    says so; with an ETag it is kept a while longer, stale, to be revalidated. A 404 with TMDB
    code `status_code` 34 stays CACHE_NEGATIVE_TTL (at most the class TTL), without an ETag.
    """
    if status == 404:
        if status_code != _NOT_FOUND:
            return None
        fresh, etag = min(CACHE_NEGATIVE_TTL, class_ttl), None
    elif status == 200:
        fresh = fresh_ttl(class_ttl, headers.get("cache-control"), headers.get("age"))
        etag = headers.get("etag")
    else:
        return None
    keep = keep_ttl(
        fresh, has_etag=etag is not None, stale_keep_max=CACHE_STALE_KEEP_MAX, max_ttl=MAX_TTL
    )
    if keep <= 0:
        return None
    return Entry(status, body, now + fresh, now + keep, etag)


class Caching:
    """Answers from the cache when it can; keeps what comes back when it may."""

    __slots__ = ("_cache", "_inner", "_stats", "_wall")

    def __init__(
        self, inner: Stage, cache: ResponseCache, stats: Stats, wall: Callable[[], float]
    ) -> None:
        """`wall` gives the epoch time, to resolve `Retry-After` HTTP dates."""
        self._inner = inner
        self._cache = cache
        self._stats = stats
        self._wall = wall

    async def send(self, call: Call) -> Reply:
        """Answer `call` from a fresh entry, else send it on (conditional when stale)."""
        key = call.cache_key
        if key is None:
            return await self._inner.send(call)
        cache = self._cache
        entry = cache.peek(key)  # fresh in memory: no await
        if entry is None:
            deadline = call.deadline
            if deadline is None or cache.shared is None:
                entry = await cache.get(key)  # stale in memory, or from the shared tier
            else:
                task = cache.detach(cache.get(key))
                with deadline.phase(DeadlinePhase.CACHE):
                    done = await wait_done(task, deadline.remaining)
                if not done:
                    return _late(call, deadline)
                entry = task.result()
            fresh = entry is not None and entry.fresh_until > cache.now()
        else:
            fresh = True
        if fresh:
            assert entry is not None
            self._stats.cache_hits += 1
            return read(call, entry.status, NO_HEADERS, entry.body, self._wall)
        self._stats.cache_misses += 1
        if entry is not None and entry.etag is not None and entry.status == 200:
            # RFC 9111 4.3.1: ask whether the stored response is still the current one.
            reply = await self._inner.send(_conditional(call, entry.etag))
            if reply.status == 304:
                return await self._revalidated(call, key, entry, entry.etag, reply.headers)
        else:
            reply = await self._inner.send(call)
        error = reply.error
        if error is None and reply.value is not None:
            await self._keep(call, key, self._entry(call, reply, None))
        elif error is not None and error.http_status == 404 and error.status_code == _NOT_FOUND:
            await self._keep(call, key, self._entry(call, reply, _NOT_FOUND))
        return reply

    async def _revalidated(
        self, call: Call, key: str, entry: Entry, etag: str, headers: Mapping[str, str]
    ) -> Reply:
        """Refresh the stale `entry` after a 304 and answer from it."""
        self._stats.revalidated += 1
        # RFC 9111 4.3.4: the 304's validators and freshness replace the stored ones.
        refreshed = {name: value for name in _REFRESHED if (value := headers.get(name))}
        refreshed.setdefault("etag", etag)
        now = self._cache.now()
        kept = new_entry(200, entry.body, refreshed, None, call.cache_ttl, now)
        await self._keep(call, key, kept)
        return read(call, 200, refreshed, entry.body, self._wall)

    def _entry(self, call: Call, reply: Reply, status_code: int | None) -> Entry | None:
        now = self._cache.now()
        return new_entry(reply.status, reply.body, reply.headers, status_code, call.cache_ttl, now)

    async def _keep(self, call: Call, key: str, entry: Entry | None) -> None:
        cache = self._cache
        if entry is None:
            cache.discard(key)  # superseded by a response that may not be kept
        elif call.deadline is None or cache.shared is None:
            await cache.set(key, entry)
        else:
            await wait_done(cache.detach(cache.set(key, entry)), call.deadline.remaining)


def _conditional(call: Call, etag: str) -> Call:
    return msgspec.structs.replace(call, validators={"If-None-Match": etag})


def _late(call: Call, deadline: Deadline) -> Reply:
    request = call.request
    error = deadline.exceeded(
        DeadlinePhase.CACHE, method=request.method, url=request.redacted_url()
    )
    return Reply(error=error)
