"""Values TMDB refuses: the fake checks each one by the client's own parameter table (the
kinds of `codegen/parameters.toml`, carried by `ENDPOINTS`) and answers TMDB's error body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._errors import ParameterError
from .._operation import BodyParam, Operation, PathParam, QueryParam
from .._params import parse_param_text, render
from ._replies import Reply, tmdb_error

__all__ = ["check_path", "check_query", "rating_error"]

_CODES = {"page": 22, "date": 23, "timezone": 28, "confirm": 29}
"""Kinds whose bad values TMDB answers with a code of their own (developer.themoviedb.org/
docs/errors); any other bad query value answers 422 code 5, "Invalid parameters"."""
_UNCHECKED = frozenset({"append_to_response"})
"""Checked by the fake's own rules: unknown parts are ignored, more than 20 answer code 27."""


def _fits(param: PathParam | QueryParam | BodyParam, value: object) -> bool:
    try:
        if isinstance(value, str):
            value = parse_param_text(param, value)
        render(param, value, param.name)
    except ParameterError:
        return False
    return True


def check_query(op: Operation[Any], query: Mapping[str, str]) -> None:
    """Raise TMDB's error reply for the first query value its parameter does not take."""
    for param in op.query_params:
        text = query.get(param.name)
        if text is not None and param.name not in _UNCHECKED and not _fits(param, text):
            raise tmdb_error(_CODES.get(param.check.name, 5))


def check_path(param: PathParam, text: str) -> None:
    """TMDB answers 404 code 34 for an id that cannot be one (`/3/movie/0`)."""
    if not _fits(param, text):
        raise tmdb_error(34)


def rating_error(param: BodyParam, value: object) -> Reply | None:
    """TMDB's answer to a rating the `value` parameter does not take, else None.

    TMDB answers 400 code 18 with one of three messages (recorded by
    orozcojuan1998/Test-Movie-API): a non-number reads as too low.
    """
    if _fits(param, value):
        return None
    low, high = param.check.minimum or 0, param.check.maximum or 10
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low:
        message = "Value too low: Value must be greater than 0.0."
    elif value > high:
        message = "Value too high: Value must be less than, or equal to 10.0."
    else:
        message = "Value invalid: Values must be a multiple of 0.50."
    return tmdb_error(18, message=message)
