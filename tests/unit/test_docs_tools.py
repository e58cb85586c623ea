"""The docs build's docstring check: a public object without a docstring is named (and so
fails `mkdocs build --strict`, docs_tools/docstring_coverage.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from tmdb_async import TMDB
from tmdb_async._generated import NAMESPACES
from tmdb_async.testing import FakeTMDB

TOOLS = Path(__file__).resolve().parents[2] / "docs_tools"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"docs_tools_{name}", TOOLS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_public_object_has_a_docstring() -> None:
    assert load("docstring_coverage").missing() == []


@pytest.mark.parametrize(
    ("owner", "name", "reported"),
    [
        (TMDB, "poster_url", "tmdb_async.TMDB.poster_url"),
        (FakeTMDB, "inject", "tmdb_async.testing.FakeTMDB.inject"),
        (NAMESPACES["movies"], "details", "tmdb.movies.details"),
    ],
)
def test_a_missing_docstring_is_named(
    monkeypatch: pytest.MonkeyPatch, owner: type, name: str, reported: str
) -> None:
    monkeypatch.setattr(getattr(owner, name), "__doc__", None)
    assert reported in load("docstring_coverage").missing()
