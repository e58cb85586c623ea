"""Decode response bytes into Structs: strict and fast first, tolerant on failure.

1. Strict: one cached `msgspec.json.Decoder` per type. A body that fits costs nothing more.
2. Lax: the same type with `strict=False` (msgspec's lax mode). It keeps what TMDB meant
   when a number comes as a string (`"720"` -> 720, `"1.5"` -> 1.5) or an integral float
   fills an int field (`720.0` -> 720), but it also changes some values without a word:
   the string `"null"` becomes None, `"true"`/`"false"`/`"1"`/`"0"`/`1`/`0` become bools,
   `"nan"`/`"inf"` strings become floats. A body decoded this way is reported as coerced
   (`Decoded.coerced`), so the caller can count it.
3. Repair: the body as generic JSON, converted again after each problem msgspec reports.
   Every list item or map value at the same place that fails the same way is fixed in the
   same round, so a page of 10,000 items with one bad field costs two conversions, not
   10,000; at most MAX_REPAIR_ROUNDS rounds and MAX_DROPS removals, then DecodeError. An
   unknown `media_type` in a mixed list becomes the `UnknownMedia` variant (`raw_media_type`,
   the original item as `data`); any other value that does not fit is removed (its field
   goes back to its default; when the field is required, the enclosing list item or map
   entry goes), and each removal is returned as a `Dropped` with its JSON path in the body
   TMDB sent. A tagged item without its tag takes its parent's `media_type` (older tagged
   images tag the image, not its `media`).

Only a body that is not JSON, nests too deeply, or whose top level does not fit raises
`DecodeError` (JSON path, redacted URL). This module is pure: it returns what it dropped;
the pipeline's decoding stage reports it (one log line per response, counters in stats).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final, Generic, TypeVar

import msgspec
import msgspec.inspect as mi

from ._errors import DecodeError
from ._operation import AppendTemplate

__all__ = [
    "MAX_DROPS",
    "MAX_REPAIR_ROUNDS",
    "UNKNOWN_TAG",
    "Decoded",
    "Dropped",
    "decode_fallback",
    "decode_tolerant",
    "decoder_for",
    "gather_templated_parts",
    "generic_document",
    "json_path",
    "unreadable",
]

T = TypeVar("T")

TAG_FIELD: Final = "media_type"
UNKNOWN_TAG: Final = "__unknown__"
"""The tag of the generated `UnknownMedia` variant: a value TMDB does not send, so a real
item never decodes as UnknownMedia without going through the repair that fills it."""
MAX_REPAIR_ROUNDS: Final = 100
"""Distinct problems (each a conversion of the whole body) before giving up on a body."""
MAX_DROPS: Final = 10_000
"""Values removed from one body before giving up on it (a long credits list with one bad
field stays well below)."""

_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}
_lax_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}
_generic = msgspec.json.Decoder()
_generic_big_numbers = msgspec.json.Decoder(float_hook=float)
"""For bodies with numbers beyond a double (`1e400`): inf, as Python's json module reads it."""

_PATH = re.compile(r" - at `(\$[^`]*)`$")
_EXPECTED = re.compile(r"^Expected `(?P<expected>[^`]+)`(?:, got `(?P<got>[^`]+)`)?")
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

_SCALARS = frozenset({str, int, float, bool, type(None)})

Token = str | int | None
"""A step of a JSON path: a key, a list index, or None for "some value of this map"."""


class _Wild:
    """A pattern step: every item of a list (`of_list`) or every value of a map."""

    def __init__(self, of_list: bool) -> None:
        self.of_list = of_list


_ANY_ITEM: Final = _Wild(of_list=True)
_ANY_VALUE: Final = _Wild(of_list=False)


@dataclass(frozen=True, slots=True)
class Dropped:
    """A value of TMDB's body that did not fit the model and was left out of the result."""

    path: str
    """Where the value was, in the body as sent: `$.results[3].vote_count`."""
    expected: str
    """What the model expects there: `int`, `array`, `object with field id`..."""
    got: str
    """What TMDB sent: `str`, `object`, `float`, `media_type 'podcast'`..."""
    removed: str
    """What the result lacks: `path` itself (its field is at its default), or the enclosing
    list item or map entry when the value was required."""

    def __str__(self) -> str:
        where = self.path if self.removed == self.path else f"{self.removed} (at {self.path})"
        return f"{where}: expected {self.expected}, got {self.got}"


class Decoded(msgspec.Struct, Generic[T], frozen=True, gc=False):
    """A tolerant decode's outcome: the value, what was left out, whether lax rules applied.

    (A Struct, not a dataclass: on the strict path it is made for every body, and a frozen
    dataclass costs a microsecond to make.)"""

    value: T
    drops: tuple[Dropped, ...] = ()
    coerced: bool = False
    """What is kept fit the model only with msgspec's lax coercions."""


def decoder_for(type_: type[T]) -> msgspec.json.Decoder[T]:
    """Return the cached JSON decoder of `type_` (generic aliases such as `Page[X]` included)."""
    decoder = _decoders.get(type_)
    if decoder is None:
        decoder = _decoders[type_] = msgspec.json.Decoder(type_)
    return decoder


def generic_document(body: bytes | memoryview) -> Any:
    """`body` as generic JSON: dicts, lists and scalars (a number beyond a double is inf)."""
    try:
        return _generic.decode(body)
    except msgspec.ValidationError:
        return _generic_big_numbers.decode(body)


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


def _json_text(value: Any) -> str:
    return msgspec.json.encode(value).decode()


@lru_cache(maxsize=256)
def _target(expected: str) -> Any:
    """The Python type of msgspec's `expected` text (`int | null`), or None if it names
    something else (a constrained type...)."""
    types = []
    for name in expected.split(" | "):
        if name not in _JSON_KINDS:
            return None
        types.append(_JSON_KINDS[name])
    union = types[0]
    for member in types[1:]:
        union = union | member
    return union


def _fits(value: Any, target: Any) -> bool:
    """Whether `value` converts (laxly) to `target`."""
    try:
        msgspec.convert(value, target, strict=False)
    except msgspec.ValidationError:
        return False
    return True


class _Problem:
    """One error msgspec reported, parsed: where, what it wanted, and what it got."""

    def __init__(self, message: str) -> None:
        path = json_path(message)
        self.message = message
        self.path = path or "$"
        self.tokens = _tokens(path) if path else []
        text = message[: -len(f" - at `{path}`")] if path else message
        self.expected = "a valid value"
        self.got: str | None = None
        self.missing: str | None = None
        self.invalid: str | None = None
        self._seen: dict[tuple[type, Any], bool] = {}
        if match := _EXPECTED.match(text):
            self.expected, self.got = match["expected"], match["got"]
        elif match := _MISSING.match(text):
            self.missing = match["field"]
            self.expected = f"object with field {self.missing}"
        elif match := _INVALID.match(text):
            self.invalid = match["value"]
            self.expected = "a known value"

    def culprit(self, value: Any) -> bool | None:
        """Whether `value` fails the way msgspec said (None: cannot tell from the message).

        Used to resolve `[...]` in paths and to find the siblings that fail the same way;
        the value at a concrete path is the culprit whatever this says.
        """
        if self.missing is not None:
            return isinstance(value, dict) and self.missing not in value
        if self.invalid is not None:
            return repr(value) == self.invalid or f"'{value}'" == self.invalid
        target = _target(self.expected) if self.got is not None else None
        if target is None:
            return None
        if type(value) not in _SCALARS:
            return not _fits(value, target)
        key = (type(value), value)  # siblings often repeat one bad value: convert it once
        known = self._seen.get(key)
        if known is None:
            known = self._seen[key] = not _fits(value, target)
        return known

    @property
    def may_be_tag(self) -> bool:
        """Whether this may be about a mixed list's `media_type`: unknown, or not a string."""
        if not self.tokens or self.tokens[-1] != TAG_FIELD:
            return False
        return self.invalid is not None or self.expected == "str"

    def got_for(self, value: Any) -> str:
        if self.missing is not None:
            return "object"
        if self.invalid is not None:
            return f"value {self.invalid}"
        return _kind(value)


@lru_cache(maxsize=256)
def _type_info(type_: Any) -> mi.Type:
    return mi.type_info(type_)


def _member_for(info: mi.Type | None, node: Any) -> mi.Type | None:
    """The member of a union type that `node` (a value of the body) is decoded as."""
    if not isinstance(info, mi.UnionType):
        return info
    for member in info.types:
        if isinstance(node, list) and isinstance(member, mi.ListType):
            return member
        if isinstance(node, dict) and isinstance(member, mi.DictType):
            return member
        if (
            isinstance(node, dict)
            and isinstance(member, mi.StructType)
            and (member.tag_field is None or node.get(member.tag_field) == member.tag)
        ):
            return member
    return None


class _Failure(Exception):
    """The body cannot be decoded: its top level does not fit, or repairing it gave up.

    `message` is msgspec's about the value that started it; `dropped` says where that was.
    """

    def __init__(self, message: str, dropped: Dropped) -> None:
        super().__init__(message)
        self.message = message
        self.dropped = dropped


def _tagged(item: Any, tag: Any) -> bool:
    """Whether `item` is an object whose media_type is `tag` (`1` is not `True`)."""
    if not isinstance(item, dict) or TAG_FIELD not in item:
        return False
    value = item[TAG_FIELD]
    return type(value) is type(tag) and value == tag


def _unknown_item(item: dict[str, Any]) -> tuple[str, str]:
    """Describe an item whose media_type its list does not take (TMDB's item, unwrapped)."""
    original = item.get("data") if "raw_media_type" in item else item
    assert isinstance(original, dict)
    return "a known media_type", f"media_type {_json_text(original.get(TAG_FIELD))}"


class _Repair:
    """A mutable copy of the body, the removals made so far and the original list indices."""

    def __init__(self, document: Any, type_: Any) -> None:
        self.document = document
        self._type = _type_info(type_)
        self.drops: list[Dropped] = []
        self._causes: list[str] = []  # the msgspec message behind each drop
        self._by_removed: dict[str, int] = {}  # Dropped.removed -> its index in drops
        self._origins: dict[int, list[int]] = {}  # id(list) -> original index of each item

    def fix(self, problem: _Problem) -> None:
        """Remove (or wrap) what `problem` is about, with its siblings that fail the same
        way; raise _Failure if that is the body itself."""
        trail = self._locate(problem)
        if trail is None:
            got = problem.got or "an unexpected value"
            raise _Failure(problem.message, Dropped(problem.path, problem.expected, got, "$"))
        if problem.may_be_tag and self._tagged_at(trail[:-1]):
            tag = self._at(trail)
            pattern = self._pattern(problem, trail)[:-1]
            if tag != UNKNOWN_TAG:
                self._wrap_unknown(pattern, tag)
                return
            # A mixed list without UnknownMedia: the items themselves must go.
            trails = [t for t in self._matching(pattern) if _tagged(self._at(t), tag)]
            self._remove(trails, problem, _unknown_item)
            return
        if problem.missing == TAG_FIELD and self._tag_from_parent(trail):
            return
        trails = [trail]
        if problem.culprit(self._at(trail)) is True:
            pattern = self._pattern(problem, trail)
            trails = [t for t in self._matching(pattern) if problem.culprit(self._at(t))]
        self._remove(trails, problem, lambda value: (problem.expected, problem.got_for(value)))

    def _tagged_at(self, trail: Sequence[Token]) -> bool:
        """Whether the model takes a `media_type`-tagged Struct at `trail` (not a plain
        `media_type` field, which is dropped like any other)."""
        info: mi.Type | None = self._type
        node = self.document
        for token in trail:
            info = _member_for(info, node)
            if isinstance(info, mi.StructType):
                field = next((f for f in info.fields if f.encode_name == token), None)
                info = field.type if field else None
            elif isinstance(info, mi.ListType):
                info = info.item_type
            elif isinstance(info, mi.DictType):
                info = info.value_type
            else:
                return False
            node = node[token]
        members = info.types if isinstance(info, mi.UnionType) else (info,)
        return any(isinstance(m, mi.StructType) and m.tag_field == TAG_FIELD for m in members)

    def _locate(self, problem: _Problem) -> list[Token] | None:
        """The concrete path (no `[...]`) of the value msgspec complained about."""
        tokens = problem.tokens
        if tokens is None:
            return None

        def walk(node: Any, at: int, trail: list[Token], picky: bool) -> list[Token] | None:
            if at == len(tokens):
                return trail if not picky or problem.culprit(node) is not False else None
            token = tokens[at]
            if token is None:  # some value of a map: find the one that fails
                children = node.items() if isinstance(node, dict) else ()
                for key, child in children:
                    if (found := walk(child, at + 1, [*trail, key], picky)) is not None:
                        return found
                return None
            if isinstance(token, int):
                present = isinstance(node, list) and token < len(node)
            else:
                present = isinstance(node, dict) and token in node
            return walk(node[token], at + 1, [*trail, token], picky) if present else None

        # Picky first; msgspec's word for a value is not always its JSON type (an integer
        # beyond int64 is "float" to it), so then the first value the path leads to.
        return walk(self.document, 0, [], True) or walk(self.document, 0, [], False)

    @staticmethod
    def _pattern(problem: _Problem, trail: Sequence[Token]) -> list[Token | _Wild]:
        """`trail` with every list index and map key of the problem's path made wild."""
        assert problem.tokens is not None
        return [
            _ANY_ITEM if isinstance(token, int) else _ANY_VALUE if token is None else step
            for token, step in zip(problem.tokens, trail, strict=True)
        ]

    def _matching(self, pattern: Sequence[Token | _Wild]) -> Iterator[list[Token]]:
        """Every concrete path of the document that `pattern` matches."""

        def walk(node: Any, at: int, trail: list[Token]) -> Iterator[list[Token]]:
            if at == len(pattern):
                yield trail
                return
            step = pattern[at]
            if isinstance(step, _Wild):
                if step.of_list and isinstance(node, list):
                    for index, child in enumerate(node):
                        yield from walk(child, at + 1, [*trail, index])
                elif not step.of_list and isinstance(node, dict):
                    for key, child in node.items():
                        yield from walk(child, at + 1, [*trail, key])
            elif isinstance(node, dict) and step in node:  # a key (indices are all wild)
                yield from walk(node[step], at + 1, [*trail, step])

        return walk(self.document, 0, [])

    def _remove(
        self,
        trails: list[list[Token]],
        problem: _Problem,
        describe: Callable[[Any], tuple[str, str]],
    ) -> None:
        """Record and delete the values at `trails` (siblings of one problem)."""
        for trail in trails:
            removed = self._original_path(trail)
            linked = None
            if problem.missing is not None:
                linked = self._by_removed.pop(f"{removed}.{problem.missing}", None)
            if linked is not None:
                # We removed that required field ourselves: its object goes with it.
                cause = self.drops[linked]
                self.drops[linked] = Dropped(cause.path, cause.expected, cause.got, removed)
            else:
                linked = len(self.drops)
                expected, got = describe(self._at(trail))
                self.drops.append(Dropped(removed, expected, got, removed))
                self._causes.append(problem.message)
            self._by_removed[removed] = linked
            if not trail:
                raise _Failure(self._causes[linked], self.drops[linked])
        if len(self.drops) > MAX_DROPS:
            message = f"more than {MAX_DROPS} values do not fit the model"
            raise _Failure(message, Dropped(problem.path, problem.expected, "too many", "$"))
        ordered = sorted(trails, key=lambda t: [s if isinstance(s, int) else -1 for s in t])
        for trail in reversed(ordered):  # later list items first: earlier indices stay valid
            container, last = self._at(trail[:-1]), trail[-1]
            if isinstance(last, int):
                origins = self._origins.setdefault(id(container), list(range(len(container))))
                del origins[last]
            del container[last]

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
            if isinstance(child, dict) and TAG_FIELD not in child and tag is not None:
                child[TAG_FIELD] = tag
                changed = True
        return changed

    def _wrap_unknown(self, pattern: Sequence[Token | _Wild], tag: Any) -> None:
        """Make every item `pattern` matches whose media_type is `tag` UnknownMedia."""
        raw = tag if isinstance(tag, str) else _json_text(tag)
        for trail in list(self._matching(pattern)):
            item = self._at(trail)
            if _tagged(item, tag):
                wrapped = {TAG_FIELD: UNKNOWN_TAG, "raw_media_type": raw, "data": item}
                if isinstance(item.get("id"), (int, str)):
                    wrapped["id"] = item["id"]
                self._set(trail, wrapped)


def _error(message: str, url: str | None, method: str | None, path: str | None) -> DecodeError:
    where = f" of {method} {url}" if method and url else f" of {url}" if url else ""
    return DecodeError(f"response body{where} {message}", json_path=path, url=url, method=method)


def unreadable(
    err: msgspec.DecodeError | RecursionError, *, url: str | None, method: str | None
) -> DecodeError:
    """The DecodeError of a body that is not JSON, or nests too deeply to read."""
    if isinstance(err, RecursionError):
        return _error("nests too deeply to decode", url, method, None)
    return _error(f"is not valid JSON: {err}", url, method, None)


Body = bytes | memoryview


def _repair(body: Body, type_: type[T], first: msgspec.ValidationError) -> Decoded[T]:
    """Convert the body as generic JSON, fixing what does not fit (raises _Failure)."""
    try:
        document = _generic.decode(body)
        problem: _Problem | None = _Problem(str(first))
    except msgspec.ValidationError:  # a number beyond a double: read as inf, then convert
        document = _generic_big_numbers.decode(body)
        problem = None
    repair = _Repair(document, type_)
    for _ in range(MAX_REPAIR_ROUNDS):
        if problem is not None:
            repair.fix(problem)
        try:
            value = msgspec.convert(repair.document, type_, strict=False)
        except msgspec.ValidationError as err:
            problem = _Problem(str(err))
            continue
        return Decoded(value, tuple(repair.drops), _coerced(repair.document, type_))
    assert problem is not None
    message = f"still does not fit after fixing {MAX_REPAIR_ROUNDS} problems: {problem.message}"
    raise _Failure(message, Dropped(problem.path, problem.expected, "too many problems", "$"))


def _coerced(document: Any, type_: type[T]) -> bool:
    """Whether the repaired `document` needed lax coercions to fit."""
    try:
        msgspec.convert(document, type_)
    except msgspec.ValidationError:
        return True
    return False


def _fallback(body: Body, type_: type[T]) -> Decoded[T]:
    """Lax, then repair: for a body the strict decoder refused (raises _Failure)."""
    try:
        return Decoded(_lax_decoder_for(type_).decode(body), coerced=True)
    except msgspec.ValidationError as err:
        return _repair(body, type_, err)


def decode_fallback(
    body: bytes,
    type_: type[T],
    first: msgspec.ValidationError,
    *,
    url: str | None = None,
    method: str | None = None,
) -> Decoded[T]:
    """The lax and repair paths, for a JSON `body` the strict decoder refused with `first`.

    Raises DecodeError (JSON path, redacted `url`) when the top level does not fit `type_`,
    or the body is beyond repair (see MAX_REPAIR_ROUNDS, MAX_DROPS).
    """
    try:
        return _fallback(body, type_)
    except _Failure as failure:
        message = f"does not fit the model: {failure.message}"
        raise _error(message, url, method, failure.dropped.path) from first
    except (msgspec.DecodeError, RecursionError) as err:
        raise unreadable(err, url=url, method=method) from err


def decode_tolerant(
    body: bytes, type_: type[T], *, url: str | None = None, method: str | None = None
) -> Decoded[T]:
    """Decode `body` into `type_`: strictly when it fits, else leaving out what does not.

    Raises DecodeError (JSON path, redacted `url`) when `body` is not JSON, nests too
    deeply, or its top level does not fit `type_`.
    """
    try:
        return Decoded(decoder_for(type_).decode(body))
    except msgspec.ValidationError as err:
        return decode_fallback(body, type_, err, url=url, method=method)
    except (msgspec.DecodeError, RecursionError) as err:
        raise unreadable(err, url=url, method=method) from err


def gather_templated_parts(
    result: T,
    body: bytes,
    templates: Sequence[AppendTemplate],
    requested: str | None,
) -> Decoded[T]:
    """Fill each template's field from the numbered parts asked for (`season/1,season/3`).

    TMDB answers `season/N` under its own key, which no Struct field can name in advance;
    only requests that asked for such parts pay for this second look at `body` (which
    decoded as the result, so it is a JSON object). Each part is decoded on its own: drops
    inside one carry its key in their paths (`$.season/1.episodes[2]`), and a part that does
    not fit at all is itself dropped (`$.season/1`), the rest of the response kept. The
    result says what the parts lack and whether one of them was coerced.
    """
    wanted: dict[AppendTemplate, list[tuple[int, str]]] = {}
    for template in templates:
        prefix = template.pattern.split("{", 1)[0]
        for part in (requested or "").split(","):
            suffix = part[len(prefix) :]
            if part.startswith(prefix) and suffix.isdigit():
                wanted.setdefault(template, []).append((int(suffix), part))
    if not wanted:
        return Decoded(result)
    raw = decoder_for(dict[str, msgspec.Raw]).decode(body)
    drops: list[Dropped] = []
    coerced = False
    updates: dict[str, dict[int, Any]] = {}
    for template, parts in wanted.items():
        values = updates[template.field] = {}
        for number, key in parts:
            if key not in raw:
                continue
            try:
                decoded = _decode_part(memoryview(raw[key]), template.item_type)
            except _Failure as failure:
                cause = failure.dropped
                drops.append(Dropped(_in(key, cause.path), cause.expected, cause.got, f"$.{key}"))
                continue
            values[number] = decoded.value
            coerced = coerced or decoded.coerced
            drops += [
                Dropped(_in(key, d.path), d.expected, d.got, _in(key, d.removed))
                for d in decoded.drops
            ]
    replaced: T = msgspec.structs.replace(result, **updates)  # type: ignore[type-var]
    return Decoded(replaced, tuple(drops), coerced)


def _in(key: str, path: str) -> str:
    """A part's JSON path as a path of the whole body: `$.x` in `season/1` is `$.season/1.x`."""
    return f"$.{key}{path[1:]}"


def _decode_part(raw: memoryview, type_: type[T]) -> Decoded[T]:
    try:
        return Decoded(decoder_for(type_).decode(raw))
    except msgspec.ValidationError:
        return _fallback(raw, type_)
