"""Decode response bytes into Structs: one cached msgspec Decoder per type, typed errors.

Polymorphic lists are tagged unions on `media_type`. When TMDB sends a tag the models do
not know, the offending items are rewritten into the `UnknownMedia` variant (tag
`"unknown"`: `raw_media_type` and the original item as `data`) and decoding is retried,
so one new media type never breaks a whole page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypeVar

import msgspec

from ._errors import DecodeError
from ._operation import AppendTemplate

__all__ = [
    "UNKNOWN_TAG",
    "decode",
    "decoder_for",
    "gather_templated_parts",
    "json_path",
    "replace_unknown_tags",
]

T = TypeVar("T")

TAG_FIELD = "media_type"
UNKNOWN_TAG = "unknown"
_MAX_ROUNDS = 50

_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}

_PATH = re.compile(r" - at `(\$[^`]*)`$")
_UNKNOWN_VALUE = re.compile(
    r"^Invalid value '(?P<value>.*)' - at `(?P<path>\$[^`]*)\.(?P<tag>\w+)`$"
)
_TOKEN = re.compile(r"\.(?P<key>[^.\[]+)|\[(?P<index>\d+)\]|\[(?P<any>\.\.\.)\]")


def decoder_for(type_: type[T]) -> msgspec.json.Decoder[T]:
    """Return the cached JSON decoder of `type_` (generic aliases such as `Page[X]` included)."""
    decoder = _decoders.get(type_)
    if decoder is None:
        decoder = _decoders[type_] = msgspec.json.Decoder(type_)
    return decoder


def json_path(message: str) -> str | None:
    """Extract the JSON path (`$.results[0].id`) from a msgspec error message."""
    match = _PATH.search(message)
    return match[1] if match else None


def _tokens(path: str) -> list[str | int | None] | None:
    """Split `$.a[0][...]` into `["a", 0, None]` (None: any key of a dict); None if unparsable."""
    tokens: list[str | int | None] = []
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


def _wrap(item: Any, raw: str, tag_field: str) -> Any:
    if isinstance(item, dict) and item.get(tag_field) == raw:
        wrapped = {tag_field: UNKNOWN_TAG, "raw_media_type": raw, "data": item}
        if isinstance(item.get("id"), (int, str)):
            wrapped["id"] = item["id"]
        return wrapped
    return item


def _rewrite(node: Any, tokens: list[str | int | None], raw: str, tag_field: str) -> int:
    """Rewrite, in place, the tagged items addressed by `tokens` under `node`; count them."""
    *walk, last = tokens
    if walk:
        head, rest = walk[0], [*walk[1:], last]
        if head is None:
            children = list(node.values()) if isinstance(node, dict) else []
        elif isinstance(head, int):
            children = [node[head]] if isinstance(node, list) and head < len(node) else []
        else:
            children = [node[head]] if isinstance(node, dict) and head in node else []
        return sum(_rewrite(child, rest, raw, tag_field) for child in children)
    count = 0
    if isinstance(node, list):
        # Every item of THAT list with the same unknown tag: one round instead of one per item.
        for index, item in enumerate(node):
            node[index] = _wrap(item, raw, tag_field)
            count += node[index] is not item
    elif isinstance(node, dict):
        keys = list(node) if last is None else [last] if last in node else []
        for key in keys:
            item = node[key]
            node[key] = _wrap(item, raw, tag_field)
            count += node[key] is not item
    return count


def replace_unknown_tags(
    document: Any, path: str, raw_value: str, *, tag_field: str = TAG_FIELD
) -> tuple[Any, int]:
    """Wrap the items at `path` whose `tag_field` is `raw_value` into the unknown variant.

    `document` is generic JSON data (dicts and lists); `path` is msgspec's path of the offending
    item, e.g. `$.results[3]` or `$.results[...]` for a dict value. Every sibling in the same
    container with the same tag is rewritten too. Returns the new document and how many items
    were rewritten (0: nothing matched). The input is not modified.
    """
    tokens = _tokens(path)
    if tokens is None:
        return document, 0
    if not tokens:
        wrapped = _wrap(document, raw_value, tag_field)
        return wrapped, int(wrapped is not document)
    copy = msgspec.json.decode(msgspec.json.encode(document))
    count = _rewrite(copy, tokens, raw_value, tag_field)
    return (copy, count) if count else (document, 0)


def _error(err: msgspec.DecodeError, url: str | None, method: str | None) -> DecodeError:
    # msgspec.ValidationError subclasses msgspec.DecodeError: test the specific one.
    invalid = isinstance(err, msgspec.ValidationError)
    problem = "does not fit the model" if invalid else "is not valid JSON"
    where = f" of {method} {url}" if method and url else f" of {url}" if url else ""
    return DecodeError(
        f"response body{where} {problem}: {err}",
        json_path=json_path(str(err)),
        url=url,
        method=method,
    )


def _fallback(body: bytes, decoder: msgspec.json.Decoder[T], first: msgspec.ValidationError) -> T:
    error = first
    document: Any = None
    for _ in range(_MAX_ROUNDS):
        match = _UNKNOWN_VALUE.match(str(error))
        if match is None or match["tag"] != TAG_FIELD or match["value"] == UNKNOWN_TAG:
            break
        if document is None:
            document = msgspec.json.decode(body)
        document, count = replace_unknown_tags(document, match["path"], match["value"])
        if not count:
            break
        try:
            return decoder.decode(msgspec.json.encode(document))
        except msgspec.ValidationError as err:
            if not _UNKNOWN_VALUE.match(str(err)):
                raise
            error = err
    raise first


def decode(body: bytes, type_: type[T], *, url: str | None = None, method: str | None = None) -> T:
    """Decode `body` into `type_`; raise DecodeError with the JSON path and the (redacted) `url`."""
    decoder = decoder_for(type_)
    try:
        try:
            return decoder.decode(body)
        except msgspec.ValidationError as err:
            if _UNKNOWN_VALUE.match(str(err)) is None:
                raise
            return _fallback(body, decoder, err)
    except msgspec.DecodeError as err:
        raise _error(err, url, method) from err


def gather_templated_parts(
    result: T,
    body: bytes,
    templates: Sequence[AppendTemplate],
    requested: str | None,
    *,
    url: str | None = None,
    method: str | None = None,
) -> T:
    """Fill each template's field from the numbered parts asked for (`season/1,season/3`).

    TMDB answers `season/N` under its own key, which no Struct field can name in advance;
    only requests that asked for such parts pay for this second look at the body.
    """
    wanted: dict[AppendTemplate, list[tuple[int, str]]] = {}
    for template in templates:
        prefix = template.pattern.split("{", 1)[0]
        for part in (requested or "").split(","):
            number = part[len(prefix) :]
            if part.startswith(prefix) and number.isdigit():
                wanted.setdefault(template, []).append((int(number), part))
    if not wanted:
        return result
    raw = decode(body, dict[str, msgspec.Raw], url=url, method=method)
    updates = {
        template.field: {
            number: decode(raw[key], template.item_type, url=url, method=method)
            for number, key in parts
            if key in raw
        }
        for template, parts in wanted.items()
    }
    replaced: T = msgspec.structs.replace(result, **updates)  # type: ignore[type-var]
    return replaced
