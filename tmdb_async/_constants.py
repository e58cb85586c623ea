"""Every default of the client in one place: URLs, limits, timeouts, retry numbers, TTLs."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from ._cache._policy import CacheClass
from ._version import __version__

__all__ = [
    "ACCESS_TOKEN_ENV",
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "CONNECT_TIMEOUT",
    "DEFAULT_BASE_URL",
    "DEFAULT_CACHE",
    "DEFAULT_TTLS",
    "LOGGER_NAME",
    "MAX_APPEND_PARTS",
    "MAX_CONNECTIONS",
    "MAX_RETRIES",
    "MAX_TTL",
    "RATE_LIMIT",
    "RETRY_AFTER_MAX",
    "RETRY_BASE_DELAY",
    "RETRY_MAX_DELAY",
    "RETRY_TOTAL_TIME",
    "SECRET_QUERY_PARAMS",
    "TMDB_HOST",
    "TOTAL_TIMEOUT",
    "USER_AGENT",
]

DEFAULT_BASE_URL: Final = "https://api.themoviedb.org"
TMDB_HOST: Final = "api.themoviedb.org"

ACCESS_TOKEN_ENV: Final = "TMDB_ACCESS_TOKEN"
API_KEY_ENV: Final = "TMDB_API_KEY"
BASE_URL_ENV: Final = "TMDB_BASE_URL"

USER_AGENT: Final = f"tmdb-async/{__version__}"
LOGGER_NAME: Final = "tmdb_async"

CONNECT_TIMEOUT: Final = 10.0
"""Seconds to establish a connection."""
TOTAL_TIMEOUT: Final = 30.0
"""Seconds for one attempt, from connect to the last byte of the body."""

# TMDB allows about 40 requests/s and 20 simultaneous connections per IP
# (https://developer.themoviedb.org/docs/rate-limiting): stay under both.
MAX_CONNECTIONS: Final = 20
RATE_LIMIT: Final = 35.0
"""Requests per second of the token bucket."""

MAX_RETRIES: Final = 3
"""Retries after the first attempt (so at most 4 attempts)."""
RETRY_BASE_DELAY: Final = 0.5
"""Seconds; the full-jitter backoff draws from [0, min(RETRY_MAX_DELAY, base * 2**attempt)]."""
RETRY_MAX_DELAY: Final = 8.0
RETRY_AFTER_MAX: Final = 60.0
"""A Retry-After above this many seconds is not waited for: the error is raised instead."""
RETRY_TOTAL_TIME: Final = 120.0
"""Upper bound, in seconds, of all attempts and waits of one request."""

MAX_APPEND_PARTS: Final = 20
"""TMDB answers 400 (code 27) beyond 20 `append_to_response` parts."""

DEFAULT_CACHE: Final = "memory"
DEFAULT_TTLS: Final = MappingProxyType(
    {
        CacheClass.STATIC: 24 * 3600.0,
        CacheClass.DETAIL: 3600.0,
        CacheClass.LISTING: 600.0,
        CacheClass.CHANGES: 300.0,
        CacheClass.NEVER: 0.0,
    }
)
"""Seconds each cache class is kept by default."""
# TMDB's terms of use forbid caching content for more than six months.
MAX_TTL: Final = 180 * 24 * 3600.0

SECRET_QUERY_PARAMS: Final = frozenset(
    {"api_key", "access_token", "session_id", "guest_session_id", "request_token"}
)
"""Query parameters that are secrets: redacted from logs and errors, absent from cache keys."""
