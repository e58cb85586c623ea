"""The top-level parser, the subcommands it dispatches to, and the exit statuses."""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Final

from .. import __version__
from .._crawl import (
    FileBusyError,
    ForeignFileError,
    IdsError,
    NotRegularFileError,
    OutputClosedError,
)
from .._errors import TMDBError
from . import _changes, _crawl_cmd, _fake_server, _get, _login, _logout, _mirror
from ._client_flags import (
    CREDENTIALS_HELP,
    MissingCredentialsError,
    UsageError,
    add_client_flags,
    apply_defaults,
)
from ._crawl_cmd import MissingExtraError
from ._login import NotApprovedError
from ._progress import setup_logging
from ._registry import Subcommands
from ._runner import EXIT_FAILURE, EXIT_SIGPIPE
from ._token_file import TokenFileError

__all__ = ["SUBCOMMANDS", "main"]

SUBCOMMANDS: Final[tuple[Callable[[Subcommands], None], ...]] = (
    _get.register,
    _crawl_cmd.register,
    _changes.register,
    _mirror.register,
    _login.register,
    _logout.register,
    _fake_server.register,
)
"""Each subcommand's `register`, in the order `--help` lists them."""
EXIT_USAGE: Final = 2
EXIT_INTERRUPTED: Final = 128 + signal.SIGINT


def parser() -> argparse.ArgumentParser:
    """The whole command line."""
    top = argparse.ArgumentParser(
        prog="tmdb-async",
        description="Fetch from TMDB: one resource, many ids, or what changed. "
        + CREDENTIALS_HELP
        + " The client options below go before or after the command.",
    )
    top.add_argument("--version", action="version", version=f"tmdb-async {__version__}")
    add_client_flags(top, top_level=True)
    commands = Subcommands(top.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    for register in SUBCOMMANDS:
        register(commands)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (ends by SIGPIPE on a closed pipe)."""
    top = parser()
    args, extra = top.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    if extra and not args.extra_arguments:
        top.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    apply_defaults(args)
    setup_logging(args.verbose)
    status = _run(args)
    if status == EXIT_SIGPIPE:
        _end_by_sigpipe()
    return status


def _run(args: argparse.Namespace) -> int:
    try:
        result = args.run(args)
        return asyncio.run(result) if inspect.iscoroutine(result) else int(result)
    except UsageError as err:
        print(f"tmdb-async: {err}", file=sys.stderr)
        return EXIT_USAGE
    except OutputClosedError:
        return EXIT_SIGPIPE
    except (
        MissingCredentialsError,
        MissingExtraError,
        ImportError,
        IdsError,
        FileBusyError,
        ForeignFileError,
        NotRegularFileError,
        TokenFileError,
        NotApprovedError,
        OSError,
    ) as err:
        print(f"tmdb-async: {err}", file=sys.stderr)
        return EXIT_FAILURE
    except TMDBError as err:
        print(f"tmdb-async: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _end_by_sigpipe() -> None:
    """End as a process killed by SIGPIPE (status 141 in a shell), as `yes | head` does."""
    sys.stderr.flush()
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGPIPE)
