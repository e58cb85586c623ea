"""Every default of the client in one place: URLs, limits, timeouts, retry numbers, TTLs."""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from ._operation import CacheClass
from ._version import __version__

__all__ = [
    "ACCESS_TOKEN_ENV",
    "ADAPTIVE_COOLDOWN",
    "ADAPTIVE_DECREASE",
    "ADAPTIVE_INCREASE",
    "ADAPTIVE_MIN_RATE",
    "API_KEY_ENV",
    "BASE_URL_ENV",
    "CACHE_FORMAT_VERSION",
    "CACHE_NAMESPACE",
    "CACHE_NEGATIVE_TTL",
    "CACHE_RETRY_MAX",
    "CACHE_RETRY_MIN",
    "CACHE_STALE_KEEP_MAX",
    "CONNECT_TIMEOUT",
    "DEFAULT_BASE_URL",
    "DEFAULT_CACHE",
    "DEFAULT_TTLS",
    "DNS_CACHE_TTL",
    "KEEPALIVE_TIMEOUT",
    "LOGGER_NAME",
    "MAX_APPEND_PARTS",
    "MAX_BODY_SIZE",
    "MAX_CONNECTIONS",
    "MAX_INFLATE_RATIO",
    "MAX_REDIRECTS",
    "MAX_RETRIES",
    "MAX_TTL",
    "MEMORY_CACHE_ENTRY_OVERHEAD",
    "MEMORY_CACHE_MAX_BYTES",
    "MEMORY_CACHE_MAX_ENTRIES",
    "RATE_LIMIT",
    "RATE_LIMIT_BURST",
    "RATE_LIMIT_KEY_PREFIX",
    "RATE_LIMIT_PEERS_WINDOW",
    "RATE_LIMIT_REJOIN_GRACE",
    "RATE_LIMIT_RETRY_MAX",
    "RATE_LIMIT_RETRY_MIN",
    "RATE_LIMIT_SHARED_BURST",
    "RATE_LIMIT_STATE_TTL",
    "RATE_LIMIT_STORE_TIMEOUT",
    "REDIS_CLEAR_BATCH",
    "REDIS_MAX_CONNECTIONS",
    "REDIS_POOL_TIMEOUT",
    "REDIS_RETRIES",
    "REDIS_SOCKET_TIMEOUT",
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
KEEPALIVE_TIMEOUT: Final = 15.0
"""Seconds an idle keep-alive connection is kept (aiohttp's default): servers drop idle ones."""
DNS_CACHE_TTL: Final = 60
"""Seconds a DNS answer is reused (TMDB's CDN names live about a minute)."""
MAX_BODY_SIZE: Final = 32 * 1024 * 1024
"""Bytes of a response body after decompression: far above any TMDB JSON (a movie with every
appended part is about 100 KiB), far below what would exhaust a process's memory."""
MAX_INFLATE_RATIO: Final = 1032
"""The most deflate (gzip) can expand its input (https://zlib.net/zlib_tech.html): a gzip body
of N bytes inflates to at most N * 1032 bytes."""
MAX_REDIRECTS: Final = 10
"""Same-host redirects followed for one request (aiohttp's default)."""

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

RATE_LIMIT_BURST: Final = 4
"""Tokens the bucket holds: at most RATE_LIMIT + 4 = 39 requests in any second, under 40."""
ADAPTIVE_DECREASE: Final = 0.5
"""On a 429 the effective rate is multiplied by this (at most once per ADAPTIVE_COOLDOWN)."""
ADAPTIVE_COOLDOWN: Final = 1.0
"""Seconds: the 429s of one burst count as one congestion signal, not as twenty."""
ADAPTIVE_INCREASE: Final = 0.1
"""Requests/s added back to the effective rate by each response that is not a 429."""
ADAPTIVE_MIN_RATE: Final = 1.0
"""Requests/s: the adaptive rate never drops below this."""

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

# Pagination: TMDB serves pages 1..500 whatever total_pages says.
MAX_PAGE = 500
PAGINATE_CONCURRENCY = 4
FETCH_MANY_CONCURRENCY = 20

# Cache (docs/caching.md). Keys are "tmdb:v<CACHE_FORMAT_VERSION>:<method> <normalised URL>":
# bump the version whenever the stored format or its meaning changes, so old entries are never read.
CACHE_NAMESPACE: Final = "tmdb"
CACHE_FORMAT_VERSION: Final = 1
CACHE_STALE_KEEP_MAX: Final = 24 * 3600.0
"""Seconds a stale entry with an ETag is kept past its freshness (at most its TTL again) so it
can be revalidated with If-None-Match; never beyond MAX_TTL in total."""
CACHE_NEGATIVE_TTL: Final = 60.0
"""Seconds a 404 (TMDB code 34) is remembered, so a deleted id costs one request per minute."""
CACHE_RETRY_MIN: Final = 1.0
"""Seconds a failed cache backend is left alone before one probe; doubles up to CACHE_RETRY_MAX."""
CACHE_RETRY_MAX: Final = 60.0
MEMORY_CACHE_MAX_ENTRIES: Final = 10_000
MEMORY_CACHE_MAX_BYTES: Final = 128 * 1024 * 1024
MEMORY_CACHE_ENTRY_OVERHEAD: Final = 200
"""Bytes counted per memory entry on top of its key, body and ETag (objects, dict slot)."""
REDIS_SOCKET_TIMEOUT: Final = 1.0
"""Seconds one connect or command of the cache's Redis may take before the cache counts as
failed (then: the network)."""
REDIS_MAX_CONNECTIONS: Final = 50
"""Redis connections per client (`?max_connections=` in the URL); a burst beyond it queues.
One event loop cannot keep more than a few dozen GETs in flight usefully."""
REDIS_POOL_TIMEOUT: Final = REDIS_SOCKET_TIMEOUT
"""Seconds a Redis command may queue for a free connection (`?timeout=` in the URL): a burst
beyond the pool waits instead of skipping the cache. No longer than a command may take: a loop
too busy to hand out a connection in that time would time out the commands themselves, and a
hung Redis must not hold a queue of callers longer than the calls it is hung on."""
REDIS_RETRIES: Final = 1
"""A Redis command that fails on its connection (dropped, stale, timed out) is sent once more on
a fresh one before the cache counts as failed: a live server that dropped the connection (a proxy's
idle timeout, `CLIENT KILL`) is no outage."""
REDIS_CLEAR_BATCH: Final = 500
"""Keys per SCAN/UNLINK round of `cache_clear()`."""

# The rate budget shared through Redis (docs/distributed.md). Keys are
# "{<RATE_LIMIT_KEY_PREFIX>:host:<hostname>}" (default), ":global}" or ":name:<label>}", and the
# same followed by ":peers" (one hash tag: one Redis Cluster slot). No credential.
RATE_LIMIT_KEY_PREFIX: Final = "tmdb-ratelimit:v2"
"""Not under `tmdb:`, so `cache_clear()` never resets a budget other processes are using."""
RATE_LIMIT_SHARED_BURST: Final = 1
"""Requests a shared budget lets through at once. Processes sharing a budget keep it busy, where
a burst buys no throughput; without one, their requests are evenly spaced and the late ones
(a busy event loop, a slower path to Redis) cannot bunch up past the rate in TMDB's count."""
RATE_LIMIT_STORE_TIMEOUT: Final = 0.5
"""Seconds one Redis call of the shared limiter may take before the process falls back."""
RATE_LIMIT_RETRY_MIN: Final = 0.5
"""Seconds a process that fell back leaves Redis alone before one acquisition probes it; each
failed probe doubles the wait, up to RATE_LIMIT_RETRY_MAX."""
RATE_LIMIT_RETRY_MAX: Final = 2.0
"""The longest wait between two probes of an unreachable Redis. Short, unlike the cache's: a
process that is back in the shared budget keeps its fallback share as a cap only for
RATE_LIMIT_REJOIN_GRACE, and every other process must be back by then."""
RATE_LIMIT_REJOIN_GRACE: Final = (
    RATE_LIMIT_RETRY_MAX + (1 + REDIS_RETRIES) * RATE_LIMIT_STORE_TIMEOUT + 1 / ADAPTIVE_MIN_RATE
)
"""Seconds the fallback share stays a cap after rejoining, while the other processes rejoin:
the total never exceeds the budget. When Redis is back, a process still falling back probes it
once its back-off has run (at most RATE_LIMIT_RETRY_MAX), at its next acquisition (within
1 / ADAPTIVE_MIN_RATE s for a process going at least at the minimum rate), and that probe
takes at most its tries' timeouts: the sum of the three, 4 s. The first process back keeps
its cap that long, so every busy process is back before any cap ends."""
RATE_LIMIT_PEERS_WINDOW: Final = 10.0
"""Seconds: the processes that acquired within this window are the peers a fallback divides by."""
RATE_LIMIT_STATE_TTL: Final = 60.0
"""Seconds an idle budget's state stays in Redis (then it starts afresh, at the full rate)."""
