"""The client's own HTTP/1.1 pool against real loopback servers: an aiohttp.web app, and a
raw asyncio server that answers with scripted bytes (what no well-behaved server sends)."""

from __future__ import annotations

import asyncio
import gzip
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from tmdb_async._http import (
    ConnectFailed,
    ConnectionPool,
    ConnectTimeout,
    Disconnected,
    ProtocolViolation,
    ResponseTimeout,
    Timeouts,
    TLSFailed,
)
from tmdb_async._http import _pool as pool_module

HEADERS = {"Accept": "application/json", "Authorization": "Bearer t"}
DEFAULT = Timeouts(total=5, connect=2)


def pool(limit: int = 4, timeouts: Timeouts = DEFAULT) -> ConnectionPool:
    return ConnectionPool(limit=limit, timeouts=timeouts, headers=HEADERS)


# -- a well-behaved server: aiohttp.web ----------------------------------------------------


class Web:
    """An aiohttp.web app that records requests and the client port of each."""

    def __init__(self) -> None:
        self.ports: list[int] = []
        self.requests: list[web.Request] = []
        self.bodies: list[bytes] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self.handle)
        self.server: TestServer | None = None

    def url(self, path: str) -> URL:
        assert self.server is not None
        return self.server.make_url(path)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.ports.append(peer[1] if peer else -1)
        self.requests.append(request)
        self.bodies.append(await request.read())
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if "sleep" in request.query:
                await asyncio.sleep(float(request.query["sleep"]))
            if request.path == "/chunked":
                response = web.StreamResponse()
                response.enable_chunked_encoding()
                await response.prepare(request)
                for piece in (b'{"a":', b" [1, 2, 3]", b"}"):
                    await response.write(piece)
                await response.write_eof()
                return response
            if request.path == "/gzip":
                return web.Response(
                    body=gzip.compress(b'{"zipped": true}'),
                    headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
                )
            if request.path == "/close":
                return web.json_response({"closing": True}, headers={"Connection": "close"})
            if request.path == "/drip":  # a byte every 20 ms: slow, never silent for long
                response = web.StreamResponse(headers={"Content-Length": "10"})
                await response.prepare(request)
                for _ in range(10):
                    await asyncio.sleep(0.02)
                    await response.write(b"x")
                return response
            return web.json_response({"path": request.path_qs, "method": request.method})
        finally:
            self.in_flight -= 1


@pytest.fixture
async def site() -> AsyncIterator[Web]:
    app = Web()
    async with TestServer(app.app, host="127.0.0.1", port=0) as server:
        app.server = server
        yield app


async def test_keep_alive_reuses_one_connection(site: Web) -> None:
    http = pool()
    try:
        for i in range(5):
            status, headers, body = await http.request("GET", site.url(f"/n/{i}"), {}, None)
            assert (status, body) == (200, f'{{"path": "/n/{i}", "method": "GET"}}'.encode())
            assert headers["content-type"].startswith("application/json")
    finally:
        await http.aclose()
    assert len(set(site.ports)) == 1
    assert site.requests[0].headers["Authorization"] == "Bearer t"
    assert site.requests[0].headers["Host"] == f"127.0.0.1:{site.url('/').port}"


async def test_connection_cap_holds_and_every_request_completes(site: Web) -> None:
    http = pool(limit=2)
    try:
        replies = await asyncio.gather(
            *(http.request("GET", site.url(f"/x/{i}?sleep=0.05"), {}, None) for i in range(6))
        )
        assert http.in_use == 0
    finally:
        await http.aclose()
    assert [r[0] for r in replies] == [200] * 6
    assert site.max_in_flight == 2
    assert len(set(site.ports)) == 2


async def test_post_sends_body_and_length(site: Web) -> None:
    http = pool()
    try:
        await http.request("POST", site.url("/rate"), {"Content-Type": "application/json"}, b"{}")
        await http.request("POST", site.url("/empty"), {}, None)
        await http.request("DELETE", site.url("/gone"), {}, None)
    finally:
        await http.aclose()
    assert site.bodies == [b"{}", b"", b""]
    assert site.requests[0].headers["Content-Length"] == "2"
    assert site.requests[1].headers["Content-Length"] == "0"
    assert "Content-Length" not in site.requests[2].headers


async def test_chunked_and_gzip_bodies_are_decoded(site: Web) -> None:
    http = pool()
    try:
        _, _, chunked = await http.request("GET", site.url("/chunked"), {}, None)
        _, headers, zipped = await http.request("GET", site.url("/gzip"), {}, None)
        _, _, after = await http.request("GET", site.url("/after"), {}, None)
    finally:
        await http.aclose()
    assert (chunked, zipped) == (b'{"a": [1, 2, 3]}', b'{"zipped": true}')
    assert headers["content-encoding"] == "gzip"
    assert after.startswith(b'{"path": "/after"')
    assert len(set(site.ports)) == 1  # both framings left the connection reusable


async def test_connection_close_is_honoured(site: Web) -> None:
    http = pool()
    try:
        await http.request("GET", site.url("/close"), {}, None)
        await http.request("GET", site.url("/next"), {}, None)
    finally:
        await http.aclose()
    assert site.ports[0] != site.ports[1]


async def test_total_timeout(site: Web) -> None:
    http = pool(timeouts=Timeouts(total=0.1))
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises(ResponseTimeout, match=r"within 0\.1s"):
            await http.request("GET", site.url("/slow?sleep=2"), {}, None)
        elapsed = loop.time() - started
        assert http.in_use == 0
        status, _, _ = await http.request("GET", site.url("/fine"), {}, None)
    finally:
        await http.aclose()
    assert 0.1 <= elapsed < 0.5
    assert status == 200


async def test_sock_read_is_silence_not_duration(site: Web) -> None:
    http = pool(timeouts=Timeouts(sock_read=0.1))
    try:
        _, _, body = await http.request("GET", site.url("/drip"), {}, None)  # 0.2 s, never silent
        assert body == b"x" * 10
        with pytest.raises(ResponseTimeout, match=r"no data from the server for 0\.1s"):
            await http.request("GET", site.url("/slow?sleep=1"), {}, None)
    finally:
        await http.aclose()


async def test_waiting_for_a_free_connection_counts_as_connecting(site: Web) -> None:
    http = pool(limit=1, timeouts=Timeouts(total=5, connect=0.05))
    try:
        slow = asyncio.create_task(http.request("GET", site.url("/slow?sleep=0.3"), {}, None))
        await asyncio.sleep(0.02)
        with pytest.raises(ConnectTimeout):
            await http.request("GET", site.url("/queued"), {}, None)
        assert (await slow)[0] == 200
        assert http.in_use == 0
    finally:
        await http.aclose()
    assert [r.path for r in site.requests] == ["/slow"]


async def test_cancellation_releases_the_slot_and_drops_the_connection(site: Web) -> None:
    http = pool(limit=1)
    try:
        task = asyncio.create_task(http.request("GET", site.url("/slow?sleep=5"), {}, None))
        queued = asyncio.create_task(http.request("GET", site.url("/queued"), {}, None))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await queued)[0] == 200
        assert http.in_use == 0
    finally:
        await http.aclose()
    assert site.ports[0] != site.ports[1]  # the cancelled exchange's connection was not reused


async def test_refused_connection(site: Web) -> None:
    async with TestServer(web.Application(), host="127.0.0.1", port=0) as dead:
        url = dead.make_url("/x")
    http = pool()
    try:
        with pytest.raises(ConnectFailed, match=r"cannot connect to 127\.0\.0\.1"):
            await http.request("GET", url, {}, None)
        assert http.in_use == 0
    finally:
        await http.aclose()


async def test_header_injection_is_refused_before_io(site: Web) -> None:
    http = pool()
    try:
        with pytest.raises(ValueError, match="CR, LF or NUL"):
            await http.request("GET", site.url("/x"), {"If-None-Match": 'a"\r\nX-Evil: 1'}, None)
    finally:
        await http.aclose()
    assert site.requests == []
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        ConnectionPool(limit=1, timeouts=DEFAULT, headers={"Authorization": "Bearer a\nb"})


async def test_closed_pool_refuses_requests(site: Web) -> None:
    http = pool()
    await http.request("GET", site.url("/x"), {}, None)
    await http.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await http.request("GET", site.url("/x"), {}, None)


# -- a misbehaving server: scripted bytes ----------------------------------------------------

Script = Callable[[int, int], bytes | None]
"""(connection index, request index on it) -> the bytes to answer; None: close instead."""


class RawServer:
    """Reads each request head (and its Content-Length body), answers from a script."""

    def __init__(self, script: Script, *, close_after: bool = False) -> None:
        self.script = script
        self.close_after = close_after
        self.connections = 0
        self.requests: list[bytes] = []
        self.port = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index, self.connections = self.connections, self.connections + 1
        try:
            for n in range(1000):
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests.append(head)
                reply = self.script(index, n)
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def url(self, path: str) -> URL:
        return URL(f"http://127.0.0.1:{self.port}{path}")


async def raw(script: Script, *, close_after: bool = False) -> tuple[RawServer, asyncio.Server]:
    server = RawServer(script, close_after=close_after)
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    return server, listener


def ok(body: bytes = b"{}", extra: str = "") -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


async def test_stale_keep_alive_connection_is_replaced_for_a_get() -> None:
    # The server answers once per connection and closes without saying so, as an idle
    # keep-alive connection is closed by a real server: the next GET must not fail.
    server, listener = await raw(lambda c, n: ok(b'{"c": %d}' % c), close_after=True)
    http = pool()
    try:
        first = await http.request("GET", server.url("/a"), {}, None)
        await asyncio.sleep(0.05)  # the close reaches the client: the connection is dropped
        second = await http.request("GET", server.url("/b"), {}, None)
    finally:
        await http.aclose()
        listener.close()
    assert (first[2], second[2]) == (b'{"c": 0}', b'{"c": 1}')


async def test_a_get_on_a_connection_closed_in_flight_is_resent_once() -> None:
    # Connection 0 answers, then closes when the second request arrives, before any byte of
    # the answer (the race a keep-alive timeout causes); the GET is sent again on a new one.
    server, listener = await raw(lambda c, n: ok() if n == 0 else None)
    http = pool()
    try:
        await http.request("GET", server.url("/a"), {}, None)
        status, _, _ = await http.request("GET", server.url("/b"), {}, None)
        with pytest.raises(Disconnected) as info:
            await http.request("POST", server.url("/c"), {}, b"{}")
    finally:
        await http.aclose()
        listener.close()
    assert status == 200
    assert info.value.started is False
    # The GET went out twice (the second time on a new connection); the POST once only: it
    # may have been acted on.
    assert [head.split()[1] for head in server.requests] == [b"/a", b"/b", b"/b", b"/c"]
    assert server.connections == 2


async def test_disconnect_mid_body_is_an_error_not_a_short_body() -> None:
    server, listener = await raw(
        lambda c, n: b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{", close_after=True
    )
    http = pool()
    try:
        with pytest.raises(Disconnected) as info:
            await http.request("GET", server.url("/a"), {}, None)
    finally:
        await http.aclose()
        listener.close()
    assert info.value.started is True
    assert server.connections == 1  # response bytes had arrived: not a stale connection


async def test_body_until_close() -> None:
    server, listener = await raw(
        lambda c, n: b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 100_000, close_after=True
    )
    http = pool()
    try:
        status, _, body = await http.request("GET", server.url("/a"), {}, None)
    finally:
        await http.aclose()
        listener.close()
    assert (status, len(body)) == (200, 100_000)


async def test_a_corrupt_body_read_until_close_fails_the_request() -> None:
    server, listener = await raw(
        lambda c, n: b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\nnot gzip", close_after=True
    )
    http = pool()
    try:
        with pytest.raises(ProtocolViolation, match="gzip body does not decompress"):
            await asyncio.wait_for(http.request("GET", server.url("/a"), {}, None), 2)
    finally:
        await http.aclose()
        listener.close()


async def test_garbage_is_a_protocol_violation_and_the_connection_is_dropped() -> None:
    replies = [b"SSH-2.0-OpenSSH\r\n\r\n", ok(b'{"fine": 1}')]
    server, listener = await raw(lambda c, n: replies[c])
    http = pool()
    try:
        with pytest.raises(ProtocolViolation, match="status line"):
            await http.request("GET", server.url("/a"), {}, None)
        _, _, body = await http.request("GET", server.url("/b"), {}, None)
    finally:
        await http.aclose()
        listener.close()
    assert body == b'{"fine": 1}'
    assert server.connections == 2


async def test_idle_connections_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool_module, "KEEPALIVE", 0.05)
    server, listener = await raw(lambda c, n: ok())
    http = pool()
    try:
        await http.request("GET", server.url("/a"), {}, None)
        await http.request("GET", server.url("/b"), {}, None)
        await asyncio.sleep(0.1)
        await http.request("GET", server.url("/c"), {}, None)
    finally:
        await http.aclose()
        listener.close()
    assert server.connections == 2


# -- TLS -------------------------------------------------------------------------------------


@pytest.fixture
def authority() -> trustme.CA:
    return trustme.CA()


async def tls_site(authority: trustme.CA) -> TestServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)

    async def handle(request: web.Request) -> web.Response:
        return web.json_response({"tls": request.secure})

    app = web.Application()
    app.router.add_get("/x", handle)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server(ssl=context)
    return server


async def test_https_with_a_trusted_certificate(
    authority: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))  # read when the pool builds its context
    server = await tls_site(authority)
    http = pool()
    try:
        url = URL(f"https://127.0.0.1:{server.port}/x")
        status, _, body = await http.request("GET", url, {}, None)
    finally:
        await http.aclose()
        await server.close()
    assert (status, body) == (200, b'{"tls": true}')


async def test_https_with_an_untrusted_certificate_fails_for_good(authority: trustme.CA) -> None:
    server = await tls_site(authority)
    http = pool()
    try:
        with pytest.raises(TLSFailed, match="certificate verify failed"):
            await http.request("GET", URL(f"https://127.0.0.1:{server.port}/x"), {}, None)
    finally:
        await http.aclose()
        await server.close()


async def test_requests_queued_when_the_pool_closes_open_no_connection(site: Web) -> None:
    http = pool(limit=1)
    running = asyncio.create_task(http.request("GET", site.url("/a?sleep=5"), {}, None))
    queued = asyncio.create_task(http.request("GET", site.url("/b"), {}, None))
    await asyncio.sleep(0.05)
    await http.aclose()
    results = await asyncio.gather(running, queued, return_exceptions=True)
    assert isinstance(results[0], Disconnected)
    assert isinstance(results[1], RuntimeError)
    assert [r.path for r in site.requests] == ["/a"]


async def test_a_reset_cuts_a_body_read_until_close() -> None:
    async def serve_and_reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b'HTTP/1.1 200 OK\r\n\r\n{"partial": ')
        await writer.drain()
        await asyncio.sleep(0.05)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # linger 0: a reset, not an orderly close

    listener = await asyncio.start_server(serve_and_reset, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    http = pool()
    try:
        with pytest.raises(Disconnected) as info:
            await http.request("GET", URL(f"http://127.0.0.1:{port}/a"), {}, None)
    finally:
        await http.aclose()
        listener.close()
    assert info.value.started is True


async def test_a_connection_made_after_aclose_is_dropped(
    site: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = asyncio.get_running_loop()
    connect = loop.create_connection

    async def slow_connect(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.1)  # a slow network: the pool closes meanwhile
        return await connect(*args, **kwargs)

    monkeypatch.setattr(loop, "create_connection", slow_connect)
    http = pool()
    task = asyncio.create_task(http.request("GET", site.url("/a"), {}, None))
    await asyncio.sleep(0.02)
    await http.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await task
    await asyncio.sleep(0.05)
    assert site.requests == []
