"""The loopback server the throughput and scale suites talk to: one static movie.

nginx (Debian's `nginx-light`) is the "fast static server": one worker, keep-alive, no
logging, the same TMDB example body for every `/3/movie/{id}`. Without nginx, a small
aiohttp.web app (`_static`) serves the same precomputed body from another process, so the
server's work is never billed to the client being measured (it is slower than nginx, and
every contender shares that ceiling).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

__all__ = ["ROOT", "TOKEN", "free_port", "movie_body", "nginx_binary", "static_server"]

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "benchmark-token"
"""Sent by every contender (the static servers ignore it; FakeTMDB in `cache` checks it)."""

NGINX_CONF = """
worker_processes 1;
daemon off;
master_process off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {tmp};
        location /3/movie/ {{
            default_type application/json;
            try_files /movie.json =404;
        }}
    }}
}}
"""


def movie_body() -> bytes:
    """TMDB's own example of `GET /3/movie/{movie_id}` (Fight Club, about 2 KB)."""
    from codegen.examples import read_example

    return json.dumps(read_example("movie-details")).encode()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def nginx_binary() -> str | None:
    """The nginx executable, if installed (Debian puts it in /usr/sbin, often not on PATH)."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None
    )


def _wait_ready(url: str, proc: subprocess.Popen[bytes], deadline: float = 15.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
            with urllib.request.urlopen(request, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the server at {url} did not start")


@contextlib.contextmanager
def static_server(kind: str = "auto") -> Iterator[tuple[str, str]]:
    """Yield (base URL, description) of a loopback server answering `/3/movie/*`.

    `kind`: "nginx", "aiohttp" (the `_static` fallback) or "auto" (nginx when installed).
    """
    port = free_port()
    nginx = nginx_binary() if kind in ("auto", "nginx") else None
    if kind == "nginx" and nginx is None:
        raise RuntimeError("nginx is not installed (apt-get install nginx-light)")
    with tempfile.TemporaryDirectory(prefix="tmdb-bench-") as tmp:
        body = Path(tmp, "movie.json")
        body.write_bytes(movie_body())
        if nginx is not None:
            os.chmod(tmp, 0o755)  # the nginx worker may run as another user
            conf = Path(tmp, "nginx.conf")
            conf.write_text(NGINX_CONF.format(tmp=tmp, port=port))
            command = [nginx, "-p", tmp, "-c", str(conf)]
            description = "nginx, 1 worker, TMDB's example movie as a static file"
        else:
            command = [sys.executable, "-m", "benchmarks._static", str(port), str(body)]
            description = "aiohttp.web static server in another process (no nginx here)"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_ready(f"{base_url}/3/movie/550", proc)
            yield base_url, description
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
