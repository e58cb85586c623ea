"""Transport against a real loopback aiohttp server: auth, errors, decoding, session ownership."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tmdb_async import TMDB
from tmdb_async._errors import (
    AuthenticationError,
    DecodeError,
    Failure,
    NotFoundError,
    ParameterError,
    RateLimitError,
    RequestError,
    ServerError,
    TMDBError,
    TransportError,
)
from tmdb_async._operation import BodyParam, CacheClass, Operation, PathParam, QueryParam
from tmdb_async._options import resolve_options
from tmdb_async._transport import Transport

TOKEN = "eyJhbGciOiJIUzI1NiJ9.SECRETTOKENBODY.SIG"
KEY = "0123456789abcdef0123456789abcdef"
SESSION = "SESSION0123456789"


class Movie(msgspec.Struct, kw_only=True):
    id: int
    title: str = ""


class Echo(msgspec.Struct, kw_only=True):
    id: str
    query: dict[str, str] = {}
    body: Any = None


def operation(path: str, response_type: type[Any], **kwargs: Any) -> Operation[Any]:
    return Operation(
        operation_id="test-" + path.replace("/", "-"),
        http_method=kwargs.pop("http_method", "GET"),
        path=path,
        namespace="test",
        name="op",
        summary="Test operation",
        response_type=response_type,
        cache_class=CacheClass.DETAIL,
        **kwargs,
    )


MOVIE = operation(
    "/3/movie/{movie_id}",
    Movie,
    path_params=(PathParam("movie_id", "int"),),
    query_params=(
        QueryParam("language", "language", "str"),
        QueryParam("session_id", "session_id", "str"),
    ),
)
ECHO = operation(
    "/3/echo/{id}",
    Echo,
    path_params=(PathParam("id", "str"),),
    query_params=(QueryParam("region", "region", "str"),),
)
RATE = operation(
    "/3/echo/{id}/rating",
    Echo,
    http_method="POST",
    path_params=(PathParam("id", "str"),),
    body_params=(BodyParam("value", "float"),),
)
STATUS = operation("/3/status/{status}", Movie, path_params=(PathParam("status", "int"),))
BAD_JSON = operation("/3/bad-json", Movie)
WRONG_SHAPE = operation("/3/wrong-shape", Movie)
SLOW = operation("/3/slow", Movie)
GUEST = operation(
    "/3/guest_session/{guest_session_id}/rated",
    Movie,
    path_params=(PathParam("guest_session_id", "str"),),
)
GUEST_ID = "GUEST0123456789"


def tmdb_error(status: int, code: int, message: str, **kwargs: Any) -> web.Response:
    body = {"success": False, "status_code": code, "status_message": message}
    return web.json_response(body, status=status, **kwargs)


class Server:
    """A tiny TMDB lookalike: checks auth, records requests."""

    def __init__(self) -> None:
        self.requests: list[web.Request] = []
        app = web.Application(middlewares=[self.auth])
        app.router.add_get("/3/movie/{movie_id}", self.movie)
        app.router.add_get("/3/echo/{id}", self.echo)
        app.router.add_post("/3/echo/{id}/rating", self.echo)
        app.router.add_get("/3/status/{status}", self.status)
        app.router.add_get("/3/bad-json", self.bad_json)
        app.router.add_get("/3/wrong-shape", self.wrong_shape)
        app.router.add_get("/3/slow", self.slow)
        self.server = TestServer(app, host="127.0.0.1", port=0)

    @property
    def base_url(self) -> str:
        return str(self.server.make_url("/"))

    @web.middleware
    async def auth(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append(request)
        bearer = request.headers.get("Authorization") == f"Bearer {TOKEN}"
        if not bearer and request.query.get("api_key") != KEY:
            return tmdb_error(401, 7, "Invalid API key: You must be granted a valid key.")
        response: web.StreamResponse = await handler(request)
        return response

    async def movie(self, request: web.Request) -> web.Response:
        movie_id = int(request.match_info["movie_id"])
        if movie_id == 0:
            return tmdb_error(404, 34, "The resource you requested could not be found.")
        return web.json_response({"id": movie_id, "title": "Fight Club", "new_field": [1]})

    async def echo(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        query = {k: v for k, v in request.query.items() if k != "api_key"}
        return web.json_response({"id": request.match_info["id"], "query": query, "body": body})

    async def status(self, request: web.Request) -> web.Response:
        status = int(request.match_info["status"])
        if status == 502:
            return web.Response(
                status=502, text="<html>502 Bad Gateway</html>", content_type="text/html"
            )
        if status == 429:
            return tmdb_error(
                429, 25, "Your request count is over the limit.", headers={"Retry-After": "3"}
            )
        if status == 500:
            return web.Response(status=500)
        return tmdb_error(status, 47, "The input is not valid.")

    async def bad_json(self, request: web.Request) -> web.Response:
        return web.Response(text='{"id": 1, "title": ', content_type="application/json")

    async def wrong_shape(self, request: web.Request) -> web.Response:
        return web.json_response({"id": "five-fifty"})

    async def slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"id": 1})


pytestmark = pytest.mark.usefixtures("fake_retry_clock")


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    fake = Server()
    async with fake.server:
        yield fake


@pytest.fixture
async def bearer(server: Server) -> AsyncIterator[Transport]:
    transport = Transport(resolve_options(access_token=TOKEN, base_url=server.base_url))
    yield transport
    await transport.aclose()


@pytest.fixture
async def keyed(server: Server) -> AsyncIterator[Transport]:
    transport = Transport(resolve_options(api_key=KEY, base_url=server.base_url))
    yield transport
    await transport.aclose()


async def test_bearer_header_and_no_api_key(server: Server, bearer: Transport) -> None:
    movie = await bearer.request(MOVIE, (550,), {})
    assert movie == Movie(id=550, title="Fight Club")
    [request] = server.requests
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["User-Agent"].startswith("tmdb-async/")
    assert "api_key" not in request.query
    assert request.cookies == {}


async def test_api_key_mode_sends_query_param(server: Server, keyed: Transport) -> None:
    assert await keyed.request(MOVIE, (550,), {"language": "fr-FR"}) == Movie(
        id=550, title="Fight Club"
    )
    [request] = server.requests
    assert request.query["api_key"] == KEY
    assert request.query["language"] == "fr-FR"
    assert "Authorization" not in request.headers


async def test_bad_credentials(server: Server) -> None:
    transport = Transport(resolve_options(api_key="wrong", base_url=server.base_url))
    try:
        with pytest.raises(AuthenticationError) as info:
            await transport.request(MOVIE, (550,), {})
    finally:
        await transport.aclose()
    assert info.value.status_code == 7
    assert "wrong" not in str(info.value)
    assert "api_key" not in str(info.value)


async def test_path_param_reaches_server_as_one_segment(bearer: Transport) -> None:
    echo = await bearer.request(ECHO, ("../x?y#z",), {})
    assert echo.id == "../x?y#z"
    assert echo.query == {}


async def test_post_body(server: Server, bearer: Transport) -> None:
    echo = await bearer.request(RATE, ("7",), {}, {"value": 8.5})
    assert echo.body == {"value": 8.5}
    assert server.requests[0].content_type == "application/json"


async def test_validation_happens_before_io(server: Server, bearer: Transport) -> None:
    with pytest.raises(ParameterError):
        await bearer.request(MOVIE, ("550",), {})
    with pytest.raises(ParameterError):
        await bearer.request(RATE, ("7",), {}, {"value": True})
    assert server.requests == []
    assert bearer._wire.session is None  # not even opened


async def test_not_found(bearer: Transport, server: Server) -> None:
    with pytest.raises(NotFoundError) as info:
        await bearer.request(MOVIE, (0,), {})
    error = info.value
    assert (error.http_status, error.status_code) == (404, 34)
    message = "404 (TMDB 34) The resource you requested could not be found."
    assert str(error) == f"{message} GET {server.base_url}3/movie/0"


@pytest.mark.parametrize(
    ("status", "error_type", "code"),
    [
        (502, ServerError, None),
        (500, ServerError, None),
        (429, RateLimitError, 25),
        (422, RequestError, 47),
    ],
)
async def test_errors_from_real_responses(
    bearer: Transport, status: int, error_type: type[TMDBError], code: int | None
) -> None:
    with pytest.raises(error_type) as info:
        await bearer.request(STATUS, (status,), {})
    error = info.value
    assert type(error) is error_type
    assert (error.http_status, error.status_code) == (status, code)
    if isinstance(error, RateLimitError):
        assert error.retry_after == 3.0


async def test_invalid_json(bearer: Transport) -> None:
    with pytest.raises(DecodeError, match="is not valid JSON") as info:
        await bearer.request(BAD_JSON, (), {})
    assert info.value.json_path is None


async def test_wrong_shape_has_path(bearer: Transport) -> None:
    with pytest.raises(DecodeError) as info:
        await bearer.request(WRONG_SHAPE, (), {})
    assert info.value.json_path == "$.id"
    assert info.value.url is not None
    assert info.value.url.endswith("/3/wrong-shape")


async def test_timeout_is_transport_error(server: Server) -> None:
    options = resolve_options(access_token=TOKEN, base_url=server.base_url, timeout=0.05)
    transport = Transport(options)
    try:
        with pytest.raises(TransportError, match=r"GET .*/3/slow failed") as info:
            await transport.request(SLOW, (), {})
    finally:
        await transport.aclose()
    assert info.value.failure is Failure.TOTAL_TIMEOUT
    assert info.value.__cause__ is None  # aiohttp's error holds the URL as sent


async def test_connection_refused_is_transport_error() -> None:
    async with TestServer(web.Application(), host="127.0.0.1", port=0) as dead:
        base_url = str(dead.make_url("/"))
    transport = Transport(resolve_options(api_key=KEY, base_url=base_url))
    try:
        with pytest.raises(TransportError) as info:
            await transport.request(MOVIE, (550,), {})
    finally:
        await transport.aclose()
    assert info.value.http_status is None
    assert KEY not in str(info.value)
    assert info.value.failure is Failure.CONNECT
    assert "ClientConnectorError" in str(info.value)  # its type and words, not itself
    assert info.value.__cause__ is None


async def test_language_and_region_defaults(server: Server) -> None:
    options = resolve_options(
        access_token=TOKEN, base_url=server.base_url, language="fr-FR", region="FR"
    )
    transport = Transport(options)
    try:
        await transport.request(MOVIE, (1,), {})
        await transport.request(MOVIE, (1,), {"language": "de-DE"})
        echo = await transport.request(ECHO, ("x",), {"region": None})
    finally:
        await transport.aclose()
    assert [r.query.get("language") for r in server.requests[:2]] == ["fr-FR", "de-DE"]
    assert "region" not in server.requests[0].query
    assert echo.query == {"region": "FR"}


async def test_owned_session_closed_by_aclose(bearer: Transport) -> None:
    await bearer.request(MOVIE, (1,), {})
    session = bearer._wire.session
    assert session is not None
    assert session.closed is False
    await bearer.aclose()
    assert (session.closed, bearer.closed) == (True, True)
    await bearer.aclose()


async def test_borrowed_session_is_never_closed(server: Server) -> None:
    async with aiohttp.ClientSession(raise_for_status=True) as session:
        transport = Transport(
            resolve_options(access_token=TOKEN, base_url=server.base_url, session=session)
        )
        assert await transport.request(MOVIE, (2,), {}) == Movie(id=2, title="Fight Club")
        with pytest.raises(NotFoundError):
            await transport.request(MOVIE, (0,), {})
        await transport.aclose()
        assert not session.closed
        async with session.get(
            server.base_url + "3/movie/3", headers={"Authorization": f"Bearer {TOKEN}"}
        ) as r:
            assert r.status == 200


async def test_request_after_aclose_raises(bearer: Transport, server: Server) -> None:
    await bearer.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await bearer.request(MOVIE, (1,), {})
    assert server.requests == []


async def test_unclosed_owned_session_warns(bearer: Transport) -> None:
    await bearer.request(MOVIE, (1,), {})
    with pytest.warns(ResourceWarning, match="unclosed tmdb_async client"):
        bearer.__del__()
    await bearer.aclose()


async def test_no_credential_in_logs_errors_or_reprs(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="tmdb_async")
    transport = Transport(resolve_options(api_key=KEY, base_url=server.base_url))
    texts: list[str] = [repr(transport), repr(transport._options)]
    try:
        await transport.request(MOVIE, (550,), {"session_id": SESSION})
        failures: list[tuple[Operation[Any], tuple[Any, ...], type[TMDBError]]] = [
            (MOVIE, (0,), NotFoundError),
            (STATUS, (502,), ServerError),
            (WRONG_SHAPE, (), DecodeError),
            (BAD_JSON, (), DecodeError),
        ]
        for op, args, error_type in failures:
            with pytest.raises(error_type) as info:
                await transport.request(op, args, {"session_id": SESSION} if op is MOVIE else {})
            texts += [str(info.value), repr(info.value), str(info.value.url)]
        with pytest.raises(NotFoundError) as not_found:
            await transport.request(GUEST, (GUEST_ID,), {})
        texts += [str(not_found.value), repr(not_found.value)]
    finally:
        await transport.aclose()
    records = [record.getMessage() for record in caplog.records]
    assert any("/3/movie/550" in message for message in records)
    assert any("/3/guest_session/***/rated" in message for message in records)
    for text in texts + records:
        assert KEY not in text
        assert SESSION not in text
        assert GUEST_ID not in text


async def test_tmdb_facade(server: Server) -> None:
    async with TMDB(access_token=TOKEN, base_url=server.base_url) as tmdb:
        assert tmdb._requester is tmdb._transport.requester
        assert await tmdb._requester.request(MOVIE, (5,), {}) == Movie(id=5, title="Fight Club")
        assert TOKEN not in repr(tmdb)
        assert "auth='bearer'" in repr(tmdb)
        details = await tmdb.movies.details(550, append_to_response=["videos", "credits"])
        assert (details.id, details.title) == (550, "Fight Club")
        assert server.requests[-1].query["append_to_response"] == "credits,videos"
    assert tmdb.closed
