"""The client's counters: `Stats.add` sums every one (the shards of a distributed crawl)."""

from __future__ import annotations

from collections import Counter
from dataclasses import fields

from tmdb_async._drift import UnknownKey
from tmdb_async._stats import Stats

KEYS = {"errors": "ServerError", "unknown_keys": UnknownKey("MovieDetails", "$.new_key")}
"""A key for each counter that is a Counter."""


def numbered(scale: int) -> Stats:
    """Stats whose every counter is distinct: the i-th holds i * scale."""
    stats = Stats()
    for number, counter in enumerate(fields(stats), 1):
        if isinstance(getattr(stats, counter.name), Counter):
            setattr(stats, counter.name, Counter({KEYS[counter.name]: number * scale}))
        else:
            setattr(stats, counter.name, number * scale)
    return stats


def test_add_sums_every_counter_including_ones_added_later() -> None:
    total = numbered(1)
    total.add(numbered(100))
    assert total == numbered(101)
    total.add(Stats())
    assert total == numbered(101)


def test_add_merges_the_error_counts_by_class() -> None:
    total = Stats(errors=Counter({"NotFoundError": 2}))
    total.add(Stats(errors=Counter({"NotFoundError": 1, "ServerError": 4})))
    assert total.errors == {"NotFoundError": 3, "ServerError": 4}
