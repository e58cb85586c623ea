"""Keys TMDB sends that no model holds: found by walking a body against its model's shape.

msgspec ignores unknown fields without a word (so new TMDB fields never break decoding), and
that is also how they would go unseen. `unknown_keys` reads a body as generic JSON and walks
it beside the model's type (through `msgspec.inspect`, compiled once per type into a small
tree of the places where Structs are), naming every object key that the Struct at that place
does not declare, with the Struct's name and a JSON path whose list items are `[*]` and map
values `.*`: `("CastMember", "$.credits.cast[*].pronouns")`.

This module is pure. The pipeline's decoding stage decides which bodies to check (a sample of
those fresh from the network: `DriftWatch`), and `python -m codegen learn` uses the same walk
to pick the bodies worth adding to the corpus.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import msgspec.inspect as mi

from ._operation import AppendTemplate

__all__ = ["MAX_UNKNOWN_PER_BODY", "UnknownKey", "unknown_keys"]

MAX_UNKNOWN_PER_BODY: Final = 64
"""Distinct unknown keys named per body (a body full of them is one finding, not a flood)."""


@dataclass(frozen=True, slots=True)
class UnknownKey:
    """A key of TMDB's body that the model at its place does not declare."""

    model: str
    """The Struct that lacks it: `MovieDetails`."""
    path: str
    """Where it is, list items as `[*]` and map values as `.*`: `$.results[*].video`."""


@dataclass(eq=False)
class _Struct:
    """A Struct type: its name, its tag when tagged, and the shape below each field."""

    name: str
    tag: Any = None
    fields: dict[str, _Shape] = field(default_factory=dict)
    """Every field's JSON name (and the tag field's, for a tagged Struct); the shape of its
    value, or None when nothing below it can hold a Struct (scalars, `dict[str, Any]`...)."""


@dataclass(eq=False)
class _Items:
    """A list (or tuple, set): every item has `shape`."""

    shape: _Shape


@dataclass(eq=False)
class _Values:
    """A map: every value has `shape`."""

    shape: _Shape


@dataclass(eq=False)
class _Either:
    """A union holding at least one Struct, list or map with Structs below."""

    structs: list[_Struct]
    tag_field: str | None
    items: _Items | None
    values: _Values | None


_Shape = _Struct | _Items | _Values | _Either | None

_shapes: dict[Any, _Shape] = {}


def _compile(info: mi.Type, seen: dict[type, _Struct]) -> _Shape:
    """The shape of a msgspec type, None where no Struct can be below."""
    if isinstance(info, mi.StructType):
        known = seen.get(info.cls)
        if known is not None:
            return known  # a recursive model: the same node
        node = seen[info.cls] = _Struct(info.cls.__name__, info.tag)
        node.fields = {f.encode_name: _compile(f.type, seen) for f in info.fields}
        if info.tag_field is not None:
            node.fields[info.tag_field] = None
        return node
    if isinstance(info, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
        inner = _compile(info.item_type, seen)
        return None if inner is None else _Items(inner)
    if isinstance(info, mi.DictType):
        inner = _compile(info.value_type, seen)
        return None if inner is None else _Values(inner)
    if isinstance(info, mi.UnionType):
        members = [_compile(member, seen) for member in info.types]
        structs = [m for m in members if isinstance(m, _Struct)]
        items = next((m for m in members if isinstance(m, _Items)), None)
        values = next((m for m in members if isinstance(m, _Values)), None)
        if not structs and items is None and values is None:
            return None
        if len(structs) == 1 and items is None and values is None:
            return structs[0]
        tagged = [m for m in info.types if isinstance(m, mi.StructType) and m.tag_field]
        tag_field = tagged[0].tag_field if tagged else None
        return _Either(structs, tag_field, items, values)
    return None


def _shape_of(type_: Any) -> _Shape:
    shape = _shapes.get(type_, _shapes)
    if shape is _shapes:
        shape = _shapes[type_] = _compile(mi.type_info(type_), {})
    return shape  # type: ignore[return-value]  # the sentinel is never returned


def _struct_for(either: _Either, node: dict[str, Any]) -> _Struct | None:
    if either.tag_field is None:
        return either.structs[0] if either.structs else None
    tag = node.get(either.tag_field)
    return next((s for s in either.structs if s.tag == tag), None)  # unknown: UnknownMedia


class _Walk:
    """One body's walk: the unknown keys found, at most MAX_UNKNOWN_PER_BODY."""

    def __init__(self) -> None:
        self.found: dict[UnknownKey, None] = {}

    def node(self, value: Any, shape: _Shape, path: str) -> None:
        if shape is None or value is None:
            return
        if isinstance(shape, _Either):
            if isinstance(value, dict):
                struct = _struct_for(shape, value)
                self.node(value, struct if struct is not None else shape.values, path)
            elif isinstance(value, list):
                self.node(value, shape.items, path)
        elif isinstance(shape, _Struct):
            if isinstance(value, dict):
                self.struct(value, shape, path)
        elif isinstance(shape, _Items):
            if isinstance(value, list):
                inner, below = shape.shape, f"{path}[*]"
                for item in value:
                    self.node(item, inner, below)
        elif isinstance(value, dict):
            inner, below = shape.shape, f"{path}.*"
            for item in value.values():
                self.node(item, inner, below)

    def struct(
        self, value: dict[str, Any], shape: _Struct, path: str, skip: frozenset[str] = frozenset()
    ) -> None:
        fields = shape.fields
        for key, item in value.items():
            if key in fields:
                below = fields[key]
                if below is not None and item is not None:
                    self.node(item, below, f"{path}.{key}")
            elif key not in skip and len(self.found) < MAX_UNKNOWN_PER_BODY:
                self.found[UnknownKey(shape.name, f"{path}.{key}")] = None


def unknown_keys(
    document: Any, type_: Any, templates: Sequence[AppendTemplate] = ()
) -> list[UnknownKey]:
    """Every key of `document` (a body read as generic JSON) that the model does not declare.

    Each is named once per body (a page whose 20 items carry it gives one `UnknownKey`), in
    the order met, at most MAX_UNKNOWN_PER_BODY. Numbered appended parts (`season/3`, see
    `AppendTemplate`) are walked as their item type, under `$.season/{season_number}`.
    """
    shape = _shape_of(type_)
    walk = _Walk()
    if isinstance(shape, _Struct) and templates and isinstance(document, dict):
        numbered = dict(_numbered(document, templates))
        walk.struct(document, shape, "$", frozenset(numbered))
        for key, (template, pattern) in numbered.items():
            walk.node(document[key], _shape_of(template.item_type), f"$.{pattern}")
    else:
        walk.node(document, shape, "$")
    return list(walk.found)


def _numbered(
    document: dict[str, Any], templates: Iterable[AppendTemplate]
) -> Iterable[tuple[str, tuple[AppendTemplate, str]]]:
    """The keys of `document` that are numbered parts (`season/3`), with their template."""
    for template in templates:
        prefix = template.pattern.split("{", 1)[0]
        for key in document:
            if key.startswith(prefix) and key[len(prefix) :].isdigit():
                yield key, (template, template.pattern)
