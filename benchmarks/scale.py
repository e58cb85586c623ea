"""Cost as the work grows: 1k, 10k and 100k ids through `tmdb.fetch_many` against the static
server (is throughput flat? is memory flat?), and the memory held by 100k `MovieSummary`
Structs vs the same data as dicts.

Each (size, round) is a fresh process (so its peak RSS is its own), and every run is timed in
windows of 1,000 results (`_child.SCALE_WINDOW`). On a shared machine the noise comes from
neighbours, in bursts of seconds: a 1k run (under 0.1 s) is one window that lands in a quiet
moment or a noisy one, a 100k run is 100 windows in a row that may sit in one burst, so whole
runs, or even the median window, compare luck (medians moved by 25% between identical runs).
Ratios therefore use the 10th percentile of each size's windows: the cost on a quiet machine,
not biased by the number of windows as the best one would be. A client that slowed as the work
grew would still show it: nine in ten windows of a 100k run come after the 10,000th request.
The small sizes get more rounds (`ROUNDS`); every size's rounds are spread evenly over the
suite. The memory comparison runs here, under tracemalloc: bytes still
allocated after decoding, with the decoded objects alive.
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import tracemalloc
from collections.abc import Callable
from typing import Any

import msgspec

from codegen.examples import read_example
from tmdb_async.models import MovieSummary

from ._child import SCALE_WINDOW
from ._harness import Column, Result, Suite
from ._peers import spawn
from ._servers import static_server

__all__ = ["memory", "run"]

SIZES = (1_000, 10_000, 100_000)
ROUNDS = {1_000: 30, 10_000: 8, 100_000: 4}
CONCURRENCY = 20
WARMUP = 200
"""A warm-up batch, repeated for at least `_child.WARM_SECONDS` whatever the size."""
HELD = 100_000
FLAT = 1.10
"""Issue 8: 100k ids within 10% of 1k ids, in throughput and in peak memory."""


def _label(size: int) -> str:
    return f"{size:,} ids"


def run(
    sizes: tuple[int, ...] = SIZES, rounds: dict[int, int] | None = None, server: str = "auto"
) -> Suite:
    """fetch_many over each size, `rounds[size]` fresh processes each, spread evenly."""
    rounds = rounds or ROUNDS
    results = {size: Result(_label(size)) for size in sizes}
    taken: dict[int, list[dict[str, Any]]] = {size: [] for size in sizes}
    # Round k of a size with n rounds sits at (k + 0.5) / n of the suite.
    schedule = sorted(
        ((k + 0.5) / rounds[size], size) for size in sizes for k in range(rounds[size])
    )
    with static_server(server) as (base_url, description):
        for _, size in schedule:
            args = [base_url, str(size), str(CONCURRENCY), str(WARMUP)]
            sample = spawn(sys.executable, "scale", *args)
            taken[size].append(sample)
            results[size].samples.extend(sample["windows"])
    for size, samples in taken.items():
        results[size].metrics = {
            "req_s": size * len(samples) / sum(s["wall"] for s in samples),
            "cpu_us": sum(s["cpu"] for s in samples) / (size * len(samples)) * 1e6,
            "peak_rss_mib": statistics.median(s["peak_rss_mib"] for s in samples),
            "growth_mib": max(s["rss_after_mib"] - s["rss_before_mib"] for s in samples),
        }
        windows = len(results[size].samples)
        results[size].note = f"{len(samples)} round(s), {windows:,} windows of {SCALE_WINDOW:,}"
    small, large = results[sizes[0]], results[sizes[-1]]
    suite = Suite(
        key="scale",
        title=(
            f"Scale: `tmdb.fetch_many(tmdb.movies.details, ids, concurrency={CONCURRENCY})`, "
            f"no cache ({description}); one process per run"
        ),
        unit="µs/req",
        ratio_on="p10",
        baseline=small.name,
        subject=large.name,
        targets={small.name: 1 / FLAT},
        columns=[
            Column("req_s", "req/s (total)"),
            Column("cpu_us", "client CPU µs/req"),
            Column("peak_rss_mib", "peak RSS MiB", "{:,.1f}"),
            Column("growth_mib", "RSS growth during the run, MiB", "{:,.1f}"),
        ],
        results=list(results.values()),
    )
    throughput = suite.subject_ratio(small.name)
    memory_ratio = large.metrics["peak_rss_mib"] / small.metrics["peak_rss_mib"]
    on_medians = small.median / large.median
    suite.notes.append(
        f"Throughput at {large.name} is {throughput:.2f}x that at {small.name} on the 10th "
        f"percentile window (target >= {1 / FLAT:.2f}: "
        f"{'met' if throughput >= 1 / FLAT else 'MISSED'}; {on_medians:.2f}x on the median "
        f"window, which moves with the neighbours' noise); peak RSS "
        f"{small.metrics['peak_rss_mib']:.1f} -> {large.metrics['peak_rss_mib']:.1f} MiB "
        f"({memory_ratio:.2f}x, flat within 10%: {'yes' if memory_ratio <= FLAT else 'NO'})."
    )
    return suite


def _summaries(count: int) -> bytes:
    """`count` movie summaries (TMDB's popular-list example items, each with its own id)."""
    items = read_example("movie-popular-list")["results"]
    return json.dumps(
        [{**items[i % len(items)], "id": i + 1} for i in range(count)], separators=(",", ":")
    ).encode()


def _held_bytes(decode: Callable[[], object]) -> int:
    """Bytes allocated by `decode()` and still alive while its result is held."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        value = decode()
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    del value
    return held


def memory(count: int = HELD, rounds: int = 3) -> Suite:
    """Memory held by `count` MovieSummary Structs vs the same JSON as dicts."""
    body = _summaries(count)
    decoder = msgspec.json.Decoder(list[MovieSummary])
    contenders: list[tuple[str, Callable[[], object], str]] = [
        ("dicts (json.loads)", lambda: json.loads(body), "what a hand-written client keeps"),
        ("dicts (msgspec.json.decode)", lambda: msgspec.json.decode(body), "untyped"),
        (
            "tmdb-async MovieSummary",
            lambda: decoder.decode(body),
            "frozen Structs, gc=False: no GC header, not tracked",
        ),
    ]
    results = [Result(name, note=note) for name, _, note in contenders]
    for _ in range(rounds):
        for result, (_, decode, _) in zip(results, contenders, strict=True):
            result.samples.append(_held_bytes(decode))
    return Suite(
        key="memory",
        title=(
            f"Memory: {count:,} movie summaries held in memory (tracemalloc; "
            f"{len(body) / 2**20:.1f} MiB of JSON)"
        ),
        unit="MiB",
        scale=1 / 2**20,
        baseline="dicts (json.loads)",
        subject="tmdb-async MovieSummary",
        results=results,
    )
