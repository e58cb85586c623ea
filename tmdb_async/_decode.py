"""Decode response bytes into Structs: strict and fast first, tolerant on failure.

1. Strict: one cached `msgspec.json.Decoder` per type. A body that fits costs nothing more.
2. Lax: the same type with `strict=False`, which turns `720.0` into `720` and `"1.5"` into
   `1.5` (msgspec's own coercions); nothing is lost.
3. Repair: the body as generic JSON, converted again after each problem msgspec reports. An
   unknown `media_type` in a mixed list becomes the `UnknownMedia` variant (tag `"unknown"`,
   `raw_media_type`, the original item as `data`); any other value that does not fit is
   removed (its field goes back to its default; when the field is required, the enclosing
   list item or map entry goes), and each removal is returned as a `Dropped` with its JSON
   path in the body TMDB sent. A tagged item without its tag takes its parent's `media_type`
   (older tagged images tag the image, not its `media`).

Only a body that is not JSON, or whose top level does not fit, raises `DecodeError` (with the
JSON path and the redacted URL). This module is pure: reporting drops (log, stats) is the
caller's job; `decode()` keeps the old one-value signature and logs them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec

from ._constants import LOGGER_NAME
from ._errors import DecodeError
from ._operation import AppendTemplate

__all__ = [
    "UNKNOWN_TAG",
    "Dropped",
    "decode",
    "decode_tolerant",
    "decoder_for",
    "gather_templated_parts",
    "gather_templated_parts_tolerant",
    "json_path",
]

T = TypeVar("T")

TAG_FIELD = "media_type"
UNKNOWN_TAG = "unknown"

logger = logging.getLogger(LOGGER_NAME)

_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}
_lax_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}

_PATH = re.compile(r" - at `(\$[^`]*)`$")
_EXPECTED = re.compile(r"^Expected `(?P<expected>[^`]+)`, got `(?P<got>[^`]+)`")
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`")
_INVALID = re.compile(r"^Invalid value (?P<value>.*)$")
_TOKEN = re.compile(r"\.(?P<key>[^.\[]+)|\[(?P<index>\d+)\]|\[(?P<any>\.\.\.)\]")

_JSON_KINDS: dict[str, Any] = {
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "null": None,
    "array": list,
    "object": dict,
}

Token = str | int | None
"""A step of a JSON path: a key, a list index, or None for "some value of this map"."""


@dataclass(frozen=True, slots=True)
class Dropped:
    """A value of TMDB's body that did not fit the model and was left out of the result."""

    path: str
    """Where the value was, in the body as sent: `$.results[3].vote_count`."""
    expected: str
    """What the model expects there: `int`, `array`, `object with field id`..."""
    got: str
    """The JSON type TMDB sent: `str`, `object`, `float`, `media_type 'podcast'`..."""
    removed: str
    """What the result lacks: `path` itself (its field is at its default), or the enclosing
    list item or map entry when the value was required."""

    def __str__(self) -> str:
        where = self.path if self.removed == self.path else f"{self.removed} (at {self.path})"
        return f"{where}: expected {self.expected}, got {self.got}"


def decoder_for(type_: type[T]) -> msgspec.json.Decoder[T]:
    """Return the cached JSON decoder of `type_` (generic aliases such as `Page[X]` included)."""
    decoder = _decoders.get(type_)
    if decoder is None:
        decoder = _decoders[type_] = msgspec.json.Decoder(type_)
    return decoder


def _lax_decoder_for(type_: type[T]) -> msgspec.json.Decoder[T]:
    decoder = _lax_decoders.get(type_)
    if decoder is None:
        decoder = _lax_decoders[type_] = msgspec.json.Decoder(type_, strict=False)
    return decoder


def json_path(message: str) -> str | None:
    """Extract the JSON path (`$.results[0].id`) from a msgspec error message."""
    match = _PATH.search(message)
    return match[1] if match else None


def _tokens(path: str) -> list[Token] | None:
    """Split `$.a[0][...]` into `["a", 0, None]`; None if unparsable."""
    tokens: list[Token] = []
    position = 1
    while position < len(path):
        match = _TOKEN.match(path, position)
        if match is None:
            return None
        if match["key"] is not None:
            tokens.append(match["key"])
        elif match["index"] is not None:
            tokens.append(int(match["index"]))
        else:
            tokens.append(None)
        position = match.end()
    return tokens


def _kind(value: Any) -> str:
    """The JSON type of a decoded value, in msgspec's words."""
    if value is None:
        return "null"
    for name, python in _JSON_KINDS.items():
        if python is not None and type(value) is python:
            return name
    return type(value).__name__


def _fits(value: Any, expected: str) -> bool:
    """Whether `value` converts (laxly) to msgspec's `expected` text, e.g. `int | null`."""
    types = []
    for name in expected.split(" | "):
        if name not in _JSON_KINDS:
            return False  # a Struct, a constrained type...: cannot tell, so it may be the culprit
        types.append(_JSON_KINDS[name])
    target: Any = types[0] if len(types) == 1 else _union(types)
    try:
        msgspec.convert(value, target, strict=False)
    except msgspec.ValidationError:
        return False
    return True


def _union(types: list[Any]) -> Any:
    union = types[0]
    for member in types[1:]:
        union = union | member
    return union


class _Problem:
    """One error msgspec reported, parsed: where, what it wanted, and what it got."""

    def __init__(self, message: str) -> None:
        path = json_path(message)
        self.path = path or "$"
        self.tokens = _tokens(path) if path else []
        text = message[: -len(f" - at `{path}`")] if path else message
        self.expected, self.got = "a valid value", "an invalid value"
        self.missing: str | None = None
        self.invalid: str | None = None
        if match := _EXPECTED.match(text):
            self.expected, self.got = match["expected"], match["got"]
        elif match := _MISSING.match(text):
            self.missing = match["field"]
            self.expected, self.got = f"object with field {self.missing}", "object"
        elif match := _INVALID.match(text):
            self.invalid = match["value"]
            self.expected, self.got = "a known value", f"value {self.invalid}"

    def culprit(self, value: Any) -> bool:
        """Whether `value` is one msgspec would complain about (to resolve `[...]` in paths)."""
        if self.missing is not None:
            return isinstance(value, dict) and self.missing not in value
        if self.invalid is not None:
            return repr(value) == self.invalid or f"'{value}'" == self.invalid
        if self.got in _JSON_KINDS:
            return _kind(value) == self.got and not _fits(value, self.expected)
        return True

    @property
    def unknown_tag(self) -> str | None:
        """The unknown `media_type` value this error is about, if that is what it is."""
        if self.invalid is None or not self.tokens or self.tokens[-1] != TAG_FIELD:
            return None
        return self.invalid[1:-1] if self.invalid[:1] == "'" else None


class _Unfixable(Exception):
    """The problem is the body's top level: nothing is left to decode."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class _Repair:
    """A mutable copy of the body, the removals made so far and the original list indices."""

    def __init__(self, document: Any) -> None:
        self.document = document
        self.drops: list[Dropped] = []
        self._origins: dict[int, list[int]] = {}  # id(list) -> original index of each item

    def fix(self, problem: _Problem) -> None:
        """Remove (or wrap) what `problem` is about; raise _Unfixable if that is the body."""
        if problem.tokens is None or (trail := self._locate(problem)) is None:
            raise _Unfixable(problem.path)
        tag = problem.unknown_tag
        if tag is not None and tag != UNKNOWN_TAG:
            self._wrap_unknown(trail[:-1], tag)
            return
        if problem.missing == TAG_FIELD and self._tag_from_parent(trail):
            return
        if tag == UNKNOWN_TAG:  # a mixed list without UnknownMedia: the item itself must go
            trail = trail[:-1]
            item = self._at(trail)
            original = item.get("data") if "raw_media_type" in item else item
            problem.expected = "a known media_type"
            problem.got = f"media_type {original.get(TAG_FIELD)!r}"
            self._set(trail, original)
        removed = self._original_path(trail)
        cause = self.drops[-1] if self.drops else None
        if (
            problem.missing is not None
            and cause
            and cause.removed == f"{removed}.{problem.missing}"
        ):
            # We removed that required field ourselves: its object goes with it.
            self.drops[-1] = Dropped(cause.path, cause.expected, cause.got, removed)
        else:
            self.drops.append(Dropped(removed, problem.expected, problem.got, removed))
        if not trail:
            raise _Unfixable(self.drops[-1].path)
        container, last = self._at(trail[:-1]), trail[-1]
        if isinstance(last, int):
            origins = self._origins.setdefault(id(container), list(range(len(container))))
            del origins[last]
        del container[last]

    def _locate(self, problem: _Problem) -> list[Token] | None:
        """The concrete path (no `[...]`) of the value msgspec complained about."""
        tokens = problem.tokens
        assert tokens is not None

        def walk(node: Any, at: int, trail: list[Token]) -> list[Token] | None:
            if at == len(tokens):
                return trail if problem.culprit(node) else None
            token = tokens[at]
            if token is None:  # some value of a map: find the one that fails
                children = node.items() if isinstance(node, dict) else ()
                for key, child in children:
                    if (found := walk(child, at + 1, [*trail, key])) is not None:
                        return found
                return None
            if isinstance(token, int):
                present = isinstance(node, list) and token < len(node)
            else:
                present = isinstance(node, dict) and token in node
            return walk(node[token], at + 1, [*trail, token]) if present else None

        return walk(self.document, 0, [])

    def _original_path(self, trail: Sequence[Token]) -> str:
        """The JSON path of `trail` in the body as TMDB sent it."""
        parts = ["$"]
        node = self.document
        for token in trail:
            if isinstance(token, int):
                origins = self._origins.get(id(node))
                parts.append(f"[{origins[token] if origins else token}]")
            else:
                parts.append(f".{token}")
            node = node[token]
        return "".join(parts)

    def _at(self, trail: Sequence[Token]) -> Any:
        node = self.document
        for token in trail:
            node = node[token]
        return node

    def _set(self, trail: Sequence[Token], value: Any) -> None:
        if trail:
            self._at(trail[:-1])[trail[-1]] = value
        else:
            self.document = value

    def _tag_from_parent(self, trail: Sequence[Token]) -> bool:
        """Give a tagged item without its tag its parent's (older tagged images: the image
        says `media_type`, its `media` does not), and so for the same field of its siblings."""
        if not trail or not isinstance(trail[-1], str):
            return False
        field, parent_trail = trail[-1], trail[:-1]
        holder = self._at(parent_trail[:-1]) if parent_trail else None
        parents = holder if isinstance(holder, list) else [self._at(parent_trail)]
        changed = False
        for parent in parents:
            child = parent.get(field) if isinstance(parent, dict) else None
            tag = parent.get(TAG_FIELD) if isinstance(parent, dict) else None
            if isinstance(child, dict) and TAG_FIELD not in child and isinstance(tag, str):
                child[TAG_FIELD] = tag
                changed = True
        return changed

    def _wrap_unknown(self, trail: Sequence[Token], tag: str) -> None:
        """Make the item at `trail` (and its list siblings with the same tag) UnknownMedia."""
        container = self._at(trail[:-1]) if trail else None
        if isinstance(container, list):
            siblings = [[*trail[:-1], i] for i in range(len(container))]
        else:
            siblings = [list(trail)]
        for sibling in siblings:
            item = self._at(sibling)
            if isinstance(item, dict) and item.get(TAG_FIELD) == tag:
                wrapped = {TAG_FIELD: UNKNOWN_TAG, "raw_media_type": tag, "data": item}
                if isinstance(item.get("id"), (int, str)):
                    wrapped["id"] = item["id"]
                self._set(sibling, wrapped)


def _error(
    err: msgspec.DecodeError, url: str | None, method: str | None, path: str | None = None
) -> DecodeError:
    # msgspec.ValidationError subclasses msgspec.DecodeError: test the specific one.
    invalid = isinstance(err, msgspec.ValidationError)
    problem = "does not fit the model" if invalid else "is not valid JSON"
    where = f" of {method} {url}" if method and url else f" of {url}" if url else ""
    return DecodeError(
        f"response body{where} {problem}: {err}",
        json_path=path or json_path(str(err)) or ("$" if invalid else None),
        url=url,
        method=method,
    )


def decode_tolerant(
    body: bytes, type_: type[T], *, url: str | None = None, method: str | None = None
) -> tuple[T, tuple[Dropped, ...]]:
    """Decode `body` into `type_`, leaving out what does not fit; return what was left out.

    Raises DecodeError (JSON path, redacted `url`) when `body` is not JSON or its top level
    does not fit `type_`.
    """
    try:
        return decoder_for(type_).decode(body), ()
    except msgspec.ValidationError:
        pass
    except msgspec.DecodeError as err:
        raise _error(err, url, method) from err
    try:
        return _lax_decoder_for(type_).decode(body), ()
    except msgspec.ValidationError as err:
        first = err
    repair = _Repair(msgspec.json.decode(body))
    error = first
    while True:
        try:
            repair.fix(_Problem(str(error)))
        except _Unfixable as fatal:
            raise _error(error, url, method, fatal.path) from first
        try:
            return msgspec.convert(repair.document, type_, strict=False), tuple(repair.drops)
        except msgspec.ValidationError as err:
            error = err


def _log(drops: Sequence[Dropped], url: str | None, method: str | None) -> None:
    for drop in drops:
        logger.warning("%s %s: dropped %s", method or "GET", url or "?", drop)


def decode(body: bytes, type_: type[T], *, url: str | None = None, method: str | None = None) -> T:
    """`decode_tolerant()` for callers that want the value only: drops are logged."""
    value, drops = decode_tolerant(body, type_, url=url, method=method)
    _log(drops, url, method)
    return value


def gather_templated_parts_tolerant(
    result: T,
    body: bytes,
    templates: Sequence[AppendTemplate],
    requested: str | None,
    *,
    url: str | None = None,
    method: str | None = None,
) -> tuple[T, tuple[Dropped, ...]]:
    """Fill each template's field from the numbered parts asked for (`season/1,season/3`).

    TMDB answers `season/N` under its own key, which no Struct field can name in advance;
    only requests that asked for such parts pay for this second look at the body. Drops
    inside a part carry the part's key in their paths (`$.season/1.episodes[2]`).
    """
    wanted: dict[AppendTemplate, list[tuple[int, str]]] = {}
    for template in templates:
        prefix = template.pattern.split("{", 1)[0]
        for part in (requested or "").split(","):
            suffix = part[len(prefix) :]
            if part.startswith(prefix) and suffix.isdigit():
                wanted.setdefault(template, []).append((int(suffix), part))
    if not wanted:
        return result, ()
    raw = decode(body, dict[str, msgspec.Raw], url=url, method=method)
    all_drops: list[Dropped] = []
    updates: dict[str, dict[int, Any]] = {}
    for template, parts in wanted.items():
        values = updates[template.field] = {}
        for number, key in parts:
            if key not in raw:
                continue
            values[number], part_drops = decode_tolerant(
                raw[key], template.item_type, url=url, method=method
            )
            all_drops += [
                Dropped(f"$.{key}{d.path[1:]}", d.expected, d.got, f"$.{key}{d.removed[1:]}")
                for d in part_drops
            ]
    replaced: T = msgspec.structs.replace(result, **updates)  # type: ignore[type-var]
    return replaced, tuple(all_drops)


def gather_templated_parts(
    result: T,
    body: bytes,
    templates: Sequence[AppendTemplate],
    requested: str | None,
    *,
    url: str | None = None,
    method: str | None = None,
) -> T:
    """`gather_templated_parts_tolerant()` for callers that want the value only (logs drops)."""
    value, drops = gather_templated_parts_tolerant(
        result, body, templates, requested, url=url, method=method
    )
    _log(drops, url, method)
    return value
