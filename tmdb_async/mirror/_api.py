"""Build and update a mirror from Python: what `tmdb-async mirror build|update` run, without
the progress bar and signal handling of the command line."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from contextlib import ExitStack

from pyroaring import BitMap64

from .._client import TMDB
from .._constants import FETCH_MANY_CONCURRENCY, LOGGER_NAME
from .._crawl import (
    DEFAULT_EXPORT_BASE_URL,
    ExportFilter,
    IdSource,
    Interrupts,
    NullProgress,
    Report,
    bitmap_source,
    export_source,
    range_source,
)
from .._errors import ParameterError
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


def _ids_source(ids: Iterable[int]) -> IdSource:
    """`ids` as a crawl's source: a range whole, anything else in a bitmap (checked first)."""
    if isinstance(ids, range) and ids.step == 1:
        if ids and ids.start < 1:
            raise ParameterError(f"ids start at 1, got {ids!r}")
        return range_source([ids])
    bitmap = BitMap64()
    for ident in ids:
        if isinstance(ident, bool) or not isinstance(ident, int) or ident < 1:
            raise ParameterError(f"ids must be ints >= 1, got {ident!r}")
        bitmap.add(ident)
    return bitmap_source(bitmap)


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
    mirror at `db`; resumable. Returns what the run did (`done`, `failed`, `skipped`).

    ParameterError for an `append` part or a client language the details call refuses,
    before anything is written; AuthenticationError (bad credentials) stops it."""
    info = kind_of(kind)
    if (ids is None) == (export is None):
        raise ParameterError("build takes ids or export (a date), not both nor neither")
    listed = None if ids is None else _ids_source(ids)
    run = _run(tmdb, concurrency)
    store = await Store.open(db)
    try:
        with ExitStack() as files:
            source = listed or await export_source(
                info.name, export or _today(), exports_url, ExportFilter(adult=adult), files
            )
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
    MirrorError when `db` does not exist or holds no mirror of `kind` (nothing is created).

    `tmdb` must not cache (`cache=None`): a cached body may be older than its change.
    """
    info = kind_of(kind)
    run = _run(tmdb, concurrency)
    reader = None if export is None else Export.daily(info.name, export, exports_url)
    store = await Store.open(db, create=False)
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
