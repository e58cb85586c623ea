"""Cache classes and the pure decisions of the cache: may this request be cached, for how long.

Nothing here does I/O or reads the clock; the numbers (caps, windows) are arguments, so every
rule is unit-tested exhaustively (tests/unit/test_cache_policy.py). It imports only the operation
metadata (`CacheClass`), which imports nothing from the package.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping

from .._operation import CacheClass

__all__ = [
    "SESSION_QUERY_PARAMS",
    "CacheClass",
    "fresh_ttl",
    "keep_ttl",
    "parse_max_age",
    "request_cache_class",
]


SESSION_QUERY_PARAMS = frozenset({"session_id", "guest_session_id", "request_token"})
"""Query parameters that scope a response to one user: such a request is never cached."""

_SESSION_SEGMENTS = frozenset({"account", "guest_session", "authentication", "account_states"})
"""Path segments of account-, session- and auth-scoped routes (TMDB's `/3/account/{id}/...`,
`/3/guest_session/{guest_session_id}/...`, `/3/authentication/...`, `.../account_states`)."""

_APPEND = "append_to_response"


@functools.lru_cache(maxsize=1024)
def _route_class(declared: CacheClass, method: str, path: str) -> CacheClass:
    if declared is CacheClass.NEVER or method.upper() != "GET":
        return CacheClass.NEVER
    if not _SESSION_SEGMENTS.isdisjoint(path.split("/")):
        return CacheClass.NEVER
    return declared


def request_cache_class(
    declared: CacheClass,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]] | Mapping[str, str] = (),
) -> CacheClass:
    """The cache class of one request: the operation's, or NEVER when it is user-scoped.

    NEVER for every non-GET, for account/guest-session/authentication routes and
    `account_states`, for a query naming a session (`session_id`, `guest_session_id`,
    `request_token`), and for `append_to_response` with `account_states` in it.
    `path` is the operation's template (memoised) or a concrete path, checked by segment.
    """
    if _route_class(declared, method, path) is CacheClass.NEVER:
        return CacheClass.NEVER
    items = query.items() if isinstance(query, Mapping) else query
    for name, value in items:
        if name in SESSION_QUERY_PARAMS:
            return CacheClass.NEVER
        if name == _APPEND and "account_states" in (p.strip() for p in value.split(",")):
            return CacheClass.NEVER
    return declared


_MAX_AGE = re.compile(r"(?:^|[\s,])(s-maxage|max-age)\s*=\s*\"?(\d+)\"?", re.IGNORECASE)
_NO_STORE = re.compile(r"(?:^|[\s,])(no-store|private)(?:$|[\s,=])", re.IGNORECASE)


def parse_max_age(cache_control: str | None) -> float | None:
    """Seconds a response may be kept according to `Cache-Control`, or None if it says nothing.

    `no-store` and `private` give 0 (a shared cache must not keep it, RFC 9111 §5.2.2.3/.7);
    `s-maxage` wins over `max-age` (§5.2.2.10), since a Redis cache is shared.
    """
    if not cache_control:
        return None
    if _NO_STORE.search(cache_control):
        return 0.0
    ages = {name.lower(): int(value) for name, value in _MAX_AGE.findall(cache_control)}
    age = ages.get("s-maxage", ages.get("max-age"))
    return None if age is None else float(age)


def fresh_ttl(class_ttl: float, cache_control: str | None = None, age: str | None = None) -> float:
    """Seconds a new response stays fresh: the class TTL, or less if the server says so.

    With `Cache-Control: max-age=N`, the smaller of the two; the `Age` header (time the
    response already spent in a CDN, RFC 9111 §4.2.3) is subtracted from N.
    """
    ttl = max(0.0, class_ttl)
    max_age = parse_max_age(cache_control)
    if max_age is not None:
        try:
            spent = max(0.0, float(age)) if age else 0.0
        except ValueError:
            spent = 0.0
        ttl = min(ttl, max(0.0, max_age - spent))
    return ttl


def keep_ttl(fresh: float, *, has_etag: bool, stale_keep_max: float, max_ttl: float) -> float:
    """Seconds to keep an entry in the backend: its freshness, plus a revalidation window.

    An entry with an ETag outlives its freshness by min(fresh, stale_keep_max) so a later
    request can revalidate it with `If-None-Match`; nothing is ever kept beyond `max_ttl`.
    """
    if fresh <= 0:
        return 0.0
    extra = min(fresh, stale_keep_max) if has_etag else 0.0
    return min(fresh + extra, max_ttl)
