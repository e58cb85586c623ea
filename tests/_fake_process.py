"""A FakeTMDB in a process of its own (`tmdb-async fake-server`), for tests whose clients run
in other processes: crawls killed and restarted, Dask workers, processes sharing a budget."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXPORT_SIZE = 1000
TOKEN = "fake-token"


def child_env(**extra: str) -> dict[str, str]:
    """A child's environment: none of the developer's TMDB_* variables, this checkout first."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TMDB_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


class Server:
    """`python -m tmdb_async fake-server --port 0` and its control endpoint."""

    def __init__(self, *options: str) -> None:
        """Start it with these `fake-server` options and read its URL."""
        command = [sys.executable, "-m", "tmdb_async", "fake-server", "--port", "0"]
        command += ["--export-size", str(EXPORT_SIZE), *options]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=child_env()
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        assert first.startswith("FakeTMDB serving on "), first
        self.url = first.split()[-1]

    def control(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def stats(self) -> dict[str, Any]:
        """The counters and arrival times, without the recorded requests."""
        stats: dict[str, Any] = self.control("GET", "/__fake__/stats?recent=0")
        return stats

    def count(self, operation_id: str) -> int:
        return int(self.stats()["by_operation"].get(operation_id, 0))

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()
