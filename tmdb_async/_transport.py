"""The transport: assembles the request pipeline (`_pipeline`) and owns what it opens."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, TypeVar

from ._auth import UserAuth
from ._cache import ResponseCache, make_cache
from ._clock import Clock, LoopClock
from ._operation import Operation
from ._options import ClientOptions
from ._pipeline._types import Reply, Stage
from ._pipeline.caching import Caching
from ._pipeline.coalescing import Coalescing
from ._pipeline.decoding import Decoding, DriftWatch, ToleranceReport
from ._pipeline.limiting import Limiting
from ._pipeline.prepare import Prepare
from ._pipeline.retrying import Retrying
from ._pipeline.wire import Wire
from ._ratelimit import Limiter, make_limiter
from ._retry import RetryPolicy
from ._singleflight import SingleFlight
from ._stats import Stats

__all__ = ["Transport"]

T = TypeVar("T")


class Transport:
    """Perform TMDB operations through the pipeline; open lazily, close once.

    The aiohttp session is created on the first request, inside the running loop, and closed
    by `aclose()`; a session passed in the options is borrowed and never closed.
    """

    def __init__(
        self,
        options: ClientOptions,
        *,
        clock: Clock | None = None,
        retry_policy: RetryPolicy | None = None,
        limiter: Limiter | None = None,
        parent: Transport | None = None,
        auth: UserAuth | None = None,
    ) -> None:
        """`clock`, `retry_policy` and `limiter` (any `Limiter`, in place of the one the rate
        options ask for) are injectable; `options.max_retries` applies.

        With `parent` (see `derive`), everything below the prepare stage is the parent's: the
        session, limiter, in-flight calls, cache and stats. With `auth`, every call acts for
        that user (see `as_user`).
        """
        self._options = options
        self._parent = parent
        self.auth = auth
        """The user every call acts for; None: the application."""
        self._closed = False
        self._wire: Wire
        self._limiter: Limiter | None
        self._flights: SingleFlight[Any, Reply]
        self._cache: ResponseCache | None
        self._chain: Stage
        self.stats: Stats
        self._report: ToleranceReport
        self._clock: Clock = parent._clock if parent is not None else clock or LoopClock()
        if parent is not None:
            self._report = parent._report
            self._wire, self._limiter, self._flights = (
                parent._wire,
                parent._limiter,
                parent._flights,
            )
            self._cache, self._chain, self.stats = parent._cache, parent._chain, parent.stats
        else:
            self._build(options, self._clock, retry_policy, limiter)
        self.requester = Prepare(
            self._chain,
            base_url=options.base_url,
            language=options.language,
            region=options.region,
            cache_ttl=None if self._cache is None else options.cache_ttl,
            stats=self.stats,
            closed=self._is_closed,
            report=self._report,
            deadline=options.deadline,
            now=self._clock.now,
            auth=auth,
        )
        """The pipeline's entry: the `Requester` that generated namespaces call."""

    def _build(
        self,
        options: ClientOptions,
        clock: Clock,
        policy: RetryPolicy | None,
        limiter: Limiter | None,
    ) -> None:
        """Assemble the stages, innermost first."""
        self.stats = stats = Stats()
        self._report = ToleranceReport(stats)
        self._wire = Wire(options, stats)
        chain: Stage = Decoding(self._wire, clock.wall, DriftWatch(stats))
        if limiter is None:
            limiter = make_limiter(
                options.rate_limit,
                store=options.rate_limit_store,
                scope=options.rate_limit_scope,
                clock=clock,
            )
        self._limiter = limiter
        if self._limiter is not None:
            chain = Limiting(chain, self._limiter)
        policy = policy or RetryPolicy(max_retries=options.max_retries)
        chain = Retrying(chain, policy, clock, stats)
        self._flights = SingleFlight()
        chain = Coalescing(chain, self._flights, stats)
        self._cache = make_cache(options.cache, stats=stats, wall=clock.wall, monotonic=clock.now)
        if self._cache is not None:
            chain = Caching(chain, self._cache, stats, clock.wall)
        self._chain = chain

    @property
    def closed(self) -> bool:
        """True once `aclose()` was called (on this transport or the one it derives from)."""
        return self._is_closed()

    def _is_closed(self) -> bool:
        return self._closed or (self._parent is not None and self._parent._closed)

    def derive(self, options: ClientOptions) -> Transport:
        """A transport with other per-request options (language, region, TTLs) that shares
        this one's session, rate limiter, in-flight requests, cache and stats (and acts for
        the same user, if any)."""
        return Transport(options, parent=self._parent or self, auth=self.auth)

    def as_user(self, auth: UserAuth) -> Transport:
        """A transport that shares everything of this one but acts for the user of `auth`."""
        return Transport(self._options, parent=self._parent or self, auth=auth)

    async def request(
        self,
        operation: Operation[T],
        path_args: tuple[object, ...],
        query: Mapping[str, object],
        body: Mapping[str, object] | None = None,
    ) -> T:
        """Send `operation` with these arguments and return the decoded response."""
        return await self.requester.request(operation, path_args, query, body)

    async def cache_clear(self) -> None:
        """Delete every cached response, in memory and in Redis."""
        if self._cache is not None:
            await self._cache.clear()

    async def aclose(self) -> None:
        """Close the session (a borrowed one is left open), the cache and the limiter;
        idempotent. A derived transport only stops itself: the rest is its parent's."""
        if self._closed:
            return
        self._closed = True
        if self._parent is not None:
            return
        if self._cache is not None:
            await self._cache.aclose()
        if self._limiter is not None:
            await self._limiter.aclose()
        await self._wire.aclose()

    def __del__(self, _warn: Any = warnings.warn) -> None:
        wire = getattr(self, "_wire", None)
        if getattr(self, "_parent", True) is not None or wire is None or not wire.owned:
            return
        if wire.session is not None and not wire.session.closed:
            _warn(
                "unclosed tmdb_async client: use `async with TMDB()` or `await tmdb.aclose()`",
                ResourceWarning,
                source=self,
            )

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        options = self._options
        scheme = options.credentials.scheme if self.auth is None else "user"
        return f"<Transport {options.base_url} auth={scheme} {state}>"
