"""The mirror's tables, and the versioned steps that create and migrate them.

One table per kind (`movie`, `tv`, ...): `id`, `body` (TMDB's body of the details call as
sent: SQLite TEXT, PostgreSQL `json`, both keep the bytes), `fetched_at`, `changed_at` (the
last day of the changes window that listed it), `deleted_at` (a tombstone: the row stays),
and the extracted columns of `Kind.columns`. `sync_state` holds one row per kind;
`pending` the ids a sync still has to fetch; `mirror_schema` the steps applied.

A step is appended to `MIGRATIONS`, never edited: a database records the steps it has had
and gets the missing ones, each in its own transaction, when a mirror opens it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.schema import CreateColumn
from sqlalchemy.types import UserDefinedType

from ._kinds import KINDS, Kind

__all__ = [
    "MIGRATIONS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "TABLES",
    "metadata",
    "pending",
    "schema",
    "sync_state",
]


class Body(sa.types.TypeDecorator[str]):
    """TMDB's body: TEXT on SQLite (its JSON functions read text), `json` on PostgreSQL (the
    bytes as sent, checked to be JSON; `jsonb` would reorder keys and drop whitespace)."""

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(_PostgresJson())
        return dialect.type_descriptor(sa.Text())


class _PostgresJson(UserDefinedType[str]):
    """PostgreSQL's `json`, passed as text both ways (no re-encoding)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "JSON"


metadata = sa.MetaData()

SCHEMA: Final = "mirror_schema"

schema = sa.Table(
    SCHEMA,
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)

sync_state = sa.Table(
    "sync_state",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("append", sa.Text, nullable=False, default=""),
    sa.Column("language", sa.String(16)),
    sa.Column("adult", sa.Boolean, nullable=False, default=False),
    sa.Column("export_date", sa.Date),
    sa.Column("changes_through", sa.Date),
    sa.Column("changes_job_until", sa.Date),
    sa.Column("changes_listed_through", sa.Date),
    sa.Column("export_job", sa.Date),
    sa.Column("unlisted", sa.Integer, nullable=False, default=0),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Column("building", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("build_export", sa.Date),
)
"""Per kind: the parameters of its bodies (`append`, `language`, `adult`); the last export
applied and the last day of the changes feed applied; the sync in progress: the day its
changes go to and how far their listing got, the export it applies; `unlisted`: ids the
feed had past its 500 pages (never listed); `building`: a build started and has not
finished uninterrupted yet, from the export `build_export` (None: from ids)."""

pending = sa.Table(
    "pending",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("changed_at", sa.Date),
    sa.Column("failures", sa.Integer, nullable=False, default=0),
)
"""Ids a sync has listed and not fetched yet (`failures`: tries that failed)."""


def _kind_table(kind: Kind) -> sa.Table:
    columns: list[sa.Column[Any]] = [
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("body", Body),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.Date),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        sa.Column(kind.title, sa.Text),
    ]
    if kind.popularity:
        columns.append(sa.Column("popularity", sa.Float))
    if kind.date is not None:
        columns.append(sa.Column(kind.date, sa.Date))
    if kind.adult:
        columns.append(sa.Column("adult", sa.Boolean))
    return sa.Table(kind.name, metadata, *columns)


TABLES: Final = {name: _kind_table(kind) for name, kind in KINDS.items()}


def _create_all(connection: sa.Connection) -> None:
    for table in (sync_state, pending, *TABLES.values()):
        table.create(connection)


def _add_build_job(connection: sa.Connection) -> None:
    """Version 2: the build in progress (`building`, `build_export`) in `sync_state`. A
    database made by this version's step 1 has them already."""
    have = {column["name"] for column in sa.inspect(connection).get_columns(sync_state.name)}
    for column in (sync_state.c.building, sync_state.c.build_export):
        if column.name not in have:
            definition = CreateColumn(column).compile(dialect=connection.dialect)
            connection.execute(sa.text(f"ALTER TABLE {sync_state.name} ADD COLUMN {definition}"))


MIGRATIONS: Final[list[Callable[[sa.Connection], None]]] = [_create_all, _add_build_job]
"""Step N (1-based) takes a database from version N-1 to N."""
SCHEMA_VERSION: Final = len(MIGRATIONS)
