"""Bulk fetch: N `GET /3/movie/{id}` at concurrency C against a fast static server on loopback
(nginx when installed, else a static aiohttp.web server in another process), no cache, no
rate limit.

Every contender runs in a fresh process of its own (peers in their own venvs, see `_peers`),
one process per round; the rounds are interleaved and the order rotates each round, so a
noisy neighbour hurts everybody alike. Each process warms up (connections, imports, and at
least a second of load: `_child.WARM_SECONDS`) before the timed part and reports wall time,
its own CPU time and its peak RSS. Ratios use the
median round.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import statistics
import sys
from types import ModuleType
from typing import Any

from ._harness import Column, Result, Suite
from ._peers import ChildFailed, PeerUnavailable, interpreter, spawn
from ._servers import static_server
from .contenders import THROUGHPUT

__all__ = ["run"]

REQUESTS = 3_000
CONCURRENCY = 20
WARMUP = 200
ROUNDS = 7
BASELINE = "aiohttp + json.loads"
SUBJECT = "tmdb-async"
TARGETS = {"aiohttp + json.loads": 1.0, "themoviedb": 3.0, "tmdbfusion": 5.0, "tmdbsimple": 10.0}
"""tmdb-async's throughput at least this many times each contender's (issues 8 and 13)."""
FLOOR = "aiohttp GET + read"
CPU_OVER_FLOOR = 1.15
"""Issue 13: tmdb-async's client CPU per request at most 15% over a bare aiohttp GET + read."""


def _modules() -> list[ModuleType]:
    return [importlib.import_module(f"{__package__}.contenders.{name}") for name in THROUGHPUT]


def _prepare(module: ModuleType) -> str:
    """The interpreter for `module`; PeerUnavailable when it cannot run here."""
    if getattr(module, "LOOP", None) == "uvloop" and importlib.util.find_spec("uvloop") is None:
        raise PeerUnavailable("uvloop is not installed (it is in the `bench` extra)")
    return interpreter(module)


def run(
    requests: int = REQUESTS,
    rounds: int = ROUNDS,
    concurrency: int = CONCURRENCY,
    server: str = "auto",
) -> Suite:
    """Run every contender `rounds` times, interleaved; ratios on the median round."""
    modules = {m.NAME: m for m in _modules()}
    pythons: dict[str, str] = {}
    results = {name: Result(name, note=m.NOTE) for name, m in modules.items()}
    for module in modules.values():
        try:
            pythons[module.NAME] = _prepare(module)
        except PeerUnavailable as err:
            results[module.NAME].unavailable = str(err)
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in pythons}
    with static_server(server) as (base_url, description):
        for index in range(rounds):
            names = list(samples)
            names = names[index % len(names) :] + names[: index % len(names)]
            for name in names:
                if results[name].unavailable is not None:
                    continue
                module = modules[name]
                args = [module.__name__.rsplit(".", 1)[-1], base_url, str(requests)]
                args += [str(concurrency), str(WARMUP)]
                try:
                    sample = spawn(pythons[name], "throughput", *args)
                except ChildFailed as err:
                    if not module.REQUIREMENTS:
                        raise  # our own contenders must work
                    results[name].unavailable = f"failed against the loopback server: {err}"
                    continue
                samples[name].append(sample)
                results[name].samples.append(sample["wall"] / sample["requests"])
    for name, taken in samples.items():
        if not taken or results[name].unavailable is not None:
            continue
        first, module = taken[0], modules[name]
        results[name].metrics = {
            "req_s": statistics.median(s["requests"] / s["wall"] for s in taken),
            "cpu_us": statistics.median(s["cpu"] / s["requests"] * 1e6 for s in taken),
            "peak_rss_mib": statistics.median(s["peak_rss_mib"] for s in taken),
        }
        version = f"{module.DIST} {first['version']}, Python {first['python']}"
        results[name].note = f"{version}; {module.NOTE}"
    notes = [
        "How peers reach the loopback server: "
        + "; ".join(f"{m.NAME}: {m.POINTED}" for m in modules.values() if m.REQUIREMENTS)
        + "."
    ]
    floor, subject = results[FLOOR].metrics, results[SUBJECT].metrics
    if "cpu_us" in floor and "cpu_us" in subject:
        ratio = subject["cpu_us"] / floor["cpu_us"]
        verdict = "met" if ratio <= CPU_OVER_FLOOR else "MISSED"
        notes.append(
            f"Client CPU per request (median round): {SUBJECT} {subject['cpu_us']:.0f} µs, "
            f"{FLOOR} {floor['cpu_us']:.0f} µs: {ratio:.2f}x (target <= {CPU_OVER_FLOOR:.2f}x: "
            f"{verdict})."
        )
    return Suite(
        key="throughput",
        title=(
            f"Bulk fetch: {requests:,} movie details at concurrency {concurrency}, no cache, "
            f"no rate limit ({description}); {rounds} interleaved rounds, one process each"
        ),
        unit="µs/req",
        baseline=BASELINE,
        subject=SUBJECT,
        targets=TARGETS,
        columns=[
            Column("req_s", "req/s (median)"),
            Column("cpu_us", "client CPU µs/req"),
            Column("peak_rss_mib", "peak RSS MiB", "{:,.1f}"),
        ],
        results=list(results.values()),
        notes=notes,
    )


def main(argv: list[str] | None = None) -> int:
    """`python -m benchmarks.throughput [--requests N] [--rounds R] [--server KIND]`."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.throughput")
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--server", choices=["auto", "nginx", "aiohttp"], default="auto")
    args = parser.parse_args(argv)
    print(run(args.requests, args.rounds, server=args.server).table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
