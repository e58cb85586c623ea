"""Bulk fetch: 3,000 `GET /3/movie/{id}` at concurrency 20 against a fast static server on
loopback (nginx when installed, else FakeTMDB in another process), no cache, no rate limit.

Each contender runs in its own subprocess (fresh interpreter, own connection pool) and reports
its wall time and its own CPU time (`resource.getrusage(RUSAGE_SELF)` around the timed run).
The baseline is what people write by hand: aiohttp + `json.loads`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp

from ._harness import Result, Suite

__all__ = ["run"]

REQUESTS = 3_000
CONCURRENCY = 20
WARMUP = 200
ROUNDS = 5
TOKEN = "benchmark-token"
ROOT = Path(__file__).resolve().parents[1]

NGINX_CONF = """
worker_processes 1;
daemon off;
master_process off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {tmp};
        location /3/movie/ {{
            default_type application/json;
            try_files /movie.json =404;
        }}
    }}
}}
"""


def movie_body() -> bytes:
    """TMDB's own example of `GET /3/movie/{movie_id}` (Fight Club)."""
    from codegen.spec import find_spec, load_spec

    _, ops = load_spec(find_spec())
    example = next(op.response_example for op in ops if op.operation_id == "movie-details")
    return json.dumps(example).encode()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes], deadline: float = 10.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
            with urllib.request.urlopen(request, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the server at {url} did not start")


@contextlib.contextmanager
def static_server() -> Iterator[tuple[str, str]]:
    """Yield (base URL, description) of a fast loopback server answering `/3/movie/*`."""
    port = _free_port()
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None
    )
    with tempfile.TemporaryDirectory(prefix="tmdb-bench-") as tmp:
        if nginx is not None:
            os.chmod(tmp, 0o755)  # the nginx worker may run as another user
            Path(tmp, "movie.json").write_bytes(movie_body())
            conf = Path(tmp, "nginx.conf")
            conf.write_text(NGINX_CONF.format(tmp=tmp, port=port))
            command = [nginx, "-p", tmp, "-c", str(conf)]
            description = "nginx (1 worker), static movie JSON"
        else:
            command = [
                sys.executable,
                "-m",
                "tmdb_async.testing",
                "--port",
                str(port),
                "--access-token",
                TOKEN,
            ]
            description = "FakeTMDB in another process"
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_ready(f"{base_url}/3/movie/550", proc)
            yield base_url, description
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# -- contenders: each returns an async `fetch(movie_id)` and a closer ----------------------

Fetch = Callable[[int], Awaitable[Any]]


async def _aiohttp_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=CONCURRENCY),
        headers={"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"},
    )


async def raw_aiohttp(base_url: str) -> tuple[Fetch, Callable[[], Awaitable[None]]]:
    session = await _aiohttp_session()

    async def fetch(movie_id: int) -> bytes:
        async with session.get(f"{base_url}/3/movie/{movie_id}") as response:
            return await response.read()

    return fetch, session.close


async def aiohttp_json(base_url: str) -> tuple[Fetch, Callable[[], Awaitable[None]]]:
    session = await _aiohttp_session()

    async def fetch(movie_id: int) -> dict[str, Any]:
        async with session.get(f"{base_url}/3/movie/{movie_id}") as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
            data: dict[str, Any] = json.loads(body)
            return data

    return fetch, session.close


async def tmdb_async(base_url: str) -> tuple[Fetch, Callable[[], Awaitable[None]]]:
    from tmdb_async import TMDB

    tmdb = TMDB(
        access_token=TOKEN,
        base_url=base_url,
        cache=None,
        rate_limit=None,
        max_connections=CONCURRENCY,
    )
    return tmdb.movies.details, tmdb.aclose


CONTENDERS: dict[str, tuple[Callable[[str], Awaitable[Any]], str]] = {
    "aiohttp GET + read": (raw_aiohttp, "floor: bytes only, no parsing"),
    "aiohttp + json.loads": (aiohttp_json, "hand-written client: untyped dicts"),
    "tmdb-async": (tmdb_async, "typed MovieDetails, retries/limiter code path on"),
}
BASELINE = "aiohttp + json.loads"


async def _drive(fetch: Fetch, ids: range) -> None:
    queue = iter(ids)

    async def worker() -> None:
        for movie_id in queue:
            await fetch(movie_id)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


async def _measure(name: str, base_url: str, requests: int) -> dict[str, float]:
    factory, _ = CONTENDERS[name]
    fetch, close = await factory(base_url)
    try:
        await _drive(fetch, range(1, WARMUP + 1))
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        await _drive(fetch, range(WARMUP + 1, WARMUP + requests + 1))
        wall = time.perf_counter() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        await close()
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {"wall": wall, "cpu": cpu, "requests": requests}


def _child(name: str, base_url: str, requests: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.throughput", "--child", name, base_url, str(requests)],
        check=False,
        capture_output=True,
        env=env,
        cwd=ROOT,
    )
    if out.returncode:
        raise RuntimeError(f"contender {name!r} failed:\n{out.stderr.decode(errors='replace')}")
    result: dict[str, float] = json.loads(out.stdout)
    return result


def run(requests: int = REQUESTS, rounds: int = ROUNDS) -> Suite:
    """Run every contender `rounds` times, interleaved; keep each one's best round."""
    with static_server() as (base_url, server):
        best: dict[str, dict[str, float]] = {}
        for _ in range(rounds):
            for name in CONTENDERS:
                sample = _child(name, base_url, requests)
                if name not in best or sample["wall"] < best[name]["wall"]:
                    best[name] = sample
    suite = Suite(
        f"Bulk fetch: {requests:,} movie details, concurrency {CONCURRENCY}, "
        f"no cache, no rate limit ({server}, best of {rounds})",
        "µs",
        BASELINE,
    )
    for name, sample in best.items():
        per_request = sample["wall"] / sample["requests"]
        cpu_us = sample["cpu"] / sample["requests"] * 1e6
        note = f"{1 / per_request:,.0f} req/s; client CPU {cpu_us:,.0f} µs/req; "
        suite.results.append(Result(name, per_request, note + CONTENDERS[name][1]))
    return suite


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.throughput")
    parser.add_argument("--child", nargs=3, metavar=("CONTENDER", "URL", "REQUESTS"))
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args(argv)
    if args.child:
        name, base_url, requests = args.child
        print(json.dumps(asyncio.run(_measure(name, base_url, int(requests)))))
    else:
        print(run(args.requests, args.rounds).table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
