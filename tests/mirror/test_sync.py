"""Build and update a mirror through the library, on SQLite and on a real PostgreSQL, against
a FakeTMDB whose catalogue moves day by day (ids change, appear, disappear, null ids)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.mirror._helpers import (
    D,
    build_from_export,
    client,
    export_of,
    requested_ids,
    run_of,
    snapshot,
    state_of,
    update_to,
)
from tmdb_async import TMDB, AuthenticationError, ParameterError
from tmdb_async.mirror import KINDS, Mirror, MirrorError
from tmdb_async.mirror import build as mirror_build
from tmdb_async.mirror import update as mirror_update
from tmdb_async.mirror._store import Store
from tmdb_async.mirror._sync import update
from tmdb_async.testing import FakeTMDB, ServerError, Timeline

BUILT = D(2024, 3, 1)
TODAY = D(2024, 3, 20)
MOVING = Timeline(size=600, death_share=0.2, lifespan=60, births_per_day=3, change_every=10)
"""Enough deaths, births and changes in 19 days for every path of an update."""


async def test_build_then_update_equals_a_fresh_build(new_db: Callable[[], str]) -> None:
    mirror, fresh = new_db(), new_db()
    async with FakeTMDB(timeline=MOVING, history=100_000) as fake:
        await build_from_export(fake, mirror, BUILT, append=("credits",))
        built = await snapshot(mirror)
        fake.reset_stats()
        await update_to(fake, mirror, TODAY)
        refetched = requested_ids(fake)
        await build_from_export(fake, fresh, TODAY, append=("credits",))
        history = fake.history("movie")
    after, expected = await snapshot(mirror), await snapshot(fresh)
    assert after.alive.keys() == expected.alive.keys()
    assert after.alive == expected.alive  # the same bodies, byte for byte
    gone = built.alive.keys() - expected.alive.keys()
    assert gone
    assert gone <= after.deleted
    born = expected.alive.keys() - built.alive.keys()
    assert born  # ids the feed never lists came from the export
    changed = {i for i in built.alive if history.version(i, TODAY) != history.version(i, BUILT)}
    assert changed
    assert changed <= set(refetched)
    assert len(refetched) == len(set(refetched))  # each changed id fetched once
    unchanged = built.alive.keys() - changed - gone
    assert not unchanged & set(refetched)  # nothing fetched that did not change


async def test_a_window_of_more_than_500_pages_is_read_one_day_at_a_time(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    busy = Timeline(size=600, change_every=10, changes_page_size=1, null_ids_per_day=2)
    async with FakeTMDB(timeline=busy, history=100_000) as fake:
        await build_from_export(fake, db_url, BUILT)
        fake.reset_stats()
        await update_to(fake, db_url, D(2024, 3, 15), export=False)
        windows = {
            (r.query["start_date"], r.query["end_date"])
            for r in fake.stats.requests
            if r.operation_id == "changes-movie-list"
        }
        pages = [
            int(r.query["page"])
            for r in fake.stats.requests
            if r.operation_id == "changes-movie-list"
        ]
        history = fake.history("movie")
        expected = {
            i
            for i in history.alive_on(D(2024, 3, 15))
            if history.version(i, D(2024, 3, 15)) != history.version(i, BUILT)
        }
    assert ("2024-03-01", "2024-03-15") in windows  # page 1 said more than 500 pages
    days = {w for w in windows if w != ("2024-03-01", "2024-03-15")}
    assert days == {(f"2024-03-{d:02}", f"2024-03-{d + 1:02}") for d in range(1, 15)}
    assert max(pages) <= 500
    assert 0 not in set(requested_ids(fake))
    state = await state_of(db_url)
    assert state.changes_through == D(2024, 3, 14)
    assert state.unlisted == 0
    mirror = await snapshot(db_url)
    assert {i for i in expected if not history.adult(i)} <= set(mirror.alive)
    assert not any(record.levelno >= logging.WARNING for record in caplog.records)


async def test_a_day_past_500_pages_is_reported(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    crowded = Timeline(size=900, change_every=1000, changes_page_size=1, busy_days={BUILT: 520})
    async with FakeTMDB(timeline=crowded) as fake:
        await build_from_export(fake, db_url, BUILT)
        with caplog.at_level(logging.WARNING, logger="tmdb_async"):
            await update_to(fake, db_url, D(2024, 3, 3), export=False)
    state = await state_of(db_url)
    assert state.unlisted >= 20  # the feed's items past page 500 of that day
    assert any("past page 500" in r.getMessage() for r in caplog.records)


async def test_ids_that_fail_stay_pending_and_the_next_update_fetches_them(db_url: str) -> None:
    async with FakeTMDB(timeline=MOVING, history=100_000) as fake:
        await build_from_export(fake, db_url, BUILT)
        history = fake.history("movie")
        changed = [
            i
            for i in history.alive_on(TODAY)
            if history.alive(i, BUILT) and history.version(i, TODAY) != history.version(i, BUILT)
        ]
        for ident in changed[:2]:  # 503 on the first try and the client's 3 retries
            fake.inject(ServerError(503), f"/3/movie/{ident}", count=4)
        async with client(fake) as tmdb:
            first = run_of(tmdb)
            fake.today = TODAY
            store = await Store.open(db_url)
            try:
                state = await update(
                    first, store, KINDS["movie"], until=TODAY - dt.timedelta(days=1),
                    export=export_of(fake, "movie", TODAY),
                )  # fmt: skip
                pending = await store.pending_ids("movie")
                failing = await store.pending_count("movie")
            finally:
                await store.close()
        assert state.changes_through == TODAY - dt.timedelta(days=1)  # the window moved on
        assert sorted(pending.ids) == sorted(changed[:2])
        assert failing == (2, 2)
        fake.reset_stats()
        await update_to(fake, db_url, TODAY)
        assert sorted(requested_ids(fake)) == sorted(pending.ids)
    assert (await state_of(db_url)).export_date == TODAY
    store = await Store.open(db_url)
    try:
        assert await store.pending_count("movie") == (0, 0)
    finally:
        await store.close()


async def test_adult_entries_only_with_adult(new_db: Callable[[], str]) -> None:
    plain, adult = new_db(), new_db()
    async with FakeTMDB(timeline=MOVING) as fake:
        await build_from_export(fake, plain, BUILT)
        await build_from_export(fake, adult, BUILT, adult=True)
        await update_to(fake, plain, TODAY)
        await update_to(fake, adult, TODAY)
        history = fake.history("movie")
    without, with_adult = await snapshot(plain), await snapshot(adult)
    assert not any(history.adult(i) for i in without.alive)
    adults = {i for i in with_adult.alive if history.adult(i)}
    assert adults
    assert adults == {i for i in history.alive_on(TODAY) if history.adult(i)}
    assert with_adult.alive.keys() - adults == without.alive.keys()


async def test_an_update_needs_a_build_and_a_client_without_cache(db_url: str) -> None:
    async with FakeTMDB(timeline=MOVING) as fake:
        async with client(fake) as tmdb:
            store = await Store.open(db_url)
            try:
                with pytest.raises(MirrorError, match="build it first"):
                    await update(run_of(tmdb), store, KINDS["movie"], until=TODAY, export=None)
            finally:
                await store.close()
        from tmdb_async import TMDB

        async with TMDB(access_token=fake.access_token, base_url=fake.url) as cached:
            store = await Store.open(db_url)
            try:
                with pytest.raises(ParameterError, match="cache"):
                    await update(run_of(cached), store, KINDS["movie"], until=TODAY, export=None)
            finally:
                await store.close()


async def test_a_build_with_other_parts_is_refused(db_url: str) -> None:
    async with FakeTMDB(timeline=MOVING) as fake:
        await build_from_export(fake, db_url, BUILT, append=("credits",))
        with pytest.raises(MirrorError, match="append_to_response=credits"):
            await build_from_export(fake, db_url, BUILT, append=("images",))


async def test_the_python_build_checks_its_ids_first_and_fetches_each_once(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'm.db'}"
    async with FakeTMDB(timeline=MOVING, today=BUILT) as fake, client(fake) as tmdb:
        for bad in ([3, 0], range(4), [2, True]):
            with pytest.raises(ParameterError, match="ids"):
                await mirror_build(tmdb, db, "movie", bad)
        assert not (tmp_path / "m.db").exists()  # refused before the database was opened
        assert fake.stats.count("movie-details") == 0
        report = await mirror_build(tmdb, db, "movie", [5, 3, 5, 9])
        assert sorted(requested_ids(fake)) == [3, 5, 9]
        assert report.done + report.failed == 3
        again = await mirror_build(tmdb, db, "movie", range(1, 10))
        assert again.skipped == 3
        assert sorted(requested_ids(fake)) == list(range(1, 10))  # none of 3, 5, 9 again


async def test_the_python_build_raises_the_clients_own_errors(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'm.db'}"
    async with FakeTMDB(timeline=MOVING, today=BUILT) as fake:
        async with client(fake) as tmdb:
            with pytest.raises(ParameterError, match="append_to_response: unknown part"):
                await mirror_build(tmdb, db, "movie", range(1, 5), append=["credts"])
        async with TMDB(access_token="wrong", base_url=fake.url, cache=None) as stranger:
            with pytest.raises(AuthenticationError):
                await mirror_build(stranger, db, "movie", range(1, 5))
    async with Mirror(db) as mirror:  # the typo locked nothing: no row, no parts recorded
        assert await mirror.count("movie") == 0


async def test_the_parts_of_a_kind_may_change_while_it_has_no_row(db_url: str) -> None:
    async with FakeTMDB(timeline=MOVING, today=BUILT) as fake, client(fake) as tmdb:
        await mirror_build(tmdb, db_url, "movie", [], append=["credits"])  # no row written
        await mirror_build(tmdb, db_url, "movie", range(1, 4), append=["images"])
        with pytest.raises(MirrorError, match="append_to_response=images"):
            await mirror_build(tmdb, db_url, "movie", range(1, 4), append=["credits"])
    assert (await state_of(db_url)).append == ("images",)


async def test_update_of_a_database_that_is_no_mirror_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    async with FakeTMDB(timeline=MOVING) as fake, client(fake) as tmdb:
        with pytest.raises(MirrorError, match="no mirror database"):
            await mirror_update(tmdb, f"sqlite:///{missing}", "movie")
    assert not missing.exists()
