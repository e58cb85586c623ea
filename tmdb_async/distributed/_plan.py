"""Shards: the distinct ids of a crawl, in source order, cut into runs of `size` ids.

The same ids and size always give the same shards, which is what lets a re-run skip the ones
a manifest lists as finished. Each shard carries a digest of its ids, so a manifest written
for other ids is recognised instead of trusted.
"""

from __future__ import annotations

import hashlib
import sys
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["Shard", "plan_shards"]


@dataclass(frozen=True)
class Shard:
    """One task's worth of ids: `ids` in order, numbered `index` from 0."""

    index: int
    ids: tuple[int, ...]
    digest: str = field(init=False)
    """16 hex digits of BLAKE2b over the ids (8 bytes each, little-endian)."""

    def __post_init__(self) -> None:
        packed = array("q", self.ids)
        if sys.byteorder == "big":
            packed.byteswap()
        digest = hashlib.blake2b(packed.tobytes(), digest_size=8).hexdigest()
        object.__setattr__(self, "digest", digest)

    @property
    def name(self) -> str:
        """`part-000012`: the stem of its part files."""
        return f"part-{self.index:06d}"


def plan_shards(ids: Iterable[int], size: int) -> list[Shard]:
    """Cut the distinct `ids` (first occurrence kept, order kept) into shards of `size`."""
    if size < 1:
        raise ValueError(f"shard size must be >= 1, got {size}")
    seen: set[int] = set()
    shards: list[Shard] = []
    current: list[int] = []
    for ident in ids:
        if ident in seen:
            continue
        seen.add(ident)
        current.append(ident)
        if len(current) == size:
            shards.append(Shard(len(shards), tuple(current)))
            current = []
    if current:
        shards.append(Shard(len(shards), tuple(current)))
    return shards
