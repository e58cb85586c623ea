"""Prepare: the pipeline's entry, and the `Requester` that generated code calls.

It checks the arguments (ParameterError before any I/O), adds the client's `language` and
`region` where the operation takes them, builds the URL and works out the cache key and TTL,
then sends the `Call` down and turns the reply that comes back into the value or the raised
error. Calls made of immutable values are remembered: a cache hit is by nature a repeated
call, and building the request is most of its cost. With a `deadline`, each call carries a fresh
`Deadline` (the remembered `Call` never does).

A user's view (`auth`, see `tmdb_async._auth`) prepares its calls apart: each carries the
user's handle, fills in the user's account id where an operation takes one, and is neither
remembered nor cached. Without a user, an operation only a user may call is refused here
(a ParameterError: the caller's mistake).
"""

from __future__ import annotations

import datetime as dt
import enum
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import msgspec
from yarl import URL

from .._auth import UserAuth
from .._cache import built_key
from .._cache._policy import request_cache_class
from .._deadline import Deadline
from .._errors import ParameterError, TMDBError
from .._operation import AllOf, AnyOf, CacheClass, Operation
from .._response import Response
from .._stats import Stats
from .._urls import PreparedRequest, build_request
from ._types import Call, Reply, Stage

__all__ = ["MEMO_SIZE", "Prepare"]

T = TypeVar("T")

_PLAIN = frozenset({int, str, type(None)})
"""Argument types remembered as they are (exact types: not bool, not enums)."""
_TYPED = frozenset({bool, float, dt.date})
"""Immutable argument types remembered with their type: `1 == 1.0 == True`, and yet a
parameter may take one and refuse the others."""
_SEQUENCES = frozenset({list, tuple})
"""Remembered by the items they hold when called, as one kind (the checks treat them alike)."""
_COMBINATIONS = frozenset({AnyOf, AllOf})
_UNREMEMBERED: Any = object()
"""`_typed`: a value the memo does not take (another type, a set, a mutable object)."""
MEMO_SIZE = 1024
"""Calls remembered; the memo is emptied when full (cheaper than an LRU)."""
AS_USER = "tmdb.as_user(access_token, account_id=...)"
"""How a call acts for a user, as messages say it."""


class Prepare:
    """Validates and builds each call, sends it down, and answers with its value or error."""

    __slots__ = (
        "_auth",
        "_base_url",
        "_cached",
        "_closed",
        "_deadline",
        "_defaults",
        "_inner",
        "_memo",
        "_now",
        "_report",
        "_ttls",
        "stats",
    )

    def __init__(
        self,
        inner: Stage,
        *,
        base_url: str,
        language: str | None,
        region: str | None,
        cache_ttl: Mapping[CacheClass, float] | None,
        stats: Stats,
        closed: Callable[[], bool],
        report: Callable[[Call, Reply], None],
        deadline: float | None = None,
        now: Callable[[], float] = time.monotonic,
        auth: UserAuth | None = None,
    ) -> None:
        """`cache_ttl` is None without a cache; `closed` tells whether the client was closed;
        `report` is told of each reply whose value lacks part of the body or was coerced;
        `deadline`: seconds each call may take in all, on the monotonic clock `now`; `auth`:
        the user every call acts for (None: the application)."""
        self._inner = inner
        self._base_url = URL(base_url)
        defaults = (("language", language), ("region", region))
        self._defaults = {name: value for name, value in defaults if value is not None}
        self._ttls = cache_ttl or {}
        self._cached = cache_ttl is not None
        self.stats = stats
        self._closed = closed
        self._report = report
        self._deadline = deadline
        self._now = now
        self._auth = auth
        self._memo: dict[tuple[Any, ...], tuple[Operation[Any], Call]] = {}

    async def request(
        self,
        operation: Operation[T],
        path_args: tuple[object, ...],
        query: Mapping[str, object],
        body: Mapping[str, object] | None = None,
    ) -> T:
        """Send `operation` with these arguments and return the decoded response."""
        call = self._checked_call(operation, path_args, query, body)
        reply = await self._inner.send(call)
        if reply.error is not None or reply.drops or reply.coerced:
            self._settle(call, reply)
        return reply.value  # type: ignore[no-any-return]  # the operation's response type

    async def respond(
        self,
        operation: Operation[T],
        path_args: tuple[object, ...],
        query: Mapping[str, object],
        body: Mapping[str, object] | None = None,
    ) -> Response[T]:
        """Like `request`, with TMDB's body and what decoding left out."""
        call = self._checked_call(operation, path_args, query, body)
        reply = await self._inner.send(call)
        if reply.error is not None or reply.drops or reply.coerced:
            self._settle(call, reply)
        return Response(reply.value, reply.body, reply.drops, reply.coerced)

    def _checked_call(
        self,
        operation: Operation[Any],
        path_args: tuple[object, ...],
        query: Mapping[str, object],
        body: Mapping[str, object] | None,
    ) -> Call:
        """The call to send (stages raise nothing but cancellation: errors come in replies)."""
        if self._closed():
            raise RuntimeError("this TMDB client is closed; create a new one")
        try:
            call = self._call(operation, path_args, query, body)
        except TMDBError as err:  # a ParameterError: nothing is sent
            self.stats.errors[type(err).__name__] += 1
            raise
        if self._deadline is not None:
            call = msgspec.structs.replace(call, deadline=Deadline(self._deadline, self._now))
        return call

    def _settle(self, call: Call, reply: Reply) -> None:
        """Raise the reply's error, or report what decoding left out of its value."""
        error = reply.error
        if error is not None:
            self.stats.errors[type(error).__name__] += 1
            raise error
        self._report(call, reply)

    def _call(
        self,
        operation: Operation[Any],
        path_args: tuple[object, ...],
        query: Mapping[str, object],
        body: Mapping[str, object] | None,
    ) -> Call:
        """The call for these arguments, remembered when they are immutable values.

        Building it is a pure function of the arguments (the base URL and TTLs are this
        stage's). Cacheable calls are remembered by their arguments' values: exact
        int/str/None as they are (the fast path), and bools, floats, dates, enums, `AnyOf`,
        `AllOf` and lists or tuples of those with their type (`_typed`), so `True` or `1.0`
        is never taken for a remembered `1`; a list by the items it holds when called, never
        by identity. Anything else, and every ParameterError, takes the full path.
        """
        if self._defaults:
            query = self._with_defaults(operation, query)
        if self._auth is not None:
            return self._user_call(operation, path_args, query, body, self._auth)
        if not self._cached:
            return Call(operation, self._build(operation, path_args, query, body))
        memo = self._memo
        key: tuple[Any, ...] | None = None
        if body is None:
            if all(type(v) in _PLAIN for v in (*path_args, *query.values())):
                key = (id(operation), path_args, tuple(query.items()))
            else:
                key = _typed_key(operation, path_args, query)
            known = memo.get(key) if key is not None else None
            if known is not None and known[0] is operation:
                return known[1]
        request = self._build(operation, path_args, query, body)
        call = self._cacheable(operation, request)
        # Only cacheable calls: the others go to the network anyway, and may carry a session
        # id (a secret) that is better not kept around.
        if key is not None and call.cache_key is not None:
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            memo[key] = (operation, call)
        return call

    def _build(
        self,
        operation: Operation[Any],
        path_args: tuple[object, ...],
        query: Mapping[str, object],
        body: Mapping[str, object] | None,
    ) -> PreparedRequest:
        """The application's request (ParameterError for an operation only a user may
        call: the caller's mistake, which TMDB would answer with a 401)."""
        if operation.needs_user:
            name = operation.qualified_name
            raise ParameterError(f"{name}() acts for a user: call it through {AS_USER}.{name}()")
        return build_request(self._base_url, operation, path_args, query, body)

    def _user_call(
        self,
        operation: Operation[Any],
        path_args: tuple[object, ...],
        query: Mapping[str, object],
        body: Mapping[str, object] | None,
        auth: UserAuth,
    ) -> Call:
        """A user's call: their account id where the operation takes one and none was given;
        never cached (what a user reads is theirs, and changes with their own writes)."""
        if None in path_args:
            path_args = _with_account(operation, path_args, auth)
        request = build_request(self._base_url, operation, path_args, query, body)
        return Call(operation, request, auth=auth)

    def _cacheable(self, operation: Operation[Any], request: PreparedRequest) -> Call:
        """The call with its cache key and class TTL, unless its class (or a session in it)
        says never."""
        if request.secret_segments:
            return Call(operation, request)
        url = request.url
        cache_class = request_cache_class(
            operation.cache_class,
            request.method,
            operation.path,
            url.query.items() if url.raw_query_string else (),
        )
        ttl = self._ttls.get(cache_class, 0.0)
        if ttl <= 0:
            return Call(operation, request)
        return Call(operation, request, built_key(request.method, url), ttl)

    def _with_defaults(
        self, operation: Operation[Any], query: Mapping[str, object]
    ) -> Mapping[str, object]:
        """Add the client's `language`/`region` where the operation takes them, unless given."""
        missing = {
            param.name: self._defaults[param.name]
            for param in operation.query_params
            if param.name in self._defaults and query.get(param.name) is None
        }
        return {**query, **missing} if missing else query


def _typed(value: object) -> object:
    """`value` in a memo key: a plain value as it is, another with its type (a sequence or a
    combination by its items'), or `_UNREMEMBERED`. No plain key holds a tuple, so the two
    kinds of key never meet."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind in _TYPED or isinstance(value, enum.Enum):
        return kind, value
    if kind in _SEQUENCES or kind in _COMBINATIONS:
        items = value.items if isinstance(value, (AnyOf, AllOf)) else cast("list[object]", value)
        parts = tuple(map(_typed, items))
        if any(part is _UNREMEMBERED for part in parts):
            return _UNREMEMBERED
        return (tuple if kind in _SEQUENCES else kind), parts
    return _UNREMEMBERED


def _typed_key(
    operation: Operation[Any], path_args: tuple[object, ...], query: Mapping[str, object]
) -> tuple[Any, ...] | None:
    """The memo key of a call with typed arguments; None if one of them is not remembered."""
    path = tuple(map(_typed, path_args))
    items = tuple([(name, _typed(value)) for name, value in query.items()])
    if any(part is _UNREMEMBERED for part in path) or any(
        part is _UNREMEMBERED for _, part in items
    ):
        return None
    return id(operation), path, items


def _with_account(
    operation: Operation[Any], path_args: tuple[object, ...], auth: UserAuth
) -> tuple[object, ...]:
    """`path_args` with the user's account id in each omitted `account_default` parameter."""
    params = operation.path_params
    if len(params) != len(path_args):
        return path_args  # build_request says what is wrong
    filled = []
    for param, value in zip(params, path_args, strict=True):
        if value is None and param.account_default:
            if auth.account_id is None:
                raise ParameterError(
                    f"{operation.qualified_name}(): {param.name} is required: pass it, or give"
                    f" the view one with {AS_USER}"
                )
            value = auth.account_id
        filled.append(value)
    return tuple(filled)
