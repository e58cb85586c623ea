"""The committed corrections to TMDB's spec (`overrides.toml`): data, each with a reason."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = ["OVERRIDES_PATH", "Overrides", "load_overrides"]

OVERRIDES_PATH = Path(__file__).with_name("overrides.toml")


@dataclass
class Overrides:
    float_fields: frozenset[str] = frozenset()
    types: dict[str, str] = field(default_factory=dict)
    maps: frozenset[str] = frozenset()
    unions: dict[str, dict[str, str]] = field(default_factory=dict)
    """location -> {media_type: struct}."""
    union_fields: dict[str, dict[str, str]] = field(default_factory=dict)
    """field name -> {media_type: struct}, for the items of every list under that name."""
    bool_or_fields: frozenset[str] = frozenset()
    refs: dict[str, str] = field(default_factory=dict)
    query_params: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """operationId -> query parameters the spec does not list."""
    fields: dict[str, dict[str, str]] = field(default_factory=dict)
    """object location -> {field: kind}: keys TMDB sends that no example or sample shows."""
    optional_ids: frozenset[str] = frozenset()
    """Structs whose `id` TMDB sends as null (optional like every other field)."""

    def type_at(self, loc: str) -> str | None:
        return self.types.get(loc)

    def union_at(self, loc: str) -> dict[str, str] | None:
        """The variants of the tagged union at `loc` (`x:$.results[]`, or `...known_for[]`)."""
        found = self.unions.get(loc)
        if found is None and loc.endswith("[]"):
            found = self.union_fields.get(loc[:-2].rsplit(".", 1)[-1])
        return found


def _require_reason(section: str, entry: dict[str, Any]) -> None:
    if not str(entry.get("reason", "")).strip():
        raise ValueError(f"overrides.toml [{section}] {entry} has no reason")


def load_overrides(path: Path = OVERRIDES_PATH) -> Overrides:
    """Read and check the overrides file."""
    data = tomllib.loads(path.read_text())
    for section, entries in data.items():
        for entry in entries:
            _require_reason(section, entry)
            if section == "field" and not str(entry.get("evidence", "")).strip():
                raise ValueError(f"overrides.toml [field] {entry['name']} says no evidence")
    return Overrides(
        float_fields=frozenset(f for e in data.get("float", []) for f in e["fields"]),
        types={e["at"]: e["type"] for e in data.get("type", [])},
        maps=frozenset(e["at"] for e in data.get("map", [])),
        unions={e["at"]: dict(e["variants"]) for e in data.get("union", []) if "at" in e},
        union_fields={
            e["field"]: dict(e["variants"]) for e in data.get("union", []) if "field" in e
        },
        refs={e["at"]: e["struct"] for e in data.get("ref", [])},
        bool_or_fields=frozenset(f for e in data.get("bool_or", []) for f in e["fields"]),
        query_params=_by_operation(data.get("query_param", [])),
        fields=_fields(data.get("field", [])),
        optional_ids=frozenset(s for e in data.get("optional_id", []) for s in e["structs"]),
    )


def _fields(entries: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    fields: dict[str, dict[str, str]] = {}
    for entry in entries:
        for loc in entry["at"]:
            fields.setdefault(loc, {})[entry["name"]] = entry["type"]
    return fields


def _by_operation(entries: list[dict[str, Any]]) -> dict[str, tuple[str, ...]]:
    names: dict[str, tuple[str, ...]] = {}
    for entry in entries:
        for op_id in entry["operations"]:
            names[op_id] = (*names.get(op_id, ()), entry["name"])
    return names
