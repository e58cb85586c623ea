"""Every spec example decodes into its operation's type, with unknown fields forbidden,
and encoding the result back keeps every key and value of the example."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from tests._examples import example, example_bytes
from tmdb_async import ENDPOINTS

_STRICT: dict[Any, Any] = {}


def strict(tp: Any) -> Any:
    """Rebuild a type with `forbid_unknown_fields=True` on every Struct inside it."""
    return _convert(msgspec.inspect.type_info(tp))


def _convert(info: msgspec.inspect.Type) -> Any:
    if isinstance(info, msgspec.inspect.StructType):
        key = (info.cls, tuple(f.name for f in info.fields), repr([f.type for f in info.fields]))
        if key not in _STRICT:
            config = getattr(info.cls, "__origin__", info.cls).__struct_config__
            _STRICT[key] = None  # placeholder against recursion
            fields = [(f.name, _convert(f.type), _field(f)) for f in info.fields]
            _STRICT[key] = msgspec.defstruct(
                getattr(info.cls, "__name__", "Page"),
                fields,
                kw_only=True,
                tag=config.tag,
                tag_field=config.tag_field,
                forbid_unknown_fields=True,
            )
        return _STRICT[key]
    if isinstance(info, msgspec.inspect.ListType):
        return list[_convert(info.item_type)]  # type: ignore[misc]
    if isinstance(info, msgspec.inspect.DictType):
        return dict[_convert(info.key_type), _convert(info.value_type)]  # type: ignore[misc]
    if isinstance(info, msgspec.inspect.UnionType):
        members = tuple(_convert(t) for t in info.types)
        union = members[0]
        for member in members[1:]:
            union = union | member
        return union
    simple = {
        msgspec.inspect.StrType: str,
        msgspec.inspect.IntType: int,
        msgspec.inspect.FloatType: float,
        msgspec.inspect.BoolType: bool,
        msgspec.inspect.NoneType: type(None),
        msgspec.inspect.AnyType: Any,
    }
    return simple[type(info)]


def _field(f: msgspec.inspect.Field) -> Any:
    if f.default_factory is not msgspec.NODEFAULT:
        return msgspec.field(name=f.encode_name, default_factory=f.default_factory)
    if f.default is not msgspec.NODEFAULT:
        return msgspec.field(name=f.encode_name, default=f.default)
    return msgspec.field(name=f.encode_name)


OPERATIONS = {op.operation_id: op for op in ENDPOINTS}


def _lost(original: Any, encoded: Any, path: str = "$") -> list[str]:
    """Keys or values of `original` missing from `encoded` (nulls may become absent)."""
    if original is None:
        return []
    if isinstance(original, dict):
        if not isinstance(encoded, dict):
            return [f"{path}: object became {encoded!r}"]
        lost = []
        for key, value in original.items():
            if key not in encoded:
                if value is not None:
                    lost.append(f"{path}.{key}: dropped")
                continue
            lost += _lost(value, encoded[key], f"{path}.{key}")
        return lost
    if isinstance(original, list):
        if not isinstance(encoded, list) or len(encoded) != len(original):
            return [f"{path}: list changed"]
        return [
            x
            for i, (a, b) in enumerate(zip(original, encoded, strict=True))
            for x in _lost(a, b, f"{path}[{i}]")
        ]
    if original != encoded:
        return [f"{path}: {original!r} became {encoded!r}"]
    return []


@pytest.mark.parametrize("op_id", sorted(OPERATIONS))
def test_example_decodes_strictly_and_round_trips(op_id: str) -> None:
    operation = OPERATIONS[op_id]
    body = example_bytes(op_id)
    if op_id == "movie-recommendations":
        # TMDB's example for this operation is `{}`; the override types it as a page.
        assert json.loads(body) == {}
    msgspec.json.decode(body, type=strict(operation.response_type))
    decoded = msgspec.json.decode(body, type=operation.response_type)
    encoded = json.loads(msgspec.json.encode(decoded))
    assert _lost(example(op_id), encoded) == []


def test_strict_decoder_really_forbids_unknown_fields() -> None:
    body = example_bytes("movie-details").rstrip()
    with_extra = body[:-1] + b', "brand_new_field": 1}'
    with pytest.raises(msgspec.ValidationError, match="brand_new_field"):
        msgspec.json.decode(with_extra, type=strict(OPERATIONS["movie-details"].response_type))
