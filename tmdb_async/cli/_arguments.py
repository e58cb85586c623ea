"""The argument types the subcommands share (argparse `type=` callables): dates, counts, id
lists, Dask clusters. Each turns the text into a value or says what it expected."""

from __future__ import annotations

import argparse
import datetime as dt

from .._crawl import IdsError, parse_ids
from ..distributed import parse_cluster

__all__ = ["cluster_argument", "date_argument", "ids_argument", "positive_int"]


def date_argument(text: str) -> dt.date:
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


def ids_argument(text: str) -> list[range]:
    """Ids and ranges: `1-5000,7,9-12`."""
    try:
        return parse_ids(text)
    except IdsError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def cluster_argument(text: str) -> str:
    """A Dask cluster: `local:N` or a scheduler's address."""
    try:
        return parse_cluster(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
