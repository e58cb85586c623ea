"""The transport: runs the request pipeline and owns its connection pool (or borrows a session)."""

from __future__ import annotations

import hashlib
import logging
import warnings
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec
from yarl import URL

from ._cache import NO_LOOKUP, Lookup, NotModified, ResponseCache, make_cache
from ._cache._policy import is_not_found, request_cache_class
from ._clock import Clock, LoopClock
from ._constants import LOGGER_NAME, USER_AGENT
from ._decode import decode, decoder_for, gather_templated_parts
from ._errors import DecodeError, NotFoundError, TMDBError, TransportError, error_from_response
from ._options import ClientOptions
from ._ratelimit import Limiter, make_limiter
from ._requester import Operation
from ._retry import Failure, Outcome, RetryPolicy, decide, parse_retry_after
from ._singleflight import SingleFlight
from ._stats import Stats
from ._urls import APPEND_TO_RESPONSE, PreparedRequest, build_request
from ._wire import WIRE_ERRORS, Response, SessionWire, Wire, failure_of, open_pool

__all__ = ["Response", "Transport"]

T = TypeVar("T")

logger = logging.getLogger(LOGGER_NAME)


_PLAIN = frozenset({int, str, type(None)})
"""Argument types whose calls `Transport._prepare` remembers (exact types: not bool, enums)."""
_MEMO_SIZE = 1024
"""Requests remembered per transport; the memo is emptied when full (cheaper than an LRU)."""


def _truncated(err: DecodeError) -> bool:
    # msgspec says "Input data was truncated" when the JSON ends early: a cut body, not bad JSON.
    cause = err.__cause__
    return isinstance(cause, msgspec.DecodeError) and "truncated" in str(cause)


def _not_found_body(err: NotFoundError) -> bytes:
    """TMDB's error body, rebuilt from the error, to remember a 404 in the cache."""
    return msgspec.json.encode(
        {"success": False, "status_code": err.status_code, "status_message": err.status_message}
    )


class Transport:
    """Perform TMDB operations: validate, authenticate, send, map errors, decode.

    The connection pool is opened on the first request, inside the running loop, and closed
    by `aclose()`. An aiohttp session passed in the options is borrowed and never closed.
    """

    def __init__(
        self,
        options: ClientOptions,
        *,
        clock: Clock | None = None,
        retry_policy: RetryPolicy | None = None,
        parent: Transport | None = None,
    ) -> None:
        """`clock` and `retry_policy` are injectable for tests; `options.max_retries` applies.

        With `parent` (see `derive`), the pool, limiter, in-flight map, cache and stats are
        the parent's.
        """
        self._options = options
        self._parent = parent
        self._closed = False
        self._credentials = options.credentials
        self._base_url = URL(options.base_url)
        self._wire: Wire | None = None
        self._clock: Clock
        self._policy: RetryPolicy
        self._limiter: Limiter | None
        self._flights: SingleFlight[tuple[str, str], tuple[bytes, Any, Mapping[str, str]]]
        self._cache: ResponseCache | None
        self.stats: Stats
        if parent is not None:
            self._clock, self._policy = parent._clock, parent._policy
            self._limiter, self._flights = parent._limiter, parent._flights
            self._cache, self.stats = parent._cache, parent.stats
        else:
            self._clock = clock or LoopClock()
            self._policy = retry_policy or RetryPolicy(max_retries=options.max_retries)
            self._limiter = make_limiter(
                options.rate_limit,
                store=options.rate_limit_store,
                scope=options.rate_limit_scope,
                clock=self._clock,
            )
            self._flights = SingleFlight()
            self.stats = Stats()
            self._cache = make_cache(
                options.cache, stats=self.stats, wall=self._clock.wall, monotonic=self._clock.now
            )
        self._headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            **self._credentials.headers(),
        }
        self._auth_query = self._credentials.query()
        # Single-flight keys are scoped by the credentials, without holding them in clear.
        secret = repr(sorted({**self._credentials.headers(), **self._auth_query}.items()))
        self._scope = hashlib.blake2b(secret.encode(), digest_size=8).hexdigest()
        self._memo: dict[tuple[Any, ...], tuple[Operation[Any], PreparedRequest, Any]] = {}
        self._defaults = {
            name: value
            for name, value in (("language", options.language), ("region", options.region))
            if value is not None
        }

    @property
    def closed(self) -> bool:
        """True once `aclose()` was called (on this transport or the one it derives from)."""
        return self._closed or (self._parent is not None and self._parent.closed)

    def derive(self, options: ClientOptions) -> Transport:
        """A transport with other per-request options (language, region, TTLs) that shares
        this one's connection pool, rate limiter, in-flight requests, cache and stats."""
        return Transport(options, parent=self._parent or self)

    async def request(
        self,
        operation: Operation[T],
        path_args: tuple[object, ...],
        query: Mapping[str, object],
        body: Mapping[str, object] | None = None,
    ) -> T:
        """Send `operation` with these arguments and return the decoded response."""
        if self.closed:
            raise RuntimeError("this TMDB client is closed; create a new one")
        try:
            query = self._with_defaults(operation, query)
            if self._cache is None:  # no memo, no lookup coroutine, no store call
                prepared = build_request(self._base_url, operation, path_args, query, body)
                lookup = NO_LOOKUP
            else:
                prepared, where = self._prepare(operation, path_args, query, body)
                lookup = NO_LOOKUP if where is None else await self._cache.lookup(*where)
            if lookup.fresh:
                return self._cached(lookup, operation, prepared)
            try:
                payload, value, headers = await self._fetch(operation, prepared, lookup.validators)
            except NotModified as not_modified:
                payload, value, headers = await self._revalidated(
                    lookup, not_modified, operation, prepared
                )
            except NotFoundError as err:
                await self._cache_store(lookup, 404, _not_found_body(err), {})
                raise
            if lookup.key is not None:
                await self._cache_store(lookup, 200, payload, headers)
        except TMDBError as err:
            self.stats.errors[type(err).__name__] += 1
            raise
        return value

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

    def _prepare(
        self,
        operation: Operation[Any],
        path_args: tuple[object, ...],
        query: Mapping[str, object],
        body: Mapping[str, object] | None,
    ) -> tuple[PreparedRequest, tuple[str, float] | None]:
        """`build_request` and `_cache_where`, remembered for calls made of plain values.

        Both are pure functions of the arguments (the base URL and TTLs are this transport's),
        and a cache hit is by nature a repeated call: this is most of a hit's cost. Only exact
        int/str/None arguments of cacheable requests are remembered (never `True`, equal to 1
        but not valid as one); anything else, and every ParameterError, takes the full path.
        """
        memo = self._memo
        key: tuple[Any, ...] | None = None
        if body is None and all(type(v) in _PLAIN for v in (*path_args, *query.values())):
            key = (id(operation), path_args, tuple(query.items()))
            known = memo.get(key)
            if known is not None and known[0] is operation:
                return known[1], known[2]
        prepared = build_request(self._base_url, operation, path_args, query, body)
        where = self._cache_where(operation, prepared)
        # Only cacheable requests: the others go to the network anyway, and may carry a session
        # id (a secret) that is better not kept around.
        if key is not None and where is not None:
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            memo[key] = (operation, prepared, where)
        return prepared, where

    def _cache_where(
        self, operation: Operation[Any], prepared: PreparedRequest
    ) -> tuple[str, float] | None:
        """The cache key and class TTL of a request; None when its class (or a session in it)
        says never."""
        cache = self._cache
        if cache is None or prepared.secret_segments:
            return None
        url = prepared.url
        cache_class = request_cache_class(
            operation.cache_class,
            prepared.method,
            operation.path,
            url.query.items() if url.raw_query_string else (),
        )
        class_ttl = self._options.cache_ttl.get(cache_class, 0.0)
        if class_ttl <= 0:
            return None
        return cache.built_key(prepared.method, url), class_ttl

    def _cached(self, lookup: Lookup, operation: Operation[T], prepared: PreparedRequest) -> T:
        """Decode a fresh entry; a remembered 404 is raised again, as TMDB would answer."""
        entry = lookup.entry
        assert entry is not None
        if entry.status != 200:
            raise error_from_response(
                entry.status, entry.body, prepared.redacted_url(), method=prepared.method
            )
        return self._decode(entry.body, operation, prepared)

    async def _revalidated(
        self,
        lookup: Lookup,
        not_modified: NotModified,
        operation: Operation[T],
        prepared: PreparedRequest,
    ) -> tuple[bytes, T, Mapping[str, str]]:
        """After a 304, serve and refresh the stale entry (without a body download)."""
        if lookup.entry is None or self._cache is None:
            # A caller coalesced onto another's conditional GET, without a stale entry of its own.
            return await self._fetch(operation, prepared)
        payload = await self._cache.revalidated(lookup, not_modified.headers)
        return payload, self._decode(payload, operation, prepared), not_modified.headers

    async def _cache_store(
        self, lookup: Lookup, status: int, payload: bytes, headers: Mapping[str, str]
    ) -> None:
        """Keep a decoded 200 for its TTL, or a 404 (TMDB code 34) for CACHE_NEGATIVE_TTL."""
        if self._cache is None or lookup.key is None:
            return
        if status == 404 and not is_not_found(status, payload):
            return
        await self._cache.store(lookup, status, payload, headers)

    async def cache_clear(self) -> None:
        """Delete every cached response, in memory and in Redis."""
        if self._cache is not None:
            await self._cache.clear()

    async def _fetch(
        self,
        operation: Operation[T],
        prepared: PreparedRequest,
        validators: Mapping[str, str] | None = None,
    ) -> tuple[bytes, T, Mapping[str, str]]:
        """Get a successful response body and its decoded value (issue 4).

        Identical concurrent GETs share one `_attempts` run (single-flight); every caller but
        the first decodes its own copy of the shared bytes.
        """
        if prepared.method != "GET":
            return await self._attempts(operation, prepared)
        # build_request's URL is already normalised (sorted query, sorted append parts), and
        # it carries any session id: with the credentials' hash it scopes the flight.
        key = (str(prepared.url), self._scope)
        (payload, value, headers), shared = await self._flights.run(
            key, lambda: self._attempts(operation, prepared, validators)
        )
        if shared:
            self.stats.coalesced += 1
            return payload, self._decode(payload, operation, prepared), headers
        return payload, value, headers

    async def _attempts(
        self,
        operation: Operation[T],
        prepared: PreparedRequest,
        validators: Mapping[str, str] | None = None,
    ) -> tuple[bytes, T, Mapping[str, str]]:
        """Send through the rate limiter, retrying by the policy, until success or a final error."""
        method = prepared.method
        url = prepared.url.update_query(self._auth_query) if self._auth_query else prepared.url
        headers: Mapping[str, str] = {}  # the wire adds the client's own to every request
        if prepared.body is not None:
            headers = {**headers, "Content-Type": "application/json;charset=utf-8"}
        if validators:
            headers = {**headers, **validators}  # a conditional GET (the cache's revalidation)
        # The redacted URL is only needed for errors and logs: built when one happens.
        clock, limiter, stats = self._clock, self._limiter, self.stats
        started = clock.now()
        attempt = 0
        while True:
            attempt += 1
            if limiter is not None:
                await limiter.acquire()
            stats.requests += 1
            if attempt > 1:
                stats.retries += 1
            error: TMDBError
            try:
                status, response_headers, payload = await self._send(
                    method, url, headers, prepared.body, prepared=prepared
                )
            except TransportError as err:
                error, outcome = err, Outcome(method, failure=failure_of(err.__cause__))
            else:
                if status != 429 and limiter is not None:
                    limiter.on_success()
                if status == 304 and validators:
                    raise NotModified(response_headers)
                if 200 <= status < 300:
                    try:
                        return payload, self._decode(payload, operation, prepared), response_headers
                    except DecodeError as err:
                        if not _truncated(err):
                            err.attempts = attempt
                            raise
                        error, outcome = err, Outcome(method, status, Failure.BODY)
                else:
                    retry_after = parse_retry_after(
                        response_headers.get("retry-after"), clock.wall()
                    )
                    error = error_from_response(
                        status,
                        payload,
                        prepared.redacted_url(),
                        method=method,
                        retry_after=retry_after,
                    )
                    if status == 429:
                        stats.rate_limited += 1
                        if limiter is not None:
                            limiter.on_rate_limited(retry_after)
                    outcome = Outcome(method, status, None, error.status_code, retry_after)
            delay = decide(self._policy, outcome, attempt, clock.now() - started)
            if delay is None:
                error.attempts = attempt
                raise error
            logger.info(
                "%s %s: %s; retry %d of %d in %.2fs",
                method,
                prepared.redacted_url(),
                outcome.status or outcome.failure,
                attempt,
                self._policy.max_retries,
                delay,
            )
            await clock.sleep(delay)

    async def _send(
        self,
        method: str,
        url: URL,
        headers: Mapping[str, str],
        body: bytes | None,
        *,
        prepared: PreparedRequest,
    ) -> Response:
        """Send one HTTP request: the only code that touches the network.

        `prepared.redacted_url()` is `url` without credentials: the only form that is logged or
        put in errors (built only when needed: it is not free).
        """
        wire = self._wire or self._open_wire()
        try:
            status, response_headers, payload = await wire.request(method, url, headers, body)
        except WIRE_ERRORS as err:
            safe_url = prepared.redacted_url()
            logger.debug("%s %s failed: %s", method, safe_url, type(err).__name__)
            reason = self._credentials.redact(str(err)) or "timed out"
            raise TransportError(
                f"{method} {safe_url} failed: {type(err).__name__}: {reason}",
                url=safe_url,
                method=method,
            ) from err
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d (%d bytes)",
                method,
                prepared.redacted_url(),
                status,
                len(payload),
            )
        return status, response_headers, payload

    def _decode(self, payload: bytes, operation: Operation[T], prepared: PreparedRequest) -> T:
        if not operation.append_templates:
            try:
                return decoder_for(operation.response_type).decode(payload)
            except msgspec.DecodeError:
                pass  # the full path below: unknown media types, errors with the URL
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

    def _open_wire(self) -> Wire:
        """The parent's wire, or this transport's own, opened in the running loop."""
        if self.closed:  # a retry that outlived aclose() must not open a new pool
            raise RuntimeError("this TMDB client is closed; create a new one")
        if self._parent is not None:
            self._wire = self._parent._wire or self._parent._open_wire()
            return self._wire
        session, options = self._options.session, self._options
        if session is not None:
            self._wire = SessionWire(session, self._headers, options.timeout)
        else:
            self._wire = open_pool(options.max_connections, options.timeout, self._headers)
        return self._wire

    async def aclose(self) -> None:
        """Close the connection pool (a borrowed session is left open); idempotent.

        A derived transport only stops itself: the pool and cache belong to its parent.
        """
        if self._closed:
            return
        self._closed = True
        if self._parent is not None:
            return
        if self._cache is not None:
            await self._cache.aclose()
        if self._limiter is not None:
            await self._limiter.aclose()
        wire, self._wire = self._wire, None
        if wire is not None:
            await wire.aclose()

    def __del__(self, _warn: Any = warnings.warn) -> None:
        wire = getattr(self, "_wire", None)
        if getattr(self, "_parent", True) is None and wire is not None and not wire.closed:
            _warn(
                "unclosed tmdb_async client: use `async with TMDB()` or `await tmdb.aclose()`",
                ResourceWarning,
                source=self,
            )

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<Transport {self._options.base_url} auth={self._credentials.scheme} {state}>"
