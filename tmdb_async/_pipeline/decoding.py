"""Decoding: a 2xx body becomes the call's value, any other status becomes its typed error.

`read` is the one way a response turns into a `Reply` with a value or an error, whether it
came from the network (this stage) or from the cache, or was shared by a coalesced call (the
stages above use it for those). A body cut short is marked `Failure.BODY`, so the retrying
stage above sends the request again; any other body that does not decode is final.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from .._decode import decode, decoder_for, gather_templated_parts
from .._errors import DecodeError, error_from_response
from .._retry import Failure, parse_retry_after
from .._urls import APPEND_TO_RESPONSE
from ._types import Call, Reply, Stage

__all__ = ["Decoding", "decode_body", "read", "redecoded"]


class Decoding:
    """Reads every response the wire returns (its failures pass through untouched)."""

    __slots__ = ("_inner", "_wall")

    def __init__(self, inner: Stage, wall: Callable[[], float]) -> None:
        self._inner = inner
        self._wall = wall

    async def send(self, call: Call) -> Reply:
        """Send `call` on and read the response."""
        reply = await self._inner.send(call)
        if reply.status == 0:
            return reply
        return read(call, reply.status, reply.headers, reply.body, self._wall)


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
        try:
            value = decode_body(call, body)
        except DecodeError as err:
            return Reply(status, headers, body, error=err, failure=_body_failure(err))
        return Reply(status, headers, body, value)
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
    return msgspec.structs.replace(reply, value=decode_body(call, reply.body))


def decode_body(call: Call, body: bytes) -> Any:
    """Decode a 2xx body into the operation's type; DecodeError with the URL and JSON path."""
    operation = call.operation
    if not operation.append_templates:
        try:
            return decoder_for(operation.response_type).decode(body)
        except msgspec.DecodeError:
            pass  # the full path below: unknown media types, errors with the URL
    request = call.request
    url = request.redacted_url()
    result = decode(body, operation.response_type, url=url, method=request.method)
    if operation.append_templates:
        result = gather_templated_parts(
            result,
            body,
            operation.append_templates,
            request.url.query.get(APPEND_TO_RESPONSE),
            url=url,
            method=request.method,
        )
    return result


def _body_failure(err: DecodeError) -> Failure | None:
    # msgspec says "Input data was truncated" when the JSON ends early: a cut body, worth
    # another attempt; anything else would decode the same way again.
    cause = err.__cause__
    truncated = isinstance(cause, msgspec.DecodeError) and "truncated" in str(cause)
    return Failure.BODY if truncated else None
