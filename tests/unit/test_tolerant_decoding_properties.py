"""Tolerant decoding on real bodies (the corpus and the spec's examples), perturbed the ways
TMDB surprises clients: a number sent as a string or as an integral float keeps its value; a
value of the wrong kind (an object or a list where something else belongs) is dropped and
reported while the rest of the response survives; an unknown `media_type` becomes
UnknownMedia."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
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
    at: dict[tuple[Token, ...], Site]
    """Every site by its tokens."""


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
    return Case(label, type_, body, sites, tags, {s.tokens: s for s in sites})


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


def _without(document: Any, regions: list[tuple[Token, ...]]) -> Any:
    """`document` without the nodes at `regions` (keys or list items; later items first)."""
    changed = copy.deepcopy(document)
    for tokens in sorted(regions, key=lambda t: [i if isinstance(i, int) else -1 for i in t])[::-1]:
        node = changed
        for token in tokens[:-1]:
            node = node[token]
        del node[tokens[-1]]
    return changed


def _path(tokens: tuple[Token, ...]) -> str:
    return "$" + "".join(f"[{t}]" if isinstance(t, int) else f".{t}" for t in tokens)


def _decoded(case: Case, body: Any) -> tuple[Any, tuple[Dropped, ...], bool]:
    decoded = decode_tolerant(msgspec.json.encode(body), case.type)
    return msgspec.to_builtins(decoded.value), decoded.drops, decoded.coerced


PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _disjoint(a: tuple[Token, ...], b: tuple[Token, ...]) -> bool:
    """Neither is inside the other (nor the same place)."""
    shorter = min(len(a), len(b))
    return a[:shorter] != b[:shorter]


def _pattern(tokens: tuple[Token, ...]) -> tuple[Token, ...]:
    return tuple("*" if isinstance(t, int) else t for t in tokens)


def _draw_sites(
    data: st.DataObject, want: Callable[[Case, Site], bool], region: Callable[[Case, Site], Any]
) -> tuple[Case, list[Site]]:
    """A case and 2-5 sites of it that `want` accepts, whose `region`s (what the repair
    takes away) do not overlap; two items of one list among them when the case has such."""
    case, sites = data.draw(st.sampled_from(_eligible(want)))
    chosen: list[Site] = []
    groups: dict[tuple[Token, ...], list[Site]] = {}
    for site in sites:
        groups.setdefault(_pattern(site.tokens), []).append(site)
    siblings = [g for g in groups.values() if len(g) >= 2]
    if siblings:
        group = data.draw(st.sampled_from(siblings))
        first = data.draw(st.sampled_from(group))
        rest = [s for s in group if _disjoint(region(case, s), region(case, first))]
        if rest:
            chosen = [first, data.draw(st.sampled_from(rest))]
    wanted = data.draw(st.integers(min_value=2, max_value=5))
    while len(chosen) < wanted:
        free = [
            s for s in sites if all(_disjoint(region(case, s), region(case, c)) for c in chosen)
        ]
        if not free:
            break
        chosen.append(data.draw(st.sampled_from(free)))
    return case, chosen


@cache
def _eligible(want: Callable[[Case, Site], bool]) -> list[tuple[Case, list[Site]]]:
    """The cases with at least two sites `want` accepts, with those sites."""
    found = [(c, [s for s in c.sites if want(c, s)]) for c in cases()]
    return [(c, sites) for c, sites in found if len(sites) >= 2]


def _numeric(case: Case, site: Site) -> bool:
    return site.accepts - {"null"} in ({"int"}, {"float"}) and _kind(site.value) in (
        "int",
        "float",
    )


@PROPERTY
@given(st.data())
def test_numbers_as_strings_or_integral_floats_keep_their_value(data: st.DataObject) -> None:
    case, sites = _draw_sites(data, _numeric, lambda c, s: s.tokens)
    body = case.body
    for site in sites:
        integral = [float(site.value)] if isinstance(site.value, int) else []
        body = _set(body, site.tokens, data.draw(st.sampled_from([repr(site.value), *integral])))
    before, _, _ = _decoded(case, case.body)
    after, drops, coerced = _decoded(case, body)
    assert (after, drops, coerced) == (before, (), True)


def _surprise(site: Site) -> Any:
    if "array" not in site.accepts:
        return [{"surprise": True}]
    if "object" not in site.accepts:
        return {"surprise": [1]}
    return None


def _region(case: Case, site: Site) -> tuple[Token, ...] | None:
    """What the repair removes for a value of the wrong kind at `site`: the value, or, for
    a required field, the enclosing list item or map entry (None: the whole body)."""
    at = case.at
    tokens = site.tokens
    while at[tokens].required:
        tokens = tokens[:-1]
        if tokens not in at:
            return None  # the body itself, or something the walk did not type
    return tokens


def _replaceable(case: Case, site: Site) -> bool:
    # A `media_type` that tags its sibling (a tagged image's `media`) decides that sibling's
    # type: leaving it out is not the oracle here (test_decode covers that field alone).
    return (
        _surprise(site) is not None
        and _region(case, site) is not None
        and not _lends_its_tag(case.body, site.tokens)
    )


def _lends_its_tag(body: Any, tokens: tuple[Token, ...]) -> bool:
    if not tokens or tokens[-1] != TAG_FIELD:
        return False
    parent = body
    for token in tokens[:-1]:
        parent = parent[token]
    return any(isinstance(v, dict) and TAG_FIELD not in v for v in parent.values())


@PROPERTY
@given(st.data())
def test_values_of_the_wrong_kind_are_dropped_reported_and_the_rest_survives(
    data: st.DataObject,
) -> None:
    case, sites = _draw_sites(data, _replaceable, _region)
    body = case.body
    for site in sites:
        body = _set(body, site.tokens, _surprise(site))
    after, drops, _ = _decoded(case, body)
    regions = {site.tokens: _region(case, site) for site in sites}
    expected = sorted(
        (site.path, _kind(_surprise(site)), _path(regions[site.tokens])) for site in sites
    )
    assert sorted((d.path, d.got, d.removed) for d in drops) == expected
    assert len(drops) == len(sites)
    kept, _, _ = _decoded(case, _without(case.body, [r for r in regions.values() if r]))
    assert after == kept


def _tag_sites(data: st.DataObject) -> tuple[Case, list[tuple[Token, ...]]]:
    case = data.draw(st.sampled_from([c for c in cases() if c.tags]))
    chosen = [data.draw(st.sampled_from(case.tags))]
    for _ in range(data.draw(st.integers(min_value=0, max_value=3))):
        free = [t for t in case.tags if all(_disjoint(t, c) for c in chosen)]
        if free:
            chosen.append(data.draw(st.sampled_from(free)))
    return case, chosen


@PROPERTY
@given(st.data())
def test_unknown_media_types_become_unknown_media(data: st.DataObject) -> None:
    case, tagged = _tag_sites(data)
    body = case.body
    sent = {}
    for tokens in tagged:
        sent[tokens] = data.draw(st.sampled_from(["podcast", "game", "unknown", None, 5]))
        body = _set(body, (*tokens, TAG_FIELD), sent[tokens])
    before, _, _ = _decoded(case, case.body)
    after, drops, _ = _decoded(case, body)
    assert drops == ()
    expected = before
    for tokens in tagged:
        item = body
        for token in tokens:
            item = item[token]
        raw = sent[tokens]
        unknown = {
            TAG_FIELD: UNKNOWN_TAG,
            "raw_media_type": raw if isinstance(raw, str) else json.dumps(raw),
            "data": item,
        }
        if isinstance(item.get("id"), (int, str)):
            unknown["id"] = item["id"]
        expected = _set(expected, tokens, unknown)
    assert after == expected
