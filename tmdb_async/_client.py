"""The `TMDB` facade: options, lifecycle and the lazily created namespaces."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar, overload

import aiohttp
from yarl import URL

from ._auth import UserAuth
from ._constants import (
    DEFAULT_CACHE,
    FETCH_MANY_CONCURRENCY,
    MAX_BODY_SIZE,
    MAX_CONNECTIONS,
    MAX_RETRIES,
    PAGINATE_CONCURRENCY,
    RATE_LIMIT,
    TOTAL_TIMEOUT,
)
from ._errors import AuthenticationError, ParameterError, TMDBError
from ._generated import Namespaces
from ._images import ImageKind, ImageUrls
from ._operation import CacheClass
from ._options import ClientOptions, derive_options, resolve_options
from ._pagination import fetch_many, paginate, paging_arguments
from ._response import Response, fetch_response
from ._sessions import (
    GuestSession,
    SessionRequester,
    UserSession,
    access_approval_url,
    approval_url,
)
from ._stats import Stats
from ._transport import Transport
from .models import Page

__all__ = ["TMDB"]

_Self = TypeVar("_Self", bound="TMDB")


class _Unset(enum.Enum):
    UNSET = enum.auto()


UNSET = _Unset.UNSET
"""`with_options()` default: keep this client's value (None would mean "no value")."""
K = TypeVar("K")
P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class TMDB(Namespaces):
    """Async TMDB client: `async with TMDB() as tmdb: await tmdb.movies.details(550)`.

    Credentials come from `access_token`/`api_key`, else from `TMDB_ACCESS_TOKEN`/`TMDB_API_KEY`.
    Every option is validated here, before any I/O; `_options.OPTIONS` describes each.
    `rate_limit_store="redis://..."` shares the `rate_limit` budget with other processes
    (per machine by default; `rate_limit_scope="global"` for one budget everywhere).
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
        max_body_size: int = MAX_BODY_SIZE,
        proxy: str | URL | None = None,
        rate_limit_store: str | None = None,
        rate_limit_scope: str | None = None,
        deadline: float | None = None,
    ) -> None:
        """Make a client; every option is checked here, before any I/O (ParameterError).

        Args:
            access_token: TMDB's API read access token, sent as a bearer header (preferred over
                api_key)
            api_key: TMDB's v3 API key, sent in the query when there is no access token
            base_url: where TMDB's API is (a proxy, a FakeTMDB); default https://api.themoviedb.org
            cache: "memory" (a bounded LRU), a redis:// URL (memory in front of Redis), None (no
                cache), or a cache instance
            cache_ttl: seconds a response is kept, per cache class ({"detail": 3600}); at most six
                months
            rate_limit: requests per second (a token bucket that slows down on 429s); None: no limit
            max_connections: simultaneous connections to TMDB
            max_retries: retries after a call's first attempt (429, 5xx, connection errors,
                timeouts)
            timeout: seconds one attempt may take (connecting: at most 10), or an
                aiohttp.ClientTimeout
            language: the `language` of every operation that takes one, unless given (e.g. de-DE)
            region: the `region` of every operation that takes one, unless given (e.g. US)
            session: an aiohttp.ClientSession of yours, used as you configured it and never closed
            max_body_size: bytes a response body may have, decompressed
            proxy: an http:// proxy; None: HTTPS_PROXY, HTTP_PROXY and NO_PROXY from the environment
            rate_limit_store: a redis:// URL: share the rate_limit budget with other processes
                through it
            rate_limit_scope: who shares the budget in rate_limit_store: "host" (the default),
                "global" or a name
            deadline: seconds a whole call may take (rate limit queue, attempts, back-off); None: no
                bound
        """
        # Every parameter is an option of `OPTIONS` (a test holds the two together).
        keywords = dict(locals())
        del keywords["self"]
        options = resolve_options(**keywords)
        self._bind(options, Transport(options), ImageUrls())

    @property
    def options(self) -> ClientOptions:
        """The resolved options of this client."""
        return self._options

    def with_options(
        self,
        *,
        cache_ttl: Mapping[CacheClass | str, float] | None = None,
        language: str | _Unset | None = UNSET,
        region: str | _Unset | None = UNSET,
        deadline: float | _Unset | None = UNSET,
    ) -> TMDB:
        """A client with another language, region, cache TTLs or deadline (None: none) that
        shares this one's connection pool, rate limiter, cache and stats (closing it closes
        nothing shared)."""
        arguments = dict(locals())
        del arguments["self"]
        changes = {name: value for name, value in arguments.items() if value is not UNSET}
        options = derive_options(self._options, **changes)
        derived = type(self).__new__(type(self))
        derived._bind(options, self._transport.derive(options), self._images)
        return derived

    def as_user(self, access_token: str, *, account_id: str | None = None) -> TMDB:
        """A view of this client acting for a user: every request carries the user's v4
        access token, and `account_object_id` parameters default to `account_id`.

        `access_token` and `account_id` are what `v4.auth.create_access_token` answers once
        the user approved a request token. The view shares this client's connection pool,
        rate limiter, cache and stats (closing it closes nothing shared); what it reads is
        never cached and is coalesced only with the same user's identical calls. The token
        appears in no cache key, log, repr, error or trace span.
        """
        auth = UserAuth(access_token, account_id)
        derived = type(self).__new__(type(self))
        derived._bind(self._options, self._transport.as_user(auth), self._images)
        return derived

    @property
    def account_id(self) -> str | None:
        """The account object id of the user this view acts for (see `as_user`); None for
        the application's own client, or a user view made without one."""
        auth = self._transport.auth
        return None if auth is None else auth.account_id

    def _bind(self, options: ClientOptions, transport: Transport, images: ImageUrls) -> None:
        self._options = options
        self._transport = transport
        self._requester = transport.requester
        self._images = images

    @property
    def stats(self) -> Stats:
        """Counters: requests sent, retries, 429s, coalesced calls, cache hits, errors."""
        return self._transport.stats

    async def cache_clear(self) -> None:
        """Delete every cached response (memory and Redis), as TMDB's terms require on exit.

        Only this library's keys (`tmdb:*`) are deleted from a shared Redis; a failure raises.
        """
        await self._transport.cache_clear()

    @property
    def closed(self) -> bool:
        """True once the client was closed."""
        return self._transport.closed

    async def aclose(self) -> None:
        """Close the HTTP session if this client opened it; idempotent."""
        await self._transport.aclose()

    async def response(
        self, method: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> Response[T]:
        """Call an operation and get TMDB's body with the model: `Response.body` (the bytes
        TMDB sent), `.value`, and `.drops` (what of the body the model lacks).

        `await tmdb.response(tmdb.movies.details, 550, append_to_response=["credits"])`:
        any operation of this client, a derived one or a session, with its own arguments,
        through the same cache, rate limit, retries and coalescing.
        """
        return await fetch_response(method, *args, **kwargs)

    def fetch_many(
        self,
        method: Callable[Concatenate[K, P], Awaitable[R]],
        ids: Iterable[K] | AsyncIterable[K],
        concurrency: int | None = None,
        ordered: bool = False,
        *args: P.args,
        **params: P.kwargs,
    ) -> AsyncIterator[tuple[K, R | TMDBError]]:
        """Call `method(id, **params)` for every id through a sliding window of `concurrency`.

        Yields `(id, result)` or `(id, TMDBError)` as each finishes (input order with
        `ordered=True`); one failing id never stops the run. Default window: `max_connections`.
        `params` are `method`'s own keywords, checked by type checkers like a direct call.
        """
        default = min(self._options.max_connections, FETCH_MANY_CONCURRENCY)
        window = default if concurrency is None else concurrency
        return fetch_many(method, ids, window, ordered, *args, **params)

    @overload
    def paginate(
        self,
        method: Callable[Concatenate[K, P], Awaitable[Page[T]]],
        path_arg: K,
        /,
        max_pages: int | None = None,
        max_items: int | None = None,
        start_page: int = 1,
        *args: P.args,
        **params: P.kwargs,
    ) -> AsyncIterator[T]: ...

    @overload
    def paginate(
        self,
        method: Callable[P, Awaitable[Page[T]]],
        /,
        max_pages: int | None = None,
        max_items: int | None = None,
        start_page: int = 1,
        *args: P.args,
        **params: P.kwargs,
    ) -> AsyncIterator[T]: ...

    def paginate(
        self, method: Callable[..., Awaitable[Page[T]]], /, *args: Any, **params: Any
    ) -> AsyncIterator[T]:
        """Yield every item of every page of `method(*args, **params)`, in order.

        `start_page` first (default 1), then the next pages a few at a time; stops at TMDB's
        500-page cap, at `max_pages` and at `max_items`. Give the paging options by keyword:
        `paginate(tmdb.movies.similar, 550, max_pages=3, language="de")`; given by position,
        they follow `method`'s path argument (when it takes one of that type), as the type
        checker reads them: `paginate(tmdb.movie_lists.popular, 5)` is 5 pages. `page=` is
        refused (ParameterError): the pages are paginate's to ask for.
        """
        path_args, options = paging_arguments(method, args, params)
        return paginate(method, *path_args, concurrency=PAGINATE_CONCURRENCY, **options, **params)

    def image_url(
        self, file_path: str | None, size: str, kind: ImageKind | None = None
    ) -> str | None:
        """The URL of an image (`None` for a missing path); `size` is checked for `kind`."""
        return self._images.url(file_path, size, kind)

    def poster_url(self, file_path: str | None, size: str = "w500") -> str | None:
        """A poster URL; sizes w92 ... w780, original."""
        return self._images.url(file_path, size, "poster")

    def backdrop_url(self, file_path: str | None, size: str = "w1280") -> str | None:
        """A backdrop URL; sizes w300, w780, w1280, original."""
        return self._images.url(file_path, size, "backdrop")

    def profile_url(self, file_path: str | None, size: str = "w185") -> str | None:
        """A profile (person) URL; sizes w45, w185, h632, original."""
        return self._images.url(file_path, size, "profile")

    def still_url(self, file_path: str | None, size: str = "w300") -> str | None:
        """An episode still URL; sizes w92, w185, w300, original."""
        return self._images.url(file_path, size, "still")

    def logo_url(self, file_path: str | None, size: str = "w185") -> str | None:
        """A logo URL; sizes w45 ... w500, original (SVG logos always at original)."""
        return self._images.url(file_path, size, "logo")

    async def refresh_image_config(self) -> None:
        """Load image base URL and sizes from `configuration.details` (cached as static).

        Until then the documented defaults are used, so image URLs work offline.
        """
        configuration = await self.configuration.details()
        if configuration.images is not None:
            self._images = ImageUrls(configuration.images)

    def user_session(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        request_token: str | None = None,
        session_id: str | None = None,
        access_token: str | None = None,
    ) -> UserSession:
        """This client acting as a user: `async with tmdb.user_session(...) as me: ...`.

        Give `username` and `password` (TMDB's `validate_with_login`), a `request_token` the
        user approved at `approval_url(token)`, an existing `session_id`, or a v4 user
        `access_token` (from `v4.auth.create_access_token`), which TMDB converts into a v3
        session (`POST /3/authentication/session/convert/4`). The session starts on entry;
        one created here is deleted when the block ends.
        """
        given = (session_id, request_token, access_token)
        if all(value is None for value in given) and not (username and password):
            raise ParameterError(
                "user_session() needs username and password, a request_token, a session_id"
                " or a v4 access_token"
            )

        async def login() -> str:
            if session_id is not None:
                return session_id
            if access_token is not None:
                converted = await self.authentication.create_session_from_v4_token(
                    access_token=access_token
                )
                if not converted.session_id:
                    raise AuthenticationError("TMDB created no session")
                return converted.session_id
            token = request_token
            if token is None:
                created = await self.authentication.create_request_token()
                validated = await self.authentication.create_session_with_login(
                    username=username or "",
                    password=password or "",
                    request_token=created.request_token or "",
                )
                token = validated.request_token or created.request_token or ""
            session = await self.authentication.create_session(request_token=token)
            if not session.session_id:
                raise AuthenticationError("TMDB created no session")
            return session.session_id

        async def logout(sid: str) -> None:
            await self.authentication.delete_session(session_id=sid)

        requester = SessionRequester(self._transport.requester, "session_id")
        return UserSession(requester, login, None if session_id is not None else logout)

    def guest_session(self) -> GuestSession:
        """This client as a new guest session: `async with tmdb.guest_session() as guest: ...`."""

        async def login() -> str:
            guest = await self.authentication.create_guest_session()
            if not guest.guest_session_id:
                raise AuthenticationError("TMDB created no guest session")
            return guest.guest_session_id

        return GuestSession(
            SessionRequester(self._transport.requester, "guest_session_id"), login, None
        )

    @staticmethod
    def approval_url(request_token: str, redirect_to: str | None = None) -> str:
        """Where a user approves a v3 request token (`authentication.create_request_token()`)."""
        return approval_url(request_token, redirect_to)

    @staticmethod
    def v4_approval_url(request_token: str) -> str:
        """Where a user approves a v4 request token (`v4.auth.create_request_token()`):
        `https://www.themoviedb.org/auth/access?request_token=...`."""
        return access_approval_url(request_token)

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
        auth = self._transport.auth
        scheme = options.credentials.scheme if auth is None else "user"
        user = "" if auth is None else f", account_id={auth.account_id!r}"
        return (
            f"TMDB(base_url={options.base_url!r}, auth={scheme!r}{user}, "
            f"language={options.language!r}, region={options.region!r})"
        )
