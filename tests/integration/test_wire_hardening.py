"""The wire against servers that misbehave, on real loopback sockets: bodies too large (plain
and gzip bombs), redirects, idle and dropped keep-alive connections, silence, cancellation."""

from __future__ import annotations

import asyncio
import functools
import gc
import gzip
import random
import resource
import struct
import time
import warnings
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests._waiting import eventually
from tmdb_async import TMDB
from tmdb_async._constants import MAX_BODY_SIZE, MAX_REDIRECTS
from tmdb_async._errors import Failure, TransportError
from tmdb_async._operation import CacheClass, Operation, PathParam
from tmdb_async._options import resolve_options
from tmdb_async._transport import Transport
from tmdb_async.testing import FakeTMDB, Latency

TOKEN = "eyJhbGciOiJIUzI1NiJ9.WIRETESTTOKEN.SIG"
KEY = "0123456789abcdef0123456789abcdef"
MIB = 1 << 20


class Movie(msgspec.Struct, kw_only=True):
    id: int
    title: str = ""


def operation(path: str, *params: str) -> Operation[Movie]:
    return Operation(
        operation_id="test-" + path.replace("/", "-"),
        http_method="GET",
        path=path,
        namespace="test",
        name="op",
        summary="Test operation",
        response_type=Movie,
        cache_class=CacheClass.NEVER,
        path_params=tuple(PathParam(name, "str") for name in params),
    )


MOVIE = operation("/3/movie/{movie_id}", "movie_id")
BODY = operation("/3/body/{kind}", "kind")
REDIRECT = operation("/3/redirect/{where}", "where")


@functools.cache
def gzip_bomb(inflated_mib: int) -> bytes:
    """A valid gzip body of about 1 KiB per MiB of zeros it inflates to: one deflate block,
    compressed once from a fresh state (Z_FULL_FLUSH), repeated."""
    zeros = bytes(MIB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    for _ in range(inflated_mib):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, (inflated_mib * MIB) & 0xFFFFFFFF)
    return header + block * inflated_mib + end + trailer


BOMB_MIB = 1024
SMALL_GZIP = gzip.compress(b'{"id": 7, "title": "Seven"}')


class Origin:
    """An aiohttp.web app that serves what a test asks for and records what it receives."""

    def __init__(self) -> None:
        self.requests: list[web.Request] = []
        self.streamed = 0
        self.other: Origin | None = None
        app = web.Application()
        app.router.add_get("/3/movie/{movie_id}", self.movie)
        app.router.add_get("/3/body/{kind}", self.body)
        app.router.add_get("/3/redirect/{where}", self.redirect)
        self.server = TestServer(app, host="127.0.0.1", port=0)

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    async def movie(self, request: web.Request) -> web.Response:
        self.requests.append(request)
        return web.json_response({"id": int(request.match_info["movie_id"]), "title": "x"})

    async def body(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        kind = request.match_info["kind"]
        if kind == "long":  # plain, with a Content-Length over the test's cap
            return web.Response(body=b" " * (2 * MIB), content_type="application/json")
        if kind in ("gzip", "bomb"):
            payload = SMALL_GZIP if kind == "gzip" else gzip_bomb(BOMB_MIB)
            headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
            if "chunked" not in request.query:
                return web.Response(body=payload, headers=headers)
            return await self._stream(request, [payload], headers)
        # "endless": plain and chunked, no length: only counting can stop it
        return await self._stream(request, (b" " * (256 * 1024) for _ in range(512)), {})

    async def _stream(
        self, request: web.Request, pieces: Any, headers: dict[str, str]
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers=headers)
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for piece in pieces:
                for start in range(0, len(piece), 64 * 1024):
                    await response.write(piece[start : start + 64 * 1024])
                    self.streamed += min(64 * 1024, len(piece) - start)
            await response.write_eof()
        except (ConnectionError, RuntimeError):
            pass  # the client hung up: what the cap is for
        return response

    async def redirect(self, request: web.Request) -> web.Response:
        self.requests.append(request)
        where = request.match_info["where"]
        if where == "same":
            location = "/3/movie/7"
        elif where == "loop":
            location = "/3/redirect/loop"
        else:
            assert self.other is not None
            # Echoes the query, as a host moving its API would: api_key included.
            location = f"{self.other.url}/3/movie/7?{request.query_string}"
        raise web.HTTPFound(location)


pytestmark = pytest.mark.usefixtures("fake_retry_clock")


@pytest.fixture
async def origin() -> AsyncIterator[Origin]:
    site = Origin()
    async with site.server:
        yield site


@pytest.fixture
async def make() -> AsyncIterator[Callable[..., Transport]]:
    made: list[Transport] = []

    def build(base_url: str, **options: Any) -> Transport:
        options.setdefault("access_token", TOKEN)
        transport = Transport(resolve_options(base_url=base_url, rate_limit=None, **options))
        made.append(transport)
        return transport

    yield build
    for transport in made:
        await transport.aclose()


# -- the body cap -------------------------------------------------------------------------


async def test_a_body_whose_length_is_over_the_cap_fails_at_once(
    origin: Origin, make: Callable[..., Transport]
) -> None:
    transport = make(origin.url, max_body_size=MIB)
    with pytest.raises(TransportError, match="max_body_size") as info:
        await transport.request(BODY, ("long",), {})
    assert len(info.value.attempts) == 1  # a body over the cap would be over it again
    assert TOKEN not in str(info.value)


async def test_a_body_without_length_is_cut_at_the_cap(
    origin: Origin, make: Callable[..., Transport]
) -> None:
    transport = make(origin.url, max_body_size=MIB)
    with pytest.raises(TransportError, match="max_body_size"):
        await transport.request(BODY, ("endless",), {})
    await asyncio.sleep(0.05)
    assert origin.streamed < 32 * MIB  # the server stopped early: nobody read the rest


@pytest.mark.parametrize("chunked", [False, True])
async def test_gzip_bodies_under_the_cap_decode(
    origin: Origin, make: Callable[..., Transport], chunked: bool
) -> None:
    query = {"chunked": "1"} if chunked else {}
    op = operation("/3/body/{kind}" + ("?chunked=1" if chunked else ""), "kind")
    transport = make(origin.url)
    movie = await transport.request(BODY if not query else op, ("gzip",), {})
    assert movie == Movie(id=7, title="Seven")


def rss_mib() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / MIB


@pytest.mark.parametrize("chunked", [False, True], ids=["with-length", "chunked"])
async def test_a_gzip_bomb_fails_without_memory_or_a_blocked_loop(
    origin: Origin, make: Callable[..., Transport], chunked: bool
) -> None:
    # 1 GiB of zeros in about 1 MiB of gzip; the default cap stops it at 32 MiB.
    gzip_bomb(BOMB_MIB)  # built before the clock starts (it takes a CRC over 1 GiB)
    op = operation("/3/body/{kind}" + ("?chunked=1" if chunked else ""), "kind")
    transport = make(origin.url)
    baseline = peak = rss_mib()
    longest_hold = 0.0
    done = asyncio.Event()

    async def watch() -> None:
        # The loop thread's CPU time between two turns of this task: what held the loop
        # (unlike wall time, it does not count the machine's other processes).
        nonlocal peak, longest_hold
        last = time.thread_time()
        while not done.is_set():
            await asyncio.sleep(0.002)
            now = time.thread_time()
            longest_hold = max(longest_hold, now - last)
            last = now
            peak = max(peak, rss_mib())

    watcher = asyncio.create_task(watch())
    try:
        with pytest.raises(TransportError, match="max_body_size"):
            await transport.request(op, ("bomb",), {})
    finally:
        done.set()
        await watcher
    assert peak - baseline < 2 * MAX_BODY_SIZE / MIB, (baseline, peak)
    assert longest_hold < 0.05  # inflating the whole 32 MiB at once holds it about 0.15 s


# -- redirects -----------------------------------------------------------------------------


@pytest.mark.parametrize("credentials", [{"access_token": TOKEN}, {"api_key": KEY}])
async def test_a_redirect_within_the_origin_is_followed_with_the_credentials(
    origin: Origin, make: Callable[..., Transport], credentials: dict[str, str]
) -> None:
    movie = await make(origin.url, **credentials).request(REDIRECT, ("same",), {})
    assert movie.id == 7
    assert [r.path for r in origin.requests] == ["/3/redirect/same", "/3/movie/7"]
    for request in origin.requests:
        sent = request.headers.get("Authorization", "") + request.query.get("api_key", "")
        assert sent in (f"Bearer {TOKEN}", KEY)


@pytest.mark.parametrize("credentials", [{"access_token": TOKEN}, {"api_key": KEY}])
async def test_a_redirect_to_another_origin_is_refused_and_sends_it_nothing(
    origin: Origin, make: Callable[..., Transport], credentials: dict[str, str]
) -> None:
    other = Origin()
    origin.other = other
    async with other.server:
        with pytest.raises(TransportError, match="another origin") as info:
            await make(origin.url, **credentials).request(REDIRECT, ("other",), {})
        assert other.url in str(info.value)
    assert other.requests == []
    assert len(info.value.attempts) == 1
    assert TOKEN not in str(info.value)
    assert KEY not in str(info.value)


async def test_a_redirect_loop_ends(origin: Origin, make: Callable[..., Transport]) -> None:
    with pytest.raises(TransportError, match="redirects"):
        await make(origin.url, max_retries=0).request(REDIRECT, ("loop",), {})
    assert len(origin.requests) == MAX_REDIRECTS + 1


# -- keep-alive connections the server drops --------------------------------------------------


async def test_a_connection_the_server_closed_while_idle_is_not_reused(
    make: Callable[..., Transport],
) -> None:
    ports: list[int] = []

    async def movie(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        ports.append(peer[1] if peer else -1)
        return web.json_response({"id": 1})

    app = web.Application()
    app.router.add_get("/3/movie/{movie_id}", movie)
    runner = web.AppRunner(app, keepalive_timeout=0.1)  # the server drops idle connections
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        host, port = runner.addresses[0][:2]
        transport = make(f"http://{host}:{port}", max_retries=0)
        for _ in range(3):
            assert (await transport.request(MOVIE, ("1",), {})).id == 1
            await asyncio.sleep(0.3)
    finally:
        await runner.cleanup()
    assert len(set(ports)) == 3  # a new connection each time, and no failed request


async def test_a_keep_alive_connection_dropped_as_the_request_arrives_is_replaced(
    make: Callable[..., Transport],
) -> None:
    # The keep-alive race: the server closes a reused connection just as a request goes out
    # (no byte of an answer). A GET goes again on a new connection, without a retry of ours.
    connections = 0
    answered = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections, answered
        connections += 1
        try:
            await reader.readuntil(b"\r\n\r\n")
            body = b'{"id": 1}'
            head = (
                f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
            )
            writer.write(head.encode() + b"\r\n\r\n" + body)
            answered += 1
            await reader.readuntil(b"\r\n\r\n")  # the next request on this connection...
        except asyncio.IncompleteReadError:
            pass
        writer.close()  # ...is dropped unanswered
        await writer.wait_closed()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        transport = make(f"http://127.0.0.1:{port}", max_retries=0)
        for _ in range(3):
            assert (await transport.request(MOVIE, ("1",), {})).id == 1
        assert transport.stats.retries == 0
        assert (answered, connections) == (3, 3)
    finally:
        server.close()
        await server.wait_closed()


# -- silence ---------------------------------------------------------------------------------


async def silent_server(answer_head: bool) -> asyncio.Server:
    """A server that reads the request, maybe sends a head, then says nothing more."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            if answer_head:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")
            await reader.read()  # until the client gives up and closes
        finally:
            writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0)


@pytest.mark.parametrize("answer_head", [False, True], ids=["no-answer", "stalled-body"])
async def test_silence_is_a_timeout_retried_then_raised(
    make: Callable[..., Transport], answer_head: bool
) -> None:
    server = await silent_server(answer_head)
    try:
        port = server.sockets[0].getsockname()[1]
        timeout = aiohttp.ClientTimeout(total=5, sock_read=0.1)
        transport = make(f"http://127.0.0.1:{port}", timeout=timeout, max_retries=1)
        started = time.perf_counter()
        with pytest.raises(TransportError) as info:
            await transport.request(MOVIE, ("1",), {})
        assert time.perf_counter() - started < 2
    finally:
        server.close()
        await server.wait_closed()
    assert info.value.failure is Failure.READ_TIMEOUT
    assert len(info.value.attempts) == 2


# -- cancellation -----------------------------------------------------------------------------


async def test_200_calls_cancelled_at_random_moments_leave_no_socket_open(
    fake_tmdb: FakeTMDB,
) -> None:
    fake_tmdb.inject(Latency(0.0, 0.02))
    rng = random.Random(13)
    loop = asyncio.get_running_loop()
    async with TMDB(
        access_token=fake_tmdb.access_token,
        base_url=fake_tmdb.url,
        cache=None,
        rate_limit=None,
        max_connections=10,
    ) as tmdb:
        tasks = [asyncio.create_task(tmdb.movies.details(i)) for i in range(1, 201)]
        for task in tasks:
            loop.call_later(rng.uniform(0.0, 0.5), task.cancel)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        cancelled = sum(isinstance(r, asyncio.CancelledError) for r in results)
        assert cancelled > 20  # at every stage: queued, connecting, sending, reading
        assert all(getattr(r, "id", None) for r in results if not isinstance(r, BaseException))
        fake_tmdb.faults.clear()
        await asyncio.wait_for(_every(tmdb.movies.details, range(1, 11)), 30)  # still usable
    await eventually(lambda: fake_tmdb.stats.in_flight == 0, "no request in flight")
    await asyncio.sleep(0.05)  # let the transports finish closing
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


async def _every(call: Callable[[int], Awaitable[Any]], ids: range) -> None:
    await asyncio.gather(*(call(i) for i in ids))
