"""Infer response shapes from each operation's schema AND example, then group equal shapes.

A shape is a small type tree. Objects remember where they were seen (`location`, e.g.
`movie-details:$.genres[]`); the naming map gives each group of equal shapes its name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .overrides import Overrides

__all__ = [
    "Arr",
    "BoolOr",
    "MapOf",
    "Node",
    "Obj",
    "Prim",
    "Ref",
    "Union",
    "infer_all",
    "iter_objects",
    "signature",
]

MISSING: Any = object()


@dataclass
class Prim:
    kind: str  # "str" | "int" | "float" | "bool" | "any" | "null"


@dataclass
class Arr:
    item: Node


@dataclass
class MapOf:
    value: Node


@dataclass
class Obj:
    fields: dict[str, Node]
    locations: list[str]


@dataclass
class Ref:
    """A place the overrides point at a named struct (the example has nothing there)."""

    name: str


@dataclass
class BoolOr:
    """`false`, or an object (`rated` in account states)."""

    obj: Obj


@dataclass
class Union:
    """A list item tagged on `media_type`: tag -> struct name (shapes seen in the example)."""

    variants: dict[str, str]
    seen: dict[str, Obj] = field(default_factory=dict)


Node = Prim | Arr | MapOf | Obj | BoolOr | Ref | Union

SCHEMA_KINDS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


def _value_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    raise TypeError(f"unexpected JSON value {value!r}")


def _merge_obj(a: Obj, b: Obj) -> Obj:
    merged = merge(a, b)
    assert isinstance(merged, Obj)
    return merged


def merge(a: Node, b: Node) -> Node:
    """Combine two observations of the same place into one shape."""
    if isinstance(a, Prim) and a.kind == "null":
        return b
    if isinstance(b, Prim) and b.kind == "null":
        return a
    if isinstance(a, Prim) and isinstance(b, Prim):
        if a.kind == b.kind:
            return a
        if {a.kind, b.kind} == {"int", "float"}:
            return Prim("float")
        if "any" in (a.kind, b.kind):
            return b if a.kind == "any" else a
        raise ValueError(f"conflicting primitive kinds {a.kind} and {b.kind}")
    if isinstance(a, Arr) and isinstance(b, Arr):
        return Arr(merge(a.item, b.item))
    if isinstance(a, MapOf) and isinstance(b, MapOf):
        return MapOf(merge(a.value, b.value))
    if isinstance(a, Obj) and isinstance(b, Obj):
        fields = dict(a.fields)
        for key, node in b.fields.items():
            fields[key] = merge(fields[key], node) if key in fields else node
        return Obj(fields, a.locations + [loc for loc in b.locations if loc not in a.locations])
    if isinstance(a, Union) and isinstance(b, Union):
        seen = dict(a.seen)
        for tag, obj in b.seen.items():
            seen[tag] = _merge_obj(seen[tag], obj) if tag in seen else obj
        return Union(a.variants, seen)
    if isinstance(a, BoolOr) and isinstance(b, BoolOr):
        return BoolOr(_merge_obj(a.obj, b.obj))
    if isinstance(a, Ref) and isinstance(b, Ref) and a.name == b.name:
        return a
    if isinstance(a, Prim) and a.kind == "any":
        return b
    if isinstance(b, Prim) and b.kind == "any":
        return a
    raise ValueError(f"cannot merge {type(a).__name__} with {type(b).__name__}")


class _Inferrer:
    def __init__(self, overrides: Overrides) -> None:
        self.overrides = overrides
        self.visited: set[str] = set()

    def infer(self, schema: dict[str, Any] | None, value: Any, loc: str) -> Node:
        self.visited.add(loc)
        schema = schema or {}
        forced = self.overrides.type_at(loc)
        if forced is not None:
            return Prim(forced)
        if loc in self.overrides.refs:
            return Ref(self.overrides.refs[loc])
        if loc in self.overrides.unions:
            return self._union(value, loc, self.overrides.unions[loc])
        if loc in self.overrides.maps:
            return self._map(schema, value, loc)
        if loc.rsplit(".", 1)[-1] in self.overrides.bool_or_fields:
            return BoolOr(self._object(schema, value if isinstance(value, dict) else {}, loc))
        kind = schema.get("type")
        if isinstance(value, dict) or ((value is MISSING or value is None) and kind == "object"):
            return self._object(schema, value if isinstance(value, dict) else {}, loc)
        if isinstance(value, list) or ((value is MISSING or value is None) and kind == "array"):
            return self._array(schema, value if isinstance(value, list) else [], loc)
        if value is MISSING or value is None:
            observed = SCHEMA_KINDS.get(kind or "", "any") if value is MISSING else "null"
        else:
            observed = _value_kind(value)
        if observed == "int" and kind == "number":
            observed = "float"
        name = loc.rsplit(".", 1)[-1]
        if observed in ("int", "null", "any") and name in self.overrides.float_fields:
            observed = "float"
        return Prim(observed)

    def _object(self, schema: dict[str, Any], value: dict[str, Any], loc: str) -> Obj:
        props: dict[str, Any] = schema.get("properties", {})
        keys = list(value) + [k for k in props if k not in value]
        fields = {k: self.infer(props.get(k), value.get(k, MISSING), f"{loc}.{k}") for k in keys}
        return Obj(fields, [loc])

    def _array(self, schema: dict[str, Any], value: list[Any], loc: str) -> Node:
        item_schema = schema.get("items") if isinstance(schema.get("items"), dict) else None
        item_loc = f"{loc}[]"
        node: Node = self.infer(item_schema, MISSING, item_loc) if not value else Prim("null")
        for item in value:
            try:
                node = merge(node, self.infer(item_schema, item, item_loc))
            except ValueError as err:
                raise ValueError(f"{item_loc}: {err}") from None
        return Arr(node)

    def _union(self, value: Any, loc: str, variants: dict[str, str]) -> Union:
        union = Union(dict(variants))
        if isinstance(value, dict):
            tag = value["media_type"]
            if tag not in variants:
                raise ValueError(f"{loc}: media_type {tag!r} has no variant in overrides.toml")
            rest = {k: v for k, v in value.items() if k != "media_type"}
            union.seen[tag] = self._object({}, rest, f"{loc}<{tag}>")
        return union

    def _map(self, schema: dict[str, Any], value: Any, loc: str) -> MapOf:
        node: Node = Prim("null")
        props: dict[str, Any] = schema.get("properties", {})
        entries = value.items() if isinstance(value, dict) else props.items()
        for key, entry in entries:
            sub = props.get(key) if isinstance(value, dict) else entry
            val = entry if isinstance(value, dict) else MISSING
            node = merge(node, self.infer(sub, val, f"{loc}{{}}"))
        return MapOf(node)


def infer_all(
    responses: Iterable[tuple[str, dict[str, Any], Any]], overrides: Overrides
) -> dict[str, Node]:
    """Infer each (operationId, schema, example); fail on an override that matches nothing."""
    inferrer = _Inferrer(overrides)
    roots = {
        op_id: inferrer.infer(schema, example, f"{op_id}:$") for op_id, schema, example in responses
    }
    pointers = [*overrides.types, *overrides.maps, *overrides.unions, *overrides.refs]
    if stale := sorted(set(pointers) - inferrer.visited):
        raise ValueError(f"overrides.toml entries match no location: {stale}")
    return roots


def iter_objects(node: Node) -> Iterator[Obj]:
    """Every object in a shape, children before parents."""
    if isinstance(node, Obj):
        for child in node.fields.values():
            yield from iter_objects(child)
        yield node
    elif isinstance(node, Arr):
        yield from iter_objects(node.item)
    elif isinstance(node, MapOf):
        yield from iter_objects(node.value)
    elif isinstance(node, BoolOr):
        yield from iter_objects(node.obj)
    elif isinstance(node, Union):
        for obj in node.seen.values():
            yield from iter_objects(obj)


def signature(node: Node) -> str:
    """A canonical text for a shape: equal text, equal shape."""
    if isinstance(node, Prim):
        return node.kind
    if isinstance(node, Arr):
        return f"[{signature(node.item)}]"
    if isinstance(node, MapOf):
        return f"{{str:{signature(node.value)}}}"
    if isinstance(node, BoolOr):
        return f"bool|{signature(node.obj)}"
    if isinstance(node, Ref):
        return f"ref:{node.name}"
    if isinstance(node, Union):
        return "<" + ",".join(f"{t}={n}" for t, n in sorted(node.variants.items())) + ">"
    inner = ",".join(f"{k}:{signature(v)}" for k, v in sorted(node.fields.items()))
    return "{" + inner + "}"
