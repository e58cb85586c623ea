"""User and guest sessions on FakeTMDB: the id travels by itself, never into a log or repr."""

from __future__ import annotations

import logging

import pytest

from tmdb_async import TMDB, AuthenticationError, ParameterError
from tmdb_async.models import Rated
from tmdb_async.testing import FakeTMDB


def client(fake: FakeTMDB) -> TMDB:
    return TMDB(access_token=fake.access_token, base_url=fake.url)


async def test_user_session_rates_and_reads_back(
    fake_tmdb: FakeTMDB, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tmdb_async")
    async with client(fake_tmdb) as tmdb:
        async with tmdb.user_session(username="ann", password="pw") as me:
            session_id = me.session_id
            assert session_id
            assert session_id not in repr(me)
            await me.movies.add_rating(550, value=8.5)
            states = await me.movies.account_states(550)
            assert states.rated == Rated(value=8.5)
            await me.movies.delete_rating(550)
            assert (await me.movies.account_states(550)).rated is False
        assert fake_tmdb.rating(session_id, "movie", 550) is None
        with pytest.raises(AuthenticationError):
            await tmdb.movies.account_states(550, session_id=session_id)  # deleted on exit
    sent = [r for r in fake_tmdb.stats.requests if r.query.get("session_id") == session_id]
    assert {r.operation_id for r in sent} >= {"movie-add-rating", "movie-account-states"}
    assert all(session_id not in record.getMessage() for record in caplog.records)


async def test_existing_session_is_used_and_kept(fake_tmdb: FakeTMDB) -> None:
    session_id = fake_tmdb.create_session()
    async with client(fake_tmdb) as tmdb:
        async with tmdb.user_session(session_id=session_id) as me:
            await me.tv_series.add_rating(1399, value=7.0)
        assert fake_tmdb.rating(session_id, "tv", 1399) == 7.0
        states = await tmdb.tv_series.account_states(1399, session_id=session_id)
        assert states.rated == Rated(value=7.0)


async def test_guest_session_rates(fake_tmdb: FakeTMDB) -> None:
    async with client(fake_tmdb) as tmdb, tmdb.guest_session() as guest:
        await guest.movies.add_rating(603, value=9.5)
        assert guest.guest_session_id is not None
        assert fake_tmdb.rating(guest.guest_session_id, "movie", 603) == 9.5
        rated = await guest.guest_sessions.rated_movies(guest.guest_session_id)
        assert [m.id for m in rated.results] == [603]


async def test_session_is_only_usable_inside_the_block(fake_tmdb: FakeTMDB) -> None:
    async with client(fake_tmdb) as tmdb:
        me = tmdb.user_session(session_id=fake_tmdb.create_session())
        with pytest.raises(RuntimeError, match="async with"):
            await me.movies.account_states(550)
        with pytest.raises(ParameterError, match="username and password"):
            tmdb.user_session(username="ann")


def test_approval_url() -> None:
    assert TMDB.approval_url("abc") == "https://www.themoviedb.org/authenticate/abc"
    assert TMDB.approval_url("abc", "https://app.example/done?x=1") == (
        "https://www.themoviedb.org/authenticate/abc?redirect_to=https://app.example/done?x%3D1"
    )


async def test_nothing_session_scoped_is_cached(fake_tmdb: FakeTMDB) -> None:
    async with client(fake_tmdb) as tmdb:
        async with tmdb.user_session(session_id=fake_tmdb.create_session()) as me:
            await me.movies.account_states(550)
            await me.movies.add_rating(550, value=6.0)
            states = await me.movies.account_states(550)
            await me.account.rated_movies(1)
            await me.account.rated_movies(1)
        async with tmdb.guest_session() as guest:
            assert guest.guest_session_id is not None
            await guest.guest_sessions.rated_movies(guest.guest_session_id)
            await guest.guest_sessions.rated_movies(guest.guest_session_id)
        assert states.rated == Rated(value=6.0)
        assert tmdb.stats.cache_hits == 0
        assert fake_tmdb.stats.count("movie-account-states") == 2
        assert fake_tmdb.stats.count("account-rated-movies") == 2
        assert fake_tmdb.stats.count("guest-session-rated-movies") == 2
