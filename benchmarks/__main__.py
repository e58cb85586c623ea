"""Run benchmark suites and print a table with ratios against each suite's baseline."""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections.abc import Callable

from . import cache, decode, throughput
from ._harness import Suite

SUITES: dict[str, Callable[[], Suite]] = {
    "decode": decode.run,
    "throughput": throughput.run,
    "cache": cache.run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("suites", nargs="*", choices=[*SUITES, []], help="default: all")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    results = [SUITES[name]() for name in (args.suites or SUITES)]
    if args.json:
        machine = {"python": platform.python_version(), "machine": platform.machine()}
        print(json.dumps({"machine": machine, "suites": [s.as_json() for s in results]}, indent=2))
    else:
        print(f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}\n")
        print("\n\n".join(s.table() for s in results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
