"""The transport: runs the request pipeline and owns (or borrows) the aiohttp session."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Mapping
from typing import Any, TypeVar

import aiohttp
from yarl import URL

from ._constants import LOGGER_NAME, USER_AGENT
from ._decode import decode, gather_templated_parts
from ._errors import TransportError, error_from_response
from ._options import ClientOptions
from ._requester import Operation
from ._stats import Stats
from ._urls import APPEND_TO_RESPONSE, PreparedRequest, build_request

__all__ = ["Response", "Transport"]

T = TypeVar("T")

Response = tuple[int, Mapping[str, str], bytes]
"""What the network seam returns: HTTP status, headers, body."""

logger = logging.getLogger(LOGGER_NAME)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    try:
        seconds = float(headers.get("Retry-After", ""))
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


class Transport:
    """Perform TMDB operations: validate, authenticate, send, map errors, decode.

    The aiohttp session is created on the first request, inside the running loop, and closed
    by `aclose()`. A session passed in the options is borrowed and never closed.
    """

    def __init__(self, options: ClientOptions) -> None:
        self._options = options
        self._credentials = options.credentials
        self._base_url = URL(options.base_url)
        self._session = options.session
        self._owns_session = options.session is None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self.stats = Stats()
        self._headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **self._credentials.headers(),
        }
        self._auth_query = self._credentials.query()
        self._defaults = {
            name: value
            for name, value in (("language", options.language), ("region", options.region))
            if value is not None
        }

    @property
    def closed(self) -> bool:
        """True once `aclose()` was called."""
        return self._closed

    async def request(
        self,
        operation: Operation[T],
        path_args: tuple[object, ...],
        query: Mapping[str, object],
        body: Mapping[str, object] | None = None,
    ) -> T:
        """Send `operation` with these arguments and return the decoded response."""
        if self._closed:
            raise RuntimeError("this TMDB client is closed; create a new one")
        prepared = build_request(
            self._base_url, operation, path_args, self._with_defaults(operation, query), body
        )
        cached = await self._cache_lookup(operation, prepared)
        if cached is not None:
            return self._decode(cached, operation, prepared)
        status, headers, payload = await self._fetch(prepared)
        if not 200 <= status < 300:
            raise error_from_response(
                status,
                payload,
                prepared.redacted_url(),
                method=prepared.method,
                retry_after=_retry_after(headers),
            )
        await self._cache_store(operation, prepared, payload)
        return self._decode(payload, operation, prepared)

    def _with_defaults(
        self, operation: Operation[Any], query: Mapping[str, object]
    ) -> Mapping[str, object]:
        """Add the client's `language`/`region` where the operation takes them, unless given."""
        if not self._defaults:
            return query
        missing = {
            param.name: self._defaults[param.name]
            for param in operation.query_params
            if param.name in self._defaults and query.get(param.name) is None
        }
        return {**query, **missing} if missing else query

    async def _cache_lookup(
        self, operation: Operation[Any], prepared: PreparedRequest
    ) -> bytes | None:
        """Return cached response bytes (GET only, by `cache_key`; the cache: issue 5)."""
        return None

    async def _cache_store(
        self, operation: Operation[Any], prepared: PreparedRequest, payload: bytes
    ) -> None:
        """Keep `payload` for the TTL of the operation's cache class (the cache: issue 5)."""

    async def _fetch(self, prepared: PreparedRequest) -> Response:
        """Get the response: single-flight, rate limiter and retries wrap `_send` (issue 4)."""
        url = prepared.url.update_query(self._auth_query) if self._auth_query else prepared.url
        headers = self._headers
        if prepared.body is not None:
            headers = {**headers, "Content-Type": "application/json;charset=utf-8"}
        safe_url = prepared.redacted_url()
        return await self._send(prepared.method, url, headers, prepared.body, safe_url=safe_url)

    async def _send(
        self,
        method: str,
        url: URL,
        headers: Mapping[str, str],
        body: bytes | None,
        *,
        safe_url: str,
    ) -> Response:
        """Send one HTTP request: the only code that touches the network.

        `safe_url` is `url` without credentials: the only form that is logged or put in errors.
        """
        session = self._ensure_session()
        try:
            # raise_for_status=False: a borrowed session may enable it; statuses are mapped above.
            async with session.request(
                method,
                url,
                headers=headers,
                data=body,
                timeout=self._options.timeout,
                raise_for_status=False,
            ) as response:
                payload = await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as err:
            logger.debug("%s %s failed: %s", method, safe_url, type(err).__name__)
            reason = self._credentials.redact(str(err)) or "timed out"
            raise TransportError(
                f"{method} {safe_url} failed: {type(err).__name__}: {reason}",
                url=safe_url,
                method=method,
            ) from err
        logger.debug("%s %s -> %d (%d bytes)", method, safe_url, response.status, len(payload))
        return response.status, response.headers, payload

    def _decode(self, payload: bytes, operation: Operation[T], prepared: PreparedRequest) -> T:
        url = prepared.redacted_url()
        result = decode(payload, operation.response_type, url=url, method=prepared.method)
        if operation.append_templates:
            result = gather_templated_parts(
                result,
                payload,
                operation.append_templates,
                prepared.url.query.get(APPEND_TO_RESPONSE),
                url=url,
                method=prepared.method,
            )
        return result

    def _ensure_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None:
            self._loop = loop
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._options.max_connections),
                timeout=self._options.timeout,
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        elif self._owns_session and loop is not self._loop:
            raise RuntimeError("this TMDB client was first used in another event loop")
        return self._session

    async def aclose(self) -> None:
        """Close the session if this transport opened it; idempotent."""
        if self._closed:
            return
        self._closed = True
        session, self._session = self._session, None
        if self._owns_session and session is not None:
            await session.close()

    def __del__(self, _warn: Any = warnings.warn) -> None:
        session = getattr(self, "_session", None)
        if getattr(self, "_owns_session", False) and session is not None and not session.closed:
            _warn(
                "unclosed tmdb_async client: use `async with TMDB()` or `await tmdb.aclose()`",
                ResourceWarning,
                source=self,
            )

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<Transport {self._options.base_url} auth={self._credentials.scheme} {state}>"
