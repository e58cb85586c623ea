"""`tmdb-async mirror build|update|status` (docs/mirror.md): the command line's side of
`tmdb_async.mirror`. The extra `mirror` is imported when a command runs, so `--help` and
the rest of the command line work without it; without it a command prints the install hint.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import time
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, Final

from .._constants import FETCH_MANY_CONCURRENCY
from .._crawl import DEFAULT_EXPORT_BASE_URL, EXPORT_PREFIXES, ExportFilter, id_bitmap
from .._errors import ParameterError
from ..distributed import DASK_HINT, SHARD_SIZE
from ._arguments import date_argument, positive_int
from ._bulk import append_parts, details_of
from ._client_flags import (
    CREDENTIALS_HELP,
    UsageError,
    add_client_flags,
    check_client_flags,
    require_credentials,
)
from ._crawl_cmd import MissingExtraError
from ._registry import Subcommands
from ._runner import EXIT_FAILURE, Session, announce, run_command
from ._sharded import MAX_DASK_IDS, TOO_MANY_FOR_DASK
from ._sources import add_id_source_options, id_source, latest_export

if TYPE_CHECKING:
    from ..mirror._store import State, Store

__all__ = ["MIRROR_KINDS", "register"]

MIRROR_KINDS: Final = tuple(EXPORT_PREFIXES)


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
    add_id_source_options(
        build,
        adult="keep adult entries",
        dask="its shards write to a PostgreSQL --db directly",
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


async def _mirror(args: argparse.Namespace) -> int:
    """Run `mirror build|update|status`; the exit status."""
    # Without the extra: ImportError with the install hint (the command line prints it).
    from ..mirror._store import MirrorError, SQLAlchemyError, Store, engine_url

    try:
        engine_url(args.db)
    except ParameterError as err:
        raise UsageError(str(err)) from None
    failures: dict[type[BaseException], str] = {
        MirrorError: "",
        SQLAlchemyError: "database error: ",
    }
    if args.mirror_command == "status":
        try:
            return await _status(args.db)
        except (MirrorError, SQLAlchemyError) as err:
            prefix = "" if isinstance(err, MirrorError) else failures[SQLAlchemyError]
            announce(f"{prefix}{err}")
            return EXIT_FAILURE
    check_client_flags(args)
    building = args.mirror_command == "build"
    if building:
        _check_build(args)
    require_credentials(args)

    async def work(session: Session) -> int:
        store = await Store.open(args.db, create=building)
        try:
            if building:
                return await _build(args, session, store)
            return await _update(args, session, store)
        finally:
            await store.close()

    return await run_command(
        args, work, failures=failures, max_connections=args.concurrency, fake_timeline=True
    )


def _check_build(args: argparse.Namespace) -> None:
    """Usage errors of `build`, before anything starts."""
    from ..mirror._store import engine_url

    details_of(args, args.kind)  # --append and --language, as the client checks them
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


async def _build(args: argparse.Namespace, session: Session, store: Store) -> int:
    from ..mirror import KINDS
    from ..mirror._sync import Run, build

    report = session.report(f"mirror build {args.kind}")
    with ExitStack() as files:
        keep = ExportFilter(adult=args.adult)
        export_date, source = await id_source(
            args, args.kind, session.backend, session.progress, files, keep
        )
        if args.dask is not None:
            return await _build_on_dask(args, session, store, source, export_date, report)
        tmdb = session.backend.tmdb
        run = Run(tmdb, args.concurrency, session.progress, session.interrupts, report, announce)
        await build(
            run,
            store,
            KINDS[args.kind],
            source,
            append=append_parts(args),
            adult=args.adult,
            export_date=export_date,
            today=_utc_now().date(),
        )
    return 0


async def _build_on_dask(
    args: argparse.Namespace,
    session: Session,
    store: Store,
    source: Any,
    export_date: dt.date | None,
    report: Any,
) -> int:
    """Every shard is planned before the first starts: the ids are listed (compressed) here,
    as many as `crawl --dask` takes."""
    from ..mirror import KINDS
    from ..mirror._dask import build_on_cluster
    from ..mirror._sync import begin_build, finish_build, mirror_params

    ids = await id_bitmap(source)  # ranges: checked by _check_build
    if len(ids) > MAX_DASK_IDS:
        raise UsageError(TOO_MANY_FOR_DASK)
    kind, tmdb, progress = KINDS[args.kind], session.backend.tmdb, session.progress
    state = await begin_build(
        store,
        kind,
        append=append_parts(args),
        language=tmdb.options.language,
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
            client_options=tmdb.options.keywords(),
            concurrency=args.concurrency,
            shard_size=args.shard_size or SHARD_SIZE,
            on_progress=progress.advance_by,
            worker_env=session.backend.worker_env,
        )
    finally:
        report.finished = time.monotonic()
    report.done, report.failed, report.skipped = summary.done, summary.failed, summary.skipped
    report.stats = summary.stats
    for error in summary.shard_errors:
        announce(f"{error} (run the command again to retry it)")
    if summary.shard_errors:
        return EXIT_FAILURE
    await finish_build(store, kind, state)
    return 0


async def _update(args: argparse.Namespace, session: Session, store: Store) -> int:
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
        return EXIT_FAILURE
    exports_url = session.backend.exports_url
    for name in dict.fromkeys(kinds):
        export = None if export_date is None else Export.daily(name, export_date, exports_url)
        run = Run(
            session.backend.tmdb,
            args.concurrency,
            session.progress,
            session.interrupts,
            session.report(f"mirror update {name}"),
            announce,
        )
        state = await update(run, store, KINDS[name], until=until, export=export, adult=args.adult)
        if session.interrupts.requested:
            return 0
        announce(
            f"{name}: changes through {state.changes_through or '-'},"
            f" export {state.export_date or '-'}{_building(state)}"
        )
    return 0


def _building(state: State) -> str:
    if not state.building:
        return ""
    source = f"the export of {state.build_export}" if state.build_export else "ids"
    return f"  (build in progress, from {source}: run it again to finish it)"


async def _status(url: str) -> int:
    from ..mirror import Mirror

    today = _utc_now().date()
    async with Mirror(url, create=False) as mirror:
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
            line += _building(state)
            if state.unlisted:
                line += f"  {state.unlisted} ids past the feed's 500 pages"
            print(line)
    return 0
