"""fetch_many and paginate against FakeTMDB, which counts what it receives."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest

from tests._waiting import eventually
from tmdb_async import TMDB, NotFoundError, ParameterError, ServerError, _pagination
from tmdb_async.models import MovieDetails
from tmdb_async.testing import FakeTMDB, Latency
from tmdb_async.testing import ServerError as ServerErrorFault

MISSING = {13, 666, 999}
BROKEN = {7, 500}


@pytest.fixture
async def tmdb(fake_tmdb: FakeTMDB) -> AsyncIterator[TMDB]:
    fake_tmdb.missing_ids = MISSING
    fake_tmdb.inject(Latency(0.001, max_seconds=0.004), "/3/movie/*")
    for movie_id in BROKEN:
        fake_tmdb.inject(ServerErrorFault(500), f"/3/movie/{movie_id}")
    client = TMDB(
        access_token=fake_tmdb.access_token,
        base_url=fake_tmdb.url,
        max_retries=0,
        rate_limit=None,
        cache=None,
    )
    async with client:
        yield client


async def test_fetch_many_reports_every_id_once_with_typed_errors(
    tmdb: TMDB, fake_tmdb: FakeTMDB
) -> None:
    ids = list(range(1, 1001))
    seen: dict[int, MovieDetails | Exception] = {}
    async for movie_id, result in tmdb.fetch_many(tmdb.movies.details, ids, concurrency=10):
        assert movie_id not in seen
        seen[movie_id] = result
    assert sorted(seen) == ids
    assert all(isinstance(seen[i], NotFoundError) for i in MISSING)
    assert all(isinstance(seen[i], ServerError) for i in BROKEN)
    good = [seen[i] for i in ids if i not in MISSING | BROKEN]
    assert all(isinstance(m, MovieDetails) for m in good)
    assert [m.id for m in good if isinstance(m, MovieDetails)] == sorted(
        set(ids) - MISSING - BROKEN
    )
    assert fake_tmdb.stats.count("movie-details") == 1000
    assert 5 <= fake_tmdb.stats.max_in_flight <= 10


async def test_fetch_many_ordered_keeps_input_order(tmdb: TMDB, fake_tmdb: FakeTMDB) -> None:
    ids = [9, 3, 14, 1, 12, 8, 2, 11, 4, 10, 13] * 3
    order = [
        movie_id
        async for movie_id, _ in tmdb.fetch_many(
            tmdb.movies.details, ids, ordered=True, concurrency=4
        )
    ]
    assert order == ids
    assert fake_tmdb.stats.max_in_flight <= 4


async def test_fetch_many_passes_parameters(tmdb: TMDB, fake_tmdb: FakeTMDB) -> None:
    results = [r async for _, r in tmdb.fetch_many(tmdb.movies.details, [1, 2], language="de")]
    assert all(isinstance(r, MovieDetails) for r in results)
    assert {r.query.get("language") for r in fake_tmdb.stats.requests} == {"de"}


async def test_fetch_many_stops_cleanly_when_the_consumer_breaks(
    tmdb: TMDB, fake_tmdb: FakeTMDB
) -> None:
    async for _ in tmdb.fetch_many(tmdb.movies.details, range(1, 10_000), concurrency=5):
        break
    # The server sees the cancelled requests' connections close.
    await eventually(lambda: fake_tmdb.stats.in_flight == 0, "no request in flight")
    assert fake_tmdb.stats.total <= 5


async def test_paginate_yields_every_item_in_page_order(tmdb: TMDB) -> None:
    first = await tmdb.movie_lists.popular(page=1)
    last = min(first.total_pages, 12)
    expected = [
        m.id for p in range(1, last + 1) for m in (await tmdb.movie_lists.popular(page=p)).results
    ]
    got = [m.id async for m in tmdb.paginate(tmdb.movie_lists.popular, max_pages=last)]
    assert got == expected


async def test_paginate_max_items_stops_early(tmdb: TMDB, fake_tmdb: FakeTMDB) -> None:
    items = [m async for m in tmdb.paginate(tmdb.discover.movie, max_items=45)]
    assert len(items) == 45
    pages = [int(r.query.get("page", "1")) for r in fake_tmdb.stats.requests]
    assert max(pages) <= 3 + 4  # page 3 plus at most one window of prefetch


async def test_paginate_stops_at_tmdbs_500_page_cap(tmdb: TMDB, fake_tmdb: FakeTMDB) -> None:
    first = await tmdb.discover.movie()
    assert first.total_pages > 500
    count = 0
    async for _ in tmdb.paginate(tmdb.discover.movie):
        count += 1
    assert count == 500 * 20
    pages = [int(r.query.get("page", "1")) for r in fake_tmdb.stats.requests]
    assert max(pages) == 500
    assert fake_tmdb.stats.max_in_flight <= 4


async def test_bad_limits_fail_before_any_request(tmdb: TMDB, fake_tmdb: FakeTMDB) -> None:
    with pytest.raises(ParameterError, match="max_pages"):
        async for _ in tmdb.paginate(tmdb.movie_lists.popular, max_pages=0):
            pass
    with pytest.raises(ParameterError, match="concurrency"):
        async for _ in tmdb.fetch_many(tmdb.movies.details, [1], concurrency=0):
            pass
    assert fake_tmdb.stats.total == 0


async def test_paginate_starts_at_start_page(tmdb: TMDB, fake_tmdb: FakeTMDB) -> None:
    expected = [m.id for p in (3, 4, 5) for m in (await tmdb.movie_lists.popular(page=p)).results]
    fake_tmdb.stats.reset()
    pages = tmdb.paginate(tmdb.movie_lists.popular, start_page=3, max_pages=3)
    assert [m.id async for m in pages] == expected
    assert sorted(int(r.query["page"]) for r in fake_tmdb.stats.requests) == [3, 4, 5]


async def test_paginate_with_a_path_argument(tmdb: TMDB, fake_tmdb: FakeTMDB) -> None:
    items = [m async for m in tmdb.paginate(tmdb.movies.similar, 550, max_items=25)]
    assert len(items) == 25
    assert {r.path for r in fake_tmdb.stats.requests} == {"/3/movie/550/similar"}


async def test_paginate_refuses_page_and_says_to_use_start_page(
    tmdb: TMDB, fake_tmdb: FakeTMDB
) -> None:
    with pytest.raises(ParameterError) as caught:
        async for _ in tmdb.paginate(tmdb.search.person, query="nolan", page=3):
            pass
    assert str(caught.value) == (
        "paginate() asks for every page itself: instead of page=3, start at a page with"
        " start_page=3"
    )
    assert fake_tmdb.stats.total == 0


@pytest.mark.parametrize("start_page", [0, 501, "2", True])
async def test_a_bad_start_page_fails_before_any_request(
    tmdb: TMDB, fake_tmdb: FakeTMDB, start_page: object
) -> None:
    with pytest.raises(ParameterError, match="start_page must be an int from 1 to 500"):
        async for _ in tmdb.paginate(tmdb.movie_lists.popular, start_page=start_page):  # type: ignore[arg-type]
            pass
    assert fake_tmdb.stats.total == 0


async def test_fetch_many_reads_an_async_source_alongside_the_requests(
    tmdb: TMDB, fake_tmdb: FakeTMDB
) -> None:
    """A slow source (a pipe, a queue) never holds back a finished result, and the window
    still slides over it."""
    queue: asyncio.Queue[int | None] = asyncio.Queue()

    async def ids() -> AsyncIterator[int]:
        while (item := await queue.get()) is not None:
            yield item

    results = _pagination.fetch_many(tmdb.movies.details, ids(), concurrency=3)
    for movie_id in (1, 2):
        queue.put_nowait(movie_id)
    first = await asyncio.wait_for(anext(results), 5)  # the source has nothing more yet
    second = await asyncio.wait_for(anext(results), 5)
    assert sorted([first[0], second[0]]) == [1, 2]
    for movie_id in range(3, 21):
        queue.put_nowait(movie_id)
    queue.put_nowait(None)
    rest = [movie_id async for movie_id, _ in results]
    assert sorted(rest) == list(range(3, 21))
    assert fake_tmdb.stats.max_in_flight <= 3


async def test_fetch_many_stops_reading_an_async_source_when_closed(tmdb: TMDB) -> None:
    read: list[int] = []

    async def endless() -> AsyncIterator[int]:
        for movie_id in itertools.count(1):
            read.append(movie_id)
            yield movie_id

    results = _pagination.fetch_many(tmdb.movies.details, endless(), concurrency=4)
    async with aclosing(results):
        async for _ in results:
            break
    assert len(read) <= 4 + 1  # the window, and the one being read


# -- positional paging options: bound at run time as the type checker binds them -------------
# (tests/typing/api.py holds the same calls, checked by mypy)


async def _ids(pages: AsyncIterator[Any]) -> list[int]:
    return [item.id async for item in pages]


async def test_paging_options_after_a_method_without_a_path_argument(
    tmdb: TMDB, fake_tmdb: FakeTMDB
) -> None:
    """`paginate(popular, 2)`: the type checker reads 2 as max_pages; so does the call."""
    assert len(await _ids(tmdb.paginate(tmdb.movie_lists.popular, 2))) == 40
    assert len(await _ids(tmdb.paginate(tmdb.movie_lists.popular, 2, 15))) == 15
    third = await _ids(tmdb.paginate(tmdb.movie_lists.popular, 1, None, 3))
    assert third == [m.id for m in (await tmdb.movie_lists.popular(page=3)).results]
    assert {r.path for r in fake_tmdb.stats.requests} == {"/3/movie/popular"}


async def test_paging_options_after_a_path_argument(tmdb: TMDB, fake_tmdb: FakeTMDB) -> None:
    assert len(await _ids(tmdb.paginate(tmdb.movies.similar, 550, 2))) == 40
    assert len(await _ids(tmdb.paginate(tmdb.movies.similar, 550, 3, 25, 2))) == 25
    assert {r.path for r in fake_tmdb.stats.requests} == {"/3/movie/550/similar"}
    assert {r.query["page"] for r in fake_tmdb.stats.requests} == {"1", "2", "3", "4"}  # 2..4


async def test_an_optional_path_argument_binds_by_its_type(fake_tmdb: FakeTMDB, tmdb: TMDB) -> None:
    """A user's view fills in `account_object_id` (a str): an int there is max_pages."""
    token, account = fake_tmdb.user_token(3)
    me = tmdb.as_user(token, account_id=account)
    rated = me.v4.account.rated_movies
    assert await _ids(me.paginate(rated, 1)) == await _ids(me.paginate(rated, max_pages=1))
    assert await _ids(me.paginate(rated, account, 1)) == await _ids(me.paginate(rated, 1))
    paths = {r.path for r in fake_tmdb.stats.requests}
    assert paths == {f"/4/account/{account}/movie/rated"}


async def test_a_paging_option_given_twice_is_a_type_error(tmdb: TMDB, fake_tmdb: FakeTMDB) -> None:
    with pytest.raises(TypeError, match="paginate\\(\\) got multiple values for 'max_pages'"):
        tmdb.paginate(tmdb.movie_lists.popular, 2, max_pages=3)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="multiple values for 'max_items'"):
        tmdb.paginate(tmdb.movies.similar, 550, 2, 3, max_items=3)  # type: ignore[call-overload]
    assert fake_tmdb.stats.total == 0
