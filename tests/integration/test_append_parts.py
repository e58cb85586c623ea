"""append_to_response end to end: each part typed, `watch/providers` and `season/N` included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests._examples import example
from tmdb_async import TMDB, ParameterError
from tmdb_async.models import (
    AlternativeNames,
    Credits,
    Images,
    TvSeasonDetails,
    WatchProviders,
    season_part,
)
from tmdb_async.testing import FakeTMDB

MOVIE_PARTS = {
    "credits": "movie-credits",
    "images": "movie-images",
    "watch/providers": "movie-watch-providers",
}


def _part(op_id: str) -> dict[str, Any]:
    return {k: v for k, v in example(op_id).items() if k != "id"}


@pytest.fixture
async def server() -> AsyncIterator[tuple[TestServer, list[web.Request]]]:
    seen: list[web.Request] = []

    async def movie(request: web.Request) -> web.Response:
        seen.append(request)
        body = dict(example("movie-details"))
        for part in request.query["append_to_response"].split(","):
            body[part] = _part(MOVIE_PARTS[part])
        return web.json_response(body)

    async def tv(request: web.Request) -> web.Response:
        seen.append(request)
        body = dict(example("tv-series-details"))
        for part in request.query["append_to_response"].split(","):
            season = dict(example("tv-season-details"), season_number=int(part.split("/")[1]))
            body[part] = season
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/3/movie/{movie_id}", movie)
    app.router.add_get("/3/tv/{series_id}", tv)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    yield test_server, seen
    await test_server.close()


async def test_movie_parts_are_typed_fields(server: tuple[TestServer, list[web.Request]]) -> None:
    test_server, seen = server
    async with TMDB(access_token="t", base_url=str(test_server.make_url(""))) as tmdb:
        movie = await tmdb.movies.details(
            11, append_to_response=["watch/providers", "credits", "images"]
        )
    assert seen[0].query["append_to_response"] == "credits,images,watch/providers"
    assert isinstance(movie.credits, Credits)
    assert len(movie.credits.cast or []) == len(example("movie-credits")["cast"])
    assert isinstance(movie.watch_providers, WatchProviders)
    assert set((movie.watch_providers.results or {}).keys()) == set(
        example("movie-watch-providers")["results"]
    )
    assert movie.images is not None
    assert movie.images.backdrops


async def test_numbered_season_parts_are_gathered(
    server: tuple[TestServer, list[web.Request]],
) -> None:
    test_server, seen = server
    async with TMDB(access_token="t", base_url=str(test_server.make_url(""))) as tmdb:
        series = await tmdb.tv_series.details(
            1399, append_to_response=[season_part(2), season_part(1)]
        )
        plain = await tmdb.movies.details(11, append_to_response=["credits"])
    assert seen[0].query["append_to_response"] == "season/1,season/2"
    assert series.appended_seasons is not None
    assert sorted(series.appended_seasons) == [1, 2]
    assert all(isinstance(s, TvSeasonDetails) for s in series.appended_seasons.values())
    assert series.appended_seasons[2].season_number == 2
    assert len(series.appended_seasons[1].episodes or []) == len(
        example("tv-season-details")["episodes"]
    )
    assert plain.credits is not None


async def test_bad_parts_fail_before_any_request(
    server: tuple[TestServer, list[web.Request]],
) -> None:
    test_server, seen = server
    async with TMDB(access_token="t", base_url=str(test_server.make_url(""))) as tmdb:
        with pytest.raises(ParameterError, match="credit"):
            await tmdb.movies.details(11, append_to_response=["credit"])  # type: ignore[list-item]
        with pytest.raises(ParameterError, match="at most 20"):
            await tmdb.tv_series.details(
                1, append_to_response=[season_part(n) for n in range(1, 22)]
            )
        with pytest.raises(ParameterError):
            await tmdb.movies.details(11, append_to_response=["season/1"])  # type: ignore[list-item]
    assert seen == []


async def test_collection_company_and_network_parts_are_typed(fake_tmdb: FakeTMDB) -> None:
    async with TMDB(access_token=fake_tmdb.access_token, base_url=fake_tmdb.url) as tmdb:
        collection = await tmdb.collections.details(10, append_to_response=["images"])
        company = await tmdb.companies.details(
            1, append_to_response=["alternative_names", "images"]
        )
        network = await tmdb.networks.details(49, append_to_response=["images"])
        plain = await tmdb.collections.details(10)
    assert isinstance(collection.images, Images)
    assert collection.images.posters
    assert collection.translations is None
    assert isinstance(company.alternative_names, AlternativeNames)
    assert isinstance(company.images, Images)
    assert isinstance(network.images, Images)
    assert network.alternative_names is None
    assert plain.images is None
    requests = [r.query.get("append_to_response") for r in fake_tmdb.stats.requests]
    assert requests == ["images", "alternative_names,images", "images", None]
