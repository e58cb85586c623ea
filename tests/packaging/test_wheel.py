"""What `pip install tmdb-async` gets: the wheel and the sdist `python -m build` makes, the wheel
installed (not editable) in a fresh venv, the README's demo run from it.

Built once for the module, offline (`--no-isolation`: hatchling comes from the `dev` extra).
The fresh venv has no pip and no site-packages but its own; a `.pth` line adds this
environment's site-packages after it, for the dependencies only (a `.pth` line is a plain
path, so the editable install's own `.pth` there is not processed): every import of
`tmdb_async` in it must come from the installed wheel, and the test checks that it does.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tmdb_async import __version__

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.packaging


@dataclass(frozen=True)
class Built:
    wheel: Path
    sdist: Path


@dataclass(frozen=True)
class Venv:
    python: Path
    bin: Path
    purelib: Path

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run(
            args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
        )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    out = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return Built(wheel, sdist)


@pytest.fixture(scope="module")
def venv(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    home = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(home)], check=True)
    bin_dir = home / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    purelib = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    install += ["--no-deps", "--no-index", "--disable-pip-version-check", str(built.wheel)]
    done = subprocess.run(install, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (purelib / "_dependencies_of_the_test_env.pth").write_text("\n".join(sorted(ours)) + "\n")
    return Venv(python, bin_dir, purelib)


def test_the_wheel_holds_the_package_typed_and_generated_and_nothing_else(built: Built) -> None:
    names = set(zipfile.ZipFile(built.wheel).namelist())
    generated = {str(p.relative_to(ROOT)) for p in (ROOT / "tmdb_async/_generated").rglob("*.py")}
    assert "tmdb_async/_generated/v4/models.py" in generated
    assert generated <= names
    assert "tmdb_async/py.typed" in names
    assert "tmdb_async/testing/__init__.py" in names
    dist_info = f"tmdb_async-{__version__}.dist-info"
    assert f"{dist_info}/licenses/LICENSE" in names
    strays = {n for n in names if not n.startswith(("tmdb_async/", f"{dist_info}/"))}
    assert strays == set()  # no tests, codegen, benchmarks or docs
    metadata = zipfile.ZipFile(built.wheel).read(f"{dist_info}/METADATA").decode()
    assert f"\nVersion: {__version__}\n" in metadata
    assert "\nLicense-Expression: MIT\n" in metadata


def test_the_sdist_holds_what_the_tests_need(built: Built) -> None:
    with tarfile.open(built.sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if tracked.returncode == 0:  # a checkout: every tracked file of what the tests read
        wanted = {
            name
            for name in tracked.stdout.splitlines()
            if name.startswith(("tests/", "codegen/", "tmdb_async/", "docs/", "benchmarks/"))
        }
    else:  # an unpacked sdist running its own tests
        wanted = {"tests/conftest.py", "tests/corpus/samples.toml", "codegen/naming.toml"}
    assert wanted - names == set()
    assert {"pyproject.toml", "README.md", "LICENSE", "PKG-INFO"} <= names
    assert not any(name.startswith((".venv/", ".ci/", ".github/")) for name in names)


def test_the_sdist_runs_the_tests(built: Built, tmp_path: Path) -> None:
    with tarfile.open(built.sdist) as archive:
        if hasattr(tarfile, "data_filter"):  # Python 3.10.12+: refuse links out of tmp_path
            archive.extractall(tmp_path, filter="data")
        else:  # pragma: no cover
            archive.extractall(tmp_path)
    (unpacked,) = tmp_path.iterdir()
    tests = ["tests/unit/test_layering.py", "tests/unit/test_drift.py"]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests]
    done = subprocess.run(
        command, cwd=unpacked, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"\d+ passed", done.stdout)


def test_the_installed_wheel_is_what_imports(venv: Venv, tmp_path: Path) -> None:
    script = """
import importlib, importlib.metadata, pkgutil, sys
import tmdb_async
assert tmdb_async.__file__.startswith(sys.argv[1]), tmdb_async.__file__
assert importlib.metadata.version("tmdb-async") == tmdb_async.__version__, "metadata"
public = [
    info.name
    for info in pkgutil.walk_packages(tmdb_async.__path__, "tmdb_async.")
    if not any(part.startswith("_") for part in info.name.split("."))
]
for name in public:
    module = importlib.import_module(name)
    assert module.__file__.startswith(sys.argv[1]), module.__file__
print(tmdb_async.__version__, " ".join(sorted(public)))
"""
    done = venv.run(str(venv.python), "-c", script, str(venv.purelib), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    version, _, modules = done.stdout.strip().partition(" ")
    assert version == __version__
    assert {"tmdb_async.models", "tmdb_async.testing", "tmdb_async.cli"} <= set(modules.split())


def test_the_readme_demo_runs_from_the_installed_wheel(venv: Venv, tmp_path: Path) -> None:
    first = (ROOT / "README.md").read_text().splitlines()[0]
    command = re.search(r"`([^`]*)`", first)
    assert command is not None, first
    demo = shlex.split(command[1].split("&&")[-1])  # after the `pip install ...`
    assert demo[0] == "tmdb-async"
    done = venv.run(str(venv.bin / demo[0]), *demo[1:], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = Path(tmp_path, demo[demo.index("--out") + 1])
    ids = re.search(r"--ids 1-(\d+)", command[1])
    assert ids is not None
    assert len(out.read_bytes().splitlines()) == int(ids[1])
