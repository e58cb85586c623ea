"""A keep-alive HTTP/1.1 connection pool: the client's own path to the network.

Why not aiohttp's ClientSession here: for TMDB's small JSON responses its per-request
machinery (tracing, cookie and header merging, response objects, stream readers) costs
several times the rest of the pipeline. This pool does only what TMDB needs: keep-alive
connections (TLS for https) capped in number, one request per connection at a time,
timeouts, gzip, and one transparent resend of an idempotent request on a stale keep-alive
connection.
"""

from __future__ import annotations

import asyncio
import collections
import math
import ssl
import sys
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from yarl import URL

from ._connection import Connection
from ._errors import ConnectFailed, ConnectTimeout, Disconnected, ResponseTimeout, TLSFailed
from ._parser import ParsedResponse

__all__ = ["ConnectionPool", "Timeouts"]

KEEPALIVE = 15.0
"""Seconds an idle connection is kept (aiohttp's default): servers drop idle ones."""
HAPPY_EYEBALLS_DELAY = 0.25
"""RFC 8305's recommended delay before racing the next address family."""
_STALE_RETRY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
"""Idempotent methods (RFC 9110 9.2.2): resent at once when a reused connection proves stale."""
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


@dataclass(frozen=True)
class Timeouts:
    """Seconds, each None for no limit (aiohttp.ClientTimeout's meaning).

    `total`: the whole request, from waiting for a connection to the last byte; `connect`:
    waiting for a pooled connection plus opening one; `sock_connect`: opening one;
    `sock_read`: the longest silence while a response is awaited.
    """

    total: float | None = None
    connect: float | None = None
    sock_connect: float | None = None
    sock_read: float | None = None


class ConnectionPool:
    """HTTP/1.1 requests over at most `limit` keep-alive connections.

    `headers` are sent with every request. Must be used from one event loop, the one
    running when it is created.
    """

    def __init__(self, *, limit: int, timeouts: Timeouts, headers: Mapping[str, str]) -> None:
        self._loop = asyncio.get_running_loop()
        self._timeouts = timeouts
        self._limit = self._free = limit
        self._slot_waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._idle: dict[Origin, list[Connection]] = {}
        self._busy: set[Connection] = set()
        self._header_block = _header_lines(headers)
        self._ssl: ssl.SSLContext | None = None
        self._tick = _tick(timeouts)
        self._watchdog: asyncio.TimerHandle | None = None
        self.closed = False

    async def request(
        self, method: str, url: URL, headers: Mapping[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request; its status, headers (lower-case names) and decoded body.

        Raises an `HTTPError` subclass when the network or the server fails (never for a
        status), ValueError for a header that would split the request, RuntimeError once closed.
        """
        self._check_open()
        if asyncio.get_running_loop() is not self._loop:
            raise RuntimeError("this TMDB client was first used in another event loop")
        scheme, host, port = url.scheme, url.raw_host, url.port
        if scheme not in _DEFAULT_PORTS or not host or port is None:
            raise ValueError(f"not an absolute http(s) URL: {url}")
        origin = (scheme, host, port)
        request = self._encode(method, url, origin, headers, body)
        now = self._loop.time()
        total, connect = self._timeouts.total, self._timeouts.connect
        deadline = None if total is None else now + total
        connect_by = None if connect is None else now + connect
        if deadline is not None and (connect_by is None or deadline < connect_by):
            connect_by = deadline
        if self._free > 0 and not self._slot_waiters:
            self._free -= 1  # the usual case, inline
        else:
            await self._wait_for_slot(connect_by)
            now = self._loop.time()
        try:
            for reused in (True, False):
                connection = self._idle_connection(origin, now) if reused else None
                if connection is None:
                    connection = await self._connect(origin, connect_by)
                    now = self._loop.time()
                    reused = False
                try:
                    response = await self._exchange(connection, request, method, now, deadline)
                except Disconnected as err:
                    if reused and not err.started and method in _STALE_RETRY_METHODS:
                        continue  # the server had closed this idle connection: use a new one
                    raise
                if not connection.closed and response.keep_alive and not self.closed:
                    connection.idle_since = connection.last_read  # the response's last bytes
                    self._idle.setdefault(origin, []).append(connection)
                return response.status, response.headers, response.body
            raise AssertionError("unreachable: the second pass uses a new connection")
        finally:
            self._release_slot()

    @property
    def in_use(self) -> int:
        """Connections (or slots to open one) held by requests right now."""
        return self._limit - self._free

    async def aclose(self) -> None:
        """Close every connection; requests after this raise RuntimeError."""
        self.closed = True
        for connections in self._idle.values():
            for connection in connections:
                connection.abort()  # idle: nothing left to send, no TLS goodbye to wait for
        self._idle.clear()
        for connection in self._busy:
            connection.abort()
        self._busy.clear()
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        await asyncio.sleep(0)  # let the transports run their close callbacks

    def _encode(
        self,
        method: str,
        url: URL,
        origin: Origin,
        headers: Mapping[str, str],
        body: bytes | None,
    ) -> bytes:
        scheme, host, port = origin
        if ":" in host:
            host = f"[{host}]"
        if port != _DEFAULT_PORTS[scheme]:
            host = f"{host}:{port}"
        extra = _header_lines(headers) if headers else ""
        if body is not None or method in _BODY_METHODS:
            extra += f"Content-Length: {len(body or b'')}\r\n"
        head = f"{method} {url.raw_path_qs} HTTP/1.1\r\nHost: {host}\r\n{self._header_block}"
        request = f"{head}{extra}\r\n".encode("latin-1")
        return request + body if body else request

    async def _wait_for_slot(self, deadline: float | None) -> None:
        """Wait until `_release_slot` hands this request a slot, or fail at `deadline`."""
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._slot_waiters.append(waiter)
        timer = None
        if deadline is not None:
            timeout = ConnectTimeout("no pooled connection became free within the timeout")
            timer = self._loop.call_at(deadline, _fail, waiter, timeout)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._release_slot()  # handed a slot just as this task was cancelled
            raise
        finally:
            if timer is not None:
                timer.cancel()

    def _release_slot(self) -> None:
        waiters = self._slot_waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1

    def _idle_connection(self, origin: Origin, now: float) -> Connection | None:
        idle = self._idle.get(origin)
        expired = now - KEEPALIVE
        while idle:
            connection = idle.pop()
            if not connection.closed and connection.idle_since > expired:
                return connection
            connection.close()
        return None

    async def _connect(self, origin: Origin, deadline: float | None) -> Connection:
        self._check_open()  # it may have closed while this request waited for a slot
        scheme, host, port = origin
        tls = self._tls() if scheme == "https" else None
        sock_connect = self._timeouts.sock_connect
        timeout = None if deadline is None else max(0.0, deadline - self._loop.time())
        if sock_connect is not None and (timeout is None or sock_connect < timeout):
            timeout = sock_connect
        loop, hostname = self._loop, host if tls is not None else None

        def connection_factory() -> Connection:
            return Connection(loop)

        # asyncio's own loops race IPv6 and IPv4 (RFC 8305); uvloop's take no such argument.
        racing: dict[str, Any] = {}
        if isinstance(loop, asyncio.BaseEventLoop):
            racing["happy_eyeballs_delay"] = HAPPY_EYEBALLS_DELAY
        opening = loop.create_connection(
            connection_factory, host, port, ssl=tls, server_hostname=hostname, **racing
        )
        try:
            connection = await _within(opening, timeout)
        except asyncio.TimeoutError as err:
            raise ConnectTimeout(f"no connection to {host}:{port} within {timeout}s") from err
        except ssl.SSLError as err:  # before OSError: SSLError is one
            raise TLSFailed(f"TLS with {host}:{port} failed: {err}") from err
        except OSError as err:
            raise ConnectFailed(f"cannot connect to {host}:{port}: {err}") from err
        if self.closed:  # closed while connecting: aclose() could not see this one
            connection.abort()
            self._check_open()
        return connection

    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError("the connection pool is closed")

    async def _exchange(
        self,
        connection: Connection,
        request: bytes,
        method: str,
        now: float,
        deadline: float | None,
    ) -> ParsedResponse:
        """Send `request` on `connection` and await the response, within the timeouts."""
        connection.deadline = math.inf if deadline is None else deadline
        self._busy.add(connection)
        if self._watchdog is None and self._tick is not None:
            self._watchdog = self._loop.call_later(self._tick, self._sweep)
        try:
            return await connection.send(request, method, now)
        except BaseException:
            connection.abort()  # cancelled, timed out or broken: its state is unknown
            raise
        finally:
            self._busy.discard(connection)

    def _sweep(self) -> None:
        """Fail the responses past their deadline or silent too long; tick while any is due.

        One periodic check instead of a timer per request: a timer costs more than the rest
        of a keep-alive request, and a timeout fires at most one tick late (aiohttp rounds
        timeouts over 5 s up to the next second, too).
        """
        now = self._loop.time()
        sock_read = self._timeouts.sock_read
        for connection in self._busy:
            if now >= connection.deadline:
                total = self._timeouts.total
                connection.fail(ResponseTimeout(f"no complete response within {total:g}s"))
            elif sock_read is not None and now - connection.last_read >= sock_read:
                connection.fail(ResponseTimeout(f"no data from the server for {sock_read:g}s"))
        self._watchdog = None
        if self._busy and self._tick is not None:
            self._watchdog = self._loop.call_later(self._tick, self._sweep)

    def _tls(self) -> ssl.SSLContext:
        if self._ssl is None:  # built once: loading the CA store takes milliseconds
            self._ssl = ssl.create_default_context()
        return self._ssl


def _fail(waiter: asyncio.Future[Any], err: BaseException) -> None:
    if not waiter.done():
        waiter.set_exception(err)


async def _within(
    opening: Coroutine[Any, Any, tuple[asyncio.Transport, Connection]], timeout: float | None
) -> Connection:
    """Await a new connection, at most `timeout` seconds (asyncio.TimeoutError after).

    asyncio.timeout() where there is one: before Python 3.12, wait_for() can swallow a
    cancellation that arrives just as the connection is made.
    """
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(timeout):
            _, connection = await opening
    else:
        _, connection = await asyncio.wait_for(opening, timeout)
    return connection


def _tick(timeouts: Timeouts) -> float | None:
    """How often `_sweep` runs: a tenth of the shortest response timeout, within 1 ms..1 s."""
    limits = [t for t in (timeouts.total, timeouts.sock_read) if t is not None]
    return min(1.0, max(0.001, min(limits) / 10)) if limits else None


def _header_lines(headers: Mapping[str, str]) -> str:
    """`Name: value` lines; ValueError for a CR, LF or NUL that would split the request."""
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    if lines.count("\n") != len(headers) or lines.count("\r") != len(headers) or "\0" in lines:
        raise ValueError("a header name or value contains CR, LF or NUL")
    return lines
