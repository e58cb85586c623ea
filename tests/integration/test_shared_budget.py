"""One rate budget for several OS processes, through a real redis-server, as FakeTMDB (its own
process) sees it: requests per second counted on arrival, in any one-second window."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from tests._fake_process import Server, child_env
from tests.conftest import RedisServer

pytestmark = pytest.mark.redis

RATE = 40.0
PROCESSES = 4
SECONDS = 4.0
WINDOW_MAX = 44
"""TMDB's ~40/s and 4 of slack: a one-second window holds up to 41 slots (burst 1), and a busy
machine sends some requests late, next to the following slot's."""


@pytest.fixture(scope="module")
def fake() -> Iterator[Server]:
    with Server("--history", "10000") as server:
        yield server


@dataclass
class Run:
    peak: int
    """The most requests FakeTMDB received in any one-second window."""
    average: float
    """Requests per second from the first arrival to the last."""
    results: list[dict[str, int]]
    logs: list[str]


def run_clients(
    fake: Server,
    redis: RedisServer,
    scopes: list[str],
    seconds: float = SECONDS,
    meanwhile: Callable[[float], None] | None = None,
) -> Run:
    """Start one process per scope; once all are ready, let them go at once; wait for them."""
    module = "tests.integration.budget_client"
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", module, fake.url, redis.url, scope, str(seconds), str(RATE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        for scope in scopes
    ]
    for process in processes:
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n", process.communicate(timeout=60)
    fake.control("DELETE", "/__fake__/stats")
    start = time.monotonic()
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    if meanwhile is not None:
        meanwhile(start)
    outputs = [process.communicate(timeout=60) for process in processes]
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
    stats = fake.stats()
    times = sorted(stats["timestamps"])
    assert len(times) == stats["total"], "the fake forgot arrivals: raise --history"
    return Run(
        peak=stats["peak_per_second"],
        average=len(times) / (times[-1] - times[0]),
        results=[json.loads(out.splitlines()[-1]) for out, _ in outputs],
        logs=[err for _, err in outputs],
    )


def test_four_processes_share_one_budget(fake: Server, redis_server: RedisServer) -> None:
    run = run_clients(fake, redis_server, ["host"] * PROCESSES)
    assert all(result["failed"] == 0 for result in run.results), run.logs
    assert all(result["ok"] > 0 for result in run.results), run.results
    assert run.peak <= WINDOW_MAX
    assert run.average >= 0.85 * RATE


def test_a_budget_per_process_lets_them_exceed_it(fake: Server, redis_server: RedisServer) -> None:
    """The same run with one key per process: the check above would fail."""
    run = run_clients(fake, redis_server, [f"process-{n}" for n in range(PROCESSES)])
    assert run.peak > WINDOW_MAX
    assert run.average > 2 * RATE


def test_redis_killed_and_restarted_mid_run(fake: Server, redis_server: RedisServer) -> None:
    """No request fails; each process logs the outage once and its return once; the rate
    stays within the budget throughout (a local share while Redis is gone, the share as a cap
    while the others rejoin)."""

    def outage(start: float) -> None:
        time.sleep(max(0.0, start + 1.5 - time.monotonic()))
        redis_server.kill()
        time.sleep(1.5)
        redis_server.start()

    run = run_clients(fake, redis_server, ["host"] * PROCESSES, seconds=6.0, meanwhile=outage)
    assert all(result["failed"] == 0 for result in run.results), run.logs
    for log in run.logs:
        assert log.count("this process goes on at") == 1, log
        assert log.count("is reachable again") == 1, log
    assert run.peak <= WINDOW_MAX
    assert run.average >= 0.75 * RATE
