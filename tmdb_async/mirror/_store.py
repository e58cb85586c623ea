"""The mirror's database through SQLAlchemy's async Core: SQLite (aiosqlite) or PostgreSQL
(asyncpg), named by a URL; every write is one transaction.

`sqlite:///tmdb.db` and `postgresql://user@host/db` are turned into the async drivers' URLs.
SQLite runs in WAL mode with `synchronous=NORMAL` (a commit survives a killed process; a
power cut may lose the last ones), and waits up to 30 s for another writer.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import sqlalchemy as sa
from pyroaring import BitMap64
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from .._errors import ParameterError
from ._kinds import KINDS
from ._schema import MIGRATIONS, SCHEMA, SCHEMA_VERSION, TABLES, pending, schema, sync_state

__all__ = [
    "MirrorError",
    "Pending",
    "Row",
    "SQLAlchemyError",
    "State",
    "Store",
    "engine_url",
    "now",
]

DRIVERS: Final = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
"""The URL schemes a mirror takes, and the async driver of each."""
BUSY_TIMEOUT_MS: Final = 30_000
CHUNK: Final = 1000
"""Ids per statement when a list of ids goes into one (`IN`, deletes)."""


class MirrorError(Exception):
    """A mirror that cannot be used as asked: a newer schema, other parameters, no build."""


def now() -> dt.datetime:
    """The time of a write, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def engine_url(url: str) -> sa.URL:
    """`sqlite:///tmdb.db` or `postgresql://...` as the URL of its async driver.

    ParameterError (naming `db`) for anything else, before any I/O.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ParameterError(
            f"db must be a URL such as sqlite:///tmdb.db or postgresql://user@host/db, got {url!r}"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "postgres":
        backend = "postgresql"
    driver = DRIVERS.get(backend)
    if driver is None or parsed.drivername not in (backend, driver, "postgres"):
        raise ParameterError(
            "db must be sqlite:///FILE or postgresql://USER@HOST/DB,"
            f" got {parsed.render_as_string(hide_password=True)!r}"
        )
    if backend == "sqlite" and not parsed.database:
        raise ParameterError("db: a mirror in SQLite needs a file: sqlite:///tmdb.db")
    return parsed.set(drivername=driver)


@dataclass(frozen=True)
class State:
    """One row of `sync_state`: what a kind's rows hold and how far they are synced."""

    kind: str
    append: tuple[str, ...] = ()
    language: str | None = None
    adult: bool = False
    export_date: dt.date | None = None
    changes_through: dt.date | None = None
    changes_job_until: dt.date | None = None
    changes_listed_through: dt.date | None = None
    export_job: dt.date | None = None
    unlisted: int = 0
    updated_at: dt.datetime | None = None
    building: bool = False
    build_export: dt.date | None = None


@dataclass(frozen=True)
class Row:
    """A row to write: a body (alive), or a tombstone (`body` None keeps the stored one)."""

    id: int
    body: str | None
    columns: Mapping[str, Any] = field(default_factory=dict)
    changed_at: dt.date | None = None

    @property
    def deleted(self) -> bool:
        """True for a tombstone."""
        return self.body is None


@dataclass(frozen=True)
class Pending:
    """The ids an update still has to fetch: all of them (compressed: an export can add a
    million), and the day the changes feed listed those it listed."""

    ids: BitMap64 = field(default_factory=BitMap64)
    changed: dict[int, dt.date] = field(default_factory=dict)


StoredBody = tuple[str | None, dt.datetime, dt.datetime | None]
"""`(body, fetched_at, deleted_at)` of a row."""


class Store:
    """One database: `await Store.open(url)`, then reads and writes, then `await close()`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True, create: bool = True) -> Store:
        """Connect, and bring the schema to this version (`migrate=False`: only check it).

        `create=False`: MirrorError for a database that does not exist (an SQLite file is
        opened read-write, never created) or that holds no mirror.
        """
        target = engine_url(url)
        if target.get_backend_name() == "sqlite":
            if not create:
                target = _existing_file(target)
            engine = create_async_engine(target)
            sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        else:  # bodies pass as text both ways: asyncpg's json codec, told not to parse
            engine = create_async_engine(target, json_serializer=_same, json_deserializer=_same)
        store = cls(engine)
        try:
            await store._schema(migrate, create)
        except BaseException:
            await engine.dispose()
            raise
        return store

    async def close(self) -> None:
        """Close every connection."""
        await self.engine.dispose()

    @property
    def url(self) -> str:
        """The database's URL, password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction, committed when the block ends without an error."""
        async with self.engine.begin() as connection:
            yield connection

    async def _schema(self, migrate: bool, create: bool) -> None:
        async with self.transaction() as connection:
            if not create:
                found = await connection.run_sync(lambda sync: sa.inspect(sync).has_table(SCHEMA))
                if not found:
                    raise MirrorError(
                        f"{self.url} holds no mirror: build one first"
                        " (tmdb-async mirror build KIND --db ...)"
                    )
            await connection.run_sync(lambda sync: schema.create(sync, checkfirst=True))
            if self.dialect == "postgresql":  # one migrating process at a time
                await connection.execute(sa.text("LOCK TABLE mirror_schema IN EXCLUSIVE MODE"))
            version = (await connection.execute(sa.func.max(schema.c.version).select())).scalar()
            version = version or 0
            if version > SCHEMA_VERSION:
                raise MirrorError(
                    f"{self.url} has mirror schema {version}; this tmdb-async knows up to"
                    f" {SCHEMA_VERSION}: upgrade tmdb-async"
                )
            if version < SCHEMA_VERSION and not migrate:
                raise MirrorError(f"{self.url} has mirror schema {version}, not {SCHEMA_VERSION}")
            for number in range(version + 1, SCHEMA_VERSION + 1):
                await connection.run_sync(MIGRATIONS[number - 1])
                await connection.execute(schema.insert().values(version=number, applied_at=now()))

    # -- sync state ----------------------------------------------------------------------

    async def state(self, kind: str) -> State | None:
        """The sync state of `kind`, None before its first build."""
        async with self.engine.connect() as connection:
            found = (
                await connection.execute(sync_state.select().where(sync_state.c.kind == kind))
            ).first()
        if found is None:
            return None
        values = found._asdict()
        values["append"] = tuple(filter(None, values["append"].split(",")))
        return State(**values)

    async def states(self) -> list[State]:
        """The sync state of every kind this database holds."""
        found = [await self.state(kind) for kind in KINDS]
        return [state for state in found if state is not None]

    async def save_state(
        self, kind: str, connection: AsyncConnection | None = None, **values: Any
    ) -> None:
        """Create or update the sync state of `kind` (in `connection`'s transaction)."""
        if "append" in values:
            values["append"] = ",".join(values["append"])
        values["updated_at"] = now()
        if connection is None:
            async with self.transaction() as own:
                await self._save_state(own, kind, values)
        else:
            await self._save_state(connection, kind, values)

    async def _save_state(
        self, connection: AsyncConnection, kind: str, values: dict[str, Any]
    ) -> None:
        insert = self._insert(sync_state).values(kind=kind, **values)
        await connection.execute(
            insert.on_conflict_do_update(index_elements=[sync_state.c.kind], set_=values)
        )

    # -- rows ----------------------------------------------------------------------------

    async def stored_ids(self, kind: str, among: Sequence[int] | None = None) -> BitMap64:
        """Every id with a row (alive or tombstoned); only those of `among` if given."""
        table = TABLES[kind]
        found = BitMap64()
        if among is None:
            async for (ident,) in self._scan(sa.select(table.c.id)):
                found.add(ident)
            return found
        async with self.engine.connect() as connection:
            for start in range(0, len(among), CHUNK):
                query = sa.select(table.c.id).where(table.c.id.in_(among[start : start + CHUNK]))
                found.update((await connection.execute(query)).scalars())
        return found

    async def has_rows(self, kind: str) -> bool:
        """True once a row of `kind` was written (alive or tombstoned)."""
        table = TABLES[kind]
        async with self.engine.connect() as connection:
            found = await connection.execute(sa.select(table.c.id).limit(1))
            return found.first() is not None

    def alive(self, kind: str) -> AsyncIterator[tuple[int, dt.date | None]]:
        """`(id, changed_at)` of every row not tombstoned, streamed."""
        table = TABLES[kind]
        query = sa.select(table.c.id, table.c.changed_at).where(table.c.deleted_at.is_(None))
        return self._scan(query)

    async def _scan(self, query: sa.Select[Any]) -> AsyncIterator[Any]:
        """The rows of `query`, fetched 10,000 at a time."""
        async with self.engine.connect() as connection:
            result = await connection.stream(query.execution_options(yield_per=10_000))
            async for found in result:
                yield found

    async def write(
        self, kind: str, rows: Sequence[Row], *, failed: Iterable[int] = (), done_pending: bool
    ) -> None:
        """Upsert `rows` in one transaction; with `done_pending` their ids leave `pending`
        and each id of `failed` counts one more failure there."""
        table = TABLES[kind]
        fetched_at = now()
        alive = [_values(row, fetched_at) for row in rows if not row.deleted]
        dead = [
            {
                "id": r.id,
                "fetched_at": fetched_at,
                "changed_at": r.changed_at,
                "deleted_at": fetched_at,
            }
            for r in rows
            if r.deleted
        ]
        async with self.transaction() as connection:
            if alive:
                insert = self._insert(table)
                update = {name: insert.excluded[name] for name in alive[0] if name != "id"}
                update["changed_at"] = sa.func.coalesce(
                    insert.excluded.changed_at, table.c.changed_at
                )
                update["deleted_at"] = None
                await connection.execute(
                    insert.on_conflict_do_update(index_elements=[table.c.id], set_=update), alive
                )
            if dead:
                insert = self._insert(table)
                update = {
                    "fetched_at": insert.excluded.fetched_at,
                    "changed_at": sa.func.coalesce(insert.excluded.changed_at, table.c.changed_at),
                    "deleted_at": sa.func.coalesce(table.c.deleted_at, insert.excluded.deleted_at),
                }
                await connection.execute(
                    insert.on_conflict_do_update(index_elements=[table.c.id], set_=update), dead
                )
            if done_pending:
                await self._unpend(connection, kind, [row.id for row in rows])
                failures = [{"k": kind, "i": ident} for ident in failed]
                if failures:
                    await connection.execute(
                        pending.update()
                        .where(
                            pending.c.kind == sa.bindparam("k"), pending.c.id == sa.bindparam("i")
                        )
                        .values(failures=pending.c.failures + 1),
                        failures,
                    )

    async def _unpend(self, connection: AsyncConnection, kind: str, ids: list[int]) -> None:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            await connection.execute(
                pending.delete().where(pending.c.kind == kind, pending.c.id.in_(chunk))
            )

    async def tombstone(self, connection: AsyncConnection, kind: str, ids: list[int]) -> None:
        """Mark the rows of `ids` deleted (those not already)."""
        table = TABLES[kind]
        when = now()
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            await connection.execute(
                table.update()
                .where(table.c.id.in_(chunk), table.c.deleted_at.is_(None))
                .values(deleted_at=when)
            )

    # -- pending -------------------------------------------------------------------------

    async def add_pending(
        self,
        connection: AsyncConnection,
        kind: str,
        ids: Iterable[tuple[int, dt.date | None]],
    ) -> None:
        """Add `(id, changed_at)`s to fetch; an id already there keeps the later `changed_at`."""
        insert = self._insert(pending)
        statement = insert.on_conflict_do_update(
            index_elements=[pending.c.kind, pending.c.id],
            set_={"changed_at": _later(pending.c.changed_at, insert.excluded.changed_at)},
        )
        rows = iter(ids)
        while chunk := [
            {"kind": kind, "id": ident, "changed_at": changed, "failures": 0}
            for ident, changed in itertools.islice(rows, CHUNK)
        ]:
            await connection.execute(statement, chunk)

    async def pending_ids(self, kind: str) -> Pending:
        """The ids a sync of `kind` still has to fetch, with the day the feed listed them."""
        query = sa.select(pending.c.id, pending.c.changed_at).where(pending.c.kind == kind)
        found = Pending()
        async for ident, changed in self._scan(query):
            found.ids.add(ident)
            if changed is not None:
                found.changed[ident] = changed
        return found

    async def pending_count(self, kind: str) -> tuple[int, int]:
        """How many ids are pending, and how many of them failed at least once."""
        query = sa.select(sa.func.count(), sa.func.count().filter(pending.c.failures > 0)).where(
            pending.c.kind == kind
        )
        async with self.engine.connect() as connection:
            total, failed = (await connection.execute(query)).one()
        return int(total), int(failed)

    # -- reads ---------------------------------------------------------------------------

    async def counts(self, kind: str) -> tuple[int, int]:
        """Rows alive and tombstoned."""
        table = TABLES[kind]
        query = sa.select(
            sa.func.count().filter(table.c.deleted_at.is_(None)),
            sa.func.count().filter(table.c.deleted_at.is_not(None)),
        )
        async with self.engine.connect() as connection:
            alive, deleted = (await connection.execute(query)).one()
        return int(alive), int(deleted)

    async def body(
        self, kind: str, ident: int
    ) -> tuple[str | None, dt.datetime, dt.datetime | None] | None:
        """`(body, fetched_at, deleted_at)` of a row, None when there is none."""
        table = TABLES[kind]
        query = sa.select(table.c.body, table.c.fetched_at, table.c.deleted_at).where(
            table.c.id == ident
        )
        async with self.engine.connect() as connection:
            found = (await connection.execute(query)).first()
        if found is None:
            return None
        return found[0], _utc(found[1]), None if found[2] is None else _utc(found[2])

    async def bodies(
        self, kind: str, *, include_deleted: bool = False
    ) -> AsyncIterator[tuple[int, str]]:
        """`(id, body)` of every row with a body, by id."""
        table = TABLES[kind]
        query = sa.select(table.c.id, table.c.body).where(table.c.body.is_not(None))
        if not include_deleted:
            query = query.where(table.c.deleted_at.is_(None))
        async for ident, body in self._scan(query.order_by(table.c.id)):
            yield ident, body

    def _insert(self, table: sa.Table) -> Any:
        """The dialect's INSERT, which has `on_conflict_do_update` (typed Any: two classes)."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)


def _values(row: Row, fetched_at: dt.datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "body": row.body,
        "fetched_at": fetched_at,
        "changed_at": row.changed_at,
        **row.columns,
    }


def _later(stored: Any, new: Any) -> Any:
    """The later of two nullable dates, in SQL."""
    return sa.case(
        (stored.is_(None), new), (new.is_(None), stored), (new > stored, new), else_=stored
    )


def _existing_file(target: sa.URL) -> sa.URL:
    """The URL of an SQLite file opened read-write only: MirrorError if there is none."""
    path = Path(target.database or "").absolute()
    if not path.is_file():
        raise MirrorError(f"there is no mirror database {path}: build one first")
    return target.set(database=f"file:{quote(str(path))}", query={"mode": "rw", "uri": "true"})


def _utc(value: dt.datetime) -> dt.datetime:
    """SQLite gives naive datetimes back: the mirror writes them in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)


def _same(text: str) -> str:
    return text


def _sqlite_pragmas(connection: Any, record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()
