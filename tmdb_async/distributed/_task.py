"""What a Dask worker runs for one shard: the single-process crawl loop, into temporary files.

The task opens its own client on the worker (credentials from the worker's environment, never
sent through Dask), crawls the shard's ids with `_crawl.crawl` (the loop `tmdb-async
crawl` runs without --dask), and returns the part's bytes: the client writes the part file,
so workers need no shared filesystem. Progress goes to the client as Dask events.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from .._client import TMDB
from .._constants import LOGGER_NAME
from .._crawl import FatalError, Interrupts, Report, crawl, errors_path
from .._errors import TMDBError
from .._stats import Stats

__all__ = ["PROGRESS_EVERY", "ShardResult", "ShardTask", "run_shard"]

PROGRESS_EVERY: Final = 0.5
"""Seconds between two progress events of a running shard."""

logger = logging.getLogger(LOGGER_NAME)


@dataclass(frozen=True)
class ShardTask:
    """Everything a shard needs but its ids; pickled to the workers, so no credential."""

    operation: str
    """`namespace.method` of the client, e.g. `movies.details`."""
    params: Mapping[str, Any]
    """Keyword arguments of every call, e.g. `append_to_response`."""
    client_options: Mapping[str, Any]
    """`TMDB(**client_options)` on the worker, which adds its own credentials."""
    concurrency: int
    progress_topic: str | None = None
    """Dask event topic for progress, None for none."""


@dataclass(frozen=True)
class ShardResult:
    """A finished shard: its part's lines and errors, and what it cost."""

    index: int
    lines: bytes
    errors: bytes
    done: int
    failed: int
    stats: dict[str, int] = field(default_factory=dict)
    """The client's counters: requests, retries, rate_limited, cache_hits."""


class _EventProgress:
    """The crawl loop's progress, sent as Dask events (cumulative, at most every 0.5 s)."""

    def __init__(self, topic: str | None, index: int) -> None:
        self._topic = topic
        self._index = index
        self._attempt = uuid.uuid4().hex
        self._done = self._failed = 0
        self._sent = time.monotonic()
        self._worker: Any = None
        if topic is not None:
            from distributed import get_worker

            try:
                self._worker = get_worker()
            except ValueError:  # run outside a worker (tests, a plain call)
                self._worker = None

    def phase(self, description: str, total: int | None = None) -> None:
        """Nothing to show on the worker."""

    def advance(self, *, failed: bool = False) -> None:
        self.advance_by(1, int(failed))

    def advance_by(self, items: int, failed: int = 0) -> None:
        self._done += items
        self._failed += failed
        if time.monotonic() - self._sent >= PROGRESS_EVERY:
            self.send()

    def send(self) -> None:
        if self._worker is None:
            return
        self._sent = time.monotonic()
        message = {
            "shard": self._index,
            "attempt": self._attempt,
            "done": self._done,
            "failed": self._failed,
        }
        self._worker.log_event(self._topic, message)

    def stop(self) -> None:
        """Nothing to remove."""


def _method(tmdb: TMDB, operation: str) -> Any:
    namespace, _, name = operation.partition(".")
    return getattr(getattr(tmdb, namespace), name)


async def _crawl_shard(
    task: ShardTask, index: int, ids: tuple[int, ...], out: Path
) -> tuple[Report, Stats]:
    report = Report()
    progress = _EventProgress(task.progress_topic, index)
    current = asyncio.current_task()
    assert current is not None
    interrupts = Interrupts(current, logger.warning)  # no signals here: Dask cancels tasks
    try:
        tmdb = TMDB(**task.client_options)
    except TMDBError as err:  # e.g. no credentials in this worker's environment
        raise FatalError(f"{type(err).__name__}: {err}") from None
    async with tmdb:
        report.stats = tmdb.stats
        await crawl(
            _method(tmdb, task.operation),
            lambda: iter(ids),
            out=out,
            errors=errors_path(out),
            retry_errors=False,
            concurrency=task.concurrency,
            params=dict(task.params),
            progress=progress,
            interrupts=interrupts,
            report=report,
            announce=logger.warning,
        )
    return report, tmdb.stats


def run_shard(task: ShardTask, index: int, ids: tuple[int, ...]) -> ShardResult:
    """Crawl `ids` (shard `index`) in an event loop of this worker thread; the Dask task."""
    with tempfile.TemporaryDirectory(prefix="tmdb-shard-") as directory:
        out = Path(directory, "part.jsonl")
        report, stats = asyncio.run(_crawl_shard(task, index, ids, out))
        return ShardResult(
            index=index,
            lines=out.read_bytes(),
            errors=errors_path(out).read_bytes(),
            done=report.done,
            failed=report.failed,
            stats={
                "requests": stats.requests,
                "retries": stats.retries,
                "rate_limited": stats.rate_limited,
                "cache_hits": stats.cache_hits,
            },
        )
