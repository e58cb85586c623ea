"""The wire: the only code that touches the network, through aiohttp.

The client's own session is created on the first request, inside the running loop, and tuned
for one API host (`open_session`); a session passed as `TMDB(session=...)` is used as its
owner configured it (proxy, TLS, tracing, limits) and never closed here. Every aiohttp error
becomes a TransportError here and nowhere else, classified by what it means for a retry.

Credentials never leave the base URL's origin: a redirect is followed only within it (with
the credentials), and a redirect to another host is refused, not followed without them (TMDB
answers nothing useful without them, and an error says where the redirect pointed). A user's
call (`call.auth`) is sent with the user's bearer token in place of the client's credentials,
read here and nowhere else; it is masked in every message like theirs. A body
over `max_body_size` after decompression fails without being held in memory. With a deadline,
an attempt's total timeout is cut to the time left, and an attempt that fails once it is gone
answers with a DeadlineExceededError (waiting on TMDB), its cause the attempt's TransportError.
aiohttp's exceptions never leave this module, not even as a cause (see `Wire._failed`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import urllib.request
from collections.abc import Mapping
from typing import Any

import aiohttp
from yarl import URL

from .._constants import (
    DNS_CACHE_TTL,
    KEEPALIVE_TIMEOUT,
    LOGGER_NAME,
    MAX_INFLATE_RATIO,
    MAX_REDIRECTS,
    USER_AGENT,
)
from .._deadline import Deadline, DeadlinePhase
from .._errors import Failure, TransportError
from .._loop import LoopBinding
from .._options import ClientOptions
from .._stats import Stats
from ._types import Call, Reply

__all__ = ["Wire", "environment_proxy", "failure_of", "open_session", "timeout_reason"]

logger = logging.getLogger(LOGGER_NAME)

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_INFLATION = {None: 1, "identity": 1, "gzip": MAX_INFLATE_RATIO, "x-gzip": MAX_INFLATE_RATIO}
_INFLATION["deflate"] = MAX_INFLATE_RATIO
"""How much larger than its Content-Length a body can become, by Content-Encoding (others,
brotli or zstd, have no useful bound: such bodies are always counted as they stream)."""
_YIELD_EVERY = 1024 * 1024
"""Bytes of a streamed body between two turns of the event loop (about 5 ms of inflating)."""


class Refused(Exception):
    """The wire would not complete the request: a body over the cap, a redirect off the
    base URL's origin, too many redirects. Retrying would meet the same answer."""


_FATAL = (
    Refused,
    aiohttp.ClientConnectorCertificateError,
    aiohttp.ClientSSLError,
    aiohttp.InvalidURL,
    aiohttp.NonHttpUrlClientError,
)
_CONNECT = (
    aiohttp.ClientConnectorError,
    aiohttp.ConnectionTimeoutError,
    aiohttp.ClientHttpProxyError,
)
_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, Refused)


def failure_of(err: BaseException) -> Failure:
    """Classify a network error: which step failed, and could the request have reached the
    server? (aiohttp raises a plain TimeoutError when the total limit runs out.)"""
    if isinstance(err, _FATAL):
        return Failure.FATAL
    if isinstance(err, aiohttp.ConnectionTimeoutError):
        return Failure.CONNECT_TIMEOUT
    if isinstance(err, _CONNECT):
        return Failure.CONNECT
    if isinstance(err, aiohttp.SocketTimeoutError):
        return Failure.READ_TIMEOUT
    if isinstance(err, asyncio.TimeoutError):
        return Failure.TOTAL_TIMEOUT
    return Failure.DISCONNECT


_LIMITS = {
    Failure.CONNECT_TIMEOUT: ("could not connect within", ("connect", "sock_connect")),
    Failure.READ_TIMEOUT: ("no data within", ("sock_read",)),
    Failure.TOTAL_TIMEOUT: ("no complete response within", ("total",)),
}
"""A timeout in words, and the `aiohttp.ClientTimeout` fields that set its limit."""


def timeout_reason(failure: Failure, timeout: aiohttp.ClientTimeout) -> str:
    """`no data within the read limit of 5 s (sock_read)`: which limit ran out, in seconds
    (the `aiohttp.ClientTimeout` field is named when it is not the limit's own name)."""
    words, fields = _LIMITS[failure]
    kind = (
        failure.value.removesuffix(" timeout") if failure is not Failure.TOTAL_TIMEOUT else "total"
    )
    limits = [
        f"{seconds:g} s" + ("" if name == kind else f" ({name})")
        for name in fields
        if (seconds := getattr(timeout, name))
    ]
    return f"{words} the {kind} limit of {' / '.join(limits) or 'its time'}"


def environment_proxy(url: URL) -> URL | None:
    """The proxy the environment names for `url`: `HTTPS_PROXY`/`HTTP_PROXY` unless `NO_PROXY`
    excludes its host (the standard library's rules, which aiohttp's `trust_env` uses too)."""
    if url.host is None or urllib.request.proxy_bypass(url.host):
        return None
    proxy = urllib.request.getproxies().get(url.scheme)
    return URL(proxy) if proxy else None


def open_session(
    *, limit: int, timeout: aiohttp.ClientTimeout, headers: Mapping[str, str]
) -> aiohttp.ClientSession:
    """An aiohttp session tuned for an API client; call it inside the running loop.

    At most `limit` keep-alive connections, cached DNS answers, `headers` and `timeout` on
    every request, no cookie jar (TMDB sets no cookie that matters; a jar costs a lookup per
    request), gzip (aiohttp's default Accept-Encoding), statuses returned rather than raised.
    No `trust_env`: it looks up the proxy and `.netrc` in a thread on every request (three to
    four times the client's CPU per request, measured on loopback); the environment's proxy
    is resolved once instead (`environment_proxy`) and passed with each request.

    With a proxy, `headers` must hold no credential: aiohttp copies a session's headers into
    the proxy's CONNECT request, and turns an `Authorization` among them into
    `Proxy-Authorization`, which the proxy reads in clear.
    """
    connector = aiohttp.TCPConnector(
        limit=limit, keepalive_timeout=KEEPALIVE_TIMEOUT, ttl_dns_cache=DNS_CACHE_TTL
    )
    return aiohttp.ClientSession(
        connector=connector,
        headers=headers,
        timeout=timeout,
        cookie_jar=aiohttp.DummyCookieJar(),
        raise_for_status=False,
    )


class Wire:
    """Sends one request and returns its raw reply, or a TransportError reply; never raises
    for a status. Raises RuntimeError once closed."""

    def __init__(self, options: ClientOptions, stats: Stats) -> None:
        credentials = options.credentials
        self._options = options
        self._stats = stats
        self._session_headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        self._auth_query = credentials.query()
        self._redact = credentials.redact
        self._origin = URL(options.base_url).origin()
        self._max_body = options.max_body_size
        self._auth = credentials.headers()
        self._session: aiohttp.ClientSession | None = None
        self._loop = LoopBinding()
        """The session's loop: a request from another is refused, in words that say why."""
        self._closed = False
        self._headers: dict[str, str] | None = None
        """Headers sent with each request, on top of the session's (see `_open`)."""
        self._extra: dict[str, Any] = {}
        """aiohttp options of each request: a borrowed session's owner may have set others."""
        if options.session is not None:
            self._extra.update(timeout=options.timeout, raise_for_status=False)

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The session in use: None until the first request and after `aclose()`."""
        return self._session

    @property
    def owned(self) -> bool:
        """True when the session is the client's own (created here, closed by `aclose`)."""
        return self._options.session is None

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:  # a retry that outlived aclose() must not open a new session
            raise RuntimeError("this TMDB client is closed; create a new one")
        options = self._options
        proxy = options.proxy
        if options.session is not None:
            self._session = options.session
            self._headers = {**self._session_headers, **self._auth}
        else:
            proxy = proxy or environment_proxy(self._origin)
            # The credentials ride in the session's headers (aiohttp merges headers given
            # per request at some cost), unless a proxy would see them there (`open_session`).
            headers = self._session_headers if proxy else {**self._session_headers, **self._auth}
            self._session = open_session(
                limit=options.max_connections, timeout=options.timeout, headers=headers
            )
            if proxy and self._auth:
                self._headers = self._auth
        if proxy is not None:
            self._extra["proxy"] = proxy
        return self._session

    async def send(self, call: Call) -> Reply:
        """Send `call` with the credentials; its status, headers and (capped) body."""
        session = self._session or self._open()
        self._loop.check()
        request = call.request
        method, url = request.method, request.url
        auth = call.auth
        headers: Mapping[str, str] | None = self._headers
        if auth is not None:  # the user's token replaces the client's, header and api_key
            headers = {**(headers or {}), **auth.headers()}
        elif self._auth_query:
            url = url.update_query(self._auth_query)
        if request.body is not None:
            headers = {**(headers or {}), "Content-Type": "application/json;charset=utf-8"}
        if call.validators:
            headers = {**(headers or {}), **call.validators}
        deadline = call.deadline
        if deadline is not None and deadline.expired():
            return _late(call, deadline, None)
        self._stats.requests += 1
        try:
            if deadline is None:
                exchange = await self._exchange(session, method, url, headers, request.body, call)
            else:
                with deadline.phase(DeadlinePhase.UPSTREAM):
                    exchange = await self._exchange(
                        session, method, url, headers, request.body, call, deadline
                    )
            status, response_headers, body = exchange
        except _ERRORS as err:
            error = self._failed(call, err)
            if deadline is not None and deadline.expired():
                return _late(call, deadline, error)
            return Reply(error=error, failure=error.failure)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d (%d bytes)", method, request.redacted_url(), status, len(body)
            )
        return Reply(status, response_headers, body)

    def _failed(self, call: Call, err: BaseException) -> TransportError:
        """The TransportError of a network error: its type's name and its words, credentials
        masked, and nothing else of it. aiohttp's exception is not kept, not even as the
        cause: it holds the URL as sent (with the api_key) and the request's headers (a
        bearer token), which a traceback, a repr or an error tracker's frame locals show."""
        request = call.request
        method, safe_url = request.method, request.redacted_url()
        logger.debug("%s %s failed: %s", method, safe_url, type(err).__name__)
        failure = failure_of(err)
        if failure.is_timeout:
            reason = timeout_reason(failure, self._options.timeout)
        else:
            detail = self._redact(str(err))
            if call.auth is not None:
                detail = call.auth.redact(detail)
            reason = f"{failure.value}: {type(err).__name__}{': ' if detail else ''}{detail}"
        message = f"{method} {safe_url} failed: {reason}"
        return TransportError(message, failure=failure, url=safe_url, method=method)

    async def _exchange(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: URL,
        headers: Mapping[str, str] | None,
        body: bytes | None,
        call: Call,
        deadline: Deadline | None = None,
    ) -> tuple[int, Mapping[str, str], bytes]:
        """One request, following redirects within the base URL's origin."""
        for _ in range(MAX_REDIRECTS + 1):
            extra = self._extra
            if deadline is not None:
                if deadline.expired():  # a redirect with no time left (aiohttp: 0 is no limit)
                    raise asyncio.TimeoutError
                extra = self._within(deadline.remaining)
            async with session.request(
                method, url, headers=headers, data=body, allow_redirects=False, **extra
            ) as response:
                status = response.status
                location = response.headers.get("Location") if status in _REDIRECTS else None
                if location is None:
                    read = response.read() if self._fits(response) else self._stream(response)
                    return status, response.headers, await read
            url = self._redirect_target(url, location, with_key=call.auth is None)
            if status == 303 or (status in (301, 302) and method == "POST"):
                method, body = "GET", None  # RFC 9110 15.4.4; 301/302 as browsers do
                if headers is not None:
                    headers = {k: v for k, v in headers.items() if k != "Content-Type"}
        raise Refused(f"more than {MAX_REDIRECTS} redirects")

    def _within(self, remaining: float) -> dict[str, Any]:
        """The request options, with a total timeout of at most `remaining` seconds (exact:
        aiohttp rounds longer timeouts up to whole seconds unless told not to)."""
        timeout = self._options.timeout
        if remaining == math.inf or (timeout.total is not None and timeout.total <= remaining):
            return self._extra
        bounded = aiohttp.ClientTimeout(
            total=remaining,
            connect=timeout.connect,
            sock_read=timeout.sock_read,
            sock_connect=timeout.sock_connect,
            ceil_threshold=math.inf,
        )
        return {**self._extra, "timeout": bounded}

    def _redirect_target(self, url: URL, location: str, *, with_key: bool) -> URL:
        try:
            target = url.join(URL(location))
        except ValueError as err:
            raise Refused("a redirect to an invalid URL") from err
        if target.origin() != self._origin:
            where = self._redact(target.with_query(None))
            raise Refused(
                f"a redirect to another origin ({where}) was not followed: credentials are "
                f"only sent to {self._origin}; point base_url there if that is intended"
            )
        return target.update_query(self._auth_query) if with_key and self._auth_query else target

    def _fits(self, response: aiohttp.ClientResponse) -> bool:
        """True when the body's Content-Length bounds its decoded size under `max_body_size`
        (it is then read in one go); Refused when a plain body's length is over it."""
        headers = response.headers
        declared = headers.get("Content-Length")
        if declared is None or not declared.isdigit():
            return False  # no length, or one aiohttp has already refused
        length = int(declared)
        inflation = _INFLATION.get(headers.get("Content-Encoding"))
        if inflation == 1 and length > self._max_body:
            response.close()
            raise Refused(f"a body of {length:,} bytes is over max_body_size={self._max_body:,}")
        return inflation is not None and length * inflation <= self._max_body

    async def _stream(self, response: aiohttp.ClientResponse) -> bytes:
        """The body counted chunk by chunk as aiohttp inflates it, Refused past the cap
        (nothing more is read). The loop runs every `_YIELD_EVERY` bytes: aiohttp inflates
        buffered input as fast as it is read, so a gzip bomb would otherwise hold the loop
        until the cap."""
        cap = self._max_body
        chunks = []
        size = 0
        pause_at = _YIELD_EVERY
        async for chunk in response.content.iter_any():
            size += len(chunk)
            if size > cap:
                response.close()  # the connection: nothing more is read from it
                raise Refused(f"the body passed max_body_size={cap:,} bytes (decompressed)")
            chunks.append(chunk)
            if size >= pause_at:
                pause_at = size + _YIELD_EVERY
                await asyncio.sleep(0)
        return b"".join(chunks)

    async def aclose(self) -> None:
        """Close the session if it is the client's own; idempotent. Later sends raise."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self.owned:
            await session.close()

    @property
    def closed(self) -> bool:
        """True once `aclose()` was called."""
        return self._closed


def _late(call: Call, deadline: Deadline, cause: TransportError | None) -> Reply:
    """The reply of an attempt the deadline ended (its cause: the attempt's own error), or
    left no time for (then the phase is the one that used the time up)."""
    request = call.request
    error = deadline.exceeded(method=request.method, url=request.redacted_url())
    error.__cause__ = cause
    return Reply(error=error, failure=None if cause is None else cause.failure)
