"""A throwaway PostgreSQL server for tests and benchmarks: initdb + pg_ctl on a free port.

```python
server = PostgresServer()   # PostgresUnavailable when the binaries are missing
server.start()
url = server.database()     # postgresql://postgres@127.0.0.1:PORT/mirror1, a new database
...
server.stop()               # and its files are gone
```

PostgreSQL refuses to run as root: as root the server runs as the `postgres` user that
Debian's `postgresql` package creates, in a directory of its own under /tmp (a directory
of root's may not be reachable by that user). fsync is off: a test's data need not
survive a power cut.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

__all__ = ["PostgresServer", "PostgresUnavailable", "find_bindir"]

START_TIMEOUT = 60


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot run here (no binaries, or root without a postgres user)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def find_bindir() -> Path:
    """The directory of initdb and pg_ctl (Debian keeps them off PATH)."""
    found = shutil.which("pg_ctl")
    if found is not None:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    if not candidates:
        raise PostgresUnavailable("PostgreSQL is not installed (apt-get install postgresql)")
    return Path(candidates[0]).parent


class PostgresServer:
    """A server of its own; `database()` gives the URL of a new, empty database."""

    def __init__(self, bindir: Path | None = None) -> None:
        self.bindir = bindir or find_bindir()
        self.port = _free_port()
        self.user: str | None = None
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            import pwd  # Unix only, like running as root

            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise PostgresUnavailable(
                    "PostgreSQL refuses to run as root and there is no postgres user"
                ) from None
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
        """initdb, then start the server and wait until it accepts connections."""
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
        """Stop the server at once and remove its files."""
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
