"""Runs of the command line for the suites that time it (distributed, mirror): one process a
run, against a loopback server, timed by the summary the command prints."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from typing import Final

from ._peers import child_env
from ._servers import ROOT, TOKEN

__all__ = ["run_cli"]

SUMMARY: Final = re.compile(r"(\d+) done, (\d+) failed, \d+ skipped \(already done\) in ([\d.]+) s")
"""The first line of the summary: ids done, failed, and the seconds of the crawl loop."""


def run_cli(*args: str, ids: int) -> tuple[float, float]:
    """Run `python -m tmdb_async ARGS`; the seconds its summary reports (the loop, not the
    process start) and the wall seconds of the process. RuntimeError unless it did `ids` ids.

    The command line asks for credentials: it gets the benchmark's token (the static
    servers ignore it)."""
    command = [sys.executable, "-m", "tmdb_async", *args]
    env = {**child_env(), "TMDB_ACCESS_TOKEN": TOKEN}
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=1800)
    wall = time.perf_counter() - started
    summary = SUMMARY.search(done.stderr)
    if done.returncode or summary is None or int(summary[1]) != ids:
        raise RuntimeError(f"{' '.join(args[:4])}: {done.stderr[-300:]}")
    return float(summary[3]), wall
