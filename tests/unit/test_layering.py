"""Import rules, read from the folders (no hand-kept module list): operation metadata imports
nothing; generated code knows only that and itself; a pipeline stage imports only the stages
below it; nothing the transport reaches knows about movies."""

from __future__ import annotations

import ast
from pathlib import Path

from tmdb_async._pipeline import STAGES

PACKAGE = Path(__file__).resolve().parents[2] / "tmdb_async"
PIPELINE = PACKAGE / "_pipeline"
ABOVE_THE_TRANSPORT = (
    "tmdb_async._client",
    "tmdb_async._generated",
    "tmdb_async._pagination",
    "tmdb_async._sessions",
    "tmdb_async.cli",
    "tmdb_async.distributed",
    "tmdb_async.models",
    "tmdb_async.testing",
)
VALUE_KINDS = "tmdb_async._generated.kinds"
"""The parameter kinds' checks: about values (a language code, an object id), not movies. The
options that fill in parameters (`language`, `region`, `as_user`'s account id) use them."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_path(name: str) -> Path | None:
    base = PACKAGE.parent.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


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


def imported_files(path: Path) -> set[Path]:
    """The package's modules that `path` imports (a name that is not a module is skipped)."""
    return {found for name in imported_modules(path) if (found := module_path(name)) is not None}


def reachable(start: Path) -> set[Path]:
    """Every module of the package that `start` imports, directly or not."""
    seen: set[Path] = set()
    todo = [start]
    while todo:
        for found in imported_files(todo.pop()) - seen:
            seen.add(found)
            todo.append(found)
    return seen


def test_operation_metadata_imports_nothing_from_the_package() -> None:
    assert imported_modules(PACKAGE / "_operation.py") == set()


def test_generated_imports_only_the_operation_module_and_itself() -> None:
    for path in (PACKAGE / "_generated").glob("*.py"):
        for name in imported_modules(path):
            allowed = name.startswith(("tmdb_async._generated", "tmdb_async._operation"))
            assert allowed, f"{path.name} imports {name}"


def test_every_pipeline_module_is_a_stage_or_a_private_helper() -> None:
    for path in PIPELINE.glob("*.py"):
        assert path.stem in STAGES or path.stem.startswith("_"), path.name
    assert {stage for stage in STAGES if not (PIPELINE / f"{stage}.py").exists()} == set()


def test_a_stage_imports_only_the_stages_below_it() -> None:
    for position, stage in enumerate(STAGES):
        below = {f"tmdb_async._pipeline.{s}" for s in STAGES[position + 1 :]}
        for path in imported_files(PIPELINE / f"{stage}.py"):
            name = module_name(path)
            if name.startswith("tmdb_async._pipeline.") and not path.stem.startswith("_"):
                assert name in below, f"stage {stage} imports {name}, not below it"


def test_pipeline_helpers_and_the_rest_of_the_package_never_import_a_stage() -> None:
    for path in PACKAGE.rglob("*.py"):
        if path.parent == PIPELINE and not path.stem.startswith("_"):
            continue  # a stage: the test above
        if path == PACKAGE / "_transport.py":
            continue  # assembles the stages
        for found in imported_files(path):
            is_stage = found.parent == PIPELINE and not found.stem.startswith("_")
            assert not is_stage, f"{module_name(path)} imports the stage {module_name(found)}"


def test_nothing_the_transport_reaches_knows_about_movies() -> None:
    transport_side = reachable(PACKAGE / "_transport.py")
    assert PIPELINE / "wire.py" in transport_side  # the walk does reach the stages
    for path in transport_side:
        name = module_name(path)
        assert name == VALUE_KINDS or not name.startswith(ABOVE_THE_TRANSPORT), name
    kinds = module_path(VALUE_KINDS)
    assert kinds is not None
    assert imported_modules(kinds) == {"tmdb_async._operation", "tmdb_async._operation.Check"}


def test_the_command_line_and_distributed_crawls_share_the_loop_not_each_other() -> None:
    loop_side = reachable(PACKAGE / "_crawl" / "__init__.py")
    assert PACKAGE / "_crawl" / "_jsonl.py" in loop_side
    assert PACKAGE / "_crawl" / "_idfile.py" in loop_side
    for path in loop_side:
        assert not module_name(path).startswith(("tmdb_async.cli", "tmdb_async.distributed"))


def test_nothing_but_the_command_line_imports_the_command_line() -> None:
    """The mirror, the crawl loop and distributed crawls are libraries: the command line
    uses them, never the reverse."""
    libraries = [PACKAGE / name for name in ("mirror", "_crawl", "distributed")]
    checked = 0
    for folder in libraries:
        for path in folder.glob("*.py"):
            checked += 1
            for found in reachable(path):
                assert not module_name(found).startswith("tmdb_async.cli"), (
                    f"{module_name(path)} reaches {module_name(found)}"
                )
    assert checked > 20  # the folders were found and walked


def test_the_checker_sees_relative_imports() -> None:
    assert "tmdb_async._operation" in imported_modules(PACKAGE / "_generated" / "movies.py")
    assert "tmdb_async._generated.models" in imported_modules(PACKAGE / "_generated" / "movies.py")
    assert PIPELINE / "decoding.py" in imported_files(PIPELINE / "caching.py")
