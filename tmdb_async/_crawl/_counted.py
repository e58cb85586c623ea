"""A crawl of an id source into a sink, the progress bar's total counted alongside: what
`tmdb-async crawl`, `changes` and the mirror's builds and updates share."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from ._loop import Interrupts, Report, Sink, crawl
from ._progress import Progress
from ._sources import IdsError, IdSource, count_to_fetch

__all__ = ["crawl_counted"]


async def crawl_counted(
    method: Callable[..., Awaitable[Any]],
    source: IdSource,
    sink: Sink,
    label: str,
    *,
    concurrency: int,
    params: dict[str, Any],
    progress: Progress,
    interrupts: Interrupts,
    report: Report,
    typed: bool = False,
) -> None:
    """Crawl the ids of `source` into `sink` under a bar named `label`, its total counted
    alongside (ranges: at once; a file, an export: by reading it once more; a pipe: never)."""
    progress.phase(label, total=None)

    async def count() -> None:
        report.to_fetch = await count_to_fetch(source, sink.done)
        if report.to_fetch is not None:
            progress.set_total(report.to_fetch)

    counting = asyncio.create_task(count())
    try:
        await crawl(
            method,
            source.read(),
            sink,
            concurrency=concurrency,
            params=params,
            progress=progress,
            interrupts=interrupts,
            report=report,
            typed=typed,
        )
    finally:
        counting.cancel()
        # A bad line stops the crawl itself when it gets there; the count only gives up.
        with contextlib.suppress(asyncio.CancelledError, IdsError):
            await counting
