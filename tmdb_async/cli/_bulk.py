"""What `crawl` and `changes` share: their output options and the run itself (open the files,
stream the ids, crawl, print the summary), with Ctrl-C, SIGTERM and a closed pipe handled in
every phase."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Final

from .._constants import FETCH_MANY_CONCURRENCY
from .._crawl import (
    CrawlFiles,
    FatalError,
    Interrupts,
    OutputClosedError,
    Report,
    errors_path,
    max_line_for,
)
from .._errors import TMDBError
from .._operation import Operation
from ..distributed import ManifestError
from ._arguments import positive_int
from ._client_flags import Backend, UsageError, backend, check_client_flags, require_credentials
from ._counted import crawl_counted
from ._get import KIND_ALIASES, OPERATIONS
from ._ids import IdSource
from ._output import errors_target, output_target
from ._progress import Progress, make_progress

__all__ = [
    "EXIT_FAILURE",
    "EXIT_SIGPIPE",
    "SourceFactory",
    "add_bulk_options",
    "announce",
    "run_bulk",
]

EXIT_FAILURE: Final = 1
EXIT_SIGPIPE: Final = 128 + signal.SIGPIPE
"""The status of a process ended by SIGPIPE; `main` ends the process by that signal."""

SourceFactory = Callable[[Backend, ExitStack, Progress], Awaitable[IdSource]]


def add_bulk_options(parser: argparse.ArgumentParser) -> None:
    """The output options of `crawl` and `changes`."""
    parser.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="JSON Lines output, appended to and read back to resume; - for stdout",
    )
    parser.add_argument(
        "--errors", metavar="FILE", help="failed ids (default: OUT.errors.jsonl, made on need)"
    )
    parser.add_argument(
        "--append", default="", help="append_to_response parts, e.g. credits,images"
    )
    parser.add_argument(
        "--concurrency",
        type=positive_int,
        default=FETCH_MANY_CONCURRENCY,
        help=f"requests in flight and connections (default {FETCH_MANY_CONCURRENCY}, TMDB's cap)",
    )
    parser.add_argument(
        "--retry-errors",
        action="store_true",
        help="fetch again the ids of the errors file (new failures are appended to it)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--typed",
        action="store_true",
        help="write the models re-encoded by msgspec instead of TMDB's bytes (docs/cli.md)",
    )


def announce(message: str) -> None:
    """A line for the user on stderr."""
    print(f"tmdb-async: {message}", file=sys.stderr, flush=True)


def details_of(args: argparse.Namespace) -> tuple[Operation[Any], dict[str, Any]]:
    """The details operation of `args.kind` and its `--append` parameters."""
    op = OPERATIONS[(KIND_ALIASES[args.kind], "details")]
    params: dict[str, Any] = {}
    if parts := [part.strip() for part in args.append.split(",") if part.strip()]:
        if not op.append_parts:
            raise UsageError(f"{args.kind} details take no --append")
        params["append_to_response"] = parts
    return op, params


def _targets(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    """`--out` (None: stdout) and the errors file (None: failures go to stderr)."""
    out = output_target(args.out)
    if args.errors is not None:
        errors: Path | None = errors_target(args.errors)
    else:
        errors = None if out is None else errors_path(out)
    if out is not None and errors is not None and out.resolve() == errors.resolve():
        raise UsageError("--out and --errors name the same file")
    return out, errors


async def run_bulk(
    args: argparse.Namespace,
    command: str,
    make_source: SourceFactory,
    on_dask: Callable[..., Awaitable[int]] | None = None,
) -> int:
    """Check the arguments, open the files, crawl the ids of `make_source`; the exit status.

    `on_dask` runs a `--dask` crawl instead (its own output directory).
    """
    op, params = details_of(args)
    check_client_flags(args)
    out, errors = (None, None) if on_dask is not None else _targets(args)
    require_credentials(args)
    report = Report()
    interrupts = Interrupts.install(announce)
    progress = make_progress(not args.no_progress)
    status = 0
    try:
        with ExitStack() as temporary:
            async with backend(args, max_connections=args.concurrency) as connected:
                report.stats = connected.tmdb.stats
                if on_dask is not None:
                    source = await make_source(connected, temporary, progress)
                    status = await on_dask(args, op, params, connected, source, progress, report)
                else:
                    files = await CrawlFiles.open(
                        out,
                        errors,
                        retry_errors=args.retry_errors,
                        announce=announce,
                        max_line=max_line_for(connected.tmdb.options.max_body_size),
                    )
                    try:
                        source = await make_source(connected, temporary, progress)
                        method = getattr(getattr(connected.tmdb, op.namespace), op.name)
                        label = "stdout" if out is None else out.name
                        await crawl_counted(
                            method,
                            source,
                            files,
                            label,
                            concurrency=args.concurrency,
                            params=params,
                            progress=progress,
                            interrupts=interrupts,
                            report=report,
                            typed=args.typed,
                        )
                    finally:
                        await files.aclose(drain=not interrupts.requested)
    except asyncio.CancelledError:
        if not interrupts.requested:
            raise
        interrupts.acknowledge()
        report.interrupted = True
    except OutputClosedError:
        report.stopped = "stopped (the reader closed standard output)"
        status = EXIT_SIGPIPE
    except FatalError as err:
        announce(f"stopped: {err}")
        status = EXIT_FAILURE
    except TMDBError as err:  # listing the changes, or a bad option of the client
        announce(f"{type(err).__name__}: {err}")
        status = EXIT_FAILURE
    except ManifestError as err:
        announce(str(err))
        status = EXIT_FAILURE
    finally:
        progress.stop()
    print(report.summary(command), file=sys.stderr, flush=True)
    return interrupts.exit_status if report.interrupted else status
