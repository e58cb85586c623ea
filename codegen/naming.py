"""The committed naming map (`naming.toml`, one per API version): operation ->
namespace.method, cache class and who acts, appendable parts, and the name of every
response shape and request-body shape."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = ["NAMING_PATH", "Naming", "OperationNaming", "load_naming"]

NAMING_PATH = Path(__file__).with_name("naming.toml")
CACHE_CLASSES = frozenset({"static", "detail", "listing", "changes", "never"})


@dataclass(frozen=True)
class OperationNaming:
    namespace: str
    method: str
    cache: str
    append: dict[str, str] = field(default_factory=dict)
    response: str | None = None
    user: bool = False
    """Only a user acts here (`tmdb.as_user(...)`): TMDB refuses the application's token."""


@dataclass
class Naming:
    operations: dict[str, OperationNaming]
    structs: dict[str, str]
    """location -> struct name."""
    descriptions: dict[str, str]
    bodies: dict[str, str] = field(default_factory=dict)
    """request-body location (`v4/list-add-items:items[]`) -> struct name."""


def load_naming(path: Path = NAMING_PATH) -> Naming:
    """Read and check a naming map."""
    data = tomllib.loads(path.read_text())
    operations = {}
    for op_id, entry in data["operations"].items():
        namespace, method = entry["method"].split(".")
        if entry["cache"] not in CACHE_CLASSES:
            raise ValueError(f"naming.toml: {op_id}: unknown cache class {entry['cache']!r}")
        if entry.get("user") and entry["cache"] != "never":
            raise ValueError(f"naming.toml: {op_id}: what a user reads is never cached")
        operations[op_id] = OperationNaming(
            namespace,
            method,
            entry["cache"],
            dict(entry.get("append", {})),
            entry.get("response"),
            bool(entry.get("user", False)),
        )
    structs: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    bodies: dict[str, str] = {}
    for table, found in (("structs", structs), ("bodies", bodies)):
        for name, entry in data.get(table, {}).items():
            descriptions[name] = entry.get("doc", "")
            for loc in entry["at"]:
                if loc in structs or loc in bodies:
                    raise ValueError(f"naming.toml: {loc} is named twice ({name})")
                found[loc] = name
    return Naming(operations, structs, descriptions, bodies)
