"""Command-line text -> a parameter's Python value, by the parameter's kind.

One function for every kind of `tmdb_async._operation.ParamKind`, so that `get NAMESPACE
METHOD name=value` passes what a Python caller would. The client then checks the value as
it checks any caller's (ranges, patterns) before a request is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from .._operation import ParamKind

__all__ = ["BadValueError", "parse_value"]

TRUE: Final = frozenset({"true", "1", "yes"})
FALSE: Final = frozenset({"false", "0", "no"})


class BadValueError(ValueError):
    """A text that is not a value of the parameter's kind; the message says what is."""


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise BadValueError(f"expected an integer, got {text!r}") from None


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise BadValueError(f"expected a number, got {text!r}") from None


def _bool(text: str) -> bool:
    if text.lower() in TRUE:
        return True
    if text.lower() in FALSE:
        return False
    raise BadValueError(f"expected true or false, got {text!r}")


def _int_or_str(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


PARSERS: Final[dict[str, Callable[[str], object]]] = {
    "str": str,
    "int": _int,
    "int_or_str": _int_or_str,
    "float": _float,
    "bool": _bool,
    "str_list": _items,
    "int_list": lambda text: [_int(item) for item in _items(text)],
}


def parse_value(kind: ParamKind, text: str) -> object:
    """The Python value of `text` for a parameter of this kind (BadValueError if it is none)."""
    return PARSERS[kind](text)
