"""Developer and CI tasks: `nox -s tests`, `lint`, `typecheck`, `generate [-- --check]`, `bench`,
and the release checks `docs`, `package`, `workflows`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
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


def _system_packages(session: nox.Session, wanted: dict[str, str]) -> None:
    """apt-get install the Debian package of each missing binary, when root; else carry on."""
    missing = [
        package
        for binary, package in wanted.items()
        if not (shutil.which(binary) or Path("/usr/sbin", binary).exists())
    ]
    if not missing:
        return
    if not (hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get")):
        session.log(f"not root or no apt-get: {', '.join(missing)} not installed (fallbacks used)")
        return
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *missing]):
        if subprocess.run(command, check=False).returncode:
            session.log(f"{' '.join(command)} failed: fallbacks used")
            return


@nox.session
def bench(session: nox.Session) -> None:
    """Run every benchmark and draw docs/benchmarks.png (`-- SUITE ... --json` to choose).

    Installs nginx-light (the static server; else FakeTMDB is used) and redis-server (the
    Redis row) when missing and running as root; the peers install into their own venvs.
    """
    _system_packages(session, {"nginx": "nginx-light", "redis-server": "redis-server"})
    session.install("-e", ".[bench,redis]")
    args = session.posargs or ["--chart", "docs/benchmarks.png", "--save", "docs/benchmarks.json"]
    session.run("python", "-m", "benchmarks", *args)


# -- Release checks (issue 22): the same commands as .ci/run and .github/workflows/ci.yml. -----

WORKFLOW_TOOLS = ("check-jsonschema>=0.29", "zizmor>=1.5")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site with `mkdocs build --strict` (`-- serve` to preview)."""
    session.install("-e", ".[docs]")
    session.env["NO_MKDOCS_2_WARNING"] = "1"  # Material's notice about MkDocs 2
    session.env["DISABLE_MKDOCS_2_WARNING"] = "true"  # a plugin's notice about the same
    if session.posargs[:1] == ["serve"]:
        session.run("mkdocs", "serve")
        return
    session.run(
        "mkdocs", "build", "--strict", "--site-dir", str(Path(session.create_tmp(), "site"))
    )


@nox.session
def package(session: nox.Session) -> None:
    """Build the sdist and wheel into dist/, `twine check` them, run the built-wheel test."""
    session.install("-e", ".[dev,redis,cli]")
    shutil.rmtree("dist", ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", "dist")
    session.run("twine", "check", "--strict", *(str(p) for p in Path("dist").iterdir()))
    session.run("pytest", "-m", "packaging", "tests/packaging")


@nox.session
def workflows(session: nox.Session) -> None:
    """Validate .github/workflows against GitHub's schema (offline) and audit them with zizmor."""
    session.install(*WORKFLOW_TOOLS)
    files = sorted(str(p) for p in Path(".github/workflows").glob("*.yml"))
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *files)
    session.run("zizmor", "--offline", "--min-severity", "high", ".github/workflows")
