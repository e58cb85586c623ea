"""What tolerant decoding leaves out is reported through the client, on loopback: one
warning per response (count, first JSON paths, redacted URL), counters in `tmdb.stats`,
a cached body that needs repair counted on every hit but warned about once."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from tests._loopback import Loopback, serving
from tmdb_async import TMDB, DecodeError, Dropped
from tmdb_async._decode import MAX_DROPS
from tmdb_async._pipeline import decoding
from tmdb_async.models import Genre

KEY = "0123456789abcdef0123456789abcdef"
GENRES = [{"id": 18, "name": "Drama"}, {"id": "eighteen", "name": "Bad"}, {"id": 35}]
BODIES: dict[int, Any] = {
    1: {"id": 1, "title": "Two drops", "runtime": "about two hours", "genres": GENRES},
    2: {"id": 2, "title": "Coerced", "runtime": "139", "budget": 63000000.0},
    3: {"id": 3, "title": "Fits", "runtime": 139},
    4: {"id": 4, "genres": [{"id": 1, "name": ["x"]} for _ in range(7)]},
    5: {"id": 5, "genres": [{"id": 1, "name": []}] * (MAX_DROPS + 1)},
}


@dataclass
class Server(Loopback):
    delay: float = 0.0


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()

    async def movie(request: web.Request) -> web.Response:
        state.requests.append(request)
        await asyncio.sleep(state.delay)
        body = BODIES[int(request.match_info["movie_id"])]
        return web.json_response(body)

    async def tv(request: web.Request) -> web.Response:
        state.requests.append(request)
        if request.match_info["series_id"] == "1400":  # the bad value is in the main body
            season = {"id": 9, "season_number": 1, "name": "One"}
            body = {"id": 1400, "name": "Bad", "number_of_seasons": "eight", "season/1": season}
            return web.json_response(body)
        season = {"id": 9, "season_number": 1, "episodes": [{"id": 1, "episode_number": "x1"}]}
        body = {"id": 1399, "name": "GoT", "season/1": season, "season/2": None}
        return web.json_response(body)

    async with serving(state, {"/3/movie/{movie_id}": movie, "/3/tv/{series_id}": tv}):
        yield state


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_response_with_drops_warns_once_and_counts(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    async with TMDB(api_key=KEY, base_url=server.url) as tmdb:
        with caplog.at_level(logging.DEBUG, logger="tmdb_async"):
            movie = await tmdb.movies.details(1)
            again = await tmdb.movies.details(1)  # a memory-cache hit: repaired again
        stats = tmdb.stats.as_dict()
    assert movie == again
    assert (movie.title, movie.runtime) == ("Two drops", None)
    assert movie.genres == [Genre(id=18, name="Drama"), Genre(id=35)]
    assert len(server.requests) == 1
    (line,) = warnings(caplog)
    assert line.startswith("GET http://127.0.0.1:")
    assert "/3/movie/1" in line
    assert KEY not in caplog.text
    assert "2 values did not fit the model and were left out:" in line
    assert "$.runtime: expected int | null, got str" in line
    assert "$.genres[1] (at $.genres[1].id): expected int, got str" in line
    assert (stats["dropped_fields"], stats["repaired_responses"]) == (4, 2)
    assert (stats["coerced_responses"], stats["cache_hits"]) == (0, 1)


async def test_a_warning_names_the_first_paths_and_counts_the_rest(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    async with TMDB(access_token="t", base_url=server.url, cache=None) as tmdb:
        with caplog.at_level(logging.WARNING, logger="tmdb_async"):
            movie = await tmdb.movies.details(4)
    assert movie.genres == [Genre(id=1)] * 7
    (line,) = warnings(caplog)
    assert "7 values did not fit" in line
    named = [f"$.genres[{i}].name" for i in range(decoding.LOGGED_PATHS)]
    assert all(path in line for path in named)
    assert "$.genres[5].name" not in line
    assert line.endswith("; and 2 more")


async def test_a_coerced_response_counts_and_logs_only_at_debug(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    async with TMDB(access_token="t", base_url=server.url, cache=None) as tmdb:
        with caplog.at_level(logging.DEBUG, logger="tmdb_async"):
            movie = await tmdb.movies.details(2)
            fits = await tmdb.movies.details(3)
        stats = tmdb.stats
    assert (movie.runtime, movie.budget) == (139, 63000000)
    assert fits.runtime == 139
    assert warnings(caplog) == []
    debug = [r.getMessage() for r in caplog.records if "lax coercions" in r.getMessage()]
    assert len(debug) == 1
    assert "/3/movie/2" in debug[0]
    assert (stats.coerced_responses, stats.repaired_responses, stats.dropped_fields) == (1, 0, 0)


async def test_coalesced_callers_each_get_the_value_and_are_counted(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    server.delay = 0.2
    async with TMDB(access_token="t", base_url=server.url, cache=None) as tmdb:
        with caplog.at_level(logging.WARNING, logger="tmdb_async"):
            first, second = await asyncio.gather(
                tmdb.movies.details(1), tmdb.response(tmdb.movies.details, 1)
            )
        stats = tmdb.stats
    assert len(server.requests) == 1
    assert stats.coalesced == 1
    assert first == second.value
    assert first is not second.value  # each caller its own copy
    assert [d.path for d in second.drops] == ["$.runtime", "$.genres[1].id"]
    assert stats.repaired_responses == 2
    assert len(warnings(caplog)) == 1


async def test_derived_clients_share_the_counters_and_the_warnings_seen(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    async with TMDB(access_token="t", base_url=server.url, cache=None) as tmdb:
        german = tmdb.with_options(language="de-DE")
        with caplog.at_level(logging.WARNING, logger="tmdb_async"):
            await tmdb.movies.details(1)
            await tmdb.movies.details(1)
            await german.movies.details(1)  # another URL: its own warning
            await german.movies.details(1)
        assert tmdb.stats.repaired_responses == german.stats.repaired_responses == 4
    assert len(warnings(caplog)) == 2


async def test_warnings_seen_are_bounded(
    server: Server, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(decoding, "REMEMBERED_WARNINGS", 1)
    async with TMDB(access_token="t", base_url=server.url, cache=None) as tmdb:
        with caplog.at_level(logging.WARNING, logger="tmdb_async"):
            for movie_id in (1, 1, 4, 1):
                await tmdb.movies.details(movie_id)
    assert [("/3/movie/4" in line) for line in warnings(caplog)] == [False, True, False]


async def test_a_body_beyond_repair_is_a_decode_error(server: Server) -> None:
    async with TMDB(access_token="t", base_url=server.url, cache=None) as tmdb:
        with pytest.raises(DecodeError, match=f"more than {MAX_DROPS} values") as info:
            await tmdb.movies.details(5)
        assert tmdb.stats.errors["DecodeError"] == 1
        assert tmdb.stats.repaired_responses == 0
    assert info.value.json_path == "$.genres[0].name"
    assert "/3/movie/5" in str(info.value.url)


async def test_an_appended_part_that_does_not_fit_is_left_out_alone(server: Server) -> None:
    async with TMDB(access_token="t", base_url=server.url) as tmdb:
        response = await tmdb.response(
            tmdb.tv_series.details, 1399, append_to_response=["season/1", "season/2"]
        )
    series = response.value
    assert series.name == "GoT"
    assert list(series.appended_seasons or {}) == [1]
    assert response.drops == (
        Dropped(
            "$.season/1.episodes[0].episode_number",
            "int | null",
            "str",
            "$.season/1.episodes[0].episode_number",
        ),
        Dropped("$.season/2", "object", "null", "$.season/2"),
    )
    assert json.loads(response.body)["season/2"] is None


@pytest.mark.parametrize("parts", [["season/1"], []], ids=["with-a-season-part", "no-parts"])
async def test_a_drop_in_the_main_body_of_a_templated_operation_is_reported(
    server: Server, caplog: pytest.LogCaptureFixture, parts: list[str]
) -> None:
    # tv_series.details is the one operation whose appended parts are templated (`season/N`),
    # gathered after the main body is decoded: the main body's drops must survive that.
    async with TMDB(access_token="t", base_url=server.url, cache=None) as tmdb:
        with caplog.at_level(logging.WARNING, logger="tmdb_async"):
            response = await tmdb.response(tmdb.tv_series.details, 1400, append_to_response=parts)
        stats = tmdb.stats
    series = response.value
    assert (series.name, series.number_of_seasons) == ("Bad", None)
    if parts:
        assert series.appended_seasons is not None
        assert series.appended_seasons[1].name == "One"
    expected = Dropped("$.number_of_seasons", "int | null", "str", "$.number_of_seasons")
    assert response.drops == (expected,)
    (line,) = warnings(caplog)
    assert "/3/tv/1400" in line
    assert "1 value did not fit the model and was left out: $.number_of_seasons" in line
    assert (stats.dropped_fields, stats.repaired_responses) == (1, 1)
