"""Infer response shapes from each operation's schema, its example AND the corpus of real
responses, then group equal shapes.

A shape is a small type tree. Objects remember where they were seen (`location`, e.g.
`movie-details:$.genres[]`); the naming map gives each group of equal shapes its name.
Observations of one place merge: a key seen anywhere becomes a field, `int` and `float` make
`float`, two kinds both seen make a union (`int | str` ids), and a type the schema only
claims yields to one a value shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .overrides import Overrides

__all__ = [
    "Arr",
    "BoolOr",
    "Inferred",
    "MapOf",
    "Node",
    "Obj",
    "Prim",
    "Ref",
    "Union",
    "infer_all",
    "iter_objects",
    "merge_kinds",
    "python_kind",
    "signature",
]

MISSING: Any = object()


@dataclass
class Prim:
    kind: str  # "str" | "int" | "float" | "bool" | "any" | "null", or a union: "int | str"
    observed: bool = True
    """False when only the schema says so (no value seen): any observed kind replaces it."""


@dataclass
class Arr:
    item: Node


@dataclass
class MapOf:
    value: Node
    nullable: bool = False
    """Some value was null (`comments` of a v4 list: `{"movie:550": null}`)."""


@dataclass
class Obj:
    fields: dict[str, Node]
    locations: list[str]
    always: frozenset[str] = frozenset()
    """Keys present and non-null in every observation (the identity field is required)."""


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

TAG = "media_type"
SCHEMA_KINDS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


def _value_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        # TMDB sometimes sends ids and counts as `120.0`: that says "a number", not "a float".
        return "integral" if value.is_integer() else "float"
    if isinstance(value, str):
        return "str"
    raise TypeError(f"unexpected JSON value {value!r}")


def _merge_obj(a: Obj, b: Obj) -> Obj:
    merged = merge(a, b)
    assert isinstance(merged, Obj)
    return merged


def merge_kinds(a: str, b: str) -> str:
    """`int` + `float` -> `float`; `int` + `str` -> `int | str`; `any` absorbs everything.

    `integral` (a float such as `120.0`) is an `int` beside ints, else a float."""
    kinds = {*a.split(" | "), *b.split(" | ")} - {"null"}
    if "any" in kinds:
        return "any"
    if "integral" in kinds and kinds & {"int", "float"}:
        kinds.discard("integral")
    if {"int", "float"} <= kinds:
        kinds.discard("int")
    return " | ".join(sorted(kinds)) or "null"


def python_kind(kind: str) -> str:
    """The type a merged kind is generated as (`integral` alone is a float)."""
    return merge_kinds(kind.replace("integral", "float"), "null") if "integral" in kind else kind


def merge(a: Node, b: Node) -> Node:
    """Combine two observations of the same place into one shape."""
    if isinstance(a, Prim) and a.kind == "null":
        return b
    if isinstance(b, Prim) and b.kind == "null":
        return a
    if isinstance(a, Prim) and isinstance(b, Prim) and a.observed == b.observed:
        return Prim(merge_kinds(a.kind, b.kind), a.observed)
    # What only the schema claims (or an empty list's unknown item) yields to a value seen.
    if isinstance(a, Prim) and not a.observed:
        return b
    if isinstance(b, Prim) and not b.observed:
        return a
    if isinstance(a, Arr) and isinstance(b, Arr):
        return Arr(_merge_at("[]", a.item, b.item))
    if isinstance(a, MapOf) and isinstance(b, MapOf):
        return MapOf(_merge_at("{}", a.value, b.value), a.nullable or b.nullable)
    if isinstance(a, Obj) and isinstance(b, Obj):
        fields = dict(a.fields)
        for key, node in b.fields.items():
            fields[key] = _merge_at(f".{key}", fields[key], node) if key in fields else node
        locations = a.locations + [loc for loc in b.locations if loc not in a.locations]
        return Obj(fields, locations, a.always & b.always)
    if isinstance(a, Union) and isinstance(b, Union):
        seen = dict(a.seen)
        for tag, obj in b.seen.items():
            seen[tag] = _merge_obj(seen[tag], obj) if tag in seen else obj
        return Union(a.variants, seen)
    if isinstance(a, BoolOr) and isinstance(b, BoolOr):
        return BoolOr(_merge_obj(a.obj, b.obj))
    if isinstance(a, Ref) and isinstance(b, Ref) and a.name == b.name:
        return a
    if isinstance(a, Ref) and isinstance(b, Obj):  # an example left empty, then real data
        return b
    if isinstance(b, Ref) and isinstance(a, Obj):
        return a
    if isinstance(a, Prim) and a.kind == "any":
        return b
    if isinstance(b, Prim) and b.kind == "any":
        return a
    raise ValueError(f"cannot merge {_describe(a)} with {_describe(b)}")


def _merge_at(step: str, a: Node, b: Node) -> Node:
    try:
        return merge(a, b)
    except ValueError as err:
        where, sep, problem = str(err).partition(": ")
        raise ValueError(f"{step}{where}{sep}{problem}" if sep else f"{step}: {err}") from None


def _describe(node: Node) -> str:
    return node.kind if isinstance(node, Prim) else type(node).__name__


class _Inferrer:
    def __init__(self, overrides: Overrides) -> None:
        self.overrides = overrides
        self.visited: set[str] = set()
        self.union_fields_seen: set[str] = set()
        self.keys_seen: set[str] = set()

    def infer(self, schema: dict[str, Any] | None, value: Any, loc: str) -> Node:
        self.visited.add(loc)
        schema = schema or {}
        forced = self.overrides.type_at(loc)
        if forced is not None:
            return Prim(forced)
        if loc in self.overrides.refs and not isinstance(value, dict):
            return Ref(self.overrides.refs[loc])
        variants = self.overrides.union_at(loc)
        if variants is not None:
            self.union_fields_seen.add(loc[:-2].rsplit(".", 1)[-1])
            return self._union(value, loc, variants)
        if loc in self.overrides.maps:
            return self._map(schema, value, loc)
        if loc.rsplit(".", 1)[-1] in self.overrides.bool_or_fields:
            return BoolOr(self._object(schema, value, loc))
        kind = schema.get("type")
        if isinstance(value, dict) or ((value is MISSING or value is None) and kind == "object"):
            return self._object(schema, value, loc)
        if isinstance(value, list) or ((value is MISSING or value is None) and kind == "array"):
            return self._array(schema, value if isinstance(value, list) else [], loc)
        if value is MISSING or value is None:
            observed = SCHEMA_KINDS.get(kind or "", "any") if value is MISSING else "null"
        else:
            observed = _value_kind(value)
        if observed in ("int", "integral") and kind == "number":
            observed = "float"
        name = loc.rsplit(".", 1)[-1]
        if observed in ("int", "integral", "null", "any") and name in self.overrides.float_fields:
            observed = "float"
        return Prim(observed, value is not MISSING)

    def _object(self, schema: dict[str, Any], value: Any, loc: str) -> Obj:
        """An object; `value` is what was seen there (a dict), or nothing (MISSING, None...)."""
        seen = value if isinstance(value, dict) else {}
        if isinstance(seen.get(TAG), str):
            seen = {k: self._with_tag(f"{loc}.{k}", v, seen[TAG]) for k, v in seen.items()}
        props: dict[str, Any] = schema.get("properties", {})
        keys = list(seen) + [k for k in props if k not in seen]
        fields = {k: self.infer(props.get(k), seen.get(k, MISSING), f"{loc}.{k}") for k in keys}
        if isinstance(value, dict):
            self.keys_seen.update(f"{loc}.{k}" for k, v in value.items() if v is not None)
            always = frozenset(k for k, v in value.items() if v is not None)
        else:  # nothing observed here: nothing says a key may be absent
            always = frozenset(fields)
        return Obj(fields, [loc], always)

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

    def _with_tag(self, loc: str, value: Any, tag: str) -> Any:
        """A tagged item without its tag takes its parent's (older tagged images: the image
        says `media_type`, its `media` does not); the decoder does the same."""
        tagged = self.overrides.union_at(loc) is not None
        if tagged and isinstance(value, dict) and TAG not in value:
            return {TAG: tag, **value}
        return value

    def _union(self, value: Any, loc: str, variants: dict[str, str]) -> Union:
        union = Union(dict(variants))
        if isinstance(value, dict):
            tag = value.get(TAG)
            if tag not in variants:
                raise ValueError(f"{loc}: media_type {tag!r} has no variant in overrides.toml")
            rest = {k: v for k, v in value.items() if k != TAG}
            union.seen[tag] = self._object({}, rest, f"{loc}<{tag}>")
        return union

    def _map(self, schema: dict[str, Any], value: Any, loc: str) -> MapOf:
        kind = self.overrides.maps[loc]
        # A kind the override gives (with evidence) stands until a value shows one.
        node: Node = Prim("null") if kind is None else Prim(kind, observed=False)
        props: dict[str, Any] = schema.get("properties", {})
        entries = value.items() if isinstance(value, dict) else props.items()
        nullable = False
        for key, entry in entries:
            sub = props.get(key) if isinstance(value, dict) else entry
            val = entry if isinstance(value, dict) else MISSING
            nullable = nullable or val is None
            node = merge(node, self.infer(sub, val, f"{loc}{{}}"))
        return MapOf(node, nullable)


@dataclass
class Inferred:
    spec: dict[str, Node]
    """operationId -> the shape of its schema and example: what the naming map names."""
    learned: dict[str, Node]
    """operationId -> that shape merged with every real response of the corpus."""
    keys_seen: frozenset[str] = frozenset()
    """`location.key` of every key an example or a sample holds (not null)."""


def infer_all(
    responses: Iterable[tuple[str, dict[str, Any], Any]],
    overrides: Overrides,
    samples: Mapping[str, Sequence[tuple[str, Any]]] | None = None,
) -> Inferred:
    """Infer each (operationId, schema, example), then merge in each (label, body) sample of
    that operation; fail on a sample that cannot merge or an override that matches nothing."""
    inferrer = _Inferrer(overrides)
    spec = {
        op_id: inferrer.infer(schema, example, f"{op_id}:$") for op_id, schema, example in responses
    }
    learned = dict(spec)
    for op_id, bodies in (samples or {}).items():
        for label, body in bodies:
            try:
                observed = inferrer.infer({}, body, f"{op_id}:$")
            except ValueError as err:
                raise ValueError(f"{label}: {err}") from None
            try:
                learned[op_id] = _merge_at("", learned[op_id], observed)
            except ValueError as err:
                raise ValueError(f"{label}: {op_id}:${err}") from None
    pointers = [*overrides.types, *overrides.maps, *overrides.unions, *overrides.refs]
    learned = {op_id: _with_fields(root, overrides.fields) for op_id, root in learned.items()}
    stale = sorted({*pointers, *overrides.fields} - inferrer.visited)
    stale += sorted(overrides.union_fields.keys() - inferrer.union_fields_seen)
    if stale:
        raise ValueError(f"overrides.toml entries match no location: {stale}")
    return Inferred(spec, learned, frozenset(inferrer.keys_seen))


def _with_fields(node: Node, added: Mapping[str, Mapping[str, str]]) -> Node:
    """`node` with the overrides' fields (location -> {key: kind}) in its objects."""
    if isinstance(node, Obj):
        return _obj_with_fields(node, added)
    if isinstance(node, Arr):
        return Arr(_with_fields(node.item, added))
    if isinstance(node, MapOf):
        return MapOf(_with_fields(node.value, added), node.nullable)
    if isinstance(node, BoolOr):
        return BoolOr(_obj_with_fields(node.obj, added))
    if isinstance(node, Union):
        seen = {tag: _obj_with_fields(obj, added) for tag, obj in node.seen.items()}
        return Union(node.variants, seen)
    return node


def _obj_with_fields(obj: Obj, added: Mapping[str, Mapping[str, str]]) -> Obj:
    fields = {key: _with_fields(node, added) for key, node in obj.fields.items()}
    for loc in obj.locations:
        for key, kind in added.get(loc, {}).items():
            fields.setdefault(key, Prim(kind, observed=False))
    return Obj(fields, obj.locations, obj.always)


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
        return f"{{str:{'?' if node.nullable else ''}{signature(node.value)}}}"
    if isinstance(node, BoolOr):
        return f"bool|{signature(node.obj)}"
    if isinstance(node, Ref):
        return f"ref:{node.name}"
    if isinstance(node, Union):
        return "<" + ",".join(f"{t}={n}" for t, n in sorted(node.variants.items())) + ">"
    inner = ",".join(f"{k}:{signature(v)}" for k, v in sorted(node.fields.items()))
    return "{" + inner + "}"
