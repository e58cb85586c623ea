"""Proxies, for real: a `tinyproxy` on loopback, named by the environment or by `proxy=`."""

from __future__ import annotations

import asyncio
import os
import ssl
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trustme
from aiohttp import web

from tests.conftest import Tinyproxy, _free_port
from tmdb_async import TMDB, TransportError
from tmdb_async.testing import FakeTMDB

TOKEN = "eyJhbGciOiJIUzI1NiJ9.PROXYTESTTOKEN.SIG"


def via(fake: FakeTMDB) -> str | None:
    """The `Via` header of the last request FakeTMDB received (tinyproxy adds one)."""
    return fake.stats.requests[-1].headers.get("Via")


async def test_http_proxy_from_the_environment(
    fake_tmdb: FakeTMDB, tinyproxy: Tinyproxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", tinyproxy.url)
    async with TMDB(access_token=fake_tmdb.access_token, base_url=fake_tmdb.url) as tmdb:
        movie = await tmdb.movies.details(550)
    assert movie.id == 550
    assert "tinyproxy" in (via(fake_tmdb) or "")
    assert tinyproxy.requests() == [f"GET {fake_tmdb.url}/3/movie/550 HTTP/1.1"]


async def test_explicit_proxy_option(fake_tmdb: FakeTMDB, tinyproxy: Tinyproxy) -> None:
    async with TMDB(
        access_token=fake_tmdb.access_token, base_url=fake_tmdb.url, proxy=tinyproxy.url
    ) as tmdb:
        await tmdb.movies.details(550)
    assert "tinyproxy" in (via(fake_tmdb) or "")
    async with TMDB(access_token=fake_tmdb.access_token, base_url=fake_tmdb.url) as direct:
        await direct.movies.details(551)
    assert via(fake_tmdb) is None
    assert len(tinyproxy.requests()) == 1


@pytest.mark.parametrize("variable", ["NO_PROXY", "no_proxy"])
async def test_no_proxy_is_respected(
    fake_tmdb: FakeTMDB, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{_free_port()}")  # nothing listens
    async with TMDB(
        access_token=fake_tmdb.access_token, base_url=fake_tmdb.url, max_retries=0
    ) as tmdb:
        with pytest.raises(TransportError, match="ClientProxyConnectionError"):
            await tmdb.movies.details(550)  # the environment's proxy is used...
    monkeypatch.setenv(variable, "localhost,127.0.0.1")
    async with TMDB(access_token=fake_tmdb.access_token, base_url=fake_tmdb.url) as tmdb:
        assert (await tmdb.movies.details(550)).id == 550  # ...except where NO_PROXY says
    assert via(fake_tmdb) is None


# -- HTTPS through the proxy's tunnel (CONNECT) ----------------------------------------------

CLIENT = """
import asyncio, sys
from tmdb_async import TMDB

async def main() -> None:
    async with TMDB(base_url=sys.argv[1]) as tmdb:  # token and proxy from the environment
        print((await tmdb.movies.details(550)).id)

asyncio.run(main())
"""


@pytest.fixture
async def tls_fake(tmp_path: Path) -> AsyncIterator[tuple[FakeTMDB, str, Path]]:
    """FakeTMDB over TLS (a trustme certificate for 127.0.0.1) and the CA's bundle."""
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    fake = FakeTMDB(access_token=TOKEN)
    runner = web.AppRunner(fake.app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    try:
        host, port = runner.addresses[0][:2]
        yield fake, f"https://{host}:{port}", bundle
    finally:
        await runner.cleanup()


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


@asynccontextmanager
async def recording(upstream: int) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A TCP relay in front of the proxy on port `upstream`: its URL, and the head of the
    first request of each connection, byte for byte as the proxy receives it."""
    heads: list[bytes] = []

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        heads.append(head)
        proxy_reader, proxy_writer = await asyncio.open_connection("127.0.0.1", upstream)
        proxy_writer.write(head)
        await asyncio.gather(pipe(reader, proxy_writer), pipe(proxy_reader, writer))

    server = await asyncio.start_server(relay, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", heads
    finally:
        server.close()
        await server.wait_closed()


async def test_https_through_the_proxy_from_the_environment(
    tls_fake: tuple[FakeTMDB, str, Path], tinyproxy: Tinyproxy
) -> None:
    # A new process, as a user behind a proxy runs one: the CA bundle (SSL_CERT_FILE) is read
    # when aiohttp is imported, HTTPS_PROXY and the token when the client is made.
    fake, base_url, bundle = tls_fake
    async with recording(tinyproxy.port) as (proxy, heads):
        environ = {**os.environ, "HTTPS_PROXY": proxy, "SSL_CERT_FILE": str(bundle)}
        environ["TMDB_ACCESS_TOKEN"] = TOKEN
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CLIENT,
            base_url,
            env=environ,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode == 0, err.decode(errors="replace")[-2000:]
    assert out.decode().strip() == "550"
    assert fake.stats.count("movie-details") == 1
    assert fake.stats.last.headers["Authorization"] == f"Bearer {TOKEN}"  # through the tunnel
    authority = base_url.removeprefix("https://")
    assert tinyproxy.requests() == [f"CONNECT {authority} HTTP/1.1"]
    # What the proxy received in clear: the CONNECT request, and no credential in it.
    [head] = heads
    assert head.startswith(f"CONNECT {authority} HTTP/1.1\r\n".encode())
    assert TOKEN.encode() not in head
    assert b"authorization" not in head.lower()


async def test_the_proxy_never_sees_a_credential_in_the_tunnel_request() -> None:
    # aiohttp copies a session's default headers into the CONNECT request and turns an
    # Authorization among them into Proxy-Authorization: the token must not be one of them.
    heads: list[bytes] = []

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(refuse, "127.0.0.1", 0)
    proxy = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        async with TMDB(
            access_token=TOKEN, base_url="https://127.0.0.1:9", proxy=proxy, max_retries=0
        ) as tmdb:
            with pytest.raises(TransportError):
                await tmdb.movies.details(550)
    finally:
        server.close()
        await server.wait_closed()
    [head] = heads
    assert head.startswith(b"CONNECT 127.0.0.1:9 HTTP/1.1\r\n")
    assert TOKEN.encode() not in head
    assert b"authorization" not in head.lower()
