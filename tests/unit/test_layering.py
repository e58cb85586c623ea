"""Import rules: generated code knows only the requester protocol and its own package;
the transport never knows about movies."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "tmdb_async"
TRANSPORT_SIDE = [
    "_transport",
    "_urls",
    "_credentials",
    "_retry",
    "_ratelimit",
    "_singleflight",
    "_clock",
    "_decode",
    "_errors",
    "_deadline",
]


def imported_modules(path: Path) -> set[str]:
    """Absolute `tmdb_async...` names a module imports (relative imports resolved)."""
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return {n for n in names if n.startswith("tmdb_async")}


def test_generated_imports_only_the_requester_and_itself() -> None:
    for path in (PACKAGE / "_generated").glob("*.py"):
        for name in imported_modules(path):
            allowed = name.startswith(("tmdb_async._generated", "tmdb_async._requester"))
            assert allowed, f"{path.name} imports {name}"


def test_transport_side_never_imports_generated_or_client() -> None:
    for stem in TRANSPORT_SIDE:
        path = PACKAGE / f"{stem}.py"
        if not path.exists():
            continue
        for name in imported_modules(path):
            assert not name.startswith(
                ("tmdb_async._generated", "tmdb_async._client", "tmdb_async.models")
            ), f"{stem} imports {name}"
    for path in (PACKAGE / "_cache").glob("*.py"):
        assert not any("_generated" in n or "_client" in n for n in imported_modules(path)), path


def test_the_checker_sees_relative_imports() -> None:
    assert "tmdb_async._requester" in imported_modules(PACKAGE / "_generated" / "movies.py")
    assert "tmdb_async._generated.models" in imported_modules(PACKAGE / "_generated" / "movies.py")
