"""`tmdb-async mirror build|update|status` (docs/mirror.md): the command line's side of
`tmdb_async.mirror`. The extra `mirror` is imported when a command runs, so `--help` and
the rest of the command line work without it; without it a command prints the install hint.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import sys
import time
from contextlib import ExitStack
from typing import TYPE_CHECKING, Final

from .._constants import FETCH_MANY_CONCURRENCY
from .._crawl import FatalError, Interrupts, Report
from .._errors import TMDBError
from ..distributed import DASK_HINT, SHARD_SIZE
from ._arguments import cluster_argument, date_argument, ids_argument, positive_int
from ._bulk import EXIT_FAILURE, announce
from ._client_flags import (
    CREDENTIALS_HELP,
    Backend,
    UsageError,
    add_client_flags,
    backend,
    check_client_flags,
    require_credentials,
)
from ._crawl_cmd import MissingExtraError
from ._ids import (
    DEFAULT_EXPORT_BASE_URL,
    EXPORT_PREFIXES,
    ExportFilter,
    IdSource,
    export_source,
    file_source,
    id_bitmap,
    range_source,
)
from ._progress import Progress, make_progress
from ._registry import Subcommands
from ._sharded import MAX_DASK_IDS, TOO_MANY_FOR_DASK

if TYPE_CHECKING:
    from ..mirror._store import Store

__all__ = ["MIRROR_KINDS", "latest_export", "register"]

EXPORTS_READY_HOUR: Final = 8
"""TMDB publishes the day's exports by 08:00 UTC."""
MIRROR_KINDS: Final = tuple(EXPORT_PREFIXES)


def _export_argument(text: str) -> dt.date | str:
    return text if text == "latest" else date_argument(text)


def register(commands: Subcommands) -> None:
    """Add `mirror build|update|status` to the command line; `build` and `update` talk to
    TMDB, so they take the client flags (before `mirror` too, as every subcommand does)."""
    mirror = commands.add(
        "mirror",
        run=_mirror,
        help="a local copy of TMDB in SQLite or PostgreSQL (mirror extra)",
        client=False,
        description="Build a copy of TMDB in a database, keep it fresh from the changes feed"
        " and the daily exports, show how fresh it is. See docs/mirror.md. " + CREDENTIALS_HELP,
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
        type=positive_int,
        default=FETCH_MANY_CONCURRENCY,
        help=f"requests in flight (default {FETCH_MANY_CONCURRENCY}, TMDB's cap)",
    )
    sync.add_argument("--no-progress", action="store_true", help="no progress bar")
    sync.add_argument(
        "--export-base-url",
        metavar="URL",
        help=f"where the daily exports are (default {DEFAULT_EXPORT_BASE_URL}; with --fake,"
        " the fake's)",
    )

    build = actions.add_parser(
        "build",
        parents=[db, sync],
        help="fetch every id of an export (or of ranges) that has no row yet",
        description="Fetch the details of every id of a daily export (or of ranges) into the"
        " database, skipping ids already there; killed or interrupted, run it again. "
        + CREDENTIALS_HELP,
    )
    add_client_flags(build)
    build.add_argument("kind", choices=MIRROR_KINDS)
    source = build.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--export",
        nargs="?",
        const="latest",
        type=_export_argument,
        metavar="DATE",
        help="the ids of TMDB's daily export of DATE (default: the latest published)",
    )
    source.add_argument("--ids", type=ids_argument, help="ids and ranges, e.g. 1-5000,7")
    source.add_argument(
        "--ids-file", metavar="FILE", help="one id per line, # comments; - for stdin, or a FIFO"
    )
    build.add_argument("--append", default="", help="append_to_response parts, e.g. credits")
    build.add_argument(
        "--adult",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="keep adult entries (with --export: read the adult_* file too); default no",
    )
    build.add_argument(
        "--dask",
        type=cluster_argument,
        metavar="ADDRESS",
        help="split the build into shards run by Dask (dask extra) that write to a"
        " PostgreSQL --db directly: local:N or tcp://scheduler:8786",
    )
    build.add_argument(
        "--shard-size", type=positive_int, help=f"with --dask: ids per shard (default {SHARD_SIZE})"
    )

    update = actions.add_parser(
        "update",
        parents=[db, sync],
        help="apply the changes feed and the daily export (resumable)",
        description="Fetch again every id the changes feed lists since the last update (to"
        " --until, default yesterday UTC), then apply the daily export: ids it has and the"
        " mirror lacks are fetched, rows it lacks are tombstoned. " + CREDENTIALS_HELP,
    )
    add_client_flags(update)
    update.add_argument(
        "--kind",
        action="append",
        choices=MIRROR_KINDS,
        help="a kind to update (repeatable; default: every kind the mirror holds)",
    )
    update.add_argument(
        "--until", type=date_argument, help="last day of changes (default: yesterday)"
    )
    export = update.add_mutually_exclusive_group()
    export.add_argument(
        "--export",
        type=date_argument,
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

    actions.add_parser(
        "status",
        parents=[db],
        help="counts, last sync and lag of every kind",
        description="Print, per kind: rows alive and tombstoned, pending ids, the last"
        " export and changes day applied, and the lag.",
    )


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def latest_export(now: dt.datetime) -> dt.date:
    """The newest daily export at `now` (UTC): today's from 08:00, else yesterday's."""
    today = now.date()
    return today if now.hour >= EXPORTS_READY_HOUR else today - dt.timedelta(days=1)


async def _mirror(args: argparse.Namespace) -> int:
    """Run `mirror build|update|status`; the exit status."""
    # Without the extra: ImportError with the install hint (the command line prints it).
    from ..mirror._store import MirrorError, SQLAlchemyError, Store

    if args.mirror_command == "status":
        try:
            return await _status(args.db)
        except (MirrorError, SQLAlchemyError) as err:
            announce(str(err))
            return EXIT_FAILURE
    check_client_flags(args)
    if args.mirror_command == "build":
        _check_build(args)
    require_credentials(args)
    interrupts = Interrupts.install(announce)
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
    except FatalError as err:
        announce(f"stopped: {err}")
        status = EXIT_FAILURE
    except MirrorError as err:
        announce(str(err))
        status = EXIT_FAILURE
    except SQLAlchemyError as err:
        announce(f"database error: {err}")
        status = EXIT_FAILURE
    except TMDBError as err:  # listing the changes, or a bad option of the client
        announce(f"{type(err).__name__}: {err}")
        status = EXIT_FAILURE
    finally:
        progress.stop()
    if interrupts.requested and reports:
        reports[-1][1].interrupted = True
    for command, report in reports:
        print(report.summary(command), file=sys.stderr, flush=True)
    return interrupts.exit_status if interrupts.requested else status


def _check_build(args: argparse.Namespace) -> None:
    """Usage errors of `build`, before anything starts."""
    from ..mirror._store import engine_url

    if args.dask is None:
        if args.shard_size is not None:
            raise UsageError("--shard-size splits a --dask build")
        return
    if engine_url(args.db).get_backend_name() != "postgresql":
        raise UsageError(
            "--dask shards write to the database from many processes: use a postgresql:// --db"
        )
    if args.fake and not args.dask.startswith("local:"):
        raise UsageError("--fake serves on this machine only: use --dask local:N")
    if args.ids is not None and sum(len(r) for r in args.ids) > MAX_DASK_IDS:
        raise UsageError(TOO_MANY_FOR_DASK)
    if importlib.util.find_spec("distributed") is None:
        raise MissingExtraError(DASK_HINT)


def _append_parts(args: argparse.Namespace) -> tuple[str, ...]:
    return tuple(part.strip() for part in args.append.split(",") if part.strip())


async def _build(
    args: argparse.Namespace,
    backend: Backend,
    store: Store,
    progress: Progress,
    interrupts: Interrupts,
    reports: list[tuple[str, Report]],
) -> None:
    from ..mirror import KINDS
    from ..mirror._sync import Run, build

    report = Report(stats=backend.tmdb.stats)
    reports.append((f"mirror build {args.kind}", report))
    with ExitStack() as files:
        export_date, source = await _build_source(args, backend, progress, files)
        if args.dask is not None:
            await _build_on_dask(args, backend, store, source, export_date, progress, report)
            return
        run = Run(backend.tmdb, args.concurrency, progress, interrupts, report, announce)
        await build(
            run,
            store,
            KINDS[args.kind],
            source,
            append=_append_parts(args),
            adult=args.adult,
            export_date=export_date,
            today=_utc_now().date(),
        )


async def _build_source(
    args: argparse.Namespace, backend: Backend, progress: Progress, files: ExitStack
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
    keep = ExportFilter(adult=args.adult)
    return date, await export_source(args.kind, date, backend.exports_url, keep, files)


async def _build_on_dask(
    args: argparse.Namespace,
    backend: Backend,
    store: Store,
    source: IdSource,
    export_date: dt.date | None,
    progress: Progress,
    report: Report,
) -> None:
    """Every shard is planned before the first starts: the ids are listed (compressed) here,
    as many as `crawl --dask` takes."""
    from ..mirror import KINDS
    from ..mirror._dask import build_on_cluster
    from ..mirror._sync import begin_build, mirror_params

    ids = await id_bitmap(source)  # ranges: checked by _check_build
    if len(ids) > MAX_DASK_IDS:
        raise UsageError(TOO_MANY_FOR_DASK)
    kind = KINDS[args.kind]
    state = await begin_build(
        store,
        kind,
        append=_append_parts(args),
        language=backend.tmdb.options.language,
        adult=args.adult,
        export_date=export_date,
        today=_utc_now().date(),
    )
    progress.phase(f"{args.kind}: shards on {args.dask}", total=len(ids))
    report.started = time.monotonic()
    try:
        summary = await build_on_cluster(
            store,
            kind,
            ids,
            cluster=args.dask,
            db=args.db,
            adult=args.adult,
            params=mirror_params(state),
            client_options=backend.tmdb.options.keywords(),
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
        announce(f"{error} (run the command again to retry it)")


async def _update(
    args: argparse.Namespace,
    backend: Backend,
    store: Store,
    progress: Progress,
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
        announce(f"{store.url} holds no mirror yet: run `tmdb-async mirror build KIND` first")
    for name in dict.fromkeys(kinds):
        export = None
        if export_date is not None:
            export = Export.daily(name, export_date, backend.exports_url)
        report = Report(stats=backend.tmdb.stats)
        reports.append((f"mirror update {name}", report))
        run = Run(backend.tmdb, args.concurrency, progress, interrupts, report, announce)
        state = await update(run, store, KINDS[name], until=until, export=export, adult=args.adult)
        if interrupts.requested:
            return
        announce(
            f"{name}: changes through {state.changes_through or '-'},"
            f" export {state.export_date or '-'}"
        )


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
