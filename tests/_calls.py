"""Arguments for calling any generated coroutine: placeholders, or a recorded request's."""

from __future__ import annotations

import inspect
import re
from typing import Any
from urllib.parse import parse_qsl

from tmdb_async._operation import Operation, QueryParam
from tmdb_async._params import Param, parse_param_text


def _placeholder(param: Param) -> Any:
    """A valid value of the parameter: its first choice, else its kind's example."""
    return parse_param_text(param, param.choices[0] if param.choices else param.check.example)


def call_arguments(op: Operation[Any], method: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Positional path args and the required keywords, with valid placeholder values."""
    args = tuple(_placeholder(p) for p in op.path_params)
    required = {
        name
        for name, p in inspect.signature(method).parameters.items()
        if p.default is inspect.Parameter.empty
    }
    kwargs = {b.name: _placeholder(b) for b in op.body_params if b.name in required}
    return args, kwargs | {
        q.python_name: _placeholder(q) for q in op.query_params if q.python_name in required
    }


def recorded_arguments(
    op: Operation[Any], method: Any, path: str, query: str
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The arguments that make `method` send `path?query` (placeholders for what is missing)."""
    pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(op.path))
    match = re.fullmatch(pattern, path)
    assert match is not None, f"{path} is not {op.path}"
    args = tuple(parse_param_text(p, match[p.name]) for p in op.path_params)
    by_wire: dict[str, QueryParam] = {q.name: q for q in op.query_params}
    kwargs = call_arguments(op, method)[1]
    for name, text in parse_qsl(query):
        param = by_wire.get(name)
        if param is not None and (not param.choices or text in param.choices):
            kwargs[param.python_name] = parse_param_text(param, text)
    return args, kwargs
