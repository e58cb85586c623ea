"""Shared fixtures."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tmdb_async import TMDB
from tmdb_async._clock import FakeClock
from tmdb_async.testing import FakeTMDB


@pytest.fixture
async def fake_tmdb() -> AsyncIterator[FakeTMDB]:
    """A FakeTMDB on 127.0.0.1, a free port; `fake_tmdb.url` is its base URL."""
    async with FakeTMDB() as fake:
        yield fake


@pytest.fixture
async def tmdb(fake_tmdb: FakeTMDB) -> AsyncIterator[TMDB]:
    """A client of `fake_tmdb` with no rate limit (the fake has none)."""
    async with TMDB(
        access_token=fake_tmdb.access_token, base_url=fake_tmdb.url, rate_limit=None
    ) as client:
        yield client


@pytest.fixture
def fake_retry_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients made in the test wait on a FakeClock (its wall clock on time): a backoff or a
    `Retry-After: 30` costs no real time."""
    monkeypatch.setattr(
        "tmdb_async._transport.LoopClock", lambda: FakeClock(wall_start=time.time())
    )


def require_binary(name: str, *candidates: str) -> str:
    """The path of a program the test needs: skipped when absent, a failure under CI=true."""
    found = shutil.which(name) or next((p for p in candidates if os.path.exists(p)), None)
    if found is None:
        reason = f"{name} is not installed (apt-get install {name})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: required when CI=true")
        pytest.skip(reason)
    return found


# -- a real redis-server for the Redis cache tests ------------------------------------------

REDIS_START_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """A `redis-server` child process on 127.0.0.1 (no persistence, data in a temp dir)."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or restart, on the same port) and wait until it answers PING."""
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.directory),
                "--protected-mode", "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + REDIS_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def kill(self) -> None:
        """SIGKILL, as a crash would: connections drop, data is gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def pause(self) -> None:
        """SIGSTOP: a hung server (connections stay open, nothing is answered)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT: the paused server answers again."""
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            self.resume()
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server on a free port; skipped without the binary, a failure under CI=true."""
    server = RedisServer(require_binary("redis-server"), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# -- a real HTTP proxy (tinyproxy) for the proxy tests ------------------------------------

TINYPROXY_CONF = """\
Port {port}
Listen 127.0.0.1
Timeout 30
MaxClients 100
LogLevel Connect
LogFile "{log}"
PidFile "{pid}"
Allow 127.0.0.1
"""


class Tinyproxy:
    """A `tinyproxy` child process on 127.0.0.1 with its own config and log."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = directory / "tinyproxy.log"
        config = directory / "tinyproxy.conf"
        pid = directory / "tinyproxy.pid"
        config.write_text(TINYPROXY_CONF.format(port=self.port, log=self.log, pid=pid))
        self.process = subprocess.Popen(
            [binary, "-d", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_ready(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tinyproxy exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError(f"tinyproxy did not listen on port {self.port}")

    def requests(self) -> list[str]:
        """The request lines tinyproxy logged (`GET http://...`, `CONNECT host:port`)."""
        if not self.log.exists():
            return []
        marker = "Request (file descriptor"
        lines = self.log.read_text(errors="replace").splitlines()
        return [line.split("): ", 1)[1] for line in lines if marker in line]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def tinyproxy(tmp_path: Path) -> Iterator[Tinyproxy]:
    """A real HTTP proxy on a free port; skipped without the binary, a failure under CI=true."""
    proxy = Tinyproxy(require_binary("tinyproxy", "/usr/bin/tinyproxy"), tmp_path)
    try:
        proxy.wait_ready()
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture(autouse=True)
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy variable of the machine's reaches a test (the client honours them)."""
    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
