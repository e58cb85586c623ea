"""`tmdb-async mirror build|update|status` (docs/mirror.md): the command line's side of
`tmdb_async.mirror`. The extra `mirror` is imported when a command runs, so `--help` and
the rest of the command line work without it; without it a command prints the install hint.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from .._client import TMDB
from .._constants import FETCH_MANY_CONCURRENCY
from .._crawl import FatalError, Interrupts, Report
from .._errors import TMDBError
from ._arguments import date as _date
from ._arguments import ids as _ids
from ._arguments import positive_int as _positive_int
from ._ids import (
    DEFAULT_EXPORT_BASE_URL,
    EXPORT_PREFIXES,
    ExportFilter,
    IdSource,
    export_source,
    file_source,
    range_source,
)
from ._progress import make_progress

if TYPE_CHECKING:
    from ..mirror._store import Store

__all__ = ["Backend", "UsageError", "add_mirror_parser", "run_mirror"]

EXPORTS_READY_HOUR: Final = 8
"""TMDB publishes the day's exports by 08:00 UTC."""
MIRROR_KINDS: Final = tuple(EXPORT_PREFIXES)


class UsageError(Exception):
    """A bad combination of arguments, found after parsing (exit status 2)."""


class Backend(Protocol):
    """What the command line's client factory yields (cli._commands._Backend)."""

    @property
    def tmdb(self) -> TMDB:
        """The client."""

    @property
    def exports_url(self) -> str:
        """Where the daily exports are."""

    @property
    def worker_env(self) -> dict[str, str]:
        """What local Dask workers need in their environment (the fake's token)."""


BackendFactory = Callable[..., AbstractAsyncContextManager[Backend, Any]]
"""`backend(args, max_connections=N, fake_timeline=True)`: the client (and the fake)."""


def add_mirror_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
    credentials_help: str,
) -> None:
    """Add `mirror build|update|status` to the command line's subcommands."""
    mirror = commands.add_parser(
        "mirror",
        help="a local copy of TMDB in SQLite or PostgreSQL (mirror extra)",
        description="Build a copy of TMDB in a database, keep it fresh from the changes feed"
        " and the daily exports, show how fresh it is. See docs/mirror.md. " + credentials_help,
    )
    actions = mirror.add_subparsers(dest="mirror_command", required=True, metavar="ACTION")

    db = argparse.ArgumentParser(add_help=False)
    db.add_argument(
        "--db",
        required=True,
        metavar="URL",
        help="sqlite:///FILE.db or postgresql://USER@HOST/DB (a password: PGPASSWORD)",
    )
    sync = argparse.ArgumentParser(add_help=False)
    sync.add_argument(
        "--concurrency",
        type=_positive_int,
        default=FETCH_MANY_CONCURRENCY,
        help=f"requests in flight (default {FETCH_MANY_CONCURRENCY}, TMDB's cap)",
    )
    sync.add_argument("--no-progress", action="store_true", help="no progress bar")
    sync.add_argument(
        "--export-base-url",
        help=f"where the daily exports are (default {DEFAULT_EXPORT_BASE_URL}; with --fake,"
        " the fake's)",
    )

    build = actions.add_parser(
        "build",
        parents=[common, db, sync],
        help="fetch every id of an export (or of ranges) that has no row yet",
        description="Fetch the details of every id of a daily export (or of ranges) into the"
        " database, skipping ids already there; killed or interrupted, run it again. "
        + credentials_help,
    )
    build.add_argument("kind", choices=MIRROR_KINDS)
    source = build.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--export",
        nargs="?",
        const="latest",
        type=lambda text: text if text == "latest" else _date(text),
        metavar="DATE",
        help="the ids of TMDB's daily export of DATE (default: the latest published)",
    )
    source.add_argument("--ids", type=_ids, help="ids and ranges, e.g. 1-5000,7")
    source.add_argument("--ids-file", type=Path, help="one id per line, # comments")
    build.add_argument("--append", default="", help="append_to_response parts, e.g. credits")
    build.add_argument(
        "--adult",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="keep adult entries (with --export: read the adult_* file too); default no",
    )
    build.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="split the build into shards run by Dask (dask extra) that write to a"
        " PostgreSQL --db directly: local:N or tcp://scheduler:8786",
    )
    build.add_argument("--shard-size", type=_positive_int, help="with --dask: ids per shard")

    update = actions.add_parser(
        "update",
        parents=[common, db, sync],
        help="apply the changes feed and the daily export (resumable)",
        description="Fetch again every id the changes feed lists since the last update (to"
        " --until, default yesterday UTC), then apply the daily export: ids it has and the"
        " mirror lacks are fetched, rows it lacks are tombstoned. " + credentials_help,
    )
    update.add_argument(
        "--kind",
        action="append",
        choices=MIRROR_KINDS,
        help="a kind to update (repeatable; default: every kind the mirror holds)",
    )
    update.add_argument("--until", type=_date, help="last day of changes (default: yesterday)")
    export = update.add_mutually_exclusive_group()
    export.add_argument(
        "--export",
        type=_date,
        metavar="DATE",
        help="the daily export to apply (default: the latest published)",
    )
    export.add_argument("--no-export", action="store_true", help="apply no daily export")
    update.add_argument(
        "--adult",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep adult entries from now on (default: as the build chose)",
    )

    status = actions.add_parser(
        "status",
        parents=[db],
        help="counts, last sync and lag of every kind",
        description="Print, per kind: rows alive and tombstoned, pending ids, the last"
        " export and changes day applied, and the lag.",
    )
    status.set_defaults(verbose=0)


def _announce(message: str) -> None:
    print(f"tmdb-async: {message}", file=sys.stderr, flush=True)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def latest_export(now: dt.datetime) -> dt.date:
    """The newest daily export at `now` (UTC): today's from 08:00, else yesterday's."""
    today = now.date()
    return today if now.hour >= EXPORTS_READY_HOUR else today - dt.timedelta(days=1)


async def run_mirror(args: argparse.Namespace, backend: BackendFactory) -> int:
    """Run `mirror build|update|status`; the exit status."""
    # Without the extra: ImportError with the install hint (main() prints it).
    from ..mirror._store import MirrorError, SQLAlchemyError, Store

    if args.mirror_command == "status":
        try:
            return await _status(args.db)
        except (MirrorError, SQLAlchemyError) as err:
            _announce(str(err))
            return 1
    if args.mirror_command == "build":
        _check_dask(args)
    interrupts = Interrupts.install(_announce)
    progress = make_progress(not args.no_progress)
    reports: list[tuple[str, Report]] = []
    status = 0
    try:
        async with backend(args, max_connections=args.concurrency, fake_timeline=True) as opened:
            store = await Store.open(args.db)
            try:
                if args.mirror_command == "build":
                    await _build(args, opened, store, progress, interrupts, reports)
                else:
                    await _update(args, opened, store, progress, interrupts, reports)
            finally:
                await store.close()
    except asyncio.CancelledError:
        if not interrupts.requested:
            raise
        interrupts.acknowledge()
        if reports:
            reports[-1][1].interrupted = True
    except FatalError as err:
        _announce(f"stopped: {err}")
        status = 1
    except MirrorError as err:
        _announce(str(err))
        status = 1
    except SQLAlchemyError as err:
        _announce(f"database error: {err}")
        status = 1
    except TMDBError as err:  # listing the changes, or a bad option of the client
        _announce(f"{type(err).__name__}: {err}")
        status = 1
    finally:
        progress.stop()
    for command, report in reports:
        print(report.summary(command), file=sys.stderr, flush=True)
    if interrupts.requested:
        return interrupts.exit_status
    return status


async def _build(
    args: argparse.Namespace,
    backend: Backend,
    store: Store,
    progress: Any,
    interrupts: Interrupts,
    reports: list[tuple[str, Report]],
) -> None:
    from ..mirror import KINDS
    from ..mirror._sync import Run, build

    if args.dask is not None:
        await _build_on_dask(args, backend, store, progress, reports)
        return
    report = Report(stats=backend.tmdb.stats)
    reports.append((f"mirror build {args.kind}", report))
    run = Run(backend.tmdb, args.concurrency, progress, interrupts, report, _announce)
    append = tuple(part.strip() for part in args.append.split(",") if part.strip())
    today = _utc_now().date()
    with ExitStack() as files:
        export_date, source = await _build_source(args, backend, progress, files)
        await build(
            run,
            store,
            KINDS[args.kind],
            source,
            append=append,
            adult=args.adult,
            export_date=export_date,
            today=today,
        )


async def _build_source(
    args: argparse.Namespace, backend: Backend, progress: Any, files: ExitStack
) -> tuple[dt.date | None, IdSource]:
    """The export's date (None for ids) and the ids of a build."""
    if args.ids is not None:
        return None, range_source(args.ids)
    if args.ids_file is not None:
        return None, file_source(args.ids_file)
    date: dt.date = args.export
    if args.export == "latest":
        date = _utc_now().date() if args.fake else latest_export(_utc_now())
    progress.phase(f"downloading the {args.kind} export of {date}")
    url = args.export_base_url or backend.exports_url
    return date, await export_source(args.kind, date, url, ExportFilter(adult=args.adult), files)


def _check_dask(args: argparse.Namespace) -> None:
    """Usage errors of `build --dask`, before anything starts."""
    from ..distributed import parse_cluster
    from ..mirror._store import engine_url

    if args.dask is None:
        if args.shard_size is not None:
            raise UsageError("--shard-size splits a --dask build")
        return
    try:
        parse_cluster(args.dask)
    except ValueError as err:
        raise UsageError(f"--dask: {err}") from None
    if engine_url(args.db).get_backend_name() != "postgresql":
        raise UsageError(
            "--dask shards write to the database from many processes: use a postgresql:// --db"
        )
    if args.fake and not args.dask.startswith("local:"):
        raise UsageError("--fake serves on this machine only: use --dask local:N")


async def _build_on_dask(
    args: argparse.Namespace,
    backend: Backend,
    store: Store,
    progress: Any,
    reports: list[tuple[str, Report]],
) -> None:
    from ..distributed import SHARD_SIZE
    from ..mirror import KINDS
    from ..mirror._dask import build_on_cluster
    from ..mirror._sync import begin_build, mirror_params
    from ._sharded import worker_options

    kind = KINDS[args.kind]
    append = tuple(part.strip() for part in args.append.split(",") if part.strip())
    report = Report()
    reports.append((f"mirror build {args.kind}", report))
    with ExitStack() as files:
        export_date, source = await _build_source(args, backend, progress, files)
        state = await begin_build(
            store,
            kind,
            append=append,
            language=backend.tmdb.options.language,
            adult=args.adult,
            export_date=export_date,
            today=_utc_now().date(),
        )
        ids = list(source())
    progress.phase(f"{args.kind}: shards on {args.dask}", total=len(set(ids)))
    try:
        summary = await build_on_cluster(
            store,
            kind,
            ids,
            cluster=args.dask,
            db=args.db,
            adult=args.adult,
            params=mirror_params(state),
            client_options=worker_options(backend.tmdb),
            concurrency=args.concurrency,
            shard_size=args.shard_size or SHARD_SIZE,
            on_progress=progress.advance_by,
            worker_env=backend.worker_env,
        )
    finally:
        report.finished = time.monotonic()
    report.done, report.failed, report.skipped = summary.done, summary.failed, summary.skipped
    report.stats = summary.stats
    for error in summary.shard_errors:
        _announce(f"{error} (run the command again to retry it)")


async def _update(
    args: argparse.Namespace,
    backend: Backend,
    store: Store,
    progress: Any,
    interrupts: Interrupts,
    reports: list[tuple[str, Report]],
) -> None:
    from ..mirror import KINDS
    from ..mirror._sync import Export, Run, update

    now = _utc_now()
    until = args.until or now.date() - dt.timedelta(days=1)
    export_date: dt.date | None = None
    if not args.no_export:
        export_date = args.export or (now.date() if args.fake else latest_export(now))
    kinds = args.kind or [state.kind for state in await store.states()]
    if not kinds:
        _announce(f"{store.url} holds no mirror yet: run `tmdb-async mirror build KIND` first")
    url = args.export_base_url or backend.exports_url
    for name in dict.fromkeys(kinds):
        export = None
        if export_date is not None:
            export = Export(export_date, _export_reader(name, export_date, url))
        report = Report(stats=backend.tmdb.stats)
        reports.append((f"mirror update {name}", report))
        run = Run(backend.tmdb, args.concurrency, progress, interrupts, report, _announce)
        state = await update(run, store, KINDS[name], until=until, export=export, adult=args.adult)
        if interrupts.requested:
            return
        _announce(
            f"{name}: changes through {state.changes_through or '-'},"
            f" export {state.export_date or '-'}"
        )


def _export_reader(kind: str, date: dt.date, url: str) -> Callable[[bool, ExitStack], Any]:
    def read(adult: bool, stack: ExitStack) -> Any:
        return export_source(kind, date, url, ExportFilter(adult=adult), stack)

    return read


async def _status(url: str) -> int:
    from ..mirror import Mirror

    today = _utc_now().date()
    async with Mirror(url) as mirror:
        kinds = await mirror.status()
        print(f"{mirror.store.url}")
        if not kinds:
            print("  empty: run `tmdb-async mirror build KIND --db ...` first")
        for kind in kinds:
            state = kind.state
            lag = kind.lag(today)
            line = (
                f"  {kind.kind:<10} {kind.alive:>9} alive {kind.deleted:>8} deleted"
                f"  export {state.export_date or '-'}"
                f"  changes through {state.changes_through or '-'}"
                f"  lag {'-' if lag is None else f'{lag} d'}"
            )
            if kind.pending:
                line += f"  {kind.pending} pending ({kind.failing} failing)"
            if state.changes_job_until or state.export_job:
                line += "  (a sync is in progress: run update to finish it)"
            if state.unlisted:
                line += f"  {state.unlisted} ids past the feed's 500 pages"
            print(line)
    return 0
