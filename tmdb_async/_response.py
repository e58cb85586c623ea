"""TMDB's own bytes next to the model: `await tmdb.response(tmdb.movies.details, 550)`.

`fetch_response` calls a generated coroutine with a view of its namespace whose requester
answers with a `Response` instead of the value. Generated coroutines only pass on what their
requester returns, so every operation gets this for free, through the same pipeline (cache,
limiter, retries, coalescing), and the coroutines themselves stay one call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, ParamSpec, Protocol, TypeVar

import msgspec

from ._decode import Dropped
from ._operation import Operation, Requester

__all__ = ["Responder", "Response", "fetch_response"]

T = TypeVar("T")
P = ParamSpec("P")


class Response(msgspec.Struct, Generic[T], frozen=True, gc=False):
    """One answer of TMDB: the body exactly as TMDB sent it, and the model decoded from it."""

    value: T
    """The decoded model (the same value the coroutine returns)."""
    body: bytes
    """TMDB's response body, byte for byte (from the cache when the call was a hit)."""
    drops: tuple[Dropped, ...] = ()
    """What of `body` did not fit the model and is missing from `value` (JSON paths)."""
    coerced: bool = False
    """`body` fit the model only with msgspec's lax coercions (e.g. `"7.5"` as 7.5)."""


class Responder(Requester, Protocol):
    """A Requester that can also answer with the whole `Response`."""

    async def respond(
        self,
        operation: Operation[T],
        path_args: tuple[object, ...],
        query: Mapping[str, object],
        body: Mapping[str, object] | None = None,
    ) -> Response[T]:
        """Like `request`, with TMDB's body and what decoding left out."""
        ...


class _Responding:
    """A requester whose `request` answers with its inner requester's `respond`."""

    __slots__ = ("_inner",)

    def __init__(self, inner: Responder) -> None:
        self._inner = inner

    async def request(
        self,
        operation: Operation[Any],
        path_args: tuple[object, ...],
        query: Mapping[str, object],
        body: Mapping[str, object] | None = None,
    ) -> Any:
        return await self._inner.respond(operation, path_args, query, body)


async def fetch_response(
    method: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
) -> Response[T]:
    """Call `method` (a generated coroutine such as `tmdb.movies.details`) with these
    arguments; return its `Response`."""
    namespace = getattr(method, "__self__", None)
    function = getattr(method, "__func__", None)
    requester = getattr(namespace, "_requester", None)
    if function is None or not callable(getattr(requester, "respond", None)):
        raise TypeError(
            f"expected an operation of a TMDB client such as tmdb.movies.details, got {method!r}"
        )
    view = type(namespace)(_Responding(requester))  # type: ignore[arg-type,misc]
    response: Response[T] = await function(view, *args, **kwargs)
    return response
