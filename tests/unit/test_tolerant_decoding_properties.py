"""Tolerant decoding on real bodies (the corpus and the spec's examples), perturbed the ways
TMDB surprises clients: a number sent as a string or as an integral float keeps its value; a
value of the wrong kind (an object or a list where something else belongs) is dropped and
reported while the rest of the response survives; an unknown `media_type` becomes
UnknownMedia."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import msgspec
import msgspec.inspect as mi
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests._corpus import SAMPLES, raw_body
from tests._examples import example_bytes
from tmdb_async import ENDPOINTS
from tmdb_async._decode import TAG_FIELD, UNKNOWN_TAG, Dropped, decode_tolerant

Token = str | int
KINDS: dict[type[mi.Type], str] = {
    mi.IntType: "int",
    mi.FloatType: "float",
    mi.StrType: "str",
    mi.BoolType: "bool",
    mi.NoneType: "null",
    mi.ListType: "array",
    mi.StructType: "object",
    mi.DictType: "object",
}


@dataclass(frozen=True)
class Site:
    """A place of a body whose type the model knows."""

    tokens: tuple[Token, ...]
    accepts: frozenset[str]
    """JSON kinds the model takes there."""
    value: Any
    required: bool
    """The model's field there is required (an identity)."""

    @property
    def path(self) -> str:
        return "$" + "".join(f"[{t}]" if isinstance(t, int) else f".{t}" for t in self.tokens)


@dataclass(frozen=True)
class Case:
    label: str
    type: Any
    body: Any
    sites: tuple[Site, ...]
    tags: tuple[tuple[Token, ...], ...]
    """Items of mixed lists that may become UnknownMedia."""


def _members(info: mi.Type) -> list[mi.Type]:
    return list(info.types) if isinstance(info, mi.UnionType) else [info]


def _pick(info: mi.Type, value: Any) -> mi.Type | None:
    """The member of `info` that decodes `value` (by kind, then by media_type)."""
    candidates = [m for m in _members(info) if KINDS.get(type(m)) == _kind(value)]
    if isinstance(value, dict):
        tagged = [m for m in candidates if isinstance(m, mi.StructType) and m.tag is not None]
        if tagged:
            candidates = [m for m in tagged if m.tag == value.get(m.tag_field or "")]
    return candidates[0] if len(candidates) == 1 else None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    kinds = {int: "int", float: "float", str: "str", list: "array", dict: "object"}
    return "null" if value is None else kinds[type(value)]


def _walk(
    value: Any, info: mi.Type, tokens: tuple[Token, ...], required: bool
) -> Iterator[Site | tuple[Token, ...]]:
    if value is None or any(isinstance(m, mi.AnyType) for m in _members(info)):
        return
    accepts = frozenset(KINDS[type(m)] for m in _members(info))
    member = _pick(info, value)
    if member is None:
        return
    yield Site(tokens, accepts, value, required)
    if isinstance(member, mi.StructType):
        if member.tag is not None and any(
            isinstance(m, mi.StructType) and m.tag == UNKNOWN_TAG for m in _members(info)
        ):
            yield tokens
        fields = {f.encode_name: f for f in member.fields}
        for key, item in value.items():
            if key in fields:
                yield from _walk(item, fields[key].type, (*tokens, key), fields[key].required)
    elif isinstance(member, mi.ListType):
        for index, item in enumerate(value):
            yield from _walk(item, member.item_type, (*tokens, index), False)
    elif isinstance(member, mi.DictType):
        for key, item in value.items():
            yield from _walk(item, member.value_type, (*tokens, key), False)


def _case(label: str, type_: Any, raw: bytes) -> Case:
    body = json.loads(raw)
    found = list(_walk(body, mi.type_info(type_), (), True))
    sites = tuple(s for s in found if isinstance(s, Site) and s.tokens)
    tags = tuple(t for t in found if isinstance(t, tuple))
    return Case(label, type_, body, sites, tags)


@cache
def cases() -> tuple[Case, ...]:
    types = {op.operation_id: op.response_type for op in ENDPOINTS}
    found = [_case(s.file, types[s.operation_id], raw_body(s)) for s in SAMPLES]
    found += [_case(op_id, tp, example_bytes(op_id)) for op_id, tp in types.items()]
    return tuple(c for c in found if c.sites)


def _set(document: Any, tokens: tuple[Token, ...], value: Any) -> Any:
    changed = copy.deepcopy(document)
    node = changed
    for token in tokens[:-1]:
        node = node[token]
    node[tokens[-1]] = value
    return changed


def _remove(document: Any, path: str) -> Any:
    """`document` without the node at `path` (a key or a list item)."""
    tokens = list(_split(path))
    node = document
    for token in tokens[:-1]:
        node = node[token]
    del node[tokens[-1]]
    return document


def _split(path: str) -> Iterator[Token]:
    for part in path[1:].replace("[", ".[").split("."):
        if part:
            yield int(part[1:-1]) if part.startswith("[") else part


def _builtins(case: Case, body: Any) -> tuple[Any, tuple[Dropped, ...]]:
    value, drops = decode_tolerant(msgspec.json.encode(body), case.type)
    return msgspec.to_builtins(value), drops


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _draw(data: st.DataObject, want: Any) -> tuple[Case, Site]:
    case = data.draw(st.sampled_from([c for c in cases() if any(want(s) for s in c.sites)]))
    site = data.draw(st.sampled_from([s for s in case.sites if want(s)]))
    return case, site


def _numeric(site: Site) -> bool:
    return site.accepts - {"null"} in ({"int"}, {"float"}) and _kind(site.value) in (
        "int",
        "float",
    )


@PROPERTY
@given(st.data())
def test_numbers_as_strings_or_integral_floats_keep_their_value(data: st.DataObject) -> None:
    case, site = _draw(data, _numeric)
    sent = data.draw(
        st.sampled_from(
            [repr(site.value), *([float(site.value)] if isinstance(site.value, int) else [])]
        )
    )
    before, _ = _builtins(case, case.body)
    after, drops = _builtins(case, _set(case.body, site.tokens, sent))
    assert drops == ()
    assert after == before


def _surprise(site: Site) -> Any:
    if "array" not in site.accepts:
        return [{"surprise": True}]
    if "object" not in site.accepts:
        return {"surprise": [1]}
    return None


def _replaceable(site: Site) -> bool:
    return _surprise(site) is not None and not (site.required and len(site.tokens) == 1)


@PROPERTY
@given(st.data())
def test_a_value_of_the_wrong_kind_is_dropped_reported_and_the_rest_survives(
    data: st.DataObject,
) -> None:
    case, site = _draw(data, _replaceable)
    after, drops = _builtins(case, _set(case.body, site.tokens, _surprise(site)))
    (drop,) = drops
    assert drop.path == site.path
    assert site.path.startswith(drop.removed)
    if drop.removed != site.path:  # a required field: its object went with it
        assert site.required
    assert drop.got == _kind(_surprise(site))
    assert after == _builtins(case, _remove(copy.deepcopy(case.body), drop.removed))[0]


@PROPERTY
@given(st.data())
def test_an_unknown_media_type_becomes_unknown_media(data: st.DataObject) -> None:
    case = data.draw(st.sampled_from([c for c in cases() if c.tags]))
    tokens = data.draw(st.sampled_from(case.tags))
    raw = data.draw(st.sampled_from(["podcast", "game", "book", "person_v2"]))
    body = _set(case.body, (*tokens, TAG_FIELD), raw)
    before, _ = _builtins(case, case.body)
    after, drops = _builtins(case, body)
    assert drops == ()
    item = body
    for token in tokens:
        item = item[token]
    unknown = {TAG_FIELD: UNKNOWN_TAG, "raw_media_type": raw, "data": item}
    if isinstance(item.get("id"), (int, str)):
        unknown["id"] = item["id"]
    assert after == _set(before, tokens, unknown)
