"""The `TMDB` facade: options, lifecycle and the lazily created namespaces."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, TypeVar

import aiohttp

from ._cache._policy import CacheClass
from ._constants import DEFAULT_CACHE, MAX_CONNECTIONS, MAX_RETRIES, RATE_LIMIT, TOTAL_TIMEOUT
from ._generated import Namespaces
from ._options import ClientOptions, resolve_options
from ._stats import Stats
from ._transport import Transport

__all__ = ["TMDB"]

_Self = TypeVar("_Self", bound="TMDB")


class TMDB(Namespaces):
    """Async TMDB client: `async with TMDB() as tmdb: await tmdb.movies.details(550)`.

    Credentials come from `access_token`/`api_key`, else from `TMDB_ACCESS_TOKEN`/`TMDB_API_KEY`.
    Every option is validated here, before any I/O; see `resolve_options` for the rules.
    """

    def __init__(
        self,
        *,
        access_token: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        cache: Any = DEFAULT_CACHE,
        cache_ttl: Mapping[CacheClass | str, float] | None = None,
        rate_limit: float | None = RATE_LIMIT,
        max_connections: int = MAX_CONNECTIONS,
        max_retries: int = MAX_RETRIES,
        timeout: float | aiohttp.ClientTimeout = TOTAL_TIMEOUT,
        language: str | None = None,
        region: str | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._options: ClientOptions = resolve_options(
            access_token=access_token,
            api_key=api_key,
            base_url=base_url,
            cache=cache,
            cache_ttl=cache_ttl,
            rate_limit=rate_limit,
            max_connections=max_connections,
            max_retries=max_retries,
            timeout=timeout,
            language=language,
            region=region,
            session=session,
        )
        self._transport = Transport(self._options)
        self._requester = self._transport

    @property
    def options(self) -> ClientOptions:
        """The resolved options of this client."""
        return self._options

    @property
    def stats(self) -> Stats:
        """Counters: requests sent, retries, 429s, coalesced calls, cache hits, errors."""
        return self._transport.stats

    @property
    def closed(self) -> bool:
        """True once the client was closed."""
        return self._transport.closed

    async def aclose(self) -> None:
        """Close the HTTP session if this client opened it; idempotent."""
        await self._transport.aclose()

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        options = self._options
        return (
            f"TMDB(base_url={options.base_url!r}, auth={options.credentials.scheme!r}, "
            f"language={options.language!r}, region={options.region!r})"
        )
