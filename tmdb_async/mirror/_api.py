"""Build and update a mirror from Python: what `tmdb-async mirror build|update` run, without
the progress bar and signal handling of the command line."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from typing import Any

from .._client import TMDB
from .._constants import FETCH_MANY_CONCURRENCY, LOGGER_NAME
from .._crawl import Interrupts, Report
from .._errors import ParameterError
from ..cli._ids import DEFAULT_EXPORT_BASE_URL, ExportFilter, export_source
from ..cli._progress import NullProgress
from ._read import kind_of
from ._store import State, Store
from ._sync import Export, Run
from ._sync import build as _build
from ._sync import update as _update

__all__ = ["build", "update"]

logger = logging.getLogger(LOGGER_NAME)


def _run(tmdb: TMDB, concurrency: int) -> Run:
    task = asyncio.current_task()
    assert task is not None
    return Run(
        tmdb, concurrency, NullProgress(), Interrupts(task, logger.info), Report(), logger.info
    )


def _today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


async def build(
    tmdb: TMDB,
    db: str,
    kind: str,
    ids: Iterable[int] | None = None,
    *,
    export: dt.date | None = None,
    exports_url: str = DEFAULT_EXPORT_BASE_URL,
    append: Sequence[str] = (),
    adult: bool = False,
    concurrency: int = FETCH_MANY_CONCURRENCY,
) -> Report:
    """Fetch every id of `ids` (or of the daily export of `export`) without a row into the
    mirror at `db`; resumable. Returns what the run did (`done`, `failed`, `skipped`)."""
    info = kind_of(kind)
    if (ids is None) == (export is None):
        raise ParameterError("build takes ids or export (a date), not both nor neither")
    run = _run(tmdb, concurrency)
    store = await Store.open(db)
    try:
        with ExitStack() as files:
            if export is not None:
                keep = ExportFilter(adult=adult)
                source = await export_source(info.name, export, exports_url, keep, files)
            else:
                listed = list(ids or ())

                def source() -> Any:
                    return iter(listed)

            await _build(
                run,
                store,
                info,
                source,
                append=tuple(append),
                adult=adult,
                export_date=export,
                today=_today(),
            )
    finally:
        await store.close()
    return run.report


async def update(
    tmdb: TMDB,
    db: str,
    kind: str,
    *,
    until: dt.date | None = None,
    export: dt.date | None = None,
    exports_url: str = DEFAULT_EXPORT_BASE_URL,
    adult: bool | None = None,
    concurrency: int = FETCH_MANY_CONCURRENCY,
) -> State:
    """Apply the changes feed through `until` (default: yesterday, UTC) and, if given, the
    daily export of `export` to the mirror's `kind`; resumable. Returns its sync state.

    `tmdb` must not cache (`cache=None`): a cached body may be older than its change.
    """
    info = kind_of(kind)
    run = _run(tmdb, concurrency)
    reader = None
    if export is not None:

        def read(with_adult: bool, files: ExitStack) -> Any:
            keep = ExportFilter(adult=with_adult)
            return export_source(info.name, export, exports_url, keep, files)

        reader = Export(export, read)
    store = await Store.open(db)
    try:
        return await _update(
            run,
            store,
            info,
            until=until or _today() - dt.timedelta(days=1),
            export=reader,
            adult=adult,
        )
    finally:
        await store.close()
