"""Client instructions per request, counted by valgrind (opt-in: `python -m benchmarks
instructions`, needs valgrind).

CPU time on a shared 2-vCPU machine drifts by tens of percent between rounds; the number of
instructions a process executes does not. Each contender runs `_child fetch` under
`valgrind --tool=callgrind` twice, with FEW and MANY requests against the static loopback server
of the throughput suite; the difference divided by MANY - FEW is the cost of one request, with
start-up, imports and connection set-up cancelled out. User-space instructions only: the kernel's
share (the socket calls, about the same for every aiohttp contender) is not counted.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

from ._harness import Result, Suite
from ._peers import child_env
from ._servers import ROOT, static_server
from .throughput import BASELINE, CONCURRENCY, CPU_OVER_FLOOR, FLOOR, SUBJECT

__all__ = ["run"]

CONTENDERS = {FLOOR: "aiohttp_raw", BASELINE: "aiohttp_json", SUBJECT: "tmdbasync"}
FEW = 300
MANY = 1_300
ROUNDS = 2
_TOTAL = re.compile(rb"Collected : (\d+)")


def _instructions(valgrind: str, module: str, base_url: str, requests: int) -> int:
    """Instructions the whole child process executes for `requests` fetches."""
    done = subprocess.run(
        [valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         "-m", "benchmarks._child", "fetch", module, base_url, str(requests), str(CONCURRENCY)],
        capture_output=True,
        check=True,
        cwd=ROOT,
        env=child_env(),
        timeout=1800,
    )  # fmt: skip
    found = _TOTAL.search(done.stderr)
    if found is None:
        raise RuntimeError(f"valgrind reported no instruction count for {module}")
    return int(found.group(1))


def run(rounds: int = ROUNDS, server: str = "auto") -> Suite:
    """Instructions per request of the floor, the hand-written loop and tmdb-async."""
    suite = Suite(
        key="instructions",
        title=(
            f"Client instructions per request (valgrind, user space): movie details at"
            f" concurrency {CONCURRENCY}, runs of {MANY:,} minus runs of {FEW:,}; {rounds} rounds"
        ),
        unit="k instructions/req",
        baseline=FLOOR,
        scale=1e-3,
        ratio_on="best",
        subject=SUBJECT,
        targets={FLOOR: 1 / CPU_OVER_FLOOR},
    )
    results = {name: Result(name) for name in CONTENDERS}
    suite.results = list(results.values())
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        for result in suite.results:
            result.unavailable = "no valgrind binary (apt-get install valgrind)"
        return suite
    with static_server(server) as (base_url, description):
        suite.title += f"; {description}"
        for _ in range(rounds):
            for name, module in CONTENDERS.items():
                few = _instructions(valgrind, module, base_url, FEW)
                many = _instructions(valgrind, module, base_url, MANY)
                results[name].samples.append((many - few) / (MANY - FEW))
    over = suite.cost(SUBJECT) / suite.cost(FLOOR)
    verdict = "met" if over <= CPU_OVER_FLOOR else "MISSED"
    suite.notes.append(
        f"{SUBJECT} executes {over:.2f}x the instructions of {FLOOR} per request"
        f" (target <= {CPU_OVER_FLOOR:.2f}x: {verdict})."
    )
    return suite
