"""Developer and CI tasks: `nox -s tests`, `lint`, `typecheck`, `generate [-- --check]`, `bench`."""

from __future__ import annotations

import re
from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.default_venv_backend = "venv"

PYPROJECT = Path(__file__).with_name("pyproject.toml").read_text()
PYTHONS = re.findall(r'"Programming Language :: Python :: (3\.\d+)"', PYPROJECT)


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite (the same command as the README and .ci/run)."""
    session.install("-e", ".[dev,redis,cli]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package and on the typing tests of the public API."""
    session.install("-e", ".[dev,redis,cli]")
    session.run("mypy", "--strict", "tmdb_async")
    session.run("mypy", "--strict", "tests/typing")
    session.run("mypy", "--strict", "codegen", "benchmarks")


@nox.session
def generate(session: nox.Session) -> None:
    """Regenerate tmdb_async/_generated and docs/endpoints.md (`-- --check`: verify only)."""
    session.install("ruff")
    session.run("python", "-m", "codegen", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks (`-- --json` for machine output)."""
    session.install("-e", ".[dev,redis]", "orjson")
    session.run("python", "-m", "benchmarks", *session.posargs)
