"""The prepare stage remembers built calls of repeated plain calls (the cache-hit fast path):
the memo must never change what a call does."""

from __future__ import annotations

import pytest

from tmdb_async import TMDB, AuthenticationError, ParameterError
from tmdb_async._pipeline.prepare import MEMO_SIZE
from tmdb_async.testing import FakeTMDB


async def test_repeated_calls_hit_the_cache_through_the_memo(
    tmdb: TMDB, fake_tmdb: FakeTMDB
) -> None:
    first = await tmdb.movies.details(550)
    assert await tmdb.movies.details(550) == first
    assert await tmdb.movies.details(550, language="en-US") is not None
    assert fake_tmdb.stats.count("movie-details") == 2
    assert tmdb.stats.cache_hits == 1


async def test_a_bool_equal_to_a_remembered_int_is_still_rejected(tmdb: TMDB) -> None:
    await tmdb.movies.details(1)
    with pytest.raises(ParameterError):
        await tmdb.movies.details(True)


async def test_invalid_arguments_are_rejected_every_time(tmdb: TMDB) -> None:
    for _ in range(2):
        with pytest.raises(ParameterError):
            await tmdb.movies.details("550x")  # type: ignore[arg-type]


async def test_the_memo_stays_bounded(tmdb: TMDB) -> None:
    prepare = tmdb._transport.requester
    for movie_id in range(MEMO_SIZE + 5):
        await tmdb.movies.details(movie_id + 1)
    assert 0 < len(prepare._memo) <= MEMO_SIZE


async def test_no_memo_without_a_cache(fake_tmdb: FakeTMDB) -> None:
    async with TMDB(
        access_token=fake_tmdb.access_token, base_url=fake_tmdb.url, rate_limit=None, cache=None
    ) as tmdb:
        await tmdb.movies.details(550)
        assert tmdb._transport.requester._memo == {}


async def test_uncacheable_requests_are_not_remembered(tmdb: TMDB) -> None:
    with pytest.raises(AuthenticationError):  # FakeTMDB does not know this session
        await tmdb.account.details(1, session_id="SESSION-SECRET")
    assert not any("SESSION-SECRET" in repr(key) for key in tmdb._transport.requester._memo)
