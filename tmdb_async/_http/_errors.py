"""What can go wrong on the wire, split by what it means for a retry."""

from __future__ import annotations

import asyncio

__all__ = [
    "ConnectFailed",
    "ConnectTimeout",
    "Disconnected",
    "HTTPError",
    "ProtocolViolation",
    "ResponseTimeout",
    "TLSFailed",
]


class HTTPError(Exception):
    """Base of every error raised by the HTTP client."""


class ConnectFailed(HTTPError):
    """No connection could be made: nothing was sent."""


class ConnectTimeout(ConnectFailed, asyncio.TimeoutError):
    """No connection (or pool slot) within the connect timeout: nothing was sent."""


class TLSFailed(HTTPError):
    """The TLS handshake failed (a bad certificate, say): retrying will not help."""


class ResponseTimeout(HTTPError, asyncio.TimeoutError):
    """The request was sent but the response did not complete in time."""


class Disconnected(HTTPError):
    """The server closed the connection before the response was complete.

    `started` says whether any byte of the response had arrived: a reused keep-alive
    connection that the server had already closed fails with `started=False`.
    """

    def __init__(self, message: str, *, started: bool) -> None:
        super().__init__(message)
        self.started = started


class ProtocolViolation(HTTPError):
    """The server's bytes are not a valid HTTP/1.1 response."""
