"""Client options, defined once: each is a field of `ClientOptions` whose `Option` metadata
(the type `TMDB(...)` accepts, default, environment variable, help, how to read it from text)
serves `TMDB(...)`, `with_options()`, Dask shards (`ClientOptions.keywords()`) and the command
line (`OPTIONS`). Resolved once from keyword arguments and the environment, checked before I/O.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
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
from ._generated.kinds import KIND_COUNTRY, KIND_LANGUAGE
from ._operation import CacheClass, Check
from ._params import render_kind
from ._redis import check_redis_url, is_redis_url

__all__ = [
    "OPTIONS",
    "CacheTTLs",
    "ClientOptions",
    "Option",
    "derive_options",
    "resolve_options",
]

_PRINTABLE = re.compile(r"[!-~]+")
"""What TMDB tokens and keys are made of (base64url, dots, hex): no space or control."""
_SCOPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""A budget's name: a hostname, an IP, a NAT gateway's label."""


# -- the checks: each takes the option's name and value, returns the resolved value ----------


def _secret(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(f"{name} must be a non-empty string")
    if not _PRINTABLE.fullmatch(value):
        # It goes into a header or the query: a control character could split the request.
        raise ParameterError(f"{name} must be printable ASCII without spaces")
    return value


def _number(name: str, value: object, *, minimum: float, strict: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value) or value < minimum or (strict and value == minimum):
        bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
        raise ParameterError(f"{name} must be {bound}, got {value!r}")
    return float(value)


def _seconds_or_none(name: str, value: object) -> float | None:
    """A positive number of seconds (or requests/s), or None: no bound."""
    return None if value is None else _number(name, value, minimum=0, strict=True)


def _integer(minimum: int) -> Callable[[str, object], int]:
    def check(name: str, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParameterError(f"{name} must be an int, got {type(value).__name__} {value!r}")
        if value < minimum:
            raise ParameterError(f"{name} must be >= {minimum}, got {value!r}")
        return value

    return check


def _of_kind(check: Check) -> Callable[[str, object], str | None]:
    """The check of an option that fills in parameters of a kind (`language`): theirs."""

    def checked(name: str, value: object) -> str | None:
        return None if value is None else render_kind("str", check, value, name)

    return checked


def _base_url(name: str, value: object) -> str:
    try:
        url = URL(value) if isinstance(value, str) else None
    except (TypeError, ValueError):
        url = None
    if url is None:
        raise ParameterError(f"{name} is not a URL: {value!r}")
    if url.scheme not in {"http", "https"} or not url.host:
        raise ParameterError(f"{name} must be an http(s) URL with a host, got {value!r}")
    if url.query_string or url.fragment or url.user or url.password:
        raise ParameterError(f"{name} must not carry a query, a fragment or credentials")
    return str(url).rstrip("/")


def _timeout(name: str, value: object) -> aiohttp.ClientTimeout:
    if isinstance(value, aiohttp.ClientTimeout):
        return value
    total = _number(name, value, minimum=0, strict=True)
    return aiohttp.ClientTimeout(total=total, connect=min(CONNECT_TIMEOUT, total))


class CacheTTLs(Mapping[CacheClass, float]):
    """Seconds a response is kept, per cache class: read-only (a client's change through
    `with_options` only), and yet copied and pickled as a `MappingProxyType` is not."""

    __slots__ = ("_ttls",)

    def __init__(self, ttls: Mapping[CacheClass, float]) -> None:
        self._ttls = dict(ttls)

    def __getitem__(self, cache_class: CacheClass) -> float:
        return self._ttls[cache_class]

    def __iter__(self) -> Iterator[CacheClass]:
        return iter(self._ttls)

    def __len__(self) -> int:
        return len(self._ttls)

    def __reduce__(self) -> tuple[type[CacheTTLs], tuple[dict[CacheClass, float]]]:
        return CacheTTLs, (self._ttls,)

    def __repr__(self) -> str:
        seconds = {cache_class.value: ttl for cache_class, ttl in self._ttls.items()}
        return f"CacheTTLs({seconds!r})"


def _cache_ttl(
    name: str, value: object, base: Mapping[CacheClass, float] = DEFAULT_TTLS
) -> CacheTTLs:
    """`value`'s TTLs over `base`'s (a derived client's over its parent's)."""
    if value is not None and not isinstance(value, Mapping):
        raise ParameterError(f"{name} must be a mapping of cache class to seconds")
    ttls = dict(base)
    for key, seconds in (value or {}).items():
        try:
            cache_class = CacheClass(key)
        except ValueError:
            choices = ", ".join(c.value for c in CacheClass)
            raise ParameterError(f"{name} key must be one of {choices}, got {key!r}") from None
        ttl = _number(f"{name}[{cache_class.value!r}]", seconds, minimum=0, strict=False)
        # TMDB's terms forbid keeping content longer than six months.
        ttls[cache_class] = min(ttl, MAX_TTL)
    return CacheTTLs(ttls)


def _is_memory_cache(value: object) -> bool:
    return value == "memory" or isinstance(value, MemoryCache)


def _cache(name: str, value: object) -> object:
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


def _session(name: str, value: object) -> aiohttp.ClientSession | None:
    if value is not None and not isinstance(value, aiohttp.ClientSession):
        raise ParameterError(f"{name} must be an aiohttp.ClientSession, got {type(value).__name__}")
    return value


def _proxy(name: str, value: object) -> URL | None:
    if value is None:
        return None
    try:
        url = URL(value) if isinstance(value, (str, URL)) else None
    except (TypeError, ValueError):
        url = None
    if url is None or url.scheme not in {"http", "https"} or not url.host:
        shown = _safe_url(value) if isinstance(value, str) else type(value).__name__
        raise ParameterError(f"{name} must be an http:// URL of a proxy server, got {shown}")
    return url


def _rate_limit_store(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not is_redis_url(value):
        # Never echo the value: a URL of another scheme may still carry a password.
        scheme = value.partition("://")[0] if isinstance(value, str) and "://" in value else ""
        raise ParameterError(
            f"{name} must be a redis://, rediss:// or unix:// URL"
            f" (got {type(value).__name__} with scheme {scheme or None!r})"
        )
    check_redis_url(value, name)
    return value


def _rate_limit_scope(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _SCOPE.fullmatch(value):
        raise ParameterError(
            f'{name} must be "host" (the default), "global" or a name of letters,'
            f" digits, '.', '_' and '-' (at most 100), got {value!r}"
        )
    return value


def _optional(parse: Callable[[str], object]) -> Callable[[str], object]:
    """Read a value from text, "none" meaning None."""

    def read(text: str) -> object:
        return None if text.strip().lower() == "none" else parse(text)

    return read


# -- the definition -----------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One client option, as the command line, the docs and Dask shards need to know it."""

    name: str
    """The `TMDB(...)` keyword."""
    accepts: str
    """The type `TMDB(...)` accepts, as annotated there."""
    default: object
    """The `TMDB(...)` default."""
    help: str
    """One line: what it does, its unit."""
    env: str | None = None
    """The environment variable read when the keyword is not given."""
    secret: bool = False
    """A credential: never shown, never sent to a Dask worker (each reads its own)."""
    local: bool = False
    """Bound to this process (an aiohttp session): never sent to another one."""
    per_call: bool = False
    """A derived client (`with_options`) may change it: it is not the shared transport's."""
    parse: Callable[[str], object] | None = None
    """Reads the value from text (a command-line flag, an environment variable); None: it
    cannot be given as text."""


_OPTIONS = "tmdb_async.options"
_Check = Callable[[str, Any], Any]


def _option(
    accepts: str, default: object, help: str, *, check: _Check, **more: Any
) -> dict[str, Any]:
    """A `ClientOptions` field's metadata: what `Option` says of it, and its check."""
    spec = {"accepts": accepts, "default": default, "help": help, **more}
    return {_OPTIONS: ((None, spec, check),)}


def _options(*options: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """The metadata of a field that holds several options, each `(name, _option(...))`."""
    return {
        _OPTIONS: tuple(
            (name, spec, check) for name, each in options for _, spec, check in each[_OPTIONS]
        )
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientOptions:
    """The resolved, validated configuration of one client (its repr never shows a secret).

    Built by `resolve_options`; each field is one `TMDB(...)` keyword (see `OPTIONS`).
    """

    credentials: Credentials = field(
        metadata=_options(
            (
                "access_token",
                _option(
                    "str | None",
                    None,
                    "TMDB's API read access token, sent as a bearer header (preferred over"
                    " api_key)",
                    check=_secret,
                    env=ACCESS_TOKEN_ENV,
                    secret=True,
                    parse=str,
                ),
            ),
            (
                "api_key",
                _option(
                    "str | None",
                    None,
                    "TMDB's v3 API key, sent in the query when there is no access token",
                    check=_secret,
                    env=API_KEY_ENV,
                    secret=True,
                    parse=str,
                ),
            ),
        ),
    )
    """The access token or API key, as requests carry them (the options `access_token` and
    `api_key`, held together: never shown, copied as one holder, never pickled)."""
    base_url: str = field(
        metadata=_option(
            "str | None",
            None,
            f"where TMDB's API is (a proxy, a FakeTMDB); default {DEFAULT_BASE_URL}",
            check=_base_url,
            env=BASE_URL_ENV,
            parse=str,
        ),
    )
    cache: object = field(
        repr=False,
        metadata=_option(
            "Any",
            DEFAULT_CACHE,
            '"memory" (a bounded LRU), a redis:// URL (memory in front of Redis), None (no'
            " cache), or a cache instance",
            check=_cache,
            parse=_optional(str),
        ),
    )
    cache_ttl: CacheTTLs = field(
        metadata=_option(
            "Mapping[CacheClass | str, float] | None",
            None,
            'seconds a response is kept, per cache class ({"detail": 3600}); at most six months',
            check=_cache_ttl,
            per_call=True,
        ),
    )
    rate_limit: float | None = field(
        metadata=_option(
            "float | None",
            RATE_LIMIT,
            "requests per second (a token bucket that slows down on 429s); None: no limit",
            check=_seconds_or_none,
            parse=_optional(float),
        ),
    )
    max_connections: int = field(
        metadata=_option(
            "int",
            MAX_CONNECTIONS,
            "simultaneous connections to TMDB",
            check=_integer(1),
            parse=int,
        ),
    )
    max_retries: int = field(
        metadata=_option(
            "int",
            MAX_RETRIES,
            "retries after a call's first attempt (429, 5xx, connection errors, timeouts)",
            check=_integer(0),
            parse=int,
        ),
    )
    timeout: aiohttp.ClientTimeout = field(
        metadata=_option(
            "float | aiohttp.ClientTimeout",
            TOTAL_TIMEOUT,
            f"seconds one attempt may take (connecting: at most {CONNECT_TIMEOUT:g}), or an"
            " aiohttp.ClientTimeout",
            check=_timeout,
            parse=float,
        ),
    )
    language: str | None = field(
        metadata=_option(
            "str | None",
            None,
            "the `language` of every operation that takes one, unless given (e.g. de-DE)",
            check=_of_kind(KIND_LANGUAGE),
            per_call=True,
            parse=str,
        ),
    )
    region: str | None = field(
        metadata=_option(
            "str | None",
            None,
            "the `region` of every operation that takes one, unless given (e.g. US)",
            check=_of_kind(KIND_COUNTRY),
            per_call=True,
            parse=str,
        ),
    )
    session: aiohttp.ClientSession | None = field(
        metadata=_option(
            "aiohttp.ClientSession | None",
            None,
            "an aiohttp.ClientSession of yours, used as you configured it and never closed",
            check=_session,
            local=True,
        ),
    )
    max_body_size: int = field(
        metadata=_option(
            "int",
            MAX_BODY_SIZE,
            "bytes a response body may have, decompressed",
            check=_integer(1),
            parse=int,
        ),
    )
    proxy: URL | None = field(
        repr=False,
        metadata=_option(
            "str | URL | None",
            None,
            "an http:// proxy; None: HTTPS_PROXY, HTTP_PROXY and NO_PROXY from the environment",
            check=_proxy,
            parse=str,
        ),
    )
    rate_limit_store: str | None = field(
        repr=False,
        metadata=_option(
            "str | None",
            None,
            "a redis:// URL: share the rate_limit budget with other processes through it",
            check=_rate_limit_store,
            parse=str,
        ),
    )
    rate_limit_scope: str | None = field(
        metadata=_option(
            "str | None",
            None,
            'who shares the budget in rate_limit_store: "host" (the default), "global" or a name',
            check=_rate_limit_scope,
            parse=str,
        ),
    )
    deadline: float | None = field(
        metadata=_option(
            "float | None",
            None,
            "seconds a whole call may take (rate limit queue, attempts, back-off); None: no bound",
            check=_seconds_or_none,
            per_call=True,
            parse=_optional(float),
        ),
    )

    def keywords(self) -> dict[str, Any]:
        """`TMDB(...)` keywords that make a client with these options in another process
        (a Dask worker): every option but the credentials (each process reads its own from
        its environment) and the session (it belongs to this process)."""
        return {
            option.name: getattr(self, option.name)
            for option in OPTIONS
            if not (option.secret or option.local)
        }


_DEFINED: tuple[tuple[str, dict[str, Any], _Check], ...] = tuple(
    (name or each.name, spec, check)
    for each in fields(ClientOptions)
    for name, spec, check in each.metadata[_OPTIONS]
)
OPTIONS: tuple[Option, ...] = tuple(Option(name, **spec) for name, spec, _ in _DEFINED)
"""Every client option, in `TMDB(...)`'s order: name, accepted type, default, environment
variable, help, and how to read it from text (the command line's flags come from here)."""
_CHECKS: Mapping[str, _Check] = {name: check for name, _, check in _DEFINED}


def resolve_options(environ: Mapping[str, str] | None = None, **keywords: Any) -> ClientOptions:
    """Resolve and validate `TMDB(...)` keywords (`OPTIONS`); raise ParameterError, naming the
    option, before any I/O.

    Credentials: `access_token`/`api_key` if either is given, else the environment
    (`TMDB_ACCESS_TOKEN`, then `TMDB_API_KEY`); the bearer token wins when both exist.
    The base URL comes from `base_url`, else `TMDB_BASE_URL`, else TMDB's API. Credentials
    are required for TMDB's own host only: a proxy or a fake server may not need them.
    `rate_limit_store` (a Redis URL) shares the `rate_limit` budget with every client naming
    the same `rate_limit_scope`: None or "host" (this machine), "global", or a name.
    """
    unknown = sorted(keywords.keys() - _CHECKS.keys())
    if unknown:
        raise ParameterError(
            f"unknown option {', '.join(unknown)}; the options are"
            f" {', '.join(option.name for option in OPTIONS)}"
        )
    env = os.environ if environ is None else environ
    values = {option.name: keywords.get(option.name, option.default) for option in OPTIONS}
    secrets = [option for option in OPTIONS if option.secret]
    for option in secrets:  # an explicit one first: only then is an empty one an error
        _CHECKS[option.name](option.name, values[option.name])
    if all(values[option.name] is None for option in secrets):
        for option in secrets:
            values[option.name] = env.get(option.env or "") or None
    for option in OPTIONS:
        if not option.secret and option.env and values[option.name] is None:
            values[option.name] = env.get(option.env) or None
    values["base_url"] = values["base_url"] or DEFAULT_BASE_URL
    checked = {name: _CHECKS[name](name, value) for name, value in values.items()}
    credentials = Credentials(checked.pop("access_token"), checked.pop("api_key"))
    options = ClientOptions(credentials=credentials, **checked)
    _check_together(options)
    return options


def _check_together(options: ClientOptions) -> None:
    """The rules that tie options to each other."""
    if not options.credentials and URL(options.base_url).host == TMDB_HOST:
        raise ParameterError(
            f"no TMDB credentials: pass TMDB(access_token=...) or TMDB(api_key=...), or set "
            f"{ACCESS_TOKEN_ENV} (preferred) or {API_KEY_ENV} in the environment"
        )
    if options.rate_limit_store is not None and options.rate_limit is None:
        raise ParameterError("rate_limit_store shares a rate budget: it needs a rate_limit")
    if options.rate_limit_scope is not None and options.rate_limit_store is None:
        raise ParameterError("rate_limit_scope names a budget in Redis: set rate_limit_store too")


def derive_options(options: ClientOptions, **changes: Any) -> ClientOptions:
    """`options` with other per-call options (`Option.per_call`: language, region, cache TTLs
    merged over the current ones, deadline), each checked as `resolve_options` checks it."""
    checked: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in _PER_CALL:
            raise ParameterError(f"{name} cannot change in a derived client; make a new one")
        if name == "cache_ttl":
            checked[name] = _cache_ttl(name, value, options.cache_ttl)
        else:
            checked[name] = _CHECKS[name](name, value)
    return replace(options, **checked)


_PER_CALL = frozenset(option.name for option in OPTIONS if option.per_call)
