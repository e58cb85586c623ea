"""What a Dask worker runs for one shard: the single-process crawl loop, into a sink.

The task opens its own client on the worker (credentials from the worker's environment, never
sent through Dask) and crawls the shard's ids with `_crawl.crawl` (the loop `tmdb-async
crawl` runs without --dask) in `crawl_shard`. `run_shard` crawls into temporary files
(`CrawlFiles`) and returns the part's bytes: the client writes the part file, so workers
need no shared filesystem (the mirror's shards write to its database instead). Progress goes
to the client as Dask events; the client's stop event (Ctrl-C, a fatal error) stops a running
shard within STOP_POLL seconds.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from .._client import TMDB
from .._constants import LOGGER_NAME, RATE_LIMIT
from .._crawl import CrawlFiles, Interrupts, NullProgress, Report, Sink, crawl, errors_path
from .._stats import Stats

__all__ = [
    "PROGRESS_EVERY",
    "STOP_POLL",
    "ShardOutcome",
    "ShardPlace",
    "ShardResult",
    "ShardTask",
    "crawl_shard",
    "run_shard",
    "shard_client",
    "shard_place",
    "shard_share",
    "shard_slots",
    "shares_one_ip",
]

PROGRESS_EVERY: Final = 0.5
"""Seconds between two progress events of a running shard."""
STOP_POLL: Final = 0.5
"""Seconds between two looks at the driver's stop event (one scheduler round trip each)."""

logger = logging.getLogger(LOGGER_NAME)


@dataclass(frozen=True, repr=False)
class ShardTask:
    """Everything a shard needs but its ids; pickled to the workers, so no credential, and a
    repr without the options (Dask logs a failed task's repr: a Redis URL may hold a password).
    """

    operation: str
    """`namespace.method` of the client, e.g. `movies.details`."""
    params: Mapping[str, Any]
    """Keyword arguments of every call, e.g. `append_to_response`."""
    client_options: Mapping[str, Any]
    """`TMDB(**client_options)` on the worker, which adds its own credentials; its
    `rate_limit` is the whole crawl's (a shard takes its share, see `shard_share`). A
    client's own are `tmdb.options.keywords()`: every option but credentials and session."""
    concurrency: int
    """Requests in flight for the whole crawl behind one IP (a shard takes its share)."""
    progress_topic: str | None = None
    """Dask event topic for progress, None for none."""
    stop_event: str | None = None
    """Name of the Dask Event the driver sets to stop every running shard."""
    typed: bool = False
    """Lines are the models re-encoded, not TMDB's bodies (`crawl --typed`)."""

    def __repr__(self) -> str:
        return (
            f"ShardTask({self.operation!r}, concurrency={self.concurrency},"
            f" options={sorted(self.client_options)})"
        )


def shard_slots(identity: Mapping[str, Any], address: str, *, one_ip: bool) -> int:
    """Shards that may run at once behind this worker's IP: the worker threads on its host
    (all of them with `one_ip`), from the scheduler's `identity()` of the moment."""
    workers = identity["workers"]
    host = workers[address]["host"] if address in workers else None
    return max(
        1,
        sum(
            int(worker["nthreads"])
            for worker in workers.values()
            if one_ip or worker["host"] == host
        ),
    )


def shard_share(task: ShardTask, slots: int) -> tuple[dict[str, Any], int]:
    """The client options and concurrency of one of `slots` shards running behind one IP: a
    share of the connections, and of the rate unless the budget is shared through Redis."""
    concurrency = max(1, task.concurrency // slots)
    options = {**task.client_options, "max_connections": concurrency}
    rate = options.get("rate_limit", RATE_LIMIT)
    if rate is not None and options.get("rate_limit_store") is None:
        options["rate_limit"] = rate / slots
    return options, concurrency


def shard_client(task: ShardTask, slots: int) -> tuple[TMDB, int]:
    """The client of one of `slots` shards behind one IP, made from the task's options and
    this process's credentials, and its concurrency. ParameterError when it cannot be made
    (no credentials in this worker's environment...): the driver stops the whole crawl."""
    options, concurrency = shard_share(task, slots)
    return TMDB(**options), concurrency


def shares_one_ip(client_options: Mapping[str, Any]) -> bool:
    """True when every worker leaves through one IP: a "global" or named budget."""
    return client_options.get("rate_limit_scope") not in (None, "host")


@dataclass(frozen=True, kw_only=True)
class ShardOutcome:
    """What a shard did and cost; `complete` False when it stopped early (the driver's stop
    event) and must not count as finished."""

    index: int
    done: int
    failed: int
    stats: Stats = field(default_factory=Stats)
    complete: bool = True


@dataclass(frozen=True, kw_only=True)
class ShardResult(ShardOutcome):
    """A shard's part lines and errors (the driver writes the part file)."""

    lines: bytes
    errors: bytes


@dataclass(frozen=True)
class ShardPlace:
    """Where a shard runs: its Dask worker, the shards behind its IP now (counted when it
    starts), the driver's stop event. Outside a worker (a plain call): none, 1, none."""

    worker: Any = None
    slots: int = 1
    stop: Any = None


def shard_place(task: ShardTask) -> ShardPlace:
    """Where this task runs: its worker, the shards behind its IP now, the stop event."""
    from distributed import Event, get_client, get_worker

    try:
        worker = get_worker()
    except ValueError:
        return ShardPlace()
    client = get_client()
    slots = shard_slots(
        client.scheduler_info(), worker.address, one_ip=shares_one_ip(task.client_options)
    )
    stop = None
    if task.stop_event is not None:
        stop = Event(task.stop_event, client=client)  # type: ignore[no-untyped-call]
    return ShardPlace(worker, slots, stop)


class _EventProgress(NullProgress):
    """The crawl loop's progress, sent as Dask events (cumulative, at most every 0.5 s);
    phases and totals are not shown on a worker."""

    def __init__(self, topic: str | None, index: int, worker: Any) -> None:
        self._topic = topic
        self._index = index
        self._attempt = uuid.uuid4().hex
        self._done = self._failed = 0
        self._sent = time.monotonic()
        self._worker = None if topic is None else worker

    def advance(self, *, failed: bool = False) -> None:
        self._done += 1
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


def _method(tmdb: TMDB, operation: str) -> Any:
    namespace, _, name = operation.partition(".")
    return getattr(getattr(tmdb, namespace), name)


async def _watch(stop: Any, interrupts: Interrupts) -> None:
    """Poll the driver's stop event; when set, stop the crawl as a first Ctrl-C would (no
    new ids, the requests in flight finish).

    A poll, not `Event.wait()`: a thread blocked in a wait could not be cancelled when the
    shard ends, and the event loop would wait for it on closing.
    """
    while True:
        await asyncio.sleep(STOP_POLL)
        if await asyncio.to_thread(stop.is_set):  # one scheduler round trip
            break
    interrupts.fire(signal.SIGTERM)


async def crawl_shard(
    task: ShardTask, index: int, ids: tuple[int, ...], sink: Sink, place: ShardPlace
) -> Report:
    """Crawl `ids` into `sink` with the shard's share of the budget; stops with the driver."""
    report = Report()
    progress = _EventProgress(task.progress_topic, index, place.worker)
    current = asyncio.current_task()
    assert current is not None
    interrupts = Interrupts(current, logger.warning)  # no signals here: the driver's event
    tmdb, concurrency = shard_client(task, place.slots)
    stop = place.stop
    watcher = None if stop is None else asyncio.create_task(_watch(stop, interrupts))
    try:
        async with tmdb:
            report.stats = tmdb.stats
            await crawl(
                _method(tmdb, task.operation),
                ids,
                sink,
                concurrency=concurrency,
                params=dict(task.params),
                progress=progress,
                interrupts=interrupts,
                report=report,
                typed=task.typed,
            )
    except asyncio.CancelledError:
        if not interrupts.requested:
            raise
        interrupts.acknowledge()  # stopped before the crawl could stop by itself
        report.interrupted = True
    finally:
        if watcher is not None:
            watcher.cancel()
    return report


async def _crawl_part(
    task: ShardTask, index: int, ids: tuple[int, ...], out: Path, place: ShardPlace
) -> Report:
    files = await CrawlFiles.open(
        out, errors_path(out), retry_errors=False, announce=logger.warning
    )
    try:
        return await crawl_shard(task, index, ids, files, place)
    finally:
        await files.aclose()


def run_shard(task: ShardTask, index: int, ids: tuple[int, ...]) -> ShardResult:
    """Crawl `ids` (shard `index`) in an event loop of this worker thread; the Dask task.

    Its share of the connections (and of the rate, without a shared budget) is counted when
    it starts, so workers that joined since take their part.
    """
    place = shard_place(task)
    with tempfile.TemporaryDirectory(prefix="tmdb-shard-") as directory:
        out = Path(directory, "part.jsonl")
        report = asyncio.run(_crawl_part(task, index, ids, out, place))
        return ShardResult(
            index=index,
            lines=out.read_bytes(),
            errors=errors.read_bytes() if (errors := errors_path(out)).exists() else b"",
            done=report.done,
            failed=report.failed,
            stats=report.stats or Stats(),
            complete=not report.interrupted,
        )
