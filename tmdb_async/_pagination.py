"""Bulk helpers over any generated coroutine: a sliding window of concurrent calls
(`fetch_many`) and every item of every page (`paginate`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Iterator
from contextlib import aclosing
from typing import Any, TypeVar

from ._constants import MAX_PAGE
from ._errors import ParameterError, TMDBError
from .models import Page

__all__ = ["fetch_many", "paginate"]

K = TypeVar("K")
R = TypeVar("R")
T = TypeVar("T")


async def fetch_many(
    method: Callable[..., Awaitable[R]],
    ids: Iterable[K],
    *,
    concurrency: int,
    ordered: bool = False,
    **params: Any,
) -> AsyncGenerator[tuple[K, R | TMDBError]]:
    """Call `method(id, **params)` for every id, at most `concurrency` at a time.

    Yields `(id, result)` or `(id, error)` for a TMDB error, as each finishes (or in input
    order with `ordered=True`). The window is sliding: a slow item never holds up the others,
    and results waiting to be yielded count against it, so memory stays bounded.
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

    def on_done(task: asyncio.Task[R]) -> None:
        finished.append(task)
        if wakeup and not wakeup[0].done():
            wakeup[0].set_result(None)

    source: Iterator[K] = iter(ids)
    next_index = 0
    next_to_yield = 0
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) + len(done) < concurrency:
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                task = asyncio.ensure_future(method(item, **params))
                pending[task] = (next_index, item)
                task.add_done_callback(on_done)
                next_index += 1
            if not pending and not done:
                return
            if pending and (not ordered or next_to_yield not in done):
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
        for task in pending:
            task.remove_done_callback(on_done)
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


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
    concurrency: int,
    first: Page[T] | None = None,
    **params: Any,
) -> AsyncGenerator[T]:
    """Yield every item of every page in order: page 1 first, the rest concurrently.

    Stops at TMDB's 500-page cap even when `total_pages` says more, and at `max_pages` /
    `max_items`. A failing page raises its TMDB error. `first`: page 1, already fetched.
    """
    for name, limit in (("max_pages", max_pages), ("max_items", max_items)):
        if limit is not None and limit < 1:
            raise ParameterError(f"{name} must be at least 1, got {limit}")
    remaining = max_items
    if first is None:
        first = await method(*args, page=1, **params)
    last = min(first.total_pages, MAX_PAGE, max_pages or MAX_PAGE)
    pages: AsyncGenerator[tuple[int, Page[T] | TMDBError]] = _with_first(first)
    if last > 1:
        pages = _chain(
            pages,
            fetch_many(
                lambda page: method(*args, page=page, **params),
                range(2, last + 1),
                concurrency=concurrency,
                ordered=True,
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


async def _with_first(page: Page[T]) -> AsyncGenerator[tuple[int, Page[T] | TMDBError]]:
    yield 1, page


async def _chain(*generators: AsyncGenerator[T]) -> AsyncGenerator[T]:
    for generator in generators:
        async with aclosing(generator):
            async for item in generator:
                yield item
