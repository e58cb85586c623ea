"""Turn inferred shapes into named Struct definitions: group equal shapes, apply the naming map,
merge same-named shapes, detect pages, attach append_to_response parts."""

from __future__ import annotations

import keyword
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from .naming import Naming
from .shapes import (
    Arr,
    BoolOr,
    Inferred,
    MapOf,
    Node,
    Obj,
    Prim,
    Ref,
    Union,
    iter_objects,
    merge_kinds,
    python_kind,
    signature,
)

__all__ = [
    "Model",
    "ModelError",
    "StructDef",
    "StructField",
    "TypeExpr",
    "build_models",
    "render_type",
]

PAGE_KEYS = frozenset({"page", "results", "total_pages", "total_results"})
IDENTITY = "id"
UNKNOWN_MEDIA = "UnknownMedia"
UNKNOWN_TAG = "__unknown__"
"""Its tag: one TMDB does not send (tmdb_async._decode.UNKNOWN_TAG, checked by a test)."""

# ("prim", kind) | ("list", T) | ("map", T) | ("nullable", T) | ("ref", name)
# | ("boolor", name) | ("union", names) | ("page", T)
TypeExpr = tuple[object, ...]


class ModelError(ValueError):
    """The spec, the overrides and the naming map do not fit together."""


@dataclass
class StructField:
    name: str
    wire: str
    type: TypeExpr
    required: bool


@dataclass
class StructDef:
    name: str
    doc: str
    fields: dict[str, StructField] = field(default_factory=dict)
    tag: str | None = None
    page_item: TypeExpr | None = None
    locations: list[str] = field(default_factory=list)
    appendable: bool = False
    secrets: frozenset[str] = frozenset()
    """Fields (Python names) whose values its repr masks: tokens, session ids."""


@dataclass
class Model:
    structs: dict[str, StructDef]
    responses: dict[str, TypeExpr]
    """operationId -> response type."""


def render_type(expr: TypeExpr) -> str:
    """Python source for a type expression."""
    kind = expr[0]
    if kind == "prim":
        return "Any" if expr[1] in ("any", "null") else python_kind(str(expr[1]))
    if kind == "list":
        return f"list[{render_type(expr[1])}]"  # type: ignore[arg-type]
    if kind == "map":
        return f"dict[str, {render_type(expr[1])}]"  # type: ignore[arg-type]
    if kind == "nullable":
        inner = render_type(expr[1])  # type: ignore[arg-type]
        return inner if inner == "Any" else f"{inner} | None"
    if kind == "intmap":
        return f"dict[int, {render_type(expr[1])}]"  # type: ignore[arg-type]
    if kind == "ref":
        return str(expr[1])
    if kind == "boolor":
        return f"bool | {expr[1]}"
    if kind == "union":
        return " | ".join([*expr[1], UNKNOWN_MEDIA])  # type: ignore[misc]
    if kind == "page":
        return f"Page[{render_type(expr[1])}]"  # type: ignore[arg-type]
    raise AssertionError(expr)


def _merge_expr(a: TypeExpr, b: TypeExpr, where: str) -> TypeExpr:
    if a == b:
        return a
    if a[0] == "prim" and a[1] == "null":
        return b
    if b[0] == "prim" and b[1] == "null":
        return a
    if "any" in (a[1], b[1]) and "prim" in (a[0], b[0]):
        return ("prim", "any")
    if a[0] == b[0] == "prim":
        return ("prim", merge_kinds(str(a[1]), str(b[1])))
    if a[0] == b[0] and a[0] in ("list", "map", "page", "nullable"):
        return (a[0], _merge_expr(a[1], b[1], where))  # type: ignore[arg-type]
    if "nullable" in (a[0], b[0]):  # a map whose values were null somewhere
        inner_a = a[1] if a[0] == "nullable" else a
        inner_b = b[1] if b[0] == "nullable" else b
        return ("nullable", _merge_expr(inner_a, inner_b, where))  # type: ignore[arg-type]
    raise ModelError(f"{where}: conflicting types {render_type(a)} and {render_type(b)}")


def _is_page(obj: Obj) -> bool:
    return obj.fields.keys() >= PAGE_KEYS and isinstance(obj.fields["results"], Arr)


def _python_name(wire: str) -> str:
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in wire)
    if name.startswith("_"):
        name = name.lstrip("_") + "_"
    if not name.isidentifier() or keyword.iskeyword(name):
        name += "_"
    return name


class _Builder:
    def __init__(self, naming: Naming, located: dict[str, str]) -> None:
        self.naming = naming
        self.structs: dict[str, StructDef] = {}
        self.names: dict[str, str] = {**located, **naming.structs}
        """location -> name, as the naming map (and the overrides' refs) say."""
        self.located: dict[str, str] = {}
        """location -> name, for every location of every object."""
        self.unnamed: dict[str, list[str]] = {}

    def name_groups(self, spec: dict[str, Node], learned: dict[str, Node]) -> None:
        """Name every object: first the spec's shapes (equal shapes share a name), then the
        places only real data shows (named by the map, or equal to a shape of the spec)."""
        group_names: dict[str, str] = {}
        for roots in (spec, learned):
            groups: dict[str, list[str]] = defaultdict(list)
            for root in roots.values():
                for union in _iter_unions(root):
                    for tag, obj in union.seen.items():
                        self.names.update(dict.fromkeys(obj.locations, union.variants[tag]))
                for obj in iter_objects(root):
                    if _is_page(obj) and obj.fields.keys() == PAGE_KEYS:
                        continue
                    new = [loc for loc in obj.locations if loc not in self.located]
                    groups[signature(obj)].extend(new)
            for sig, locations in groups.items():
                if not locations:
                    continue
                names = {self.names[loc] for loc in locations if loc in self.names}
                if not names and sig in group_names:
                    names = {group_names[sig]}
                if len(names) == 1:
                    name = group_names.setdefault(sig, names.pop())
                    self.located.update({loc: self.names.get(loc, name) for loc in locations})
                elif not names:
                    self.unnamed[sig] = locations
                elif unlisted := [loc for loc in locations if loc not in self.names]:
                    raise ModelError(f"{unlisted}: equal shapes named {sorted(names)}; name each")
                else:
                    self.located.update({loc: self.names[loc] for loc in locations})

    def expr(self, node: Node, where: str) -> TypeExpr:
        if isinstance(node, Prim):
            # An unknown type (nothing seen, no schema) is "null": any other observation wins;
            # an `any` the overrides force absorbs every other.
            return ("prim", node.kind if node.observed or node.kind != "any" else "null")
        if isinstance(node, Arr):
            return ("list", self.expr(node.item, where + "[]"))
        if isinstance(node, MapOf):
            value = self.expr(node.value, where + "{}")
            return ("map", ("nullable", value) if node.nullable else value)
        if isinstance(node, BoolOr):
            return ("boolor", self.struct(node.obj))
        if isinstance(node, Ref):
            self.structs.setdefault(
                node.name, StructDef(node.name, self.naming.descriptions.get(node.name, ""))
            )
            return ("ref", node.name)
        if isinstance(node, Union):
            for tag, obj in node.seen.items():
                self.add(obj, node.variants[tag], tag)
            for tag, name in node.variants.items():
                self.tag(name, tag, where)
            return ("union", tuple(node.variants[t] for t in sorted(node.variants)))
        if _is_page(node) and node.fields.keys() == PAGE_KEYS:
            item = node.fields["results"]
            assert isinstance(item, Arr)
            return ("page", self.expr(item.item, where + ".results[]"))
        return ("ref", self.struct(node))

    def struct(self, obj: Obj) -> str:
        name = self.located.get(obj.locations[0])
        if name is None:
            raise ModelError(f"unnamed shape at {obj.locations}")
        self.add(obj, name, None)
        return name

    def tag(self, name: str, tag: str, where: str) -> None:
        struct = self.structs.setdefault(
            name, StructDef(name, self.naming.descriptions.get(name, ""))
        )
        if struct.tag not in (None, tag):
            raise ModelError(f"{where}: {name} tagged both {struct.tag!r} and {tag!r}")
        struct.tag = tag

    def add(self, obj: Obj, name: str, tag: str | None) -> None:
        struct = self.structs.setdefault(
            name, StructDef(name, self.naming.descriptions.get(name, ""))
        )
        if tag is not None:
            self.tag(name, tag, obj.locations[0])
        struct.locations.extend(loc for loc in obj.locations if loc not in struct.locations)
        fields = dict(obj.fields)
        if _is_page(obj):
            results = fields.pop("results")
            for key in PAGE_KEYS - {"results"}:
                fields.pop(key)
            assert isinstance(results, Arr)
            item = self.expr(results.item, f"{obj.locations[0]}.results[]")
            struct.page_item = (
                item if struct.page_item is None else _merge_expr(struct.page_item, item, name)
            )
        seen_before = bool(struct.fields) or len(struct.locations) > len(obj.locations)
        for wire, node in fields.items():
            expr = self.expr(node, f"{obj.locations[0]}.{wire}")
            required = wire == IDENTITY and wire in obj.always and expr != ("prim", "null")
            existing = struct.fields.get(wire)
            if existing is None:
                struct.fields[wire] = StructField(
                    _python_name(wire), wire, expr, required and not seen_before
                )
            else:
                where = f"{name}.{wire} (at {obj.locations[0]}.{wire})"
                existing.type = _merge_expr(existing.type, expr, where)
                existing.required = existing.required and required
        for wire, existing in struct.fields.items():
            if wire not in fields:
                existing.required = False


def _iter_unions(node: Node) -> Iterator[Union]:
    if isinstance(node, Union):
        yield node
        for obj in node.seen.values():
            yield from _iter_unions(obj)
    elif isinstance(node, Obj):
        for child in node.fields.values():
            yield from _iter_unions(child)
    elif isinstance(node, Arr):
        yield from _iter_unions(node.item)
    elif isinstance(node, MapOf):
        yield from _iter_unions(node.value)


def build_models(
    inferred: Inferred,
    naming: Naming,
    located: dict[str, str] | None = None,
    added: dict[str, dict[str, str]] | None = None,
    optional_ids: frozenset[str] = frozenset(),
    secrets: Mapping[str, frozenset[str]] | None = None,
) -> Model:
    """Name and merge every shape; fail listing each shape the naming map does not name.

    `located`: more location -> name entries (the overrides' refs); `added`: the overrides'
    fields (location -> {key: kind}), refused once real data shows them; `optional_ids`: the
    structs whose `id` is optional too (TMDB sends it null); `secrets`: struct -> the fields
    its repr masks."""
    builder = _Builder(naming, located or {})
    spec, roots = (
        {op_id: root for op_id, root in tree.items() if not naming.operations[op_id].response}
        for tree in (inferred.spec, inferred.learned)
    )
    builder.name_groups(spec, roots)
    if builder.unnamed:
        lines = [f"  {locs[0]}  (also {len(locs) - 1} more)" for locs in builder.unnamed.values()]
        raise ModelError(
            "shapes without a name in codegen/naming.toml (add each location under a"
            " [structs.Name] `at` list):\n" + "\n".join(sorted(lines))
        )
    responses: dict[str, TypeExpr] = {}
    for op_id, entry in naming.operations.items():
        root = roots.get(op_id)
        if root is not None:
            responses[op_id] = builder.expr(root, op_id)
        elif entry.response is not None:
            responses[op_id] = _parse_override(entry.response)
    for op_id, entry in naming.operations.items():
        if not entry.append:
            continue
        expr = responses[op_id]
        assert expr[0] == "ref"
        details = builder.structs[str(expr[1])]
        for part, part_op in entry.append.items():
            part_type = responses[part_op]
            if part_type[0] == "ref":
                builder.structs[str(part_type[1])].appendable = True
            if "{" in part:
                # `season/{season_number}`: TMDB answers under `season/1`, `season/2`...; the
                # transport gathers them into one int-keyed field (see templated_field()).
                field_name = templated_field(part)
                details.fields[field_name] = StructField(
                    field_name, field_name, ("intmap", part_type), False
                )
            else:
                details.fields[part] = StructField(_python_name(part), part, part_type, False)
    shown = [
        f"{loc}.{key}"
        for loc, keys in (added or {}).items()
        for key in keys
        if any(
            f"{seen}.{key}" in inferred.keys_seen
            for seen in builder.structs[builder.located[loc]].locations
        )
    ]
    if shown:
        raise ModelError(f"real data now shows these; drop them from overrides.toml: {shown}")
    unknown = optional_ids - builder.structs.keys()
    if unknown:
        raise ModelError(f"overrides.toml [optional_id] names no struct: {sorted(unknown)}")
    for name, fields in (secrets or {}).items():
        struct = builder.structs.get(name)
        names = {f.name for f in struct.fields.values()} if struct is not None else set()
        if struct is None or not fields <= names:
            missing = sorted(fields - names) if struct is not None else name
            raise ModelError(f"overrides.toml [secret] names no such struct or field: {missing}")
        struct.secrets = fields
    for name, struct in builder.structs.items():
        if (struct.appendable or name in optional_ids) and IDENTITY in struct.fields:
            struct.fields[IDENTITY].required = False
        if struct.tag is not None:
            struct.fields.pop("media_type", None)
    return Model(dict(sorted(builder.structs.items())), responses)


def templated_field(part: str) -> str:
    """The field gathering a templated part: `season/{season_number}` -> `appended_seasons`."""
    return f"appended_{part.split('/')[0]}s"


def _parse_override(text: str) -> TypeExpr:
    if text.startswith("Page[") and text.endswith("]"):
        return ("page", ("ref", text[5:-1]))
    return ("ref", text)
