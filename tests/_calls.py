"""Arguments for calling any generated coroutine: placeholders, or a recorded request's."""

from __future__ import annotations

import inspect
import re
from typing import Any
from urllib.parse import parse_qsl

from tmdb_async._operation import Operation, QueryParam

PLACEHOLDERS: dict[str, Any] = {
    "int": 7,
    "int_or_str": "509ec17b19c2950a0600050d",
    "float": 8.5,
    "bool": True,
    "str": "x",
    "str_list": ["x"],
}


def _value(kind: str, choices: tuple[str, ...]) -> Any:
    return choices[0] if choices else PLACEHOLDERS[kind]


def call_arguments(op: Operation[Any], method: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Positional path args and the required keywords, with valid placeholder values."""
    args = tuple(_value(p.kind, p.choices) for p in op.path_params)
    required = {
        name
        for name, p in inspect.signature(method).parameters.items()
        if p.default is inspect.Parameter.empty
    }
    kwargs = {b.name: _value(b.kind, b.choices) for b in op.body_params if b.name in required}
    return args, kwargs | {
        q.python_name: _value(q.kind, q.choices)
        for q in op.query_params
        if q.python_name in required
    }


def _typed(kind: str, text: str) -> Any:
    if kind == "int" or (kind == "int_or_str" and text.isdigit()):
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "bool":
        return text == "true"
    if kind == "str_list":
        return text.split(",")
    return text


def recorded_arguments(
    op: Operation[Any], method: Any, path: str, query: str
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The arguments that make `method` send `path?query` (placeholders for what is missing)."""
    pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(op.path))
    match = re.fullmatch(pattern, path)
    assert match is not None, f"{path} is not {op.path}"
    args = tuple(_typed(p.kind, match[p.name]) for p in op.path_params)
    by_wire: dict[str, QueryParam] = {q.name: q for q in op.query_params}
    kwargs = call_arguments(op, method)[1]
    for name, text in parse_qsl(query):
        param = by_wire.get(name)
        if param is not None and (not param.choices or text in param.choices):
            kwargs[param.python_name] = _typed(param.kind, text)
    return args, kwargs
