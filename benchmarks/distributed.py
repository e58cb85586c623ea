"""Crawls beyond one process, each against its baseline in the same run (opt-in suites: they
need the `dask` extra, and `limiter` a `redis-server`).

`distributed`: `tmdb-async crawl movie --ids 1-20000 --rate 0` against the static server, in
one process and with `--dask local:2`, end to end (process start, cluster start, writing the
output); one fresh CLI process per round, rounds interleaved, ratios on the median round. One
more Dask run through the Python API times the phases: starting the cluster, the crawl, and
the workers' compute (Dask's task stream), which tells where the time goes.

`limiter`: one `acquire()` of the local token bucket against one of the Redis budget (its Lua
script on a loopback redis-server), at a rate that never waits; and the client's req/s at
concurrency 20 against the static server through each.
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tmdb_async import TMDB
from tmdb_async._ratelimit import RateLimiter
from tmdb_async._ratelimit._shared import SharedRateLimiter

from ._cli import run_cli
from ._harness import Column, Result, Suite
from ._servers import static_server
from .cache import NO_REDIS, redis_server

__all__ = ["crawl", "limiter"]

IDS = 20_000
WORKERS = 2
ROUNDS = 3
ACQUISITIONS = 5_000
REQUESTS = 3_000
CONCURRENCY = 20
UNLIMITED = 1e9
"""Requests/s for the limiter suite: high enough that no acquisition ever waits."""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cli_crawl(base_url: str, out: Path, *extra: str) -> tuple[float, float, float]:
    """Run the CLI crawl once: wall seconds of the process, seconds its summary reports, and
    CPU seconds of the process and every process it started (the Dask workers too)."""
    args = ["crawl", "movie", "--ids", f"1-{IDS}", "--rate", "0", "--base-url", base_url]
    cpu = _children_cpu()
    inside, wall = run_cli(*args, "--out", str(out), "--no-progress", *extra, ids=IDS)
    return wall, inside, _children_cpu() - cpu


async def _phases(base_url: str, out: Path) -> dict[str, float]:
    """One Dask crawl through the Python API, timed phase by phase."""
    from tmdb_async.distributed import crawl as sharded_crawl
    from tmdb_async.distributed._driver import _connect  # the cluster `--dask local:N` starts

    started = time.perf_counter()
    async with _connect(f"local:{WORKERS}", None) as client:
        await client.wait_for_workers(WORKERS)
        cluster_up = time.perf_counter() - started
        await client.get_task_stream()  # starts recording
        begin = time.time()
        crawling = time.perf_counter()
        summary = await sharded_crawl(
            "movies.details",
            range(1, IDS + 1),
            out,
            cluster=client,
            client_options={"base_url": base_url, "rate_limit": None},
        )
        crawl_s = time.perf_counter() - crawling
        stream: list[dict[str, Any]] = await client.get_task_stream(start=begin)
    if summary.done != IDS:
        raise RuntimeError(f"the API crawl wrote {summary.done} of {IDS} ids")
    compute = [
        part["stop"] - part["start"]
        for task in stream
        for part in task["startstops"]
        if part["action"] == "compute"
    ]
    return {
        "cluster_s": cluster_up,
        "crawl_s": crawl_s,
        "compute_s": sum(compute),
        "shards": len(compute),
        "shard_s": statistics.median(compute),
        "busy": sum(compute) / (WORKERS * crawl_s),
    }


def crawl(rounds: int = ROUNDS, server: str = "auto") -> Suite:
    """The single-process crawl and `--dask local:2`, `rounds` interleaved rounds each."""
    single = Result("one process", note="`tmdb-async crawl`, the loop without Dask")
    dask = Result(f"--dask local:{WORKERS}", note=f"{WORKERS} worker processes, 1 thread each")
    reported: dict[str, list[float]] = {single.name: [], dask.name: []}
    cpu: dict[str, list[float]] = {single.name: [], dask.name: []}
    with static_server(server) as (base_url, description), tempfile.TemporaryDirectory() as tmp:
        for n in range(rounds):
            for result, extra in ((single, ()), (dask, ("--dask", f"local:{WORKERS}"))):
                out = Path(tmp, f"{n}-{len(extra)}" + ("" if extra else ".jsonl"))
                wall, inside, used = _cli_crawl(base_url, out, *extra)
                result.samples.append(wall)
                reported[result.name].append(inside)
                cpu[result.name].append(used)
        phases = asyncio.run(_phases(base_url, Path(tmp, "api")))
    for result in (single, dask):
        result.metrics = {
            "ids_s": IDS / result.median,
            "inside_s": statistics.median(reported[result.name]),
            "cpu_ms": statistics.median(cpu[result.name]) / IDS * 1e3,
            "spread": (max(result.samples) - min(result.samples)) / result.median,
        }
    suite = Suite(
        key="distributed",
        title=(
            f"Crawl of {IDS:,} movie ids, no rate limit, concurrency {CONCURRENCY} in all "
            f"({description}): one process vs. Dask; {rounds} interleaved rounds"
        ),
        unit="s",
        scale=1.0,
        baseline=single.name,
        subject=dask.name,
        columns=[
            Column("ids_s", "ids/s (median)"),
            Column("inside_s", "s in the crawl's own summary", "{:,.1f}"),
            Column("cpu_ms", "CPU ms/id, all its processes", "{:.2f}"),
            Column("spread", "spread (max-min)/median", "{:.0%}"),
        ],
        results=[single, dask],
    )
    suite.notes.append(
        f"Where the Dask time goes (one more run through the Python API): starting "
        f"{WORKERS} workers {phases['cluster_s']:.1f} s; the crawl {phases['crawl_s']:.1f} s, in "
        f"which the workers computed {phases['compute_s']:.1f} s over {phases['shards']:.0f} "
        f"shards ({phases['shard_s']:.2f} s each, median), busy {phases['busy']:.0%} of the "
        f"time; the rest is the client (planning, writing parts) and the scheduler, on the "
        f"same 2 cores as the workers and the server."
    )
    return suite


async def _per_acquisition(limiter: RateLimiter | SharedRateLimiter) -> float:
    await limiter.acquire()  # connected (the shared one), bucket bound to this loop
    started = time.perf_counter()
    for _ in range(ACQUISITIONS):
        await limiter.acquire()
    return (time.perf_counter() - started) / ACQUISITIONS


async def _client_rate(base_url: str, store: str | None) -> float:
    async with TMDB(
        base_url=base_url, cache=None, rate_limit=UNLIMITED, rate_limit_store=store
    ) as tmdb:
        await tmdb.movies.details(1)
        started = time.perf_counter()
        async for _, result in tmdb.fetch_many(
            tmdb.movies.details, range(1, REQUESTS + 1), concurrency=CONCURRENCY
        ):
            if isinstance(result, Exception):
                raise result
        return REQUESTS / (time.perf_counter() - started)


def limiter(rounds: int = ROUNDS * 2, server: str = "auto") -> Suite:
    """One acquisition and a client's req/s, through the local and the shared limiter."""
    local = Result("local token bucket", note="in-process, no I/O")
    shared = Result("Redis budget", note="one EVALSHA round trip to a loopback redis-server")
    rates: dict[str, list[float]] = {local.name: [], shared.name: []}
    with redis_server() as store, static_server(server) as (base_url, description):
        if store is None:
            shared.unavailable = NO_REDIS
        for _ in range(rounds):
            contenders: list[tuple[Result, str | None]] = [(local, None)]
            contenders += [(shared, store)] if store is not None else []
            for result, url in contenders:

                async def measure(url: str | None = url) -> tuple[float, float]:
                    bucket: RateLimiter | SharedRateLimiter = (
                        RateLimiter(UNLIMITED)
                        if url is None
                        else SharedRateLimiter(UNLIMITED, url, scope="benchmark")
                    )
                    try:
                        cost = await _per_acquisition(bucket)
                    finally:
                        await bucket.aclose()
                    return cost, await _client_rate(base_url, url)

                cost, rate = asyncio.run(measure())
                result.samples.append(cost)
                rates[result.name].append(rate)
    for result in (local, shared):
        if rates[result.name]:
            result.metrics = {"req_s": statistics.median(rates[result.name])}
    return Suite(
        key="limiter",
        title=(
            f"Rate limiter: one acquisition ({ACQUISITIONS:,} in a row, never waiting), and a "
            f"client's req/s at concurrency {CONCURRENCY} through it ({description}); "
            f"{rounds} interleaved rounds"
        ),
        unit="µs",
        baseline=local.name,
        columns=[Column("req_s", "client req/s (median)")],
        results=[local, shared],
        notes=[
            "A process holds one slot of a shared budget at a time (fairness across "
            "processes, and a Retry-After reaches all at once), so its acquisitions are one "
            "Redis round trip apart: the shared budget caps one process at about "
            "1 / (acquisition time), far above TMDB's 40/s."
        ],
    )
