"""A bounded in-process LRU of cache entries: at most `max_entries` and `max_bytes`, with TTLs.

Plain synchronous code on an OrderedDict: a hit is a dict lookup and a `move_to_end`, with no
`await`, no lock and no timeout wrapper (aiocache's SimpleMemoryCache is unbounded and wraps
each call in `asyncio.wait_for`).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from .._constants import (
    MEMORY_CACHE_ENTRY_OVERHEAD,
    MEMORY_CACHE_MAX_BYTES,
    MEMORY_CACHE_MAX_ENTRIES,
)
from ._entry import Entry

__all__ = ["MemoryCache"]


class MemoryCache:
    """LRU of `Entry` objects bounded by entry count and bytes; expired entries read as misses.

    Pass one to `TMDB(cache=MemoryCache(max_bytes=...))` to choose the bounds; `cache="memory"`
    uses the defaults (10,000 entries, 128 MiB).
    """

    __slots__ = ("_clock", "_data", "_nbytes", "max_bytes", "max_entries")

    def __init__(
        self,
        max_entries: int = MEMORY_CACHE_MAX_ENTRIES,
        max_bytes: int = MEMORY_CACHE_MAX_BYTES,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("max_entries and max_bytes must be >= 1")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._data: OrderedDict[str, tuple[Entry, int]] = OrderedDict()
        self._nbytes = 0

    def __len__(self) -> int:
        return len(self._data)

    @property
    def nbytes(self) -> int:
        """Bytes currently charged: bodies, ETags, keys and a fixed overhead per entry."""
        return self._nbytes

    def get(self, key: str) -> Entry | None:
        """Return the entry (fresh or stale) and mark it recently used; None if absent or gone."""
        item = self._data.get(key)
        if item is None:
            return None
        entry = item[0]
        if entry.keep_until <= self._clock():
            self._remove(key)
            return None
        self._data.move_to_end(key)
        return entry

    def set(self, key: str, entry: Entry) -> None:
        """Store `entry` under `key`, evicting the least recently used ones beyond the bounds."""
        size = entry.size + len(key) + MEMORY_CACHE_ENTRY_OVERHEAD
        self._remove(key)
        if size > self.max_bytes or entry.keep_until <= self._clock():
            return
        self._data[key] = (entry, size)
        self._nbytes += size
        data = self._data
        while len(data) > self.max_entries or self._nbytes > self.max_bytes:
            _, (_, evicted) = data.popitem(last=False)
            self._nbytes -= evicted

    def delete(self, key: str) -> None:
        """Forget `key` if present."""
        self._remove(key)

    def clear(self) -> None:
        """Forget every entry."""
        self._data.clear()
        self._nbytes = 0

    def _remove(self, key: str) -> None:
        item = self._data.pop(key, None)
        if item is not None:
            self._nbytes -= item[1]

    def __repr__(self) -> str:
        return (
            f"<MemoryCache {len(self._data)}/{self.max_entries} entries, "
            f"{self._nbytes}/{self.max_bytes} bytes>"
        )
