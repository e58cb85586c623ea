"""What a crawl's ids come from, read lazily, never listed: `IdSource`, and the sources made
of ranges (`1-5000,7`) and of bitmaps; counting what a source has left to fetch.

A source is read as the crawl needs ids: ranges are yielded whole (the crawl walks them), a
bitmap id by id, returning to the event loop every few thousand (so Ctrl-C is handled). A
source that can be read twice can also be counted, for the progress bar. Id files and pipes
are in `_idfile`, TMDB's daily exports in `_exports`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Final, TypeVar

from pyroaring import BitMap64

from ._jsonl import MAX_ID

__all__ = [
    "LINES_PER_STEP",
    "IdItem",
    "IdSource",
    "IdsError",
    "bitmap_source",
    "count_to_fetch",
    "id_bitmap",
    "paced",
    "parse_ids",
    "range_source",
]

LINES_PER_STEP: Final = 4096
"""Ids (or lines) read between two returns to the event loop."""

T = TypeVar("T")

IdItem = int | range
"""What an id source yields: one id, or a range of ids (step 1) read lazily."""


class IdsError(ValueError):
    """An id list, id file or export that cannot be read; the message is for the user."""


@dataclass(frozen=True)
class IdSource:
    """`read()` yields the ids (or ranges of ids) of one pass over the source."""

    read: Callable[[], AsyncIterator[IdItem]]
    ranges: tuple[range, ...] | None = None
    """The ranges of `--ids`, for an exact count without reading."""
    rereadable: bool = True
    """False for a pipe: it can be read once only, so it is not counted."""


def parse_ids(text: str) -> list[range]:
    """Parse `1-5000,7,9-12` into ranges (inclusive bounds, ids >= 1)."""
    ranges: list[range] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        low, dash, high = part.partition("-")
        try:
            first = int(low)
            last = int(high) if dash else first
        except ValueError:
            raise IdsError(f"not an id or a range FIRST-LAST: {part[:40]!r}") from None
        if first < 1 or last < first:
            raise IdsError(f"bad range {part!r}: ids start at 1 and FIRST <= LAST")
        if last > MAX_ID:
            raise IdsError(f"bad range {part[:80]!r}: ids end at {MAX_ID} (2**63 - 1)")
        ranges.append(range(first, last + 1))
    if not ranges:
        raise IdsError(f"no ids in {text!r}")
    return ranges


def range_source(ranges: list[range]) -> IdSource:
    """The ids of `parse_ids` ranges, in the order given (each range walked lazily)."""

    async def read() -> AsyncIterator[IdItem]:
        for r in ranges:
            yield r

    return IdSource(read, ranges=tuple(ranges))


async def paced(items: Iterator[T]) -> AsyncIterator[T]:
    """`items`, returning to the event loop every `LINES_PER_STEP` of them."""
    try:
        for count, item in enumerate(items, 1):
            yield item
            if count % LINES_PER_STEP == 0:
                await asyncio.sleep(0)
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()


def bitmap_source(ids: BitMap64) -> IdSource:
    """The ids of a bitmap, in increasing order (the bitmap must not change while read)."""
    return IdSource(lambda: paced(iter(ids)))


async def id_bitmap(source: IdSource) -> BitMap64:
    """The distinct ids of one pass over `source` (a range is added whole)."""
    ids = BitMap64()
    async for item in source.read():
        if isinstance(item, range):
            ids.add_range(item.start, item.stop)
        else:
            ids.add(item)
    return ids


async def count_to_fetch(source: IdSource, done: BitMap64) -> int | None:
    """How many distinct ids of `source` are not in `done`; None if it can be read once only.

    Ranges are counted without walking them; a file or an export is read once more.
    """
    if source.ranges is not None:
        return _count_ranges(source.ranges, done)
    if not source.rereadable:
        return None
    ids = await id_bitmap(source)
    return len(ids) - ids.intersection_cardinality(done)


def _count_ranges(ranges: tuple[range, ...], done: BitMap64) -> int:
    total = 0
    end = 0
    for r in sorted(ranges, key=lambda r: r.start):
        start = max(r.start, end)
        if start < r.stop:
            total += (r.stop - start) - done.range_cardinality(start, r.stop)
            end = r.stop
    return total
