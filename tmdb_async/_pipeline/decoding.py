"""Decoding: a 2xx body becomes the call's value, any other status becomes its typed error.

`read` is the one way a response turns into a `Reply` with a value or an error, whether it
came from the network (this stage) or from the cache, or was shared by a coalesced call (the
stages above use it for those). A body cut short is marked `Failure.BODY`, so the retrying
stage above sends the request again; any other body that does not decode is final.

The strict decoder runs first; only a body it refuses takes `_decode`'s tolerant paths, and
the reply then says what the value lacks (`Reply.drops`) or that lax coercions made it fit
(`Reply.coerced`). `ToleranceReport` turns that into counters and log lines; the prepare
stage calls it for each reply it hands to a caller.

Keys TMDB sends that no model holds decode without a word (msgspec ignores unknown fields);
`DriftWatch` looks for them in a sample of the bodies fresh from the network, never in a
cache hit, so the hot path pays nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Final

import msgspec

from .._constants import LOGGER_NAME
from .._decode import (
    decode_fallback,
    decoder_for,
    gather_templated_parts,
    generic_document,
    unreadable,
)
from .._drift import UnknownKey, unknown_keys
from .._errors import DecodeError, Failure, error_from_response
from .._retry import parse_retry_after
from .._stats import Stats
from .._urls import APPEND_TO_RESPONSE
from ._types import Call, Reply, Stage

__all__ = [
    "CHECK_EVERY",
    "CHECK_FIRST",
    "LOGGED_PATHS",
    "REMEMBERED_WARNINGS",
    "Decoding",
    "DriftWatch",
    "ToleranceReport",
    "read",
    "redecoded",
]

logger = logging.getLogger(LOGGER_NAME)

LOGGED_PATHS: Final = 5
"""Dropped values named in a warning (the count says how many there were)."""
REMEMBERED_WARNINGS: Final = 1024
"""Distinct (method, URL, dropped paths) warned about and remembered, oldest forgotten first."""
CHECK_FIRST: Final = 16
"""Responses of each operation (and set of appended parts) checked for unknown keys, all of
them, before sampling starts."""
CHECK_EVERY: Final = 64
"""After the first CHECK_FIRST, one response in CHECK_EVERY is checked."""
REMEMBERED_KEYS: Final = 4096
"""Distinct unknown keys logged and remembered per process (and counted per client)."""
SAMPLED_SHAPES: Final = 4096
"""(operation, appended parts) pairs whose responses are counted for the sample; the counts
start again when there are more (a fresh start checks CHECK_FIRST of each again)."""
_logged: dict[UnknownKey, None] = {}
"""The unknown keys this process has logged: each once."""


class Decoding:
    """Reads every response the wire returns (its failures pass through untouched)."""

    __slots__ = ("_inner", "_wall", "_watch")

    def __init__(self, inner: Stage, wall: Callable[[], float], watch: DriftWatch) -> None:
        self._inner = inner
        self._wall = wall
        self._watch = watch

    async def send(self, call: Call) -> Reply:
        """Send `call` on and read the response."""
        reply = await self._inner.send(call)
        if reply.status == 0:
            return reply
        reply = read(call, reply.status, reply.headers, reply.body, self._wall)
        if reply.value is not None:
            self._watch(call, reply.body)
        return reply


def read(
    call: Call,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    wall: Callable[[], float],
) -> Reply:
    """The reply for a response: its value (2xx), nothing to read (304), or its typed error.

    `wall` gives the epoch time, read only to resolve a `Retry-After` HTTP date.
    """
    if 200 <= status < 300:
        return _decoded(call, status, headers, body)
    if status == 304:  # a conditional GET's answer: the caching stage has the body
        return Reply(status, headers, body)
    header = headers.get("retry-after")
    retry_after = None if header is None else parse_retry_after(header, wall())
    request = call.request
    error = error_from_response(
        status, body, request.redacted_url(), method=request.method, retry_after=retry_after
    )
    return Reply(status, headers, body, error=error, retry_after=retry_after)


def redecoded(call: Call, reply: Reply) -> Reply:
    """`reply` with a value of its own: each caller gets its own copy of a shared reply."""
    if reply.value is None:
        return reply
    return _decoded(call, reply.status, reply.headers, reply.body)


def _decoded(call: Call, status: int, headers: Mapping[str, str], body: bytes) -> Reply:
    """The reply of a 2xx: strict first, the tolerant paths for a body that does not fit."""
    operation = call.operation
    try:
        value = decoder_for(operation.response_type).decode(body)
    except msgspec.ValidationError as err:
        request = call.request
        try:
            decoded = decode_fallback(
                body,
                operation.response_type,
                err,
                url=request.redacted_url(),
                method=request.method,
            )
        except DecodeError as unfit:
            return Reply(status, headers, body, error=unfit)
        value, drops, coerced = decoded.value, decoded.drops, decoded.coerced
    except (msgspec.DecodeError, RecursionError) as err:
        request = call.request
        error = unreadable(err, url=request.redacted_url(), method=request.method)
        error.__cause__ = err
        return Reply(status, headers, body, error=error, failure=_body_failure(err))
    else:
        if not operation.append_templates:
            return Reply(status, headers, body, value)
        drops, coerced = (), False
    if operation.append_templates:
        requested = call.request.url.query.get(APPEND_TO_RESPONSE)
        parts = gather_templated_parts(value, body, operation.append_templates, requested)
        value, drops, coerced = parts.value, drops + parts.drops, coerced or parts.coerced
    return Reply(status, headers, body, value, drops=drops, coerced=coerced)


class ToleranceReport:
    """What tolerant decoding did, for the user: counters and log lines.

    Every reply handed to a caller counts (`Stats.dropped_fields`, `repaired_responses`,
    `coerced_responses`): a cached body that needs repair is repaired again on each hit, as
    the cache keeps TMDB's bytes. The warning is logged once per method, redacted URL and
    set of dropped paths among the last REMEMBERED_WARNINGS, so such a hit does not flood
    the log; a body that changes warns again. Lax coercions are logged at DEBUG.
    """

    __slots__ = ("_stats", "_warned")

    def __init__(self, stats: Stats) -> None:
        self._stats = stats
        self._warned: dict[tuple[str, str, tuple[str, ...]], None] = {}

    def __call__(self, call: Call, reply: Reply) -> None:
        """Count and log what `reply`'s value lacks, or that it was coerced."""
        stats, drops, request = self._stats, reply.drops, call.request
        if not drops:
            stats.coerced_responses += 1
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "%s %s: fit the model only with lax coercions (numbers as strings...)",
                    request.method,
                    request.redacted_url(),
                )
            return
        stats.repaired_responses += 1
        stats.dropped_fields += len(drops)
        url = request.redacted_url()
        key = (request.method, url, tuple(drop.path for drop in drops))
        if key in self._warned:
            return
        if len(self._warned) >= REMEMBERED_WARNINGS:
            del self._warned[next(iter(self._warned))]
        self._warned[key] = None
        named = "; ".join(str(drop) for drop in drops[:LOGGED_PATHS])
        more = len(drops) - LOGGED_PATHS
        logger.warning(
            "%s %s: %d value%s did not fit the model and %s left out: %s%s",
            request.method,
            url,
            len(drops),
            "" if len(drops) == 1 else "s",
            "was" if len(drops) == 1 else "were",
            named,
            f"; and {more} more" if more > 0 else "",
        )


class DriftWatch:
    """Finds the keys TMDB sends that no model holds, in bodies fresh from the network.

    Checking reads the body again as generic JSON and walks it beside the model (7.5 µs for
    a 1.5 kB movie, 5 times its typed decode), so only a sample is checked: every
    response of an operation (and set of appended parts) until CHECK_FIRST, then one in
    CHECK_EVERY. A cache hit is never checked: its body was, when it came. Each unknown key
    counts once per checked response that carries it (`Stats.unknown_keys`) and is logged at
    INFO once per process, with the operation that met it first.
    """

    __slots__ = ("_seen", "_stats")

    def __init__(self, stats: Stats) -> None:
        self._stats = stats
        self._seen: dict[str, int] = {}

    def __call__(self, call: Call, body: bytes) -> None:
        """Check `body`, the 2xx answer to `call`, if it is in the sample."""
        operation = call.operation
        key = operation.operation_id
        if operation.append_parts:
            key = f"{key}?{call.request.url.query.get(APPEND_TO_RESPONSE, '')}"
        seen = self._seen.get(key, 0)
        if len(self._seen) >= SAMPLED_SHAPES:
            self._seen.clear()
        self._seen[key] = seen + 1
        if seen >= CHECK_FIRST and seen % CHECK_EVERY:
            return
        stats = self._stats
        stats.unknown_keys_checked += 1
        try:
            document = generic_document(body)
        except (msgspec.DecodeError, RecursionError):  # decoded as the model, so never
            return
        found = unknown_keys(document, operation.response_type, operation.append_templates)
        counted = stats.unknown_keys
        for unknown in found:
            if unknown in counted or len(counted) < REMEMBERED_KEYS:
                counted[unknown] += 1
            if unknown not in _logged and len(_logged) < REMEMBERED_KEYS:
                _logged[unknown] = None
                logger.info(
                    "%s.%s (%s %s): TMDB sent %s, a key no model holds (%s); the response's"
                    " body keeps it, and `python -m codegen learn` adds it to the models",
                    operation.namespace,
                    operation.name,
                    operation.http_method,
                    operation.path,
                    unknown.path,
                    unknown.model,
                )


def _body_failure(err: BaseException) -> Failure | None:
    # msgspec says "Input data was truncated" when the JSON ends early: a cut body, worth
    # another attempt; anything else would decode the same way again.
    truncated = isinstance(err, msgspec.DecodeError) and "truncated" in str(err)
    return Failure.BODY if truncated else None
