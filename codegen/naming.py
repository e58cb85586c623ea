"""The committed naming map (`naming.toml`): operation -> namespace.method and cache class,
appendable parts, and the name of every response shape."""

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


@dataclass
class Naming:
    operations: dict[str, OperationNaming]
    structs: dict[str, str]
    """location -> struct name."""
    descriptions: dict[str, str]


def load_naming(path: Path = NAMING_PATH) -> Naming:
    """Read and check the naming map."""
    data = tomllib.loads(path.read_text())
    operations = {}
    for op_id, entry in data["operations"].items():
        namespace, method = entry["method"].split(".")
        if entry["cache"] not in CACHE_CLASSES:
            raise ValueError(f"naming.toml: {op_id}: unknown cache class {entry['cache']!r}")
        operations[op_id] = OperationNaming(
            namespace, method, entry["cache"], dict(entry.get("append", {})), entry.get("response")
        )
    structs: dict[str, str] = {}
    descriptions: dict[str, str] = {}
    for name, entry in data["structs"].items():
        descriptions[name] = entry.get("doc", "")
        for loc in entry["at"]:
            if loc in structs:
                raise ValueError(f"naming.toml: {loc} is named both {structs[loc]} and {name}")
            structs[loc] = name
    return Naming(operations, structs, descriptions)
