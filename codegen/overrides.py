"""The committed corrections to TMDB's spec (`overrides.toml`, one per API version): data,
each with a reason, and with evidence where it departs from what the spec says.

Two kinds: fixes of the spec itself, applied to the operations before anything is generated
(`[[skip]]`, `[[path]]`, `[[path_param]]`, `[[query_param]]`; see `correct`), and fixes of
the response shapes the models are inferred from (`[[float]]`, `[[map]]`, `[[union]]`...);
`[[secret]]` names the fields of a Struct that hold a secret, masked in its repr.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .spec import SpecOperation, SpecParam

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = ["OVERRIDES_PATH", "Overrides", "PathParamFix", "correct", "load_overrides"]

OVERRIDES_PATH = Path(__file__).with_name("overrides.toml")
_NEEDS_EVIDENCE = frozenset({"field", "optional_id", "skip", "path", "path_param", "query_param"})
"""Sections that change what the spec says an operation is: each names its evidence."""


@dataclass(frozen=True)
class PathParamFix:
    """A path parameter the spec misnames (`spec_name`) or does not declare at all."""

    operation: str
    name: str
    spec_name: str | None = None
    type: str = "integer"


@dataclass
class Overrides:
    float_fields: frozenset[str] = frozenset()
    types: dict[str, str] = field(default_factory=dict)
    maps: dict[str, str | None] = field(default_factory=dict)
    """location -> the kind of the map's values when no example shows one (else None)."""
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
    skip: frozenset[str] = frozenset()
    """operationIds of entries that are no operation (a page of TMDB's guide)."""
    paths: dict[str, str] = field(default_factory=dict)
    """operationId -> its real path template."""
    path_params: tuple[PathParamFix, ...] = ()
    secrets: dict[str, frozenset[str]] = field(default_factory=dict)
    """struct name -> fields that hold a secret (masked in the Struct's repr)."""

    def type_at(self, loc: str) -> str | None:
        return self.types.get(loc)

    def union_at(self, loc: str) -> dict[str, str] | None:
        """The variants of the tagged union at `loc` (`x:$.results[]`, or `...known_for[]`)."""
        found = self.unions.get(loc)
        if found is None and loc.endswith("[]"):
            found = self.union_fields.get(loc[:-2].rsplit(".", 1)[-1])
        return found


def _check(section: str, entry: dict[str, Any]) -> None:
    if not str(entry.get("reason", "")).strip():
        raise ValueError(f"overrides.toml [{section}] {entry} has no reason")
    if section in _NEEDS_EVIDENCE and not str(entry.get("evidence", "")).strip():
        raise ValueError(f"overrides.toml [{section}] {entry} says no evidence")


def load_overrides(path: Path = OVERRIDES_PATH) -> Overrides:
    """Read and check an overrides file."""
    data = tomllib.loads(path.read_text())
    for section, entries in data.items():
        for entry in entries:
            _check(section, entry)
    return Overrides(
        float_fields=frozenset(f for e in data.get("float", []) for f in e["fields"]),
        types={e["at"]: e["type"] for e in data.get("type", [])},
        maps={e["at"]: e.get("value") for e in data.get("map", [])},
        unions={e["at"]: dict(e["variants"]) for e in data.get("union", []) if "at" in e},
        union_fields={
            e["field"]: dict(e["variants"]) for e in data.get("union", []) if "field" in e
        },
        refs={e["at"]: e["struct"] for e in data.get("ref", [])},
        bool_or_fields=frozenset(f for e in data.get("bool_or", []) for f in e["fields"]),
        query_params=_by_operation(data.get("query_param", [])),
        fields=_fields(data.get("field", [])),
        optional_ids=frozenset(s for e in data.get("optional_id", []) for s in e["structs"]),
        skip=frozenset(op for e in data.get("skip", []) for op in e["operations"]),
        paths={e["operation"]: e["path"] for e in data.get("path", [])},
        path_params=tuple(
            PathParamFix(e["operation"], e["name"], e.get("spec_name"), e.get("type", "integer"))
            for e in data.get("path_param", [])
        ),
        secrets={e["struct"]: frozenset(e["fields"]) for e in data.get("secret", [])},
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


def _fixed_params(op: SpecOperation, fixes: list[PathParamFix]) -> tuple[SpecParam, ...]:
    params = list(op.params)
    for fix in fixes:
        if fix.spec_name is None:
            if any(p.name == fix.name for p in params):
                raise ValueError(f"{op.operation_id} declares {fix.name!r} now: drop the fix")
            params.append(SpecParam(fix.name, "path", fix.type, required=True))
            continue
        index = next((i for i, p in enumerate(params) if p.name == fix.spec_name), None)
        if index is None:
            raise ValueError(f"{op.operation_id} has no parameter {fix.spec_name!r} any more")
        params[index] = dataclasses.replace(params[index], name=fix.name)
    return tuple(params)


def correct(ops: list[SpecOperation], overrides: Overrides) -> list[SpecOperation]:
    """The operations as TMDB really serves them: the overrides' entries skipped, paths and
    path parameters fixed. A fix that matches nothing in the spec (fixed upstream, or a
    typo) fails generation, so no stale correction stays behind."""
    by_id = {op.operation_id: op for op in ops}
    named = {*overrides.skip, *overrides.paths, *(f.operation for f in overrides.path_params)}
    named |= overrides.query_params.keys()
    if unknown := sorted(named - by_id.keys()):
        raise ValueError(f"overrides.toml corrects operations the spec lacks: {unknown}")
    corrected = []
    for op in ops:
        if op.operation_id in overrides.skip:
            continue
        path = overrides.paths.get(op.operation_id, op.path)
        if path == op.path and op.operation_id in overrides.paths:
            raise ValueError(f"{op.operation_id}: the spec's path is {path} now: drop the fix")
        fixes = [f for f in overrides.path_params if f.operation == op.operation_id]
        params = _fixed_params(op, fixes) if fixes else op.params
        corrected.append(dataclasses.replace(op, path=path, params=params))
    return corrected
