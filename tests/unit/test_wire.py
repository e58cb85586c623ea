"""aiohttp's errors, sorted once (in the wire stage) by what they mean for a retry."""

from __future__ import annotations

import asyncio
import ssl

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey
from yarl import URL

from tmdb_async import Failure
from tmdb_async._pipeline.wire import Refused, environment_proxy, failure_of

KEY = ConnectionKey("h", 443, True, True, None, None, None)
BAD_CERTIFICATE = aiohttp.ClientConnectorCertificateError(KEY, ssl.SSLCertVerificationError())


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (
            aiohttp.ClientConnectorCertificateError(KEY, ssl.SSLCertVerificationError()),
            Failure.FATAL,
        ),
        (aiohttp.InvalidURL("x"), Failure.FATAL),
        (Refused("a body over the cap"), Failure.FATAL),
        (aiohttp.ClientConnectorError(KEY, ConnectionRefusedError()), Failure.CONNECT),
        (aiohttp.ConnectionTimeoutError("no connection"), Failure.CONNECT_TIMEOUT),
        (aiohttp.SocketTimeoutError("slow"), Failure.READ_TIMEOUT),
        (asyncio.TimeoutError(), Failure.TOTAL_TIMEOUT),
        (aiohttp.ServerDisconnectedError(), Failure.DISCONNECT),
        (aiohttp.ClientPayloadError("cut"), Failure.DISCONNECT),
        (aiohttp.ClientOSError(104, "reset"), Failure.DISCONNECT),
    ],
)
def test_failure_of(error: BaseException, failure: Failure) -> None:
    assert failure_of(error) is failure


def test_environment_proxy_by_scheme_and_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    api = URL("https://api.themoviedb.org")
    assert environment_proxy(api) is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://plain.internal:8080")
    assert environment_proxy(api) == URL("http://proxy.internal:3128")
    assert environment_proxy(URL("http://127.0.0.1:8000")) == URL("http://plain.internal:8080")
    monkeypatch.setenv("NO_PROXY", "localhost,.themoviedb.org")
    assert environment_proxy(api) is None
