"""fetch_many and paginate against a loopback server that counts what it receives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tmdb_async import TMDB, NotFoundError, ServerError
from tmdb_async.models import MovieDetails

MISSING = {13, 666}
BROKEN = {7}


@dataclass
class Counters:
    in_flight: int = 0
    high_water: int = 0
    pages: list[int] = field(default_factory=list)
    details: list[int] = field(default_factory=list)


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, Counters]]:
    counters = Counters()
    total_pages = {"popular": 3, "discover": 38020}

    async def details(request: web.Request) -> web.Response:
        movie_id = int(request.match_info["movie_id"])
        counters.details.append(movie_id)
        counters.in_flight += 1
        counters.high_water = max(counters.high_water, counters.in_flight)
        try:
            await asyncio.sleep(0.001 * (movie_id % 5))
        finally:
            counters.in_flight -= 1
        if movie_id in MISSING:
            return web.json_response({"status_code": 34, "status_message": "not found"}, status=404)
        if movie_id in BROKEN:
            return web.Response(status=500, text="<html>oops</html>", content_type="text/html")
        return web.json_response({"id": movie_id, "title": f"Movie {movie_id}"})

    def pages(name: str) -> web.RequestHandler:
        async def handler(request: web.Request) -> web.Response:
            page = int(request.query.get("page", "1"))
            counters.pages.append(page)
            results = [{"id": page * 100 + i} for i in range(20)]
            body = {"page": page, "results": results, "total_pages": total_pages[name]}
            return web.json_response(body | {"total_results": total_pages[name] * 20})

        return handler

    app = web.Application()
    app.router.add_get("/3/movie/popular", pages("popular"))
    app.router.add_get("/3/discover/movie", pages("discover"))
    app.router.add_get("/3/movie/{movie_id}", details)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    yield str(test_server.make_url("")), counters
    await test_server.close()


def client(url: str) -> TMDB:
    return TMDB(access_token="t", base_url=url, max_retries=0, rate_limit=None, cache=None)


async def test_fetch_many_reports_every_id_once_with_typed_errors(
    server: tuple[str, Counters],
) -> None:
    url, counters = server
    ids = list(range(1, 1001))
    seen: dict[int, object] = {}
    async with client(url) as tmdb:
        async for movie_id, result in tmdb.fetch_many(tmdb.movies.details, ids, concurrency=10):
            assert movie_id not in seen
            seen[movie_id] = result
    assert sorted(seen) == ids
    assert all(isinstance(seen[i], NotFoundError) for i in MISSING)
    assert all(isinstance(seen[i], ServerError) for i in BROKEN)
    good = [i for i in ids if i not in MISSING | BROKEN]
    assert all(isinstance(seen[i], MovieDetails) and seen[i].id == i for i in good)  # type: ignore[attr-defined]
    assert counters.high_water <= 10
    assert counters.high_water >= 5


async def test_fetch_many_ordered_keeps_input_order(server: tuple[str, Counters]) -> None:
    url, counters = server
    ids = [9, 3, 14, 1, 12, 8, 2, 11, 4, 10] * 3
    async with client(url) as tmdb:
        order = [
            i
            async for i, _ in tmdb.fetch_many(tmdb.movies.details, ids, ordered=True, concurrency=4)
        ]
    assert order == ids
    assert counters.high_water <= 4


async def test_fetch_many_stops_cleanly_when_the_consumer_breaks(
    server: tuple[str, Counters],
) -> None:
    url, counters = server
    async with client(url) as tmdb:
        async for _ in tmdb.fetch_many(tmdb.movies.details, range(1, 10_000), concurrency=5):
            break
    await asyncio.sleep(0.02)
    assert len(counters.details) <= 5
    assert counters.in_flight == 0


async def test_paginate_yields_every_item_in_order(server: tuple[str, Counters]) -> None:
    url, counters = server
    async with client(url) as tmdb:
        ids = [m.id async for m in tmdb.paginate(tmdb.movie_lists.popular)]
    assert ids == [p * 100 + i for p in (1, 2, 3) for i in range(20)]
    assert sorted(counters.pages) == [1, 2, 3]


async def test_paginate_limits(server: tuple[str, Counters]) -> None:
    url, counters = server
    async with client(url) as tmdb:
        capped = [m.id async for m in tmdb.paginate(tmdb.discover.movie, max_pages=7)]
        assert len(capped) == 7 * 20
        counters.pages.clear()
        first = [m.id async for m in tmdb.paginate(tmdb.discover.movie, max_items=45)]
        assert first == [p * 100 + i for p in (1, 2, 3) for i in range(20)][:45]
        assert max(counters.pages) <= 3 + 4  # page 3 plus at most one window of prefetch


async def test_paginate_stops_at_tmdbs_500_page_cap(server: tuple[str, Counters]) -> None:
    url, counters = server
    async with client(url) as tmdb:
        count = 0
        async for _ in tmdb.paginate(tmdb.discover.movie):
            count += 1
    assert count == 500 * 20
    assert max(counters.pages) == 500


async def test_bad_limits_are_rejected(server: tuple[str, Counters]) -> None:
    url, _ = server
    async with client(url) as tmdb:
        with pytest.raises(ValueError, match="max_pages"):
            async for _ in tmdb.paginate(tmdb.movie_lists.popular, max_pages=0):
                pass
        with pytest.raises(ValueError, match="concurrency"):
            async for _ in tmdb.fetch_many(tmdb.movies.details, [1], concurrency=0):
                pass
