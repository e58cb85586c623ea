"""Client options, resolved once from keyword arguments and the environment, checked before I/O."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import aiohttp
from yarl import URL

from ._cache import CACHE_USAGE, MemoryCache, is_shared_cache
from ._constants import (
    ACCESS_TOKEN_ENV,
    API_KEY_ENV,
    BASE_URL_ENV,
    CONNECT_TIMEOUT,
    DEFAULT_BASE_URL,
    DEFAULT_CACHE,
    DEFAULT_TTLS,
    MAX_BODY_SIZE,
    MAX_CONNECTIONS,
    MAX_RETRIES,
    MAX_TTL,
    RATE_LIMIT,
    TMDB_HOST,
    TOTAL_TIMEOUT,
)
from ._credentials import Credentials
from ._errors import ParameterError
from ._operation import CacheClass
from ._redis import check_redis_url, is_redis_url

_PRINTABLE = re.compile(r"[!-~]+")
"""What TMDB tokens and keys are made of (base64url, dots, hex): no space or control."""

__all__ = ["ClientOptions", "derive_options", "resolve_options"]


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """The resolved, validated configuration of one client (its repr never shows a secret)."""

    credentials: Credentials
    base_url: str
    cache: object = field(repr=False)  # a redis:// URL may hold a password
    cache_ttl: Mapping[CacheClass, float]
    rate_limit: float | None
    max_connections: int
    max_retries: int
    timeout: aiohttp.ClientTimeout
    language: str | None
    region: str | None
    session: aiohttp.ClientSession | None
    max_body_size: int
    proxy: URL | None = field(repr=False)  # may hold the proxy's password
    """The proxy named by `proxy=`; None: the environment's (HTTP(S)_PROXY, NO_PROXY), if any."""
    rate_limit_store: str | None = field(default=None, repr=False)  # may hold a password
    rate_limit_scope: str | None = None
    deadline: float | None = None
    """Seconds one call may take in all (rate limit queue, attempts, back-off); None: no bound."""


def _number(name: str, value: object, *, minimum: float, strict: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value) or value < minimum or (strict and value == minimum):
        bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
        raise ParameterError(f"{name} must be {bound}, got {value!r}")
    return float(value)


def _integer(name: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ParameterError(f"{name} must be >= {minimum}, got {value!r}")
    return value


def _text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or value != value.strip() or " " in value:
        raise ParameterError(f"{name} must be a non-empty string without spaces, got {value!r}")
    return value


def _base_url(value: str) -> str:
    try:
        url = URL(value)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"base_url is not a URL: {value!r}") from err
    if url.scheme not in {"http", "https"} or not url.host:
        raise ParameterError(f"base_url must be an http(s) URL with a host, got {value!r}")
    if url.query_string or url.fragment or url.user or url.password:
        raise ParameterError("base_url must not carry a query, a fragment or credentials")
    return str(url).rstrip("/")


def _timeout(value: object) -> aiohttp.ClientTimeout:
    if isinstance(value, aiohttp.ClientTimeout):
        return value
    total = _number("timeout", value, minimum=0, strict=True)
    return aiohttp.ClientTimeout(total=total, connect=min(CONNECT_TIMEOUT, total))


def _deadline(value: object) -> float | None:
    """A call's whole time budget in seconds, or None (crawls: bounded per attempt only)."""
    return None if value is None else _number("deadline", value, minimum=0, strict=True)


def _cache_ttl(
    value: Mapping[CacheClass | str, float] | None,
    base: Mapping[CacheClass, float] = DEFAULT_TTLS,
) -> Mapping[CacheClass, float]:
    ttls = dict(base)
    for key, seconds in (value or {}).items():
        try:
            cache_class = CacheClass(key)
        except ValueError:
            choices = ", ".join(c.value for c in CacheClass)
            raise ParameterError(f"cache_ttl key must be one of {choices}, got {key!r}") from None
        ttl = _number(f"cache_ttl[{cache_class.value!r}]", seconds, minimum=0, strict=False)
        # TMDB's terms forbid keeping content longer than six months.
        ttls[cache_class] = min(ttl, MAX_TTL)
    return MappingProxyType(ttls)


def _is_memory_cache(value: object) -> bool:
    return value == "memory" or isinstance(value, MemoryCache)


def _cache(value: object) -> object:
    """The `cache=` option, unchanged once it is one of the accepted forms (`CACHE_USAGE`)."""
    if value is None or _is_memory_cache(value) or is_shared_cache(value):
        return value
    if (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and (value[0] is None or _is_memory_cache(value[0]))
        and is_shared_cache(value[1])
    ):
        return value
    shown = _safe_url(value) if isinstance(value, str) else type(value).__name__
    raise ParameterError(f"{CACHE_USAGE}; got {shown}")


def _safe_url(text: str) -> str:
    """`text` for an error message: a URL's password is never shown."""
    try:
        return repr(str(URL(text).with_password(None)))
    except (TypeError, ValueError):
        return "an unparseable URL"


def _proxy(value: object) -> URL | None:
    if value is None:
        return None
    try:
        url = URL(value) if isinstance(value, (str, URL)) else None
    except (TypeError, ValueError):
        url = None
    if url is None or url.scheme not in {"http", "https"} or not url.host:
        shown = _safe_url(value) if isinstance(value, str) else type(value).__name__
        raise ParameterError(f"proxy must be an http:// URL of a proxy server, got {shown}")
    return url


_SCOPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""A budget's name: a hostname, an IP, a NAT gateway's label."""


def _rate_limit_store(value: object, rate_limit: float | None) -> str | None:
    if value is None:
        return None
    if not is_redis_url(value):
        # Never echo the value: a URL of another scheme may still carry a password.
        scheme = value.partition("://")[0] if isinstance(value, str) and "://" in value else ""
        raise ParameterError(
            "rate_limit_store must be a redis://, rediss:// or unix:// URL"
            f" (got {type(value).__name__} with scheme {scheme or None!r})"
        )
    if rate_limit is None:
        raise ParameterError("rate_limit_store shares a rate budget: it needs a rate_limit")
    check_redis_url(value, "rate_limit_store")
    return value


def _rate_limit_scope(value: object, store: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _SCOPE.fullmatch(value):
        raise ParameterError(
            'rate_limit_scope must be "host" (the default), "global" or a name of letters,'
            f" digits, '.', '_' and '-' (at most 100), got {value!r}"
        )
    if store is None:
        raise ParameterError("rate_limit_scope names a budget in Redis: set rate_limit_store too")
    return value


def resolve_options(
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
    environ: Mapping[str, str] | None = None,
    deadline: float | None = None,
) -> ClientOptions:
    """Resolve and validate the options of a client; raise ParameterError before any I/O.

    Credentials: `access_token`/`api_key` if either is given, else the environment
    (`TMDB_ACCESS_TOKEN`, then `TMDB_API_KEY`); the bearer token wins when both exist.
    The base URL comes from `base_url`, else `TMDB_BASE_URL`, else TMDB's API. Credentials
    are required for TMDB's own host only: a proxy or a fake server may not need them.
    `rate_limit_store` (a Redis URL) shares the `rate_limit` budget with every client naming
    the same `rate_limit_scope`: None or "host" (this machine), "global", or a name.
    Each mistake gets one ParameterError naming the option; nothing else validates them.
    """
    env = os.environ if environ is None else environ
    for name, secret in (("access_token", access_token), ("api_key", api_key)):
        if secret is not None and (not isinstance(secret, str) or not secret.strip()):
            raise ParameterError(f"{name} must be a non-empty string")
    if access_token is None and api_key is None:
        access_token = env.get(ACCESS_TOKEN_ENV) or None
        api_key = env.get(API_KEY_ENV) or None
    for name, secret in (("access_token", access_token), ("api_key", api_key)):
        if secret is not None and not _PRINTABLE.fullmatch(secret):
            # It goes into a header or the query: a control character could split the request.
            raise ParameterError(f"{name} must be printable ASCII without spaces")
    credentials = Credentials(access_token, api_key)

    resolved_url = _base_url(base_url or env.get(BASE_URL_ENV) or DEFAULT_BASE_URL)
    if not credentials and URL(resolved_url).host == TMDB_HOST:
        raise ParameterError(
            f"no TMDB credentials: pass access_token= or api_key=, or set {ACCESS_TOKEN_ENV} "
            f"(preferred) or {API_KEY_ENV}"
        )
    if session is not None and not isinstance(session, aiohttp.ClientSession):
        raise ParameterError(
            f"session must be an aiohttp.ClientSession, got {type(session).__name__}"
        )

    rate = None if rate_limit is None else _number("rate_limit", rate_limit, minimum=0, strict=True)
    store = _rate_limit_store(rate_limit_store, rate)
    return ClientOptions(
        credentials=credentials,
        base_url=resolved_url,
        cache=_cache(cache),
        cache_ttl=_cache_ttl(cache_ttl),
        rate_limit=rate,
        max_connections=_integer("max_connections", max_connections, minimum=1),
        max_retries=_integer("max_retries", max_retries, minimum=0),
        timeout=_timeout(timeout),
        language=_text("language", language),
        region=_text("region", region),
        session=session,
        max_body_size=_integer("max_body_size", max_body_size, minimum=1),
        proxy=_proxy(proxy),
        rate_limit_store=store,
        rate_limit_scope=_rate_limit_scope(rate_limit_scope, store),
        deadline=_deadline(deadline),
    )


def derive_options(
    options: ClientOptions,
    *,
    language: str | None,
    region: str | None,
    cache_ttl: Mapping[CacheClass | str, float] | None,
    deadline: float | None = None,
) -> ClientOptions:
    """`options` with another language, region, (merged) cache TTLs and deadline, validated."""
    return replace(
        options,
        language=_text("language", language),
        region=_text("region", region),
        cache_ttl=_cache_ttl(cache_ttl, options.cache_ttl),
        deadline=_deadline(deadline),
    )
