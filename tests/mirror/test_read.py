"""Reading a mirror: typed rows, tombstones, iteration, counts, the read-through source,
schema versions and database URLs."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from tests.mirror._helpers import D, build_from_export, client, snapshot
from tmdb_async import NotFoundError, ParameterError
from tmdb_async.mirror import SCHEMA_VERSION, Mirror, MirrorError, NotInMirrorError, ReadThrough
from tmdb_async.mirror._schema import schema
from tmdb_async.mirror._store import Store, engine_url
from tmdb_async.models import MovieDetails, TvSeriesDetails
from tmdb_async.testing import FakeTMDB, Timeline

DAY = D(2024, 3, 1)
SMALL = Timeline(size=120, death_share=0.3, lifespan=30)


async def test_typed_reads_from_the_stored_bytes(db_url: str) -> None:
    async with FakeTMDB(timeline=SMALL) as fake:
        await build_from_export(fake, db_url, DAY, kind="tv", append=("credits", "season/1"))
        async with client(fake) as tmdb:
            first = sorted((await snapshot(db_url, "tv")).alive)[0]
            expected = await tmdb.tv_series.details(
                first, append_to_response=["credits", "season/1"]
            )
    async with Mirror(db_url) as mirror:
        series = await mirror.tv(first)
        assert isinstance(series, TvSeriesDetails)
        assert series == expected  # the same models, the appended season gathered too
        assert series.appended_seasons is not None
        assert await mirror.count("tv") == len([s async for s in mirror.items("tv")])
        row = await mirror.row("tv", first)
        assert row is not None
        assert row.body is not None
        with pytest.raises(NotInMirrorError, match="not in the mirror"):
            await mirror.movie(1)
        with pytest.raises(ParameterError, match="kind must be one of"):
            await mirror.count("film")


async def test_a_tombstone_is_not_read_as_a_row(db_url: str) -> None:
    async with FakeTMDB(timeline=SMALL) as fake:
        await build_from_export(fake, db_url, DAY)
        history = fake.history("movie")
        gone = next(
            i for i in history.alive_on(DAY) if not history.alive(i, DAY + dt.timedelta(days=40))
        )
        fake.today = DAY + dt.timedelta(days=40)
        async with client(fake) as tmdb, Mirror(db_url) as mirror:
            source = ReadThrough(mirror, tmdb, max_age=dt.timedelta(0))
            with pytest.raises(NotFoundError):
                await source.movie(gone)  # too old: TMDB is asked, says 404: tombstoned
            with pytest.raises(NotInMirrorError, match="deleted at"):
                await mirror.movie(gone)
            assert await mirror.count("movie", deleted=True) == 1


async def test_read_through_answers_fresh_rows_and_writes_back_the_rest(db_url: str) -> None:
    async with FakeTMDB(timeline=SMALL, history=10_000) as fake:
        await build_from_export(fake, db_url, DAY, append=("credits",))
        alive = sorted((await snapshot(db_url)).alive)
        now = dt.datetime.now(dt.timezone.utc)
        clock = [now]
        async with client(fake) as tmdb, Mirror(db_url) as mirror:
            source = ReadThrough(
                mirror, tmdb, max_age=dt.timedelta(hours=1), clock=lambda: clock[0]
            )
            fake.reset_stats()
            movie = await source.movie(alive[0])
            assert isinstance(movie, MovieDetails)
            assert movie.credits is not None
            assert (source.hits, source.misses) == (1, 0)
            assert fake.stats.count("movie-details") == 0
            clock[0] = now + dt.timedelta(hours=2)  # the row is now too old
            fresh = await source.movie(alive[0])
            assert (source.hits, source.misses) == (1, 1)
            assert fake.stats.last is not None
            assert fake.stats.last.query["append_to_response"] == "credits"  # the mirror's parts
            assert fresh == movie
            row = await mirror.row("movie", alive[0])
            assert row is not None
            assert row.fetched_at > now  # written back
            clock[0] = row.fetched_at
            await source.movie(alive[0])
            assert source.hits == 2


async def test_a_newer_schema_is_refused_and_migrations_are_recorded(db_url: str) -> None:
    store = await Store.open(db_url)
    try:
        async with store.transaction() as connection:
            versions = (await connection.execute(sa.select(schema.c.version))).scalars().all()
            assert versions == list(range(1, SCHEMA_VERSION + 1))
            await connection.execute(
                schema.insert().values(version=SCHEMA_VERSION + 1, applied_at=dt.datetime.now())
            )
    finally:
        await store.close()
    with pytest.raises(MirrorError, match="upgrade tmdb-async"):
        await Store.open(db_url)


async def test_a_version_1_mirror_gets_the_build_job_columns(db_url: str) -> None:
    store = await Store.open(db_url)
    try:
        await store.save_state("movie", append=("credits",), export_date=dt.date(2024, 3, 1))
        async with store.transaction() as connection:  # as version 1 left it
            for column in ("building", "build_export"):
                await connection.execute(sa.text(f"ALTER TABLE sync_state DROP COLUMN {column}"))
            await connection.execute(schema.delete().where(schema.c.version == 2))
    finally:
        await store.close()
    store = await Store.open(db_url)
    try:
        state = await store.state("movie")
        assert state is not None
        assert (state.append, state.building, state.build_export) == (("credits",), False, None)
        async with store.transaction() as connection:
            versions = (await connection.execute(sa.select(schema.c.version))).scalars().all()
        assert sorted(versions) == [1, 2]
    finally:
        await store.close()


def test_database_urls() -> None:
    assert engine_url("sqlite:///m.db").drivername == "sqlite+aiosqlite"
    assert engine_url("postgresql://u@h/db").drivername == "postgresql+asyncpg"
    assert engine_url("postgres://u@h/db").drivername == "postgresql+asyncpg"
    for bad in ("mysql://u:pw@h/db", "not a url", "sqlite://", "postgresql+psycopg2://u@h/db"):
        with pytest.raises(ParameterError, match="db") as caught:
            engine_url(bad)
        assert "pw" not in str(caught.value)
