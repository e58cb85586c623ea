"""The two ways a request leaves the transport, behind one signature.

The client's own keep-alive pool (`_http`) is the default; a session the user passes in
(`TMDB(session=...)`) is used as given, through aiohttp. Either raises one of `WIRE_ERRORS`,
which `failure_of` sorts by what they mean for a retry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Protocol

import aiohttp
from yarl import URL

from ._http import (
    ConnectFailed,
    ConnectionPool,
    HTTPError,
    ResponseTimeout,
    Timeouts,
    TLSFailed,
)
from ._retry import Failure

__all__ = ["WIRE_ERRORS", "Response", "SessionWire", "Wire", "failure_of", "open_pool"]

Response = tuple[int, Mapping[str, str], bytes]
"""What the network seam returns: HTTP status, headers (lower-case names), body."""

WIRE_ERRORS = (HTTPError, aiohttp.ClientError, asyncio.TimeoutError)

ACCEPT_ENCODING = "gzip, deflate"
"""TMDB's JSON shrinks about five times with gzip; both are decoded by zlib."""

_FATAL_ERRORS = (
    TLSFailed,
    aiohttp.ClientConnectorCertificateError,
    aiohttp.ClientSSLError,
    aiohttp.InvalidURL,
)
_CONNECT_ERRORS = (ConnectFailed, aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
_TIMEOUT_ERRORS = (ResponseTimeout, asyncio.TimeoutError)


class Wire(Protocol):
    """Sends one request; never raises for an HTTP status."""

    @property
    def closed(self) -> bool: ...

    async def request(
        self, method: str, url: URL, headers: Mapping[str, str], body: bytes | None
    ) -> Response: ...

    async def aclose(self) -> None: ...


def failure_of(err: BaseException | None) -> Failure:
    """Classify a network error: could the request have reached the server?"""
    if isinstance(err, _FATAL_ERRORS):
        return Failure.FATAL
    if isinstance(err, _CONNECT_ERRORS):
        return Failure.CONNECT
    if isinstance(err, _TIMEOUT_ERRORS):
        return Failure.TIMEOUT
    return Failure.DISCONNECT


def open_pool(
    limit: int, timeout: aiohttp.ClientTimeout, headers: Mapping[str, str]
) -> ConnectionPool:
    """The client's own pool, with aiohttp's timeout settings and `headers` on every request."""
    timeouts = Timeouts(
        total=timeout.total,
        connect=timeout.connect,
        sock_connect=timeout.sock_connect,
        sock_read=timeout.sock_read,
    )
    return ConnectionPool(
        limit=limit, timeouts=timeouts, headers={**headers, "Accept-Encoding": ACCEPT_ENCODING}
    )


class SessionWire:
    """A borrowed aiohttp session: used as configured, never closed by us.

    Each request carries the client's headers and timeout and asks aiohttp not to raise for
    a status, since the session may be configured otherwise.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        headers: Mapping[str, str],
        timeout: aiohttp.ClientTimeout,
    ) -> None:
        self._session = session
        self._headers = dict(headers)
        self._timeout = timeout

    @property
    def closed(self) -> bool:
        """True when the session's owner closed it."""
        return self._session.closed

    async def request(
        self, method: str, url: URL, headers: Mapping[str, str], body: bytes | None
    ) -> Response:
        """Send one request through the session."""
        async with self._session.request(
            method,
            url,
            headers={**self._headers, **headers},
            data=body,
            timeout=self._timeout,
            raise_for_status=False,
        ) as response:
            payload = await response.read()
        names = {name.lower(): value for name, value in response.headers.items()}
        return response.status, names, payload

    async def aclose(self) -> None:
        """Nothing to do: the session belongs to whoever passed it in."""
