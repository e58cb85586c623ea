"""`tmdb-async fake-server`: FakeTMDB on loopback (`python -m tmdb_async.testing`)."""

from __future__ import annotations

import argparse

from ._registry import Subcommands

__all__ = ["register"]


def register(commands: Subcommands) -> None:
    """Add `fake-server` to the command line."""
    commands.add(
        "fake-server",
        run=_serve,
        help="serve FakeTMDB on loopback (see `tmdb-async fake-server --help`)",
        client=False,
        extra_arguments=True,
        add_help=False,
    )


def _serve(args: argparse.Namespace) -> int:
    from ..testing.__main__ import main as serve

    serve(args.extra, prog="tmdb-async fake-server")
    return 0
