"""How a subcommand joins the command line: one `register(commands)` per subcommand module,
listed once in `_app.SUBCOMMANDS`."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine
from typing import Any

from ._client_flags import add_client_flags

__all__ = ["Run", "Subcommands"]

Run = Callable[[argparse.Namespace], int | Coroutine[Any, Any, int]]
"""What a subcommand runs: its exit status, or a coroutine giving it (run by `asyncio.run`)."""


class Subcommands:
    """The `COMMAND` argument of the top-level parser."""

    def __init__(self, action: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        self._action = action

    def add(
        self,
        name: str,
        *,
        run: Run,
        help: str,
        client: bool = True,
        extra_arguments: bool = False,
        **options: Any,
    ) -> argparse.ArgumentParser:
        """A subparser that runs `run`; `client`: it talks to TMDB, so it takes the client
        flags; `extra_arguments`: arguments it does not know are passed on (`args.extra`)."""
        parser = self._action.add_parser(name, help=help, **options)
        if client:
            add_client_flags(parser)
        parser.set_defaults(run=run, extra_arguments=extra_arguments)
        return parser
