"""A real PostgreSQL server for the mirror's tests: initdb + pg_ctl on a free port.

PostgreSQL refuses to run as root: as root the server runs as the `postgres` user the
Debian package creates, in a directory of its own under /tmp (pytest's tmp_path is not
reachable by another user). Without the binaries the tests skip, and fail under CI=true.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

START_TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: required when CI=true")
    pytest.skip(reason)


def find_bindir() -> Path:
    """The directory of initdb and pg_ctl (Debian keeps them off PATH)."""
    found = shutil.which("pg_ctl")
    if found is not None:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    if not candidates:
        _unavailable("PostgreSQL is not installed (apt-get install postgresql)")
    return Path(candidates[0]).parent


class PostgresServer:
    """One server for the test session; `database(name)` gives a fresh database's URL."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = _free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                _unavailable("PostgreSQL refuses to run as root and there is no postgres user")
            self.user = "postgres"
        self.directory = Path(tempfile.mkdtemp(prefix="tmdb-async-pg-"))
        if self.user is not None:
            shutil.chown(self.directory, self.user)
        self.data = self.directory / "data"
        self._databases = 0

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [str(self.bindir / program), *args],
            check=True,
            capture_output=True,
            timeout=START_TIMEOUT,
            user=self.user,
            cwd=self.directory,
        )

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c full_page_writes=off"
        )
        log = str(self.directory / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def database(self) -> str:
        """A new, empty database; its URL."""
        self._databases += 1
        name = f"mirror{self._databases}"
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
