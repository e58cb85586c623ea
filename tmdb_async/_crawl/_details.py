"""The details call a crawl makes for each id, checked once before the first: a bad
`append_to_response` part or language fails before any I/O, not on every id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._constants import DEFAULT_BASE_URL
from .._operation import Operation
from .._urls import build_request

__all__ = ["check_call"]


def check_call(operation: Operation[Any], query: Mapping[str, object]) -> None:
    """ParameterError (naming the parameter) unless the client would send `operation` with
    `query` for any id: the client's own checks, on a request built and dropped."""
    build_request(DEFAULT_BASE_URL, operation, (1,) * len(operation.path_params), query)
