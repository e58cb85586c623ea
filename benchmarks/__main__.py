"""Run the benchmark suites; print Markdown tables (or `--json`) and draw `--chart PATH`.

`python -m benchmarks [SUITE ...] [--json] [--save FILE] [--chart PNG] [--load FILE]`
(`nox -s bench` runs them all and draws `docs/benchmarks.png`).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import traceback
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from ._harness import Suite

SUITES = ("throughput", "decode", "tolerant", "cache", "scale", "memory")
OPT_IN = ("distributed", "limiter", "instructions", "mirror")
"""Suites run only when named: they need the dask extra (and a redis-server), valgrind, or
the mirror extra (and PostgreSQL)."""


def _runner(name: str, args: argparse.Namespace) -> Callable[[], Suite]:
    from . import cache, decode, distributed, instructions, mirror, scale, throughput

    quick = args.quick
    runners: dict[str, Callable[[], Suite]] = {
        "throughput": lambda: throughput.run(
            requests=600 if quick else throughput.REQUESTS,
            rounds=args.rounds or (2 if quick else throughput.ROUNDS),
            server=args.server,
        ),
        "decode": lambda: decode.run(rounds=args.rounds or (2 if quick else decode.ROUNDS)),
        "tolerant": lambda: decode.run_tolerant(
            rounds=args.rounds or (2 if quick else decode.TOLERANT_ROUNDS)
        ),
        "cache": lambda: cache.run(rounds=args.rounds or (2 if quick else cache.ROUNDS)),
        "scale": lambda: scale.run(
            sizes=(500, 5_000) if quick else scale.SIZES,
            rounds={500: 2, 5_000: 1} if quick else None,
            server=args.server,
        ),
        "memory": lambda: scale.memory(count=10_000 if quick else scale.HELD),
        "distributed": lambda: distributed.crawl(
            rounds=args.rounds or (1 if quick else distributed.ROUNDS), server=args.server
        ),
        "instructions": lambda: instructions.run(
            rounds=args.rounds or (1 if quick else instructions.ROUNDS), server=args.server
        ),
        "mirror": lambda: mirror.run(
            rounds=args.rounds or (1 if quick else mirror.ROUNDS), server=args.server
        ),
        "limiter": lambda: distributed.limiter(
            rounds=args.rounds or (2 if quick else 2 * distributed.ROUNDS), server=args.server
        ),
    }
    return runners[name]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, Any]:
    """Where and when the numbers were taken."""
    from tmdb_async import __version__

    versions = {"tmdb-async": __version__}
    versions |= {d: _version(d) for d in ("aiohttp", "msgspec", "yarl", "orjson", "uvloop")}
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "versions": versions,
    }


def _header(info: dict[str, Any]) -> str:
    versions = ", ".join(f"{name} {v}" for name, v in info["versions"].items())
    return (
        f"{info['date']}: {info['cpus']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"{info['system']}\n{versions}\n(peer versions and their Python are in each row's note)"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the suites asked for (default: all) and report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "suites",
        nargs="*",
        metavar="SUITE",
        help=f"of {', '.join(SUITES)} (default: all), or {', '.join(OPT_IN)}",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--save", type=Path, help="also write the JSON to this file")
    parser.add_argument("--chart", type=Path, help="draw a PNG bar chart of the ratios")
    parser.add_argument("--load", type=Path, help="report a saved --json run, run nothing")
    parser.add_argument("--rounds", type=int, help="override every suite's round count")
    parser.add_argument("--server", choices=["auto", "nginx", "aiohttp"], default="auto")
    parser.add_argument("--quick", action="store_true", help="a smoke test, not for the README")
    args = parser.parse_args(argv)
    failed: list[str] = []
    unknown = [name for name in args.suites if name not in SUITES + OPT_IN]
    if unknown:
        choices = ", ".join(SUITES + OPT_IN)
        parser.error(f"unknown suite(s) {', '.join(unknown)}; choose from {choices}")
    if args.load:
        saved = json.loads(args.load.read_text())
        info, suites = saved["machine"], [Suite.from_json(s) for s in saved["suites"]]
    else:
        info = machine()
        suites = []
        for name in args.suites or SUITES:
            print(f"benchmarks: running {name}...", file=sys.stderr, flush=True)
            try:
                suites.append(_runner(name, args)())
            except Exception:  # report the other suites, then fail
                traceback.print_exc()
                failed.append(name)
    document = {"machine": info, "suites": [s.as_json() for s in suites]}
    if args.save:
        args.save.write_text(json.dumps(document, indent=2) + "\n")
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        print(_header(info) + "\n\n" + "\n\n".join(s.table() for s in suites))
    if args.chart:
        from ._chart import draw

        draw(suites, info, args.chart)
        print(f"benchmarks: chart written to {args.chart}", file=sys.stderr)
    if failed:
        print(f"benchmarks: FAILED: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
