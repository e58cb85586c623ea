"""One keep-alive HTTP/1.1 connection: an asyncio protocol with one request in flight."""

from __future__ import annotations

import asyncio
from typing import cast

from ._errors import Disconnected, HTTPError, ProtocolViolation
from ._parser import ParsedResponse, ResponseParser

__all__ = ["Connection"]


class Connection(asyncio.Protocol):
    """Sends a request and resolves a future with its parsed response.

    `closed` turns true when either side closes; a closed connection is never reused.
    """

    __slots__ = (
        "_loop",
        "_parser",
        "_transport",
        "_waiter",
        "closed",
        "deadline",
        "idle_since",
        "last_read",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._parser = ResponseParser()
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[ParsedResponse] | None = None
        self.closed = False
        self.idle_since = 0.0
        self.last_read = 0.0
        self.deadline = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport, though not always an asyncio.Transport subclass (uvloop's).
        self._transport = cast(asyncio.Transport, transport)

    def send(self, request: bytes, method: str, now: float) -> asyncio.Future[ParsedResponse]:
        """Write `request` at loop time `now`; the future completes with its response."""
        assert self._transport is not None
        assert self._waiter is None
        self._parser.expect(method)
        waiter = self._waiter = self._loop.create_future()
        self.last_read = now  # the silence (`sock_read`) is counted from here
        self._transport.write(request)
        return waiter

    def data_received(self, data: bytes) -> None:
        self.last_read = self._loop.time()
        waiter = self._waiter
        if waiter is None:
            self.abort()  # bytes nobody asked for: the connection's state is unknown
            return
        try:
            response = self._parser.feed(data)
        except Exception as err:
            self.fail(_violation(err))
            self.abort()
            return
        if response is not None:
            self._waiter = None
            if not response.keep_alive:
                self.close()
            if not waiter.done():
                waiter.set_result(response)

    def eof_received(self) -> bool:
        self.closed = True  # at once: connection_lost only follows on the next loop turn
        return False  # let the transport close; connection_lost settles the waiter

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is None:
            return
        if exc is not None:  # reset or broken: even a body read until close is cut short
            lost = Disconnected(f"the connection was lost: {exc}", started=self._parser.started)
            lost.__cause__ = exc
            self.fail(lost)
            return
        try:
            response = self._parser.feed_eof()
        except Exception as err:  # a cut or undecodable body: fail the waiter
            self.fail(_violation(err))
        else:
            waiter, self._waiter = self._waiter, None
            if not waiter.done():
                waiter.set_result(response)

    def fail(self, err: BaseException) -> None:
        """Fail the response awaited, if any (the caller then aborts the connection)."""
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(err)

    def close(self) -> None:
        """Close after pending writes."""
        self.closed = True
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Close now, dropping pending writes: for a connection in an unknown state."""
        self.closed = True
        if self._transport is not None:
            self._transport.abort()


def _violation(err: Exception) -> HTTPError:
    """The parser's own errors as they are; anything else it raised, as a ProtocolViolation."""
    if isinstance(err, HTTPError):
        return err
    violation = ProtocolViolation(f"unparseable response: {type(err).__name__}: {err}")
    violation.__cause__ = err
    return violation
