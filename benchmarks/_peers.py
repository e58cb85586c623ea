"""Virtual environments for the peer libraries, created by the benchmark itself.

Peers are never project dependencies: each gets its own venv under
`~/.cache/tmdb-async-bench/venv-<name>` (`$TMDB_BENCH_CACHE` overrides the folder), built with
the oldest Python it supports that is at hand (tmdbfusion needs 3.13: found on PATH or under
pyenv). A venv is reused while its requirements and interpreter are unchanged.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from ._servers import ROOT

__all__ = [
    "ChildFailed",
    "PeerUnavailable",
    "cache_dir",
    "child_env",
    "find_python",
    "interpreter",
    "peer_python",
    "spawn",
]


class PeerUnavailable(Exception):
    """The peer cannot be measured here; the message says why (shown as "n/a")."""


def cache_dir() -> Path:
    """Where the peer venvs live."""
    default = Path.home() / ".cache" / "tmdb-async-bench"
    return Path(os.environ.get("TMDB_BENCH_CACHE", default))


def _version(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return int(out[0]), int(out[1])


def find_python(minimum: tuple[int, int] | None) -> str:
    """An interpreter of at least `minimum` (this one when it is recent enough)."""
    if minimum is None or sys.version_info >= minimum:
        return sys.executable
    name = f"python{minimum[0]}.{minimum[1]}"
    candidates = [shutil.which(name)]
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/{minimum[0]}.{minimum[1]}*/bin/{name}"))
    for candidate in filter(None, candidates):
        version = _version(candidate)
        if version is not None and version >= minimum:
            return candidate
    raise PeerUnavailable(f"needs Python {minimum[0]}.{minimum[1]}+, none found (PATH, pyenv)")


def peer_python(name: str, requirements: tuple[str, ...], minimum: tuple[int, int] | None) -> str:
    """The interpreter of peer `name`'s venv, installing `requirements` into it if needed."""
    base = find_python(minimum)
    venv = cache_dir() / f"venv-{name}"
    python = venv / "bin" / "python"
    stamp = venv / "tmdb-async-bench.txt"
    wanted = "\n".join([os.path.realpath(base), *requirements]) + "\n"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return str(python)
    steps = [
        [base, "-m", "venv", "--clear", str(venv)],
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements],
    ]
    print(f"benchmarks: installing {' '.join(requirements)} into {venv}", file=sys.stderr)
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False, timeout=900)
        if done.returncode:
            lines = (done.stderr or done.stdout).strip().splitlines()
            errors = [line for line in lines if "ERROR" in line] or lines[-1:]
            reason = errors[-1] if errors else f"exit status {done.returncode}"
            raise PeerUnavailable(f"`{' '.join(requirements)}` failed to install: {reason}")
    stamp.write_text(wanted)
    return str(python)


class ChildFailed(Exception):
    """A contender's process failed; the message ends with its last error line."""


def interpreter(module: ModuleType) -> str:
    """The Python that runs contender `module`: this one, or its peer venv's."""
    if not module.REQUIREMENTS:
        return sys.executable
    name = module.__name__.rsplit(".", 1)[-1].removesuffix("_peer")
    python: str = peer_python(name, module.REQUIREMENTS, module.PYTHON)
    return python


def child_env() -> dict[str, str]:
    """The environment of a child process: this one's, with the repository first on its path."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def spawn(python: str, *args: str, timeout: float = 1800) -> dict[str, Any]:
    """Run `benchmarks._child` with `args` under `python`; return the JSON it prints."""
    done = subprocess.run(
        [python, "-m", "benchmarks._child", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env=child_env(),
        timeout=timeout,
    )
    if done.returncode:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        raise ChildFailed(lines[-1][:300])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
