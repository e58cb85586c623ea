"""Measure one contender in this fresh process and print one JSON object.

`python -m benchmarks._child throughput MODULE URL REQUESTS CONCURRENCY WARMUP`
`python -m benchmarks._child decode MODULE BODY_FILE ROUNDS`
`python -m benchmarks._child scale URL IDS CONCURRENCY WARMUP`
`python -m benchmarks._child fetch MODULE URL REQUESTS CONCURRENCY` (run under valgrind)

Runs in the contender's own venv (peers) with the repository on PYTHONPATH, so it imports
nothing but the standard library, `_harness` and the contender module. CPU time is this
process's user + system time (every thread) around the timed part; peak RSS is VmHWM.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import platform
import resource
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

from ._harness import time_call

__all__ = ["main"]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mib() -> float:
    """Resident set size now, from /proc (Linux), in MiB."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return float("nan")
    return pages * resource.getpagesize() / 2**20


def _peak_rss_mib() -> float:
    """Peak RSS of this program, in MiB: VmHWM (ru_maxrss survives exec: it would report the
    parent's size at fork time when that was larger)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        if dist == "tmdb-async":
            return str(importlib.import_module("tmdb_async").__version__)
        return "?"


async def _drive(fetch: Callable[[int], Awaitable[Any]], ids: Iterable[int], workers: int) -> Any:
    """Run `fetch` over `ids` with `workers` concurrent loops; return one result."""
    queue: Iterator[int] = iter(ids)
    last: list[Any] = [None]

    async def worker() -> None:
        for movie_id in queue:
            last[0] = await fetch(movie_id)

    await asyncio.gather(*(worker() for _ in range(workers)))
    return last[0]


def _check(module: ModuleType, result: Any) -> None:
    if not module.title(result):
        raise RuntimeError(f"{module.NAME}: no movie decoded from the response: {result!r:.200}")


WARM_SECONDS = 1.0
"""The warm-up repeats its batch until this long has passed, so every contender and every size
is timed on a machine already under load: a shared 2-vCPU VM runs a short burst faster than a
sustained load, which would flatter whatever finishes quickest."""


async def _warm_async(fetch: Callable[[int], Awaitable[Any]], warmup: int, workers: int) -> Any:
    """Run batches of `warmup` fetches for at least WARM_SECONDS; return the last result."""
    until = time.perf_counter() + WARM_SECONDS
    while True:
        last = await _drive(fetch, range(1, warmup + 1), workers)
        if time.perf_counter() >= until:
            return last


async def _throughput_async(
    module: ModuleType, base_url: str, requests: int, concurrency: int, warmup: int
) -> dict[str, float]:
    fetch, close = await module.open_async(base_url, concurrency)
    try:
        _check(module, await _warm_async(fetch, warmup, concurrency))
        cpu, start = _cpu(), time.perf_counter()
        last = await _drive(fetch, range(warmup + 1, warmup + requests + 1), concurrency)
        wall, cpu = time.perf_counter() - start, _cpu() - cpu
        _check(module, last)
    finally:
        await close()
    return {"wall": wall, "cpu": cpu}


def _throughput_sync(
    module: ModuleType, base_url: str, requests: int, concurrency: int, warmup: int
) -> dict[str, float]:
    fetch, close = module.open_sync(base_url, concurrency)
    try:
        with ThreadPoolExecutor(concurrency) as pool:
            until = time.perf_counter() + WARM_SECONDS
            while True:
                warmed = list(pool.map(fetch, range(1, warmup + 1)))[-1]
                if time.perf_counter() >= until:
                    break
            _check(module, warmed)
            cpu, start = _cpu(), time.perf_counter()
            results = pool.map(fetch, range(warmup + 1, warmup + requests + 1))
            last = None
            for result in results:
                last = result
            wall, cpu = time.perf_counter() - start, _cpu() - cpu
            _check(module, last)
    finally:
        close()
    return {"wall": wall, "cpu": cpu}


def _run_loop(module: ModuleType, coroutine: Awaitable[dict[str, float]]) -> dict[str, float]:
    if getattr(module, "LOOP", "asyncio") == "uvloop":
        uvloop = importlib.import_module("uvloop")
        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    try:
        result: dict[str, float] = loop.run_until_complete(coroutine)
        return result
    finally:
        loop.close()


def throughput(
    name: str, base_url: str, requests: int, concurrency: int, warmup: int
) -> dict[str, Any]:
    """Wall and CPU seconds for `requests` fetches after `warmup` ones, and the peak RSS."""
    module = importlib.import_module(f"benchmarks.contenders.{name}")
    if hasattr(module, "open_sync"):
        sample = _throughput_sync(module, base_url, requests, concurrency, warmup)
    else:
        sample = _run_loop(
            module, _throughput_async(module, base_url, requests, concurrency, warmup)
        )
    return {
        **sample,
        "requests": requests,
        "peak_rss_mib": _peak_rss_mib(),
        "python": platform.python_version(),
        "version": _version(module.DIST),
    }


async def _fetch_async(
    module: ModuleType, base_url: str, requests: int, concurrency: int
) -> dict[str, float]:
    fetch, close = await module.open_async(base_url, concurrency)
    try:
        _check(module, await _drive(fetch, range(1, requests + 1), concurrency))
    finally:
        await close()
    return {"requests": requests}


def fetch(name: str, base_url: str, requests: int, concurrency: int) -> dict[str, Any]:
    """Exactly `requests` fetches and nothing else timed or repeated: the instruction count of
    the whole process, taken at two sizes, gives the cost of one fetch (`instructions`)."""
    module = importlib.import_module(f"benchmarks.contenders.{name}")
    return _run_loop(module, _fetch_async(module, base_url, requests, concurrency))


def decode(name: str, body_file: str, rounds: int) -> dict[str, Any]:
    """Seconds per decode of the body in `body_file`, one sample per round."""
    module = importlib.import_module(f"benchmarks.contenders.{name}")
    body = Path(body_file).read_bytes()
    fn = module.decoder(body)
    return {
        "samples": time_call(fn, rounds=rounds),
        "parts_kept": bool(module.parts_kept(fn(), json.loads(body))),
        "python": platform.python_version(),
        "version": _version(module.DIST),
    }


SCALE_WINDOW = 1_000
"""The scale suite times every run in windows of this many results (seconds per request)."""


async def _scale(base_url: str, ids: int, concurrency: int, warmup: int) -> dict[str, Any]:
    from tmdb_async import TMDB, TMDBError

    from .contenders.tmdbasync import TOKEN

    async with TMDB(
        access_token=TOKEN,
        base_url=base_url,
        cache=None,
        rate_limit=None,
        max_connections=concurrency,
    ) as tmdb:
        details = tmdb.movies.details
        until = time.perf_counter() + WARM_SECONDS
        while time.perf_counter() < until:
            async for _ in tmdb.fetch_many(details, range(1, warmup + 1), concurrency=concurrency):
                pass
        rss_before = _rss_mib()
        errors = done = 0
        windows: list[float] = []
        cpu, start = _cpu(), time.perf_counter()
        window_start = start
        async for _, result in tmdb.fetch_many(details, range(1, ids + 1), concurrency=concurrency):
            errors += isinstance(result, TMDBError)
            done += 1
            if done % SCALE_WINDOW == 0:
                now = time.perf_counter()
                windows.append((now - window_start) / SCALE_WINDOW)
                window_start = now
        wall, cpu = time.perf_counter() - start, _cpu() - cpu
    if errors:
        raise RuntimeError(f"{errors} of {ids} fetches failed")
    return {
        "wall": wall,
        "cpu": cpu,
        "windows": windows,
        "requests": ids,
        "rss_before_mib": rss_before,
        "rss_after_mib": _rss_mib(),
        "peak_rss_mib": _peak_rss_mib(),
        "python": platform.python_version(),
        "version": _version("tmdb-async"),
    }


def main(argv: list[str]) -> int:
    """Dispatch on the mode; print the measurement as JSON."""
    mode, *args = argv
    out: dict[str, Any]
    if mode == "throughput":
        name, base_url, requests, concurrency, warmup = args
        out = throughput(name, base_url, int(requests), int(concurrency), int(warmup))
    elif mode == "decode":
        name, body_file, rounds = args
        out = decode(name, body_file, int(rounds))
    elif mode == "fetch":
        name, base_url, requests, concurrency = args
        out = fetch(name, base_url, int(requests), int(concurrency))
    elif mode == "scale":
        base_url, ids, concurrency, warmup = args
        out = asyncio.run(_scale(base_url, int(ids), int(concurrency), int(warmup)))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
