"""What the mirror's tests share: a sync run against a FakeTMDB, and a table's contents."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass

from tmdb_async import TMDB
from tmdb_async._crawl import ExportFilter, Interrupts, NullProgress, Report, export_source
from tmdb_async.mirror import KINDS
from tmdb_async.mirror._store import State, Store
from tmdb_async.mirror._sync import Export, Run, build, update
from tmdb_async.testing import FakeTMDB

D = dt.date


@dataclass
class Snapshot:
    """A table as a fresh build must leave it: live bodies, tombstoned ids."""

    alive: dict[int, str]
    deleted: set[int]


async def snapshot(url: str, kind: str = "movie") -> Snapshot:
    store = await Store.open(url)
    try:
        alive = {ident: body async for ident, body in store.bodies(kind)}
        deleted = set(await store.stored_ids(kind)) - set(alive)
    finally:
        await store.close()
    return Snapshot(alive, deleted)


@asynccontextmanager
async def client(fake: FakeTMDB) -> AsyncIterator[TMDB]:
    async with TMDB(
        access_token=fake.access_token, base_url=fake.url, rate_limit=None, cache=None
    ) as tmdb:
        yield tmdb


def run_of(tmdb: TMDB) -> Run:
    messages: list[str] = []
    return Run(tmdb, 20, NullProgress(), Interrupts.install(messages.append), Report(), print)


def export_of(fake: FakeTMDB, kind: str, day: dt.date) -> Export:
    return Export.daily(kind, day, fake.exports_url)


async def build_from_export(
    fake: FakeTMDB,
    url: str,
    day: dt.date,
    *,
    kind: str = "movie",
    append: tuple[str, ...] = (),
    adult: bool = False,
) -> Run:
    """`mirror build KIND --export DAY` with the fake's clock at DAY."""
    fake.today = day
    async with client(fake) as tmdb:
        run = run_of(tmdb)
        store = await Store.open(url)
        try:
            with ExitStack() as stack:
                source = await export_source(
                    kind, day, fake.exports_url, ExportFilter(adult=adult), stack
                )
                await build(
                    run,
                    store,
                    KINDS[kind],
                    source,
                    append=append,
                    adult=adult,
                    export_date=day,
                    today=day,
                )
        finally:
            await store.close()
    return run


async def update_to(
    fake: FakeTMDB, url: str, today: dt.date, *, kind: str = "movie", export: bool = True
) -> Run:
    """`mirror update --until TODAY-1 --export TODAY` with the fake's clock at TODAY."""
    fake.today = today
    async with client(fake) as tmdb:
        run = run_of(tmdb)
        store = await Store.open(url)
        try:
            await update(
                run,
                store,
                KINDS[kind],
                until=today - dt.timedelta(days=1),
                export=export_of(fake, kind, today) if export else None,
            )
        finally:
            await store.close()
    return run


def requested_ids(fake: FakeTMDB, operation: str = "movie-details") -> list[int]:
    """The ids of the details requests the fake recorded, in order."""
    return [
        int(request.path.rsplit("/", 1)[1])
        for request in fake.stats.requests
        if request.operation_id == operation
    ]


async def state_of(url: str, kind: str = "movie") -> State:
    """The sync state of `kind` (which must have one)."""
    store = await Store.open(url)
    try:
        state = await store.state(kind)
    finally:
        await store.close()
    assert state is not None
    return state
