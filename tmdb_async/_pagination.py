"""Bulk helpers over any generated coroutine: a sliding window of concurrent calls
(`fetch_many`) and every item of every page (`paginate`)."""

from __future__ import annotations

import asyncio
import functools
import inspect
import types
import typing
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
)
from contextlib import aclosing
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar, Union

from ._constants import MAX_PAGE
from ._errors import ParameterError, TMDBError
from .models import Page

__all__ = ["PAGING_OPTIONS", "fetch_many", "paginate", "paging_arguments"]

K = TypeVar("K")
P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


async def fetch_many(
    method: Callable[Concatenate[K, P], Awaitable[R]],
    ids: Iterable[K] | AsyncIterable[K],
    concurrency: int,
    ordered: bool = False,
    *args: P.args,
    **params: P.kwargs,
) -> AsyncGenerator[tuple[K, R | TMDBError]]:
    """Call `method(id, *args, **params)` for every id, at most `concurrency` at a time.

    Yields `(id, result)` or `(id, error)` for a TMDB error, as each finishes (or in input
    order with `ordered=True`). The window is sliding: a slow item never holds up the others,
    and results waiting to be yielded count against it, so memory stays bounded. `ids` may be
    an async iterable (a file being read, a queue): the next id is awaited alongside the
    requests in flight, so a slow source never holds back a finished result.
    """
    if concurrency < 1:
        raise ParameterError(f"concurrency must be at least 1, got {concurrency}")
    loop = asyncio.get_running_loop()
    pending: dict[asyncio.Task[R], tuple[int, K]] = {}
    done: dict[int, tuple[K, R | TMDBError]] = {}
    # Tasks report themselves here as they finish: O(1) per item, where asyncio.wait() would
    # add and remove a callback on every pending task at every wake-up.
    finished: list[asyncio.Task[R]] = []
    wakeup: list[asyncio.Future[None]] = []

    def wake(_: object = None) -> None:
        if wakeup and not wakeup[0].done():
            wakeup[0].set_result(None)

    def on_done(task: asyncio.Task[R]) -> None:
        finished.append(task)
        wake()

    source = _Source(ids, wake)
    next_index = 0
    next_to_yield = 0
    try:
        while True:
            while len(pending) + len(done) < concurrency:
                item = source.take()
                if item is _NOTHING:
                    break
                task = asyncio.ensure_future(method(item, *args, **params))
                pending[task] = (next_index, item)
                task.add_done_callback(on_done)
                next_index += 1
            if not pending and not done and source.exhausted:
                return
            if (pending or source.waiting) and (not ordered or next_to_yield not in done):
                if not finished:
                    wakeup.append(loop.create_future())
                    try:
                        await wakeup[0]
                    finally:
                        wakeup.clear()
                for task in finished:
                    index, item = pending.pop(task)
                    done[index] = (item, _outcome(task))
                finished.clear()
            if ordered:
                while next_to_yield in done:
                    yield done.pop(next_to_yield)
                    next_to_yield += 1
            else:
                for index in sorted(done):
                    yield done.pop(index)
    finally:
        await source.aclose()
        for task in pending:
            task.remove_done_callback(on_done)
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


_NOTHING: Any = object()
"""`_Source.take()`: no id available right now (exhausted, or the next one not read yet)."""


class _Source:
    """The ids of `fetch_many`: taken at once from an iterable; from an async iterable, the
    next one is read by a task of its own, and `take()` returns it once it has arrived."""

    def __init__(self, ids: Iterable[Any] | AsyncIterable[Any], wake: Callable[[object], None]):
        self._sync: Iterator[Any] | None = None
        self._async: AsyncIterator[Any] | None = None
        if isinstance(ids, AsyncIterable):
            self._async = aiter(ids)
        else:
            self._sync = iter(ids)
        self._next: asyncio.Future[Any] | None = None
        self._wake = wake
        self.exhausted = False

    @property
    def waiting(self) -> bool:
        """True while the next id of an async source is being read."""
        return self._next is not None and not self._next.done()

    def take(self) -> Any:
        """The next id, or `_NOTHING` (see `exhausted` and `waiting`)."""
        if self.exhausted:
            return _NOTHING
        if self._sync is not None:
            item = next(self._sync, _NOTHING)
            self.exhausted = item is _NOTHING
            return item
        assert self._async is not None
        if self._next is None:
            self._next = asyncio.ensure_future(anext(self._async))
            self._next.add_done_callback(self._wake)
        if not self._next.done():
            return _NOTHING
        arrived, self._next = self._next, None
        try:
            return arrived.result()
        except StopAsyncIteration:
            self.exhausted = True
            return _NOTHING

    async def aclose(self) -> None:
        """Stop reading: cancel a read in flight (the caller closes its own iterable)."""
        if self._next is not None and not self._next.done():
            self._next.cancel()
            await asyncio.gather(self._next, return_exceptions=True)


def _outcome(task: asyncio.Task[R]) -> R | TMDBError:
    error = task.exception()
    if error is None:
        return task.result()
    if isinstance(error, TMDBError):
        return error
    raise error


async def paginate(
    method: Callable[..., Awaitable[Page[T]]],
    *args: Any,
    max_pages: int | None = None,
    max_items: int | None = None,
    start_page: int = 1,
    concurrency: int,
    first: Page[T] | None = None,
    **params: Any,
) -> AsyncGenerator[T]:
    """Yield every item of every page in order: `start_page` first, the rest concurrently.

    Stops at TMDB's 500-page cap even when `total_pages` says more, and at `max_pages` /
    `max_items`. A failing page raises its TMDB error. `page` is this function's to set:
    passing it is a ParameterError that says to use `start_page`. `first`: page
    `start_page`, already fetched.
    """
    if "page" in params:
        raise ParameterError(
            f"paginate() asks for every page itself: instead of page={params['page']!r},"
            f" start at a page with start_page={params['page']!r}"
        )
    for name, limit in (("max_pages", max_pages), ("max_items", max_items)):
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        ):
            raise ParameterError(f"{name} must be an int >= 1, got {limit!r}")
    if (
        isinstance(start_page, bool)
        or not isinstance(start_page, int)
        or not 1 <= start_page <= MAX_PAGE
    ):
        raise ParameterError(f"start_page must be an int from 1 to {MAX_PAGE}, got {start_page!r}")
    remaining = max_items
    if first is None:
        first = await method(*args, page=start_page, **params)
    last = min(first.total_pages, MAX_PAGE)
    if max_pages is not None:
        last = min(last, start_page + max_pages - 1)
    pages: AsyncGenerator[tuple[int, Page[T] | TMDBError]] = _with_first(start_page, first)
    if last > start_page:
        pages = _chain(
            pages,
            fetch_many(
                lambda page: method(*args, page=page, **params),
                range(start_page + 1, last + 1),
                concurrency,
                True,
            ),
        )
    async with aclosing(pages):
        async for _, page in pages:
            if isinstance(page, TMDBError):
                raise page
            for item in page.results:
                yield item
                if remaining is not None:
                    remaining -= 1
                    if remaining == 0:
                        return


async def _with_first(
    number: int, page: Page[T]
) -> AsyncGenerator[tuple[int, Page[T] | TMDBError]]:
    yield number, page


async def _chain(*generators: AsyncGenerator[T]) -> AsyncGenerator[T]:
    for generator in generators:
        async with aclosing(generator):
            async for item in generator:
                yield item


# -- positional arguments of `TMDB.paginate`, bound as its overloads bind them ----------------

PAGING_OPTIONS = ("max_pages", "max_items", "start_page")
"""`TMDB.paginate`'s own options, in the order its overloads take them positionally."""
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_NO_PARAMETER: Any = object()


def paging_arguments(
    method: Callable[..., object], args: tuple[object, ...], params: dict[str, object]
) -> tuple[tuple[object, ...], dict[str, Any]]:
    """`method`'s positional arguments and paginate's options, from what paginate was given.

    As the type checker reads `TMDB.paginate`'s overloads (the first that fits wins): when
    `method` takes a positional parameter that the first argument fits (by its annotation:
    `movie_id: int`, an `account_object_id: str | None`), that argument is `method`'s and the
    next ones are max_pages, max_items, start_page; otherwise those come first. Arguments
    after them are `method`'s too. TypeError for an option given both ways.
    """
    hint = _first_parameter(getattr(method, "__func__", method), hasattr(method, "__func__"))
    path_first = bool(args) and hint is not _NO_PARAMETER and _fits(hint, args[0])
    lead, options, rest = (
        (args[:1], args[1:4], args[4:]) if path_first else ((), args[:3], args[3:])
    )
    chosen: dict[str, Any] = {n: params.pop(n) for n in PAGING_OPTIONS if n in params}
    for name, value in zip(PAGING_OPTIONS, options, strict=False):
        if name in chosen:
            raise TypeError(f"paginate() got multiple values for {name!r}")
        chosen[name] = value
    return (*lead, *rest), chosen


@functools.lru_cache(maxsize=256)
def _first_parameter(function: Callable[..., object], bound: bool) -> Any:
    """The annotation of `function`'s first positional parameter (after `self` when `bound`),
    `Any` when unknown; `_NO_PARAMETER` when it takes none."""
    try:
        parameters = list(inspect.signature(function).parameters.values())[int(bound) :]
    except (TypeError, ValueError):  # no signature (a builtin): nothing to go by
        return Any
    first = next((p for p in parameters if p.kind in _POSITIONAL), None)
    if first is None:
        return _NO_PARAMETER
    try:
        return typing.get_type_hints(function).get(first.name, Any)
    except Exception:  # an annotation that does not resolve: take any value
        return Any


def _fits(hint: Any, value: object) -> bool:
    """Whether `value` is of the type `hint` as far as a type checker would tell (classes,
    unions, None, literals; any other annotation takes anything)."""
    if hint is Any:
        return True
    if hint is None or hint is type(None):
        return value is None
    origin = typing.get_origin(hint)
    if origin is Union or origin is types.UnionType:
        return any(_fits(arg, value) for arg in typing.get_args(hint))
    if origin is Literal:
        return value in typing.get_args(hint)
    kind = origin if origin is not None else hint
    return isinstance(value, kind) if isinstance(kind, type) else True
