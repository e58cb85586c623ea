"""MkDocs hook: every public object of tmdb_async has a docstring, or the build warns (and
`mkdocs build --strict` fails), naming each one that has none.

Public: what a module whose dotted name has no `_`-prefixed part exports (its `__all__`),
the TMDB client's namespaces (`tmdb.movies`...), and the public methods and properties
those classes define themselves. Constants and type aliases are left to the pages.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
from collections.abc import Iterator
from typing import Any

import tmdb_async
from tmdb_async._generated import NAMESPACES

log = logging.getLogger("mkdocs.hooks.docstring_coverage")


def public_modules() -> Iterator[Any]:
    yield tmdb_async
    for info in pkgutil.walk_packages(tmdb_async.__path__, "tmdb_async."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            yield importlib.import_module(info.name)


def documented(obj: Any) -> bool:
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    return bool(doc and doc.strip())


def members(cls: type) -> Iterator[tuple[str, Any]]:
    """The public callables and properties `cls` defines itself."""
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        target = value.fget if isinstance(value, property) else value
        if isinstance(target, (staticmethod, classmethod)):
            target = target.__func__
        if inspect.isfunction(target):
            yield name, target


def missing() -> list[str]:
    """Dotted names of the public objects without a docstring."""
    classes: dict[str, type] = {f"tmdb.{name}": cls for name, cls in NAMESPACES.items()}
    found = []
    for module in public_modules():
        if not documented(module):
            found.append(module.__name__)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            where = f"{module.__name__}.{name}"
            if inspect.isclass(obj):
                classes.setdefault(where, obj)
            elif inspect.isfunction(obj) and not documented(obj):
                found.append(where)
    for where, cls in classes.items():
        if not documented(cls):
            found.append(where)
        found += [f"{where}.{name}" for name, fn in members(cls) if not documented(fn)]
    return sorted(set(found))


def on_pre_build(config: Any) -> None:
    """Warn about each public object without a docstring."""
    for name in missing():
        log.warning("public API without a docstring: %s", name)
