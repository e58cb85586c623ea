"""One `await tmdb.movies.details(550)`: a memory-cache hit, a Redis hit, and a loopback fetch;
and a memory hit of the design's first example, `movies.details(550, append_to_response=[...])`
(a list argument: a typed hit).

Every contender goes through the whole client (argument checks, URL, cache key, lookup, decode
into `MovieDetails`). The fetch baseline has no cache and talks to FakeTMDB running in another
process on loopback, so the server's work is not billed to the client. The Redis hit uses a
`redis-server` started here on a free port (n/a when the binary is absent). Calls run one after
another, so a row is the latency of one call. Rounds are interleaved; a round's sample is the
best of 3 timing loops; ratios use the median round.
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
from contextlib import ExitStack, contextmanager
from typing import Any

from tmdb_async import TMDB
from tmdb_async.models import MovieDetailsPart

from ._harness import Result, Suite, time_call
from ._servers import TOKEN, free_port

__all__ = ["NO_REDIS", "redis_server", "run"]

MOVIE_ID = 550
APPENDED: list[MovieDetailsPart] = ["credits", "images"]
BATCH = 50
"""Calls per timed `run_until_complete`, so the loop's entry cost is spread thin."""
ROUNDS = 7
LOOPS = 3
NO_REDIS = "no redis-server binary (apt-get install redis-server)"
TARGET_MEMORY_SPEEDUP = 20.0
"""Issue 8: a memory hit at least 20x faster than a loopback fetch."""


def _wait_port(port: int, proc: subprocess.Popen[bytes], deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            errors = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}: {errors[-500:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on port {port}")


@contextmanager
def _process(command: list[str], port: int) -> Iterator[None]:
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_port(port, proc)
        yield
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


@contextmanager
def redis_server() -> Iterator[str | None]:
    """A `redis-server` on a free loopback port, no persistence: its URL (None without the
    binary)."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        command = [binary, "--port", str(port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", tmp]
        with _process(command, port):
            yield f"redis://127.0.0.1:{port}/0"


def _timed(
    loop: asyncio.AbstractEventLoop, call: Callable[[], Awaitable[Any]]
) -> Callable[[], None]:
    async def batch() -> None:
        for _ in range(BATCH):
            await call()

    return lambda: loop.run_until_complete(batch())


def run(rounds: int = ROUNDS) -> Suite:
    """Time a fetch, a Redis hit and a memory hit `rounds` times, interleaved."""
    fake_port = free_port()
    base_url = f"http://127.0.0.1:{fake_port}"
    fake = [sys.executable, "-m", "tmdb_async.testing", "--port", str(fake_port)]
    fake += ["--access-token", TOKEN]
    loop = asyncio.new_event_loop()
    clients: list[TMDB] = []

    def client(cache: object) -> TMDB:
        made = TMDB(access_token=TOKEN, base_url=base_url, cache=cache, rate_limit=None)
        clients.append(made)
        return made

    fetch = Result("loopback fetch", note="no cache; FakeTMDB in another process")
    redis = Result("Redis hit", note="one GET round trip to redis-server + decode")
    memory = Result("memory hit", note="LRU lookup + decode")
    typed = Result("typed memory hit", note=f"append_to_response={APPENDED}: LRU lookup + decode")
    timed: list[tuple[Result, Callable[[], None]]] = []
    try:
        with ExitStack() as stack:
            stack.enter_context(_process(fake, fake_port))
            fetching, in_memory, in_memory_typed = client(None), client("memory"), client("memory")
            timed += [
                (fetch, _timed(loop, lambda: fetching.movies.details(MOVIE_ID))),
                (memory, _timed(loop, lambda: in_memory.movies.details(MOVIE_ID))),
                (
                    typed,
                    _timed(
                        loop,
                        lambda: in_memory_typed.movies.details(
                            MOVIE_ID, append_to_response=APPENDED
                        ),
                    ),
                ),
            ]
            redis_url = stack.enter_context(redis_server())
            if redis_url is None:
                redis.unavailable = NO_REDIS
            else:
                shared = client((None, redis_url))  # Redis alone
                timed.insert(1, (redis, _timed(loop, lambda: shared.movies.details(MOVIE_ID))))
            for made in clients:
                appended = APPENDED if made is in_memory_typed else None
                loop.run_until_complete(made.movies.details(MOVIE_ID, append_to_response=appended))
            for _ in range(rounds):
                for result, fn in timed:
                    result.samples.append(min(time_call(fn, rounds=LOOPS)) / BATCH)
            for made in clients[1:]:
                if made.stats.requests != 1:
                    raise RuntimeError("every cached call after the first must be a hit")
            for made in clients:
                loop.run_until_complete(made.aclose())
    finally:
        for made in clients:
            loop.run_until_complete(made.aclose())
        loop.close()
    return Suite(
        key="cache",
        title=(
            f"Cache: one `movies.details({MOVIE_ID})` call, decoded, per call; {rounds} "
            f"interleaved rounds, each the best of {LOOPS} loops of {BATCH} calls"
        ),
        unit="µs",
        baseline="loopback fetch",
        subject="memory hit",
        targets={"loopback fetch": TARGET_MEMORY_SPEEDUP},
        results=[fetch, redis, memory, typed],
    )
