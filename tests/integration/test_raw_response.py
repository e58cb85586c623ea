"""`tmdb.response()`: TMDB's bytes with the model, for any operation, through the same
pipeline as the plain coroutine (cache, retries, sessions, typed errors), on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web

from tests._loopback import Loopback, serving
from tmdb_async import TMDB, NotFoundError, Response
from tmdb_async.models import AccountDetails, MovieDetails

# Pretty-printed, with a key no model has and non-ASCII text: kept byte for byte.
MOVIE = (
    b'{\n  "id": 550,\n  "title": "Fight Club",\n  "original_title": "Fight Club",\n'
    b'  "tagline": "Mischief. Mayhem. Soap. \xe2\x80\x94 \\u00e9",\n'
    b'  "a_key_no_model_has": {"nested": [1, 2.50, "x"]}\n}\n'
)


@dataclass
class Server(Loopback):
    fail_first: int = 0


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()

    async def movie(request: web.Request) -> web.Response:
        state.requests.append(request)
        if state.fail_first:
            state.fail_first -= 1
            return web.Response(status=503, text="busy")
        if request.match_info["movie_id"] != "550":
            body = b'{"status_code":34,"status_message":"The resource could not be found."}'
            return web.Response(status=404, body=body, content_type="application/json")
        return web.Response(body=MOVIE, content_type="application/json")

    async def account(request: web.Request) -> web.Response:
        state.requests.append(request)
        return web.Response(body=b'{"id": 7, "username": "me"}', content_type="application/json")

    async with serving(state, {"/3/movie/{movie_id}": movie, "/3/account/{account_id}": account}):
        yield state


async def test_the_body_as_sent_and_the_model(server: Server) -> None:
    async with TMDB(access_token="t", base_url=server.url) as tmdb:
        plain = await tmdb.movies.details(550)
        response = await tmdb.response(tmdb.movies.details, 550)
        again = await tmdb.response(tmdb.movies.details, 550, language="de-DE")
        hits = tmdb.stats.cache_hits
    assert isinstance(response, Response)
    assert response.body == MOVIE  # from the cache, as TMDB sent it
    assert hits == 1
    assert response.value == plain
    assert isinstance(response.value, MovieDetails)
    assert (response.drops, response.coerced) == ((), False)
    assert again.body == MOVIE
    assert [r.query.get("language") for r in server.requests] == [None, "de-DE"]


async def test_retries_and_typed_errors_as_for_the_coroutine(
    server: Server, fake_retry_clock: None
) -> None:
    server.fail_first = 2
    async with TMDB(access_token="t", base_url=server.url, cache=None) as tmdb:
        response = await tmdb.response(tmdb.movies.details, 550)
        with pytest.raises(NotFoundError) as info:
            await tmdb.response(tmdb.movies.details, 551)
        assert tmdb.stats.retries == 2
        assert tmdb.stats.errors["NotFoundError"] == 1
    assert response.body == MOVIE
    assert info.value.status_code == 34


async def test_a_derived_client_and_a_session(server: Server) -> None:
    async with TMDB(access_token="t", base_url=server.url) as tmdb:
        german = tmdb.with_options(language="de-DE")
        assert (await german.response(german.movies.details, 550)).body == MOVIE
        async with tmdb.user_session(session_id="secret-session") as me:
            response = await tmdb.response(me.account.details, 7)
    assert response.value == AccountDetails(id=7, username="me")
    assert response.body == b'{"id": 7, "username": "me"}'
    assert server.requests[-1].query["session_id"] == "secret-session"


async def test_only_operations_of_a_client(server: Server) -> None:
    async def not_an_operation(movie_id: int) -> MovieDetails:
        return MovieDetails(id=movie_id)

    async with TMDB(access_token="t", base_url=server.url) as tmdb:
        with pytest.raises(TypeError, match=r"tmdb\.movies\.details"):
            await tmdb.response(not_an_operation, 1)
    assert server.requests == []
