"""Argument types the commands share: dates, counts, id lists (argparse `type=` callables)."""

from __future__ import annotations

import argparse
import datetime as dt

from ._ids import IdsError, parse_ids

__all__ = ["date", "ids", "positive_int"]


def date(text: str) -> dt.date:
    """`YYYY-MM-DD`."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def positive_int(text: str) -> int:
    """An integer >= 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return int(text)


def ids(text: str) -> list[range]:
    """Ids and ranges: `1-5000,7,9-12`."""
    try:
        return parse_ids(text)
    except IdsError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
