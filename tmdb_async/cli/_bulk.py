"""What `crawl` and `changes` share: their output options, the details call they make, and
the run itself (check everything, open the files, stream the ids, crawl) through
`run_command`."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from .._constants import FETCH_MANY_CONCURRENCY
from .._crawl import CrawlFiles, IdSource, check_call, crawl_counted, errors_path, max_line_for
from .._errors import ParameterError
from .._operation import Operation
from ..distributed import ManifestError
from ._arguments import positive_int
from ._client_flags import UsageError, check_client_flags, require_credentials
from ._get import KIND_ALIASES, OPERATIONS
from ._output import errors_target, output_target
from ._runner import Session, announce, run_command

__all__ = ["SourceFactory", "add_bulk_options", "append_parts", "details_of", "run_bulk"]

SourceFactory = Callable[[Session, ExitStack], Awaitable[IdSource]]
DaskRun = Callable[..., Awaitable[int]]


def add_bulk_options(parser: argparse.ArgumentParser) -> None:
    """The output options of `crawl` and `changes` (`changes` adds `--append` here: its ids
    come from the feed, not from `add_id_source_options`)."""
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


def append_parts(args: argparse.Namespace) -> tuple[str, ...]:
    """The parts of `--append credits,images`."""
    return tuple(part.strip() for part in args.append.split(",") if part.strip())


def details_of(args: argparse.Namespace, kind: str) -> tuple[Operation[Any], dict[str, Any]]:
    """The details operation of `kind` and its `--append` parameters, checked with
    `--language` as the client will check them (UsageError before any work)."""
    op = OPERATIONS[(KIND_ALIASES[kind], "details")]
    params: dict[str, Any] = {}
    if parts := append_parts(args):
        if not op.append_parts:
            raise UsageError(f"{kind} details take no --append")
        params["append_to_response"] = list(parts)
    language = {"language": args.language} if args.language else {}
    try:
        check_call(op, {**params, **language})
    except ParameterError as err:
        raise UsageError(str(err)) from None
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
    on_dask: DaskRun | None = None,
) -> int:
    """Check the arguments, open the files, crawl the ids of `make_source`; the exit status.

    `on_dask` runs a `--dask` crawl instead (its own output directory).
    """
    check_client_flags(args)
    op, params = details_of(args, args.kind)
    out, errors = (None, None) if on_dask is not None else _targets(args)
    require_credentials(args)

    async def work(session: Session) -> int:
        report = session.report(command)
        tmdb = session.backend.tmdb
        with ExitStack() as temporary:
            if on_dask is not None:
                source = await make_source(session, temporary)
                return await on_dask(
                    args, op, params, session.backend, source, session.progress, report
                )
            files = await CrawlFiles.open(
                out,
                errors,
                retry_errors=args.retry_errors,
                announce=announce,
                max_line=max_line_for(tmdb.options.max_body_size),
            )
            try:
                source = await make_source(session, temporary)
                await crawl_counted(
                    getattr(getattr(tmdb, op.namespace), op.name),
                    source,
                    files,
                    "stdout" if out is None else out.name,
                    concurrency=args.concurrency,
                    params=params,
                    progress=session.progress,
                    interrupts=session.interrupts,
                    report=report,
                    typed=args.typed,
                )
            finally:
                await files.aclose(drain=not session.interrupts.requested)
        return 0

    return await run_command(
        args, work, failures={ManifestError: ""}, max_connections=args.concurrency
    )
