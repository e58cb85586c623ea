"""Typed reads of a mirror: `await mirror.movie(550)` -> MovieDetails, decoded from the
stored bytes by the client's own models (strict, then tolerant), iteration and counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, TypeVar

from .._decode import decode_tolerant, gather_templated_parts
from .._errors import ParameterError
from ..models import (
    CollectionDetails,
    CompanyDetails,
    Keyword,
    MovieDetails,
    NetworkDetails,
    PersonDetails,
    TvSeriesDetails,
)
from ._kinds import KINDS, Kind
from ._store import State, Store

__all__ = [
    "KindStatus",
    "Mirror",
    "NotInMirrorError",
    "StoredRow",
    "TypedReads",
    "decode_body",
    "kind_of",
]

T = TypeVar("T")


class NotInMirrorError(LookupError):
    """The mirror has no live row of this id (never fetched, or tombstoned)."""

    def __init__(self, kind: str, ident: int, deleted_at: dt.datetime | None = None) -> None:
        state = f"deleted at {deleted_at:%Y-%m-%d %H:%M} UTC" if deleted_at else "not in the mirror"
        super().__init__(f"{kind} {ident}: {state}")
        self.kind = kind
        self.id = ident
        self.deleted_at = deleted_at


@dataclass(frozen=True)
class StoredRow:
    """A row as stored: TMDB's body, when it was fetched, its tombstone."""

    kind: str
    id: int
    body: bytes | None
    fetched_at: dt.datetime
    deleted_at: dt.datetime | None


@dataclass(frozen=True)
class KindStatus:
    """How much of a kind a mirror holds and how fresh it is."""

    kind: str
    alive: int
    deleted: int
    pending: int
    failing: int
    """Pending ids whose last fetch failed (tried again by the next update)."""
    state: State

    def lag(self, today: dt.date) -> int | None:
        """Days of the changes feed not applied yet (None for a kind without a feed, or
        whose first build has not finished)."""
        through = self.state.changes_through
        first_build = self.state.building and self.state.export_date is None
        if not KINDS[self.kind].changes or through is None or first_build:
            return None
        return max(0, (today - through).days - 1)


def decode_body(kind: Kind, body: bytes, append: tuple[str, ...]) -> Any:
    """A stored body as its model, the appended parts (`season/N` too) as typed fields."""
    operation = kind.operation
    value = decode_tolerant(body, operation.response_type).value
    if operation.append_templates:
        requested = ",".join(append) or None
        value = gather_templated_parts(value, body, operation.append_templates, requested).value
    return value


class TypedReads:
    """`movie(id)`, `tv(id)`, ... typed over `get(kind, id)`."""

    async def get(self, kind: str, ident: int) -> Any:
        """The model of `ident` of `kind`."""
        raise NotImplementedError

    async def movie(self, ident: int) -> MovieDetails:
        """The movie's details as stored."""
        value: MovieDetails = await self.get("movie", ident)
        return value

    async def tv(self, ident: int) -> TvSeriesDetails:
        """The series' details as stored."""
        value: TvSeriesDetails = await self.get("tv", ident)
        return value

    async def person(self, ident: int) -> PersonDetails:
        """The person's details as stored."""
        value: PersonDetails = await self.get("person", ident)
        return value

    async def collection(self, ident: int) -> CollectionDetails:
        """The collection's details as stored."""
        value: CollectionDetails = await self.get("collection", ident)
        return value

    async def company(self, ident: int) -> CompanyDetails:
        """The company's details as stored."""
        value: CompanyDetails = await self.get("company", ident)
        return value

    async def network(self, ident: int) -> NetworkDetails:
        """The network's details as stored."""
        value: NetworkDetails = await self.get("network", ident)
        return value

    async def keyword(self, ident: int) -> Keyword:
        """The keyword as stored."""
        value: Keyword = await self.get("keyword", ident)
        return value


class Mirror(TypedReads):
    """A mirror database opened for reading (`sqlite:///tmdb.db`, `postgresql://...`).

    ```python
    async with Mirror("sqlite:///tmdb.db") as mirror:
        movie = await mirror.movie(550)  # MovieDetails, from the stored bytes
        print(await mirror.count("movie"))
    ```
    """

    def __init__(self, url: str, *, create: bool = True) -> None:
        """`create=False`: `open()` raises MirrorError for a database that does not exist
        (no SQLite file is created) or holds no mirror."""
        self.url = url
        self.create = create
        self._store: Store | None = None
        self._append: dict[str, tuple[str, ...]] = {}

    async def __aenter__(self) -> Mirror:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def open(self) -> None:
        """Connect (the schema is created, unless `create=False`, or migrated if needed)."""
        if self._store is None:
            self._store = await Store.open(self.url, create=self.create)

    async def close(self) -> None:
        """Close every connection; idempotent."""
        store, self._store = self._store, None
        if store is not None:
            await store.close()

    @property
    def store(self) -> Store:
        """The open database (`open()` or `async with` first)."""
        if self._store is None:
            raise RuntimeError("open the mirror first: `async with Mirror(url) as mirror:`")
        return self._store

    async def row(self, kind: str, ident: int) -> StoredRow | None:
        """The stored row of `ident` (alive or tombstoned), None when there is none."""
        found = await self.store.body(kind_of(kind).name, ident)
        if found is None:
            return None
        body, fetched_at, deleted_at = found
        raw = None if body is None else body.encode()
        return StoredRow(kind, ident, raw, fetched_at, deleted_at)

    async def get(self, kind: str, ident: int) -> Any:
        """The model of a live row of any kind; NotInMirrorError otherwise."""
        found = await self.row(kind, ident)
        if found is None or found.body is None or found.deleted_at is not None:
            raise NotInMirrorError(kind, ident, None if found is None else found.deleted_at)
        return decode_body(kind_of(kind), found.body, await self._appended(kind))

    async def items(self, kind: str) -> AsyncIterator[Any]:
        """Every live row of `kind` as its model, by id (streamed, 10,000 rows a fetch)."""
        info = kind_of(kind)
        append = await self._appended(kind)
        async for _, body in self.store.bodies(info.name):
            yield decode_body(info, body.encode(), append)

    async def bodies(self, kind: str) -> AsyncIterator[tuple[int, bytes]]:
        """`(id, TMDB's body)` of every live row of `kind`, by id."""
        async for ident, body in self.store.bodies(kind_of(kind).name):
            yield ident, body.encode()

    async def count(self, kind: str, *, deleted: bool = False) -> int:
        """Live rows of `kind` (tombstones with `deleted=True`)."""
        alive, gone = await self.store.counts(kind_of(kind).name)
        return gone if deleted else alive

    async def status(self) -> list[KindStatus]:
        """Counts and sync state of every kind the mirror holds."""
        found: list[KindStatus] = []
        for state in await self.store.states():
            alive, deleted = await self.store.counts(state.kind)
            pending, failing = await self.store.pending_count(state.kind)
            found.append(KindStatus(state.kind, alive, deleted, pending, failing, state))
        return found

    async def _appended(self, kind: str) -> tuple[str, ...]:
        found = self._append.get(kind)
        if found is None:
            state = await self.store.state(kind)
            found = self._append[kind] = () if state is None else state.append
        return found


def kind_of(kind: str) -> Kind:
    """The Kind named `kind`; ParameterError for an unknown name."""
    try:
        return KINDS[kind]
    except KeyError:
        raise ParameterError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}") from None
