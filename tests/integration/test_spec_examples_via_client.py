"""Each of the 152 operations through its public coroutine: a loopback server answers with
TMDB's example for that operation and the call returns the typed, equal object."""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests._spec import example_bytes, spec_operations
from tmdb_async import ENDPOINTS, TMDB
from tmdb_async._operation import Operation

TOKEN = "example-token"


def _route(path: str) -> str:
    return re.sub(r"{(\w+)}", r"{\1}", path)


@pytest.fixture
async def example_server() -> AsyncIterator[tuple[TestServer, list[web.Request]]]:
    seen: list[web.Request] = []
    app = web.Application()
    for op in ENDPOINTS:
        body = example_bytes(spec_operations()[op.operation_id])

        async def handler(request: web.Request, body: bytes = body) -> web.Response:
            seen.append(request)
            return web.Response(body=body, content_type="application/json")

        app.router.add_route(op.http_method, _route(op.path), handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server, seen
    await server.close()


def _value(kind: str, choices: tuple[str, ...]) -> Any:
    if choices:
        return choices[0]
    return {"int": 7, "float": 8.5, "bool": True, "str": "x", "str_list": ["x"]}[kind]


def call_arguments(op: Operation[Any], method: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Positional path args and the required keywords, with valid placeholder values."""
    args = tuple(_value(p.kind, p.choices) for p in op.path_params)
    required = {
        name
        for name, p in inspect.signature(method).parameters.items()
        if p.default is inspect.Parameter.empty
    }
    kwargs = {b.name: _value(b.kind, b.choices) for b in op.body_params if b.name in required}
    return args, kwargs | {
        q.python_name: _value(q.kind, q.choices)
        for q in op.query_params
        if q.python_name in required
    }


@pytest.mark.parametrize("op", ENDPOINTS, ids=lambda op: op.operation_id)
async def test_public_method_returns_the_typed_example(
    op: Operation[Any], example_server: tuple[TestServer, list[web.Request]]
) -> None:
    server, seen = example_server
    expected = msgspec.json.decode(
        example_bytes(spec_operations()[op.operation_id]), type=op.response_type
    )
    async with TMDB(access_token=TOKEN, base_url=str(server.make_url(""))) as tmdb:
        method = getattr(getattr(tmdb, op.namespace), op.name)
        args, kwargs = call_arguments(op, method)
        result = await method(*args, **kwargs)
    assert result == expected
    assert type(result) is type(expected)
    (request,) = seen
    assert request.method == op.http_method
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
