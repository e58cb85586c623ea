"""Each operation (v3's 152, v4's 21) through its public coroutine: a loopback server answers
with TMDB's example for that operation and the call returns the typed, equal object. v4's
operations a user acts on are called as that user, whose token is the one sent."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests._calls import call_arguments
from tests._examples import example_bytes
from tmdb_async import ENDPOINTS, TMDB
from tmdb_async._operation import Operation, method_of

TOKEN = "example-token"
USER_TOKEN = "example-user-token"
ACCOUNT = "4bc8892a017a3c0f92000002"


def _route(path: str) -> str:
    return re.sub(r"{(\w+)}", r"{\1}", path)


@pytest.fixture
async def example_server() -> AsyncIterator[tuple[TestServer, list[web.Request]]]:
    seen: list[web.Request] = []
    app = web.Application()
    for op in ENDPOINTS:
        body = example_bytes(op.operation_id)

        async def handler(request: web.Request, body: bytes = body) -> web.Response:
            seen.append(request)
            return web.Response(body=body, content_type="application/json")

        app.router.add_route(op.http_method, _route(op.path), handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server, seen
    await server.close()


@pytest.mark.parametrize("op", ENDPOINTS, ids=lambda op: op.operation_id)
async def test_public_method_returns_the_typed_example(
    op: Operation[Any], example_server: tuple[TestServer, list[web.Request]]
) -> None:
    server, seen = example_server
    expected = msgspec.json.decode(example_bytes(op.operation_id), type=op.response_type)
    as_user = op.needs_user
    async with TMDB(access_token=TOKEN, base_url=str(server.make_url(""))) as tmdb:
        client = tmdb.as_user(USER_TOKEN, account_id=ACCOUNT) if as_user else tmdb
        method = method_of(client, op)
        args, kwargs = call_arguments(op, method)
        result = await method(*args, **kwargs)
    assert result == expected
    assert type(result) is type(expected)
    (request,) = seen
    assert request.method == op.http_method
    assert request.headers["Authorization"] == f"Bearer {USER_TOKEN if as_user else TOKEN}"
