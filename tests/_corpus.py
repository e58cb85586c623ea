"""The corpus of real TMDB responses (`tests/corpus/`) for tests: the samples, their bytes,
and an audit of what a decoded model kept of a body after `msgspec.to_builtins`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import msgspec

from codegen.corpus import CORPUS_DIR, Sample, load_samples

__all__ = ["SAMPLES", "Kept", "audit", "raw_body"]

SAMPLES: list[Sample] = load_samples()
_TEMPLATED = re.compile(r"^(?P<prefix>\w+)/(?P<number>\d+)$")


def raw_body(sample: Sample) -> bytes:
    """The response body exactly as recorded."""
    return (CORPUS_DIR / "responses" / sample.file).read_bytes()


@dataclass
class Kept:
    """What re-encoding a model (`msgspec.to_builtins`) kept of the body it was decoded from."""

    lost: list[str] = field(default_factory=list)
    """Keys or values of the body that are missing or changed: data lost."""
    nulls: list[str] = field(default_factory=list)
    """Keys that were null in the body and are left out (fine)."""
    defaults: list[str] = field(default_factory=list)
    """Keys whose value is the field's default, left out by `omit_defaults` (fine)."""
    coerced: list[str] = field(default_factory=list)
    """Values the lax path converted (`"7.5"` -> 7.5, `720.0` -> 720): kept, in another type."""


def audit(body: Any, value: Any) -> Kept:
    """Compare a body (parsed JSON) with the model decoded from it, key by key."""
    kept = Kept()
    _walk(body, value, msgspec.to_builtins(value), "$", kept)
    return kept


def _walk(original: Any, value: Any, encoded: Any, path: str, kept: Kept) -> None:
    if original is None:
        return
    if isinstance(value, msgspec.Struct) and type(value).__name__ == "UnknownMedia":
        _walk(original, value.data, encoded["data"], path, kept)  # type: ignore[attr-defined]
    elif isinstance(value, msgspec.Struct):
        _struct(original, value, encoded, path, kept)
    elif isinstance(original, list):
        if not isinstance(encoded, list) or len(encoded) != len(original):
            size = len(encoded) if isinstance(encoded, list) else type(encoded).__name__
            kept.lost.append(f"{path}: a list of {len(original)} became {size}")
            return
        for index, item in enumerate(original):
            _walk(item, value[index], encoded[index], f"{path}[{index}]", kept)
    elif isinstance(original, dict):
        if not isinstance(encoded, dict):
            kept.lost.append(f"{path}: an object became {type(encoded).__name__}")
            return
        for key, item in original.items():
            if key in encoded:
                _walk(item, value[key], encoded[key], f"{path}.{key}", kept)
            else:
                (kept.nulls if item is None else kept.lost).append(f"{path}.{key}")
    elif type(original) is not type(encoded) or original != encoded:
        same = original == encoded and isinstance(original, bool) == isinstance(encoded, bool)
        if same or (isinstance(original, str) and _number(original) == encoded):
            kept.coerced.append(f"{path}: {original!r} -> {encoded!r}")  # 120.0 -> 120
        else:
            kept.lost.append(f"{path}: {original!r} became {encoded!r}")


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _struct(original: Any, value: msgspec.Struct, encoded: Any, path: str, kept: Kept) -> None:
    if not isinstance(original, dict):
        kept.lost.append(f"{path}: {type(original).__name__} became {type(value).__name__}")
        return
    fields = {f.encode_name: f for f in msgspec.structs.fields(value)}
    for key, item in original.items():
        where = f"{path}.{key}"
        info = fields.get(key)
        if key in encoded:  # a field, or the tag of a tagged Struct
            attr = getattr(value, info.name) if info else encoded[key]
            _walk(item, attr, encoded[key], where, kept)
        elif info is not None and item is not None:
            default = info.default_factory() if info.default is msgspec.NODEFAULT else info.default
            if getattr(value, info.name) == default and item == msgspec.to_builtins(default):
                kept.defaults.append(where)
            else:
                kept.lost.append(where)
        elif (match := _TEMPLATED.match(key)) and f"appended_{match['prefix']}s" in encoded:
            # `season/3` is gathered into `appended_seasons[3]`.
            gathered = f"appended_{match['prefix']}s"
            number = int(match["number"])
            part = getattr(value, gathered)[number]
            _walk(item, part, encoded[gathered][number], where, kept)
        else:
            (kept.nulls if item is None else kept.lost).append(where)
