"""One `await tmdb.movies.details(550)`: a memory-cache hit, a Redis hit, and a loopback fetch.

Every contender goes through the whole client (argument checks, URL, cache key, lookup, decode
into `MovieDetails`). The fetch baseline has no cache and talks to FakeTMDB running in another
process on loopback, so the server's work is not billed to the client. The Redis hit uses a
`redis-server` started here on a free port (skipped when the binary is absent). Calls run
sequentially, so a row is the latency of one call: best of rounds, per call.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tmdb_async import TMDB

from ._harness import Result, Suite, time_call

__all__ = ["run"]

MOVIE_ID = 550
BATCH = 50
"""Calls per timed `run_until_complete`, so the loop's entry cost is spread thin."""
TOKEN = "benchmark-token"
TARGET_MEMORY_SPEEDUP = 20.0
"""The issue's bar: a memory hit at least 20x faster than a loopback fetch."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_port(port: int, proc: subprocess.Popen[bytes], deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on port {port}")


@contextmanager
def _process(command: list[str], port: int) -> Iterator[None]:
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(port, proc)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _timed(
    loop: asyncio.AbstractEventLoop, call: Callable[[], Awaitable[Any]]
) -> Callable[[], None]:
    async def batch() -> None:
        for _ in range(BATCH):
            await call()

    return lambda: loop.run_until_complete(batch())


def run() -> Suite:
    fake_port = _free_port()
    fake = [sys.executable, "-m", "tmdb_async.testing", "--port", str(fake_port)]
    fake += ["--access-token", TOKEN]
    base_url = f"http://127.0.0.1:{fake_port}"
    suite = Suite(
        f"Cache: one `movies.details({MOVIE_ID})` call, decoded (per call)", "µs", "loopback fetch"
    )
    loop = asyncio.new_event_loop()
    clients: list[TMDB] = []

    def client(cache: object) -> TMDB:
        made = TMDB(access_token=TOKEN, base_url=base_url, cache=cache, rate_limit=None)
        clients.append(made)
        return made

    try:
        with _process(fake, fake_port):
            fetch = client(None)
            memory = client("memory")
            size = len(msgspec_body(loop, fetch))
            for warm in (fetch, memory):
                loop.run_until_complete(warm.movies.details(MOVIE_ID))
            baseline = (
                time_call(_timed(loop, lambda: fetch.movies.details(MOVIE_ID)), rounds=15) / BATCH
            )
            suite.results.append(
                Result(
                    "loopback fetch", baseline, f"no cache, FakeTMDB in another process, {size} B"
                )
            )
            redis = shutil.which("redis-server")
            if redis is None:
                suite.results.append(Result("Redis hit", float("nan"), "skipped: no redis-server"))
            else:
                port = _free_port()
                with (
                    tempfile.TemporaryDirectory() as tmp,
                    _process(
                        [
                            *(redis, "--port", str(port), "--bind", "127.0.0.1"),
                            *("--save", "", "--appendonly", "no", "--dir", tmp),
                        ],
                        port,
                    ),
                ):
                    shared = client(f"redis://127.0.0.1:{port}/0")
                    loop.run_until_complete(shared.movies.details(MOVIE_ID))
                    seconds = time_call(_timed(loop, lambda: shared.movies.details(MOVIE_ID)))
                    assert shared.stats.requests == 1, "every Redis call must be a hit"
                    suite.results.append(
                        Result("Redis hit", seconds / BATCH, "one GET round trip + decode")
                    )
                    loop.run_until_complete(shared.aclose())
            hit = (
                time_call(_timed(loop, lambda: memory.movies.details(MOVIE_ID)), rounds=15) / BATCH
            )
            assert memory.stats.requests == 1, "every memory call must be a hit"
            speedup = baseline / hit
            verdict = "meets" if speedup >= TARGET_MEMORY_SPEEDUP else "MISSES"
            suite.results.append(
                Result(
                    "memory hit",
                    hit,
                    f"lookup + decode: {hit * 1e6:.1f} µs; {verdict} the "
                    f"{TARGET_MEMORY_SPEEDUP:.0f}x target",
                )
            )
    finally:
        for made in clients:
            loop.run_until_complete(made.aclose())
        loop.close()
    return suite


def msgspec_body(loop: asyncio.AbstractEventLoop, tmdb: TMDB) -> bytes:
    """The raw body the benchmark decodes, to report its size."""
    import aiohttp

    async def fetch() -> bytes:
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"{tmdb.options.base_url}/3/movie/{MOVIE_ID}",
                headers={"Authorization": f"Bearer {TOKEN}"},
            ) as response,
        ):
            return await response.read()

    return loop.run_until_complete(fetch())
