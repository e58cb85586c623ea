"""A loopback aiohttp server for tests that write their own handlers: the requests it saw,
its URL, started and closed around the test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer

__all__ = ["Answering", "Handler", "Loopback", "answering", "serving"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Loopback:
    """A test server's state; subclasses add the knobs their handlers read."""

    server: TestServer = field(
        default_factory=lambda: TestServer(web.Application(), host="127.0.0.1")
    )
    requests: list[web.Request] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(self.server.make_url(""))


@asynccontextmanager
async def serving(state: Loopback, routes: Mapping[str, Handler]) -> AsyncIterator[None]:
    """Serve `routes` (path pattern -> handler, any method) on `state`'s server meanwhile."""
    for path, handler in routes.items():
        state.server.app.router.add_route("*", path, handler)
    await state.server.start_server()
    try:
        yield
    finally:
        await state.server.close()


@dataclass
class Answering(Loopback):
    """A loopback server that answers every request with `body`, as JSON."""

    body: bytes = b""


@asynccontextmanager
async def answering() -> AsyncIterator[Answering]:
    """An `Answering` server, serving meanwhile."""
    state = Answering()

    async def answer(request: web.Request) -> web.Response:
        state.requests.append(request)
        return web.Response(body=state.body, content_type="application/json")

    async with serving(state, {"/{tail:.*}": answer}):
        yield state
