"""What travels through the pipeline: a `Call` goes down, a `Reply` comes back up."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Protocol

import msgspec

from .._auth import UserAuth
from .._deadline import Deadline
from .._decode import Dropped
from .._errors import Failure, TMDBError
from .._operation import Operation
from .._urls import PreparedRequest

__all__ = ["NO_HEADERS", "Call", "Reply", "Stage"]

NO_HEADERS: Mapping[str, str] = MappingProxyType({})


class Call(msgspec.Struct, frozen=True, gc=False):
    """One request as the stages see it, built by `prepare`; it holds no credential but the
    opaque `auth` handle of a user's call, which only the wire opens.

    Immutable, so `prepare` can hand the same one to every repetition of a plain call.
    """

    operation: Operation[Any]
    request: PreparedRequest
    cache_key: str | None = None
    """Where the response is cached; None when it is not (no cache, class `never`, TTL 0)."""
    cache_ttl: float = 0.0
    """Seconds the operation's cache class allows."""
    validators: Mapping[str, str] | None = None
    """`If-None-Match` for a stale cache entry (set by the caching stage)."""
    deadline: Deadline | None = None
    """The call's time budget (the `deadline` option), set by `prepare` for each call; each
    stage bounds what it waits on by it and answers with a DeadlineExceededError reply when it
    runs out. None: no bound (and no cost)."""
    auth: UserAuth | None = None
    """Who acts: None for the application (the client's own credentials), else the user of a
    `tmdb.as_user(...)` view. Only the wire reads the token in it; a user's call has no
    cache key and is coalesced only with the same user's calls."""


class Reply(msgspec.Struct, frozen=True):
    """What came back for a call: a response, or why there is none.

    `value` is the decoded body of a 2xx; `error` is what the caller gets when this is the
    last reply (a typed error for a non-2xx, a TransportError, a DecodeError); `failure`
    says why an attempt produced nothing usable, for the retry policy.
    """

    status: int = 0
    """HTTP status; 0 when no response arrived."""
    headers: Mapping[str, str] = NO_HEADERS
    """Response headers, looked up case-insensitively (aiohttp's CIMultiDictProxy)."""
    body: bytes = b""
    value: Any = None
    error: TMDBError | None = None
    failure: Failure | None = None
    retry_after: float | None = None
    """Seconds the server asked to wait (`Retry-After`), parsed."""
    drops: tuple[Dropped, ...] = ()
    """What of the body the value lacks (it did not fit the model); see `_decode`."""
    coerced: bool = False
    """The body fit only with msgspec's lax coercions."""


class Stage(Protocol):
    """A pipeline stage: sends a call on (or answers it) and returns the reply."""

    async def send(self, call: Call) -> Reply:
        """Return the reply to `call`; raise only for cancellation or a closed client."""
        ...
