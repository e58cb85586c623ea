"""Pure request building: argument validation, yarl URLs, query normalisation, cache keys."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import msgspec
from yarl import URL

from ._constants import MAX_APPEND_PARTS, SECRET_QUERY_PARAMS
from ._credentials import MASK, redact_params
from ._errors import ParameterError
from ._operation import BodyParam, Operation, PathParam, QueryParam
from ._params import Param, param_label, render

__all__ = ["APPEND_TO_RESPONSE", "PreparedRequest", "build_request", "cache_key"]

APPEND_TO_RESPONSE = "append_to_response"

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


class PreparedRequest(msgspec.Struct, frozen=True, gc=False):
    """A validated request, ready to send: no credentials in it yet.

    A frozen Struct rather than a frozen dataclass: built once per call, it is cheaper.
    """

    method: str
    url: URL
    body: bytes | None = None
    secret_segments: tuple[str, ...] = ()
    """Encoded path segments that are secrets (a guest session id), masked by `redacted_url`."""

    def redacted_url(self) -> str:
        """The URL for logs and errors: secret query values and path segments masked."""
        text = redact_params(self.url)
        for segment in self.secret_segments:
            text = text.replace(f"/{segment}", f"/{MASK}")
        return text


@functools.lru_cache(maxsize=256)
def _append_pattern(parts: tuple[str, ...]) -> re.Pattern[str]:
    # A template part such as "season/{season_number}" accepts any number in the placeholder.
    alternatives = [
        "".join(
            r"\d+" if i % 2 else re.escape(piece) for i, piece in enumerate(_PLACEHOLDER.split(p))
        )
        for p in parts
    ]
    return re.compile("|".join(alternatives) or r"(?!)")


def _where(operation: Operation[Any], param: Param | str) -> str:
    name = param if isinstance(param, str) else param_label(param)
    return f"{operation.namespace}.{operation.name}(): {name}"


def _append_items(value: object, where: str) -> list[object]:
    if isinstance(value, str):
        return list(value.split(","))
    if isinstance(value, Iterable) and not isinstance(value, (bytes, Mapping)):
        return list(value)
    raise ParameterError(f"{where} must be a list of parts, got {type(value).__name__} {value!r}")


def _append_parts(operation: Operation[Any], value: object) -> str | None:
    where = _where(operation, APPEND_TO_RESPONSE)
    names: list[str] = []
    for item in _append_items(value, where):
        if not isinstance(item, str):
            raise ParameterError(f"{where} item must be a str, got {type(item).__name__} {item!r}")
        text = item.strip()
        if text and text not in names:
            names.append(text)
    if not names:
        return None
    allowed = _append_pattern(operation.append_parts)
    unknown = [name for name in names if not allowed.fullmatch(name)]
    if unknown:
        accepted = ", ".join(operation.append_parts) or "none"
        raise ParameterError(
            f"{where}: unknown part(s) {', '.join(map(repr, unknown))}; accepted: {accepted}"
        )
    if len(names) > MAX_APPEND_PARTS:
        raise ParameterError(f"{where}: at most {MAX_APPEND_PARTS} parts, got {len(names)}")
    return ",".join(sorted(names))


def _path_segment(value: object, param: PathParam, where: str) -> str:
    if value is None:
        raise ParameterError(f"{where} is required, got None")
    text = render(param, value, where)
    if not text.strip():
        raise ParameterError(f"{where} must not be empty")
    if text in {".", ".."}:
        raise ParameterError(f"{where} cannot be {text!r}")
    return quote(text, safe="")


@dataclass(frozen=True, slots=True)
class _Plan:
    """What `build_request` needs of an operation, worked out once: operations are constants."""

    operation: Operation[Any]
    """Held so that the `id()` keying the plan cannot be reused by another operation."""
    template: str
    """The path with `{0}`, `{1}`... in place of the placeholders (index into the path params)."""
    missing: str | None
    """The first placeholder that names no path parameter (a broken operation), else None."""
    fast: tuple[bool, ...]
    """Per path parameter: a plain int at or above its minimum needs no more checks and no
    quoting."""
    lows: tuple[float, ...]
    """Per path parameter: the least int it takes (ids 1, season numbers 0)."""
    secret: tuple[int, ...]
    """Indexes of the path parameters whose values are secrets (a guest session id)."""
    query_params: Mapping[str, QueryParam]
    all_fast: bool
    """Every path parameter is fast, none is a secret, none is missing: exact ints fill the
    template as they are (the hot path of every id-addressed call)."""


_INT_KINDS = frozenset({"int", "int_or_str"})
"""Kinds whose exact-int values fill a path as they are (once at or above their minimum)."""
_plans: dict[int, _Plan] = {}
_MAX_PLANS = 4096


def _plan(operation: Operation[Any]) -> _Plan:
    plan = _plans.get(id(operation))
    if plan is not None and plan.operation is operation:
        return plan
    params = operation.path_params
    index = {param.name: i for i, param in enumerate(params)}
    pieces = _path_pieces(operation.path)
    missing = next((p for p in pieces[1::2] if p not in index), None)
    template = "".join(
        (f"{{{index[piece]}}}" if piece in index else "")
        if i % 2
        else piece.replace("{", "{{").replace("}", "}}")
        for i, piece in enumerate(pieces)
    )
    fast = tuple(
        p.kind in _INT_KINDS and not p.choices and p.check.maximum is None and p.check.step is None
        for p in params
    )
    lows = tuple(-math.inf if p.check.minimum is None else p.check.minimum for p in params)
    secret = tuple(index[p.name] for p in params if p.name in SECRET_QUERY_PARAMS)
    plan = _Plan(
        operation=operation,
        template=template,
        missing=missing,
        fast=fast,
        lows=lows,
        secret=secret,
        query_params={param.name: param for param in operation.query_params},
        all_fast=all(fast) and not secret and missing is None,
    )
    if len(_plans) >= _MAX_PLANS:  # only ad-hoc operations (tests) could ever get here
        _plans.clear()
    _plans[id(operation)] = plan
    return plan


def _build_path(plan: _Plan, path_args: Sequence[object]) -> tuple[str, tuple[str, ...]]:
    operation = plan.operation
    params = operation.path_params
    if plan.all_fast and len(path_args) == len(params):
        for arg, low in zip(path_args, plan.lows, strict=True):
            if type(arg) is not int or arg < low:
                break
        else:
            return plan.template.format(*path_args), ()
    if len(path_args) != len(params):
        raise ParameterError(
            f"{operation.namespace}.{operation.name}() takes {len(params)} path argument(s) "
            f"({', '.join(p.name for p in params)}), got {len(path_args)}"
        )
    segments = [
        # A plain int at or above its minimum needs no more checks and no quoting.
        str(arg)
        if fast and type(arg) is int and arg >= low
        else _path_segment(arg, param, _where(operation, param))
        for param, fast, low, arg in zip(params, plan.fast, plan.lows, path_args, strict=True)
    ]
    if plan.missing is not None:
        raise ParameterError(
            f"{operation.operation_id}: path {operation.path} has no parameter {plan.missing!r}"
        )
    secrets = tuple([segments[i] for i in plan.secret]) if plan.secret else ()
    return plan.template.format(*segments), secrets


@functools.lru_cache(maxsize=1024)
def _path_pieces(template: str) -> tuple[str, ...]:
    """`/3/movie/{movie_id}/x` -> `("/3/movie/", "movie_id", "/x")`: names at odd positions."""
    return tuple(_PLACEHOLDER.split(template))


def _build_query(plan: _Plan, query: Mapping[str, object]) -> list[tuple[str, str]]:
    operation, params = plan.operation, plan.query_params
    items: list[tuple[str, str]] = []
    for name, value in query.items():
        if value is None:
            continue
        param = params.get(name)
        if param is None:
            raise ParameterError(
                f"{_where(operation, name)} is not a query parameter of {operation.path}"
            )
        text: str | None
        if name == APPEND_TO_RESPONSE:
            text = _append_parts(operation, value)
        else:
            text = render(param, value, _where(operation, param))
        if text is not None:
            items.append((name, text))
    items.sort()
    return items


def _build_body(operation: Operation[Any], body: Mapping[str, object] | None) -> bytes | None:
    present = {name: value for name, value in (body or {}).items() if value is not None}
    if not operation.body_params:
        if present:
            raise ParameterError(f"{operation.namespace}.{operation.name}() takes no request body")
        return None
    params: dict[str, BodyParam] = {param.name: param for param in operation.body_params}
    for name, value in present.items():
        param = params.get(name)
        if param is None:
            raise ParameterError(
                f"{_where(operation, name)} is not a body field of {operation.path}"
            )
        render(param, value, _where(operation, param))
    missing = [
        param.name
        for param in operation.body_params
        if param.required and param.name not in present
    ]
    if missing:
        raise ParameterError(
            _where(operation, f"missing required body field(s) {', '.join(missing)}")
        )
    return msgspec.json.encode(present)


def build_request(
    base_url: str | URL,
    operation: Operation[Any],
    path_args: Sequence[object],
    query: Mapping[str, object],
    body: Mapping[str, object] | None = None,
) -> PreparedRequest:
    """Validate the arguments of `operation` and build its request (ParameterError before I/O)."""
    base = base_url if isinstance(base_url, URL) else URL(base_url)
    plan = _plan(operation)
    path, secrets = _build_path(plan, path_args)
    url = base.with_path(base.raw_path.rstrip("/") + path, encoded=True)
    items = _build_query(plan, query)
    if items:
        url = url.with_query(items)
    payload = None if not body and not operation.body_params else _build_body(operation, body)
    return PreparedRequest(operation.http_method, url, payload, secrets)


def _normalise_append(value: str) -> str:
    return ",".join(sorted({part for part in value.split(",") if part}))


def cache_key(method: str, url: str | URL) -> str:
    """Return the cache key of a request: method and normalised URL, without any credential.

    Query parameters are sorted (and `append_to_response` parts too), so their order never matters;
    `api_key`, `access_token`, `session_id`, `guest_session_id` and `request_token` are removed.
    """
    parsed = url if isinstance(url, URL) else URL(url)
    items = sorted(
        (name, _normalise_append(value) if name == APPEND_TO_RESPONSE else value)
        for name, value in parsed.query.items()
        if name not in SECRET_QUERY_PARAMS
    )
    clean = parsed.with_user(None).with_fragment(None).with_query(items or None)
    return f"{method.upper()} {clean}"
