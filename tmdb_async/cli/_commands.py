"""Argument parsing and dispatch: `get`, `crawl`, `changes`, `fake-server` (docs/cli.md)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import msgspec

from .._client import TMDB
from .._constants import ACCESS_TOKEN_ENV, FETCH_MANY_CONCURRENCY, RATE_LIMIT
from .._crawl import (
    CHANGES_KINDS,
    EXIT_STATUS,
    CorruptFileError,
    FatalError,
    FileBusyError,
    Interrupts,
    Report,
    changed_ids,
    crawl,
    errors_path,
    json_line,
)
from .._errors import TMDBError
from .._generated.operations import ENDPOINTS
from .._operation import Operation
from ..distributed import DASK_HINT, SHARD_SIZE, ManifestError, parse_cluster
from ._arguments import date as _date
from ._arguments import ids as _ids_argument
from ._arguments import positive_int as _positive_int
from ._ids import (
    DEFAULT_EXPORT_BASE_URL,
    EXPORT_PREFIXES,
    POPULARITY_EXPORTS,
    ExportFilter,
    IdsError,
    IdSource,
    export_source,
    file_source,
    range_source,
)
from ._mirror import UsageError as _MirrorUsageError
from ._mirror import add_mirror_parser, run_mirror
from ._progress import Progress, make_progress, setup_logging
from ._sharded import crawl_on_dask

__all__ = ["KIND_ALIASES", "main", "resolve_target"]

OPERATIONS = {(op.namespace, op.name): op for op in ENDPOINTS}
KIND_ALIASES = {
    "movie": "movies",
    "tv": "tv_series",
    "season": "tv_seasons",
    "episode": "tv_episodes",
    "person": "people",
    "collection": "collections",
    "company": "companies",
    "network": "networks",
    "keyword": "keywords",
    "review": "reviews",
    "credit": "credits",
    "list": "lists",
}
CRAWL_KINDS: Final = tuple(EXPORT_PREFIXES)
"""Kinds `crawl` fetches the details of (each has a daily id export)."""
CREDENTIALS_HELP: Final = (
    "Credentials come only from the environment (TMDB_ACCESS_TOKEN, else TMDB_API_KEY), never from"
    " a flag, so they stay out of shell history."
)
EXIT_FAILURE: Final = 1
EXIT_USAGE: Final = 2


def _cluster_argument(text: str) -> str:
    try:
        return parse_cluster(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--base-url", help="TMDB API base URL (default: $TMDB_BASE_URL or TMDB)")
    common.add_argument(
        "--fake",
        action="store_true",
        help="run against an in-process FakeTMDB: no account, no network (rate unlimited)",
    )
    common.add_argument(
        "--fake-missing",
        type=_ids_argument,
        metavar="IDS",
        help="with --fake: these ids answer 404 (code 34), e.g. 13,40-42",
    )
    common.add_argument(
        "--cache",
        default="none",
        help="response cache: none (default), memory, or redis://HOST:PORT/DB (shared by runs)",
    )
    common.add_argument(
        "--rate",
        type=float,
        help=f"requests per second, 0 for no limit (default {RATE_LIMIT:g}, TMDB's limit is ~40)",
    )
    common.add_argument(
        "--rate-store",
        metavar="REDIS_URL",
        help="share the --rate budget with other processes through this Redis (redis extra)",
    )
    common.add_argument(
        "--rate-scope",
        metavar="SCOPE",
        help="with --rate-store: host (default, one budget per machine), global (all"
        " processes leave through one IP) or a name of your own",
    )
    common.add_argument("--language", help="ISO 639-1 language, e.g. de-DE")
    common.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log retries and 429s (-vv: every request); credentials are never logged",
    )

    bulk = argparse.ArgumentParser(add_help=False)
    bulk.add_argument("--out", required=True, type=Path, help="JSON Lines output, appended to")
    bulk.add_argument("--errors", type=Path, help="failed ids (default: OUT.errors.jsonl)")
    bulk.add_argument("--append", default="", help="append_to_response parts, e.g. credits,images")
    bulk.add_argument(
        "--concurrency",
        type=_positive_int,
        default=FETCH_MANY_CONCURRENCY,
        help=f"requests in flight and connections (default {FETCH_MANY_CONCURRENCY}, TMDB's cap)",
    )
    bulk.add_argument(
        "--retry-errors",
        action="store_true",
        help="fetch again the ids of the errors file (which starts empty)",
    )
    bulk.add_argument("--no-progress", action="store_true", help="no progress bar")
    bulk.add_argument(
        "--typed",
        action="store_true",
        help="write the models re-encoded by msgspec instead of TMDB's bytes (docs/cli.md)",
    )

    parser = argparse.ArgumentParser(
        prog="tmdb-async",
        description="Fetch from TMDB: one resource, many ids, or what changed. " + CREDENTIALS_HELP,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    get = commands.add_parser(
        "get",
        parents=[common],
        help="fetch one resource as JSON",
        description="`get movie 550` (details of a kind) or `get NAMESPACE METHOD ARGS...`,"
        " e.g. `get tv_seasons details 1399 1`. " + CREDENTIALS_HELP,
    )
    get.add_argument("target", nargs="+", help="KIND ID... or NAMESPACE METHOD ARGS...")
    get.add_argument("--append", default="", help="append_to_response parts, comma-separated")
    get.add_argument(
        "--compact", action="store_true", help="TMDB's bytes on one line instead of pretty JSON"
    )
    get.add_argument(
        "--typed", action="store_true", help="the model re-encoded by msgspec, not TMDB's bytes"
    )

    crawl_parser = commands.add_parser(
        "crawl",
        parents=[common, bulk],
        help="fetch many ids into JSON Lines (resumable)",
        description="Fetch the details of many ids into JSON Lines, one object per line."
        " Killed or interrupted, run it again with the same arguments: ids already in OUT"
        " (or in the errors file) are skipped. " + CREDENTIALS_HELP,
    )
    crawl_parser.add_argument("kind", choices=CRAWL_KINDS)
    source = crawl_parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--ids", type=_ids_argument, help="ids and ranges, e.g. 1-5000,7,9-12")
    source.add_argument("--ids-file", type=Path, help="one id per line, # comments")
    source.add_argument(
        "--export", type=_date, metavar="DATE", help="every id of TMDB's daily export of DATE"
    )
    crawl_parser.add_argument(
        "--min-popularity", type=float, help="with --export: skip ids below this popularity"
    )
    crawl_parser.add_argument(
        "--adult",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="with --export: include adult entries (read the adult_* file too); default no",
    )
    crawl_parser.add_argument(
        "--dask",
        type=_cluster_argument,
        metavar="ADDRESS",
        help="split the crawl into shards run by Dask (dask extra): local:N for N worker"
        " processes here, or a scheduler such as tcp://scheduler:8786; OUT is then a"
        " directory of part files and a manifest (see docs/distributed.md)",
    )
    crawl_parser.add_argument(
        "--shard-size",
        type=_positive_int,
        help=f"with --dask: ids per shard (default {SHARD_SIZE})",
    )
    crawl_parser.add_argument(
        "--export-base-url",
        help=f"where the daily exports are (default {DEFAULT_EXPORT_BASE_URL};"
        " with --fake, the fake's)",
    )

    changes = commands.add_parser(
        "changes",
        parents=[common, bulk],
        help="fetch what changed since a date (incremental sync)",
        description="Fetch the details of every id changed between --since and --until (windows"
        " of at most 14 days, all pages), then print the watermark (the --until date) to pass as"
        " --since next time. OUT is this run's file: resumable like crawl. " + CREDENTIALS_HELP,
    )
    changes.add_argument("kind", choices=tuple(CHANGES_KINDS))
    changes.add_argument("--since", type=_date, required=True, help="first day, YYYY-MM-DD")
    changes.add_argument("--until", type=_date, help="last day (default: today, UTC)")
    changes.add_argument(
        "--max-pages", type=_positive_int, help="read at most this many pages of each window"
    )

    add_mirror_parser(commands, common, CREDENTIALS_HELP)

    commands.add_parser(
        "fake-server",
        add_help=False,
        help="serve FakeTMDB on loopback (see `tmdb-async fake-server --help`)",
    )
    return parser


def resolve_target(target: Sequence[str]) -> tuple[Operation[Any], list[str]]:
    """Map `movie 550` or `tv_seasons details 1399 1` to an operation and its path args."""
    head, rest = target[0], list(target[1:])
    if rest and (head, rest[0]) in OPERATIONS:
        return OPERATIONS[(head, rest[0])], rest[1:]
    namespace = KIND_ALIASES.get(head, head)
    if (namespace, "details") in OPERATIONS:
        return OPERATIONS[(namespace, "details")], rest
    known = ", ".join(sorted(KIND_ALIASES))
    raise SystemExit(
        f"tmdb-async: unknown target {' '.join(target)!r} (kinds: {known}; or NAMESPACE METHOD)"
    )


def _path_args(op: Operation[Any], raw: list[str]) -> list[object]:
    if len(raw) != len(op.path_params):
        names = " ".join(p.name.upper() for p in op.path_params)
        raise SystemExit(f"tmdb-async: {op.namespace} {op.name} takes {names or 'no arguments'}")
    return [
        int(v) if p.kind == "int" and v.lstrip("-").isdigit() else v
        for p, v in zip(op.path_params, raw, strict=True)
    ]


def _append_parts(args: argparse.Namespace, op: Operation[Any] | None = None) -> list[str]:
    parts = [part.strip() for part in args.append.split(",") if part.strip()]
    if parts and op is not None and not op.append_parts:
        raise _UsageError(f"{args.kind} details take no --append")
    return parts


class _UsageError(Exception):
    """A bad combination of arguments, found after parsing."""


class _MissingExtra(Exception):
    """An optional dependency the command needs is not installed; the message says which."""


@dataclass(frozen=True)
class _Backend:
    tmdb: TMDB
    exports_url: str
    worker_env: dict[str, str] = field(default_factory=dict)
    """What the workers of a local Dask cluster need in their environment (the fake's token)."""


@asynccontextmanager
async def _backend(
    args: argparse.Namespace, max_connections: int | None = None, fake_timeline: bool = False
) -> AsyncIterator[_Backend]:
    """The client (and, with `--fake`, the in-process FakeTMDB it talks to; with
    `fake_timeline`, one whose catalogue moves day by day)."""
    rate: float | None = RATE_LIMIT
    if args.rate is not None:
        rate = args.rate or None
    elif args.fake:
        rate = None  # the fake has no rate limit: offline runs go as fast as they can
    options: dict[str, Any] = {
        "cache": None if args.cache == "none" else args.cache,
        "rate_limit": rate,
        "language": args.language,
        "rate_limit_store": args.rate_store,
        "rate_limit_scope": args.rate_scope,
    }
    if max_connections is not None:
        options["max_connections"] = max_connections
    exports_url = getattr(args, "export_base_url", None) or DEFAULT_EXPORT_BASE_URL
    if args.fake and args.base_url:
        raise _UsageError("--fake runs its own server: drop --base-url")
    worker_env: dict[str, str] = {}
    async with AsyncExitStack() as stack:
        if args.fake:
            from ..testing import FakeTMDB, Timeline

            missing: set[int | str] = {i for r in args.fake_missing or () for i in r}
            timeline = Timeline() if fake_timeline else None
            fake = await stack.enter_async_context(FakeTMDB(missing_ids=missing, timeline=timeline))
            options.update(access_token=fake.access_token, base_url=fake.url)
            worker_env[ACCESS_TOKEN_ENV] = fake.access_token
            exports_url = getattr(args, "export_base_url", None) or fake.exports_url
        elif args.fake_missing:
            raise _UsageError("--fake-missing needs --fake")
        else:
            options["base_url"] = args.base_url
        tmdb = await stack.enter_async_context(TMDB(**options))
        yield _Backend(tmdb, exports_url, worker_env)


# -- get -----------------------------------------------------------------------------------


async def _get(args: argparse.Namespace) -> int:
    op, raw = resolve_target(args.target)
    keywords: dict[str, object] = {}
    if parts := _append_parts(args):
        keywords["append_to_response"] = parts
    path_args = _path_args(op, raw)
    async with _backend(args) as backend:
        method = getattr(getattr(backend.tmdb, op.namespace), op.name)
        response = await backend.tmdb.response(method, *path_args, **keywords)
    # Pretty-printing and `json_line` change only the whitespace between JSON tokens.
    body = msgspec.json.encode(response.value) if args.typed else response.body
    output = json_line(body) if args.compact else msgspec.json.format(body, indent=2) + b"\n"
    sys.stdout.buffer.write(output)
    return 0


# -- crawl and changes ---------------------------------------------------------------------


def _announce(message: str) -> None:
    print(f"tmdb-async: {message}", file=sys.stderr, flush=True)


SourceFactory = Callable[[_Backend, ExitStack, Progress], Awaitable[IdSource]]


async def _run_crawl(args: argparse.Namespace, command: str, make_source: SourceFactory) -> int:
    """Open the client, build the ids, crawl, print the summary; the exit status."""
    op = OPERATIONS[(KIND_ALIASES[args.kind], "details")]
    params: dict[str, Any] = {}
    if parts := _append_parts(args, op):
        params["append_to_response"] = parts
    report = Report()
    interrupts = Interrupts.install(_announce)
    progress = make_progress(not args.no_progress)
    status = 0
    try:
        with ExitStack() as files:
            async with _backend(args, max_connections=args.concurrency) as backend:
                report.stats = backend.tmdb.stats
                source = await make_source(backend, files, progress)
                if getattr(args, "dask", None) is not None:  # `changes` has no --dask
                    status = await crawl_on_dask(
                        args, op, params, backend.tmdb, backend.worker_env, source, progress, report
                    )
                    progress.stop()
                    return _finish(report, command, interrupts, status)
                await crawl(
                    getattr(getattr(backend.tmdb, op.namespace), op.name),
                    source,
                    out=args.out,
                    errors=args.errors or errors_path(args.out),
                    retry_errors=args.retry_errors,
                    concurrency=args.concurrency,
                    params=params,
                    progress=progress,
                    interrupts=interrupts,
                    report=report,
                    announce=_announce,
                    typed=args.typed,
                )
    except asyncio.CancelledError:
        if not interrupts.requested:
            raise
        interrupts.acknowledge()
        report.interrupted = True
    except FatalError as err:
        _announce(f"stopped: {err}")
        status = EXIT_FAILURE
    except TMDBError as err:  # listing the changes, or a bad option of the client
        _announce(f"{type(err).__name__}: {err}")
        status = EXIT_FAILURE
    except ManifestError as err:
        _announce(str(err))
        status = EXIT_FAILURE
    finally:
        progress.stop()
    return _finish(report, command, interrupts, status)


def _finish(report: Report, command: str, interrupts: Interrupts, status: int) -> int:
    """Print the summary; the exit status."""
    print(report.summary(command), file=sys.stderr, flush=True)
    if report.interrupted:
        return interrupts.exit_status
    return status


async def _crawl(args: argparse.Namespace) -> int:
    if args.dask is None and args.shard_size is not None:
        raise _UsageError("--shard-size splits a --dask crawl")
    if args.dask is not None:
        if args.errors is not None:
            raise _UsageError("with --dask each part has its own errors file: drop --errors")
        if args.fake and not args.dask.startswith("local:"):
            raise _UsageError("--fake serves on this machine only: use --dask local:N")
        if importlib.util.find_spec("distributed") is None:
            raise _MissingExtra(DASK_HINT)
    if args.export is None and (args.min_popularity is not None or args.adult):
        raise _UsageError("--min-popularity and --adult filter an --export")
    if args.min_popularity is not None and args.kind not in POPULARITY_EXPORTS:
        raise _UsageError(f"the {args.kind} export has no popularity: drop --min-popularity")

    async def make_source(backend: _Backend, files: ExitStack, progress: Progress) -> IdSource:
        if args.ids is not None:
            return range_source(args.ids)
        if args.ids_file is not None:
            return file_source(args.ids_file)
        progress.phase(f"downloading the {args.kind} export of {args.export}")
        keep = ExportFilter(min_popularity=args.min_popularity, adult=args.adult)
        return await export_source(args.kind, args.export, backend.exports_url, keep, files)

    return await _run_crawl(args, "crawl", make_source)


async def _changes(args: argparse.Namespace) -> int:
    until: dt.date = args.until or dt.datetime.now(dt.timezone.utc).date()
    if until < args.since:
        raise _UsageError(f"--until {until} is before --since {args.since}")

    async def make_source(backend: _Backend, files: ExitStack, progress: Progress) -> IdSource:
        ids = await changed_ids(
            backend.tmdb, args.kind, args.since, until, max_pages=args.max_pages, progress=progress
        )
        return lambda: iter(ids)

    status = await _run_crawl(args, "changes", make_source)
    if status == 0:
        print(until.isoformat(), flush=True)  # the watermark: --since of the next run
    return status


COMMANDS: Final[dict[str, Callable[[argparse.Namespace], Coroutine[Any, Any, int]]]] = {
    "get": _get,
    "crawl": _crawl,
    "changes": _changes,
    "mirror": lambda args: run_mirror(args, _backend),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["fake-server"]:
        from ..testing.__main__ import main as serve

        serve(arguments[1:], prog="tmdb-async fake-server")
        return 0
    args = _parser().parse_args(arguments)
    setup_logging(args.verbose)
    try:
        return asyncio.run(COMMANDS[args.command](args))
    except (_UsageError, _MirrorUsageError) as err:
        print(f"tmdb-async: {err}", file=sys.stderr)
        return EXIT_USAGE
    except (_MissingExtra, ImportError) as err:
        print(f"tmdb-async: {err}", file=sys.stderr)
        return EXIT_FAILURE
    except (IdsError, FileBusyError, CorruptFileError, OSError) as err:
        print(f"tmdb-async: {err}", file=sys.stderr)
        return EXIT_FAILURE
    except TMDBError as err:
        print(f"tmdb-async: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_FAILURE
    except TypeError as err:
        print(f"tmdb-async: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_STATUS[signal.SIGINT]
