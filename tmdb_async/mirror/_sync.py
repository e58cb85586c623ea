"""Build and update a mirror: the crawl loop into the database, the changes feed and the
daily export through a journal of pending ids, so that a sync killed anywhere resumes.

A build is the crawl loop (`_crawl.crawl`) into a `MirrorSink`: it fetches the ids of its
source that have no row yet and writes them in batched transactions (upserts); a killed
build loses only its last uncommitted batch. It is a job too: `building` (and its export)
is recorded before the first row and cleared when the crawl ends uninterrupted, and only
then does the first build's export become the kind's `export_date`. Until then an update
applies its export in full (every exported id without a row is fetched), which finishes
the build as running it again does.

An update of a kind is a job recorded in `sync_state`:

1. changes (movie, tv, person): the feed of the days after `changes_through` up to `until`
   is listed 14 days at a time; each block's ids go to `pending` in the transaction that
   records how far the listing got;
2. export: the ids of the daily export that have no live row go to `pending` and the live
   rows missing from it are tombstoned, in one transaction that records the export job;
3. every pending id is fetched once; each batch of rows commits with the removal of its
   ids from `pending`;
4. only then `changes_through` and `export_date` move, in one transaction.

A run that finds a job resumes it where it stopped. Ids that keep failing stay pending
(with their count of failures) and are tried again by the next run.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Final

from pyroaring import BitMap64

from .._client import TMDB
from .._crawl import (
    MAX_WINDOW_DAYS,
    ExportFilter,
    IdSource,
    Interrupts,
    Listing,
    Progress,
    Report,
    bitmap_source,
    check_call,
    crawl_counted,
    export_source,
    id_bitmap,
    list_changes,
)
from .._errors import NotFoundError, ParameterError, TMDBError
from .._response import Response
from ._kinds import Kind
from ._store import MirrorError, Pending, Row, State, Store

__all__ = [
    "BATCH_ROWS",
    "BATCH_SECONDS",
    "Export",
    "MirrorSink",
    "Run",
    "begin_build",
    "build",
    "finish_build",
    "mirror_params",
    "update",
]

BATCH_ROWS: Final = 500
"""Rows per transaction (a killed sync refetches at most this many per process)."""
BATCH_SECONDS: Final = 2.0
"""...or the rows of this many seconds, whichever comes first."""
BLOCK_DAYS: Final = MAX_WINDOW_DAYS
"""Days of the changes feed listed (and journaled) at a time: TMDB's longest window."""
ONE_DAY: Final = dt.timedelta(days=1)


@dataclass(frozen=True)
class Run:
    """How a sync runs: the client, the crawl's window, progress and Ctrl-C."""

    tmdb: TMDB
    concurrency: int
    progress: Progress
    interrupts: Interrupts
    report: Report
    announce: Callable[[str], None]


@dataclass(frozen=True)
class Export:
    """A daily export to read: its date, and how to stream its ids (`adult`: with the
    adult_* file) into a stack that removes the downloads."""

    date: dt.date
    source: Callable[[bool, ExitStack], Awaitable[IdSource]]
    """`await source(adult, stack)` -> its ids (see `tmdb_async._crawl.export_source`)."""

    @classmethod
    def daily(cls, kind: str, date: dt.date, base_url: str) -> Export:
        """TMDB's daily export of `kind` on `date`, downloaded from `base_url`."""

        def read(adult: bool, stack: ExitStack) -> Awaitable[IdSource]:
            return export_source(kind, date, base_url, ExportFilter(adult=adult), stack)

        return cls(date, read)


class MirrorSink:
    """The crawl loop's sink into a kind's table, `BATCH_ROWS` rows per transaction.

    A 404 is a tombstone, and so is an adult body when the mirror keeps no adult entries;
    any other failure writes nothing (a build fetches the id again on its next run; an
    update keeps it pending, one more failure counted). `done`: the ids the crawl skips,
    those with a row for a build (`open`), none for an update (`pending`: it fetches them
    all).
    """

    def __init__(
        self,
        store: Store,
        kind: Kind,
        *,
        adult: bool,
        pending: Pending | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.done = BitMap64()
        self._store = store
        self._kind = kind
        self._adult = adult
        self._pending = pending
        self._clock = clock
        self._rows: list[Row] = []
        self._failed: list[int] = []
        self._flushed = clock()

    @classmethod
    async def open(
        cls, store: Store, kind: Kind, *, adult: bool, among: Sequence[int] | None = None
    ) -> MirrorSink:
        """The sink of a build: it skips the ids with a row (of `among`: a shard's)."""
        sink = cls(store, kind, adult=adult)
        sink.done = await store.stored_ids(kind.name, among)
        return sink

    def _changed_at(self, ident: int) -> dt.date | None:
        return None if self._pending is None else self._pending.changed.get(ident)

    async def add(self, ident: int, result: object) -> None:
        """A body: a row (a tombstone for an adult entry the mirror does not keep)."""
        assert isinstance(result, Response)
        value = result.value
        changed = self._changed_at(ident)
        if self._kind.adult and not self._adult and getattr(value, "adult", None) is True:
            self._rows.append(Row(ident, None, changed_at=changed))
        else:
            columns = self._kind.columns(value)
            self._rows.append(Row(ident, result.body.decode(), columns, changed_at=changed))
        await self._maybe_flush()

    async def fail(self, ident: int, error: TMDBError) -> None:
        """A 404: a tombstone; anything else: nothing written (pending: one more failure)."""
        if isinstance(error, NotFoundError):
            self._rows.append(Row(ident, None, changed_at=self._changed_at(ident)))
        else:
            self._failed.append(ident)
        await self._maybe_flush()

    async def aclose(self) -> None:
        """Commit what is left."""
        await self.flush()

    async def _maybe_flush(self) -> None:
        waiting = len(self._rows) + len(self._failed)
        if waiting >= BATCH_ROWS or self._clock() - self._flushed >= BATCH_SECONDS:
            await self.flush()

    async def flush(self) -> None:
        """Write the rows (and failures) gathered so far in one transaction."""
        rows, failed = self._rows, self._failed
        self._rows, self._failed = [], []
        self._flushed = self._clock()
        if rows or (failed and self._pending is not None):
            await self._store.write(
                self._kind.name, rows, failed=failed, done_pending=self._pending is not None
            )


def mirror_params(state: State) -> dict[str, Any]:
    """The keywords of a kind's details calls: its `append_to_response` and language."""
    return _details_params(state.append, state.language)


def _details_params(append: Sequence[str], language: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if append:
        params["append_to_response"] = list(append)
    if language:
        params["language"] = language
    return params


async def begin_build(
    store: Store,
    kind: Kind,
    *,
    append: tuple[str, ...],
    language: str | None,
    adult: bool,
    export_date: dt.date | None,
    today: dt.date,
) -> State:
    """The sync state of a build, recorded as in progress: created on the first build,
    checked on the next ones. ParameterError for parameters the client would refuse, before
    anything is written.

    The changes feed of a new mirror starts on the day of its export (or today): a body
    fetched later has every change since, so at worst a few ids are fetched twice. The
    parts and language a kind's rows hold may change only while it has no row.
    """
    check_call(kind.operation, _details_params(append, language))
    job: dict[str, Any] = {"building": True, "build_export": export_date}
    state = await store.state(kind.name)
    if state is None:
        start = export_date or today
        await store.save_state(
            kind.name,
            append=append,
            language=language,
            adult=adult,
            changes_through=start - ONE_DAY,
            **job,
        )
    else:
        if (state.append, state.language) != (append, language):
            if await store.has_rows(kind.name):
                raise MirrorError(
                    f"the {kind.name} rows of {store.url} hold"
                    f" append_to_response={','.join(state.append) or '(none)'}"
                    f" and language={state.language or '(default)'}: build with the same,"
                    " or into another database (one table holds one kind of body)"
                )
            job.update(append=append, language=language)
        await store.save_state(kind.name, adult=adult, **job)
    return await _reload(store, kind)


async def finish_build(store: Store, kind: Kind, state: State) -> None:
    """Record that the build of `state` ended uninterrupted: the first build's export
    becomes the kind's `export_date`."""
    done: dict[str, Any] = {"building": False, "build_export": None}
    if state.export_date is None and state.build_export is not None:
        done["export_date"] = state.build_export
    await store.save_state(kind.name, **done)


async def build(
    run: Run,
    store: Store,
    kind: Kind,
    source: IdSource,
    *,
    append: tuple[str, ...],
    adult: bool,
    export_date: dt.date | None,
    today: dt.date,
) -> None:
    """Fetch every id of `source` without a row into the mirror; resumable."""
    state = await begin_build(
        store,
        kind,
        append=append,
        language=run.tmdb.options.language,
        adult=adult,
        export_date=export_date,
        today=today,
    )
    await _crawl(run, kind, state, source, await MirrorSink.open(store, kind, adult=adult))
    if not run.interrupts.requested:
        await finish_build(store, kind, state)


async def _crawl(run: Run, kind: Kind, state: State, source: IdSource, sink: MirrorSink) -> None:
    """The crawl loop of a build or an update: the details of each id into `sink`, which
    commits what it holds at the end, whatever the end."""
    method = getattr(getattr(run.tmdb, kind.operation.namespace), kind.operation.name)
    try:
        await crawl_counted(
            method,
            source,
            sink,
            kind.name,
            concurrency=run.concurrency,
            params=mirror_params(state),
            progress=run.progress,
            interrupts=run.interrupts,
            report=run.report,
        )
    finally:
        await sink.aclose()


async def update(
    run: Run,
    store: Store,
    kind: Kind,
    *,
    until: dt.date,
    export: Export | None,
    adult: bool | None = None,
) -> State:
    """Bring `kind` up to the changes of `until` and to `export`; the state afterwards.

    Resumes the job a killed or interrupted run left (to its own dates first).
    """
    if run.tmdb.options.cache is not None:
        raise ParameterError(
            "cache: a mirror update needs a client with cache=None (a cached body may be"
            " older than the change the feed lists)"
        )
    state = await store.state(kind.name)
    if state is None:
        raise MirrorError(
            f"{store.url} has no {kind.name} mirror yet: build it first"
            f" (tmdb-async mirror build {kind.name} --export ...)"
        )
    if adult is not None and adult != state.adult:
        await store.save_state(kind.name, adult=adult)
    state = await _start_changes(store, kind, state, until, run.announce)
    state = await _list_changes(run, store, kind, state)
    if export is not None:
        state = await _start_export(store, kind, state, export, run.announce)
    return await _fetch_pending(run, store, kind, state)


async def _start_changes(
    store: Store, kind: Kind, state: State, until: dt.date, announce: Callable[[str], None]
) -> State:
    if state.changes_job_until is not None:
        announce(f"{kind.name}: resuming the changes through {state.changes_job_until}")
        return state
    since = state.changes_through
    if not kind.changes or since is None or since >= until:
        return state
    await store.save_state(kind.name, changes_job_until=until, changes_listed_through=since)
    return await _reload(store, kind)


async def _reload(store: Store, kind: Kind) -> State:
    state = await store.state(kind.name)
    assert state is not None
    return state


async def _list_changes(run: Run, store: Store, kind: Kind, state: State) -> State:
    """List the days of the changes job not listed yet, journaling each block of days."""
    until, listed = state.changes_job_until, state.changes_listed_through
    if until is None or listed is None or listed >= until:
        return state
    blocks = -(-(until - listed).days // BLOCK_DAYS)
    run.progress.phase(f"{kind.name}: changes {listed + ONE_DAY}..{until}", total=blocks)
    unlisted = state.unlisted
    while listed < until:
        first = listed + ONE_DAY
        last = min(listed + dt.timedelta(days=BLOCK_DAYS), until)
        listing = Listing()
        # The window ends the day after `last`: whether TMDB counts an end date in or out,
        # `first..last` is covered (ids of the day after are listed again next block).
        await list_changes(run.tmdb, kind.name, first, last + ONE_DAY, listing=listing)
        ids = [
            (ident, last)
            for ident, adult in listing.ids.items()
            if state.adult or adult is not True
        ]
        unlisted += sum(listing.unlisted.values())
        async with store.transaction() as connection:
            await store.add_pending(connection, kind.name, ids)
            await store.save_state(
                kind.name, connection, changes_listed_through=last, unlisted=unlisted
            )
        listed = last
        run.progress.advance()
    return await _reload(store, kind)


async def _start_export(
    store: Store, kind: Kind, state: State, export: Export, announce: Callable[[str], None]
) -> State:
    """Journal the export: its ids without a live row to fetch, live rows it lacks gone."""
    if state.export_job is not None:
        announce(f"{kind.name}: resuming the export of {state.export_job}")
        return state
    if state.export_date is not None and export.date <= state.export_date:
        return state
    through = state.changes_job_until or state.changes_through
    if kind.changes and (through is None or through < export.date - ONE_DAY):
        announce(
            f"{kind.name}: the export of {export.date} waits for the changes through"
            f" {export.date - ONE_DAY} (synced through {through})"
        )
        return state
    with ExitStack() as stack:
        exported = await id_bitmap(await export.source(state.adult, stack))
    fetch = exported.copy()  # the exported ids without a live row
    gone: list[int] = []
    async for ident, changed in store.alive(kind.name):
        if ident in exported:
            fetch.discard(ident)
        elif changed is None or changed < export.date:
            # A row the feed listed on the export's day or later may be newer than the export.
            gone.append(ident)
    async with store.transaction() as connection:
        await store.tombstone(connection, kind.name, gone)
        await store.add_pending(connection, kind.name, ((ident, None) for ident in fetch))
        await store.save_state(kind.name, connection, export_job=export.date)
    announce(
        f"{kind.name}: export of {export.date}: {len(fetch)} ids to fetch,"
        f" {len(gone)} rows gone (tombstoned)"
    )
    return await _reload(store, kind)


async def _fetch_pending(run: Run, store: Store, kind: Kind, state: State) -> State:
    """Fetch every pending id; when all were tried, close the jobs."""
    pending = await store.pending_ids(kind.name)
    if pending.ids:
        sink = MirrorSink(store, kind, adult=state.adult, pending=pending)
        await _crawl(run, kind, state, bitmap_source(pending.ids), sink)
    if run.interrupts.requested:
        return state
    done: dict[str, Any] = {}
    if state.changes_job_until is not None:
        done.update(
            changes_through=state.changes_job_until,
            changes_job_until=None,
            changes_listed_through=None,
        )
    if state.export_job is not None:
        done.update(export_date=state.export_job, export_job=None)
        if state.building and state.build_export and state.build_export <= state.export_job:
            # Every id of a newer export has its row: what the build had left is done.
            done.update(building=False, build_export=None)
    if done:
        await store.save_state(kind.name, **done)
    return await _reload(store, kind)
